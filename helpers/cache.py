"""A small cache of finished training runs, so a notebook of many experiments re-runs in seconds.

A run is keyed by its configuration (a JSON-able dict: model, data, optimiser, seed, epochs...) *and
by the code that computes it* (:func:`code_fingerprint`), so editing an experiment never silently
returns old numbers. Edits to ``helpers`` itself are not seen: bump ``version=`` or recompute. The
result (JSON-able) is stored as ``<cache>/<name>-<hash>.json``, written atomically; a corrupt or
mismatched entry is reported and recomputed, never trusted; ``recompute=True`` (or
``HELPERS_RECOMPUTE=1``) trains again.

Where: ``<data root>/cache/{full,smoke}`` (smoke mode never reads or pollutes the full-mode cache),
or ``$HELPERS_CACHE`` (e.g. an empty folder, to time a run from scratch). A read-only data root (a
course-provided copy) is never written into: the cache then goes to ``~/.cache/dl-notebooks/cache``.
A cache that cannot be written at all only costs speed: the result is returned with a warning.
Instructors demo from a warm cache; students set ``RECOMPUTE = True`` and watch the runs happen.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import os
import time
import types
import warnings
from collections.abc import Callable
from pathlib import Path

from helpers.settings import (CACHE_ENV, atomic_write, cache_folder_override, data_root,
                              recompute_requested, smoke_mode)

#: Used instead of ``<data root>/cache`` when the data root is read-only.
USER_CACHE_DIR = Path.home() / ".cache" / "dl-notebooks" / "cache"


def _writable(folder: Path) -> bool:
    """Say whether ``folder`` is writable, or could be created (its nearest existing parent is)."""
    for candidate in (folder, *folder.parents):
        if candidate.exists():
            return candidate.is_dir() and os.access(candidate, os.W_OK | os.X_OK)
    return False


def cache_dir(root: str | os.PathLike | None = None) -> Path:
    """Return the cache folder of the current mode, ``.../full`` or ``.../smoke``.

    It lies in ``root`` when given, else in ``$HELPERS_CACHE``, else in ``<data root>/cache`` when
    the data root is writable, else in :data:`USER_CACHE_DIR`.
    """
    mode = "smoke" if smoke_mode() else "full"
    if root is None and cache_folder_override() is not None:
        return cache_folder_override() / mode
    base = data_root(root) / "cache"
    if not _writable(base):  # a course-provided read-only data folder: keep results with the user
        base = USER_CACHE_DIR
    return base / mode


def run_key(config: dict) -> str:
    """A stable hash of ``config`` (key order does not matter)."""
    canonical = json.dumps(config, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def code_fingerprint(function: Callable) -> str:
    """Hash ``function``'s source and that of the functions of its own module it uses, transitively.

    Followed: names its code (and nested code: lambdas, comprehensions) looks up in its globals, and
    its closure, when they are plain functions or classes defined in the same module (a notebook's
    cells are ``__main__``). Library code is not followed. Without source (``exec``), the bytecode
    is used.
    """
    module, seen, parts = getattr(function, "__module__", None), set(), []

    def visit(obj):
        if id(obj) in seen or getattr(obj, "__module__", None) != module:
            return
        seen.add(id(obj))
        if isinstance(obj, type):
            for member in vars(obj).values():
                visit(member)
            return
        if not isinstance(obj, types.FunctionType):
            return
        obj = inspect.unwrap(obj)
        code = obj.__code__
        try:
            parts.append(inspect.getsource(obj))
        except (OSError, TypeError):
            parts.append(code.co_code.hex()
                         + repr([c for c in code.co_consts if not isinstance(c, types.CodeType)]))
        codes = [code]
        while codes:
            current = codes.pop()
            codes += [c for c in current.co_consts if isinstance(c, types.CodeType)]
            for name in current.co_names:
                if name in obj.__globals__:
                    visit(obj.__globals__[name])
        for cell in obj.__closure__ or ():
            try:
                visit(cell.cell_contents)
            except ValueError:  # an empty cell
                pass

    visit(function)
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def _write_atomically(path: Path, payload: dict) -> None:
    with atomic_write(path) as tmp, open(tmp, "w") as file:
        json.dump(payload, file)


def cached_run(name: str, config: dict, compute: Callable[[], dict], recompute: bool | None = None,
               folder: str | os.PathLike | None = None, version: str | int = 0) -> dict:
    """Return ``compute()``'s result for ``config``, from the cache when it is there.

    The result is a JSON-able dict, with ``"cached"`` True when it was loaded, False when computed.

    ``name``: a readable prefix for the file name (e.g. ``"optimiser-adam"``); ``config``:
    everything that determines the run, JSON-able; ``recompute`` (default: ``$HELPERS_RECOMPUTE`` ==
    1): ignore the stored entry; ``folder`` (default: :func:`cache_dir`); ``version``: bump it after
    changing code the key cannot see (e.g. in ``helpers``).
    """
    if recompute is None:
        recompute = recompute_requested()
    folder = Path(folder) if folder is not None else cache_dir()
    config = json.loads(json.dumps(config))  # what will be stored: tuples become lists, etc.
    code = f"{code_fingerprint(compute)}-v{version}"
    path = folder / f"{name}-{run_key({'config': config, 'code': code})}.json"
    if not recompute and path.is_file():
        try:
            entry = json.loads(path.read_text())
            if entry["config"] != config or entry["code"] != code:
                raise ValueError("stored configuration or code differs")
            return {**entry["result"], "cached": True}
        except (ValueError, KeyError, TypeError) as error:  # JSONDecodeError is a ValueError
            warnings.warn(f"Cache entry {path} is unreadable ({error}); recomputing it.",
                          stacklevel=2)
    started = time.perf_counter()
    result = compute()
    try:
        _write_atomically(path, {"config": config, "code": code, "result": result,
                                 "seconds": time.perf_counter() - started})
    except OSError as error:
        # read-only or full disk: the run is done, only the cache entry is lost
        warnings.warn(f"Could not store the result in the cache ({error}); it will be recomputed "
                      f"next time. Set {CACHE_ENV}=/a/writable/folder to keep it.", stacklevel=2)
    return {**result, "cached": False}

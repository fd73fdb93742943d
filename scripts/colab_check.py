"""Test the notebooks against Colab's own versions: Python, packages, install cell and widgets.

    python scripts/colab_check.py            # the whole check; writes docs/colab_check.json
    python scripts/colab_check.py --verify   # only: does docs/colab_check.json match the snapshot?

The snapshot of Colab's versions is colab/constraints-colab.txt (its header says where they come
from). What is checked is the committed HEAD, as Colab sees the repository: the notebooks are read
from it (``git show``) and the package is installed from it. :func:`check` runs these steps, one
function each, in this order:

1. :func:`find_python`: the Python of the snapshot's ``# python:`` line where this machine has it
   (pyenv's or ``python3.X`` on PATH), else the nearest version it has (the output and the result
   say which).
2. :func:`install_colab_versions`: a venv in build/colab-venv, made afresh with that Python, and
   the snapshot installed into it (``pip install -r``): Colab's versions.
3. :func:`install_course`: the install command of the notebooks' Colab cell, read from the cell
   (:func:`colab_install_command`; all notebooks must have the same one), with the course
   repository's URL replaced by this checkout as ``git+file://ROOT@HEAD`` (pip clones it, as it
   clones GitHub in Colab). ``pip freeze --all`` before and after: the check fails if the install
   changed or removed any package; added ones are listed. The versions the notebooks then run
   with are the venv's, recorded here (the notebooks print none of their own).
4. :func:`run_notebooks`: every notebook in smoke mode (``HELPERS_SMOKE=1``), one at a time, by
   nbclient in that venv (``scripts/notebook_runner.py`` with Colab's own nbclient, nbformat and
   ipykernel: they are in the snapshot, so nothing else is installed to run them), each in a fresh
   kernel in an empty folder with an empty home (like a Colab runtime: no checkout, no data/
   folder) and ``HELPERS_WIDGETS=1``: in Colab ``widget_frontend()`` is true, so notebook 01
   builds its playground's ipywidgets controls. MNIST and SVHN: where Colab downloads them
   (``~/.cache/dl-notebooks``, the data root without a checkout), the installed ``helpers`` first
   writes small synthetic ones in the official formats, as the test suite does (the official hosts
   are out of reach offline); ``--download`` leaves the folder empty, so the notebooks download
   the real files as in Colab.
5. :func:`widget_check`, on notebook 01's run: among the widget models its kernel created
   (nbclient stores their state), one per control of the playground cell (found by
   ``description=``), from the controls module of the snapshot's ipywidgets, and the interact's
   first figure in its Output.
6. :func:`result_problems` judges the result, which is written to docs/colab_check.json.

tests/test_colab_check.py runs ``--verify``: it fails when the snapshot changed and the check was
not rerun, or when the stored check failed.
"""

from __future__ import annotations

import argparse
import ast
import datetime
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

from helpers.settings import REPO_ROOT, SMOKE_ENV, WIDGETS_ENV

try:                          # run as a script: its folder, scripts/, is on sys.path
    from notebook_runner import cell_seconds, code_outputs, error_outputs, execute_notebook
except ModuleNotFoundError:   # imported as scripts.colab_check (the tests)
    from scripts.notebook_runner import cell_seconds, code_outputs, error_outputs, execute_notebook

SNAPSHOT = REPO_ROOT / "colab" / "constraints-colab.txt"
RESULT = REPO_ROOT / "docs" / "colab_check.json"
VENV = REPO_ROOT / "build" / "colab-venv"
NOTEBOOKS = REPO_ROOT / "notebooks"
PROJECT = "dl-teaching-helpers"
#: writes small synthetic MNIST and SVHN, in the official formats, into the folder sys.argv[1]
SYNTHETIC_DATA = ("import sys; from helpers.data import write_synthetic_datasets; "
                  "write_synthetic_datasets(sys.argv[1])")
#: the model module version of ipywidgets' controls (@jupyter-widgets/controls), per major version
CONTROLS_MODULE_VERSION = {"7": "1.5.0", "8": "2.0.0"}


# The snapshot and pip's view of a venv


def canonical(name: str) -> str:
    """Return a distribution name as pip compares it (PEP 503): ``Jinja2`` = ``jinja2``."""
    return re.sub(r"[-_.]+", "-", name).lower()


def public_version(version: str) -> str:
    """``2.11.0+cpu`` -> ``2.11.0``: the local build label is not part of what Colab pins."""
    return version.split("+", 1)[0]


def read_snapshot(path: Path = SNAPSHOT) -> tuple[dict[str, str], str]:
    """Return the snapshot's pins ``{name: version}`` (names as written there) and its Python."""
    pins, python = {}, ""
    for line in path.read_text().splitlines():
        if match := re.match(r"#\s*python:\s*(\S+)", line):
            python = match[1]
        line = line.split("#", 1)[0].strip()
        if line:
            name, version = line.split("==")
            pins[name.strip()] = version.strip()
    if not python:
        raise ValueError(f"{path}: no '# python: X.Y.Z' line")
    return pins, python


def parse_freeze(text: str) -> dict[str, tuple[str, str]]:
    """Read ``pip freeze`` output as ``{canonical name: (name, version)}``.

    A ``name @ URL`` line keeps the URL as its version.
    """
    packages = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, _, version = line.partition(" @ ") if " @ " in line else line.partition("==")
        packages[canonical(name)] = (name.strip(), version.strip())
    return packages


def compare_freezes(before: dict, after: dict) -> tuple[dict[str, list], dict[str, str]]:
    """Return what an install did: the packages it changed and those it added.

    ``changed`` is {name: [before, after]} (after ``None``: removed), ``added`` {name: version}.
    """
    changed = {before[key][0]: [before[key][1], after[key][1] if key in after else None]
               for key in before if key not in after or after[key][1] != before[key][1]}
    added = {after[key][0]: after[key][1] for key in after if key not in before}
    return changed, added


def pip(python: Path, *args: str) -> None:
    """Run a quiet ``pip`` of the venv's ``python``, showing the command."""
    command = [str(python), "-m", "pip", *args, "-q"]
    print("$", " ".join(command), flush=True)
    subprocess.run(command, check=True)


def freeze(python: Path) -> dict[str, tuple[str, str]]:
    """Return what ``pip freeze --all`` lists in the venv of ``python``, parsed."""
    return parse_freeze(subprocess.run([str(python), "-m", "pip", "freeze", "--all"],
                                       capture_output=True, text=True, check=True).stdout)


# The committed notebooks and their Colab cell


def git(*args: str) -> str:
    """Return what a git command prints in this checkout."""
    return subprocess.run(["git", "-C", str(REPO_ROOT), *args], capture_output=True, text=True,
                          check=True).stdout


def committed_notebooks(commit: str) -> dict[str, dict]:
    """Return ``{name: notebook JSON}`` of the numbered notebooks in ``commit``."""
    names = git("ls-tree", "--name-only", commit, "notebooks/").split()
    return {Path(name).name: json.loads(git("show", f"{commit}:{name}")) for name in sorted(names)
            if re.fullmatch(r"\d.*\.ipynb", Path(name).name)}


def notebook_names() -> list[str]:
    """Return the names of the numbered notebooks of the work tree."""
    return sorted(path.name for path in NOTEBOOKS.glob("[0-9]*.ipynb"))


def colab_install_command(notebook: dict) -> list[str]:
    """Return the argument list of the ``subprocess.run([...])`` in a notebook's Colab cell.

    That cell is the notebook's first code cell; ``sys.executable`` is returned as ``"{python}"``.
    """
    cell = next(c for c in notebook["cells"] if c["cell_type"] == "code")
    for node in ast.walk(ast.parse("".join(cell["source"]))):
        if isinstance(node, ast.Call) and ast.unparse(node.func).endswith("run") and node.args \
                and isinstance(node.args[0], ast.List):
            return ["{python}" if ast.unparse(item) == "sys.executable" else ast.literal_eval(item)
                    for item in node.args[0].elts]
    raise ValueError("no subprocess.run([...]) in the notebook's first code cell")


def the_colab_cell_command(notebooks: dict[str, dict]) -> list[str]:
    """Return the install command that every notebook's Colab cell runs (they must agree)."""
    commands = {name: colab_install_command(notebook) for name, notebook in notebooks.items()}
    if len({json.dumps(command) for command in commands.values()}) != 1:
        raise SystemExit(f"the notebooks' Colab cells differ: {commands}")
    return next(iter(commands.values()))


def course_repository() -> str:
    """Return the repository URL the Colab cells install from (pyproject.toml's [tool.course])."""
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    return pyproject["tool"]["course"]["repository"].rstrip("/")


def local_install_command(command: list[str], python: Path, commit: str = "") -> list[str]:
    """Point the Colab cell's command at this venv's Python and this checkout.

    ``git+<course repository>`` becomes ``git+file://ROOT``, with ``@commit`` appended when given
    (the commit the notebooks come from).
    """
    remote = "git+" + course_repository()
    if not any(arg.startswith(remote) for arg in command):
        raise ValueError(f"the Colab cell does not install {remote}: {command}")
    local = f"git+file://{REPO_ROOT}" + (f"@{commit}" if commit else "")
    return [str(python) if arg == "{python}" else local + arg[len(remote):]
            if arg.startswith(remote) else arg for arg in command]


# Step 1: the interpreter


def python_version(python: str | Path) -> str:
    """Return the version of the interpreter ``python`` ("" if it does not run)."""
    run = subprocess.run([str(python), "-c", "import platform; print(platform.python_version())"],
                         capture_output=True, text=True)
    return run.stdout.strip() if run.returncode == 0 else ""


def find_python(wanted: str) -> tuple[Path, str, str]:
    """Find the interpreter nearest to Colab's Python: (its path, its version, why it was chosen).

    ``wanted`` where this machine has it, else the same minor version, else the nearest minor
    version (3.11 at least: this script needs tomllib).
    """
    paths = {Path(p) for p in Path.home().glob(".pyenv/versions/*/bin/python")}
    paths |= {Path(p) for minor in range(11, 20) if (p := shutil.which(f"python3.{minor}"))}
    found = {}
    for path in sorted(paths):
        version = python_version(path)
        if version and tuple(int(part) for part in version.split(".")[:2]) >= (3, 11):
            found[path] = version
    if not found:
        raise SystemExit("no Python 3.11 or newer found")
    want = tuple(int(part) for part in wanted.split(".")[:3])

    def distance(item):
        have = tuple(int(part) for part in re.findall(r"\d+", item[1])[:3])
        return abs(have[1] - want[1]), abs(have[2] - want[2]), -have[2]

    path, version = min(found.items(), key=distance)
    if version == wanted:
        why = f"Python {version}, Colab's"
    elif version.split(".")[:2] == wanted.split(".")[:2]:
        why = f"Python {version}: Colab has {wanted}; this machine has the same minor version"
    else:
        why = f"Python {version}: Colab has {wanted}, which this machine lacks; the nearest it has"
    return path, version, why


# Step 2: Colab's versions


def install_colab_versions(args, pins: dict[str, str], interpreter: Path) -> Path:
    """Make a fresh venv with the snapshot's versions and return its Python."""
    subprocess.run([str(interpreter), "-m", "venv", "--clear", str(args.venv)], check=True)
    python = args.venv / "bin" / "python"
    pip(python, "install", f"pip=={pins['pip']}")
    torch_index = ["--extra-index-url", args.torch_index] if args.torch_index else []
    pip(python, "install", "-r", str(args.snapshot), *torch_index)
    return python


# Step 3: the Colab cell's install


def install_course(python: Path, cell_command: list[str], commit: str, pins: dict[str, str],
                   torch_index: str | None) -> dict:
    """Run the Colab cell's install against this checkout and record what it did.

    Returns the part of the result about the install: the command, its seconds, what it changed
    and added, the versions of the pinned packages afterwards and those that differ from the
    snapshot, pip's check and torch's build.
    """
    before = freeze(python)
    command = local_install_command(cell_command, python, commit)
    print("$", " ".join(command), flush=True)
    started = time.perf_counter()
    subprocess.run(command, check=True, cwd=tempfile.gettempdir())
    seconds = time.perf_counter() - started
    after = freeze(python)
    changed, added = compare_freezes(before, after)
    added = {name: value for name, value in added.items() if canonical(name) != PROJECT}
    print(f"the Colab cell changed {changed or 'no package'}; added {added or 'nothing'} "
          f"besides {PROJECT}")
    installed = {name: public_version(after[canonical(name)][1]) if canonical(name) in after
                 else None for name in pins}
    mismatched = {name: [pins[name], have] for name, have in installed.items()
                  if have != pins[name]}
    print(f"versions: {len(pins) - len(mismatched)} of {len(pins)} as in the snapshot"
          + (f"; differing: {mismatched}" if mismatched else ""), flush=True)
    pinned = {canonical(name) for name in pins} | {PROJECT}
    torch_build = subprocess.run(
        [str(python), "-c", "import torch; print(torch.__version__, torch.version.cuda)"],
        capture_output=True, text=True).stdout.split() + [None, None]
    return {
        "torch_build": {"version": torch_build[0], "cuda": torch_build[1],
                        "index": torch_index or "PyPI"},
        "install_command": [arg.replace(str(REPO_ROOT), "<checkout>") for arg in command],
        "install_seconds": round(seconds, 1),
        "versions": installed,
        "version_mismatches": mismatched,
        "install_changed": changed,
        "install_added": added,
        "installed_not_in_snapshot": {after[key][0]: after[key][1] for key in sorted(after)
                                      if key not in pinned},
        "pip_check": subprocess.run([str(python), "-m", "pip", "check"], capture_output=True,
                                    text=True).stdout.strip(),
    }


# Step 4: the notebooks, each in a fresh runtime


def notebook_environment(home: Path, venv: Path) -> dict[str, str]:
    """Return a fresh Colab runtime's environment, built from this process's without changing it.

    An empty home, smoke mode, widgets on (as in Colab), no data root, no checkout on the path,
    the venv first on PATH.
    """
    env = {key: value for key, value in os.environ.items() if not key.startswith(
        ("HELPERS_", "JUPYTER", "JPY_", "VIRTUAL_ENV", "PYTHON", "MPLBACKEND"))}
    env.update({"HOME": str(home), SMOKE_ENV: "1", WIDGETS_ENV: "1",
                "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}"})
    return env


def run_notebook_here(source: Path, target: Path, cell_timeout: int) -> int:
    """Execute ``source`` in a fresh kernel and write it, as far as it ran, to ``target``.

    The kernel starts in the notebook's folder. This runs inside the venv (``--run-notebook``),
    with the runtime's environment this process was started with. Returns 0 when no cell raised.
    """
    import nbformat
    from nbclient.exceptions import CellExecutionError

    nb = nbformat.read(source, as_version=4)
    try:
        execute_notebook(nb, source.parent, os.environ, cell_timeout)
        return 0
    except CellExecutionError as error:
        print(str(error)[-3000:], file=sys.stderr)
        return 1
    finally:
        nbformat.write(nb, target)


def warnings_printed(executed: dict) -> list[str]:
    """Return the distinct warning lines (``...Warning: ...``) that cells wrote to stderr."""
    lines = [line.strip() for _, output in code_outputs(executed) if output.get("name") == "stderr"
             for line in "".join(output.get("text", "")).splitlines()]
    return sorted({line[:300] for line in lines if re.search(r"\w+Warning\b", line)})


def run_one_notebook(args, python: Path, name: str, notebook: dict) -> tuple[dict, dict]:
    """Run one notebook in smoke mode in a fresh runtime of the venv.

    Returns its record in the result (passed, seconds, first error, slowest cell, warnings) and
    the executed notebook (a copy is kept beside the venv, to read after the check).
    """
    with tempfile.TemporaryDirectory(prefix="colab-check-") as folder:
        work, home = Path(folder) / "content", Path(folder) / "home"
        work.mkdir()
        home.mkdir()
        env = notebook_environment(home, args.venv)
        (work / name).write_text(json.dumps(notebook))
        if not args.download:   # where Colab downloads them: the data root without a checkout
            data_root = home / ".cache" / "dl-notebooks"
            subprocess.run([str(python), "-c", SYNTHETIC_DATA, str(data_root)], check=True,
                           cwd=work, env=env)
        executed_path = work / f"executed-{name}"
        print(f"running {name} in smoke mode ...", flush=True)
        started = time.perf_counter()
        run = subprocess.run([str(python), str(Path(__file__).resolve()), "--run-notebook",
                              str(work / name), str(executed_path),
                              "--cell-timeout", str(args.cell_timeout)],
                             cwd=work, env=env, capture_output=True, text=True)
        seconds = time.perf_counter() - started
        if not executed_path.is_file():
            executed = {"cells": []}
        else:
            executed = json.loads(executed_path.read_text())
            shutil.copy(executed_path, args.venv.parent / f"colab-executed-{name}")
    errors = error_outputs(executed)
    error = (f"cell {errors[0][0]}: {errors[0][1]['ename']}: {errors[0][1]['evalue']}"[:500]
             if errors else run.stderr.strip()[-500:] if run.returncode else None)
    cells = {index: cell_seconds(cell) for index, cell in enumerate(executed["cells"])}
    record = {"passed": run.returncode == 0 and error is None, "seconds": round(seconds, 1),
              "error": error, "cells_seconds": round(sum(cells.values()), 1),
              "slowest_cell": max(cells, key=cells.get) if cells else None,
              "warnings": warnings_printed(executed)}
    print(f"  {'passed' if record['passed'] else 'FAILED: ' + str(error)} in {seconds:.0f} s",
          flush=True)
    return record, executed


def run_notebooks(args, python: Path, notebooks: dict[str, dict], ipywidgets: str):
    """Run every notebook (or those of ``--only``) and the widget check on notebook 01's run."""
    runs, widgets = {}, {"passed": False, "problems": ["notebook 01 did not run"]}
    for name, notebook in notebooks.items():
        if args.only and not any(part in name for part in args.only):
            continue
        runs[name], executed = run_one_notebook(args, python, name, notebook)
        if name.startswith("01_"):
            widgets = widget_check(notebook, executed, ipywidgets)
            kinds = {control: found["model"] for control, found in widgets["controls"].items()}
            print(f"  widget check: {'passed' if widgets['passed'] else widgets['problems']}; "
                  f"{kinds}", flush=True)
    return runs, widgets


# Step 5: notebook 01's widgets


def widget_check(source: dict, executed: dict, ipywidgets_version: str) -> dict:
    """Check notebook 01's playground under ``ipywidgets_version``.

    Every control of the cell that calls ``widgets.interact`` must be among the widget models the
    kernel created (found by its description), each from that ipywidgets' controls module, and an
    image must be in an Output widget (the interact's figure).
    """
    index, cell = next((i, c) for i, c in enumerate(source["cells"]) if c["cell_type"] == "code"
                       and "widgets.interact(" in "".join(c["source"]))
    wanted = re.findall(r'description="([^"]+)"', "".join(cell["source"]))
    models = executed.get("metadata", {}).get("widgets", {}).get(
        "application/vnd.jupyter.widget-state+json", {}).get("state", {})
    controls = {model["state"]["description"]: model for model in models.values()
                if model.get("state", {}).get("description")}
    module_version = CONTROLS_MODULE_VERSION.get(ipywidgets_version.split(".")[0], "?")
    found = {name: {"model": controls[name]["model_name"],
                    "module_version": controls[name]["model_module_version"],
                    # ipywidgets 7 syncs a selection's index, not its value
                    **{key: controls[name]["state"][key] for key in ("value", "index")
                       if key in controls[name]["state"]}}
             for name in wanted if name in controls}
    figure_shown = any("image/png" in output.get("data", {}) for model in models.values()
                       if model.get("model_name") == "OutputModel"
                       for output in model.get("state", {}).get("outputs", []))
    cell_shows_widget = any("application/vnd.jupyter.widget-view+json" in output.get("data", {})
                            for output in executed["cells"][index].get("outputs", []))
    problems = [f"no widget for the control {name!r}" for name in wanted if name not in found]
    problems += [f"{name}: controls module {control['module_version']}, not ipywidgets "
                 f"{ipywidgets_version}'s {module_version}" for name, control in found.items()
                 if control["module_version"] != module_version]
    problems += [] if figure_shown else ["no figure in an Output widget"]
    problems += [] if cell_shows_widget else [f"cell {index} displays no widget"]
    return {"passed": bool(wanted) and not problems, "ipywidgets": ipywidgets_version,
            "cell": index, "controls": found, "figure_in_output_widget": figure_shown,
            "problems": problems}


# Step 6: the verdict


def result_problems(result: dict, pins: dict[str, str], python: str,
                    notebooks: list[str]) -> list[str]:
    """Say why a stored result does not show that the current snapshot passes (empty: it does)."""
    problems = []
    versions = result.get("versions", {})
    for name in sorted(set(pins) | set(versions), key=str.lower):
        if versions.get(name) != pins.get(name):
            problems.append(f"{name}: snapshot {pins.get(name)}, checked {versions.get(name)}")
    if result.get("snapshot_python") != python:
        problems.append(f"snapshot Python {python}, checked {result.get('snapshot_python')}")
    problems += [f"the Colab cell changed {name}: {change}"
                 for name, change in result.get("install_changed", {}).items()]
    for name in notebooks:
        run = result.get("notebooks", {}).get(name)
        if not (run and run.get("passed")):
            problems.append(f"{name}: {'not run' if run is None else run.get('error')}")
    widgets = result.get("widget_check", {})
    if not widgets.get("passed"):
        problems.append(f"widget check: {widgets.get('problems', 'not run')}")
    return problems


def verify(result_path: Path, snapshot: Path) -> int:
    """Compare the stored result with the snapshot and the work tree's notebooks; 0 if it holds."""
    if not result_path.is_file():
        print(f"{result_path} is missing: run python scripts/colab_check.py")
        return 1
    pins, python = read_snapshot(snapshot)
    problems = result_problems(json.loads(result_path.read_text()), pins, python, notebook_names())
    for problem in problems:
        print(problem)
    print(f"{result_path.name}: " + ("matches the snapshot, all passed" if not problems else
                                      f"{len(problems)} problems: rerun scripts/colab_check.py"))
    return 1 if problems else 0


def check(args) -> int:
    """Run steps 1 to 6 on the committed HEAD, write the result and return 0 if it passed."""
    started = time.perf_counter()
    pins, colab_python = read_snapshot(args.snapshot)
    interpreter, version, why = find_python(colab_python)
    print(f"Python: {why} ({interpreter})", flush=True)
    commit = git("rev-parse", "HEAD").strip()
    notebooks = committed_notebooks(commit)
    print(f"the committed HEAD {commit[:10]}: {len(notebooks)} notebooks", flush=True)
    cell_command = the_colab_cell_command(notebooks)

    python = install_colab_versions(args, pins, interpreter)
    install = install_course(python, cell_command, commit, pins, args.torch_index)
    runs, widgets = run_notebooks(args, python, notebooks, install["versions"]["ipywidgets"])
    result = {
        "date": datetime.date.today().isoformat(),
        "snapshot": str(args.snapshot.relative_to(REPO_ROOT)),
        "snapshot_python": colab_python,
        "python_used": version,
        "python_note": why,
        "machine": f"{os.cpu_count()} CPU cores",
        "load_average_end": round(os.getloadavg()[0], 1),
        "checked_commit": commit,
        **install,
        "data": "the official MNIST and SVHN, downloaded" if args.download else
                "synthetic MNIST and SVHN in the official formats in ~/.cache/dl-notebooks "
                "(helpers.data.write_synthetic_datasets): the official hosts are out of reach here",
        "notebooks": runs,
        "widget_check": widgets,
        "seconds_total": round(time.perf_counter() - started, 1),
    }
    problems = result_problems(result, pins, colab_python, list(notebooks))
    result["passed"] = not problems
    if args.only:
        print("--only: the result is not written")
    else:
        args.output.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n")
        print(f"written {args.output}")
    for problem in problems:
        print("PROBLEM:", problem)
    print(f"Colab check {'passed' if not problems else 'FAILED'} in "
          f"{result['seconds_total']:.0f} s")
    return 0 if not problems else 1


def main(argv=None) -> int:
    """Parse the command line and run the check, its verification, or one notebook in the venv."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--verify", action="store_true",
                        help="only compare the stored result with the snapshot")
    parser.add_argument("--snapshot", type=Path, default=SNAPSHOT)
    parser.add_argument("--output", type=Path, default=RESULT, help=f"default {RESULT}")
    parser.add_argument("--venv", type=Path, default=VENV, help=f"made afresh (default {VENV})")
    parser.add_argument("--torch-index", help="an extra index for torch and torchvision, e.g. "
                        "https://download.pytorch.org/whl/cpu (Colab's CPU build; default PyPI)")
    parser.add_argument("--only", nargs="+",
                        help="run only the notebooks whose names contain one of these; no result")
    parser.add_argument("--download", action="store_true", help="no synthetic MNIST and SVHN: "
                        "the notebooks download the official files, as in Colab")
    parser.add_argument("--cell-timeout", type=int, default=600)
    parser.add_argument("--run-notebook", nargs=2, type=Path, help=argparse.SUPPRESS)  # in the venv
    args = parser.parse_args(argv)
    if args.run_notebook:
        return run_notebook_here(*args.run_notebook, args.cell_timeout)
    if args.verify:
        return verify(args.output, args.snapshot)
    return check(args)


if __name__ == "__main__":
    sys.exit(main())

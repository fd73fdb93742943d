"""A sandbox for each submission's kernel: bubblewrap on Linux, or (said loudly) none.

Under ``bwrap`` a submission's kernel sees the file system read-only, except its own folder; a
private ``/tmp`` and an empty home; no network (its own network namespace, so not even the grader's
loopback); no other process (its own PID namespace); and not the folders in ``hidden``: the
instructor notebooks with their hidden checks, the other submissions, the grader's output, the
repository's git history. It talks to the grader through Unix sockets in its folder (ZeroMQ's
``ipc`` transport), which need no network. Resource limits (``prlimit``): address space, processes,
CPU seconds, file size, no core files. When the grader runs as root, the kernel runs as an
unprivileged user of its own (a fresh uid per submission), so that the process limit counts only its
processes and root's powers are gone.

``--sandbox auto`` uses bwrap where a trial run works, otherwise it says once, loudly, that
submissions run unconfined and how to get a sandbox; ``bwrap`` insists (an error without it);
``user`` (where namespaces are not allowed, e.g. inside Gradescope's container; needs root) runs
the kernel with the same limits as a fresh unprivileged user, without bwrap's namespaces;
``none`` runs the kernel as a plain subprocess of the grader (for trusted submissions, or
macOS/Windows outside the container).
"""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import sys
import warnings
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager

CHOICES = ("auto", "bwrap", "user", "none")
#: uids for the kernels when the grader is root: far above any real account's
FIRST_UID = 600_000
_next_uid = itertools.count()

HOW_TO_GET_ONE = ("install bubblewrap (Debian/Ubuntu: `sudo apt install bubblewrap`; "
                  "Fedora: `sudo dnf install bubblewrap`), "
                  "or on macOS/Windows grade inside the container described in the README")


class SandboxUnavailable(RuntimeError):
    """``--sandbox bwrap`` was asked for but bubblewrap does not work on this machine."""


@dataclass
class Sandbox:
    """How a kernel is confined.

    ``kind`` is "bwrap" or "none"; the limits apply to both (rlimits).
    """

    kind: str = "none"
    hidden: list[Path] = field(default_factory=list)   # folders the kernel must not see
    memory_bytes: int = 6 * 2**30       # address space: torch alone maps about 3.7 GB
    processes: int = 256                # processes and threads of the kernel's user
    cpu_seconds: int = 900
    file_bytes: int = 64 * 2**20

    def command(self, kernel_cmd: list[str], workdir: Path, uid: int | None) -> list[str]:
        """``kernel_cmd`` wrapped in the limits and, for bwrap, the sandbox."""
        limits = ["prlimit", f"--as={self.memory_bytes}", f"--cpu={self.cpu_seconds}",
                  f"--fsize={self.file_bytes}", "--core=0"]
        if self.kind == "none":
            return limits + ["--"] + kernel_cmd if shutil.which("prlimit") else kernel_cmd
        if self.kind == "user":
            # no namespaces (e.g. inside Gradescope's container): only another, unprivileged user
            return (limits + [f"--nproc={self.processes}", "--", "setpriv", f"--reuid={uid}",
                              f"--regid={uid}", "--clear-groups", "--inh-caps=-all",
                              "--bounding-set=-all", "--no-new-privs", "--"] + kernel_cmd)
        nproc = self.processes if uid is not None else self.processes + _processes_of(os.getuid())
        limits.append(f"--nproc={nproc}")
        drop = ([] if uid is None else
                ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--inh-caps=-all",
                 "--bounding-set=-all", "--no-new-privs", "--"])
        # In its own PID namespace the kernel's parent is PID 1, which ipykernel takes for "the
        # grader has died"; parent 1 means "do not poll" (bwrap's --die-with-parent ends the sandbox
        # with the grader).
        return (bwrap_arguments(workdir, self.hidden) + ["--"] + limits + ["--"] + drop
                + ["env", "JPY_PARENT_PID=1"] + kernel_cmd)


def bwrap_arguments(workdir: Path, hidden: list[Path]) -> list[str]:
    """bwrap's options.

    Later mounts win, so first everything read-only, then private /tmp and home, then Python and the
    course package visible again where those hid them, then the hidden folders, then the
    submission's own folder, writable.
    """
    home = Path.home().resolve()
    # As root, no user namespace (its only user would be
    # root: the kernel drops to a uid of its own instead)
    unshare = (["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts",
                "--unshare-cgroup-try"]
               if os.getuid() == 0 else ["--unshare-all"])
    # --new-session: the kernel leads a process group of its own, so that its interrupt (asked for
    # by message, see SandboxedKernelManager) reaches it and its children, and no signal of it
    # reaches bwrap
    args = ["bwrap", *unshare, "--new-session", "--die-with-parent", "--ro-bind", "/", "/",
            "--dev", "/dev", "--proc", "/proc",
            "--tmpfs", "/tmp", "--tmpfs", "/var/tmp", "--tmpfs", "/dev/shm"]
    if home != Path("/"):
        args += ["--tmpfs", str(home)]
    for path in _needed_paths():
        if path.is_relative_to(home) or path.is_relative_to("/tmp"):
            # the folders on the way must be enterable by
            # the kernel's user (bwrap would make them 0700)
            for folder in reversed([p for p in path.parents if p not in home.parents
                                    and p != home]):
                if folder not in (Path("/"), Path("/tmp")):
                    args += ["--perms", "0755", "--dir", str(folder)]
            args += ["--ro-bind", str(path), str(path)]
    for path in hidden:
        if Path(path).exists():
            args += ["--tmpfs", str(Path(path).resolve())]
    return args + ["--bind", str(workdir), str(workdir), "--chdir", str(workdir)]


def _needed_paths() -> list[Path]:
    """What the kernel must read.

    Python (the venv and the interpreter it links to) and the course package.
    """
    import helpers

    paths = {Path(sys.prefix), Path(sys.base_prefix), Path(sys.exec_prefix),
             Path(os.path.realpath(sys.executable)).parent.parent,
             Path(helpers.__file__).resolve().parent.parent}
    paths |= {Path(p).resolve() for p in sys.path if p and Path(p).is_dir()}
    # a parent hides nothing its children need; drop paths inside another one
    ordered = sorted(paths, key=lambda p: len(p.parts))
    return [p for i, p in enumerate(ordered) if not any(p.is_relative_to(q) for q in ordered[:i])]


def _processes_of(uid: int) -> int:
    """Tasks (processes and threads) the user runs now.

    RLIMIT_NPROC counts all of them, not the kernel's.
    """
    count = 0
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
        if fields.get("Uid", "").split()[:1] == [str(uid)]:
            count += int(fields.get("Threads", "1").strip())
    return count


@lru_cache(maxsize=1)
def bwrap_problem() -> str:
    """Why bubblewrap cannot be used here ("" when a trial sandbox runs)."""
    if not sys.platform.startswith("linux"):
        return f"bubblewrap is Linux-only (this is {sys.platform})"
    for tool in ("bwrap", "prlimit") + (("setpriv",) if os.getuid() == 0 else ()):
        if shutil.which(tool) is None:
            return f"`{tool}` is not installed"
    trial = bwrap_arguments(Path("/tmp"), []) + ["--", sys.executable, "-c", "print('ok')"]
    try:
        run = subprocess.run(trial, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"a trial sandbox failed: {error}"
    if run.returncode != 0 or run.stdout.strip() != "ok":
        return f"a trial sandbox failed: {(run.stderr or run.stdout).strip()[:300]}"
    return ""


def choose(kind: str, log=print) -> str:
    """The sandbox kind to use for ``--sandbox kind``.

    "auto" says loudly when it falls back to none.
    """
    if kind not in CHOICES:
        raise ValueError(f"--sandbox must be one of {', '.join(CHOICES)}, not {kind!r}")
    if kind == "none":
        return "none"
    if kind == "user":
        if os.getuid() != 0 or not shutil.which("setpriv") or not shutil.which("prlimit"):
            raise SandboxUnavailable("--sandbox user: needs root, setpriv and prlimit")
        return "user"
    problem = bwrap_problem()
    if not problem:
        return "bwrap"
    if kind == "bwrap":
        raise SandboxUnavailable(f"--sandbox bwrap: {problem}; {HOW_TO_GET_ONE}")
    message = (f"WARNING: submissions run UNCONFINED: {problem}. Student code can read, change and "
               "delete whatever this user can, and reach the network. To grade in a sandbox, "
               f"{HOW_TO_GET_ONE}.")
    warnings.warn(message, stacklevel=2)
    log(message)
    return "none"


def kernel_uid() -> int | None:
    """Return a fresh unprivileged uid for the next kernel when the grader is root.

    Else None: keep the user's.
    """
    if os.getuid() != 0:
        return None
    return FIRST_UID + (os.getpid() % 1000) * 1000 + next(_next_uid) % 1000


class SandboxedKernelManager(AsyncKernelManager):
    """A kernel manager whose kernel starts inside ``sandbox``.

    With bwrap, talking over Unix sockets in ``workdir`` (the kernel has no network); unconfined,
    over the loopback as usual, with the same limits.
    """

    def __init__(self, sandbox: Sandbox, workdir: Path, **kwargs):
        confined = sandbox.kind == "bwrap"
        sockets = {"transport": "ipc", "ip": str(workdir / "kernel")} if confined else {}
        super().__init__(connection_file=str(workdir / "kernel.json"), **sockets, **kwargs)
        self.sandbox, self.workdir = sandbox, workdir
        self.uid = kernel_uid() if sandbox.kind in ("bwrap", "user") else None

    def format_kernel_cmd(self, extra_arguments=None):
        command = super().format_kernel_cmd(extra_arguments)
        if self.sandbox.kind == "bwrap":
            # SIGINT to bwrap would end the sandbox: interrupt by message
            self.kernel_spec.interrupt_mode = "message"
        if self.uid is not None:
            # the kernel's own user must read its connection file and write its folder
            for path in [self.workdir, *self.workdir.rglob("*")]:
                os.chown(path, self.uid, self.uid, follow_symlinks=False)
            self.workdir.chmod(0o711)  # bwrap (still root) must enter it to start the kernel there
        return self.sandbox.command(command, self.workdir, self.uid)

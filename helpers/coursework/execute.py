"""Running the assembled notebook in a fresh kernel (otter-grader's "execute" step).

It runs in the sandbox (helpers/coursework/sandbox.py), with limits per cell and per notebook. The
grader's checks
reach the kernel only through :mod:`helpers.coursework.channel`, whose requests this runs as cells
of their own."""

from __future__ import annotations

import os
import queue
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat
from jupyter_core.utils import run_sync
from nbclient import NotebookClient
from nbclient.exceptions import DeadKernelError

from helpers.coursework import sandbox as sandboxes
from helpers.coursework.channel import Channel, KernelGone
from helpers.settings import CACHE_ENV, DATA_ENV, SMOKE_ENV


@dataclass
class Limits:
    """How long and how much one submission may run and print."""
    cell_timeout: float = 60.0          # seconds per cell (interrupted; later cells still run)
    total_timeout: float = 300.0        # seconds per notebook; the kernel is killed
    setup_timeout: float = 180.0        # seconds for the set-up cell (imports, on a busy machine)
    output_bytes: int = 100_000         # output kept per cell
    file_bytes: int = 64 * 2**20        # largest file the kernel may write (RLIMIT_FSIZE)
    submission_bytes: int = 50 * 2**20  # larger .ipynb files are not run
    threads: int = 1                    # torch/OpenMP threads per kernel
    memory_bytes: int = 6 * 2**30       # address space per kernel (torch alone maps about 3.7 GB)
    processes: int = 256                # processes and threads per kernel (in the sandbox)


class GradingClient(NotebookClient):
    """An nbclient that keeps at most ``output_bytes`` of each cell's output.

    A submission that prints megabytes must not fill the grader's memory.
    """

    output_bytes = 100_000

    def output(self, outs, msg, display_id, cell_index):
        out = super().output(outs, msg, display_id, cell_index)
        if out is None or out.output_type == "error":
            return out
        sizes = self.__dict__.setdefault("_grading_sizes", {})
        sizes[cell_index] = (sizes.get(cell_index, 0)
                             + len(str(out.get("text", out.get("data", "")))))
        if sizes[cell_index] > self.output_bytes:
            if outs and outs[-1] is out:
                outs.pop()
            if not any(o.get("name") == "grader" for o in outs):
                outs.append(nbformat.v4.new_output("stream", name="grader",
                                                   text="[output truncated by the grader]\n"))
        return out


class Kernel:
    """One submission's kernel.

    ``run(index)`` runs a cell of ``notebook``; ``channel`` is the grader's end of the channel to
    it. ``stopped`` says why the run ended early ("" if not).
    """

    def __init__(self, notebook, workdir: Path, env: dict, limits: Limits,
                 sandbox: sandboxes.Sandbox | None = None):
        self.notebook, self.workdir, self.env, self.limits = notebook, workdir, env, limits
        self.timed_out: set[int] = set()
        self.stopped = ""
        self.deadline = 0.0
        # nbclient stores each executed cell at its index: the channel's requests (and the no-op
        # after a timeout) run at a scratch cell after the notebook's own
        self.count = len(notebook.cells)
        notebook.cells.append(nbformat.v4.new_code_cell(""))
        self.scratch = self.count
        self.client = GradingClient(
            notebook, kernel_name="python3", allow_errors=True, interrupt_on_timeout=True,
            record_timing=False,
            error_on_timeout={"ename": "GraderTimeout", "evalue": "", "traceback": []},
            on_cell_executed=self._remember_timeout,
            shutdown_kernel="immediate", startup_timeout=120, iopub_timeout=10)
        if sandbox is not None:
            self.client.km = sandboxes.SandboxedKernelManager(sandbox, workdir,
                                                              kernel_name="python3")
        self.client.output_bytes = limits.output_bytes
        folder = workdir / "channel"
        self.channel = Channel(folder, str(folder), self._serve, limits.cell_timeout,
                               prepare=self._prepare_channel)
        self._prepare_channel()

    def _prepare_channel(self) -> None:
        # (again before each request: a submission may have emptied its folder) writable by the
        # kernel's user, which is not the grader's when grading as root
        self.channel.folder.mkdir(parents=True, exist_ok=True)
        self.channel.folder.chmod(0o1777)

    def _remember_timeout(self, cell, cell_index, execute_reply):
        if execute_reply.get("content", {}).get("ename") == "GraderTimeout":
            self.timed_out.add(cell_index)

    def __enter__(self):
        self._context = self.client.setup_kernel(cwd=str(self.workdir), env=self.env)
        self._context.__enter__()
        self.deadline = time.monotonic() + self.limits.total_timeout
        return self

    def __exit__(self, *exc):
        return self._context.__exit__(*exc)

    def _execute(self, cell, index: int, allowed: float) -> str:
        """"ran" or "timeout"; raises KernelGone."""
        remaining = self.deadline - time.monotonic()
        if remaining <= 1:
            self.stopped = f"the notebook ran out of its {self.limits.total_timeout:g} s in total"
            raise KernelGone(self.stopped)
        self.client.timeout = max(1, int(min(allowed, remaining)))
        try:
            self.client.execute_cell(cell, index)
            if index in self.timed_out:
                # Wait until the interrupt has stopped the cell: an interrupt that arrives late
                # must hit this no-op, not the next cell of the submission.
                self.client.timeout = 10
                self.client.execute_cell(nbformat.v4.new_code_cell("pass"), self.scratch)
        except DeadKernelError:
            self.stopped = "the kernel crashed (os._exit, a segfault, memory or CPU-time limit)"
            raise KernelGone(self.stopped) from None
        except KernelGone:
            raise
        except Exception as error:
            # e.g. a garbled message from a kernel that could not start a thread
            self.stopped = ("the kernel stopped answering properly "
                            f"({type(error).__name__}: {str(error)[:80]})")
            raise KernelGone(self.stopped) from None
        return "timeout" if index in self.timed_out else "ran"

    def run(self, index: int) -> str:
        """Run cell ``index``: "ran", "timeout"; raises KernelGone."""
        allowed = self.limits.setup_timeout if index == 0 else self.limits.cell_timeout
        return self._execute(self.notebook.cells[index], index, allowed)

    def _serve(self, source: str, timeout: float) -> str:
        """Run one request of the channel.

        A silent execution (no output kept, no history), not a notebook cell -- a tenth of the time
        of one. "ran" or "timeout"; raises KernelGone.
        """
        remaining = self.deadline - time.monotonic()
        if remaining <= 1:
            self.stopped = f"the notebook ran out of its {self.limits.total_timeout:g} s in total"
            raise KernelGone(self.stopped)
        kc, km = self.client.kc, self.client.km
        try:
            msg_id = kc.execute(source, silent=True, store_history=False)
            if self._reply(kc, km, msg_id, min(timeout, remaining)):
                return "ran"
            run_sync(km.interrupt_kernel)()
            if self._reply(kc, km, msg_id, 10):
                return "timeout"
            self.stopped = "the kernel did not stop after an interrupt"
        except KernelGone:
            raise
        except Exception as error:
            self.stopped = ("the kernel stopped answering properly "
                            f"({type(error).__name__}: {str(error)[:80]})")
        raise KernelGone(self.stopped or "the kernel crashed")

    def _reply(self, kc, km, msg_id: str, seconds: float) -> bool:
        """Wait up to ``seconds`` for the reply to ``msg_id``; KernelGone if the kernel died."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            try:
                reply = run_sync(kc.get_shell_msg)(timeout=min(1.0, max(0.01,
                                                                      end - time.monotonic())))
            except queue.Empty:
                if not run_sync(km.is_alive)():
                    self.stopped = ("the kernel crashed (os._exit, a segfault, memory or CPU-time "
                                    "limit)")
                    raise KernelGone(self.stopped) from None
                continue
            if reply.get("parent_header", {}).get("msg_id") == msg_id:
                return True
        return False


def kernel_environment(workdir: Path, data_root: Path, limits: Limits) -> dict:
    """A minimal environment: smoke mode, and every place a notebook writes to inside ``workdir``.

    The grader's own variables (tokens, paths) are not passed on.
    """
    env = {name: os.environ[name] for name in ("PATH", "LANG", "LC_ALL", "VIRTUAL_ENV")
           if name in os.environ}
    for folder in ("home", "tmp", "cache"):
        (workdir / folder).mkdir(exist_ok=True)
    threads = str(limits.threads)
    env.update({SMOKE_ENV: "1", DATA_ENV: str(data_root), CACHE_ENV: str(workdir / "cache")})
    env.update(HOME=str(workdir / "home"), TMPDIR=str(workdir / "tmp"), MPLBACKEND="Agg",
               PYTHONDONTWRITEBYTECODE="1", OMP_NUM_THREADS=threads, MKL_NUM_THREADS=threads,
               PYTHONUNBUFFERED="1")
    return env

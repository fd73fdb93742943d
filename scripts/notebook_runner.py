"""Run a notebook in a fresh kernel and read back what its cells did and how long they took.

The one notebook runner of the maintainer scripts: ``colab_check.py`` runs every notebook with it
inside Colab's venv, ``svhn_time_budget.py`` times notebook 04 with it. It lives in ``scripts/``,
not in ``helpers``: the package is what students install, and a runner for the course's own
checks is not part of the lesson (grading has its own, sandboxed: ``helpers.coursework.execute``).
"""

from __future__ import annotations

import datetime
import queue
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

from nbclient import NotebookClient


class ClientReadingEverySecond(NotebookClient):
    """An nbclient that reads the kernel's messages in waits of at most a second.

    With one long wait (the cell timeout), a message that arrives unnoticed (pyzmq's asyncio poll
    can miss the wake-up; in Colab's venv, after the many widget messages of notebook 01's
    playground cell, its execute_reply) is read only when that wait ends: the cell then took
    600 s instead of 2 (jupyter/nbclient#312 reports the same hang). Short waits, retried up to
    the same deadline, read it within a second.
    """

    async def async_start_new_kernel_client(self):
        """Start the kernel client as nbclient does, then wrap its two reading channels."""
        client = await super().async_start_new_kernel_client()
        for channel in (client.shell_channel, client.iopub_channel):
            channel.get_msg = self.read_every_second(channel.get_msg)
        return client

    @staticmethod
    def read_every_second(get_msg):
        """Wrap a channel's ``get_msg`` so that it waits a second at a time until its deadline."""
        async def get_msg_within(timeout=None):
            deadline = None if timeout is None else time.monotonic() + timeout
            while True:
                left = 1.0 if deadline is None else max(0.0, deadline - time.monotonic())
                try:
                    return await get_msg(timeout=min(1.0, left))
                except queue.Empty:
                    if deadline is not None and time.monotonic() >= deadline:
                        raise
        return get_msg_within


def execute_notebook(nb, folder: Path, env: Mapping[str, str], cell_timeout: int,
                     allow_errors: bool = False, shutdown_kernel: str = "graceful"):
    """Execute ``nb`` in place in a fresh ``python3`` kernel started in ``folder``.

    ``env`` is the kernel's whole environment: the switches a run needs go there, never into this
    process's ``os.environ``. Raises nbclient's ``CellExecutionError`` at the first failing cell
    unless ``allow_errors``; either way ``nb`` holds every cell that ran, with its outputs and
    timestamps. ``shutdown_kernel="immediate"`` saves the about 2 s a graceful shutdown waits.
    """
    client = ClientReadingEverySecond(nb, timeout=cell_timeout, kernel_name="python3",
                                      allow_errors=allow_errors, shutdown_kernel=shutdown_kernel,
                                      resources={"metadata": {"path": str(folder)}})
    client.execute(env=dict(env))
    return nb


def code_outputs(nb) -> Iterator[tuple[int, dict]]:
    """Yield (cell index, output) for every output of every code cell."""
    for index, cell in enumerate(nb["cells"]):
        if cell["cell_type"] == "code":
            for output in cell.get("outputs", []):
                yield index, output


def error_outputs(nb) -> list[tuple[int, dict]]:
    """Return (cell index, error output) for every cell whose run raised, in order."""
    return [(index, output) for index, output in code_outputs(nb)
            if output["output_type"] == "error"]


def cell_seconds(cell) -> float:
    """Return the seconds a cell ran, from the timestamps nbclient records (0 if it did not run)."""
    stamps = cell.get("metadata", {}).get("execution", {})
    start, end = stamps.get("iopub.execute_input"), stamps.get("shell.execute_reply")
    if not (start and end):
        return 0.0
    start, end = (datetime.datetime.fromisoformat(stamp.replace("Z", "+00:00"))
                  for stamp in (start, end))
    return (end - start).total_seconds()

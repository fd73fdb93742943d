"""`make test-fast` stays fast: conftest.py marks notebook cells slow and checks the other marks.

It fails a test that starts a kernel, Jupyter, a browser, a sandbox or a process pool without
`@pytest.mark.slow`.
"""

import multiprocessing
import os
import subprocess
import sys

import pytest

import conftest


@pytest.mark.parametrize("command, program", [
    ([sys.executable, "-m", "ipykernel_launcher", "-f", "kernel.json"], "ipykernel_launcher"),
    ([sys.executable, "-u", "scripts/svhn_time_budget.py", "--smoke"], "svhn_time_budget.py"),
    ([sys.executable, "-c", "import torch"], os.path.basename(sys.executable)),
    (["/usr/bin/chromium", "--headless"], "chromium"),
    (["bwrap", "--unshare-all", "python"], "bwrap"),
])
def test_a_command_line_names_the_program_it_starts(command, program):
    assert conftest._started_program(command).startswith(program)


def test_a_test_not_marked_slow_may_not_start_a_kernel_a_browser_or_a_process_pool(
        _slow_tests_are_marked):
    for command in ([sys.executable, "-m", "ipykernel_launcher"], ["chromium", "--headless"],
                    [sys.executable, "-m", "pip", "install", "nothing"], "jupyter lab"):
        with pytest.raises(pytest.fail.Exception, match="mark it @pytest.mark.slow"):
            subprocess.Popen(command, shell=isinstance(command, str))
    with pytest.raises(pytest.fail.Exception, match="multiprocessing"):
        multiprocessing.get_context("spawn").Process(target=print).start()
    assert len(_slow_tests_are_marked) == 5  # refused, so this test fails after it, unless emptied:
    _slow_tests_are_marked.clear()
    assert subprocess.run(["true"]).returncode == 0  # small programs are fine


@pytest.mark.slow
def test_a_slow_test_may_start_anything():
    process = multiprocessing.get_context("spawn").Process(target=print)
    process.start()
    process.join(timeout=60)
    assert process.exitcode == 0


def test_every_notebook_cell_is_slow(request):
    cells = [item for item in request.session.items
             if item.nodeid.split("::")[0].endswith(".ipynb")]
    assert all(item.get_closest_marker("slow") for item in cells)

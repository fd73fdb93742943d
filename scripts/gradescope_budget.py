"""Does grading one submission fit Gradescope's default autograder machine? Measure it.

The machine: 768 MB of memory, half a CPU, 10 minutes. This runs run_autograder from `make
gradescope`'s zip on one submission of notebook 01, on one core at half speed, with its peak
memory.

    python scripts/gradescope_budget.py [--limit-mb 768] [--sample correct.ipynb]

How: the zip is unpacked into a temporary folder shaped like /autograder (AUTOGRADER_ROOT), and
run_autograder runs pinned to CPU 0 (``taskset -c 0``) in a cgroup of its own with a CPU quota of
50 ms per 100 ms (cgroup v1 or v2, as root; where neither can be made, ``cpulimit -l 50 -i``). Its
process tree's memory is sampled every 0.2 s (the sum of its processes' proportional set sizes), the
cgroup's own peak (which counts the page cache too) is read at the end. ``--limit-mb``: also make
that the cgroup's memory limit (as Gradescope's) and check that the grade is still the right one.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from pathlib import Path

import psutil

from helpers.coursework import gradescope

try:
    from scripts import grading_samples
except ImportError:   # run as `python scripts/gradescope_budget.py`
    import grading_samples

CGROUP = Path("/sys/fs/cgroup")


def make_cgroup(name: str, limit_bytes: int | None) -> tuple[list[Path], Path | None]:
    """(files to write the pid into, the file with the peak memory), or ([], None)."""
    try:
        if (CGROUP / "cgroup.controllers").is_file():   # v2
            group = CGROUP / name
            group.mkdir()
            (group / "cpu.max").write_text("50000 100000")
            if limit_bytes:
                (group / "memory.max").write_text(str(limit_bytes))
            return [group / "cgroup.procs"], group / "memory.peak"
        cpu, memory = CGROUP / "cpu" / name, CGROUP / "memory" / name
        cpu.mkdir()
        memory.mkdir()
        (cpu / "cpu.cfs_period_us").write_text("100000")
        (cpu / "cpu.cfs_quota_us").write_text("50000")
        if limit_bytes:
            (memory / "memory.limit_in_bytes").write_text(str(limit_bytes))
        return [cpu / "cgroup.procs", memory / "cgroup.procs"], memory / "memory.max_usage_in_bytes"
    except OSError as error:
        print(f"no cgroup ({error}): cpulimit instead, no memory limit", flush=True)
        return [], None


def remove_cgroup(name: str) -> None:
    for group in (CGROUP / name, CGROUP / "cpu" / name, CGROUP / "memory" / name):
        for _ in range(20):
            try:
                group.rmdir()
                break
            except FileNotFoundError:
                break
            except OSError:
                time.sleep(0.5)


def measure(sample: str, limit_mb: int | None) -> dict:
    work = Path(tempfile.mkdtemp(prefix="gradescope-budget-"))
    name = f"gradescope-budget-{os.getpid()}-{limit_mb or 0}"
    try:
        archive = gradescope.build("01_2d_classifier", work / "zip")
        root = work / "autograder"
        with zipfile.ZipFile(archive) as opened:
            opened.extractall(root / "source")
            for info in opened.infolist():
                (root / "source" / info.filename).chmod((info.external_attr >> 16) & 0o777)
        grading_samples.write_samples(work / "samples", only=[sample])
        (root / "submission").mkdir()
        shutil.copy(work / "samples" / sample, root / "submission" / sample)
        procs, peak_file = make_cgroup(name, limit_mb * 2**20 if limit_mb else None)
        join = "".join(f'echo $$ > {p} && ' for p in procs)
        runner = f'{join}exec {root / "source" / "run_autograder"}'
        command = ["taskset", "-c", "0", "bash", "-c", runner]
        if not procs:
            command = ["cpulimit", "-l", "50", "-i", "--"] + command
        env = {**os.environ, "AUTOGRADER_ROOT": str(root), "AUTOGRADER_PYTHON": sys.executable,
               "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
        started = time.monotonic()
        process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, text=True)
        peak_rss, done = [0], threading.Event()

        def sample_memory():
            top = psutil.Process(process.pid)
            while not done.is_set():
                try:
                    tree = [top] + top.children(recursive=True)
                    total = 0
                    for member in tree:
                        try:   # proportional: a page shared by n processes counts 1/n each
                            total += member.memory_full_info().pss
                        except psutil.Error:
                            pass
                    peak_rss[0] = max(peak_rss[0], total)
                except psutil.Error:
                    pass
                time.sleep(0.2)
        sampler = threading.Thread(target=sample_memory, daemon=True)
        sampler.start()
        output, _ = process.communicate(timeout=1800)
        seconds = time.monotonic() - started
        done.set()
        peak_cgroup = int(peak_file.read_text()) if peak_file and peak_file.is_file() else None
        results = json.loads((root / "results" / "results.json").read_text())
        gradescope.validate(results)
        return {"seconds": seconds, "peak_rss_mb": peak_rss[0] / 2**20,
                "peak_cgroup_mb": peak_cgroup / 2**20 if peak_cgroup else None,
                "score": results.get("score"), "limit_mb": limit_mb,
                "tests": [(t["name"], t["score"], t["max_score"]) for t in results["tests"]],
                "output": output[-3000:]}
    finally:
        remove_cgroup(name)
        shutil.rmtree(work, ignore_errors=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit-mb", type=int, default=0,
                        help="also run under this memory limit (Gradescope's default: 768)")
    parser.add_argument("--sample", default="correct.ipynb",
                        help="which of scripts/grading_samples.py's submissions")
    args = parser.parse_args(argv)
    for limit in [None] + ([args.limit_mb] if args.limit_mb else []):
        result = measure(args.sample, limit)
        print(f"{args.sample} on one core at half speed"
              + (f", memory limited to {limit} MB" if limit else "") + ": "
              f"{result['seconds']:.0f} s, peak memory {result['peak_rss_mb']:.0f} MB "
              "(the processes' PSS, summed)"
              + (f", {result['peak_cgroup_mb']:.0f} MB (the cgroup's peak, page cache included)"
                 if result["peak_cgroup_mb"] else "")
              + f"; score {result['score']}", flush=True)
        if result["score"] != 9:
            print(result["output"])
    return 0


if __name__ == "__main__":
    sys.exit(main())

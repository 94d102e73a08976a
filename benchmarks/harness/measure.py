"""Running one command as a process tree and measuring it; interleaved rounds of several steps.

* wall: ``time.perf_counter`` around start and ``os.wait4``.
* CPU: user + sys from ``os.wait4``'s rusage of the child, which includes all descendants the
  child waited for (cutadapt workers, bowtie, Snakemake jobs).
* ``maxrss_single``: ``ru_maxrss`` of the tree's largest single process (Linux reports the
  maximum, not the sum; the forked child's RSS before ``exec`` counts too).
* ``peak_tree_rss``: the largest SUM of RSS over all live processes of the tree, sampled from
  ``/proc`` every 0.1 s (shared pages counted in each process: an upper bound).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from harness.common import PROJECT, bench_env, shell_argv

#: stderr of the timed commands (kept only when a command fails); set from --work by the CLI
STDERR_DIR = [PROJECT / "benchmarks" / "out" / "stderr"]
_PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024


def _children_map() -> dict[int, list[int]]:
    """Parent pid -> child pids of every live process."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as handle:
                stat = handle.read()
        except OSError:
            continue
        # field 4 (ppid) follows the ")" closing the command name
        ppid = int(stat[stat.rindex(b")") + 2 :].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    return children


def tree_rss_kb(root: int) -> int:
    """Sum of the resident set sizes of ``root`` and all its descendants."""
    children = _children_map()
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        stack.extend(children.get(pid, []))
        try:
            with open(f"/proc/{pid}/statm", "rb") as handle:
                total += int(handle.read().split()[1]) * _PAGE_KB
        except OSError:
            pass
    return total


def _wait_sampling(proc: subprocess.Popen) -> tuple[int, object, int]:
    """Wait for ``proc``; return its exit status, rusage and the peak tree RSS (kB) seen meanwhile."""
    peak = [0]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], tree_rss_kb(proc.pid))
            done.wait(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _pid, status, usage = os.wait4(proc.pid, 0)
    done.set()
    sampler.join()
    return os.waitstatus_to_exitcode(status), usage, peak[0]


def measure(name: str, command: list[str] | str, *, cwd: Path = PROJECT, stdout=None, env=None) -> dict:
    """Run ``command`` once; return wall, CPU, and memory of its process tree."""
    out_handle = open(stdout, "wb") if isinstance(stdout, (str, Path)) else subprocess.DEVNULL
    STDERR_DIR[0].mkdir(parents=True, exist_ok=True)
    err_path = STDERR_DIR[0] / f"{name}.stderr"
    with open(err_path, "wb") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(shell_argv(command), cwd=cwd, stdout=out_handle, stderr=err, env=env or bench_env())
        returncode, usage, peak_kb = _wait_sampling(proc)
        wall = time.perf_counter() - start
    if out_handle is not subprocess.DEVNULL:
        out_handle.close()
    if returncode != 0:
        sys.stderr.write(err_path.read_text(errors="replace")[-4000:])
        raise SystemExit(f"benchmark step {name} failed (exit {returncode}): {command}")
    err_path.unlink()
    result = {
        "step": name,
        "wall_s": round(wall, 2),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
        "user_s": round(usage.ru_utime, 2),
        "sys_s": round(usage.ru_stime, 2),
        "maxrss_single_mb": round(usage.ru_maxrss / 1024, 1),
        "peak_tree_rss_mb": round(peak_kb / 1024, 1),
    }
    print(
        f"  {name:<28} wall {result['wall_s']:>8.2f} s  cpu {result['cpu_s']:>8.2f} s  "
        f"maxrss {result['maxrss_single_mb']:>7.1f} MB  tree {result['peak_tree_rss_mb']:>7.1f} MB",
        flush=True,
    )
    return result


@dataclass
class Step:
    """One timed command of a round; ``before`` runs untimed before every run of it."""

    name: str
    command: list[str] | str
    before: Callable[[], None] | None = None
    kwargs: dict = field(default_factory=dict)


def load_average() -> str:
    """The 1, 5 and 15 minute load averages."""
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def median_run(name: str, runs: list[dict]) -> dict:
    """One row for a step: median wall, CPU and memory over its runs, plus every run's values."""
    row = dict(min(runs, key=lambda r: abs(r["wall_s"] - statistics.median(x["wall_s"] for x in runs))))
    for key in ("wall_s", "cpu_s", "user_s", "sys_s", "maxrss_single_mb", "peak_tree_rss_mb"):
        row[key] = round(statistics.median(r[key] for r in runs), 2)
    row["step"] = name
    row["rounds"] = len(runs)
    row["wall_s_all_runs"] = ",".join(str(r["wall_s"]) for r in runs)
    row["cpu_s_all_runs"] = ",".join(str(r["cpu_s"]) for r in runs)
    row["load_all_runs"] = ";".join(r["load"] for r in runs)
    return row


def run_rounds(steps: list[Step], rounds: int) -> dict[str, dict]:
    """Run every step once per round, in order, ``rounds`` times (interleaved: a load change on
    the shared machine hits all steps alike); return the median row of each step."""
    runs: dict[str, list[dict]] = {step.name: [] for step in steps}
    for number in range(1, rounds + 1):
        print(f"  -- round {number}/{rounds} (load {load_average()})", flush=True)
        for step in steps:
            if step.before is not None:
                step.before()
            result = measure(step.name, step.command, **step.kwargs)
            result["load"] = load_average()
            runs[step.name].append(result)
    return {name: median_run(name, values) for name, values in runs.items()}

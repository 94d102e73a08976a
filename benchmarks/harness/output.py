"""The machine description of a run and the markdown tables of its result files."""

from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path

from harness.common import PYTHON, VENV_BIN, bench_env, read_rows


def _first_line(cmd: list[str]) -> str:
    """First output line of ``cmd`` ("unavailable" when it cannot run)."""
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, errors="replace", env=bench_env())
        return (out.stdout or out.stderr).strip().splitlines()[0]
    except (OSError, IndexError):
        return "unavailable"


def machine() -> dict:
    """CPU, memory, kernel, tool versions and the load average at the start."""
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "?")
    mem_kb = int(next(line.split()[1] for line in open("/proc/meminfo") if line.startswith("MemTotal")))
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "ram_gb": round(mem_kb / 1024**2, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "cutadapt": _first_line(["cutadapt", "--version"]),
        "bowtie": _first_line(["bowtie", "--version"]),
        "samtools": _first_line(["samtools", "--version"]),
        "snakemake": _first_line([str(Path(VENV_BIN) / "snakemake"), "--version"]),
        "pydeseq2": _first_line([PYTHON, "-c", "import pydeseq2; print(pydeseq2.__version__)"]),
        "gzip": _first_line(["gzip", "--version"]),
        "load_average_start": _first_line(["uptime"]),
    }


def _steps_table(path: Path) -> list[str]:
    """One line per timed step of every read number."""
    out = ["| reads | step | wall s | CPU s | wall s / M reads | peak tree RSS MB | max single RSS MB |",
           "|---:|---|---:|---:|---:|---:|---:|"]
    for r in read_rows(path):
        per_m = float(r["wall_s"]) / (int(r["reads"]) / 1e6)
        out.append(f"| {int(r['reads']):,} | {r['step']} | {r['wall_s']} | {r['cpu_s']} | {per_m:.2f} | "
                   f"{r['peak_tree_rss_mb']} | {r['maxrss_single_mb']} |")
    return out


def _summary_table(path: Path) -> list[str]:
    """Ratios and counts: one column per read number."""
    summary = read_rows(path)
    keys = [k for k in summary[0] if not k.startswith("wall_s_per_million")]
    out = ["| | " + " | ".join(f"{int(s['reads']):,} reads" for s in summary) + " |",
           "|---|" + "---:|" * len(summary)]
    out += [f"| {key} | " + " | ".join(s.get(key, "") for s in summary) + " |" for key in keys]
    return out


def _plain_table(path: Path) -> list[str]:
    """Steps of the DAG, cohort or pyDESeq2 parts."""
    out = ["| step | wall s | CPU s | peak tree RSS MB | max single RSS MB |", "|---|---:|---:|---:|---:|"]
    out += [f"| {r['step']} | {r['wall_s']} | {r['cpu_s']} | {r['peak_tree_rss_mb']} | {r['maxrss_single_mb']} |"
            for r in read_rows(path)]
    return out


def markdown_tables(results: Path, tag: str) -> str:
    """The README tables of one run, from its TSV files (those that exist)."""
    parts = []
    if (results / f"{tag}_steps.tsv").exists():
        parts.append(_steps_table(results / f"{tag}_steps.tsv"))
        parts.append(_summary_table(results / f"{tag}_summary.tsv"))
    for name in ("dag", "cohort", "diffexp"):
        if (results / f"{tag}_{name}.tsv").exists():
            parts.append(_plain_table(results / f"{tag}_{name}.tsv"))
    return "\n\n".join("\n".join(part) for part in parts) + "\n"

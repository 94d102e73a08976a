"""Cohort-scale Snakemake cost: parse (``--list-rules``) and dry run (``-n``) of generated sheets.

Each sheet has n samples with their own tiny FASTQ (a dry run only checks that inputs exist);
sizes are run in interleaved rounds, so a load change hits every size alike.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from harness.common import PROJECT, THREADS, VENV_BIN
from harness.inputs import cohort_rows, write_workdir
from harness.measure import Step, run_rounds

CONTRAST = [{"name": "bc_vs_hc", "factor": "condition", "level": "breast_cancer", "reference": "control"}]


def dag_workdir(n_samples: int, work: Path) -> Path:
    """A working directory with an ``n_samples`` sheet (cached: the FASTQ writing is untimed)."""
    workdir = work / f"dag_{n_samples}"
    if not (workdir / "samples.tsv").exists():
        shutil.rmtree(workdir, ignore_errors=True)
        rows = cohort_rows(n_samples, workdir / "data", workdir)
        write_workdir(workdir, rows, contrasts=CONTRAST)
    shutil.rmtree(workdir / ".snakemake", ignore_errors=True)
    return workdir


def dag_steps(n_samples: int, work: Path) -> list[Step]:
    """The parse and dry-run steps of one cohort size."""
    workdir = dag_workdir(n_samples, work)
    base = [str(Path(VENV_BIN) / "snakemake"), "-s", str(PROJECT / "workflow" / "Snakefile"), "-d", str(workdir),
            "--cores", str(THREADS)]
    return [
        Step(f"snakemake_parse_{n_samples}", base + ["--list-rules"], kwargs={"cwd": workdir}),
        Step(f"snakemake_dryrun_{n_samples}", base + ["-n"],
             kwargs={"cwd": workdir, "stdout": workdir / "dryrun.txt"}),
    ]


def dry_run_jobs(workdir: Path) -> int | str:
    """The job total Snakemake printed for the dry run."""
    totals = [line.split()[1] for line in (workdir / "dryrun.txt").read_text().splitlines() if line.startswith("total ")]
    return int(totals[-1]) if totals else "?"


def bench_dag(sizes: list[int], work: Path, rounds: int = 1) -> list[dict]:
    """Parse and dry run of every cohort size; per-sample CPU of the dry run and its growth."""
    print(f"== Snakemake DAG, {', '.join(map(str, sizes))} samples, {rounds} round(s)", flush=True)
    steps = [step for n in sizes for step in dag_steps(n, work)]
    by = run_rounds(steps, rounds)
    rows = []
    for n in sizes:
        for kind in ("parse", "dryrun"):
            row = by[f"snakemake_{kind}_{n}"]
            row["samples"] = n
            if kind == "dryrun":
                row["dryrun_jobs"] = dry_run_jobs(work / f"dag_{n}")
                row["cpu_ms_per_sample"] = round(1000 * row["cpu_s"] / n, 1)
            rows.append(row)
    return rows

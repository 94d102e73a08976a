"""Cohort-level steps at scale: ``quantify_matrices`` (exomir.quantify.build_matrices) on n
per-sample tables (copies of one real sample's assignments and stats: simulated per-sample
tables), timed in its own process. qc_summary, MultiQC and the biomarker report are not timed
here yet (issue 21.4, open)."""

from __future__ import annotations

import shutil
from pathlib import Path

from harness.common import PYTHON, SAMPLE
from harness.measure import Step, run_rounds

PIECE_MATRICES = """
import sys
from exomir.quantify import build_matrices
folder, ref, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
samples = [f"S{i + 1:04d}" for i in range(n)]
build_matrices(
    samples=samples, assignments=[f"{folder}/{s}.assignments.tsv.gz" for s in samples],
    stats=[f"{folder}/{s}.stats.tsv" for s in samples], mature_tsv=ref + "/mature.tsv", hairpin_fa=ref + "/hairpin.fa",
    **{key: f"{folder}/out/{key}.tsv" for key in ("out_mature", "out_hairpin", "out_mature_rpm", "out_hairpin_rpm",
                                                 "out_isomirs", "out_mapping_stats", "out_other_class",
                                                 "out_other_class_counts")},
)
"""


def cohort_tables(n_samples: int, source: Path, folder: Path) -> None:
    """``n_samples`` per-sample tables: symlinks to ``source``'s assignments, stats renamed per sample."""
    shutil.rmtree(folder, ignore_errors=True)
    (folder / "out").mkdir(parents=True)
    stats = (source / f"results/quantify/{SAMPLE}.stats.tsv").read_text()
    for i in range(n_samples):
        sample = f"S{i + 1:04d}"
        (folder / f"{sample}.assignments.tsv.gz").symlink_to(source / f"results/quantify/{SAMPLE}.assignments.tsv.gz")
        (folder / f"{sample}.stats.tsv").write_text(stats.replace(f"\n{SAMPLE}\t", f"\n{sample}\t"))


def bench_cohort(sizes: list[int], work: Path, source: Path | None = None, rounds: int = 1) -> list[dict]:
    """quantify_matrices at every cohort size (``source``: a Snakemake directory with the chain's
    outputs of ``SAMPLE``; default: the first read number's run under ``work``)."""
    source = source or sorted(work.glob("run_*/snakemake"))[0]
    print(f"== cohort-level steps, {', '.join(map(str, sizes))} samples (tables of {source})", flush=True)
    steps = []
    for n in sizes:
        folder = work / f"cohort_{n}"
        cohort_tables(n, source, folder)
        steps.append(Step(f"quantify_matrices_{n}", [PYTHON, "-c", PIECE_MATRICES, str(folder),
                                                     str(source / "results/references/hsa"), str(n)]))
    rows = list(run_rounds(steps, rounds).values())
    for row, n in zip(rows, sizes):
        row["samples"] = n
        row["cpu_ms_per_sample"] = round(1000 * row["cpu_s"] / n, 1)
    return rows

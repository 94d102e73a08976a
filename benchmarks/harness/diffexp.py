"""pyDESeq2 through exomir.diffexp on simulated negative-binomial counts (cohort scale)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from harness.common import PYTHON, SEED
from harness.measure import measure
from harness.pieces import PIECE_DE


def simulated_counts(n_samples: int, n_mirnas: int) -> tuple[np.ndarray, np.ndarray]:
    """Counts (miRNAs x samples) and conditions: miRNA means spanning 0.5..1e5 reads (log-normal),
    NB dispersion 0.05 + 1/mean, 10% DE (|log2FC| 1)."""
    rng = np.random.default_rng(SEED)
    means = np.exp(rng.normal(3.0, 2.5, n_mirnas)).clip(0.5, 1e5)
    condition = np.array(["breast_cancer" if i % 2 == 0 else "control" for i in range(n_samples)])
    fold = np.ones(n_mirnas)
    de = rng.choice(n_mirnas, n_mirnas // 10, replace=False)
    fold[de] = 2.0 ** rng.choice([-1.0, 1.0], de.size)
    size_factors = rng.uniform(0.5, 2.0, n_samples)
    mu = means[:, None] * size_factors[None, :] * np.where(condition[None, :] == "breast_cancer", fold[:, None], 1.0)
    dispersion = 0.05 + 1.0 / means
    shape = 1.0 / dispersion[:, None]
    return rng.poisson(rng.gamma(shape, mu / shape)), condition


def bench_diffexp(n_samples: int, n_mirnas: int, work: Path) -> list[dict]:
    """pyDESeq2 fit (run_cohort) and one contrast (run_contrast) on simulated counts."""
    print(f"== pyDESeq2, {n_samples} samples x {n_mirnas} miRNAs", flush=True)
    workdir = work / f"diffexp_{n_samples}x{n_mirnas}"
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    counts, condition = simulated_counts(n_samples, n_mirnas)
    samples = [f"S{i + 1:04d}" for i in range(n_samples)]
    mirnas = [f"hsa-miR-sim{i + 1:04d}" for i in range(n_mirnas)]
    with open(workdir / "mature_counts.tsv", "w") as handle:
        handle.write("mirna\t" + "\t".join(samples) + "\n")
        for name, row in zip(mirnas, counts):
            handle.write(name + "\t" + "\t".join(map(str, row.tolist())) + "\n")
    with open(workdir / "samples.tsv", "w") as handle:
        handle.write("sample\tcondition\tfastq\n")
        for s, c in zip(samples, condition):
            handle.write(f"{s}\t{c}\tdata/{s}.fastq.gz\n")
    args = [str(workdir / "mature_counts.tsv"), str(workdir / "samples.tsv"), str(workdir / "diffexp")]
    results = [
        measure("pydeseq2_run_cohort", [PYTHON, "-c", PIECE_DE, "fit", *args]),
        measure("pydeseq2_run_contrast", [PYTHON, "-c", PIECE_DE, "contrast", *args]),
    ]
    for r in results:
        r["samples"], r["mirnas"] = n_samples, n_mirnas
    return results

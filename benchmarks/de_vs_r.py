"""The DE stage of exomir vs R DESeq2 ``DESeq()`` + ``results()`` on the same matrices, in one run.

Usage: PYTHONPATH=scripts python benchmarks/de_vs_r.py [--rounds N] [--sizes 12,200] [--mirnas 2600]

Matrices: for each sample number, ``--mirnas`` miRNAs x N samples (half cases),
negative binomial counts around row means drawn (seeded) from the real cell-line
matrix's row means (tests/data/diffexp/cellline), dispersion 0.05 + 1 / mean,
10% of rows with a log2 fold change of +-1, and the two hemolysis-score miRNAs
(hsa-miR-451a, hsa-miR-23a-3p), so the stage runs with its default hemolysis check.
Plus the real cell-line matrix cancer_set2 + healthy (43 x 2,100).

Timed, each in its own process (wall: perf_counter around it; CPU: user + sys of
the finished child from ``resource.getrusage(RUSAGE_CHILDREN)``), rounds interleaved:

* ``exomir_stage``: the whole DE stage at default settings as the rules run it:
  ``run_cohort`` (one fit + the hemolysis check's second design, cohort tables,
  VST, PCA, plots, results.tsv) + ``run_contrast`` (plots, top table), n_cpus 1;
* ``exomir_stage_no_check``: the same with ``diffexp.hemolysis_check: false`` (one fit);
* ``R_deseq``: ``Rscript``: DESeq2 ``DESeq()`` + ``results(alpha = 0.1)``, start-up
  and library loading included (``R_inside``: R's own elapsed time of the two calls).

Prints one markdown table (medians) with the ratios exomir / R.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
CELLLINE = ROOT / "tests" / "data" / "diffexp" / "cellline"
SEED = 20261202
R_CODE = """suppressPackageStartupMessages(library(DESeq2))
c <- as.matrix(read.delim("{counts}", row.names = 1, check.names = FALSE))
s <- read.delim("{samples}", colClasses = "character")
s$condition <- factor(s$condition, levels = c("control", "case"))
t0 <- proc.time()
res <- results(DESeq(DESeqDataSetFromMatrix(c[, s$sample], s, ~ condition), quiet = TRUE), alpha = 0.1)
cat((proc.time() - t0)[["elapsed"]], sum(res$padj < 0.1, na.rm = TRUE), "\\n")
"""
EXOMIR_CODE = """import sys
from pathlib import Path
from exomir.diffexp import DiffexpSettings, read_counts, run_cohort, run_contrast
from exomir.io import write_tsv
from exomir.qc.hemolysis import hemolysis_table
work, check = Path(sys.argv[1]), sys.argv[2] == "check"
settings = DiffexpSettings.from_config({"design": "~ condition", "n_cpus": 1, "hemolysis_check": check,
    "contrasts": [{"name": "c", "factor": "condition", "level": "case", "reference": "control"}]})
write_tsv(hemolysis_table(read_counts(work / "counts.tsv"), "hsa").reset_index(), work / "hemolysis.tsv")
out = work / ("out_" + sys.argv[2])
run_cohort(work / "counts.tsv", work / "samples.tsv", None, True, settings, out, work / "hemolysis.tsv")
run_contrast(out / "c" / "results.tsv", out / "samples.tsv", out / "vst.tsv", settings, "c", out / "c")
"""


def simulated_matrix(n_samples: int, n_mirnas: int, workdir: Path) -> None:
    """Write counts.tsv and samples.tsv of a simulated cohort (see the module docstring)."""
    rng = np.random.default_rng(SEED + n_samples)
    real = pd.read_csv(CELLLINE / "counts.tsv", sep="\t", index_col=0)
    real_means = real.mean(axis=1).to_numpy()
    means = np.maximum(rng.choice(real_means[real_means > 0], n_mirnas), 0.2)
    means[:2] = 500.0  # hemolysis marker and reference: enough reads for an assessable score
    condition = np.where(np.arange(n_samples) % 2 == 0, "case", "control")
    log2fc = np.zeros(n_mirnas)
    changed = rng.choice(n_mirnas, n_mirnas // 10, replace=False)
    log2fc[changed] = rng.choice([-1.0, 1.0], changed.size)
    depth = rng.uniform(0.5, 2.0, n_samples)
    mu = means[:, None] * depth[None, :] * 2.0 ** (log2fc[:, None] * (condition == "case")[None, :])
    size = 1.0 / (0.05 + 1.0 / means)[:, None]
    counts = rng.negative_binomial(size, size / (size + mu))
    names = ["hsa-miR-451a", "hsa-miR-23a-3p"] + [f"sim-miR-{i:04d}" for i in range(3, n_mirnas + 1)]
    samples = [f"S{i:03d}" for i in range(1, n_samples + 1)]
    pd.DataFrame(counts, index=pd.Index(names, name="mirna"), columns=samples).to_csv(workdir / "counts.tsv", sep="\t")
    pd.DataFrame({"sample": samples, "condition": condition}).to_csv(workdir / "samples.tsv", sep="\t", index=False)


def cellline_matrix(workdir: Path) -> None:
    """The real matrix cancer_set2 + healthy_set, conditions renamed case / control."""
    sheet = pd.read_csv(CELLLINE / "samples.tsv", sep="\t", dtype=str)
    sheet = sheet[sheet["batch"].isin(["cancer_set2", "healthy_set"])][["sample", "condition"]]
    sheet["condition"] = sheet["condition"].map({"cancer": "case", "healthy": "control"})
    sheet.to_csv(workdir / "samples.tsv", sep="\t", index=False)
    counts = pd.read_csv(CELLLINE / "counts.tsv", sep="\t", index_col=0)[sheet["sample"]]
    counts.to_csv(workdir / "counts.tsv", sep="\t")


def timed(command: list[str]) -> tuple[float, float, str]:
    """Wall and CPU seconds (the child and its waited descendants) and stdout of ``command``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(command, check=True, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT / "scripts")})
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), done.stdout


def one_round(workdir: Path, times: dict[str, list[tuple[float, float]]]) -> None:
    """Run the three steps once on ``workdir``'s matrix, appending (wall, CPU) per step."""
    script = workdir / "deseq.R"
    script.write_text(R_CODE.format(counts=workdir / "counts.tsv", samples=workdir / "samples.tsv"))
    wall, cpu, stdout = timed(["Rscript", str(script)])
    times.setdefault("R_deseq", []).append((wall, cpu))
    times.setdefault("R_inside", []).append((float(stdout.split()[0]), float("nan")))
    for step, check in (("exomir_stage", "check"), ("exomir_stage_no_check", "nocheck")):
        times.setdefault(step, []).append(timed([sys.executable, "-c", EXOMIR_CODE, str(workdir), check])[:2])


def table_rows(label: str, times: dict[str, list[tuple[float, float]]]) -> list[str]:
    """Markdown rows of one matrix: medians and ratios to R."""
    med = {step: (statistics.median(v[0] for v in values), statistics.median(v[1] for v in values))
           for step, values in times.items()}
    r_wall, r_cpu = med["R_deseq"]
    rows = []
    for step in ("exomir_stage", "exomir_stage_no_check", "R_deseq"):
        wall, cpu = med[step]
        rows.append(f"| {label} | {step} | {wall:.1f} | {cpu:.1f} | {wall / r_wall:.2f} | {cpu / r_cpu:.2f} |")
    rows.append(f"| {label} | R_inside (DESeq + results only) | {med['R_inside'][0]:.1f} | | | |")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--sizes", default="12,200")
    parser.add_argument("--mirnas", type=int, default=2600)
    parser.add_argument("--no-cellline", action="store_true")
    args = parser.parse_args()
    matrices = [(f"{n} x {args.mirnas:,} (simulated)", n) for n in map(int, args.sizes.split(","))]
    if not args.no_cellline:
        matrices.append(("43 x 2,100 (cell-line set 2 + healthy)", None))
    lines = ["| matrix | step | wall (s) | CPU (s) | wall / R | CPU / R |", "|---|---|---|---|---|---|"]
    with tempfile.TemporaryDirectory() as tmp:
        for label, n in matrices:
            workdir = Path(tmp) / label.split()[0]
            workdir.mkdir()
            simulated_matrix(n, args.mirnas, workdir) if n else cellline_matrix(workdir)
            times: dict[str, list[tuple[float, float]]] = {}
            for _ in range(args.rounds):
                one_round(workdir, times)
            lines += table_rows(label, times)
            print("\n".join(lines[-4:]), flush=True)
    print("\n".join(lines))
    print("load average:", " ".join(f"{x:.2f}" for x in os.getloadavg()))


if __name__ == "__main__":
    main()

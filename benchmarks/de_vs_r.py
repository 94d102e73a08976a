"""DE stage (one contrast) of exomir vs R DESeq2 DESeq() + results() on the same matrix.

Usage: PYTHONPATH=scripts python benchmarks/de_vs_r.py [ROUNDS]
Runs on tests/data/diffexp/cellline (cancer_set2 + healthy_set, 43 x 2,100), interleaving
exomir and R rounds; prints wall and CPU seconds (children included) and the load average.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data" / "diffexp" / "cellline"
R_CODE = """suppressPackageStartupMessages(library(DESeq2))
c <- as.matrix(read.delim("{counts}", row.names = 1, check.names = FALSE))
s <- read.delim("{samples}", colClasses = "character")
s$condition <- factor(s$condition, levels = c("healthy", "cancer"))
t0 <- proc.time()
res <- results(DESeq(DESeqDataSetFromMatrix(c[, s$sample], s, ~ condition), quiet = TRUE), alpha = 0.1)
cat((proc.time() - t0)[["elapsed"]], sum(res$padj < 0.1, na.rm = TRUE), "\\n")
"""


def exomir_round(workdir: Path) -> tuple[float, float]:
    from exomir.diffexp import DiffexpSettings, contrast_results, prepare

    settings = DiffexpSettings.from_config({"design": "~ condition", "n_cpus": 1, "contrasts": [
        {"name": "c", "factor": "condition", "level": "cancer", "reference": "healthy"}]})
    start, cpu = time.perf_counter(), time.process_time()
    counts, samples, keep = prepare(workdir / "counts.tsv", workdir / "samples.tsv", None, True, settings)
    contrast_results(counts, samples, settings, settings.contrasts[0], keep)
    return time.perf_counter() - start, time.process_time() - cpu


def r_round(workdir: Path) -> tuple[float, float]:
    script = workdir / "r.R"
    script.write_text(R_CODE.format(counts=workdir / "counts.tsv", samples=workdir / "samples.tsv"))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(["Rscript", str(script)], check=True, capture_output=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.perf_counter() - start, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main(rounds: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        sheet = pd.read_csv(DATA / "samples.tsv", sep="\t", dtype=str)
        sheet = sheet[sheet["batch"].isin(["cancer_set2", "healthy_set"])]
        sheet.to_csv(workdir / "samples.tsv", sep="\t", index=False)
        pd.read_csv(DATA / "counts.tsv", sep="\t", index_col=0)[sheet["sample"]].to_csv(workdir / "counts.tsv", sep="\t")
        times = {"exomir": [], "R": []}
        for _ in range(rounds):
            times["exomir"].append(exomir_round(workdir))
            times["R"].append(r_round(workdir))
        for tool, values in times.items():
            print(f"{tool}: wall median {statistics.median(v[0] for v in values):.1f} s, "
                  f"CPU median {statistics.median(v[1] for v in values):.1f} s over {rounds} rounds")
        print("load average:", " ".join(f"{x:.2f}" for x in os.getloadavg()))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)

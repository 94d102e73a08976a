"""Build the parity fixture's count matrix and sample sheet (run once, by hand).

Usage: python make_counts_subset.py DIR_WITH_EXOSOMEPURITY_CSVS OUT_DIR

Reads the four raw-count CSVs of WangHYLab/exosomePurity
``testdata/01cancer_healthy_cellline_derived_count_exosomes/`` and writes
``counts.tsv`` (miRNAs with >= 10 reads in >= 3 samples, so that the
workflow's default prefilter, >= 10 reads in >= 25 samples (the smaller
group), still has rows to remove) and ``samples.tsv``.
"""

import sys
from pathlib import Path

import pandas as pd

SOURCES = {
    "cancer_cellline_derived_exosomes1.csv": ("cancer", "cancer_set1"),
    "cancer_cellline_derived_exosomes2.csv": ("cancer", "cancer_set2"),
    "cancer_cellline_derived_exosomes3.csv": ("cancer", "cancer_set3"),
    "healthy_cellline_derived_exosomes.csv": ("healthy", "healthy_set"),
}
MIN_COUNT = 10
MIN_SAMPLES = 3


def main(source_dir: Path, out_dir: Path) -> None:
    frames, rows = [], []
    for name, (condition, batch) in SOURCES.items():
        table = pd.read_csv(source_dir / name, index_col=0)
        if "gene_id" in table.columns:
            table = table.set_index("gene_id")
        table.columns = [c.removesuffix(".count") for c in table.columns]
        frames.append(table)
        rows += [(sample, condition, batch) for sample in table.columns]
    counts = pd.concat(frames, axis=1)
    counts = counts[(counts >= MIN_COUNT).sum(axis=1) >= MIN_SAMPLES].sort_index()
    counts.index.name = "mirna"
    counts.to_csv(out_dir / "counts.tsv", sep="\t", lineterminator="\n")
    sheet = pd.DataFrame(rows, columns=["sample", "condition", "batch"])
    sheet.to_csv(out_dir / "samples.tsv", sep="\t", index=False, lineterminator="\n")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))

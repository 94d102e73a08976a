"""Build the cell-line parity fixture's counts and sample sheet (run once, by hand).

Usage: python make_counts_subset.py DIR_WITH_EXOSOMEPURITY_CSVS OUT_DIR

Reads the four raw-count CSVs of WangHYLab/exosomePurity
``testdata/01cancer_healthy_cellline_derived_count_exosomes/`` and writes
``counts.tsv`` (every miRNA with at least one read in the 56 runs, plus the
first 19 all-zero miRNAs by name so that the ``all_zero`` filter is exercised)
and ``samples.tsv`` (sample, condition, batch). The three parity matrices are
``cancer_setN`` + ``healthy_set`` (see ``make_r_fixture.R``).
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
ALL_ZERO_KEPT = 19


def main(source_dir: Path, out_dir: Path) -> None:
    frames, rows = [], []
    for name, (condition, batch) in SOURCES.items():
        table = pd.read_csv(source_dir / name, index_col=0)
        if "gene_id" in table.columns:
            table = table.set_index("gene_id")
        table.columns = [c.removesuffix(".count") for c in table.columns]
        frames.append(table)
        rows += [(sample, condition, batch) for sample in table.columns]
    counts = pd.concat(frames, axis=1).sort_index()
    detected = counts.sum(axis=1) > 0
    zero = counts.index[~detected][:ALL_ZERO_KEPT]
    counts = counts[detected | counts.index.isin(zero)]
    counts.index.name = "mirna"
    counts.to_csv(out_dir / "counts.tsv", sep="\t", lineterminator="\n")
    sheet = pd.DataFrame(rows, columns=["sample", "condition", "batch"])
    sheet.to_csv(out_dir / "samples.tsv", sep="\t", index=False, lineterminator="\n")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))

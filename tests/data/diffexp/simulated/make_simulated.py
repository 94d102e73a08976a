"""Simulated count matrix with planted changes for tests/test_diffexp.py (run once, by hand).

Usage: python make_simulated.py OUT_DIR

40 miRNAs x 8 samples (4 case, 4 control, in two batches of 2 + 2).
Counts are negative binomial (dispersion 0.05) around a mean drawn per miRNA
(50 to 2000 reads) times a per-sample depth factor. Six miRNAs carry a planted
log2 fold change of case vs control (+3, +3, +2.5, -3, -3, -2.5); two miRNAs
have too few reads and are removed by the default prefilter. Writes
counts.tsv, samples.tsv and truth.tsv (mirna, planted_log2fc).
"""

import sys
from pathlib import Path

import numpy as np
import pandas as pd

SEED = 20261126
DISPERSION = 0.05
PLANTED = {"sim-miR-001": 3.0, "sim-miR-002": 3.0, "sim-miR-003": 2.5,
           "sim-miR-004": -3.0, "sim-miR-005": -3.0, "sim-miR-006": -2.5}
LOW = ("sim-miR-039", "sim-miR-040")


def main(out_dir: Path) -> None:
    rng = np.random.default_rng(SEED)
    samples = [f"S{i}" for i in range(1, 9)]
    condition = ["case", "control"] * 4
    batch = ["b1"] * 4 + ["b2"] * 4
    depth = np.array([1.0, 0.8, 1.3, 1.1, 0.7, 1.2, 0.9, 1.0])
    mirnas = [f"sim-miR-{i:03d}" for i in range(1, 41)]
    base = np.exp(rng.uniform(np.log(50), np.log(2000), len(mirnas)))
    rows, truth = [], []
    for mirna, mean in zip(mirnas, base):
        if mirna in LOW:
            mean = 1.0
        lfc = PLANTED.get(mirna, 0.0)
        mu = mean * depth * np.where(np.array(condition) == "case", 2.0 ** (lfc / 2), 2.0 ** (-lfc / 2))
        # numpy's negative binomial takes n = 1/dispersion and p = n / (n + mu).
        n = 1.0 / DISPERSION
        rows.append(rng.negative_binomial(n, n / (n + mu)))
        truth.append((mirna, lfc))
    counts = pd.DataFrame(rows, index=pd.Index(mirnas, name="mirna"), columns=samples)
    counts.to_csv(out_dir / "counts.tsv", sep="\t", lineterminator="\n")
    sheet = pd.DataFrame({"sample": samples, "condition": condition, "batch": batch})
    sheet.to_csv(out_dir / "samples.tsv", sep="\t", index=False, lineterminator="\n")
    pd.DataFrame(truth, columns=["mirna", "planted_log2fc"]).to_csv(
        out_dir / "truth.tsv", sep="\t", index=False, lineterminator="\n"
    )


if __name__ == "__main__":
    main(Path(sys.argv[1]))

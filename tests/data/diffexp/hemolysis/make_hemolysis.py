"""Simulated cohort with a hemolysis gradient confounded with condition (tests/test_diffexp_hemolysis.py).

Usage: python make_hemolysis.py OUT_DIR   (run once, by hand; seed fixed)

50 miRNAs x 12 samples (6 case, 6 control). Each sample has a hemolysis level
``h`` (log2 excess of red-blood-cell miRNAs): cases 1.0-3.5, controls 0-2.0, so
hemolysis is higher in cases but overlaps the controls (confounded, not
collinear). The red-blood-cell miRNAs hsa-miR-451a, hsa-miR-486-5p,
hsa-miR-16-5p and hsa-miR-92a-3p have mean ``base * 2**(k h)`` (k = 1.0, 0.8,
0.7, 0.6) and no condition effect; four other miRNAs carry a planted log2 fold
change of case vs control (+2.5, +2.5, -2.5, -2.5) and no hemolysis effect;
hsa-miR-23a-3p (the score's reference) and the rest have neither. Counts are
negative binomial (dispersion 0.02). Writes counts.tsv, samples.tsv and
truth.tsv (mirna, planted_log2fc, rbc_slope).
"""

import sys
from pathlib import Path

import numpy as np
import pandas as pd

SEED = 20261202
DISPERSION = 0.02
RBC = {"hsa-miR-451a": 1.0, "hsa-miR-486-5p": 0.8, "hsa-miR-16-5p": 0.7, "hsa-miR-92a-3p": 0.6}
PLANTED = {"sim-miR-001": 2.5, "sim-miR-002": 2.5, "sim-miR-003": -2.5, "sim-miR-004": -2.5}
HEMOLYSIS = [1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 0.0, 0.0, 0.5, 1.0, 1.5, 2.0]


def main(out_dir: Path) -> None:
    rng = np.random.default_rng(SEED)
    samples = [f"P{i:02d}" for i in range(1, 13)]
    condition = np.array(["case"] * 6 + ["control"] * 6)
    depth = rng.uniform(0.7, 1.3, len(samples))
    level = np.array(HEMOLYSIS)
    mirnas = list(RBC) + ["hsa-miR-23a-3p"] + [f"sim-miR-{i:03d}" for i in range(1, 46)]
    rows, truth = [], []
    for mirna in mirnas:
        base = 200.0 if mirna in RBC or mirna == "hsa-miR-23a-3p" else np.exp(rng.uniform(np.log(50), np.log(3000)))
        lfc, slope = PLANTED.get(mirna, 0.0), RBC.get(mirna, 0.0)
        mu = base * depth * 2.0 ** np.where(condition == "case", lfc / 2, -lfc / 2) * 2.0 ** (slope * level)
        n = 1.0 / DISPERSION  # numpy: n = 1/dispersion, p = n / (n + mu)
        rows.append(rng.negative_binomial(n, n / (n + mu)))
        truth.append((mirna, lfc, slope))
    counts = pd.DataFrame(rows, index=pd.Index(mirnas, name="mirna"), columns=samples).sort_index()
    counts.to_csv(out_dir / "counts.tsv", sep="\t", lineterminator="\n")
    pd.DataFrame({"sample": samples, "condition": condition, "hemolysis_level": level}).to_csv(
        out_dir / "samples.tsv", sep="\t", index=False, lineterminator="\n")
    pd.DataFrame(truth, columns=["mirna", "planted_log2fc", "rbc_slope"]).to_csv(
        out_dir / "truth.tsv", sep="\t", index=False, lineterminator="\n")


if __name__ == "__main__":
    main(Path(sys.argv[1]))

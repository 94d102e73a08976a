"""miRTrace-style QC per sample: RNA-type summary and miRNA complexity curve.

miRTrace (Kang et al. 2018, Genome Biol 19:213) reports, per library, which RNA types the reads
come from (miRNA, rRNA, tRNA, sn/snoRNA, artefacts, unknown) and a complexity curve: distinct
miRNAs detected against reads sampled. Both are computed here from tables exomir already writes
(the composition and ``mature_counts.tsv``), so the numbers agree with the rest of the report.

The complexity curve is the exact rarefaction expectation instead of a random subsample: drawing
``m`` of a sample's ``N`` mature-miRNA reads without replacement detects miRNA ``i`` (``n_i``
reads) with probability ``1 - C(N - n_i, m) / C(N, m)``; the curve is the sum over miRNAs. It is
deterministic (no seed) and equals the mean of all possible subsamples.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd
from scipy.special import gammaln

#: RNA types of the summary, in report order, and the composition classes they gather.
RNA_TYPES = ("mirna", "rrna", "trna", "snrna_snorna", "artifact", "other", "unknown")
_CLASS_TYPE = {
    "mirna_mature": "mirna",
    "mirna_hairpin_only": "mirna",
    "mirna_ambiguous": "mirna",
    "rrna": "rrna",
    "trna": "trna",
    "snrna": "snrna_snorna",
    "snorna": "snrna_snorna",
    "artifact": "artifact",
    "unmapped": "unknown",
    # genome mode: genome-mapped but unannotated is still "unknown" in miRTrace's terms
    "genome_unique": "unknown",
    "genome_multi": "unknown",
}

#: Subsample sizes of the complexity curve (reads); each sample also gets its full depth.
CURVE_POINTS = (1_000, 2_000, 5_000, 10_000, 20_000, 50_000, 100_000, 200_000, 500_000, 1_000_000)


def rna_type_summary(composition: pd.DataFrame) -> pd.DataFrame:
    """Per sample: reads of each RNA type among the reads passing preprocessing, then fractions.

    ``composition`` is the long per-sample composition (columns sample, class, group, reads).
    Spike-ins and configured classes other than the named ones are ``other``; ``unknown`` is
    what no library explains (``unmapped``).
    """
    passing = composition[composition["group"] != "filtered"].copy()
    passing["type"] = [_CLASS_TYPE.get(name, "other") for name in passing["class"]]
    samples = list(dict.fromkeys(composition["sample"]))
    reads = (
        passing.pivot_table(index="sample", columns="type", values="reads", aggfunc="sum", fill_value=0)
        .reindex(index=samples, columns=list(RNA_TYPES), fill_value=0)
        .astype("int64")
    )
    total = reads.sum(axis=1)
    fractions = reads.div(total.where(total > 0), axis=0).round(6).add_suffix("_fraction")
    table = pd.concat([total.rename("passing_reads"), reads, fractions], axis=1)
    table.index.name = "sample"
    return table.reset_index()


def expected_detected(counts: np.ndarray, sampled: int) -> float:
    """Expected number of miRNAs with >= 1 read among ``sampled`` reads drawn without replacement (6 decimals)."""
    counts = counts[counts > 0].astype(float)
    total = counts.sum()
    if sampled >= total:
        return float(len(counts))
    # log C(N - n_i, m) - log C(N, m); terms with N - n_i < m are 0 (the miRNA is always drawn)
    rest = total - counts
    possible = rest >= sampled
    log_ratio = (
        gammaln(rest[possible] + 1)
        - gammaln(rest[possible] - sampled + 1)
        - gammaln(total + 1)
        + gammaln(total - sampled + 1)
    )
    return round(float((1.0 - np.exp(log_ratio)).sum() + (~possible).sum()), 6)


def complexity_curve(mature_counts: pd.DataFrame, samples: Sequence[str]) -> pd.DataFrame:
    """Long table ``sample``, ``reads_sampled``, ``mirnas_detected`` (expected, 2 decimals)."""
    rows = []
    for sample in samples:
        counts = mature_counts[sample].to_numpy()
        depth = int(counts.sum())
        for sampled in [p for p in CURVE_POINTS if p < depth] + [depth]:
            rows.append((sample, sampled, round(expected_detected(counts, sampled), 2)))
    return pd.DataFrame(rows, columns=["sample", "reads_sampled", "mirnas_detected"])

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
    # imported here: exomir.qc is loaded at every Snakemake start, scipy.special costs ~0.1 s there
    from scipy.special import gammaln

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


def report_section(results_dir) -> dict | None:
    """Biomarker-report data of the miRTrace-style QC (partial ``mirtrace_qc.html.j2``), or None.

    ``rna_types``: per sample, the RNA-type fractions of the passing reads (percent, 1 decimal);
    ``complexity``: per sample, the expected number of distinct miRNAs at each subsample size of
    ``complexity.tsv`` (one column per size, the full depth last).
    """
    from pathlib import Path

    from exomir.report import Table  # report builds the context; imported here to keep qc light

    qc = Path(results_dir) / "qc"
    if not (qc / "rna_types.tsv").exists() or not (qc / "complexity.tsv").exists():
        return None
    types = pd.read_csv(qc / "rna_types.tsv", sep="\t", dtype={"sample": str})
    shares = types[["sample", "passing_reads"]].copy()
    for name in RNA_TYPES:
        shares[f"{name} %"] = (100 * types[f"{name}_fraction"].fillna(0)).round(1)
    curve = pd.read_csv(qc / "complexity.tsv", sep="\t", dtype={"sample": str})
    depth = curve.groupby("sample", sort=False)["reads_sampled"].transform("max")
    curve["column"] = [
        "full depth" if s == d else f"{s:,} reads" for s, d in zip(curve["reads_sampled"], depth)
    ]
    wide = curve.pivot_table(index="sample", columns="column", values="mirnas_detected", sort=False)
    columns = [c for c in dict.fromkeys(curve["column"]) if c != "full depth"] + ["full depth"]
    wide = wide.reindex(index=list(dict.fromkeys(curve["sample"])), columns=columns).reset_index()
    return {
        "rna_types": Table.from_frame("mirtrace-rna-types", shares),
        "complexity": Table.from_frame("mirtrace-complexity", wide),
    }

"""Hemolysis indicators per sample: miR-451a / miR-23a-3p ratio and the red-blood-cell miRNA share."""

from __future__ import annotations

import logging
import re
from typing import Sequence

import numpy as np
import pandas as pd

from exomir.errors import ExomirInputError

log = logging.getLogger("exomir.qc")


def qualified_mirna(name: str, species: str) -> str:
    """Prefix a species-free miRNA name (``miR-451a``) with the species code (``hsa-miR-451a``)."""
    return name if re.match(r"^[a-z]{3,4}-", name) else f"{species}-{name}"


def robust_upper_outliers(
    values: pd.Series, n_mads: float, min_deviation: float, min_samples: int
) -> tuple[pd.Series, float, float, float]:
    """Flag values above ``median + max(n_mads * MAD, min_deviation)``.

    MAD is the median absolute deviation scaled by 1.4826 (consistent with the standard
    deviation for normal data). ``min_deviation`` keeps a very homogeneous cohort (MAD ~ 0)
    from flagging trivial differences. With fewer than ``min_samples`` finite values no
    outlier call is made (all NA). Returns (flags, median, scaled MAD, threshold).
    """
    finite = values[np.isfinite(values)]
    if len(finite) < min_samples:
        return pd.Series(pd.NA, index=values.index, dtype="boolean"), np.nan, np.nan, np.nan
    median = float(finite.median())
    mad = float(1.4826 * (finite - median).abs().median())
    threshold = median + max(n_mads * mad, min_deviation)
    flags = (values > threshold).astype("boolean")
    flags[~np.isfinite(values)] = pd.NA
    return flags, median, mad, threshold


def _hemolysis_names(
    present: set[str], species: str, marker: str, reference: str, rbc_mirnas: Sequence[str]
) -> tuple[str, str, list[str]]:
    """Species-qualified marker, reference and RBC miRNAs; missing RBC miRNAs are skipped."""
    marker_name, reference_name = qualified_mirna(marker, species), qualified_mirna(reference, species)
    for role, name in (("marker", marker_name), ("reference", reference_name)):
        if name not in present:
            raise ExomirInputError(
                f"hemolysis {role} miRNA {name} is not in the mature miRNA counts",
                where="config qc.hemolysis",
                fix=f"set qc.hemolysis.{role} to a mature miRNA name of species {species}.",
            )
    rbc_names = [qualified_mirna(name, species) for name in rbc_mirnas]
    skipped = [name for name in rbc_names if name not in present]
    if skipped:
        log.warning("RBC miRNAs not in the mature counts, skipped: %s", ", ".join(skipped))
    return marker_name, reference_name, [name for name in dict.fromkeys(rbc_names) if name in present]


def _above(values: pd.Series, limit: float | None) -> pd.Series:
    """``values > limit`` as a nullable boolean; all NA when the rule is disabled (``None``)."""
    if limit is None:
        return pd.Series(pd.NA, index=values.index, dtype="boolean")
    return (values > limit).astype("boolean")


def hemolysis_table(
    mature_counts: pd.DataFrame,
    species: str,
    marker: str = "miR-451a",
    reference: str = "miR-23a-3p",
    rbc_mirnas: Sequence[str] = ("miR-451a", "miR-486-5p", "miR-16-5p", "miR-92a-3p"),
    pseudocount: float = 1.0,
    ratio_threshold: float | None = 128.0,
    rbc_share_max: float | None = None,
    outlier_mads: float = 3.0,
    outlier_min_log2_deviation: float = 1.0,
    min_cohort_size: int = 5,
    min_ratio_reads: int = 10,
) -> pd.DataFrame:
    """Hemolysis indicators per sample from mature miRNA counts.

    * ``ratio`` = (marker + pseudocount) / (reference + pseudocount), by default
      miR-451a / miR-23a-3p (Blondal et al. 2013: a qPCR delta Cq(miR-23a - miR-451a) > 7,
      i.e. a ratio above ~2^7 = 128, indicates a risk of hemolysis). Sequencing has its own
      ligation biases, so the absolute threshold is a guide; the cohort outlier rule on
      log2(ratio) (``ratio_outlier``) is the robust call.
    * ``rbc_share`` = reads of the red-blood-cell miRNAs (miR-451a, miR-486-5p, miR-16-5p,
      miR-92a-3p; Kirschner et al. 2011, Pritchard et al. 2012) / all mature miRNA reads;
      outliers are called on its log2 odds (``rbc_share_outlier``).

    The ratio needs at least ``min_ratio_reads`` reads of marker and reference together: below
    that it is not assessable (NA, no flag) and stays out of the cohort outlier statistics, so
    libraries with almost no miR-451a/miR-23a (a pseudocount ratio of 1) do not shift the cohort.

    RBC miRNAs absent from the species' miRBase are skipped with a log message; a missing
    marker or reference is an error (they define the ratio).
    """
    marker_name, reference_name, rbc_names = _hemolysis_names(
        set(mature_counts.index), species, marker, reference, rbc_mirnas
    )
    ratio = _ratio_columns(mature_counts, marker_name, reference_name, pseudocount, min_ratio_reads,
                           ratio_threshold, outlier_mads, outlier_min_log2_deviation, min_cohort_size)
    share = _rbc_share_columns(mature_counts, rbc_names, rbc_share_max, outlier_mads,
                               outlier_min_log2_deviation, min_cohort_size)
    table = pd.concat([ratio, share], axis=1)
    table.index.name = "sample"
    return table


def _ratio_columns(
    counts: pd.DataFrame, marker: str, reference: str, pseudocount: float, min_reads: int,
    threshold: float | None, n_mads: float, min_deviation: float, min_cohort: int,
) -> pd.DataFrame:
    """Marker / reference ratio columns of :func:`hemolysis_table` (NA below ``min_reads``)."""
    marker_reads, reference_reads = counts.loc[marker], counts.loc[reference]
    ratio = ((marker_reads + pseudocount) / (reference_reads + pseudocount)).where(
        marker_reads + reference_reads >= min_reads
    )
    log2_ratio = np.log2(ratio)
    outlier, median, mad, limit = robust_upper_outliers(log2_ratio, n_mads, min_deviation, min_cohort)
    return pd.DataFrame(
        {
            "marker": marker,
            "reference": reference,
            "marker_reads": marker_reads.astype("int64"),
            "reference_reads": reference_reads.astype("int64"),
            "ratio": ratio,
            "log2_ratio": log2_ratio,
            "ratio_above_threshold": _above(ratio, threshold),
            "cohort_median_log2_ratio": median,
            "cohort_mad_log2_ratio": mad,
            "outlier_limit_log2_ratio": limit,
            "ratio_outlier": outlier,
        }
    )


def _rbc_share_columns(
    counts: pd.DataFrame, rbc_names: list[str], share_max: float | None, n_mads: float,
    min_deviation: float, min_cohort: int,
) -> pd.DataFrame:
    """Red-blood-cell miRNA share columns of :func:`hemolysis_table` (outliers on the log2 odds)."""
    total = counts.sum(axis=0)
    rbc_reads = counts.loc[rbc_names].sum(axis=0) if rbc_names else total * 0
    share = rbc_reads / total.where(total > 0)
    # log2 odds with a half-read correction, so shares of 0 or 1 stay finite
    log2_odds = np.log2((rbc_reads + 0.5) / (total - rbc_reads + 0.5)).where(total > 0)
    outlier, median, _, limit = robust_upper_outliers(log2_odds, n_mads, min_deviation, min_cohort)
    return pd.DataFrame(
        {
            "rbc_mirnas": ";".join(rbc_names),
            "rbc_reads": rbc_reads.astype("int64"),
            "mature_mirna_reads": total.astype("int64"),
            "rbc_share": share,
            "rbc_share_log2_odds": log2_odds,
            "cohort_median_rbc_log2_odds": median,
            "outlier_limit_rbc_log2_odds": limit,
            "rbc_share_above_max": _above(share, share_max),
            "rbc_share_outlier": outlier,
        }
    )

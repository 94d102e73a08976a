"""Sample flags: pass / warn / fail per sample from the exRNA standards and hemolysis indicators.

The rules follow exceRpt / the ERCC exRNA Atlas: miRNA depth and diversity, adapter-dimer and
too-short fractions, and the hemolysis calls of :mod:`exomir.qc.hemolysis`. In genome mode the
exRNA ratio rule uses exceRpt's transcriptome/genome ratio (``low_transcriptome_genome_ratio``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping

import numpy as np
import pandas as pd

from exomir.errors import ExomirInputError


@dataclass(frozen=True)
class Thresholds:
    """Sample-flag thresholds; ``None`` disables a rule. See config/README.md."""

    annotated_reads_fail: float | None = 100_000
    annotated_fraction_fail: float | None = 0.5
    mature_mirna_reads_fail: float | None = 100_000
    mature_mirna_reads_warn: float | None = 500_000
    mirnas_detected_fail: float | None = 50
    mirnas_detected_warn: float | None = 150
    adapter_dimer_fraction_fail: float | None = 0.7
    adapter_dimer_fraction_warn: float | None = 0.3
    too_short_fraction_fail: float | None = 0.6
    too_short_fraction_warn: float | None = 0.3
    hemolysis_severity: str = "warn"

    @classmethod
    def from_config(cls, values: Mapping[str, object]) -> "Thresholds":
        """Build from the ``qc.thresholds`` mapping (unknown keys are an error)."""
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(values) - known)
        if unknown:
            raise ExomirInputError(
                f"unknown threshold(s) {', '.join(unknown)}",
                where="config qc.thresholds",
                fix=f"use only: {', '.join(sorted(known))}.",
            )
        thresholds = cls(**values)  # type: ignore[arg-type]
        if thresholds.hemolysis_severity not in ("warn", "fail"):
            raise ExomirInputError(
                f"severity must be 'warn' or 'fail', got {thresholds.hemolysis_severity!r}",
                where="config qc.hemolysis",
                fix="set qc.hemolysis.severity to warn or fail.",
            )
        return thresholds


def _is_true(value: object) -> bool:
    """True for a boolean-like True; False for False and NA."""
    return not pd.isna(value) and bool(value)


def _fmt(value: float | None) -> str:
    if value is None or pd.isna(value):
        return "NA"
    if isinstance(value, (int, np.integer)) or float(value).is_integer():
        return str(int(value))
    return f"{value:.3g}"


#: (rule name, metric column, operator meaning "bad", fail threshold field, warn threshold field)
_NUMERIC_RULES = (
    ("low_annotated_reads", "annotated_reads", "<", "annotated_reads_fail", None),
    ("low_annotated_fraction", "annotated_fraction", "<=", "annotated_fraction_fail", None),
    ("low_mature_mirna_reads", "mature_mirna_reads", "<", "mature_mirna_reads_fail", "mature_mirna_reads_warn"),
    ("few_mirnas_detected", "mirnas_detected", "<", "mirnas_detected_fail", "mirnas_detected_warn"),
    ("high_adapter_dimers", "adapter_dimer_fraction", ">", "adapter_dimer_fraction_fail", "adapter_dimer_fraction_warn"),
    ("high_too_short", "too_short_fraction", ">", "too_short_fraction_fail", "too_short_fraction_warn"),
)


#: Genome mode (issue 22): exceRpt's own ratio (annotated / genome-mapped reads) replaces the
#: annotated / passing-reads proxy, with the same threshold (the exRNA standard, 0.5).
_GENOME_RATIO_RULE = (
    "low_transcriptome_genome_ratio", "transcriptome_genome_ratio", "<=", "annotated_fraction_fail", None
)


def _rules_for(row: pd.Series) -> tuple:
    """The numeric rules of a sample: the genome-mode ratio rule when its metric exists."""
    if "transcriptome_genome_ratio" not in row.index:
        return _NUMERIC_RULES
    return tuple(_GENOME_RATIO_RULE if rule[0] == "low_annotated_fraction" else rule for rule in _NUMERIC_RULES)


def _bad(value: float, op: str, limit: float) -> bool:
    """Whether ``value`` breaks the rule ``op limit``."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return op in ("<", "<=")  # no data at all counts as too little
    return {"<": value < limit, "<=": value <= limit, ">": value > limit}[op]


def _numeric_reasons(row: pd.Series, thresholds: Thresholds) -> list[tuple[str, str]]:
    """(severity, reason) of every numeric rule the sample breaks (fail before warn)."""
    reasons: list[tuple[str, str]] = []
    for rule, column, op, fail_field, warn_field in _rules_for(row):
        fail = getattr(thresholds, fail_field)
        warn = getattr(thresholds, warn_field) if warn_field else None
        value = row[column]
        for severity, limit in (("fail", fail), ("warn", warn)):
            if limit is not None and _bad(value, op, limit):
                shown = "NA" if pd.isna(value) else _fmt(value)
                reasons.append((severity, f"{rule} ({severity}: {shown} {op} {_fmt(limit)})"))
                break
    return reasons


def _hemolysis_reasons(
    hemo: pd.Series, severity: str, ratio_threshold: float | None, rbc_share_max: float | None
) -> list[tuple[str, str]]:
    """(severity, reason) of every hemolysis indicator raised for the sample."""
    reasons: list[tuple[str, str]] = []
    if _is_true(hemo["ratio_above_threshold"]):
        reasons.append(
            (
                severity,
                f"hemolysis_ratio ({severity}: {hemo['marker']}/{hemo['reference']} "
                f"{_fmt(hemo['ratio'])} > {_fmt(ratio_threshold)})",
            )
        )
    if _is_true(hemo["ratio_outlier"]):
        reasons.append(
            (
                severity,
                f"hemolysis_outlier ({severity}: log2 ratio {_fmt(hemo['log2_ratio'])} > cohort limit "
                f"{_fmt(hemo['outlier_limit_log2_ratio'])})",
            )
        )
    if _is_true(hemo["rbc_share_above_max"]):
        reasons.append((severity, f"rbc_share ({severity}: {_fmt(hemo['rbc_share'])} > {_fmt(rbc_share_max)})"))
    if _is_true(hemo["rbc_share_outlier"]):
        reasons.append(
            (
                severity,
                f"rbc_share_outlier ({severity}: log2 odds {_fmt(hemo['rbc_share_log2_odds'])} > cohort "
                f"limit {_fmt(hemo['outlier_limit_rbc_log2_odds'])})",
            )
        )
    return reasons


def sample_flags(
    metrics: pd.DataFrame,
    hemolysis: pd.DataFrame,
    mirnas_detected: pd.Series,
    thresholds: Thresholds,
    exclude_failed_from_de: bool = True,
    hemolysis_ratio_threshold: float | None = None,
    rbc_share_max: float | None = None,
) -> pd.DataFrame:
    """pass / warn / fail per sample with ``;``-joined reasons and the metrics behind them.

    A reason reads ``<rule> (<severity>: <value> <op> <threshold>)``. ``status`` is the worst
    severity. ``use_in_de`` is False for failing samples when ``exclude_failed_from_de``.
    """
    table = metrics.copy()
    table["mirnas_detected"] = mirnas_detected.reindex(table.index).astype("int64")
    table["hemolysis_ratio"] = hemolysis["ratio"].reindex(table.index)
    table["hemolysis_ratio_outlier"] = hemolysis["ratio_outlier"].reindex(table.index)
    table["rbc_share"] = hemolysis["rbc_share"].reindex(table.index)
    table["rbc_share_outlier"] = hemolysis["rbc_share_outlier"].reindex(table.index)

    statuses, reasons_all = [], []
    for sample, row in table.iterrows():
        reasons = _numeric_reasons(row, thresholds) + _hemolysis_reasons(
            hemolysis.loc[sample], thresholds.hemolysis_severity, hemolysis_ratio_threshold, rbc_share_max
        )
        severities = {s for s, _ in reasons}
        statuses.append("fail" if "fail" in severities else "warn" if "warn" in severities else "pass")
        reasons_all.append(";".join(text for _, text in reasons))

    table.insert(0, "status", statuses)
    table.insert(1, "reasons", reasons_all)
    table.insert(2, "use_in_de", [not (exclude_failed_from_de and s == "fail") for s in statuses])
    table.index.name = "sample"
    return table.reset_index()

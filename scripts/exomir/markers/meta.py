"""Cross-cohort random-effects meta-analysis of the catalogue miRNAs (rules ``meta_cohort``, ``meta_analysis``).

Each cohort is a count matrix with a sample sheet (tested here with exomir's DESeq2 Wald test,
``~ factor``) or an exomir ``diffexp/{contrast}/results.tsv``. Per catalogue mature miRNA the
cohorts' log2 fold changes (oriented cancer over control) are pooled with the inverse-variance
random-effects model of statsmodels (``combine_effects``: DerSimonian-Laird or Paule-Mandel
between-cohort variance), with the 95% CI, Cochran's Q, I^2, tau^2, and the direction compared
with the literature catalogue.
"""

from __future__ import annotations

import logging
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from exomir.errors import ExomirInputError
from exomir.io import read_tsv, write_tsv
from exomir.markers.concordance import contrast_orientation
from exomir.markers.names import _natural_key

log = logging.getLogger("exomir.markers")

#: statsmodels ``method_re`` of each configured method.
METHODS = {"dl": "chi2", "pm": "iterated"}
META_COLUMNS = ["mature", "mirna", "literature_direction", "n_cohorts", "pooled_log2FoldChange", "se", "ci_low",
                "ci_high", "pvalue", "padj", "tau2", "I2", "Q", "Q_pvalue", "cohort_signs", "direction_agreement",
                "method"]


def cohort_de(counts_tsv: str, samples_tsv: str, cohort: Mapping[str, str], alpha: float) -> pd.DataFrame:
    """DESeq2 Wald test (``~ factor``) of one cohort: level over reference, every miRNA of the matrix."""
    from exomir.diffexp import Contrast, DiffexpSettings, contrast_results, read_counts, read_sample_sheet, select_samples

    factor = cohort["factor"]
    contrast = Contrast(cohort["name"], factor, cohort["level"], cohort["reference"])
    settings = DiffexpSettings(design=f"~ {factor}", contrasts=(contrast,), alpha=alpha, shrink=False)
    counts = read_counts(counts_tsv)
    sheet = read_sample_sheet(samples_tsv)
    if factor not in sheet.columns:
        raise ExomirInputError(f"column {factor!r} missing", where=str(samples_tsv),
                               fix="set meta_analysis.cohorts[].factor to a sample-sheet column")
    sheet = sheet[sheet[factor].isin([contrast.level, contrast.reference])]
    if sheet[factor].nunique() < 2:
        raise ExomirInputError(f"cohort {cohort['name']}: needs samples of {contrast.level!r} and "
                               f"{contrast.reference!r}", where=str(samples_tsv), fix="check level and reference")
    samples = select_samples(sheet, counts.columns, None, False, settings.design)
    table = contrast_results(counts[list(sheet.index)], samples, settings, contrast)
    table.insert(0, "cohort", cohort["name"])
    return table


def oriented_effects(results: pd.DataFrame, cohort: Mapping[str, str], case_levels: Sequence[str]) -> pd.DataFrame:
    """mirna, log2FoldChange and lfcSE of one cohort, signed so positive means higher in cancer."""
    for column in ("mirna", "log2FoldChange", "lfcSE"):
        if column not in results.columns:
            raise ExomirInputError(f"column {column!r} missing", where=f"cohort {cohort['name']}",
                                   fix="give a DESeq2 results table (exomir diffexp/{contrast}/results.tsv)")
    sign = contrast_orientation(cohort["level"], cohort["reference"], case_levels)
    if sign == 0:
        raise ExomirInputError(
            f"cohort {cohort['name']}: neither {cohort['level']!r} nor {cohort['reference']!r} is a cancer level",
            where="config meta_analysis.cohorts", fix="add the cancer level to markers.case_levels",
        )
    out = results[["mirna", "log2FoldChange", "lfcSE"]].copy()
    out["log2FoldChange"] = sign * out["log2FoldChange"].astype(float)
    # a cohort contributes a miRNA only when its test counted (R results(): adjusted p-value not NA,
    # i.e. neither removed by independent filtering nor a Cook's outlier)
    tested_by = "padj" if "padj" in results.columns else "pvalue" if "pvalue" in results.columns else None
    if tested_by is not None:
        out.loc[~np.isfinite(results[tested_by].astype(float)), ["log2FoldChange", "lfcSE"]] = np.nan
    out.insert(0, "cohort", cohort["name"])
    return out


def pool(lfc: np.ndarray, se: np.ndarray, method: str) -> dict[str, float]:
    """Random-effects pooled estimate (95% CI, z test) with Q, I^2 and tau^2 (statsmodels).

    statsmodels' DerSimonian-Laird tau^2 is the raw moment estimate, which can be negative;
    as in the published estimator (and R metafor) it is truncated at 0, where the
    random-effects estimate equals the fixed-effect one. I^2 is truncated at 0 likewise.
    """
    from scipy.stats import chi2, norm
    from statsmodels.stats.meta_analysis import combine_effects

    with np.errstate(invalid="ignore"):  # negative raw tau^2: handled below
        res = combine_effects(lfc, se**2, method_re=METHODS[method])
    tau2 = float(res.tau2)
    if tau2 <= 0:
        estimate, sd, tau2 = float(res.mean_effect_fe), float(res.sd_eff_w_fe), 0.0
    else:
        estimate, sd = float(res.mean_effect_re), float(res.sd_eff_w_re)
    q, df = float(res.q), len(lfc) - 1
    z = norm.ppf(0.975)
    return {"pooled_log2FoldChange": estimate, "se": sd, "ci_low": estimate - z * sd, "ci_high": estimate + z * sd,
            "pvalue": float(2 * norm.sf(abs(estimate / sd))) if sd > 0 else float("nan"),
            "tau2": tau2, "I2": max(0.0, (q - df) / q) if q > 0 else 0.0, "Q": q, "Q_pvalue": float(chi2.sf(q, df))}


def literature_directions(resolved: pd.DataFrame) -> dict[str, tuple[str, str]]:
    """Mature name -> (catalogue names, up / down / conflicting / not stated) over all entries."""
    found: dict[str, tuple[list[str], set[str]]] = {}
    for entry in resolved.to_dict(orient="records"):
        for mature in (n for n in str(entry.get("mirbase_names", "")).split(";") if n):
            names, directions = found.setdefault(mature, ([], set()))
            if entry["mirna"] not in names:
                names.append(entry["mirna"])
            if entry.get("direction") in ("up", "down"):
                directions.add(entry["direction"])
    return {m: (";".join(n), "conflicting" if len(d) > 1 else (d.pop() if d else "not stated"))
            for m, (n, d) in found.items()}


def agreement(direction: str, estimate: float, lo: float, hi: float) -> str:
    """Pooled direction against the literature: agrees / contradicts (CI excludes 0) or inconclusive."""
    if direction not in ("up", "down") or np.isnan(estimate):
        return "no direction in the literature" if direction != "conflicting" else "literature conflicting"
    expected = 1 if direction == "up" else -1
    if lo > 0 or hi < 0:
        return "agrees" if np.sign(estimate) == expected else "contradicts"
    return "inconclusive (CI includes 0), same sign" if np.sign(estimate) == expected else \
        "inconclusive (CI includes 0), opposite sign"


def _marker_row(mature: str, names: str, direction: str, hits: pd.DataFrame, method: str) -> dict[str, Any]:
    """One meta-analysis row; a miRNA tested in fewer than two cohorts is listed, not pooled."""
    signs = "".join("+" if x > 0 else "-" if x < 0 else "0" for x in hits["log2FoldChange"])
    row: dict[str, Any] = {"mature": mature, "mirna": names, "literature_direction": direction,
                           "n_cohorts": len(hits), "cohort_signs": signs, "method": method}
    if len(hits) < 2:
        return {**row, "direction_agreement": f"not pooled: tested in {len(hits)} cohort(s)"}
    pooled = pool(hits["log2FoldChange"].to_numpy(float), hits["lfcSE"].to_numpy(float), method)
    agree = agreement(direction, pooled["pooled_log2FoldChange"], pooled["ci_low"], pooled["ci_high"])
    return {**row, **pooled, "direction_agreement": agree}


def meta_table(effects: pd.DataFrame, resolved: pd.DataFrame, method: str) -> pd.DataFrame:
    """One row per catalogue mature miRNA of the cohorts' tables, in natural name order.

    Pooled when tested in >= 2 cohorts; padj is Benjamini-Hochberg over the pooled rows.
    """
    from exomir.diffexp.rstats import bh

    literature = literature_directions(resolved)
    tested = effects[np.isfinite(effects["log2FoldChange"]) & np.isfinite(effects["lfcSE"]) & (effects["lfcSE"] > 0)]
    present = set(effects["mirna"])
    rows = [_marker_row(m, names, d, tested[tested["mirna"] == m], method)
            for m, (names, d) in literature.items() if m in present]
    out = pd.DataFrame(rows, columns=META_COLUMNS)
    pooled = out["pvalue"].notna()
    out.loc[pooled, "padj"] = bh(out.loc[pooled, "pvalue"].to_numpy(float)) if pooled.any() else []
    order = pd.DataFrame({"unpooled": out["n_cohorts"] < 2, "name": _natural_key(out["mature"])})
    return out.loc[order.sort_values(["unpooled", "name"], kind="mergesort").index].reset_index(drop=True)


def run_meta_analysis(
    cohort_tables: Sequence[str], cohorts: Sequence[Mapping[str, Any]], resolved_tsv: str,
    case_levels: Sequence[str], method: str, out: Mapping[str, str],
) -> pd.DataFrame:
    """Rule ``meta_analysis``: ``meta_analysis.tsv``, ``cohort_effects.tsv`` and ``forest.svg``."""
    from exomir.markers.plotting import plot_forest

    if method not in METHODS:
        raise ExomirInputError(f"unknown method {method!r}", where="config meta_analysis.method",
                               fix=f"use one of {sorted(METHODS)}")
    resolved = pd.read_csv(resolved_tsv, sep="\t", dtype=str, keep_default_na=False)
    effects = pd.concat([oriented_effects(read_tsv(path, dtype={"mirna": str}), cohort, case_levels)
                         for path, cohort in zip(cohort_tables, cohorts)], ignore_index=True)
    table = meta_table(effects, resolved, method)
    catalogue = effects[effects["mirna"].isin(set(table["mature"]))].rename(columns={"mirna": "mature"})
    write_tsv(table, out["table"])
    write_tsv(catalogue, out["cohort_effects"])
    plot_forest(table[table["n_cohorts"] >= 2], catalogue, out["forest_svg"])
    log.info("meta-analysis of %d cohorts (%s): %d catalogue miRNAs pooled; agreement %s", len(cohorts), method,
             len(table), table["direction_agreement"].value_counts().to_dict())
    return table

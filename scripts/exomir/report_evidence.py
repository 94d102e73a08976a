"""Biomarker-evidence sections of the standalone report (issue 20.3).

Cohort overview (PCA, sample distances), per-marker strip plots of normalised counts by group,
the locked-panel validation, the cross-cohort meta-analysis and the findings summary shown first.
Each function reads the pipeline's tables only and returns plain data for the template and
the JSON block (plots are drawn by ``report.js``; the forest plot is the meta stage's SVG, inlined
as an image so it cannot run script).
"""

from __future__ import annotations

import base64
import math
from pathlib import Path
from typing import Any, Mapping, Sequence

import pandas as pd

from exomir.io import read_tsv

#: Top differentially expressed miRNAs (smallest padj) shown as strip plots besides the catalogue markers.
STRIP_TOP_DE = 6
#: At most this many catalogue markers get a strip plot per contrast (most significant first).
STRIP_MAX_CATALOGUE = 12


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) or math.isinf(number) else float(f"{number:.6g}")


def cohort_overview(results: Path) -> dict[str, Any] | None:
    """PCA scores and sample distances of ``diffexp/`` (None when the DE stage did not run)."""
    pca_path, dist_path = results / "diffexp" / "pca.tsv", results / "diffexp" / "sample_distances.tsv"
    if not (pca_path.exists() and dist_path.exists()):
        return None
    pca = read_tsv(pca_path, dtype={"sample": str})
    variance_path = results / "diffexp" / "pca_variance.tsv"
    variance = read_tsv(variance_path) if variance_path.exists() else pd.DataFrame()
    percent = dict(zip(variance.get("component", []), variance.get("percent_variance", [])))
    colour_by = "condition" if "condition" in pca.columns else None
    points = [{"s": str(r["sample"]), "x": _number(r.get("PC1")), "y": _number(r.get("PC2")),
               "g": str(r[colour_by]) if colour_by else "", "b": str(r.get("batch", ""))}
              for r in pca.to_dict(orient="records")]
    dist = read_tsv(dist_path, dtype={"sample": str}).set_index("sample")
    groups = {p["s"]: p["g"] for p in points}
    return {
        "pca": {"points": points, "pc1": _number(percent.get("PC1")), "pc2": _number(percent.get("PC2"))},
        "distances": {"samples": [str(s) for s in dist.index], "groups": [groups.get(str(s), "") for s in dist.index],
                      "values": [[_number(v) for v in row] for row in dist.to_numpy()]},
    }


def strip_mirnas(res: pd.DataFrame, catalogue: pd.DataFrame | None, alpha: float) -> list[tuple[str, str]]:
    """(miRNA, why shown): detected catalogue markers by padj, then the top DE miRNAs not yet listed."""
    chosen: dict[str, str] = {}
    ranked = res.sort_values(["padj", "pvalue"], na_position="last", kind="mergesort")
    if catalogue is not None and {"mature", "detected"} <= set(catalogue.columns):
        detected = set(catalogue.loc[catalogue["detected"].astype(str) == "yes", "mature"].astype(str))
        for m in ranked["mirna"]:
            if m in detected and len(chosen) < STRIP_MAX_CATALOGUE:
                chosen[m] = "catalogue marker"
    top = ranked[ranked["padj"] < alpha]["mirna"].head(STRIP_TOP_DE + len(chosen))
    for m in top:
        if m not in chosen and sum(v == "top DE" for v in chosen.values()) < STRIP_TOP_DE:
            chosen[m] = "top DE"
    return list(chosen.items())


def marker_strips(
    results: Path, res: pd.DataFrame, catalogue: pd.DataFrame | None, level: str, reference: str, alpha: float
) -> list[dict[str, Any]]:
    """Normalised counts of the strip-plot miRNAs per sample of the contrast's two groups."""
    norm_path, samples_path = results / "diffexp" / "normalized_counts.tsv", results / "diffexp" / "samples.tsv"
    if not (norm_path.exists() and samples_path.exists()):
        return []
    norm = read_tsv(norm_path, dtype={"mirna": str}).set_index("mirna")
    samples = pd.read_csv(samples_path, sep="\t", dtype=str, keep_default_na=False)
    if "used" in samples.columns:
        samples = samples[samples["used"] == "yes"]
    factor_values = samples.set_index("sample").get("condition", pd.Series(dtype=str))
    by = res.set_index("mirna")
    strips = []
    for mirna, why in strip_mirnas(res, catalogue, alpha):
        if mirna not in norm.index:
            continue
        groups = []
        for group in (level, reference):
            members = [s for s in factor_values.index[factor_values == group] if s in norm.columns]
            groups.append({"name": group, "values": [[s, _number(norm.at[mirna, s])] for s in members]})
        strips.append({"mirna": mirna, "why": why, "lfc": _number(by.at[mirna, "log2FoldChange"]),
                       "padj": _number(by.at[mirna, "padj"]), "groups": groups})
    return strips


def _optional(path: Path) -> pd.DataFrame | None:
    if not path.exists():
        return None
    table = read_tsv(path)
    return None if table.empty else table


def validation_view(results: Path) -> dict[str, Any] | None:
    """Locked-panel validation metrics, ROC points and calibration (``validation/``)."""
    folder = results / "validation"
    metrics = _optional(folder / "metrics.tsv")
    if metrics is None:
        return None
    m = metrics.iloc[0].to_dict()
    roc = _optional(folder / "roc.tsv")
    calibration = _optional(folder / "calibration.tsv")
    return {
        "metrics": m,
        "roc": [[_number(f), _number(t)] for f, t in zip(roc["fpr"], roc["tpr"])] if roc is not None else [],
        "calibration": calibration,
    }


def svg_data_uri(path: Path) -> str:
    """A pipeline SVG as a data URI for an <img> (offline, and an image cannot run script); "" if absent."""
    if not path.exists():
        return ""
    return "data:image/svg+xml;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def meta_view(results: Path) -> dict[str, Any] | None:
    """Meta-analysis table, agreement counts and the forest plot (``meta/``)."""
    table = _optional(results / "meta" / "meta_analysis.tsv")
    if table is None:
        return None
    effects = _optional(results / "meta" / "cohort_effects.tsv")
    cohorts = sorted(set(effects["cohort"])) if effects is not None else []
    pooled = table[table["n_cohorts"] >= 2]
    return {
        "table": table,
        "cohorts": cohorts,
        "agreement": pooled["direction_agreement"].value_counts().to_dict(),
        "agrees": [str(m) for m in pooled.loc[pooled["direction_agreement"] == "agrees", "mature"]],
        "contradicts": [str(m) for m in pooled.loc[pooled["direction_agreement"] == "contradicts", "mature"]],
        "forest": svg_data_uri(results / "meta" / "forest.svg"),
    }


def _contrast_finding(c: Mapping[str, Any]) -> str:
    conc = c.get("concordance") or {}
    text = (f"{c['name']} ({c['level']} vs {c['reference']}): {c['n_sig']} of {c['n_tested']} tested miRNAs "
            f"differ (adjusted p below the threshold; {c['n_up']} up, {c['n_down']} down)")
    if conc:
        text += (f"; catalogue markers: {conc.get('concordant', 0)} in the literature's direction, "
                 f"{conc.get('discordant', 0)} against it")
    if c.get("replicated"):
        text += f"; significant and concordant: {', '.join(c['replicated'])}"
    if c.get("contradicted"):
        text += f"; significant against the literature: {', '.join(c['contradicted'])}"
    return text + "."


def findings(context: Mapping[str, Any]) -> list[str]:
    """The summary sentences shown first: cohort, QC, DE per contrast, markers, validation, meta-analysis."""
    cohort, qc = context["cohort"], context["qc"]
    lines = [f"Cohort: {cohort['n_samples']} samples ("
             + ", ".join(f"{name} {n}" for name, n in cohort["conditions"]) + ")"
             + (f", {cohort['n_used']} used in differential expression." if cohort["n_used"] is not None else ".")]
    if qc.get("status_counts"):
        s = qc["status_counts"]
        lines.append(f"Sample QC: {s['pass']} pass, {s['warn']} warn, {s['fail']} fail.")
    lines += [_contrast_finding(c) for c in context["contrasts"]] or [f"No differential expression: {context['no_de_reason']}."]
    validation = context.get("validation")
    if validation:
        m = validation["metrics"]
        lines.append(f"Independent validation of the locked panel ({m['markers']}): AUC {m['auc']:.2f} "
                     f"(95% CI {m['auc_ci_low']:.2f}-{m['auc_ci_high']:.2f}), sensitivity {m['sensitivity']:.2f}, "
                     f"specificity {m['specificity']:.2f} at the locked threshold, {m['n_level']} vs {m['n_reference']} samples.")
    meta = context.get("meta")
    if meta:
        lines.append(f"Meta-analysis of {len(meta['cohorts'])} cohorts: pooled direction agrees with the literature for "
                     f"{', '.join(meta['agrees']) or 'no marker'}; contradicts it for {', '.join(meta['contradicts']) or 'no marker'}.")
    return lines


def significant_by_concordance(annotation: pd.DataFrame | None, category: str) -> list[str]:
    """Mature names of significant catalogue rows in one concordance category (replicate / contradict)."""
    if annotation is None or not {"significant", "concordance", "mature"} <= set(annotation.columns):
        return []
    hits = annotation[(annotation["significant"].astype(str) == "yes") & (annotation["concordance"] == category)]
    return list(dict.fromkeys(str(m) for m in hits["mature"]))


def reader_auc_table(auc: pd.DataFrame, level: str, reference: str) -> pd.DataFrame:
    """``auc.tsv`` for a reader: the AUC with the higher group as positive first (as the ROC legend),
    its CI and the group written out; the level-as-positive AUC kept for reference."""
    out = pd.DataFrame({"mature": auc["mature"].astype(str)})
    if "roles" in auc.columns:
        out["roles"] = auc["roles"].astype(str).str.replace(";", "; ", regex=False)
    out["AUC"] = auc["auc_best_direction"]
    out["AUC 95% CI"] = [f"{lo:.2f}-{hi:.2f}" for lo, hi in zip(auc["auc_best_ci_low"], auc["auc_best_ci_high"])]
    out["higher in"] = [level if h == "level" else reference for h in auc["higher_in"]]
    out[f"AUC, {level} as positive"] = auc["auc"]
    for col in ("n_level", "n_reference"):
        if col in auc.columns:
            out[col.replace("level", level).replace("n_reference", f"n_{reference}")] = auc[col]
    return out


def roc_legend(auc: pd.DataFrame, level: str, reference: str, fmt) -> dict[str, str]:
    """Legend text per curve, built from the same numbers as :func:`reader_auc_table`."""
    return {str(m): f"{m}: AUC {fmt(best)}, higher in {level if h == 'level' else reference}"
            for m, best, h in zip(auc["mature"], auc["auc_best_direction"], auc["higher_in"])}


def strip_ids(strips: Sequence[Mapping[str, Any]]) -> list[str]:
    """The miRNAs that got a strip plot (for the template's anchors)."""
    return [s["mirna"] for s in strips]

"""Rule ``markers_contrast``: annotation, dot plot, single-marker AUCs and the panel of one contrast."""

from __future__ import annotations

import logging
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from exomir.errors import ExomirInputError
from exomir.io import read_tsv, write_tsv
# The import block and column constants look like other modules' (qc.composition): different names.
from exomir.markers.concordance import (
    EXPLORATORY,
    add_artefact_columns,
    annotate_contrast,
    read_other_class,
)
from exomir.markers.concordance import contrast_samples, find_contrast
from exomir.markers.diagnostics import PanelResult, nested_cv_panel, roc_curve_points, single_marker_auc
from exomir.markers.names import _natural_key
from exomir.markers.plotting import dotplot_table, plot_dotplot, plot_roc

log = logging.getLogger("exomir.markers")

#: Columns of ``panel.tsv``.
PANEL_COLUMNS = ["contrast", "mature", "roles", "selection_frequency", "mean_standardized_coefficient", "analysis"]
PANEL_CURVE = "panel (nested CV)"
#: Columns of ``panel_scores.tsv`` (out-of-fold probability per discovery sample).
SCORE_COLUMNS = ["sample", "group", "label", "oof_probability"]


def read_contrast_inputs(
    resolved_tsv: str, results_tsv: str, counts_tsv: str, vst_tsv: str
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The resolved catalogue, the DE results (checked for the needed columns), counts and VST."""
    resolved = pd.read_csv(resolved_tsv, sep="\t", dtype=str, keep_default_na=False)
    results = read_tsv(results_tsv)
    for col in ("mirna", "log2FoldChange", "padj"):
        if col not in results.columns:
            raise ExomirInputError(
                f"column '{col}' missing", where=results_tsv, fix="re-run the diffexp stage"
            )
    return resolved, results, read_tsv(counts_tsv, index_col=0), read_tsv(vst_tsv, index_col=0)


def candidate_features(dots: pd.DataFrame, vst: pd.DataFrame) -> list[str]:
    """Detected catalogue miRNAs present in the VST matrix, in natural name order."""
    features = [m for m in dots["mature"] if m in vst.index]
    return sorted(features, key=lambda m: _natural_key(pd.Series([m]))[0])


def auc_table(
    vst: pd.DataFrame,
    features: Sequence[str],
    level: Sequence[str],
    reference: Sequence[str],
    contrast: Mapping[str, str],
    roles: Mapping[str, str],
    n_boot: int,
    seed: int,
) -> pd.DataFrame:
    """``auc.tsv``: single-marker AUCs with the contrast, roles and bootstrap description."""
    auc = single_marker_auc(vst, features, level, reference, n_boot, seed)
    auc.insert(1, "roles", [roles.get(m, "") for m in auc["mature"]])
    auc.insert(0, "contrast", contrast["name"])
    auc["level"], auc["reference"] = contrast["level"], contrast["reference"]
    auc["bootstrap"] = f"{n_boot} stratified resamples, seed {seed}, percentile 95% CI"
    auc["analysis"] = EXPLORATORY
    return auc


def marker_roc_curves(
    auc: pd.DataFrame,
    vst: pd.DataFrame,
    level: Sequence[str],
    reference: Sequence[str],
    roc_top: int,
    contrast: Mapping[str, str],
) -> tuple[list[pd.DataFrame], dict[str, str]]:
    """ROC points and legend labels of the ``roc_top`` best single markers.

    Each curve is oriented as the table's ``higher_in`` says, and the label states that group,
    so the legend's AUC is the table's ``auc_best_direction`` with its direction.
    """
    parts: list[pd.DataFrame] = []
    labels: dict[str, str] = {}
    for _, row in auc.head(roc_top).iterrows():
        sign = 1.0 if row["higher_in"] == "level" else -1.0
        pts = roc_curve_points(
            sign * vst.loc[row["mature"], list(level)].to_numpy(float),
            sign * vst.loc[row["mature"], list(reference)].to_numpy(float),
        )
        pts.insert(0, "curve", row["mature"])
        parts.append(pts)
        group = contrast["level"] if row["higher_in"] == "level" else contrast["reference"]
        labels[row["mature"]] = (
            f"{row['mature']} (AUC {row['auc_best_direction']:.2f}, higher in {group}; direction chosen on data)"
        )
    return parts, labels


def panel_summary_base(
    contrast: Mapping[str, str],
    n_level: int,
    n_reference: int,
    n_features: int,
    panel_max_features: int,
    n_splits: int,
    cv_repeats: int,
    seed: int,
) -> dict:
    """The ``panel_summary.tsv`` row before the panel is fitted (CV AUCs NaN, status empty)."""
    return {
        "contrast": contrast["name"],
        "level": contrast["level"],
        "reference": contrast["reference"],
        "n_level": n_level,
        "n_reference": n_reference,
        "n_candidate_features": n_features,
        "max_features": min(panel_max_features, n_features),
        "cv_folds": n_splits,
        "cv_repeats": cv_repeats,
        "seed": seed,
        "method": "L2 logistic regression; per outer fold: ANOVA-F selection, standardisation and C chosen "
        "by inner stratified CV on the training fold only (nested)",
        "cv_auc_mean": float("nan"),
        "cv_auc_sd": float("nan"),
        "cv_auc_min": float("nan"),
        "cv_auc_max": float("nan"),
        "status": "",
        "analysis": EXPLORATORY,
    }


def panel_tables(
    panel: PanelResult, features: Sequence[str], contrast: Mapping[str, str], roles: Mapping[str, str]
) -> tuple[dict, pd.DataFrame, pd.DataFrame]:
    """Summary updates, ``panel.tsv`` rows (by selection frequency) and out-of-fold ROC of a panel."""
    arr = np.array(panel.auc_per_repeat)
    update = {
        "cv_auc_mean": float(arr.mean()),
        "cv_auc_sd": float(arr.std(ddof=1)) if len(arr) > 1 else 0.0,
        "cv_auc_min": float(arr.min()),
        "cv_auc_max": float(arr.max()),
        "status": "computed",
    }
    rows = [
        {
            "contrast": contrast["name"],
            "mature": f,
            "roles": roles.get(f, ""),
            "selection_frequency": panel.selection_frequency[f],
            "mean_standardized_coefficient": panel.mean_coefficient[f],
            "analysis": EXPLORATORY,
        }
        for f in features
    ]
    panel_df = pd.DataFrame(rows, columns=PANEL_COLUMNS).sort_values(
        ["selection_frequency", "mature"], ascending=[False, True], kind="mergesort"
    )
    y = panel.labels
    pts = roc_curve_points(panel.oof_score[y == 1], panel.oof_score[y == 0])
    pts.insert(0, "curve", PANEL_CURVE)
    return update, panel_df, pts


# Its first six parameters are auc_table's (the same contrast data); the steps differ, and a
# bundle object for them would only move the list into one more class.
def panel_step(
    vst: pd.DataFrame,
    features: Sequence[str],
    level: Sequence[str],
    reference: Sequence[str],
    contrast: Mapping[str, str],
    roles: Mapping[str, str],
    panel_max_features: int,
    cv_folds: int,
    cv_repeats: int,
    seed: int,
) -> tuple[dict, pd.DataFrame, pd.DataFrame | None, pd.DataFrame]:
    """Panel summary row, ``panel.tsv``, out-of-fold ROC (None when not computed) and OOF scores."""
    min_group = min(len(level), len(reference))
    n_splits = min(cv_folds, min_group)
    summary = panel_summary_base(
        contrast, len(level), len(reference), len(features), panel_max_features, n_splits, cv_repeats, seed
    )
    if len(features) < 1 or n_splits < 2 or min_group < 3:
        summary["status"] = (
            f"not computed: needs >= 1 detected catalogue miRNA and >= 3 samples per group "
            f"(have {len(features)} miRNAs, {len(level)}/{len(reference)} samples)"
        )
        return summary, pd.DataFrame(columns=PANEL_COLUMNS), None, pd.DataFrame(columns=SCORE_COLUMNS)
    X = vst.loc[list(features), list(level) + list(reference)].to_numpy(float).T
    y = np.array([1] * len(level) + [0] * len(reference))
    panel = nested_cv_panel(X, y, features, panel_max_features, n_splits, cv_repeats, seed)
    update, panel_df, pts = panel_tables(panel, features, contrast, roles)
    summary.update(update)
    scores = pd.DataFrame(
        {
            "sample": list(level) + list(reference),
            "group": [contrast["level"]] * len(level) + [contrast["reference"]] * len(reference),
            "label": y,
            "oof_probability": panel.oof_score,
        }
    )
    return summary, panel_df, pts, scores


def annotation_step(
    resolved: pd.DataFrame,
    results: pd.DataFrame,
    counts: pd.DataFrame,
    contrast: Mapping[str, str],
    groups: tuple[list[str], list[str]],
    settings: Mapping[str, object],
    other_class_tsv: str | None,
) -> pd.DataFrame:
    """Catalogue annotation of the contrast (with the artefact columns when the table exists)."""
    level, reference = groups
    annotation = annotate_contrast(
        resolved, results, counts, contrast, level, reference, settings["case_levels"], settings["alpha"],
        settings["min_count"], settings["min_fraction"],
    )
    if other_class_tsv:
        origins = dict(zip(resolved["mirna"], resolved.get("non_mirna_origin", pd.Series("", resolved.index))))
        annotation = add_artefact_columns(
            annotation, read_other_class(other_class_tsv), origins, float(settings["artefact_share"])
        )
        flagged = sorted(set(annotation.loc[annotation["artefact_flag"] == "yes", "mature"]))
        log.warning("contrast %s: reads of %s may come from other RNA classes", contrast["name"], flagged)
    return annotation


def write_roc(roc_parts: list[pd.DataFrame], labels: Mapping[str, str], contrast: Mapping[str, str],
              out_tsv: str, out_svg: str) -> None:
    """``roc.tsv`` (every curve's points) and ``roc.svg``."""
    roc = (
        pd.concat(roc_parts, ignore_index=True)
        if roc_parts
        else pd.DataFrame(columns=["curve", "fpr", "tpr", "threshold"])
    )
    roc["analysis"] = EXPLORATORY
    write_tsv(roc, out_tsv)
    plot_roc(roc, labels, contrast, out_svg)


def score_step(
    vst: pd.DataFrame,
    dots: pd.DataFrame,
    contrast: Mapping[str, str],
    groups: tuple[list[str], list[str]],
    settings: Mapping[str, int],
    out: Mapping[str, str | None],
) -> None:
    """Single-marker AUCs, the nested-CV panel and the ROC outputs of one contrast."""
    level, reference = groups
    features = candidate_features(dots, vst)
    roles = dict(zip(dots["mature"], dots["roles"]))
    n_boot, seed = settings["n_boot"], settings["seed"]
    auc = auc_table(vst, features, level, reference, contrast, roles, n_boot, seed)
    write_tsv(auc, out["auc"])
    roc_parts, labels = marker_roc_curves(auc, vst, level, reference, settings["roc_top"], contrast)
    summary, panel_df, panel_roc, scores = panel_step(
        vst, features, level, reference, contrast, roles, settings["panel_max_features"],
        settings["cv_folds"], settings["cv_repeats"], seed,
    )
    if panel_roc is not None:
        roc_parts.insert(0, panel_roc)
        labels[PANEL_CURVE] = f"panel, out-of-fold (mean CV AUC {summary['cv_auc_mean']:.2f})"
    write_tsv(panel_df, out["panel"])
    write_tsv(pd.DataFrame([summary]), out["panel_summary"])
    if out.get("panel_scores"):
        write_tsv(scores, out["panel_scores"])
    write_roc(roc_parts, labels, contrast, out["roc_tsv"], out["roc_svg"])


def annotate_and_score(
    resolved_tsv: str,
    results_tsv: str,
    vst_tsv: str,
    counts_tsv: str,
    samples_tsv: str,
    contrasts: Sequence[Mapping[str, str]],
    contrast_name: str,
    case_levels: Sequence[str],
    alpha: float,
    min_count: int,
    min_fraction: float,
    n_boot: int,
    seed: int,
    panel_max_features: int,
    cv_folds: int,
    cv_repeats: int,
    roc_top: int,
    out_annotation: str,
    out_dotplot_tsv: str,
    out_dotplot_svg: str,
    out_auc: str,
    out_panel: str,
    out_panel_summary: str,
    out_roc_tsv: str,
    out_roc_svg: str,
    other_class_tsv: str | None = None,
    artefact_share: float = 0.5,
    out_panel_scores: str | None = None,
) -> None:
    """Rule ``markers_contrast``: annotation, dot-plot, single-marker AUCs and the panel."""
    resolved, results, counts, vst = read_contrast_inputs(resolved_tsv, results_tsv, counts_tsv, vst_tsv)
    contrast = find_contrast(contrasts, contrast_name)
    groups = contrast_samples(samples_tsv, contrast, list(vst.columns))
    settings = dict(case_levels=case_levels, alpha=alpha, min_count=min_count, min_fraction=min_fraction,
                    artefact_share=artefact_share)
    annotation = annotation_step(resolved, results, counts, contrast, groups, settings, other_class_tsv)
    write_tsv(annotation, out_annotation)
    dots = dotplot_table(annotation)
    write_tsv(dots, out_dotplot_tsv)
    plot_dotplot(dots, contrast, alpha, out_dotplot_svg)
    log.info(
        "contrast %s: %d catalogue rows, %d detected mature miRNAs; concordance %s",
        contrast["name"], len(annotation), len(dots), annotation["concordance"].value_counts().to_dict(),
    )
    scoring = dict(n_boot=n_boot, seed=seed, roc_top=roc_top, panel_max_features=panel_max_features,
                   cv_folds=cv_folds, cv_repeats=cv_repeats)
    out = dict(auc=out_auc, panel=out_panel, panel_summary=out_panel_summary, panel_scores=out_panel_scores,
               roc_tsv=out_roc_tsv, roc_svg=out_roc_svg)
    score_step(vst, dots, contrast, groups, scoring, out)

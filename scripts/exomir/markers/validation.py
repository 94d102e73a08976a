"""Rules ``markers_panel_model`` (lock the panel on the discovery cohort) and ``validation_score``.

The validation run scores an independent cohort with the locked model of
:mod:`exomir.markers.panel` (nothing is refitted) and reports ROC/AUC with a bootstrap CI,
sensitivity and specificity at the locked threshold (Wilson 95% CIs) and calibration
(Brier score, calibration intercept and slope, observed vs predicted by probability bin).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from exomir.errors import ExomirInputError
from exomir.io import read_tsv, write_tsv
from exomir.markers.concordance import contrast_samples, find_contrast
from exomir.markers.contrast import candidate_features
from exomir.markers.diagnostics import auc_score, bootstrap_auc_ci, roc_curve_points
from exomir.markers.panel import (
    apply_transform,
    build_model,
    check_compatible,
    fit_final_panel,
    read_locked_transform,
    not_locked,
    read_model,
    score_counts,
    write_model,
    youden_threshold,
)

log = logging.getLogger("exomir.markers")

#: Largest relative difference tolerated between the locked transform and the diffexp stage's
#: vst.tsv, which is written with 6 significant digits (exomir.io.FLOAT_FORMAT).
VST_TOLERANCE = 1e-5
VALIDATION = "independent validation cohort, locked model"


def reference_identity(checksums_tsv: str | Path, species: str) -> dict[str, str]:
    """Species and miRBase FASTA checksums (``references/{species}/checksums.tsv``)."""
    table = pd.read_csv(checksums_tsv, sep="\t", dtype=str, keep_default_na=False)
    by_role = dict(zip(table.get("role", []), table.get("sha256", [])))
    missing = [r for r in ("mature_fasta", "hairpin_fasta") if r not in by_role]
    if missing:
        raise ExomirInputError(f"no checksum for {missing}", where=str(checksums_tsv),
                               fix="re-run the references stage")
    return {"species": species, "mature_fasta_sha256": by_role["mature_fasta"],
            "hairpin_fasta_sha256": by_role["hairpin_fasta"]}


def _check_reproduces(counts: pd.DataFrame, vst: pd.DataFrame, transform: Mapping[str, Any]) -> float:
    """The locked transform must give the discovery VST back (else scoring new samples would drift)."""
    locked, table = apply_transform(counts, transform).to_numpy(), vst.to_numpy()
    diff = float((np.abs(locked - table) / np.maximum(np.abs(table), 1.0)).max())
    if not diff <= VST_TOLERANCE:
        raise ExomirInputError(
            f"the locked transform differs from vst.tsv by {diff:.3g} (relative)", where="panel model",
            fix="re-run the diffexp stage with this exomir version",
        )
    return diff


def lock_panel(
    dotplot_tsv: str, vst_tsv: str, vst_parameters_json: str, counts_tsv: str, samples_tsv: str, scores_tsv: str, checksums_tsv: str,
    contrasts: Sequence[Mapping[str, str]], contrast_name: str, species: str,
    panel_max_features: int, cv_folds: int, seed: int, out_model: str,
) -> dict[str, Any]:
    """Rule ``markers_panel_model``: write ``panel_model.json`` of one contrast (see panel.py)."""
    contrast = find_contrast(contrasts, contrast_name)
    vst, counts = read_tsv(vst_tsv, index_col=0), read_tsv(counts_tsv, index_col=0)
    dots = pd.read_csv(dotplot_tsv, sep="\t", dtype={"mature": str})
    level, reference = contrast_samples(samples_tsv, contrast, list(vst.columns))
    features = candidate_features(dots, vst)
    scores = pd.read_csv(scores_tsv, sep="\t", dtype={"sample": str})
    if not features or scores.empty:
        # a run too small for a panel still completes; the file says why it cannot be used
        reason = f"contrast {contrast_name}: no panel was cross-validated (panel_summary.tsv gives the reason)"
        write_model(not_locked(reason), out_model)
        log.warning("%s: no locked model", reason)
        return {}
    transform = read_locked_transform(vst_parameters_json)
    diff = _check_reproduces(counts.loc[vst.index, vst.columns], vst, transform)
    X = vst.loc[features, level + reference].to_numpy(float).T
    y = np.array([1] * len(level) + [0] * len(reference))
    panel = fit_final_panel(X, y, features, panel_max_features, min(cv_folds, len(level), len(reference)), seed)
    threshold = youden_threshold(scores["oof_probability"].to_numpy(), scores["label"].to_numpy())
    discovery = {"n_level": len(level), "n_reference": len(reference), "samples": level + reference,
                 "cv_auc_oof": auc_score(scores.loc[scores["label"] == 1, "oof_probability"],
                                         scores.loc[scores["label"] == 0, "oof_probability"]),
                 "vst_max_relative_difference": diff}
    model = build_model(contrast, reference_identity(checksums_tsv, species), list(counts.index), transform,
                        panel, threshold, discovery)
    write_model(model, out_model)
    log.info("contrast %s: locked panel of %d markers %s, threshold %.4g (%s)", contrast_name,
             len(panel["markers"]), panel["markers"], threshold["value"], model["threshold"]["rule"])
    return model


# --------------------------------------------------------------------------- validation metrics
def validation_labels(sheet_tsv: str | Path, model: Mapping[str, Any], available: Sequence[str]) -> pd.DataFrame:
    """Samples of the validation sheet in the model's two groups, with label 1 = level."""
    contrast = model["contrast"]
    sheet = pd.read_csv(sheet_tsv, sep="\t", dtype=str, keep_default_na=False)
    factor = contrast["factor"]
    for column in ("sample", factor):
        if column not in sheet.columns:
            raise ExomirInputError(f"column {column!r} missing (the model's contrast uses {factor!r})",
                                   where=str(sheet_tsv), fix=f"add the {factor!r} column to the validation sheet")
    sheet = sheet[sheet[factor].isin([contrast["level"], contrast["reference"]])]
    absent = sorted(set(sheet["sample"]) - set(available))
    if absent:
        raise ExomirInputError(f"samples {absent[:5]} have no column in the validation count matrix",
                               where=str(sheet_tsv), fix="check the sample names against the count matrix")
    out = pd.DataFrame({"sample": sheet["sample"].tolist(), "group": sheet[factor].tolist()})
    out["label"] = (out["group"] == contrast["level"]).astype(int)
    if out["label"].nunique() < 2:
        raise ExomirInputError(
            f"the validation sheet needs samples of both {contrast['level']!r} and {contrast['reference']!r}",
            where=str(sheet_tsv), fix=f"check the {factor!r} column",
        )
    return out


def wilson_interval(successes: int, total: int, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of a proportion (statsmodels)."""
    from statsmodels.stats.proportion import proportion_confint

    lo, hi = proportion_confint(successes, total, alpha=1 - level, method="wilson")
    return float(lo), float(hi)


def calibration_fit(prob: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Calibration intercept and slope: logistic regression of the outcome on logit(probability).

    NaN when the logit separates the groups perfectly (no finite maximum-likelihood slope).
    """
    import statsmodels.api as sm

    p = np.clip(np.asarray(prob, float), 1e-12, 1 - 1e-12)
    logit = np.log(p / (1 - p))
    lo_pos, hi_neg = logit[y == 1].min(), logit[y == 0].max()
    if lo_pos > hi_neg:  # perfectly separated: the slope diverges
        return float("nan"), float("nan")
    fit = sm.GLM(y, sm.add_constant(logit), family=sm.families.Binomial()).fit()
    return float(fit.params[0]), float(fit.params[1])


def calibration_table(prob: np.ndarray, y: np.ndarray, bins: int) -> pd.DataFrame:
    """Observed fraction of the level group against the mean predicted probability per equal-width bin."""
    edges = np.linspace(0, 1, bins + 1)
    which = np.clip(np.digitize(prob, edges[1:-1], right=False), 0, bins - 1)
    rows = []
    for b in range(bins):
        inside = which == b
        rows.append({"bin": f"{edges[b]:.2f}-{edges[b + 1]:.2f}", "n": int(inside.sum()),
                     "mean_predicted": float(prob[inside].mean()) if inside.any() else float("nan"),
                     "observed_fraction": float(y[inside].mean()) if inside.any() else float("nan")})
    return pd.DataFrame(rows)


def validation_metrics(
    prob: np.ndarray, y: np.ndarray, threshold: float, n_boot: int, seed: int
) -> dict[str, Any]:
    """AUC (CI), sensitivity and specificity at the locked threshold (CIs), Brier, calibration."""
    pos, neg = prob[y == 1], prob[y == 0]
    lo, hi = bootstrap_auc_ci(pos, neg, n_boot, seed)
    tp, tn = int((pos >= threshold).sum()), int((neg < threshold).sum())
    sens_ci, spec_ci = wilson_interval(tp, len(pos)), wilson_interval(tn, len(neg))
    intercept, slope = calibration_fit(prob, y)
    return {
        "n_level": len(pos), "n_reference": len(neg), "auc": auc_score(pos, neg), "auc_ci_low": lo,
        "auc_ci_high": hi, "threshold": threshold, "sensitivity": tp / len(pos),
        "sensitivity_ci_low": sens_ci[0], "sensitivity_ci_high": sens_ci[1], "specificity": tn / len(neg),
        "specificity_ci_low": spec_ci[0], "specificity_ci_high": spec_ci[1],
        "brier": float(np.mean((prob - y) ** 2)), "calibration_intercept": intercept, "calibration_slope": slope,
        "bootstrap": f"{n_boot} stratified resamples, seed {seed}, percentile 95% CI",
    }


def validate_panel(
    model_json: str, counts_tsv: str, samples_tsv: str, checksums_tsv: str, species: str,
    n_boot: int, seed: int, bins: int, out: Mapping[str, str],
) -> dict[str, Any]:
    """Rule ``validation_score``: scores, metrics, ROC and calibration of the validation cohort."""
    from exomir.markers.plotting import plot_calibration, plot_validation_roc

    model = read_model(model_json)
    counts = read_tsv(counts_tsv, index_col=0)
    check_compatible(model, model_json, reference_identity(checksums_tsv, species), list(counts.index))
    labels = validation_labels(samples_tsv, model, list(counts.columns))
    scores = labels.merge(score_counts(model, counts[labels["sample"].tolist()]), on="sample")
    prob, y = scores["probability"].to_numpy(float), scores["label"].to_numpy(int)
    metrics = {"contrast": model["contrast"]["name"], "level": model["contrast"]["level"],
               "reference": model["contrast"]["reference"], "markers": ";".join(model["panel"]["markers"]),
               **validation_metrics(prob, y, float(model["threshold"]["value"]), n_boot, seed),
               "model_checksum": model["checksum"],
               "analysis": VALIDATION}
    roc = roc_curve_points(prob[y == 1], prob[y == 0])
    calibration = calibration_table(prob, y, bins)
    write_tsv(scores, out["scores"])
    write_tsv(pd.DataFrame([metrics]), out["metrics"])
    write_tsv(roc, out["roc_tsv"])
    write_tsv(calibration, out["calibration"])
    plot_validation_roc(roc, metrics, out["roc_svg"])
    plot_calibration(calibration, metrics, out["calibration_svg"])
    log.info("validation of %s: %d vs %d samples, AUC %.3f (%.3f-%.3f), sensitivity %.2f, specificity %.2f",
             metrics["contrast"], metrics["n_level"], metrics["n_reference"], metrics["auc"],
             metrics["auc_ci_low"], metrics["auc_ci_high"], metrics["sensitivity"], metrics["specificity"])
    return metrics

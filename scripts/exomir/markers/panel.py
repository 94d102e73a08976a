"""Locked marker panel: the discovery cohort's panel as a versioned model file, scored on new samples.

The model file (``markers/{contrast}/panel_model.json``) holds everything needed to score a new
sample without refitting anything:

* the preprocessing: DESeq2 median-of-ratios size factors against the discovery cohort's
  per-miRNA log geometric means (the "locked reference") and the blind variance-stabilising
  transformation with the discovery dispersion trend (parametric ``a0``, ``a1`` or a mean
  dispersion), i.e. DESeq2's recipe for transforming test data with training parameters;
* the panel: markers chosen on all discovery samples (ANOVA-F selection), standardisation
  (means, scales), L2 logistic-regression coefficients and intercept, the regularisation C;
* the decision threshold, chosen on the discovery cohort's nested-CV out-of-fold probabilities
  (Youden's J), so it is not tuned on in-sample scores of the final model;
* species, miRBase reference checksums and the feature set (miRNA names) the counts must match;
* software versions and a SHA-256 checksum of the content (edits are detected on reading).
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import math
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

import exomir
from exomir.errors import ExomirInputError
from exomir.io import atomic_open

MODEL_FORMAT = "exomir-locked-panel"
MODEL_VERSION = 1
#: Packages whose versions are recorded in the model file.
MODEL_PACKAGES = ("numpy", "pandas", "scikit-learn", "pydeseq2")
THRESHOLD_RULE = "Youden's J on the discovery cohort's nested-CV out-of-fold probabilities"


# --------------------------------------------------------------------------- preprocessing
def fit_locked_transform(counts: pd.DataFrame, fit_type: str = "parametric") -> dict[str, Any]:
    """Size-factor reference and blind VST parameters of a discovery count matrix (miRNA x sample).

    Fitted by pyDESeq2 exactly as the diffexp stage's ``vst.tsv`` (blind, intercept only), so
    :func:`apply_transform` on the discovery counts reproduces that table.
    """
    import warnings

    from pydeseq2.dds import DeseqDataSet

    meta = pd.DataFrame({"intercept": ["all"] * counts.shape[1]}, index=counts.columns)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the mean-trend fallback is recorded in the model
        dds = DeseqDataSet(counts=counts.T, metadata=meta, design="~1", fit_type=fit_type, quiet=True)
        dds.vst_fit(use_design=False)
    if dds.logmeans is None:
        raise ExomirInputError(
            "no miRNA has reads in every discovery sample: median-of-ratios size factors cannot be locked",
            where="panel model", fix="check the discovery count matrix (empty samples?)",
        )
    keep = np.asarray(dds.filtered_genes, dtype=bool)
    logmeans = dict(zip(counts.index[keep], (float(x) for x in np.asarray(dds.logmeans)[keep])))
    if dds.vst_fit_type == "parametric":
        a0, a1 = (float(x) for x in dds.uns["vst_trend_coeffs"])
        vst = {"type": "parametric", "a0": a0, "a1": a1}
    else:
        vst = {"type": "mean", "dispersion": float(dds.uns["mean_disp"])}
    return {"size_factor_logmeans": logmeans, "vst": vst}


def locked_size_factors(counts: pd.DataFrame, logmeans: Mapping[str, float]) -> pd.Series:
    """Median-of-ratios size factors against the locked log geometric means.

    As R DESeq2's ``estimateSizeFactorsForMatrix(geoMeans=)``: a sample's zero counts are left
    out of its median (a discovery sample has none in the reference miRNAs).
    """
    names = [m for m in logmeans if m in counts.index]
    ref = np.array([logmeans[m] for m in names])
    values = counts.loc[names].to_numpy(float)
    factors = {}
    for j, sample in enumerate(counts.columns):
        positive = values[:, j] > 0
        if not positive.any():
            raise ExomirInputError(
                f"sample {sample!r} has no read in any reference miRNA of the model",
                where="validation count matrix", fix="remove the sample or check its quantification",
            )
        factors[sample] = math.exp(float(np.median(np.log(values[positive, j]) - ref[positive])))
    return pd.Series(factors)


def read_locked_transform(vst_parameters_json: str | Path) -> dict[str, Any]:
    """The diffexp stage's size-factor reference and VST constants (``vst_parameters.json``).

    The cohort VST uses the design-aware trend of the one cohort fit (R ``blind = FALSE``), so the
    panel locks exactly those numbers rather than refitting a transform of its own.
    """
    params = json.loads(Path(vst_parameters_json).read_text())
    if not params.get("size_factor_logmeans"):
        raise ExomirInputError(
            "no miRNA has reads in every discovery sample: median-of-ratios size factors cannot be locked",
            where=str(vst_parameters_json), fix="check the discovery count matrix (empty samples?)",
        )
    return {"size_factor_logmeans": params["size_factor_logmeans"], "vst": params["vst"]}


def apply_transform(counts: pd.DataFrame, transform: Mapping[str, Any]) -> pd.DataFrame:
    """VST values (log2 scale) of ``counts`` with the locked size factors and dispersion trend."""
    from exomir.diffexp.vst import apply_vst_parameters

    normed = counts / locked_size_factors(counts, transform["size_factor_logmeans"])
    return apply_vst_parameters(normed, transform["vst"])


# --------------------------------------------------------------------------- panel
def fit_final_panel(
    X: np.ndarray, y: np.ndarray, features: Sequence[str], max_features: int, n_splits: int, seed: int
) -> dict[str, Any]:
    """The panel refitted on all discovery samples, as plain numbers (selection, scaling, weights)."""
    from exomir.markers.diagnostics import DEFAULT_C_GRID, fit_fold_model

    k = min(max_features, X.shape[1])
    search = fit_fold_model(np.asarray(X, float), np.asarray(y, int), k, n_splits, DEFAULT_C_GRID, seed)
    best = search.best_estimator_
    mask = best.named_steps["select"].get_support()
    scaler, model = best.named_steps["scale"], best.named_steps["model"]
    return {
        "markers": [f for f, keep in zip(features, mask) if keep],
        "scaler_mean": [float(x) for x in scaler.mean_],
        "scaler_scale": [float(x) for x in scaler.scale_],
        "coefficients": [float(x) for x in model.coef_[0]],
        "intercept": float(model.intercept_[0]),
        "C": float(search.best_params_["model__C"]),
        "candidates": list(features),
    }


def panel_probability(values: pd.DataFrame, panel: Mapping[str, Any]) -> pd.Series:
    """Probability of the level group per sample from VST values (marker x sample)."""
    x = values.loc[panel["markers"]].to_numpy(float).T
    z = (x - np.array(panel["scaler_mean"])) / np.array(panel["scaler_scale"])
    logit = z @ np.array(panel["coefficients"]) + panel["intercept"]
    return pd.Series(1.0 / (1.0 + np.exp(-logit)), index=values.columns)


def youden_threshold(scores: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    """Threshold maximising sensitivity + specificity - 1 (call positive when score >= threshold).

    Among equal J the highest threshold wins (fewest positive calls), so the choice is unique.
    Needs both groups among ``labels``.
    """
    from sklearn.metrics import roc_curve

    fpr, tpr, thr = roc_curve(np.asarray(labels, int), np.asarray(scores, float), drop_intermediate=False)
    j = tpr - fpr
    # index 0 is the "nobody positive" point (threshold inf); 1e-12: ties up to rounding
    best = 1 + int(np.flatnonzero(j[1:] >= j[1:].max() - 1e-12)[0])
    return {"value": float(thr[best]), "sensitivity": float(tpr[best]), "specificity": float(1 - fpr[best])}


# --------------------------------------------------------------------------- the file
def _canonical(content: Mapping[str, Any]) -> str:
    return json.dumps(content, sort_keys=True, indent=1, ensure_ascii=True, allow_nan=False)


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def software_versions() -> dict[str, str]:
    """exomir and the numerical packages the model was fitted with."""
    versions = {"exomir": exomir.__version__}
    for package in MODEL_PACKAGES:
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            versions[package] = "not installed"
    return versions


def feature_identity(names: Sequence[str]) -> dict[str, Any]:
    """The feature set of a count matrix: its sorted miRNA names and their SHA-256."""
    ordered = sorted(str(n) for n in names)
    return {"n": len(ordered), "sha256": _sha256("\n".join(ordered)), "names": ordered}


def build_model(
    contrast: Mapping[str, str],
    reference: Mapping[str, str],
    features: Sequence[str],
    transform: Mapping[str, Any],
    panel: Mapping[str, Any],
    threshold: Mapping[str, float],
    discovery: Mapping[str, Any],
) -> dict[str, Any]:
    """The model content (without its checksum); ``reference`` has species and FASTA checksums."""
    return {
        "format": MODEL_FORMAT,
        "format_version": MODEL_VERSION,
        "software": software_versions(),
        "contrast": dict(contrast),
        "reference": dict(reference),
        "features": feature_identity(features),
        "transform": dict(transform),
        "panel": dict(panel),
        "threshold": {**threshold, "rule": THRESHOLD_RULE},
        "discovery": dict(discovery),
    }


def not_locked(reason: str) -> dict[str, Any]:
    """Content of a model file for a contrast whose panel could not be fitted (refused on reading)."""
    return {"format": MODEL_FORMAT, "format_version": MODEL_VERSION, "software": software_versions(),
            "status": f"not locked: {reason}"}


def write_model(content: Mapping[str, Any], path: str | Path) -> None:
    """Write the model with ``checksum`` = SHA-256 of its canonical JSON (sorted keys)."""
    body = dict(content)
    body.pop("checksum", None)
    body["checksum"] = "sha256:" + _sha256(_canonical(body))
    with atomic_open(path, "wt") as handle:
        handle.write(_canonical(body) + "\n")


def read_model(path: str | Path) -> dict[str, Any]:
    """Read a model file, checking its format, version and checksum."""
    fix = "use the panel_model.json written by exomir's markers stage, unmodified"
    try:
        content = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as err:
        raise ExomirInputError(f"cannot read the model file: {err}", where=str(path), fix=fix) from err
    if not isinstance(content, dict) or content.get("format") != MODEL_FORMAT:
        raise ExomirInputError(f"not an {MODEL_FORMAT} file", where=str(path), fix=fix)
    if content.get("format_version") != MODEL_VERSION:
        raise ExomirInputError(
            f"model format version {content.get('format_version')} (this exomir reads {MODEL_VERSION})",
            where=str(path), fix="score with the exomir version that wrote the model (see its 'software')",
        )
    stated = content.pop("checksum", "")
    if stated != "sha256:" + _sha256(_canonical(content)):
        raise ExomirInputError("checksum mismatch: the model file was modified", where=str(path), fix=fix)
    if content.get("status"):
        raise ExomirInputError(content["status"], where=str(path), fix="validate a contrast whose panel was computed")
    content["checksum"] = stated
    return content


def check_compatible(
    model: Mapping[str, Any], path: str | Path, reference: Mapping[str, str], features: Sequence[str]
) -> None:
    """Refuse a model of another species, miRBase reference or feature set than the counts."""
    ref = model["reference"]
    for key in ("species", "mature_fasta_sha256", "hairpin_fasta_sha256"):
        if str(ref.get(key, "")) != str(reference.get(key, "")):
            raise ExomirInputError(
                f"the model was fitted with {key} {ref.get(key)!r}, these counts use {reference.get(key)!r}",
                where=str(path),
                fix="quantify the validation cohort with the discovery run's species and miRBase files",
            )
    have = feature_identity(features)
    if have["sha256"] != model["features"]["sha256"]:
        expected = set(model["features"]["names"])
        missing, extra = sorted(expected - set(have["names"])), sorted(set(have["names"]) - expected)
        raise ExomirInputError(
            f"feature set differs from the model's ({model['features']['n']} miRNAs): "
            f"{len(missing)} missing (e.g. {missing[:3]}), {len(extra)} extra (e.g. {extra[:3]})",
            where=str(path),
            fix="use a count matrix quantified against the same miRBase reference as the discovery run",
        )


def score_counts(model: Mapping[str, Any], counts: pd.DataFrame) -> pd.DataFrame:
    """Per sample: size factor, VST marker values, panel probability and the locked call."""
    transform = model["transform"]
    vst = apply_transform(counts, transform)
    prob = panel_probability(vst, model["panel"])
    threshold = float(model["threshold"]["value"])
    out = pd.DataFrame({"sample": list(counts.columns)})
    out["size_factor"] = locked_size_factors(counts, transform["size_factor_logmeans"]).to_numpy()
    for marker in model["panel"]["markers"]:
        out[f"vst_{marker}"] = vst.loc[marker].to_numpy()
    out["probability"] = prob.to_numpy()
    out["call"] = np.where(prob.to_numpy() >= threshold, model["contrast"]["level"], model["contrast"]["reference"])
    return out

"""Diagnostic performance: single-marker ROC AUC with a bootstrap CI, nested cross-validated panel."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import logging
import time

import numpy as np
import pandas as pd
from sklearn.feature_selection import SelectKBest, f_classif
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score, roc_curve
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from scipy.stats import rankdata

log = logging.getLogger("exomir.markers")

#: Regularisation strengths C tried by the inner cross-validation.
DEFAULT_C_GRID = (0.01, 0.1, 1.0, 10.0)

# --------------------------------------------------------------------------------------------
# Diagnostic performance
# --------------------------------------------------------------------------------------------
def auc_score(positive: np.ndarray, negative: np.ndarray) -> float:
    """ROC AUC of positives vs negatives (scikit-learn; ties count 0.5, as Mann-Whitney)."""
    pos = np.asarray(positive, float)
    neg = np.asarray(negative, float)
    labels = np.concatenate([np.ones(pos.size), np.zeros(neg.size)])
    return float(roc_auc_score(labels, np.concatenate([pos, neg])))


def _rank_auc(pos: np.ndarray, neg: np.ndarray) -> np.ndarray:
    """AUC of each row of (resamples x n_pos, resamples x n_neg) from mid-ranks (Mann-Whitney U).

    Memory is O(resamples x (n_pos + n_neg)), not O(n_pos x n_neg) as a pairwise comparison.
    """
    ranks = rankdata(np.concatenate([pos, neg], axis=1), axis=1)
    n_pos, n_neg = pos.shape[1], neg.shape[1]
    u = ranks[:, :n_pos].sum(axis=1) - n_pos * (n_pos + 1) / 2.0
    return u / (n_pos * n_neg)


def bootstrap_auc_ci(
    positive: np.ndarray, negative: np.ndarray, n_boot: int, seed: int, level: float = 0.95, chunk: int = 256
) -> tuple[float, float]:
    """Percentile CI of the AUC from a bootstrap stratified by group (each group resampled).

    Resamples are scored ``chunk`` at a time from ranks, so memory grows with n_pos + n_neg
    (about 450 MB at 400 vs 400 samples with the former pairwise comparison, now a few MB).
    """
    rng = np.random.default_rng(seed)
    pos = np.asarray(positive, float)
    neg = np.asarray(negative, float)
    ip = rng.integers(0, pos.size, size=(n_boot, pos.size))
    ineg = rng.integers(0, neg.size, size=(n_boot, neg.size))
    aucs = np.concatenate(
        [_rank_auc(pos[ip[i : i + chunk]], neg[ineg[i : i + chunk]]) for i in range(0, n_boot, chunk)]
    )
    tail = (1 - level) / 2
    return float(np.quantile(aucs, tail)), float(np.quantile(aucs, 1 - tail))


def roc_curve_points(positive: np.ndarray, negative: np.ndarray) -> pd.DataFrame:
    """ROC curve (fpr, tpr, threshold): a point per distinct score, highest threshold first (scikit-learn)."""
    pos = np.asarray(positive, float)
    neg = np.asarray(negative, float)
    labels = np.concatenate([np.ones(pos.size), np.zeros(neg.size)])
    fpr, tpr, thr = roc_curve(labels, np.concatenate([pos, neg]), drop_intermediate=False)
    thr = thr.astype(float)
    thr[0] = float("inf")
    return pd.DataFrame({"fpr": fpr.astype(float), "tpr": tpr.astype(float), "threshold": thr})


def single_marker_auc(
    vst: pd.DataFrame,
    features: Sequence[str],
    level: Sequence[str],
    reference: Sequence[str],
    n_boot: int,
    seed: int,
) -> pd.DataFrame:
    """AUC of each feature for separating level (positive) from reference samples on VST values.

    ``auc`` uses "higher in level" as the rule; ``auc_best_direction`` = max(auc, 1 - auc)
    picks the direction after looking at the data and is therefore optimistic.
    """
    rows = []
    for feature in features:
        pos = vst.loc[feature, list(level)].to_numpy(float)
        neg = vst.loc[feature, list(reference)].to_numpy(float)
        auc = auc_score(pos, neg)
        lo, hi = bootstrap_auc_ci(pos, neg, n_boot, seed)
        best = max(auc, 1 - auc)
        rows.append(
            {
                "mature": feature,
                "auc": auc,
                "auc_ci_low": lo,
                "auc_ci_high": hi,
                "higher_in": "level" if auc >= 0.5 else "reference",
                "auc_best_direction": best,
                "auc_best_ci_low": lo if auc >= 0.5 else 1 - hi,
                "auc_best_ci_high": hi if auc >= 0.5 else 1 - lo,
                "n_level": len(pos),
                "n_reference": len(neg),
            }
        )
    out = pd.DataFrame(
        rows,
        columns=[
            "mature",
            "auc",
            "auc_ci_low",
            "auc_ci_high",
            "higher_in",
            "auc_best_direction",
            "auc_best_ci_low",
            "auc_best_ci_high",
            "n_level",
            "n_reference",
        ],
    )
    out = out.sort_values(["auc_best_direction", "mature"], ascending=[False, True], kind="mergesort")
    return out.reset_index(drop=True)


@dataclass
class PanelResult:
    """Nested cross-validated panel performance."""

    auc_per_repeat: list[float]
    oof_score: np.ndarray  # out-of-fold probability per sample, averaged over repeats
    labels: np.ndarray
    selection_frequency: dict[str, float]
    mean_coefficient: dict[str, float]
    n_splits: int
    n_repeats: int
    max_features: int


def fit_fold_model(
    X: np.ndarray, y: np.ndarray, k: int, n_splits: int, c_grid: Sequence[float], inner_seed: int
) -> GridSearchCV:
    """Fit select-k-best + standardise + L2 logistic regression on one training fold.

    C is chosen by an inner stratified k-fold on this fold only (at most ``n_splits`` folds, at
    least 2, never more than the smaller class has samples).
    """
    inner_splits = max(2, min(n_splits, int(np.bincount(y).min())))
    pipe = Pipeline(
        [
            ("select", SelectKBest(f_classif, k=k)),
            ("scale", StandardScaler()),
            ("model", LogisticRegression(l1_ratio=0, solver="liblinear", max_iter=5000)),
        ]
    )
    search = GridSearchCV(
        pipe,
        {"model__C": list(c_grid)},
        scoring="roc_auc",
        cv=StratifiedKFold(n_splits=inner_splits, shuffle=True, random_state=inner_seed),
    )
    return search.fit(X, y)


def nested_cv_panel(
    X: np.ndarray,
    y: np.ndarray,
    feature_names: Sequence[str],
    max_features: int,
    n_splits: int,
    n_repeats: int,
    seed: int,
    c_grid: Sequence[float] = DEFAULT_C_GRID,
) -> PanelResult:
    """Repeated stratified k-fold CV of an L2 logistic-regression panel, fully nested.

    Inside every outer training fold: univariate selection of ``max_features`` features
    (ANOVA F), standardisation and the regularisation strength C (chosen by an inner
    stratified k-fold on the training fold only). The outer test fold is never seen by any
    of these steps, so the out-of-fold AUC carries no selection or scaling leak.
    """
    X = np.asarray(X, float)
    y = np.asarray(y, int)
    k = min(max_features, X.shape[1])
    oof = np.zeros((n_repeats, len(y)))
    aucs: list[float] = []
    chosen = np.zeros(X.shape[1])
    coef_sum = np.zeros(X.shape[1])
    n_fits = 0
    started = time.perf_counter()
    for rep in range(n_repeats):
        outer = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=seed + rep)
        for train, test in outer.split(X, y):
            search = fit_fold_model(X[train], y[train], k, n_splits, c_grid, seed + 1000 + rep)
            oof[rep, test] = search.predict_proba(X[test])[:, 1]
            best = search.best_estimator_
            mask = best.named_steps["select"].get_support()
            chosen[mask] += 1
            coef_sum[mask] += best.named_steps["model"].coef_[0]
            n_fits += 1
        pos, neg = oof[rep, y == 1], oof[rep, y == 0]
        aucs.append(auc_score(pos, neg))
        log.info(
            "panel cross-validation repeat %d/%d: out-of-fold AUC %.3f (%.1f s so far)",
            rep + 1, n_repeats, aucs[-1], time.perf_counter() - started,
        )
    return PanelResult(
        auc_per_repeat=aucs,
        oof_score=oof.mean(axis=0),
        labels=y,
        selection_frequency={f: float(chosen[i] / n_fits) for i, f in enumerate(feature_names)},
        mean_coefficient={
            f: float(coef_sum[i] / chosen[i]) if chosen[i] else 0.0 for i, f in enumerate(feature_names)
        },
        n_splits=n_splits,
        n_repeats=n_repeats,
        max_features=k,
    )

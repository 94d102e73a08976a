"""R's ``results()`` p-value steps, in Python: independent filtering with R's lowess.

pyDESeq2 0.5.4's independent filtering follows R's ``pvalueAdjustment`` but
smooths the rejection curve with its own lowess, which uses a different
neighbourhood (``ceil(f n) + 1`` points) and no robustness cut-offs; on miRNA
matrices this moves the chosen filter threshold and changes calls near
padj = alpha. :func:`r_lowess` follows R's ``lowess()`` (Cleveland's clowess,
``stats/src/lowess.c``) and :func:`independent_filtering` R's
``pvalueAdjustment`` (DESeq2 1.38 with genefilter's ``filtered_p``).
Written from the published algorithms (Cleveland 1979; Bourgon et al. 2010).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import false_discovery_control


def _local_fit(x: np.ndarray, y: np.ndarray, i: int, left: int, right: int, robust: np.ndarray) -> float | None:
    """clowess ``lowest``: weighted local linear fit at ``x[i]`` over ``x[left..right]``."""
    xs, span = x[i], x[-1] - x[0]
    h = max(xs - x[left], x[right] - xs)
    dist = np.abs(x - xs)
    use = np.arange(len(x)) >= left
    use &= (dist <= 0.999 * h) | (x <= xs)
    use &= dist <= 0.999 * h
    w = np.where(dist <= 0.001 * h, 1.0, (1 - (dist / h) ** 3) ** 3) * robust
    w = np.where(use, w, 0.0)
    total = w.sum()
    if total <= 0:
        return None
    w = w / total
    if h > 0:
        centre = float(np.sum(w * x))
        spread = float(np.sum(w * (x - centre) ** 2))
        if np.sqrt(spread) > 0.001 * span:
            w = w * ((xs - centre) / spread * (x - centre) + 1)
    return float(np.sum(w * y))


def r_lowess(x: np.ndarray, y: np.ndarray, f: float = 2 / 3, iterations: int = 3) -> np.ndarray:
    """R's ``lowess(x, y, f, iter)`` fitted values for sorted ``x``, fitting at every point.

    R skips points closer than ``delta = 0.01 * range(x)`` and interpolates; on
    the evenly spaced theta grid of independent filtering (50 points) the step is
    ``range / 49 > delta``, so R also fits every point there.
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    n = len(x)
    ns = max(2, min(n, int(f * n + 1e-7)))
    robust = np.ones(n)
    fitted = y.copy()
    for step in range(iterations + 1):
        left, right = 0, ns - 1
        for i in range(n):
            while right < n - 1 and x[i] - x[left] > x[right + 1] - x[i]:
                left, right = left + 1, right + 1
            value = _local_fit(x, y, i, left, right, robust)
            fitted[i] = y[i] if value is None else value
        if step == iterations:
            break
        residuals = np.abs(y - fitted)
        cmad = 6 * float(np.median(residuals))
        if cmad < 1e-7 * residuals.mean():
            break
        robust = np.where(residuals <= 0.001 * cmad, 1.0,
                          np.where(residuals > 0.999 * cmad, 0.0, (1 - (residuals / cmad) ** 2) ** 2))
    return fitted


@dataclass(frozen=True)
class FilterResult:
    """Independent filtering outcome: adjusted p values and the chosen mean-count threshold."""

    padj: np.ndarray
    threshold: float
    theta: float
    rejections: int


def bh(pvalues: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg over the non-missing p values (R ``p.adjust``: NA stays NA, not counted)."""
    out = np.full(len(pvalues), np.nan)
    ok = ~np.isnan(pvalues)
    if ok.any():
        out[ok] = false_discovery_control(pvalues[ok], method="bh")
    return out


def independent_filtering(base_mean: np.ndarray, pvalues: np.ndarray, alpha: float) -> FilterResult:
    """R DESeq2 ``pvalueAdjustment`` with ``independentFiltering = TRUE`` (filter = baseMean).

    Tries 50 quantiles of baseMean from the share of zero means up to 0.95,
    adjusts the p values of the rows at or above each, and keeps the first
    quantile whose number of rejections exceeds the lowess-smoothed maximum
    minus the residual root mean square (the first quantile if at most 10).
    """
    base_mean, pvalues = np.asarray(base_mean, dtype=float), np.asarray(pvalues, dtype=float)
    lower = float(np.mean(base_mean == 0))
    upper = 0.95 if lower < 0.95 else 1.0
    theta = np.linspace(lower, upper, 50)
    cutoffs = np.quantile(base_mean, theta)
    adjusted = np.full((len(base_mean), len(theta)), np.nan)
    for k, cutoff in enumerate(cutoffs):
        use = base_mean >= cutoff
        adjusted[use, k] = bh(pvalues[use])
    rejections = np.sum(adjusted < alpha, axis=0)
    j = 0
    if rejections.max() > 10:
        smooth = r_lowess(theta, rejections.astype(float), f=1 / 5)
        positive = rejections > 0
        residual = rejections[positive] - smooth[positive]
        limit = smooth.max() - np.sqrt(np.mean(residual**2))
        above = np.flatnonzero(rejections > limit)
        j = int(above[0]) if len(above) else 0
    return FilterResult(adjusted[:, j], float(cutoffs[j]), float(theta[j]), int(rejections[j]))


#: R ``fitNbinomGLMs``: ``minmu = 0.5`` floors the fitted means used for the weights.
MIN_MU = 0.5
#: R ``nbinomWaldTest(betaPrior = FALSE)``: ridge ``lambda = 1e-6`` on the log2 scale.
RIDGE_LOG2 = 1e-6


@dataclass(frozen=True)
class WaldResult:
    """Wald test of one contrast: log2 fold change, its SE, statistic and two-sided p value."""

    log2_fold_change: np.ndarray
    lfc_se: np.ndarray
    stat: np.ndarray
    pvalue: np.ndarray


def wald_test(
    design: np.ndarray,
    size_factors: np.ndarray,
    coefficients: np.ndarray,
    dispersions: np.ndarray,
    contrast: np.ndarray,
) -> WaldResult:
    """R DESeq2's Wald test of ``contrast`` (natural-log coefficients, genes x p).

    As R's C++ ``fitBeta``, the weights ``mu / (1 + alpha mu)`` use fitted means
    floored at 0.5, and the covariance is the ridge sandwich
    ``(X'WX + L)^-1 X'WX (X'WX + L)^-1`` with ``L = 1e-6 / log(2)^2``. pyDESeq2
    0.5.4 uses the unfloored means, which for a group of all-zero counts
    inflates the standard error (on the cell-line matrices by up to 40%, six
    orders of magnitude in p).
    """
    from scipy.stats import norm

    mu = np.maximum(size_factors[:, None] * np.exp(design @ coefficients.T), MIN_MU)  # samples x genes
    weights = mu / (1 + dispersions[None, :] * mu)
    xtwx = np.einsum("sp,sg,sq->gpq", design, weights, design)
    ridge = np.diag(np.full(design.shape[1], RIDGE_LOG2 / np.log(2) ** 2))
    inverse = np.linalg.inv(xtwx + ridge)
    sigma = inverse @ xtwx @ inverse
    variance = np.einsum("p,gpq,q->g", contrast, sigma, contrast)
    lfc = coefficients @ contrast / np.log(2)
    se = np.sqrt(variance) / np.log(2)
    stat = lfc / se
    return WaldResult(lfc, se, stat, 2 * norm.sf(np.abs(stat)))

"""Variance-stabilizing transformation from the cohort fit (R ``varianceStabilizingTransformation(blind = FALSE)``).

The VST reuses the cohort model's size factors and dispersion trend instead of
a second, blind fit (issue 19: one fit per design). R DESeq2 1.38's
``getVarianceStabilizedData`` has one closed form per trend kind; written here
from its published formulas (Anders and Huber 2010, DESeq2 vignette):

* parametric ``a0 + a1 / mu``:
  ``log2((1 + a1 + 2 a0 q + 2 sqrt(a0 q (1 + a1 + a0 q))) / (4 a0))``;
* mean ``a``: ``(2 asinh(sqrt(a q)) - log(a) - log(4)) / log(2)``;
* local: numerical integral of ``1 / sqrt(mu + f(mu) mu^2)`` on an asinh grid of
  1,000 points, rescaled so the 95% and 99.9% quantiles of the row means keep
  their log2 values (R interpolates the integral with ``splinefun``; a cubic
  spline with not-a-knot ends is used here, so values agree to spline precision).

``q`` is the normalized count.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.interpolate import CubicSpline

from exomir.diffexp.trend import Trend

#: R: ``length.out = 1000`` grid points of the local-trend integral.
LOCAL_GRID = 1000


def _parametric(q: np.ndarray, a0: float, a1: float) -> np.ndarray:
    return np.log((1 + a1 + 2 * a0 * q + 2 * np.sqrt(a0 * q * (1 + a1 + a0 * q))) / (4 * a0)) / np.log(2)


def _mean(q: np.ndarray, alpha: float) -> np.ndarray:
    return (2 * np.arcsinh(np.sqrt(alpha * q)) - np.log(alpha) - np.log(4)) / np.log(2)


def local_anchors(q: np.ndarray) -> dict[str, float]:
    """The dataset-dependent constants of the local-trend VST: the integral's upper end and the
    95% / 99.9% quantiles of the row means (stored in a locked model, so new samples use the
    discovery cohort's values)."""
    row_means = q.mean(axis=1)
    return {
        "grid_max": float(q.max()),
        "h1": float(np.quantile(row_means, 0.95)),
        "h2": float(np.quantile(row_means, 0.999)),
    }


def _local(q: np.ndarray, trend: Trend, anchors: dict[str, float] | None = None) -> np.ndarray:
    """R's local-trend VST: integral of the inverse standard deviation, anchored at two quantiles."""
    anchors = anchors or local_anchors(q)
    grid = np.sinh(np.linspace(np.arcsinh(0), np.arcsinh(anchors["grid_max"]), LOCAL_GRID))[1:]
    integrand = 1 / np.sqrt(grid + trend(grid) * grid**2)
    midpoints = np.arcsinh((grid[1:] + grid[:-1]) / 2)
    integral = np.cumsum((grid[1:] - grid[:-1]) * (integrand[1:] + integrand[:-1]) / 2)
    spline = CubicSpline(midpoints, integral)
    h1, h2 = anchors["h1"], anchors["h2"]
    eta = (np.log2(h2) - np.log2(h1)) / (spline(np.arcsinh(h2)) - spline(np.arcsinh(h1)))
    xi = np.log2(h1) - eta * spline(np.arcsinh(h1))
    return eta * spline(np.arcsinh(q)) + xi


def variance_stabilized(
    normalized: pd.DataFrame, trend: Trend, anchors: dict[str, float] | None = None
) -> pd.DataFrame:
    """VST of a miRNA x sample matrix of normalized counts under the fitted ``trend``.

    ``anchors`` (local trend only): the constants of :func:`local_anchors` from another
    dataset (a locked discovery cohort); by default they are computed on ``normalized``.
    """
    q = normalized.to_numpy(dtype=float)
    if trend.kind == "parametric":
        values = _parametric(q, trend.asympt_disp, trend.extra_pois)
    elif trend.kind == "mean":
        values = _mean(q, trend.mean_disp)
    else:
        values = _local(q, trend, anchors)
    return pd.DataFrame(values, index=normalized.index, columns=normalized.columns)


def vst_parameters(normalized: pd.DataFrame, trend: Trend) -> dict:
    """The VST of ``normalized`` as plain numbers (JSON), so new samples can be transformed alike."""
    if trend.kind == "parametric":
        return {"type": "parametric", "a0": float(trend.asympt_disp), "a1": float(trend.extra_pois)}
    if trend.kind == "mean":
        return {"type": "mean", "dispersion": float(trend.mean_disp)}
    return {
        "type": "local",
        "grid_log_means": [float(x) for x in trend.grid_log_means],
        "grid_log_disps": [float(x) for x in trend.grid_log_disps],
        **local_anchors(normalized.to_numpy(dtype=float)),
    }


def apply_vst_parameters(normalized: pd.DataFrame, params: dict) -> pd.DataFrame:
    """VST of ``normalized`` with the parameters of :func:`vst_parameters` (no refitting)."""
    kind = params["type"]
    if kind == "parametric":
        trend = Trend("parametric", asympt_disp=params["a0"], extra_pois=params["a1"])
    elif kind == "mean":
        trend = Trend("mean", mean_disp=params["dispersion"])
    else:
        trend = Trend("local", grid_log_means=tuple(params["grid_log_means"]),
                      grid_log_disps=tuple(params["grid_log_disps"]))
    anchors = {k: params[k] for k in ("grid_max", "h1", "h2")} if kind == "local" else None
    return variance_stabilized(normalized, trend, anchors)

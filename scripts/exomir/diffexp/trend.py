"""The dispersion-mean trend of R DESeq2 1.38 (``estimateDispersionsFit``), in Python.

pyDESeq2 0.5.4 departs from R in three ways that change p values on miRNA data
(documented in ``docs/diffexp_pydeseq2.md``):

* it fits the trend on every non-zero row, including gene-wise dispersions stuck
  at the ``min_disp`` floor; R uses only rows with gene-wise dispersion
  ``> 100 * minDisp`` (:func:`trend_rows`);
* its gamma-family fit filters outlying rows only after a first fit on all rows
  and uses its own optimiser; R's ``parametricDispersionFit`` filters before every
  fit (starting from coefficients 0.1, 1) and iterates a gamma GLM with identity
  link (at most 10 rounds) (:func:`parametric_trend`);
* when the parametric fit fails it falls back to the mean; R falls back to a
  local regression (``localDispersionFit``) (:func:`local_trend`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import trim_mean

#: R: ``useForFit <- dispGeneEst > 100 * minDisp``.
TREND_MIN_DISP_FACTOR = 100
#: R: residual window of ``parametricDispersionFit``.
RESIDUAL_LOW, RESIDUAL_HIGH = 1e-4, 15.0
#: R: ``iter > 10`` stops the parametric fit.
MAX_ROUNDS = 10
#: locfit's default nearest-neighbour fraction (``lp(nn = 0.7)``).
LOCAL_SPAN = 0.7


class TrendFitError(RuntimeError):
    """The parametric trend did not converge or gave non-positive coefficients (R: try-error)."""


@dataclass(frozen=True)
class Trend:
    """A fitted dispersion trend: ``kind`` is parametric, local or mean.

    parametric: ``asympt_disp + extra_pois / mean``; local: interpolation of the
    local fit on log(mean) (``grid_log_means``, ``grid_log_disps``, evaluated at
    the rows it was fitted on, constant beyond them); mean: ``mean_disp``.
    """

    kind: str
    asympt_disp: float = np.nan
    extra_pois: float = np.nan
    mean_disp: float = np.nan
    grid_log_means: tuple[float, ...] = ()
    grid_log_disps: tuple[float, ...] = ()

    def __call__(self, means: np.ndarray) -> np.ndarray:
        """Fitted dispersion at each mean of normalized counts."""
        means = np.asarray(means, dtype=float)
        if self.kind == "parametric":
            return self.asympt_disp + self.extra_pois / means
        if self.kind == "mean":
            return np.full_like(means, self.mean_disp)
        with np.errstate(divide="ignore"):
            return np.exp(np.interp(np.log(means), self.grid_log_means, self.grid_log_disps))


def trend_rows(genewise: np.ndarray, min_disp: float) -> np.ndarray:
    """Rows R fits the trend on: finite gene-wise dispersion ``> 100 * min_disp``."""
    genewise = np.asarray(genewise, dtype=float)
    return np.isfinite(genewise) & (genewise > TREND_MIN_DISP_FACTOR * min_disp)


def gamma_identity_glm(y: np.ndarray, x: np.ndarray, start: np.ndarray) -> tuple[np.ndarray, bool]:
    """IRLS of a gamma GLM with identity link, as R's ``glm.fit`` runs it from ``start``.

    Hand-written (about 20 lines) rather than statsmodels because the result
    must follow R's algorithm step by step: same start, same convergence rule
    ``|dev - dev_old| / (|dev| + 0.1) < 1e-8``, at most 25 iterations, step
    halving when the fitted means leave the valid region (> 0). With identity
    link the working response is ``y`` and the working weights are ``1 / mu^2``.
    Returns (coefficients, converged); raises :class:`TrendFitError` where R's
    glm stops ("no valid set of coefficients").
    """

    def deviance(mu: np.ndarray) -> float:
        return float(2 * np.sum(-np.log(y / mu) + (y - mu) / mu))

    coefs = np.asarray(start, dtype=float)
    mu = x @ coefs
    if not np.all(mu > 0):
        raise TrendFitError("cannot find valid starting values for the gamma GLM")
    dev_old = deviance(mu)
    for _ in range(25):
        weights = 1 / mu**2
        new = np.linalg.solve(x.T @ (x * weights[:, None]), x.T @ (weights * y))
        for _ in range(50):  # R halves the step until the fit is valid again
            mu = x @ new
            if np.all(mu > 0) and np.isfinite(dev := deviance(mu)):
                break
            new = (new + coefs) / 2
        else:
            raise TrendFitError("no valid set of coefficients for the gamma GLM")
        coefs = new
        if abs(dev - dev_old) / (abs(dev) + 0.1) < 1e-8:
            return coefs, True
        dev_old = dev
    return coefs, False


def parametric_trend(means: np.ndarray, disps: np.ndarray) -> Trend:
    """R's ``parametricDispersionFit``: iterated gamma GLM (identity link) of disps on 1/means.

    Each round keeps the rows whose dispersion is within (1e-4, 15) times the
    current curve (the first round uses R's starting coefficients 0.1, 1), then
    refits. Raises :class:`TrendFitError` where R's function stops (non-positive
    coefficients, no valid GLM fit, or no convergence in 10 rounds).
    """
    coefs = np.array([0.1, 1.0])
    for _ in range(MAX_ROUNDS + 1):
        residuals = disps / (coefs[0] + coefs[1] / means)
        good = (residuals > RESIDUAL_LOW) & (residuals < RESIDUAL_HIGH)
        design = np.column_stack([np.ones(good.sum()), 1 / means[good]])
        try:
            new, converged = gamma_identity_glm(disps[good], design, coefs)
        except np.linalg.LinAlgError as error:
            raise TrendFitError(f"gamma GLM failed: {error}") from error
        old, coefs = coefs, new
        if not np.all(np.isfinite(coefs)) or not np.all(coefs > 0):
            raise TrendFitError("parametric dispersion fit failed (non-positive coefficients)")
        if np.sum(np.log(coefs / old) ** 2) < 1e-6 and converged:
            return Trend("parametric", asympt_disp=float(coefs[0]), extra_pois=float(coefs[1]))
    raise TrendFitError("dispersion fit did not converge")


def local_trend(means: np.ndarray, disps: np.ndarray, min_disp: float) -> Trend:
    """Local quadratic regression of log dispersion on log mean (R's ``localDispersionFit``).

    R calls ``locfit(logDisps ~ logMeans, weights = means)`` with its defaults
    (tricube kernel, nearest-neighbour span 0.7, degree 2) on rows with
    dispersion ``>= 10 * minDisp``. This evaluates the same local fit directly at
    each row (locfit interpolates from a kd-tree of vertices), so values agree
    with R to within locfit's interpolation error, not exactly.
    """
    use = disps >= 10 * min_disp
    if not use.any():
        return Trend("mean", mean_disp=min_disp)
    x, y, w = np.log(means[use]), np.log(disps[use]), means[use]
    order = np.argsort(x, kind="mergesort")
    x, y, w = x[order], y[order], w[order]
    k = max(3, int(np.floor(LOCAL_SPAN * len(x))))
    fitted = np.empty_like(x)
    for i, x0 in enumerate(x):
        dist = np.abs(x - x0)
        h = max(np.partition(dist, k - 1)[k - 1], 1e-12)
        kern = np.clip(1 - (dist / h) ** 3, 0, None) ** 3 * w
        basis = np.column_stack([np.ones_like(x), x - x0, (x - x0) ** 2])
        coef, *_ = np.linalg.lstsq(basis * np.sqrt(kern)[:, None], y * np.sqrt(kern), rcond=None)
        fitted[i] = coef[0]
    unique_x, first = np.unique(x, return_index=True)
    return Trend("local", grid_log_means=tuple(unique_x), grid_log_disps=tuple(fitted[first]))


def mean_trend(genewise: np.ndarray, min_disp: float) -> Trend:
    """R's ``fitType = "mean"``: 0.1%-trimmed mean of dispersions ``> 10 * minDisp``."""
    genewise = np.asarray(genewise, dtype=float)
    use = np.isfinite(genewise) & (genewise > 10 * min_disp)
    return Trend("mean", mean_disp=float(trim_mean(genewise[use], proportiontocut=0.001)))


def fit_trend(means: np.ndarray, genewise: np.ndarray, fit_type: str, min_disp: float) -> tuple[Trend, str]:
    """Fit the trend as R does: parametric, falling back to local, then to the mean.

    ``means`` and ``genewise`` are the non-zero rows' mean normalized counts and
    gene-wise dispersions. Returns the trend and a note (empty unless R's
    fallback was used).
    """
    means, genewise = np.asarray(means, dtype=float), np.asarray(genewise, dtype=float)
    if fit_type == "mean":
        return mean_trend(genewise, min_disp), ""
    use = trend_rows(genewise, min_disp)
    if not use.any():
        raise TrendFitError(
            "all gene-wise dispersion estimates are within 2 orders of magnitude of the minimum"
        )
    note = ""
    if fit_type == "parametric":
        try:
            return parametric_trend(means[use], genewise[use]), ""
        except TrendFitError as error:
            note = f"parametric trend failed ({error}); local regression substituted, as R DESeq2 does"
    try:
        return local_trend(means[use], genewise[use], min_disp), note
    except (np.linalg.LinAlgError, ValueError) as error:  # last resort, as the brief of issue 19
        return mean_trend(genewise, min_disp), f"{note}; local fit failed ({error}); mean substituted".lstrip("; ")

"""exomir's pyDESeq2 model: R DESeq2's dispersion trend in a small ``DeseqDataSet`` subclass.

:class:`RTrendDeseqDataSet` overrides only ``fit_dispersion_trend`` and
``disp_function`` (see :mod:`exomir.diffexp.trend` and ``docs/diffexp_pydeseq2.md``);
every other step (size factors, gene-wise and MAP dispersions, Wald test,
Cook's distances and outlier replacement) is pyDESeq2 0.5.4's own.

Two changes of speed, not of results (``docs/diffexp_pydeseq2.md``): the fit runs
with BLAS limited to one thread (:func:`fit_dataset`), and :class:`ExomirInference`
computes pyDESeq2's least-squares start means for all miRNAs in one solve.
"""

from __future__ import annotations

import logging
import warnings

import numpy as np
import pandas as pd
import pydeseq2.dds
from pydeseq2.dds import DeseqDataSet
from pydeseq2.default_inference import DefaultInference
from threadpoolctl import threadpool_limits

from exomir.diffexp.trend import Trend, fit_trend

LOG = logging.getLogger("exomir.diffexp")


class ExomirInference(DefaultInference):
    """pyDESeq2's default inference with the start means of all miRNAs in one least-squares solve.

    pyDESeq2 0.5.4 fits one scikit-learn ``LinearRegression`` per gene
    (``utils.fit_lin_mu``) for the start means of the gene-wise dispersions (R's
    ``linearModelMu``); that is about 4 ms per gene, 11 s of a 2,600-miRNA fit.
    The same least squares for every gene at once is one ``lstsq`` call.
    """

    def lin_reg_mu(
        self, counts: np.ndarray, size_factors: np.ndarray, design_matrix: np.ndarray, min_mu: float
    ) -> np.ndarray:
        """Fitted means ``sf * X b`` of the regression of normalized counts on the design, floored."""
        normalized = counts / size_factors[:, None]
        coefficients, *_ = np.linalg.lstsq(design_matrix, normalized, rcond=None)
        return np.maximum(size_factors[:, None] * (design_matrix @ coefficients), min_mu)


class RTrendDeseqDataSet(DeseqDataSet):
    """``DeseqDataSet`` whose dispersion trend is fitted as R DESeq2 1.38 fits it.

    ``fit_type`` may also be ``"local"`` (R's ``fitType = "local"``). The fitted
    :class:`~exomir.diffexp.trend.Trend` is kept in ``uns["exomir_trend"]``;
    ``uns["disp_function_type"]`` is the trend actually used and
    ``uns["trend_note"]`` says when R's fallback was taken.
    """

    def fit_dispersion_trend(self, vst: bool = False) -> None:
        """Fit the trend on the rows R uses, with R's parametric -> local -> mean fallback."""
        if vst:  # exomir computes its VST from the cohort trend (exomir.diffexp.vst)
            raise NotImplementedError("exomir does not refit the trend for the VST")
        if "genewise_dispersions" not in self.var:
            self.fit_genewise_dispersions()
        nonzero = self.var["non_zero"].to_numpy(dtype=bool)
        means = self.var["_normed_means"].to_numpy(dtype=float)
        genewise = self.var["genewise_dispersions"].to_numpy(dtype=float)
        trend, note = fit_trend(means[nonzero], genewise[nonzero], self.fit_type, self.min_disp)
        self.set_trend(trend)
        self.uns["trend_note"] = note
        if note:
            LOG.warning("dispersion trend: %s", note)

    def set_trend(self, trend: Trend) -> None:
        """Store ``trend`` and the fitted dispersions of the non-zero rows."""
        self.uns["exomir_trend"] = trend
        self.uns["disp_function_type"] = trend.kind
        if trend.kind == "parametric":  # pyDESeq2's own field, read by its refit step
            self.uns["trend_coeffs"] = pd.Series([trend.asympt_disp, trend.extra_pois], index=["a0", "a1"])
        if trend.kind == "mean":
            self.uns["mean_disp"] = trend.mean_disp
        nonzero = self.var["non_zero"].to_numpy(dtype=bool)
        fitted = np.full(self.n_vars, np.nan)
        fitted[nonzero] = trend(self.var["_normed_means"].to_numpy(dtype=float)[nonzero])
        self.var["fitted_dispersions"] = fitted

    def disp_function(self, x):
        """The fitted trend at mean(s) ``x`` (any of parametric, local, mean)."""
        return self.uns["exomir_trend"](np.asarray(x, dtype=float))

    def _refit_without_outliers(self) -> None:
        """pyDESeq2's Cook's refit, building its sub-dataset from this class.

        pyDESeq2 builds the sub-dataset of outlier-replaced rows from the module
        name ``DeseqDataSet`` and copies only parametric or mean trends to it;
        binding the name to this class for the call lets the sub-dataset use a
        local trend too (the trend is not refitted, as in R).
        """
        original = pydeseq2.dds.DeseqDataSet
        pydeseq2.dds.DeseqDataSet = _SubDataset.bind(self.uns["exomir_trend"])
        try:
            super()._refit_without_outliers()
        finally:
            pydeseq2.dds.DeseqDataSet = original


class _SubDataset(RTrendDeseqDataSet):
    """Sub-dataset of pyDESeq2's Cook's refit, carrying the parent's trend."""

    parent_trend: Trend | None = None

    @classmethod
    def bind(cls, trend: Trend) -> type["_SubDataset"]:
        """A subclass whose instances start with ``trend`` as their dispersion trend."""
        return type("_BoundSubDataset", (cls,), {"parent_trend": trend})

    def fit_genewise_dispersions(self, vst: bool = False) -> None:
        """pyDESeq2's gene-wise fit, then the parent's trend (pyDESeq2 copies only two kinds)."""
        super().fit_genewise_dispersions(vst)
        self.uns["exomir_trend"] = self.parent_trend


def fit_dataset(
    counts: pd.DataFrame, meta: pd.DataFrame, design: str, fit_type: str, n_cpus: int
) -> RTrendDeseqDataSet:
    """Fit the DESeq2 model (R's ``DESeq()``) on a sample x miRNA matrix; warnings go to the log.

    BLAS is limited to one thread: pyDESeq2 runs one small scipy optimisation
    per gene, and OpenBLAS's thread start-up on each of those tiny problems
    made the fit 4x slower in wall time on a 2-core machine (parallelism comes
    from ``n_cpus`` worker processes instead).
    """
    with warnings.catch_warnings(record=True) as caught, threadpool_limits(limits=1):
        warnings.simplefilter("always")
        dds = RTrendDeseqDataSet(
            counts=counts, metadata=meta, design=design, fit_type=fit_type,
            refit_cooks=True, n_cpus=n_cpus, quiet=True, inference=ExomirInference(n_cpus=n_cpus),
        )
        dds.deseq2()
    for warning in caught:
        LOG.warning("pyDESeq2: %s", warning.message)
    return dds

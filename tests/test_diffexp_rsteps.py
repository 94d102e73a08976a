"""Fast checks of exomir's R-DESeq2 steps on R's own inputs (tests/data/diffexp/cellline/).

Each step gets exactly what R computed before it, so any difference is the step's own.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from exomir.diffexp.rstats import independent_filtering, r_lowess
from exomir.diffexp.trend import TrendFitError, fit_trend, parametric_trend, trend_rows

CELLLINE = Path(__file__).parent / "data" / "diffexp" / "cellline"


def test_parametric_trend_equals_r_on_r_inputs():
    data = pd.read_csv(CELLLINE / "r_set1_trend_input.tsv", sep="\t", index_col=0)
    r = pd.read_csv(CELLLINE / "r_set1_trend.tsv", sep="\t", index_col=0)["value"]
    means, disps = data["baseMean"].to_numpy(), data["dispersion_genewise"].to_numpy()
    use = trend_rows(disps, 1e-8)
    assert use.sum() == 972  # R: dispGeneEst > 100 * minDisp
    trend = parametric_trend(means[use], disps[use])
    # inputs carry 10 significant digits; measured relative difference < 1e-9
    assert trend.asympt_disp == pytest.approx(r["asymptDisp"], rel=1e-7)
    assert trend.extra_pois == pytest.approx(r["extraPois"], rel=1e-7)


def test_failed_parametric_fit_falls_back_to_local_then_reports_it():
    means = np.geomspace(1, 1e4, 200)
    disps = 0.05 * np.ones_like(means) * (1 + np.sin(np.log(means)))  # not a/x + b; some at 0
    disps[disps <= 1e-6] = 1e-8
    with pytest.raises(TrendFitError):
        parametric_trend(means[disps > 1e-6], -disps[disps > 1e-6])
    trend, note = fit_trend(means, disps, "mean", 1e-8)
    assert trend.kind == "mean" and note == ""
    trend, note = fit_trend(means, disps, "local", 1e-8)
    assert trend.kind == "local" and np.all(np.isfinite(trend(means)))


@pytest.mark.parametrize("tag", ["set1", "set2", "set3"])
def test_independent_filtering_equals_r_on_r_pvalues(tag):
    r = pd.read_csv(CELLLINE / f"r_{tag}_results.tsv", sep="\t", index_col=0)
    fit = pd.read_csv(CELLLINE / f"r_{tag}_fit.tsv", sep="\t", index_col=0)["value"]
    result = independent_filtering(r["baseMean"].to_numpy(), r["pvalue"].to_numpy(), 0.1)
    assert result.threshold == pytest.approx(float(fit["filter_threshold"]), rel=1e-6)
    assert int((result.padj < 0.1).sum()) == int(fit["calls_padj_0.1"])
    assert np.array_equal(np.isnan(result.padj), r["padj"].isna().to_numpy())


def test_r_lowess_known_values():
    # R 4.2.2: lowess(1:10, c(2,4,3,6,5,8,7,10,9,30), f = 1/2)$y
    x = np.arange(1, 11, dtype=float)
    y = np.array([2, 4, 3, 6, 5, 8, 7, 10, 9, 30], dtype=float)
    expected = np.array(R_LOWESS)
    assert r_lowess(x, y, f=1 / 2) == pytest.approx(expected, abs=1e-6)


R_LOWESS = [2.2873968836, 3.1697210255, 4.1521206544, 4.8549336451, 6.1452459565,
            6.8550914846, 8.1594737974, 10.0000000000, 20.6686245522, 29.6124186722]

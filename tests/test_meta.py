"""Cross-cohort random-effects meta-analysis (issue 20.2)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import yaml

from exomir.errors import ExomirInputError
from exomir.markers.meta import agreement, literature_directions, meta_table, oriented_effects, pool
from support import ROOT, default_config, make_workdir, run_snakemake

META = ROOT / "tests" / "data" / "meta"


def dl_oracle(y: np.ndarray, se: np.ndarray) -> tuple[float, float, float]:
    """DerSimonian-Laird by hand (tau^2 truncated at 0): pooled estimate, its SE and tau^2."""
    w = 1 / se**2
    fe = (w * y).sum() / w.sum()
    q = (w * (y - fe) ** 2).sum()
    tau2 = max(0.0, (q - (len(y) - 1)) / (w.sum() - (w**2).sum() / w.sum()))
    wr = 1 / (se**2 + tau2)
    return float((wr * y).sum() / wr.sum()), float(math.sqrt(1 / wr.sum())), tau2


@pytest.mark.parametrize("y, se", [([1.0, 2.0, 0.5], [0.3, 0.45, 0.55]), ([1.0, 1.1, 0.9], [0.5, 0.6, 0.4])])
def test_pool_equals_dersimonian_laird(y, se):
    y, se = np.array(y), np.array(se)
    estimate, sd, tau2 = dl_oracle(y, se)
    got = pool(y, se, "dl")
    assert got["pooled_log2FoldChange"] == pytest.approx(estimate, abs=1e-12)
    assert got["se"] == pytest.approx(sd, abs=1e-12)
    assert got["tau2"] == pytest.approx(tau2, abs=1e-12)
    assert got["ci_low"] == pytest.approx(estimate - 1.959963984540054 * sd, abs=1e-12)
    assert 0 <= got["I2"] < 1


def test_pool_first_case_exact():
    got = pool(np.array([1.0, 2.0, 0.5]), np.array([0.3, 0.45, 0.55]), "dl")
    assert round(got["tau2"], 6) == 0.287574 and round(got["Q"], 6) == 5.207052
    assert round(got["I2"], 6) == 0.615906
    # second case: homogeneous, the raw moment estimate is negative and truncated to 0
    assert pool(np.array([1.0, 1.1, 0.9]), np.array([0.5, 0.6, 0.4]), "dl")["tau2"] == 0.0


def test_agreement_and_literature_directions():
    resolved = pd.DataFrame({"mirna": ["miR-21", "miR-21", "miR-9", "miR-7"],
                             "mirbase_names": ["hsa-miR-21-5p", "hsa-miR-21-5p;hsa-miR-21-3p", "hsa-miR-9-5p", ""],
                             "direction": ["up", "down", "up", "up"]})
    found = literature_directions(resolved)
    assert found == {"hsa-miR-21-5p": ("miR-21", "conflicting"), "hsa-miR-21-3p": ("miR-21", "down"),
                     "hsa-miR-9-5p": ("miR-9", "up")}
    assert agreement("up", 1.2, 0.3, 2.0) == "agrees"
    assert agreement("down", 1.2, 0.3, 2.0) == "contradicts"
    assert agreement("up", -0.2, -1.0, 0.6) == "inconclusive (CI includes 0), opposite sign"
    assert agreement("conflicting", 1.0, 0.5, 1.5) == "literature conflicting"


def test_meta_table_orients_cohorts_and_lists_unpooled_markers():
    resolved = pd.DataFrame({"mirna": ["miR-21", "miR-9"], "mirbase_names": ["hsa-miR-21-5p", "hsa-miR-9-5p"],
                             "direction": ["up", "down"]})
    a = pd.DataFrame({"mirna": ["hsa-miR-21-5p", "hsa-miR-9-5p"], "log2FoldChange": [1.0, 0.4],
                      "lfcSE": [0.3, 0.2], "padj": [0.01, 0.2]})
    # cohort b is written control over cancer: its sign is flipped; miR-9 filtered there (padj NA)
    b = pd.DataFrame({"mirna": ["hsa-miR-21-5p", "hsa-miR-9-5p"], "log2FoldChange": [-2.0, 0.1],
                      "lfcSE": [0.45, 0.3], "padj": [0.02, float("nan")]})
    effects = pd.concat([
        oriented_effects(a, {"name": "a", "level": "cancer", "reference": "healthy"}, ["cancer"]),
        oriented_effects(b, {"name": "b", "level": "healthy", "reference": "cancer"}, ["cancer"]),
    ])
    table = meta_table(effects, resolved, "dl").set_index("mature")
    estimate, _, _ = dl_oracle(np.array([1.0, 2.0]), np.array([0.3, 0.45]))
    assert table.loc["hsa-miR-21-5p", "pooled_log2FoldChange"] == pytest.approx(estimate, abs=1e-12)
    assert table.loc["hsa-miR-21-5p", "cohort_signs"] == "++"
    assert table.loc["hsa-miR-21-5p", "direction_agreement"] == "agrees"
    assert table.loc["hsa-miR-9-5p", "direction_agreement"] == "not pooled: tested in 1 cohort(s)"
    assert list(table.index) == ["hsa-miR-21-5p", "hsa-miR-9-5p"]
    with pytest.raises(ExomirInputError, match="neither 'x' nor 'y' is a cancer level"):
        oriented_effects(a, {"name": "c", "level": "x", "reference": "y"}, ["cancer"])


@pytest.mark.workflow
def test_meta_analysis_of_the_cell_line_sets_with_snakemake(tmp_path):
    """Three real cancer cell-line sets vs the healthy set through rules meta_cohort and meta_analysis."""
    config = default_config()
    counts = str(ROOT / "tests" / "data" / "diffexp" / "cellline" / "counts.tsv")
    config["meta_analysis"] = {"method": "dl", "cohorts": [
        {"name": f"cellline_set{n}", "factor": "condition", "level": "cancer", "reference": "healthy",
         "counts": counts, "samples": str(META / f"cellline_set{n}.tsv")} for n in (1, 2, 3)]}
    workdir = make_workdir(tmp_path / "run", config)
    run_snakemake(workdir, "results/meta/meta_analysis.tsv", "results/meta/forest.svg")
    table = pd.read_csv(workdir / "results/meta/meta_analysis.tsv", sep="\t").set_index("mature")
    pooled = table[table["n_cohorts"] == 3]
    # the review's markers as these cell-line sets show them (tests/data/meta/README.md for caveats)
    assert set(pooled.index[pooled["direction_agreement"] == "agrees"]) == {
        "hsa-miR-9-5p", "hsa-miR-101-2-5p", "hsa-miR-101-3p", "hsa-miR-411-3p", "hsa-miR-411-5p"}
    assert round(table.loc["hsa-miR-101-3p", "pooled_log2FoldChange"], 2) == -5.93
    assert table.loc["hsa-miR-101-3p", "cohort_signs"] == "---"
    assert table.loc["hsa-miR-21-5p", "direction_agreement"] == "not pooled: tested in 0 cohort(s)"
    assert (pooled["I2"].between(0, 1)).all() and (pooled["tau2"] >= 0).all()
    assert "Cross-cohort meta-analysis" in (workdir / "results/meta/forest.svg").read_text()

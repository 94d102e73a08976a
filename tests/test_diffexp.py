"""Tests of exomir.diffexp: parity with R DESeq2, planted changes, input errors, outputs.

Fixtures (tests/data/diffexp/, see its README.md):
* simulated/: 40 miRNAs x 8 samples with six planted fold changes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from exomir.diffexp import (
    DiffexpSettings,
    contrast_results,
    design_terms,
    model_metadata,
    fit_model,
    prepare,
    run_cohort,
    run_contrast,
)
from exomir.errors import ExomirInputError

DATA = Path(__file__).parent / "data" / "diffexp"
SIMULATED = DATA / "simulated"
CELLLINE = DATA / "cellline"

CANCER_VS_HEALTHY = {"name": "cancer_vs_healthy", "factor": "condition", "level": "cancer", "reference": "healthy"}
CASE_VS_CONTROL = {"name": "case_vs_control", "factor": "condition", "level": "case", "reference": "control"}


def settings(contrast: dict, **overrides) -> DiffexpSettings:
    section = {"design": "~ condition", "contrasts": [contrast], "n_cpus": 1, **overrides}
    return DiffexpSettings.from_config(section)


def write_flags(path: Path, sheet: Path, failing: dict[str, str]) -> Path:
    samples = pd.read_csv(sheet, sep="\t", dtype=str)["sample"]
    rows = [
        {"sample": s, "status": "fail" if s in failing else "pass", "reasons": failing.get(s, "")}
        for s in samples
    ]
    pd.DataFrame(rows).to_csv(path, sep="\t", index=False)
    return path


# Parity with R DESeq2 at default settings: tests/test_diffexp_parity.py (cell-line fixtures).


# --------------------------------------------------------------------------- planted changes


@pytest.mark.parametrize("design", ["~ condition", "~ batch + condition"])
def test_simulated_calls_are_exactly_the_planted_changes(design):
    config = settings(CASE_VS_CONTROL, design=design, prefilter=True)
    counts, samples, keep = prepare(SIMULATED / "counts.tsv", SIMULATED / "samples.tsv", None, True, config)
    assert sorted(counts.index[~keep]) == ["sim-miR-039", "sim-miR-040"]
    results = contrast_results(counts, samples, config, config.contrasts[0], keep).set_index("mirna")
    # prefiltered rows stay in the table, with NA statistics and the reason
    assert len(results) == 40
    low = results.loc[["sim-miR-039", "sim-miR-040"]]
    assert (low["filter"] == "prefilter").all() and low["pvalue"].isna().all() and low["padj"].isna().all()
    results = results.drop(index=["sim-miR-039", "sim-miR-040"])
    truth = pd.read_csv(SIMULATED / "truth.tsv", sep="\t", index_col=0)["planted_log2fc"]
    planted = set(truth.index[truth != 0])
    assert set(results.index[results["padj"] < 0.1]) == planted
    assert (np.sign(results.loc[sorted(planted), "log2FoldChange"]) == np.sign(truth.loc[sorted(planted)])).all()
    # Shrinkage pulls towards zero, never past it.
    shrunk, mle = results["log2FoldChange_shrunk"], results["log2FoldChange"]
    assert ((shrunk.abs() <= mle.abs() + 1e-9) & (np.sign(shrunk) * np.sign(mle) >= 0)).all()


def test_reference_level_sets_the_sign():
    flipped = settings({"name": "control_vs_case", "factor": "condition", "level": "control", "reference": "case"})
    counts, samples, keep = prepare(SIMULATED / "counts.tsv", SIMULATED / "samples.tsv", None, True, flipped)
    results = contrast_results(counts.loc[keep], samples, flipped, flipped.contrasts[0]).set_index("mirna")
    assert results.loc["sim-miR-001", "log2FoldChange"] < -2
    assert {"mean_norm_control", "mean_norm_case"} <= set(results.columns)


# --------------------------------------------------------------------------- input errors


def sheet_with(tmp_path: Path, frame: pd.DataFrame) -> Path:
    path = tmp_path / "samples.tsv"
    frame.to_csv(path, sep="\t", index=False)
    return path


def simulated_sheet() -> pd.DataFrame:
    return pd.read_csv(SIMULATED / "samples.tsv", sep="\t", dtype=str)


def test_error_level_with_fewer_than_two_samples(tmp_path):
    sheet = simulated_sheet()
    sheet.loc[sheet["sample"] == "S1", "condition"] = "rare"
    config = settings({"name": "rare_vs_control", "factor": "condition", "level": "rare", "reference": "control"})
    with pytest.raises(ExomirInputError, match=r"level 'rare' of factor 'condition' has only 1 used sample"):
        prepare(SIMULATED / "counts.tsv", sheet_with(tmp_path, sheet), None, True, config)


def test_error_factor_not_in_sample_sheet():
    config = settings({"name": "a_vs_b", "factor": "treatment", "level": "a", "reference": "b"})
    with pytest.raises(ExomirInputError, match=r"factor 'treatment' is not in the design .* nor in the sample sheet"):
        prepare(SIMULATED / "counts.tsv", SIMULATED / "samples.tsv", None, True, config)
    in_design = settings(CASE_VS_CONTROL, design="~ treatment + condition")
    with pytest.raises(ExomirInputError, match=r"design factor\(s\) \['treatment'\] are not columns of the sample sheet"):
        prepare(SIMULATED / "counts.tsv", SIMULATED / "samples.tsv", None, True, in_design)


def test_error_level_absent():
    config = settings({"name": "Case_vs_control", "factor": "condition", "level": "Case", "reference": "control"})
    with pytest.raises(ExomirInputError, match=r"level 'Case' of factor 'condition' has no used sample"):
        prepare(SIMULATED / "counts.tsv", SIMULATED / "samples.tsv", None, True, config)
    bad_reference = settings(CASE_VS_CONTROL, reference_levels={"condition": "healthy"})
    with pytest.raises(ExomirInputError, match=r"reference level 'healthy' of factor 'condition' has no used sample"):
        prepare(SIMULATED / "counts.tsv", SIMULATED / "samples.tsv", None, True, bad_reference)


def test_error_design_not_full_rank():
    # In the real cell-line cohort each batch holds a single condition.
    config = settings(CANCER_VS_HEALTHY, design="~ batch + condition")
    with pytest.raises(ExomirInputError, match=r"is not full rank \(5 coefficients, rank 4\)"):
        prepare(CELLLINE / "counts.tsv", CELLLINE / "samples.tsv", None, True, config)


def test_error_fewer_than_two_samples_after_qc(tmp_path):
    sheet = simulated_sheet().head(3)
    flags = write_flags(tmp_path / "flags.tsv", sheet_with(tmp_path, sheet), {"S1": "low_reads", "S2": "hemolysis"})
    config = settings(CASE_VS_CONTROL)
    with pytest.raises(ExomirInputError, match=r"only 1 sample\(s\) left .* \(excluded: S1, S2\)"):
        prepare(SIMULATED / "counts.tsv", tmp_path / "samples.tsv", flags, True, config)


def test_error_qc_exclusion_leaves_a_level_with_one_sample(tmp_path):
    flags = write_flags(tmp_path / "flags.tsv", SIMULATED / "samples.tsv", {"S1": "x", "S3": "y", "S5": "z"})
    with pytest.raises(ExomirInputError, match=r"level 'case' .* has only 1 used sample"):
        prepare(SIMULATED / "counts.tsv", SIMULATED / "samples.tsv", flags, True, settings(CASE_VS_CONTROL))


@pytest.mark.parametrize(
    ("contrast", "message"),
    [
        ({"name": "a/b", "factor": "condition", "level": "case", "reference": "control"}, "not usable as a folder"),
        ({"name": "same", "factor": "condition", "level": "case", "reference": "case"}, "with itself"),
        ({"name": "x", "factor": "condition", "level": "case"}, "lacks reference"),
    ],
)
def test_error_bad_contrast_definition(contrast, message):
    with pytest.raises(ExomirInputError, match=message):
        settings(contrast)


@pytest.mark.parametrize("design", ["condition", "~ batch * condition", "~ log(condition)", "~ a + a"])
def test_error_unsupported_design(design):
    with pytest.raises(ExomirInputError):
        design_terms(design)


def test_error_non_integer_counts(tmp_path):
    counts = pd.read_csv(SIMULATED / "counts.tsv", sep="\t")
    counts["S1"] = counts["S1"].astype(float)
    counts.loc[0, "S1"] = 2.5
    counts.to_csv(tmp_path / "counts.tsv", sep="\t", index=False)
    with pytest.raises(ExomirInputError, match="non-integer"):
        prepare(tmp_path / "counts.tsv", SIMULATED / "samples.tsv", None, True, settings(CASE_VS_CONTROL))


# --------------------------------------------------------------------------- QC flags


def test_failed_samples_excluded_or_kept_and_marked(tmp_path):
    flags = write_flags(tmp_path / "flags.tsv", SIMULATED / "samples.tsv", {"S8": "low_mirna_reads"})
    config = settings(CASE_VS_CONTROL)
    _, excluded, _ = prepare(SIMULATED / "counts.tsv", SIMULATED / "samples.tsv", flags, True, config)
    row = excluded.set_index("sample").loc["S8"]
    assert (row["used"], row["note"]) == ("no", "excluded: QC status fail (low_mirna_reads)")
    # batch is shown (for the PCA) although the design is ~ condition.
    assert list(excluded.columns) == ["sample", "batch", "condition", "qc_status", "qc_reasons", "used", "note"]
    assert (excluded["used"] == "yes").sum() == 7
    _, kept, _ = prepare(SIMULATED / "counts.tsv", SIMULATED / "samples.tsv", flags, False, config)
    row = kept.set_index("sample").loc["S8"]
    assert row["used"] == "yes" and row["note"].startswith("kept despite QC status fail (low_mirna_reads)")


# --------------------------------------------------------------------------- outputs


def run_stage(out: Path, flags: Path) -> None:
    config = settings(CASE_VS_CONTROL, design="~ batch + condition", top_n=5)
    run_cohort(SIMULATED / "counts.tsv", SIMULATED / "samples.tsv", flags, True, config, out)
    run_contrast(out / "case_vs_control" / "results.tsv", out / "samples.tsv", out / "vst.tsv", config,
                 "case_vs_control", out / "case_vs_control")


@pytest.fixture(scope="module")
def stage_outputs(tmp_path_factory):
    root = tmp_path_factory.mktemp("diffexp")
    flags = write_flags(root / "flags.tsv", SIMULATED / "samples.tsv", {"S8": "low_mirna_reads"})
    run_stage(root / "a", flags)
    run_stage(root / "b", flags)
    return root


COHORT_FILES = [
    "samples.tsv", "size_factors.tsv", "normalized_counts.tsv", "vst.tsv", "pca.tsv", "pca_variance.tsv",
    "sample_distances.tsv", "dispersions.tsv", "vst_parameters.json", "pca.svg", "sample_distances.svg",
    "dispersion.svg",
]
CONTRAST_FILES = ["results.tsv", "top_mirnas.tsv", "ma.svg", "volcano.svg", "heatmap_top.svg"]


def test_outputs_exist_and_are_byte_identical_across_runs(stage_outputs):
    names = COHORT_FILES + [f"case_vs_control/{name}" for name in CONTRAST_FILES]
    for name in names:
        first, second = (stage_outputs / run / name for run in ("a", "b"))
        assert first.read_bytes() == second.read_bytes(), name
    for name in names:
        if name.endswith(".svg"):
            text = (stage_outputs / "a" / name).read_text()
            assert "<dc:date>" not in text and text.startswith("<?xml")


def test_results_table_follows_the_contract(stage_outputs):
    results = pd.read_csv(stage_outputs / "a" / "case_vs_control" / "results.tsv", sep="\t")
    assert list(results.columns) == [
        "mirna", "baseMean", "log2FoldChange", "lfcSE", "stat", "pvalue", "padj", "log2FoldChange_shrunk",
        "filter", "mean_norm_case", "mean_norm_control", "hemolysis_sensitive", "note",
    ]
    assert len(results) == 40  # every miRNA of the matrix is a row
    key = list(zip(results["padj"].fillna(np.inf), results["pvalue"].fillna(np.inf), results["mirna"]))
    assert key == sorted(key)
    assert set(results.loc[results["padj"] < 0.1, "mirna"]) == {f"sim-miR-00{i}" for i in range(1, 7)}


def test_cohort_tables(stage_outputs):
    out = stage_outputs / "a"
    samples = pd.read_csv(out / "samples.tsv", sep="\t", dtype=str, keep_default_na=False)
    assert list(samples["sample"]) == [f"S{i}" for i in range(1, 9)]
    assert list(samples["used"]) == ["yes"] * 7 + ["no"]
    size_factors = pd.read_csv(out / "size_factors.tsv", sep="\t")
    assert list(size_factors["sample"]) == [f"S{i}" for i in range(1, 8)]
    normalized = pd.read_csv(out / "normalized_counts.tsv", sep="\t", index_col=0)
    counts = pd.read_csv(SIMULATED / "counts.tsv", sep="\t", index_col=0)
    # Median of ratios over the prefiltered miRNAs of the 7 used samples.
    used = counts.loc[[m for m in counts.index if m not in ("sim-miR-039", "sim-miR-040")], size_factors["sample"]]
    log_geomean = np.log(used).mean(axis=1)
    expected_sf = np.exp(np.log(used).sub(log_geomean, axis=0).median(axis=0))
    assert np.allclose(size_factors["size_factor"], expected_sf, rtol=1e-5)
    assert list(normalized.index) == sorted(counts.index)  # all miRNAs, sorted
    expected = counts.loc["sim-miR-010", "S3"] / size_factors.set_index("sample").loc["S3", "size_factor"]
    assert normalized.loc["sim-miR-010", "S3"] == pytest.approx(expected, rel=1e-5)
    vst = pd.read_csv(out / "vst.tsv", sep="\t", index_col=0)
    assert vst.shape == (40, 7)  # no prefilter by default: every miRNA
    pca = pd.read_csv(out / "pca.tsv", sep="\t")
    assert list(pca.columns[:3]) == ["sample", "batch", "condition"]
    top = pd.read_csv(out / "case_vs_control" / "top_mirnas.tsv", sep="\t", index_col=0)
    assert top.shape == (5, 7)
    assert list(top.columns) == ["S1", "S3", "S5", "S7", "S2", "S4", "S6"]  # level first, then reference


def test_shrink_off_leaves_the_shrunk_column_empty():
    config = settings(CASE_VS_CONTROL, shrink=False)
    counts, samples, keep = prepare(SIMULATED / "counts.tsv", SIMULATED / "samples.tsv", None, True, config)
    results = contrast_results(counts.loc[keep], samples, config, config.contrasts[0])
    assert results["log2FoldChange_shrunk"].isna().all()
    assert results["log2FoldChange"].notna().all()


def test_unknown_contrast_name():
    with pytest.raises(ExomirInputError, match=r"contrast 'nope' is not defined .* use one of: case_vs_control"):
        settings(CASE_VS_CONTROL).contrast("nope")


DEMO = Path(__file__).parents[1] / "resources" / "demo"


def test_demo_true_counts_recover_the_planted_changes(tmp_path):
    """The demo's true read counts (before any pipeline step) with the demo design.

    Measured (pyDESeq2 0.5.4, ~ batch + condition, default prefilter: 182 miRNAs tested):
    19 of 20 planted miRNAs called at padj < 0.1, 2 others called (hsa-miR-2110,
    hsa-miR-580-3p, chance differences of the simulated abundances); hsa-miR-939-5p is
    removed by the prefilter (>= 10 reads in only 5 of the 6 samples required).
    """
    truth = pd.read_csv(DEMO / "truth.tsv", sep="\t", index_col=0)
    config = settings(
        {"name": "breast_cancer_vs_control", "factor": "condition", "level": "breast_cancer", "reference": "control"},
        design="~ batch + condition",
        reference_levels={"condition": "control"},
    )
    counts, samples, keep = prepare(DEMO / "truth_counts.tsv", DEMO / "samples.tsv", None, True, config)
    results = contrast_results(counts.loc[keep], samples, config, config.contrasts[0]).set_index("mirna")
    called = set(results.index[results["padj"] < 0.1])
    planted = set(truth.index)
    tested_planted = planted & set(results.index)
    assert tested_planted <= called  # every planted miRNA that is tested is found
    assert len(called & planted) / len(planted) >= 0.9
    assert len(called - planted) / len(called) <= 0.15
    signs = np.sign(results.loc[sorted(tested_planted), "log2FoldChange"])
    assert (signs == np.sign(truth.loc[sorted(tested_planted), "log2fc"])).all()


# --------------------------------------------------------------------------- one fit per design


def test_one_fit_serves_every_contrast_and_the_vst(tmp_path, monkeypatch):
    """Two contrasts with different references and the VST come from one fit (issue 19 item 4).

    The reversed contrast is tested and shrunk on the same fit re-expressed with its own
    baseline; it matches a separate fit with that baseline (the former per-contrast refit).
    """
    import exomir.diffexp.model as model

    fits = []
    real = model.fit_dataset
    monkeypatch.setattr(model, "fit_dataset", lambda *a, **k: fits.append(a[2]) or real(*a, **k))
    reverse = {"name": "control_vs_case", "factor": "condition", "level": "control", "reference": "case"}
    config = DiffexpSettings.from_config({"design": "~ batch + condition", "n_cpus": 1, "hemolysis_check": False,
                                          "contrasts": [CASE_VS_CONTROL, reverse]})
    run_cohort(SIMULATED / "counts.tsv", SIMULATED / "samples.tsv", None, True, config, tmp_path)
    assert fits == ["~ batch + condition"]  # cohort tables, VST and both contrasts: one fit
    served = pd.read_csv(tmp_path / "control_vs_case" / "results.tsv", sep="\t").set_index("mirna")
    forward = pd.read_csv(tmp_path / "case_vs_control" / "results.tsv", sep="\t").set_index("mirna")
    counts, samples, keep = prepare(SIMULATED / "counts.tsv", SIMULATED / "samples.tsv", None, True, config)
    alone = contrast_results(counts, samples, config, config.contrasts[1], keep).set_index("mirna").loc[served.index]
    assert np.allclose(served["log2FoldChange"], -forward.loc[served.index, "log2FoldChange"], atol=1e-6)
    assert np.allclose(served["log2FoldChange"], alone["log2FoldChange"], atol=1e-4)
    assert np.allclose(served["padj"], alone["padj"], rtol=1e-3)
    assert np.allclose(served["log2FoldChange_shrunk"], alone["log2FoldChange_shrunk"], atol=1e-3)

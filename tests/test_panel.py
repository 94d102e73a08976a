"""Locked-panel validation (issue 20.1): model file, scoring without refitting, refusals.

Cohorts are simulated here as negative-binomial counts with planted log2 fold changes, so the
AUC the locked panel should reach on an independent cohort is known from the simulator.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from exomir.errors import ExomirInputError
from exomir.markers.diagnostics import nested_cv_panel
from exomir.markers.panel import (
    apply_transform,
    build_model,
    check_compatible,
    fit_final_panel,
    fit_locked_transform,
    locked_size_factors,
    panel_probability,
    read_model,
    score_counts,
    write_model,
    youden_threshold,
)
from exomir.markers.validation import calibration_table, validation_metrics, wilson_interval

N_MIRNAS = 60
MARKERS = ["hsa-miR-sim-0", "hsa-miR-sim-1", "hsa-miR-sim-2"]
LFC = 0.5  # log2 fold change of each planted marker (level over reference)
DISPERSION = 0.1
REFERENCE = {"species": "hsa", "mature_fasta_sha256": "a" * 64, "hairpin_fasta_sha256": "b" * 64}
CONTRAST = {"name": "bc_vs_ctrl", "factor": "condition", "level": "cancer", "reference": "control"}


def base_means() -> np.ndarray:
    """Per-miRNA mean of the reference group (fixed seed, shared by every simulated cohort)."""
    return np.random.default_rng(11).lognormal(6.0, 1.0, N_MIRNAS)


def simulate(seed: int, n_level: int, n_ref: int, lfc: float = LFC) -> tuple[pd.DataFrame, pd.DataFrame]:
    """NB counts (miRNA x sample) with ``lfc`` on MARKERS in the level group, and the sample sheet."""
    rng = np.random.default_rng(seed)
    mu = np.tile(base_means()[:, None], (1, n_level + n_ref))
    mu[: len(MARKERS), :n_level] *= 2.0**lfc
    mu *= rng.uniform(0.6, 1.6, n_level + n_ref)[None, :]  # library sizes differ
    size = 1.0 / DISPERSION
    counts = rng.negative_binomial(size, size / (size + mu))
    samples = [f"S{seed}_{i:02d}" for i in range(n_level + n_ref)]
    names = [f"hsa-miR-sim-{i}" for i in range(N_MIRNAS)]
    sheet = pd.DataFrame({"sample": samples, "condition": ["cancer"] * n_level + ["control"] * n_ref})
    return pd.DataFrame(counts, index=names, columns=samples), sheet


def expected_auc(lfc: float = LFC) -> float:
    """AUC of the optimal linear rule on the planted markers: Phi(D / sqrt 2), D the Mahalanobis
    distance of the two groups on the log2 scale, var(log2 count) ~ (1/mu + dispersion) / ln(2)^2."""
    mu = base_means()[: len(MARKERS)]
    sd = np.sqrt((1 / mu + DISPERSION) / math.log(2) ** 2)
    return float(norm.cdf(np.sqrt(np.sum((lfc / sd) ** 2)) / math.sqrt(2)))


@pytest.fixture(scope="module")
def model() -> dict:
    """A model locked on a simulated discovery cohort of 30 vs 30 samples."""
    counts, _ = simulate(1, 30, 30)
    transform = fit_locked_transform(counts)
    vst = apply_transform(counts, transform)
    features = list(counts.index[:8])  # 3 planted markers + 5 null candidates
    X = vst.loc[features].to_numpy().T
    y = np.array([1] * 30 + [0] * 30)
    cv = nested_cv_panel(X, y, features, 3, 5, 2, 7)
    panel = fit_final_panel(X, y, features, 3, 5, 7)
    threshold = youden_threshold(cv.oof_score, y)
    return build_model(CONTRAST, REFERENCE, list(counts.index), transform, panel, threshold, {"n_level": 30})


def test_locked_transform_reproduces_pydeseq2_vst():
    from pydeseq2.dds import DeseqDataSet

    counts, sheet = simulate(2, 6, 6)
    meta = sheet.set_index("sample")
    dds = DeseqDataSet(counts=counts.T, metadata=meta, design="~condition", quiet=True)
    dds.vst(use_design=False)
    locked = apply_transform(counts, fit_locked_transform(counts))
    assert np.abs(locked.to_numpy() - dds.layers["vst_counts"].T).max() < 1e-9
    # size factors of the discovery samples are DESeq2's own
    sf = locked_size_factors(counts, fit_locked_transform(counts)["size_factor_logmeans"])
    assert np.allclose(sf.to_numpy(), np.asarray(dds.obs["size_factors"]), rtol=1e-12)


def test_scoring_one_sample_does_not_depend_on_the_others():
    counts, _ = simulate(3, 5, 5)
    transform = fit_locked_transform(counts)
    new, _ = simulate(4, 4, 4)
    together = apply_transform(new, transform)
    alone = apply_transform(new[["S4_00"]], transform)
    assert together["S4_00"].to_numpy() == pytest.approx(alone["S4_00"].to_numpy(), abs=0)


def test_final_panel_numbers_match_the_fitted_pipeline():
    from exomir.markers.diagnostics import DEFAULT_C_GRID, fit_fold_model

    counts, _ = simulate(5, 12, 12)
    vst = apply_transform(counts, fit_locked_transform(counts))
    features = list(counts.index[:6])
    X, y = vst.loc[features].to_numpy().T, np.array([1] * 12 + [0] * 12)
    panel = fit_final_panel(X, y, features, 3, 4, 9)
    pipeline = fit_fold_model(X, y, 3, 4, DEFAULT_C_GRID, 9)
    assert panel_probability(vst.loc[features], panel).to_numpy() == pytest.approx(
        pipeline.predict_proba(X)[:, 1], abs=1e-12
    )
    assert len(panel["markers"]) == 3 and set(panel["markers"]) <= set(features)


def test_youden_threshold_exact():
    scores = np.array([0.1, 0.4, 0.35, 0.8, 0.7, 0.2])
    labels = np.array([0, 0, 1, 1, 1, 0])
    # threshold 0.35: tpr 1, fpr 1/3 (J 0.667); threshold 0.7: tpr 2/3, fpr 0 (J 0.667): the higher wins
    assert youden_threshold(scores, labels) == {"value": 0.7, "sensitivity": 2 / 3, "specificity": 1.0}


def test_model_file_round_trip_and_tamper_detection(tmp_path, model):
    path = tmp_path / "panel_model.json"
    write_model(model, path)
    first = path.read_bytes()
    write_model(model, path)
    assert path.read_bytes() == first  # deterministic bytes
    loaded = read_model(path)
    assert loaded["panel"] == model["panel"] and loaded["checksum"].startswith("sha256:")
    assert set(loaded["software"]) >= {"exomir", "scikit-learn", "numpy", "pydeseq2"}
    edited = json.loads(first)
    edited["threshold"]["value"] = 0.01
    path.write_text(json.dumps(edited))
    with pytest.raises(ExomirInputError, match="checksum mismatch: the model file was modified"):
        read_model(path)
    path.write_text(json.dumps({"format": "something else"}))
    with pytest.raises(ExomirInputError, match="not an exomir-locked-panel file"):
        read_model(path)


def test_validation_cohort_reaches_the_simulated_auc(model):
    counts, _ = simulate(21, 60, 60)
    scores = score_counts(model, counts)
    y = np.array([1] * 60 + [0] * 60)
    metrics = validation_metrics(scores["probability"].to_numpy(), y, model["threshold"]["value"], 500, 3)
    expected = expected_auc()
    assert 0.85 < expected < 0.95  # the simulator's design: a clear but imperfect signal
    assert abs(metrics["auc"] - expected) < 0.08, (metrics["auc"], expected)
    assert metrics["auc_ci_low"] < metrics["auc"] < metrics["auc_ci_high"]
    assert 0.6 < metrics["sensitivity"] and 0.6 < metrics["specificity"]
    assert set(model["panel"]["markers"]) & set(MARKERS)


def test_null_validation_cohort_has_auc_near_half(model):
    counts, _ = simulate(22, 60, 60, lfc=0.0)
    scores = score_counts(model, counts)
    y = np.array([1] * 60 + [0] * 60)
    metrics = validation_metrics(scores["probability"].to_numpy(), y, model["threshold"]["value"], 500, 3)
    assert abs(metrics["auc"] - 0.5) < 0.12
    assert metrics["auc_ci_low"] < 0.5 < metrics["auc_ci_high"]


@pytest.mark.parametrize(
    "change, message",
    [
        ({"species": "mmu"}, "fitted with species 'hsa', these counts use 'mmu'"),
        ({"mature_fasta_sha256": "c" * 64}, "fitted with mature_fasta_sha256"),
    ],
)
def test_model_of_another_species_or_reference_is_refused(model, change, message):
    with pytest.raises(ExomirInputError, match=message):
        check_compatible(model, "panel_model.json", {**REFERENCE, **change}, model["features"]["names"])


def test_model_of_another_feature_set_is_refused(model):
    names = model["features"]["names"][:-1] + ["hsa-miR-other"]
    with pytest.raises(ExomirInputError, match=r"feature set differs from the model's \(60 miRNAs\): 1 missing"):
        check_compatible(model, "panel_model.json", REFERENCE, names)
    check_compatible(model, "panel_model.json", REFERENCE, list(reversed(model["features"]["names"])))


def test_calibration_and_wilson_exact():
    prob = np.array([0.05, 0.15, 0.55, 0.65, 0.95, 0.9])
    y = np.array([0, 0, 1, 0, 1, 1])
    table = calibration_table(prob, y, 2)
    assert table["n"].tolist() == [2, 4]
    assert table["observed_fraction"].tolist() == [0.0, 0.75]
    assert table["mean_predicted"].tolist() == pytest.approx([0.1, 0.7625])
    lo, hi = wilson_interval(8, 10)
    assert (round(lo, 4), round(hi, 4)) == (0.4902, 0.9433)


# ------------------------------------------------------------------ Snakemake rules, end to end
PLANTED = {"hsa-miR-sim-0": "hsa-miR-21-5p", "hsa-miR-sim-1": "hsa-miR-101-3p", "hsa-miR-sim-2": "hsa-miR-16-5p"}


def _cohort_files(folder: Path, seed: int, n: int, lfc: float = LFC) -> tuple[Path, Path]:
    """A simulated cohort whose planted markers carry catalogue names (tests/data/markers catalogue)."""
    counts, sheet = simulate(seed, n, n, lfc)
    counts = counts.rename(index=PLANTED).rename_axis("mirna").reset_index()
    folder.mkdir(parents=True, exist_ok=True)
    counts.to_csv(folder / "counts.tsv", sep="\t", index=False)
    sheet.to_csv(folder / "samples.tsv", sep="\t", index=False)
    return folder / "counts.tsv", folder / "samples.tsv"


@pytest.mark.workflow
def test_discovery_locks_and_validation_scores_with_snakemake(tmp_path):
    """markers_contrast -> markers_panel_model -> validation_score on simulated cohorts; refusals."""
    import shutil
    import subprocess
    import sys

    import yaml

    from exomir.diffexp import DiffexpSettings, run_cohort, run_contrast

    root = Path(__file__).resolve().parents[1]
    run = tmp_path / "run"
    counts, sheet = _cohort_files(tmp_path / "discovery", 31, 20)
    val_counts, val_sheet = _cohort_files(tmp_path / "validation", 32, 30)
    contrast = dict(CONTRAST, name="bc_vs_ctrl")
    settings = DiffexpSettings.from_config({"design": "~ condition", "contrasts": [contrast], "shrink": False})
    (run / "results/quantify").mkdir(parents=True)
    shutil.copy(counts, run / "results/quantify/mature_counts.tsv")
    run_cohort(counts, sheet, None, False, settings, run / "results/diffexp")
    run_contrast(run / "results/diffexp/bc_vs_ctrl/results.tsv", run / "results/diffexp/samples.tsv",
                 run / "results/diffexp/vst.tsv", settings,
                 "bc_vs_ctrl", run / "results/diffexp/bc_vs_ctrl")
    (run / "results/references/hsa").mkdir(parents=True)
    shutil.copy(root / "tests/data/report/results_tree/references/hsa/checksums.tsv", run / "results/references/hsa")
    markers = yaml.safe_load((root / "config" / "config.yaml").read_text())["markers"]
    markers.update(catalogues=[str(root / "tests/data/markers/catalogue_small.tsv")],
                   other_catalogues=[str(root / "resources/markers/other_markers.tsv")],
                   mirbase_mature=str(root / "resources/mirbase/22.1/mature_hsa.fa.gz"),
                   mirbase_gff3=str(root / "resources/mirbase/22.1/hsa.gff3.gz"), bootstrap=200, cv_repeats=2,
                   panel_max_features=3)
    config = {"species": "hsa", "samples": str(sheet), "markers": markers,
              "diffexp": {"alpha": 0.1, "contrasts": [contrast], "fit_type": "parametric"},
              "validation": {"model": "results/markers/bc_vs_ctrl/panel_model.json", "counts": str(val_counts),
                             "samples": str(val_sheet), "calibration_bins": 5}}
    (run / "config.yaml").write_text(yaml.safe_dump(config))
    rules = root / "workflow" / "rules"
    (run / "Snakefile").write_text(
        'configfile: "config.yaml"\n'
        'CONTRASTS = [c["name"] for c in config["diffexp"]["contrasts"]]\nREF = "results/references/hsa"\n'
        + "".join(f'include: "{rules / name}"\n' for name in ("common_markers.smk", "markers.smk", "validation.smk"))
        + "rule all:\n    input: MARKERS_OUTPUTS, VALIDATION_OUTPUTS\n"
    )
    cmd = [sys.executable, "-m", "snakemake", "-s", "Snakefile", "-c1", "--quiet"]
    env = {**os.environ, "PYTHONPATH": str(root / "scripts")}  # rule scripts import this checkout's exomir
    proc = subprocess.run(cmd, cwd=run, capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    model = read_model(run / "results/markers/bc_vs_ctrl/panel_model.json")
    assert set(model["panel"]["markers"]) <= set(PLANTED.values()) | {"hsa-miR-21-3p", "hsa-miR-451a"}
    assert model["discovery"]["vst_max_relative_difference"] < 1e-5
    metrics = pd.read_csv(run / "results/validation/metrics.tsv", sep="\t").iloc[0]
    assert metrics["n_level"] == 30 and metrics["n_reference"] == 30
    assert abs(metrics["auc"] - expected_auc()) < 0.12, metrics["auc"]
    assert metrics["auc_ci_low"] < metrics["auc"] < metrics["auc_ci_high"]
    scores = pd.read_csv(run / "results/validation/scores.tsv", sep="\t")
    assert len(scores) == 60 and set(scores["call"]) <= {"cancer", "control"}

    # another feature set: one miRNA missing from the validation matrix -> refused, reason in the log
    pd.read_csv(val_counts, sep="\t").iloc[:-1].to_csv(val_counts, sep="\t", index=False)
    proc = subprocess.run(cmd + ["--forcerun", "validation_score"], cwd=run, capture_output=True, text=True, env=env)
    assert proc.returncode != 0
    log = (run / "logs/validation_score/validation_score.log").read_text()
    assert "feature set differs from the model's (60 miRNAs): 1 missing (e.g. ['hsa-miR-sim-59'])" in log


@pytest.mark.workflow
def test_validation_run_of_the_workflow_scores_a_count_matrix(tmp_path):
    """The project's Snakefile: validation.model + validation.counts/samples -> results/validation/."""
    from support import default_config, make_workdir, run_snakemake

    from exomir.markers.validation import reference_identity

    workdir = make_workdir(tmp_path / "run", default_config())
    run_snakemake(workdir, "results/references/hsa/checksums.tsv")
    counts, _ = simulate(1, 30, 30)
    transform = fit_locked_transform(counts)
    vst = apply_transform(counts, transform)
    features = list(counts.index[:8])
    X, y = vst.loc[features].to_numpy().T, np.array([1] * 30 + [0] * 30)
    cv = nested_cv_panel(X, y, features, 3, 5, 2, 7)
    contrast = {"name": "breast_cancer_vs_control", "factor": "condition", "level": "breast_cancer",
                "reference": "control"}
    model = build_model(contrast, reference_identity(workdir / "results/references/hsa/checksums.tsv", "hsa"),
                        list(counts.index), transform, fit_final_panel(X, y, features, 3, 5, 7),
                        youden_threshold(cv.oof_score, y), {"n_level": 30})
    write_model(model, workdir / "panel_model.json")
    val_counts, val_sheet = simulate(21, 60, 60)
    val_counts.rename_axis("mirna").reset_index().to_csv(workdir / "val_counts.tsv", sep="\t", index=False)
    val_sheet.replace({"cancer": "breast_cancer"}).to_csv(workdir / "val_samples.tsv", sep="\t", index=False)
    config = default_config()
    config["validation"].update(model="panel_model.json", counts="val_counts.tsv", samples="val_samples.tsv")
    make_workdir(workdir, config)
    run_snakemake(workdir, "results/validation/metrics.tsv", "results/validation/calibration.svg")
    metrics = pd.read_csv(workdir / "results/validation/metrics.tsv", sep="\t").iloc[0]
    assert (metrics["n_level"], metrics["n_reference"]) == (60, 60)
    assert abs(metrics["auc"] - expected_auc()) < 0.08
    assert metrics["model_checksum"] == read_model(workdir / "panel_model.json")["checksum"]


@pytest.mark.parametrize("kind", ["parametric", "mean", "local"])
def test_locked_vst_parameters_reproduce_the_cohort_vst_and_stay_fixed(kind):
    """vst_parameters.json (written by the diffexp fit) gives the cohort's VST back exactly, and a
    new sample is transformed with the discovery constants (the local trend's anchors included)."""
    from exomir.diffexp.trend import Trend
    from exomir.diffexp.vst import apply_vst_parameters, variance_stabilized, vst_parameters

    counts, _ = simulate(6, 6, 6)
    normalized = counts.astype(float) + 0.5
    trend = {
        "parametric": Trend("parametric", asympt_disp=0.05, extra_pois=1.2),
        "mean": Trend("mean", mean_disp=0.2),
        "local": Trend("local", grid_log_means=(0.0, 3.0, 8.0), grid_log_disps=(0.0, -2.0, -3.0)),
    }[kind]
    params = vst_parameters(normalized, trend)
    expected = variance_stabilized(normalized, trend)
    assert np.abs(apply_vst_parameters(normalized, params).to_numpy() - expected.to_numpy()).max() == 0
    one = apply_vst_parameters(normalized[["S6_00"]] * 3, params)
    alone = variance_stabilized(normalized[["S6_00"]] * 3, trend)
    if kind == "local":  # own anchors would move a lone sample's values; the locked ones do not
        assert not np.allclose(one.to_numpy(), alone.to_numpy())
    else:
        assert np.allclose(one.to_numpy(), alone.to_numpy(), rtol=0, atol=0)

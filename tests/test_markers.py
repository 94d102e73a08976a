"""Tests of the marker stage: catalogue, name resolution, annotation, diagnostic performance."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from exomir.errors import ExomirInputError
from exomir.markers import (
    EXPLORATORY,
    RENAMED,
    MirbaseNames,
    annotate_and_score,
    annotate_contrast,
    auc_score,
    bootstrap_auc_ci,
    concordance,
    contrast_orientation,
    contrast_samples,
    expand_review_name,
    load_catalogues,
    nested_cv_panel,
    parse_name,
    resolve_name,
    roc_curve_points,
    validate_table,
)

ROOT = Path(__file__).resolve().parents[1]
MARKERS = ROOT / "resources" / "markers"
MIRBASE = ROOT / "resources" / "mirbase" / "22.1"
DATA = ROOT / "tests" / "data" / "markers"
MIRNA_SCHEMA = MARKERS / "schema" / "mirnas.schema.yaml"
OTHER_SCHEMA = MARKERS / "schema" / "other_markers.schema.yaml"
SOURCE = MARKERS / "source" / "jia2017_oncotarget_8_41717.txt"


@pytest.fixture(scope="module")
def mirbase() -> MirbaseNames:
    return MirbaseNames.from_files(MIRBASE / "mature_hsa.fa.gz", MIRBASE / "hsa.gff3.gz", "hsa")


@pytest.fixture(scope="module")
def review_text() -> str:
    return re.sub(r"\s+", " ", SOURCE.read_text(encoding="utf-8"))


def _read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)


# ------------------------------------------------------------------ name resolution
@pytest.mark.parametrize(
    "name, mature, legacy",
    [
        # no arm given: both arms
        ("miR-21", "hsa-miR-21-3p;hsa-miR-21-5p", "hsa-miR-21-5p"),
        # arm given
        ("hsa-miR-21-5p", "hsa-miR-21-5p", "hsa-miR-21-5p"),
        ("miR-223-3p", "hsa-miR-223-3p", "hsa-miR-223-3p"),
        # multi-locus: all loci
        ("miR-16", "hsa-miR-16-1-3p;hsa-miR-16-2-3p;hsa-miR-16-5p", "hsa-miR-16-5p"),
        ("miR-16-1", "hsa-miR-16-1-3p;hsa-miR-16-5p", "hsa-miR-16-5p"),
        ("miR-16-2", "hsa-miR-16-2-3p;hsa-miR-16-5p", "hsa-miR-16-5p"),
        ("miR-16-3p", "hsa-miR-16-1-3p;hsa-miR-16-2-3p", "hsa-miR-16-1-3p;hsa-miR-16-2-3p"),
        ("miR-24", "hsa-miR-24-1-5p;hsa-miR-24-2-5p;hsa-miR-24-3p", "hsa-miR-24-3p"),
        # let-7 naming and loci
        ("let-7a", "hsa-let-7a-2-3p;hsa-let-7a-3p;hsa-let-7a-5p", "hsa-let-7a-5p"),
        ("let-7a-1", "hsa-let-7a-3p;hsa-let-7a-5p", "hsa-let-7a-5p"),
        ("let-7a-2", "hsa-let-7a-2-3p;hsa-let-7a-5p", "hsa-let-7a-5p"),
        ("let-7a-3", "hsa-let-7a-3p;hsa-let-7a-5p", "hsa-let-7a-5p"),
        ("hsa-let-7a-5p", "hsa-let-7a-5p", "hsa-let-7a-5p"),
        # legacy star names: the arm other than the legacy one
        ("miR-223*", "hsa-miR-223-5p", "hsa-miR-223-5p"),
        ("miR-16-1*", "hsa-miR-16-1-3p", "hsa-miR-16-1-3p"),
        ("miR-373*", "hsa-miR-373-5p", "hsa-miR-373-5p"),
        # prefixes and case
        ("mir-21", "hsa-miR-21-3p;hsa-miR-21-5p", "hsa-miR-21-5p"),
        ("HSA-MIR-155", "hsa-miR-155-3p;hsa-miR-155-5p", "hsa-miR-155-5p"),
        ("hsa-mir-16-1", "hsa-miR-16-1-3p;hsa-miR-16-5p", "hsa-miR-16-5p"),
        ("miR181b", "hsa-miR-181b-2-3p;hsa-miR-181b-3p;hsa-miR-181b-5p", "hsa-miR-181b-5p"),
        # HGNC gene symbols
        ("MIR21", "hsa-miR-21-3p;hsa-miR-21-5p", "hsa-miR-21-5p"),
        ("MIR16-1", "hsa-miR-16-1-3p;hsa-miR-16-5p", "hsa-miR-16-5p"),
        ("MIRLET7A1", "hsa-let-7a-3p;hsa-let-7a-5p", "hsa-let-7a-5p"),
        ("MIR181B1", "hsa-miR-181b-3p;hsa-miR-181b-5p", "hsa-miR-181b-5p"),
        # renamed and single-mature miRNAs
        ("miR-451", "hsa-miR-451a", "hsa-miR-451a"),
        ("miR-451a", "hsa-miR-451a", "hsa-miR-451a"),
        ("miR-213", "hsa-miR-181a-3p", "hsa-miR-181a-3p"),
        ("miR-1246", "hsa-miR-1246", "hsa-miR-1246"),
        ("miR-326", "hsa-miR-326", "hsa-miR-326"),
        # legacy arm of arm-less names (miR-223 was the 3p strand; miR-373 override)
        ("miR-223", "hsa-miR-223-3p;hsa-miR-223-5p", "hsa-miR-223-3p"),
        ("miR-373", "hsa-miR-373-3p;hsa-miR-373-5p", "hsa-miR-373-3p"),
        ("miR-101", "hsa-miR-101-2-5p;hsa-miR-101-3p;hsa-miR-101-5p", "hsa-miR-101-3p"),
        # not resolvable
        ("miR-720", "", ""),
        ("miR-99999", "", ""),
        ("HER2", "", ""),
    ],
)
def test_resolve_name(mirbase, name, mature, legacy):
    res = resolve_name(name, mirbase)
    assert ";".join(res.mature) == mature
    assert ";".join(res.legacy) == legacy
    assert res.found == bool(mature)


def test_resolve_rules_are_reported(mirbase):
    assert resolve_name("miR-451", mirbase).rule.startswith("renamed miR-451 -> miR-451a")
    assert resolve_name("miR-720", mirbase).rule == "withdrawn from miRBase (tRNA fragment)"
    assert resolve_name("HER2", mirbase).rule == "not a miRNA name"
    assert resolve_name("miR-16", mirbase).rule == "both arms, all 2 loci"


def test_renamed_targets_exist_in_mirbase(mirbase):
    for old, new in RENAMED.items():
        assert resolve_name(new, mirbase).found, new
        assert f"hsa-{old}" not in mirbase.accession
        assert not any(m.startswith(f"hsa-{old}-") for m in mirbase.accession), old


def test_parse_name_parts():
    assert str(parse_name("hsa-miR-16-1-3p")) == "miR-16-1-3p"
    assert parse_name("let-7a-2*") is not None and parse_name("let-7a-2*").star
    assert parse_name("CD63") is None


def test_expand_review_name():
    assert expand_review_name("miR-221/222") == ["miR-221", "miR-222"]
    assert expand_review_name("miR-127, -197, -222, and -223") == ["miR-127", "miR-197", "miR-222", "miR-223"]
    assert expand_review_name("miR181b") == ["miR-181b"]


# ------------------------------------------------------------------ bundled catalogue
def test_bundled_catalogue_passes_schema_and_resolves(mirbase):
    resolved = load_catalogues([MARKERS / "mirnas.tsv"], MIRNA_SCHEMA, mirbase)
    assert len(resolved) == len(_read(MARKERS / "mirnas.tsv"))
    assert (resolved["n_mature"] > 0).all()
    # the curated mirbase_names are exactly what the resolver gives
    assert (resolved["mirbase_names"] == resolved["resolver_names"]).all()
    assert resolved["entry_id"].is_unique


def test_other_markers_pass_schema():
    import yaml

    validate_table(
        _read(MARKERS / "other_markers.tsv"), yaml.safe_load(OTHER_SCHEMA.read_text()), "other_markers.tsv"
    )


@pytest.mark.parametrize("table", ["mirnas.tsv", "other_markers.tsv"])
def test_every_name_in_review_is_in_the_review_text(review_text, table):
    df = _read(MARKERS / table)
    missing = [n for n in df["name_in_review"] if n not in review_text]
    assert missing == []


def test_mirna_column_is_one_of_the_names_written(mirbase):
    df = _read(MARKERS / "mirnas.tsv")
    for written, mirna in zip(df["name_in_review"], df["mirna"]):
        assert mirna in expand_review_name(written), (written, mirna)


def test_references_match_review_reference_list(review_text):
    refs = _read(MARKERS / "references.tsv").set_index("ref")
    for ref, row in refs.iterrows():
        assert f"{ref}. {row['first_author']}" in review_text, ref
        assert row["title_words"] in review_text, ref
    for table in ("mirnas.tsv", "other_markers.tsv"):
        for _, row in _read(MARKERS / table).iterrows():
            numbers = [r for r in row["review_refs"].split(";") if r]
            expected = "; ".join(
                f"{refs.at[r, 'first_author']} ({refs.at[r, 'year']}) {refs.at[r, 'journal']}"
                for r in numbers
            )
            assert row["cited_papers"] == expected, row["entry_id"]


def test_bundled_catalogue_key_facts():
    df = _read(MARKERS / "mirnas.tsv").set_index(["mirna", "role"])
    assert df.loc[("miR-21", "diagnosis/prognosis"), "direction"] == "up"
    assert df.loc[("miR-1246", "diagnosis/prognosis"), "review_refs"] == "126"
    assert df.loc[("miR-101", "diagnosis/prognosis"), "direction"] == "down"
    assert df.loc[("miR-221", "drug resistance"), "drug"] == "tamoxifen"
    assert df.loc[("miR-451", "drug resistance"), "mirbase_names"] == "hsa-miR-451a"
    assert set(df.reset_index()["role"]) <= {
        "diagnosis/prognosis",
        "metastasis/invasion",
        "angiogenesis",
        "drug resistance",
        "immune modulation",
        "microenvironment/stem cells",
        "transformation",
        "therapy",
    }


# ------------------------------------------------------------------ catalogue validation errors
def _write_catalogue(tmp_path: Path, edit) -> Path:
    df = _read(DATA / "catalogue_small.tsv")
    df = edit(df)
    path = tmp_path / "user_catalogue.tsv"
    df.to_csv(path, sep="\t", index=False)
    return path


def test_bad_role_is_reported_with_line_and_column(tmp_path, mirbase):
    def edit(df):
        df.loc[1, "role"] = "diagnostic"
        return df

    path = _write_catalogue(tmp_path, edit)
    with pytest.raises(
        ExomirInputError,
        match=r"user_catalogue.tsv: catalogue does not match its schema: line 3, column role",
    ):
        load_catalogues([path], MIRNA_SCHEMA, mirbase)


def test_missing_column_and_duplicates_and_unknown_names(tmp_path, mirbase):
    with pytest.raises(ExomirInputError, match="missing required column"):
        load_catalogues(
            [_write_catalogue(tmp_path, lambda d: d.drop(columns=["direction"]))], MIRNA_SCHEMA, mirbase
        )
    with pytest.raises(
        ExomirInputError, match=r"more than one row for \(miRNA, role\): miR-21 / diagnosis/prognosis"
    ):
        load_catalogues(
            [_write_catalogue(tmp_path, lambda d: pd.concat([d, d.iloc[[0]].assign(entry_id="T99")]))],
            MIRNA_SCHEMA,
            mirbase,
        )

    def unknown(df):
        df.loc[0, "mirbase_names"] = "hsa-miR-21-9p"
        return df

    with pytest.raises(ExomirInputError, match="hsa-miR-21-9p not in miRBase"):
        load_catalogues([_write_catalogue(tmp_path, unknown)], MIRNA_SCHEMA, mirbase)
    with pytest.raises(ExomirInputError, match="entry_id used more than once"):
        load_catalogues([DATA / "catalogue_small.tsv", DATA / "catalogue_small.tsv"], MIRNA_SCHEMA, mirbase)


# ------------------------------------------------------------------ annotation
CONTRAST = {"name": "bc_vs_ctrl", "factor": "condition", "level": "cancer", "reference": "control"}


@pytest.fixture(scope="module")
def small_resolved(mirbase) -> pd.DataFrame:
    return load_catalogues([DATA / "catalogue_small.tsv"], MIRNA_SCHEMA, mirbase)


def _annotate(resolved, contrast=CONTRAST, case_levels=("cancer",)):
    results = pd.read_csv(DATA / "results.tsv", sep="\t")
    counts = pd.read_csv(DATA / "mature_counts.tsv", sep="\t", index_col=0)
    level, reference = contrast_samples(DATA / "samples.tsv", contrast, list(counts.columns))
    return annotate_contrast(resolved, results, counts, contrast, level, reference, case_levels, 0.05, 5, 0.5)


def test_contrast_samples_skip_excluded():
    assert contrast_samples(
        DATA / "samples.tsv", CONTRAST, ["C1", "C2", "C3", "C4", "N1", "N2", "N3", "N4", "X1"]
    ) == (["C1", "C2", "C3", "C4"], ["N1", "N2", "N3", "N4"])


def test_annotation_concordance_exact(small_resolved):
    ann = _annotate(small_resolved)
    got = [(r.entry_id, r.mature, r.detected, r.significant, r.concordance) for r in ann.itertuples()]
    assert got == [
        ("T03", "hsa-miR-16-1-3p", "no", "no", "not detected"),
        # enough reads in the cancer group, but no DE result (prefiltered): not tested
        ("T03", "hsa-miR-16-2-3p", "yes", "no", "not tested"),
        ("T03", "hsa-miR-16-5p", "yes", "no", "direction not stated"),
        ("T01", "hsa-miR-21-3p", "yes", "no", "discordant"),
        ("T01", "hsa-miR-21-5p", "yes", "yes", "concordant"),
        ("T02", "hsa-miR-101-2-5p", "no", "no", "not detected"),
        ("T02", "hsa-miR-101-3p", "yes", "yes", "discordant"),
        ("T02", "hsa-miR-101-5p", "no", "no", "not detected"),
        ("T05", "hsa-miR-451a", "yes", "yes", "concordant"),
        ("T04", "hsa-miR-1246", "no", "no", "not detected"),
        ("T06", "", "no", "no", "not detected"),
    ]
    assert ann.loc[4, "legacy_arm"] == "yes" and ann.loc[3, "legacy_arm"] == "no"
    assert ann.loc[4, "log2FoldChange"] == 2.05
    assert set(ann["orientation"]) == {"cancer is the cancer group"}


def test_annotation_orientation_reversed_and_unknown(small_resolved):
    reversed_contrast = {
        "name": "ctrl_vs_bc",
        "factor": "condition",
        "level": "control",
        "reference": "cancer",
    }
    # same LFC table read as control-vs-cancer: literature "up in cancer" now expects a negative LFC
    ann = _annotate(small_resolved, reversed_contrast)
    row = ann[(ann["entry_id"] == "T01") & (ann["mature"] == "hsa-miR-21-5p")].iloc[0]
    assert (row["expected_lfc_sign"], row["concordance"]) == ("negative", "discordant")
    unknown = _annotate(small_resolved, CONTRAST, case_levels=("tumour",))
    assert set(unknown.loc[unknown["tested"] == "yes", "concordance"]) == {"direction not stated"}


@pytest.mark.parametrize(
    "direction, detected, lfc, orientation, expected",
    [
        ("up", True, 1.0, 1, ("concordant", "positive")),
        ("up", True, -1.0, 1, ("discordant", "positive")),
        ("up", True, -1.0, -1, ("concordant", "negative")),
        ("down", True, -0.2, 1, ("concordant", "negative")),
        ("down", True, 0.2, -1, ("concordant", "positive")),
        ("not stated", True, 2.0, 1, ("direction not stated", "")),
        ("up", True, 2.0, 0, ("direction not stated", "")),
        ("up", False, 2.0, 1, ("not detected", "")),
        ("up", True, float("nan"), 1, ("not tested", "")),
    ],
)
def test_concordance_cases(direction, detected, lfc, orientation, expected):
    assert concordance(direction, detected, lfc, orientation) == expected


def test_contrast_orientation():
    assert contrast_orientation("Cancer", "control", ["cancer"]) == 1
    assert contrast_orientation("healthy", "BC", ["bc"]) == -1
    assert contrast_orientation("stageII", "stageI", ["cancer"]) == 0


# ------------------------------------------------------------------ diagnostic performance
def test_auc_exact():
    assert auc_score(np.array([3.0, 4.0]), np.array([1.0, 2.0])) == 1.0
    assert auc_score(np.array([1.0, 2.0]), np.array([3.0, 4.0])) == 0.0
    assert auc_score(np.array([1.0, 2.0]), np.array([1.0, 2.0])) == 0.5
    assert auc_score(np.array([2.0, 3.0]), np.array([1.0, 2.0])) == 0.875
    assert bootstrap_auc_ci(np.array([3.0, 4.0, 5.0]), np.array([1.0, 2.0]), 500, 1) == (1.0, 1.0)
    lo, hi = bootstrap_auc_ci(np.array([2.0, 3.0, 1.5]), np.array([1.0, 2.0, 2.5]), 2000, 7)
    assert 0 <= lo < auc_score(np.array([2.0, 3.0, 1.5]), np.array([1.0, 2.0, 2.5])) < hi <= 1


def test_roc_points():
    roc = roc_curve_points(np.array([3.0, 4.0]), np.array([1.0, 2.0]))
    assert roc[["fpr", "tpr"]].values.tolist() == [[0, 0], [0, 0.5], [0, 1], [0.5, 1], [1, 1]]


def test_nested_cv_does_not_leak():
    rng = np.random.default_rng(11)
    X = rng.normal(size=(40, 300))
    y = rng.permutation([1] * 20 + [0] * 20)
    names = [f"f{i}" for i in range(300)]
    nested = nested_cv_panel(X, y, names, max_features=10, n_splits=5, n_repeats=5, seed=3)
    assert abs(np.mean(nested.auc_per_repeat) - 0.5) < 0.15
    # the same data with selection done on all samples before CV (the leak) looks predictive,
    # so the check above can fail when selection leaks
    from sklearn.feature_selection import f_classif
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    top = np.argsort(-f_classif(X, y)[0])[:10]
    leaked = cross_val_predict(
        LogisticRegression(max_iter=5000),
        X[:, top],
        y,
        cv=StratifiedKFold(5, shuffle=True, random_state=3),
        method="predict_proba",
    )[:, 1]
    assert auc_score(leaked[y == 1], leaked[y == 0]) > 0.8


def test_nested_cv_finds_real_signal():
    rng = np.random.default_rng(5)
    y = np.array([1] * 15 + [0] * 15)
    X = rng.normal(size=(30, 20))
    X[:, 0] += 3 * y
    panel = nested_cv_panel(
        X, y, [f"f{i}" for i in range(20)], max_features=3, n_splits=5, n_repeats=2, seed=1
    )
    assert min(panel.auc_per_repeat) > 0.9
    assert panel.selection_frequency["f0"] == 1.0


def test_annotate_and_score_end_to_end(tmp_path, small_resolved):
    resolved = tmp_path / "catalogue_resolved.tsv"
    small_resolved.to_csv(resolved, sep="\t", index=False)
    out = {
        k: str(tmp_path / "c" / f)
        for k, f in [
            ("out_annotation", "annotation.tsv"),
            ("out_dotplot_tsv", "dotplot.tsv"),
            ("out_dotplot_svg", "dotplot.svg"),
            ("out_auc", "auc.tsv"),
            ("out_panel", "panel.tsv"),
            ("out_panel_summary", "panel_summary.tsv"),
            ("out_roc_tsv", "roc.tsv"),
            ("out_roc_svg", "roc.svg"),
        ]
    }
    kwargs = dict(
        resolved_tsv=str(resolved),
        results_tsv=str(DATA / "results.tsv"),
        vst_tsv=str(DATA / "vst.tsv"),
        counts_tsv=str(DATA / "mature_counts.tsv"),
        samples_tsv=str(DATA / "samples.tsv"),
        contrasts=[CONTRAST],
        contrast_name="bc_vs_ctrl",
        case_levels=["cancer"],
        alpha=0.05,
        min_count=5,
        min_fraction=0.5,
        n_boot=500,
        seed=1,
        panel_max_features=3,
        cv_folds=5,
        cv_repeats=2,
        roc_top=2,
        **out,
    )
    annotate_and_score(**kwargs)
    auc = pd.read_csv(out["out_auc"], sep="\t").set_index("mature")
    assert auc.loc["hsa-miR-21-5p", "auc"] == 1.0
    assert (auc.loc["hsa-miR-21-5p", "auc_ci_low"], auc.loc["hsa-miR-21-5p", "auc_ci_high"]) == (1.0, 1.0)
    assert auc.loc["hsa-miR-451a", "auc"] == 0.0
    assert auc.loc["hsa-miR-451a", "auc_best_direction"] == 1.0
    assert auc.loc["hsa-miR-451a", "higher_in"] == "reference"
    assert auc.loc["hsa-miR-16-5p", "auc"] == 0.53125
    assert set(auc.index) == {
        "hsa-miR-21-5p",
        "hsa-miR-21-3p",
        "hsa-miR-101-3p",
        "hsa-miR-16-5p",
        "hsa-miR-451a",
    }
    assert (auc["analysis"] == EXPLORATORY).all() and (auc["n_level"] == 4).all()
    summary = pd.read_csv(out["out_panel_summary"], sep="\t").iloc[0]
    assert summary["status"] == "computed" and summary["cv_folds"] == 4 and summary["analysis"] == EXPLORATORY
    assert summary["cv_auc_mean"] == 1.0
    assert "exploratory, discovery cohort" in Path(out["out_roc_svg"]).read_text()
    assert "exploratory, discovery cohort" in Path(out["out_dotplot_svg"]).read_text()
    roc = pd.read_csv(out["out_roc_tsv"], sep="\t")
    assert list(dict.fromkeys(roc["curve"])) == ["panel (nested CV)", "hsa-miR-21-5p", "hsa-miR-451a"]
    # deterministic: a second run gives the same bytes
    first = {k: Path(v).read_bytes() for k, v in out.items()}
    shutil.rmtree(tmp_path / "c")
    annotate_and_score(**kwargs)
    assert {k: Path(v).read_bytes() for k, v in out.items()} == first


# ------------------------------------------------------------------ workflow rules
def test_markers_rules_run_with_snakemake(tmp_path):
    """The two rules run on the fixtures; a bad catalogue stops markers_catalogue with a clear error."""
    import subprocess
    import sys

    import yaml

    run = tmp_path / "run"
    for src, dest in [
        ("results.tsv", "results/diffexp/bc_vs_ctrl/results.tsv"),
        ("vst.tsv", "results/diffexp/vst.tsv"),
        ("samples.tsv", "results/diffexp/samples.tsv"),
        ("mature_counts.tsv", "results/quantify/mature_counts.tsv"),
    ]:
        (run / dest).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(DATA / src, run / dest)
    markers = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())["markers"]
    markers.update(
        catalogues=[str(DATA / "catalogue_small.tsv")],
        other_catalogues=[str(MARKERS / "other_markers.tsv")],
        mirbase_mature=str(MIRBASE / "mature_hsa.fa.gz"),
        mirbase_gff3=str(MIRBASE / "hsa.gff3.gz"),
        bootstrap=200,
        cv_repeats=2,
    )
    config = {"species": "hsa", "markers": markers,
              "diffexp": {"alpha": 0.05, "contrasts": [CONTRAST], "fit_type": "parametric"}}
    (run / "config.yaml").write_text(yaml.safe_dump(config))
    rules = ROOT / "workflow" / "rules"
    (run / "Snakefile").write_text(
        'configfile: "config.yaml"\n'
        'CONTRASTS = [c["name"] for c in config["diffexp"]["contrasts"]]\nREF = "results/references/hsa"\n'
        f'include: "{rules / "common_markers.smk"}"\n'
        f'include: "{rules / "markers.smk"}"\n'
        # the fixture's vst.tsv is not a real VST, so the panel model (tests/test_panel.py) is not built here
        'rule all:\n    input: [o for o in MARKERS_OUTPUTS if not o.endswith("panel_model.json")]\n'
    )
    cmd = [sys.executable, "-m", "snakemake", "-s", "Snakefile", "-c1", "--quiet"]
    # the rule scripts import this checkout's exomir (not the one the venv was installed from)
    env = {**os.environ, "PYTHONPATH": str(ROOT / "scripts")}
    proc = subprocess.run(cmd, cwd=run, capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    ann = pd.read_csv(run / "results/markers/bc_vs_ctrl/annotation.tsv", sep="\t", keep_default_na=False)
    assert ann["concordance"].value_counts().to_dict() == {
        "not detected": 5,
        "not tested": 1,
        "discordant": 2,
        "concordant": 2,
        "direction not stated": 1,
    }
    assert (run / "results/markers/bc_vs_ctrl/roc.svg").stat().st_size > 0

    bad = tmp_path / "bad.tsv"
    _read(DATA / "catalogue_small.tsv").assign(direction="higher").to_csv(bad, sep="\t", index=False)
    config["markers"]["catalogues"] = [str(bad)]
    (run / "config.yaml").write_text(yaml.safe_dump(config))
    proc = subprocess.run(cmd + ["--forceall"], cwd=run, capture_output=True, text=True, env=env)
    assert proc.returncode != 0
    log = (run / "logs/markers_catalogue/markers_catalogue.log").read_text()
    assert (
        "bad.tsv: catalogue does not match its schema: line 2, column direction: 'higher' is not one of"
        in log
    )


# ------------------------------------------------------------------ scikit-learn AUC, bounded bootstrap
def _pairwise_auc(pos: np.ndarray, neg: np.ndarray) -> float:
    """Oracle: the pairwise Mann-Whitney count (ties 0.5), as the former implementation."""
    p, n = pos[:, None], neg[None, :]
    return float(((p > n).sum() + 0.5 * (p == n).sum()) / (p.size * n.size))


def test_bootstrap_matches_pairwise_oracle_with_ties():
    rng = np.random.default_rng(3)
    pos = rng.integers(0, 5, 17).astype(float)  # many ties on purpose
    neg = rng.integers(0, 4, 11).astype(float)
    assert auc_score(pos, neg) == pytest.approx(_pairwise_auc(pos, neg), abs=1e-12)
    lo, hi = bootstrap_auc_ci(pos, neg, 300, 7, chunk=64)
    r = np.random.default_rng(7)
    ip = r.integers(0, pos.size, size=(300, pos.size))
    ineg = r.integers(0, neg.size, size=(300, neg.size))
    oracle = np.array([_pairwise_auc(pos[a], neg[b]) for a, b in zip(ip, ineg)])
    assert (lo, hi) == pytest.approx((np.quantile(oracle, 0.025), np.quantile(oracle, 0.975)), abs=1e-12)


def test_bootstrap_memory_does_not_grow_with_npos_times_nneg():
    import tracemalloc

    rng = np.random.default_rng(0)
    pos, neg = rng.normal(1, 1, 400), rng.normal(0, 1, 400)
    tracemalloc.start()
    bootstrap_auc_ci(pos, neg, 400, 1)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    # the pairwise version needed 400 x 400 x 400 booleans per comparison (> 60 MB)
    assert peak < 20e6


# ------------------------------------------------------------------ artefact awareness (contract 1)
def test_artefact_flag_from_other_class_share_and_known_origin():
    from exomir.markers.concordance import add_artefact_columns, read_other_class

    other = read_other_class(DATA / "mature_other_class.tsv")
    annotation = pd.DataFrame(
        {
            "mirna": ["miR-1246", "miR-16", "miR-21", "miR-155", "miR-720"],
            "mature": ["hsa-miR-1246", "hsa-miR-16-5p", "hsa-miR-21-5p", "hsa-miR-155-5p", ""],
        }
    )
    origins = {"miR-1246": "U2 snRNA (RNU2-1) fragment", "miR-16": "made-up origin"}
    out = add_artefact_columns(annotation, other, origins, 0.5)
    # 1246: share 0.3 < 0.5 but a known origin and shared reads -> yes; 16: known origin, share 0 -> no;
    # 21: share 0.75 >= 0.5 -> yes; 155: not in the table -> NA share, no; no mature -> no
    assert out["artefact_flag"].tolist() == ["yes", "no", "yes", "no", "no"]
    assert out["other_class_share"].tolist()[:3] == [0.3, 0.0, 0.75]
    assert np.isnan(out["other_class_share"].iloc[3])
    assert out["other_classes"].tolist()[0] == "snRNA:RNU2-1"
    assert out["non_mirna_origin"].tolist()[0] == "U2 snRNA (RNU2-1) fragment"
    assert add_artefact_columns(annotation, other, {}, 0.8)["artefact_flag"].tolist() == ["no"] * 5


def test_other_class_table_missing_columns_is_reported(tmp_path):
    from exomir.markers.concordance import read_other_class

    bad = tmp_path / "other.tsv"
    bad.write_text("mirna\treads\nhsa-miR-16-5p\t3\n", encoding="utf-8")
    with pytest.raises(ExomirInputError, match="other_class_reads, other_class_share"):
        read_other_class(bad)


def test_roc_legend_states_the_table_direction():
    from exomir.markers.contrast import marker_roc_curves

    vst = pd.DataFrame({"a": [1.0, 5.0], "b": [2.0, 6.0], "c": [8.0, 0.0], "d": [9.0, 1.0]},
                       index=["up_in_ref", "up_in_lvl"])
    auc = pd.DataFrame({"mature": ["up_in_ref", "up_in_lvl"], "higher_in": ["reference", "level"],
                        "auc_best_direction": [1.0, 1.0]})
    contrast = {"name": "x", "level": "cancer", "reference": "control"}
    parts, labels = marker_roc_curves(auc, vst, ["a", "b"], ["c", "d"], 2, contrast)
    assert labels["up_in_ref"].startswith("up_in_ref (AUC 1.00, higher in control;")
    assert labels["up_in_lvl"].startswith("up_in_lvl (AUC 1.00, higher in cancer;")
    # both curves are oriented so that they reach tpr 1 at fpr 0 (AUC 1 as the legend says)
    for pts in parts:
        assert pts.loc[pts["fpr"] == 0, "tpr"].max() == 1.0

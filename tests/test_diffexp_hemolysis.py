"""Hemolysis-aware differential expression (exomir.diffexp.hemolysis, issue 19 item 5).

Fixtures: tests/data/diffexp/hemolysis/ (simulated hemolysis gradient confounded with
condition, make_hemolysis.py) and the demo's true counts (resources/demo/truth_counts.tsv,
HC05 hemolysed). Hemolysis scores come from exomir.qc.hemolysis.hemolysis_table on the counts.
"""

from __future__ import annotations

from pathlib import Path

import jinja2
import pandas as pd
import pytest

from exomir.diffexp import DiffexpSettings, read_counts, run_cohort
from exomir.diffexp.hemolysis import sensitivity
from exomir.errors import ExomirInputError
from exomir.io import write_tsv
from exomir.qc.hemolysis import hemolysis_table

ROOT = Path(__file__).parents[1]
GRADIENT = ROOT / "tests" / "data" / "diffexp" / "hemolysis"
DEMO = ROOT / "resources" / "demo"
RBC = ["hsa-miR-16-5p", "hsa-miR-451a", "hsa-miR-486-5p", "hsa-miR-92a-3p"]
PLANTED = ["sim-miR-001", "sim-miR-002", "sim-miR-003", "sim-miR-004"]


def run(tmp_path: Path, data: Path, counts: str, design: str, contrast: dict, **options) -> pd.DataFrame:
    """run_cohort with QC hemolysis scores of ``counts``; the contrast's results indexed by miRNA."""
    scores = tmp_path / "hemolysis.tsv"
    if not scores.exists():
        write_tsv(hemolysis_table(read_counts(data / counts), "hsa").reset_index(), scores)
    settings = DiffexpSettings.from_config({"design": design, "contrasts": [contrast], "n_cpus": 1, **options})
    out = tmp_path / "_".join(f"{k}{v}" for k, v in sorted(options.items()))
    run_cohort(data / counts, data / "samples.tsv", None, True, settings, out, scores)
    return pd.read_csv(out / contrast["name"] / "results.tsv", sep="\t", keep_default_na=False,
                       na_values=[""]).set_index("mirna")


def calls(results: pd.DataFrame) -> list[str]:
    return sorted(results.index[results["padj"] < 0.1])


def flagged(results: pd.DataFrame, value: str) -> list[str]:
    return sorted(results.index[results["hemolysis_sensitive"] == value])


CASE = {"name": "case_vs_control", "factor": "condition", "level": "case", "reference": "control"}


@pytest.fixture(scope="module")
def gradient(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("gradient")
    return {cov: run(tmp, GRADIENT, "counts.tsv", "~ condition", CASE, hemolysis_covariate=cov) for cov in (False, True)}


def test_confounded_gradient_calls_rbc_mirnas_only_without_the_covariate(gradient):
    # hemolysis is higher in cases: without the covariate the four red-blood-cell miRNAs are called
    assert calls(gradient[False]) == sorted(RBC + PLANTED)
    # with it they are not, and the planted changes stay (one chance call at padj 0.06: sim-miR-022)
    assert calls(gradient[True]) == sorted(PLANTED + ["sim-miR-022"])


def test_sensitivity_column_marks_exactly_the_hemolysis_driven_calls(gradient):
    for results in gradient.values():  # the same column whether or not the covariate is on
        assert flagged(results, "yes") == sorted(RBC)
        assert flagged(results, "no") == sorted(PLANTED)
        assert results["hemolysis_sensitive"].fillna("").isin(["yes", "no", ""]).all()
    assert list(gradient[False].columns).index("hemolysis_sensitive") == list(gradient[False].columns).index("note") - 1


def test_demo_true_counts_with_hemolysed_hc05(tmp_path):
    contrast = {"name": "breast_cancer_vs_control", "factor": "condition", "level": "breast_cancer",
                "reference": "control"}
    plain = run(tmp_path, DEMO, "truth_counts.tsv", "~ batch + condition", contrast)
    # HC05 alone cannot make the red-blood-cell miRNAs calls; two borderline calls (padj 0.076, 0.090)
    # lose significance once HC05's score (log2 ratio 7.7 vs -0.1..3.3) is in the model:
    # hsa-miR-939-5p (planted, low counts) and hsa-miR-135b-5p (not planted).
    assert not set(RBC) & set(calls(plain))
    assert flagged(plain, "yes") == ["hsa-miR-135b-5p", "hsa-miR-939-5p"]
    assert len(flagged(plain, "no")) == 19 == len(calls(plain)) - 2
    adjusted = run(tmp_path, DEMO, "truth_counts.tsv", "~ batch + condition", contrast, hemolysis_covariate=True)
    assert set(calls(plain)) - set(calls(adjusted)) == {"hsa-miR-135b-5p", "hsa-miR-939-5p"}
    assert flagged(adjusted, "yes") == flagged(plain, "yes")


def test_check_off_or_impossible_marks_calls_not_assessed(tmp_path):
    off = run(tmp_path, GRADIENT, "counts.tsv", "~ condition", CASE, hemolysis_check=False)
    assert flagged(off, "not_assessed") == sorted(RBC + PLANTED)
    assert set(off["hemolysis_sensitive"].fillna("")) == {"", "not_assessed"}


def test_covariate_without_usable_scores_is_an_error(tmp_path):
    counts = read_counts(GRADIENT / "counts.tsv")
    table = hemolysis_table(counts, "hsa")
    table.loc["P03", "log2_ratio"] = float("nan")  # as for a library with too few miR-451a/23a reads
    write_tsv(table.reset_index(), tmp_path / "hemolysis.tsv")
    with pytest.raises(ExomirInputError, match=r"hemolysis_covariate is on but the hemolysis score of sample\(s\) P03"):
        run(tmp_path, GRADIENT, "counts.tsv", "~ condition", CASE, hemolysis_covariate=True)


def test_sensitivity_rule():
    nan = float("nan")
    assert list(sensitivity([0.01, 0.01, 0.5, nan, 0.05], [0.2, 0.05, 0.01, 0.01, nan], 0.1)) == [
        "yes", "no", "", "", "yes"]


def test_report_notes_summarise_the_check(tmp_path):
    from exomir.diffexp import LFC_NOTE
    from exomir.diffexp.report_section import report_notes

    results = run(tmp_path, GRADIENT, "counts.tsv", "~ condition", CASE)
    (tmp_path / "diffexp" / "case_vs_control").mkdir(parents=True)
    results.reset_index().to_csv(tmp_path / "diffexp" / "case_vs_control" / "results.tsv", sep="\t", index=False)
    notes = report_notes(tmp_path, ["case_vs_control", "absent"])
    assert notes["case_vs_control"]["hemolysis"] == {"status": "assessed", "n_calls": 8, "n_lost": 4, "lost": [
        "hsa-miR-16-5p", "hsa-miR-486-5p", "hsa-miR-451a", "hsa-miR-92a-3p"]}
    assert notes["absent"]["hemolysis"]["status"] == "absent"
    assert notes["case_vs_control"]["lfc_note"] == LFC_NOTE
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(ROOT / "workflow" / "report")), autoescape=True,
                             undefined=jinja2.StrictUndefined)
    html = env.get_template("diffexp_notes.html.j2").render(
        c={"name": "case_vs_control", "anchor": "c-case_vs_control"}, diffexp_notes=notes)
    assert "4 of 8 calls of the model without the hemolysis covariate lose significance" in html
    assert "hsa-miR-16-5p, hsa-miR-486-5p, hsa-miR-451a, hsa-miR-92a-3p" in html
    assert "log2FoldChange_shrunk is the same effect shrunken" in html

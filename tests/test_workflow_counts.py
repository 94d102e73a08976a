"""Count-matrix entry end to end: real exosome count matrices (as deposited) -> DE, markers, report."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from support import ROOT, default_config, make_workdir, run_snakemake

pytestmark = pytest.mark.workflow

CELLLINE = ROOT / "tests" / "data" / "counts" / "exosome-cellline"
MATRICES = {
    "cancer_cellline_derived_exosomes1.csv": "cancer",
    "healthy_cellline_derived_exosomes.csv": "healthy",
}


def _columns(path: Path) -> list[str]:
    with open(path, newline="") as handle:
        return [c for c in next(csv.reader(handle)) if c.endswith(".count")]


def _workdir(path: Path, matrices: dict[str, str], sheet_files: dict[str, str] | None = None, **counts) -> Path:
    """A project with the matrices under data/, a sheet of their samples and a counts config."""
    (path / "data").mkdir(parents=True)
    for name in matrices:
        shutil.copy(CELLLINE / name, path / "data" / name)
    rows = [(s, group) for name, group in (sheet_files or matrices).items() for s in _columns(CELLLINE / name)]
    config = default_config()
    config["counts"] = {"matrices": [f"data/{name}" for name in matrices], "id_column": "gene_id",
                        "drop_columns": [""], **counts}
    config["diffexp"]["design"] = "~ condition"
    config["diffexp"]["contrasts"] = [
        {"name": "cancer_vs_healthy", "factor": "condition", "level": "cancer", "reference": "healthy"}
    ]
    sheet = "sample\tcondition\n" + "".join(f"{s}\t{c}\n" for s, c in rows)
    return make_workdir(path, config, samples_tsv=sheet)


@pytest.fixture(scope="module")
def counts_run(tmp_path_factory) -> Path:
    workdir = _workdir(tmp_path_factory.mktemp("counts_run"), MATRICES)
    run_snakemake(workdir, cores=2)
    return workdir


def test_matrix_feeds_the_downstream_stages(counts_run):
    results = counts_run / "results"
    counts = pd.read_csv(results / "quantify" / "mature_counts.tsv", sep="\t", index_col=0)
    assert counts.shape == (300, 40)
    assert list(counts.columns) == [s for name in MATRICES for s in _columns(CELLLINE / name)]  # sheet order
    assert counts["SRR1917326.count"].sum() == 54326 and counts["SRR8733171.count"].sum() == 77709
    de = pd.read_csv(results / "diffexp" / "cancer_vs_healthy" / "results.tsv", sep="\t")
    assert len(de) == 300 and set(de["mirna"]) == set(counts.index)
    used = pd.read_csv(results / "diffexp" / "samples.tsv", sep="\t")
    assert (used["used"] == "yes").sum() == 40
    annotation = pd.read_csv(results / "markers" / "cancer_vs_healthy" / "annotation.tsv", sep="\t", dtype=str,
                             keep_default_na=False)
    assert len(annotation) == 88 and (annotation["detected"] == "yes").sum() == 14
    assert (results / "markers" / "cancer_vs_healthy" / "auc.tsv").exists()


def test_read_level_stages_are_skipped(counts_run):
    results = counts_run / "results"
    for absent in ("preprocess", "qc", "references/hsa/bowtie", "report/multiqc_report.html", "quantify/mirgff"):
        assert not (results / absent).exists(), absent
    # the locked panel model records the miRBase release the matrix names were mapped to: only the
    # reference tables and their checksums are prepared, no alignment index
    assert (results / "references" / "hsa" / "checksums.tsv").exists()
    model = json.loads((results / "markers" / "cancer_vs_healthy" / "panel_model.json").read_text())
    assert model["reference"]["species"] == "hsa"
    assert sorted(p.name for p in (results / "quantify").iterdir()) == ["mature_counts.tsv"]
    summary = pd.read_csv(results / "counts" / "import_summary.tsv", sep="\t", dtype=str, keep_default_na=False)
    assert summary["file"].tolist() == [f"data/{name}" for name in MATRICES]
    assert summary["dropped_columns"].tolist() == ["", "(unnamed)"]
    assert summary["id_column"].tolist() == ["(unnamed)", "gene_id"]


def test_report_says_it_started_from_a_count_matrix(counts_run):
    html = (counts_run / "results" / "report" / "exomir_report.html").read_text()
    assert "This run started from a count matrix" in html
    assert '<span id="count-matrix-mirnas">300</span>' in html
    assert '<span id="count-matrix-unresolved">0</span>' in html
    assert "multiqc_report.html" not in html


def test_sheet_matrix_mismatch_fails_before_any_job(tmp_path):
    """The sheet lists the healthy runs but only the cancer matrix is given, and the unnamed
    row-number column is not dropped: one error lists both, during the dry run."""
    workdir = _workdir(tmp_path, {"healthy_cellline_derived_exosomes.csv": "healthy",
                                  "cancer_cellline_derived_exosomes3.csv": "cancer"},
                       sheet_files=MATRICES, drop_columns=[])
    proc = run_snakemake(workdir, "-n", check=False)
    assert proc.returncode != 0
    output = proc.stdout + proc.stderr
    assert "the sample sheet and the count matrices do not match" in output
    assert "column(s) '' (integer; an unnamed column, such as R's row numbers" in output
    assert "'SRR11548461.count' (integer)" in output
    assert "sample(s) ['SRR1917326.count'" in output
    assert not (workdir / "results").exists()

"""Parity of exomir's DE at default settings with R DESeq2 1.38 ``DESeq()`` + ``results()``.

Fixtures: tests/data/diffexp/cellline/ (three real matrices, cancer cell-line exosome set N
vs the healthy set; R outputs made by make_r_fixture.R, R is not needed here).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from exomir.diffexp import DiffexpSettings, contrast_results, prepare

CELLLINE = Path(__file__).parent / "data" / "diffexp" / "cellline"
CONTRAST = {"name": "cancer_vs_healthy", "factor": "condition", "level": "cancer", "reference": "healthy"}


def exomir_results(tmp_path: Path, cancer_set: str, **overrides) -> pd.DataFrame:
    """exomir results at default settings on matrix cancer_set + healthy_set."""
    sheet = pd.read_csv(CELLLINE / "samples.tsv", sep="\t", dtype=str)
    sheet = sheet[sheet["batch"].isin([cancer_set, "healthy_set"])]
    sheet.to_csv(tmp_path / "samples.tsv", sep="\t", index=False)
    counts = pd.read_csv(CELLLINE / "counts.tsv", sep="\t", index_col=0)[sheet["sample"]]
    counts.to_csv(tmp_path / "counts.tsv", sep="\t")
    settings = DiffexpSettings.from_config(
        {"design": "~ condition", "contrasts": [CONTRAST], "n_cpus": 1, **overrides}
    )
    counts, samples, keep = prepare(tmp_path / "counts.tsv", tmp_path / "samples.tsv", None, True, settings)
    return contrast_results(counts, samples, settings, settings.contrasts[0], keep).set_index("mirna")


def r_results(tag: str) -> pd.DataFrame:
    return pd.read_csv(CELLLINE / f"r_{tag}_results.tsv", sep="\t", index_col=0)


def jaccard(a: set, b: set) -> float:
    return len(a & b) / len(a | b)


# Measured (exomir vs R): LFC Pearson r, padj < 0.1 calls exomir / R, Jaccard.
MEASURED = {
    "cancer_set1": (0.99999999, 364, 364, 1.0),
    "cancer_set2": (0.99999999, 488, 485, 0.9939),
    "cancer_set3": (0.99999999, 356, 355, 0.9972),
}


# About 20-70 s each on a loaded 2-core machine: slow tier.
@pytest.mark.workflow
@pytest.mark.parametrize("cancer_set", sorted(MEASURED))
def test_default_settings_match_r(tmp_path, cancer_set):
    ours = exomir_results(tmp_path, cancer_set)
    theirs = r_results(cancer_set.replace("cancer_", ""))
    # every R row is present, and every row of the matrix
    assert set(theirs.index) == set(ours.index)
    ours = ours.loc[theirs.index]
    tested = theirs["log2FoldChange"].notna()
    assert (ours["log2FoldChange"].notna() == tested).all()
    r = np.corrcoef(ours.loc[tested, "log2FoldChange"], theirs.loc[tested, "log2FoldChange"])[0, 1]
    assert r >= 0.9999
    calls = set(ours.index[ours["padj"] < 0.1])
    r_calls = set(theirs.index[theirs["padj"] < 0.1])
    assert len(r_calls) == MEASURED[cancer_set][2]
    assert jaccard(calls, r_calls) >= 0.99
    # rows R leaves untested are untested here too, with a reason
    assert (ours.loc[theirs["baseMean"] == 0, "filter"] == "all_zero").all()
    assert (ours.loc[ours["padj"].isna(), "filter"] != "").all()
    assert (ours.loc[ours["padj"].notna(), "filter"] == "").all()


@pytest.mark.workflow
def test_optional_prefilter_matches_r_with_the_same_prefilter(tmp_path):
    ours = exomir_results(tmp_path, "cancer_set1", prefilter=True)
    theirs = r_results("set1_prefilter")
    assert len(ours) == 2100  # every row stays, the prefiltered ones with NA
    assert ours["filter"].isin(["prefilter", "all_zero"]).sum() == 2100 - len(theirs)
    assert ours.loc[ours["filter"] == "prefilter", "pvalue"].isna().all()
    shared = ours.loc[theirs.index]
    assert np.corrcoef(shared["log2FoldChange"], theirs["log2FoldChange"])[0, 1] >= 0.9999
    assert jaccard(set(shared.index[shared["padj"] < 0.1]), set(theirs.index[theirs["padj"] < 0.1])) >= 0.99

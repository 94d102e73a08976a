"""Tests of the exRNA QC stage (exomir.qc) on the hand-built fixtures in tests/data/qc.

tests/data/qc/make_fixtures.py documents how every fixture number was chosen.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from exomir.errors import ExomirInputError
from exomir.io import read_tsv
from exomir.qc import (
    MULTIQC_FILES,
    SpikeinMatcher,
    check_rna_class_names,
    hemolysis_table,
    load_spikeins,
    prepare_rna_class_fasta,
    read_mature_counts,
    robust_upper_outliers,
    sample_composition,
    summarize_qc,
)

DATA = Path(__file__).parent / "data" / "qc"
SAMPLE_A = DATA / "sample_a"
COHORT = DATA / "cohort"
SPIKEINS = Path(__file__).parents[1] / "resources" / "spikeins" / "cel_mirna_spikeins.fa"
COHORT_SAMPLES = [
    "good_a",
    "good_b",
    "good_c",
    "low_annotated",
    "low_fraction",
    "low_mirna",
    "few_detected",
    "dimers",
    "too_short",
    "hemolysed",
    "warn_mirna",
]
# Demo-scale thresholds (the cohort fixtures have a few thousand reads per sample).
TEST_THRESHOLDS = {
    "annotated_reads_fail": 1000,
    "annotated_fraction_fail": 0.5,
    "mature_mirna_reads_fail": 500,
    "mature_mirna_reads_warn": 1500,
    "mirnas_detected_fail": 10,
    "mirnas_detected_warn": 20,
    "adapter_dimer_fraction_fail": 0.7,
    "adapter_dimer_fraction_warn": 0.3,
    "too_short_fraction_fail": 0.6,
    "too_short_fraction_warn": 0.3,
}
TEST_HEMOLYSIS = {
    "marker": "miR-451a",
    "reference": "miR-23a-3p",
    "rbc_mirnas": ["miR-451a", "miR-486-5p", "miR-16-5p", "miR-92a-3p"],
    "pseudocount": 1,
    "ratio_threshold": 128,
    "rbc_share_max": None,
    "outlier_mads": 3,
    "outlier_min_log2_deviation": 1,
    "min_cohort_size": 5,
    "severity": "warn",
}

needs_bowtie = pytest.mark.skipif(shutil.which("bowtie") is None, reason="bowtie 1 is not installed")


def build_index(tmp_path: Path, name: str) -> str:
    """Prepare a class library and build its bowtie index with the real bowtie-build."""
    fasta = tmp_path / f"{name}.fa"
    prepare_rna_class_fasta(SAMPLE_A / "classes" / f"{name}.fa", fasta, name)
    prefix = tmp_path / name
    subprocess.run(["bowtie-build", "-q", str(fasta), str(prefix)], check=True, capture_output=True)
    return str(prefix)


def run_sample_a(tmp_path: Path, classes=("trna", "rrna", "pirna"), spikeins=SPIKEINS, preprocess=None):
    return sample_composition(
        sample="sample_a",
        preprocess_stats=preprocess or SAMPLE_A / "preprocess_stats.tsv",
        quantify_stats=SAMPLE_A / "quantify_stats.tsv",
        unmapped_fasta=SAMPLE_A / "unmapped.fa.gz",
        collapsed_tsv=SAMPLE_A / "collapsed.tsv.gz",
        rna_class_indexes=[(name, build_index(tmp_path, name)) for name in classes],
        out_composition=tmp_path / "composition.tsv",
        out_spikeins=tmp_path / "spikeins.tsv",
        spikein_fasta=spikeins,
        threads=1,
    )


# --------------------------------------------------------------------------- composition


@needs_bowtie
def test_composition_exact_and_sums_to_raw_reads(tmp_path):
    run_sample_a(tmp_path)
    table = read_tsv(tmp_path / "composition.tsv")
    reads = dict(zip(table["class"], table["reads"]))
    assert reads == {
        "mirna_mature": 600,
        "mirna_hairpin_only": 30,
        "mirna_ambiguous": 10,
        "spikein": 45,  # exact cel-miR-39-3p (40) + truncated 1-mismatch copy (5)
        "trna": 77,  # 50 exact + 20 with 1 mismatch + 7 also in the piRNA library (priority)
        "rrna": 30,
        "pirna": 9,
        "unmapped": 13,  # antisense rRNA (6, --norc) + 2-mismatch rRNA (4) + random (3)
        "adapter_dimer": 100,
        "too_short": 50,
        "too_long": 20,
        "other_filtered": 16,
        "no_umi": 0,
        "umi_duplicate": 0,
    }
    assert list(table["class"])[:7] == ["mirna_mature", "mirna_hairpin_only", "mirna_ambiguous", "spikein", "trna", "rrna", "pirna"]
    assert table["reads"].sum() == 1000
    assert table["fraction_of_raw"].sum() == pytest.approx(1.0)
    assert table.set_index("class").loc["trna", "fraction_of_passing"] == pytest.approx(77 / 814)
    assert table.set_index("class")["fraction_of_passing"].iloc[-6:].isna().all()


@needs_bowtie
def test_class_order_is_priority(tmp_path):
    # piRNA first: the reads inside tRNA positions 10-40 (also piR-fix-1) move to piRNA:
    # the 7 exact ones and the 20 with one mismatch; only t1[0:22] (50) stays tRNA
    run_sample_a(tmp_path, classes=("pirna", "trna", "rrna"))
    reads = read_tsv(tmp_path / "composition.tsv").set_index("class")["reads"]
    assert (reads["pirna"], reads["trna"], reads["rrna"]) == (9 + 7 + 20, 50, 30)
    assert reads.sum() == 1000


@needs_bowtie
def test_spikein_table_counts_collapsed_reads_and_mirna_overlap(tmp_path):
    run_sample_a(tmp_path)
    spikes = read_tsv(tmp_path / "spikeins.tsv")
    assert list(spikes["spikein"]) == ["cel-miR-39-3p", "cel-miR-54-3p", "cel-miR-238-3p", "ambiguous"]
    assert list(spikes["reads"]) == [45, 12, 0, 0]
    # cel-miR-54-3p is in the collapsed reads but not in the unmapped FASTA (the fixture
    # pretends quantify counted it as miRNA): reported, not silently lost
    assert list(spikes["reads_counted_as_mirna"]) == [0, 12, 0, 0]
    assert spikes["per_million_passing"].iloc[0] == pytest.approx(45 / 814 * 1e6, rel=1e-5)


@needs_bowtie
def test_without_classes_or_spikeins_everything_unassigned_is_unmapped(tmp_path):
    run_sample_a(tmp_path, classes=(), spikeins=None)
    reads = read_tsv(tmp_path / "composition.tsv").set_index("class")["reads"]
    assert reads["unmapped"] == 174 and reads["spikein"] == 0
    assert reads.sum() == 1000
    assert len(read_tsv(tmp_path / "spikeins.tsv")) == 0


def test_umi_read_accounting_and_inconsistent_preprocess_stats(tmp_path):
    # UMI kit: 1100 raw, 16 other_filtered, 1064 with a UMI (so 20 without), 984 molecules
    # after deduplication (80 PCR duplicates) = 100 + 50 + 20 + 814 length classes
    stats = read_tsv(SAMPLE_A / "preprocess_stats.tsv")
    stats.loc[0, ["raw_reads", "umi_reads", "umi_deduplicated_reads"]] = [1100, 1064, 984]
    umi_path = tmp_path / "umi_stats.tsv"
    stats.to_csv(umi_path, sep="\t", index=False)
    run_sample_a(tmp_path, classes=(), preprocess=umi_path)
    reads = read_tsv(tmp_path / "composition.tsv").set_index("class")["reads"]
    assert (reads["no_umi"], reads["umi_duplicate"]) == (20, 80)
    assert reads.sum() == 1100

    stats.loc[0, ["raw_reads", "umi_reads", "umi_deduplicated_reads"]] = [1030, 0, 0]  # 30 reads unexplained
    stats.to_csv(umi_path, sep="\t", index=False)
    with pytest.raises(ExomirInputError, match="accounting does not close"):
        run_sample_a(tmp_path, classes=(), preprocess=umi_path)


def test_quantify_and_preprocess_must_agree(tmp_path):
    stats = read_tsv(SAMPLE_A / "preprocess_stats.tsv")
    stats.loc[0, ["raw_reads", "passing_reads"]] = [1001, 815]
    bad = tmp_path / "bad_stats.tsv"
    stats.to_csv(bad, sep="\t", index=False)
    with pytest.raises(ExomirInputError, match="input_reads"):
        run_sample_a(tmp_path, classes=(), preprocess=bad)


def test_spikein_matcher_rules():
    matcher = SpikeinMatcher([("s1", "ACGTACGTACGTACGTAAGG"), ("s2", "TTTTTTGGGGGGCCCCCCAA")], 1, 16)
    assert matcher.match("ACGTACGTACGTACGTAAGG") == "s1"  # full length
    assert matcher.match("ACGTACGTACGTACGTAA") == "s1"  # 3' truncated
    assert matcher.match("ACGTACGTACCTACGTAAGG") == "s1"  # one mismatch
    assert matcher.match("ACGTACGTACCTACGTAACG") is None  # two mismatches
    assert matcher.match("ACGTACGTACGTACG") is None  # shorter than min_length
    assert matcher.match("ACGTACGTACGTACGTAAGGT") is None  # longer than the spike-in
    twins = SpikeinMatcher([("a", "ACGTACGTACGTACGTAAGG"), ("b", "ACGTACGTACGTACGTAAGC")], 1, 16)
    assert twins.match("ACGTACGTACGTACGTAAGG") == "ambiguous"


def test_shipped_spikeins_parse():
    assert [name for name, _ in load_spikeins(SPIKEINS)] == ["cel-miR-39-3p", "cel-miR-54-3p", "cel-miR-238-3p"]


def test_prepare_rna_class_converts_and_rejects(tmp_path):
    out = tmp_path / "rrna.fa"
    assert prepare_rna_class_fasta(SAMPLE_A / "classes" / "rrna.fa", out, "rrna") == 1
    sequence = out.read_text().splitlines()[1]
    assert set(sequence) <= set("ACGT") and len(sequence) == 60
    bad = tmp_path / "bad.fa"
    bad.write_text(">x|y\nACGT1234\n")
    with pytest.raises(ExomirInputError, match="non-nucleotide"):
        prepare_rna_class_fasta(bad, tmp_path / "o.fa", "bad")
    with pytest.raises(ExomirInputError, match="reserved"):
        check_rna_class_names(["trna", "unmapped"])
    with pytest.raises(ExomirInputError, match="twice"):
        check_rna_class_names(["trna", "trna"])


# --------------------------------------------------------------------------- flags


def run_cohort(tmp_path: Path, exclude: bool = True, **threshold_changes) -> pd.DataFrame:
    summarize_qc(
        samples=COHORT_SAMPLES,
        composition_paths=[COHORT / f"{s}.composition.tsv" for s in COHORT_SAMPLES],
        spikein_paths=[COHORT / f"{s}.spikeins.tsv" for s in COHORT_SAMPLES],
        mature_counts_path=COHORT / "mature_counts.tsv",
        species="hsa",
        out_composition=tmp_path / "composition.tsv",
        out_hemolysis=tmp_path / "hemolysis.tsv",
        out_spikeins=tmp_path / "spikeins.tsv",
        out_flags=tmp_path / "sample_flags.tsv",
        multiqc_dir=tmp_path / "multiqc",
        thresholds={**TEST_THRESHOLDS, **threshold_changes},
        hemolysis=TEST_HEMOLYSIS,
        mirna_min_reads=5,
        exclude_failed_from_de=exclude,
    )
    return read_tsv(tmp_path / "sample_flags.tsv", keep_default_na=False).set_index("sample")


def reason_codes(reasons: str) -> list[str]:
    return [part.split(" (")[0] for part in reasons.split(";")] if reasons else []


def test_each_rule_has_a_sample_that_trips_it(tmp_path):
    flags = run_cohort(tmp_path)
    assert list(flags.index) == COHORT_SAMPLES
    expected = {
        "good_a": ("pass", []),
        "good_b": ("pass", []),
        "good_c": ("pass", []),
        "low_annotated": ("fail", ["low_annotated_reads", "low_mature_mirna_reads"]),
        "low_fraction": ("fail", ["low_annotated_fraction"]),
        "low_mirna": ("fail", ["low_mature_mirna_reads"]),
        "few_detected": ("fail", ["few_mirnas_detected"]),
        "dimers": ("fail", ["high_adapter_dimers"]),
        "too_short": ("warn", ["high_too_short"]),
        "hemolysed": ("warn", ["hemolysis_ratio", "hemolysis_outlier", "rbc_share_outlier"]),
        "warn_mirna": ("warn", ["low_mature_mirna_reads"]),
    }
    observed = {s: (row["status"], reason_codes(row["reasons"])) for s, row in flags.iterrows()}
    assert observed == expected
    assert flags.loc["low_annotated", "reasons"] == (
        "low_annotated_reads (fail: 880 < 1000);low_mature_mirna_reads (warn: 700 < 1500)"
    )
    assert flags.loc["dimers", "reasons"] == "high_adapter_dimers (fail: 0.732 > 0.7)"
    assert flags.loc["hemolysed", "reasons"].startswith(
        "hemolysis_ratio (warn: hsa-miR-451a/hsa-miR-23a-3p 273 > 128)"
    )
    failed = {s for s, (status, _) in expected.items() if status == "fail"}
    assert flags["use_in_de"].dtype == bool
    assert set(flags.index[~flags["use_in_de"]]) == failed


def test_flag_metrics_exact(tmp_path):
    flags = run_cohort(tmp_path)
    row = flags.loc["low_fraction"]
    assert int(row["annotated_reads"]) == 3000 + 150 + 1100
    assert float(row["annotated_fraction"]) == pytest.approx(4250 / 9250, rel=1e-5)
    assert int(flags.loc["few_detected", "mirnas_detected"]) == 9
    assert int(flags.loc["good_a", "mirnas_detected"]) == 35
    assert float(flags.loc["too_short", "too_short_fraction"]) == pytest.approx(4000 / 9700, rel=1e-5)
    assert float(flags.loc["good_a", "mirna_fraction"]) == pytest.approx(3150 / 5000, rel=1e-5)


def test_keep_failed_samples_in_de(tmp_path):
    flags = run_cohort(tmp_path, exclude=False)
    assert flags["use_in_de"].all()
    assert (flags["status"] == "fail").sum() == 5  # still marked


def test_disabled_rule_does_not_flag(tmp_path):
    flags = run_cohort(tmp_path, adapter_dimer_fraction_fail=None, adapter_dimer_fraction_warn=None)
    assert flags.loc["dimers", "status"] == "pass"


def test_composition_matrix_sums(tmp_path):
    run_cohort(tmp_path)
    wide = read_tsv(tmp_path / "composition.tsv").set_index("sample")
    read_cols = [c for c in wide.columns if c != "raw_reads" and not c.endswith("_fraction")]
    assert (wide[read_cols].sum(axis=1) == wide["raw_reads"]).all()
    assert wide.loc["dimers", "raw_reads"] == 20500
    assert wide.loc["dimers", "adapter_dimer_fraction"] == pytest.approx(15000 / 20500, rel=1e-5)
    fraction_cols = [c + "_fraction" for c in read_cols]
    assert np.allclose(wide[fraction_cols].sum(axis=1), 1.0)


def test_hemolysis_values_and_cohort_rule(tmp_path):
    run_cohort(tmp_path)
    hemo = read_tsv(tmp_path / "hemolysis.tsv").set_index("sample")
    assert hemo.loc["hemolysed", "ratio"] == pytest.approx(3001 / 11, rel=1e-5)
    assert hemo.loc["good_b", "ratio"] == pytest.approx(301 / 41, rel=1e-5)
    # 11 log2 ratios: median is log2(301/31) (five samples), MAD*3 < 1 so limit = median + 1
    assert hemo.loc["good_a", "cohort_median_log2_ratio"] == pytest.approx(np.log2(301 / 31), rel=1e-5)
    assert hemo.loc["good_a", "outlier_limit_log2_ratio"] == pytest.approx(np.log2(301 / 31) + 1, rel=1e-5)
    assert list(hemo.index[hemo["ratio_outlier"]]) == ["hemolysed"]
    assert list(hemo.index[hemo["rbc_share_outlier"]]) == ["hemolysed"]
    assert hemo.loc["hemolysed", "rbc_share"] == pytest.approx(3570 / 5680, rel=1e-5)
    assert hemo.loc["good_a", "rbc_share"] == pytest.approx(870 / 3000, rel=1e-5)


def test_outlier_rule_needs_enough_samples():
    values = pd.Series([1.0, 1.1, 9.0])
    flags, median, _, _ = robust_upper_outliers(values, 3, 1, 5)
    assert flags.isna().all() and np.isnan(median)
    flags, median, mad, limit = robust_upper_outliers(pd.Series([1.0, 1.0, 1.0, 1.0, 2.5]), 3, 1, 5)
    assert list(flags) == [False, False, False, False, True] and limit == 2.0


def test_missing_hemolysis_reference_is_a_clear_error():
    counts = read_mature_counts(COHORT / "mature_counts.tsv", COHORT_SAMPLES)
    with pytest.raises(ExomirInputError, match="qc.hemolysis.reference"):
        hemolysis_table(counts, "hsa", reference="miR-0000")
    # RBC miRNAs missing for a species are skipped, not an error
    table = hemolysis_table(counts, "hsa", rbc_mirnas=["miR-451a", "miR-486a-5p"])
    assert set(table["rbc_mirnas"]) == {"hsa-miR-451a"}


def test_outputs_are_deterministic(tmp_path):
    run_cohort(tmp_path / "one")
    run_cohort(tmp_path / "two")
    for name in ["composition.tsv", "hemolysis.tsv", "sample_flags.tsv", *[f"multiqc/{f}" for f in MULTIQC_FILES]]:
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes(), name


# --------------------------------------------------------------------------- MultiQC


def test_multiqc_shows_the_sections(tmp_path):
    run_cohort(tmp_path)
    out = tmp_path / "report"
    subprocess.run(
        [sys.executable, "-m", "multiqc", str(tmp_path / "multiqc"), "-o", str(out), "--no-ansi", "-q", "-f"],
        check=True,
        capture_output=True,
    )
    data = json.loads((out / "multiqc_data" / "multiqc_data.json").read_text())
    general = data["report_general_stats_data"]
    text = json.dumps(general)
    for column in ("mirna_percent", "mirnas_detected", "hemolysis_ratio", "qc_status"):
        assert column in text
    html = (out / "multiqc_report.html").read_text()
    for section in ("exRNA read composition", "exRNA QC flags", "Hemolysis"):
        assert section in html
    plots = json.dumps(data.get("report_plot_data", {}))
    assert "exomir_qc_composition_plot" in plots

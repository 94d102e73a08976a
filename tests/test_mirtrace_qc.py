"""Tests of the miRTrace-style QC tables (exomir.qc.mirtrace) with exact values."""

import numpy as np
import pandas as pd

from exomir.qc.mirtrace import complexity_curve, expected_detected, rna_type_summary


def test_expected_detected_is_the_exact_rarefaction_expectation():
    # 4 reads (3 of miR-a, 1 of miR-b), draw 2: miR-a always seen, miR-b with 1 - C(3,2)/C(4,2) = 0.5
    assert expected_detected(np.array([3, 1, 0]), 2) == 1.5
    assert expected_detected(np.array([3, 1]), 1) == 1.0
    assert expected_detected(np.array([3, 1]), 4) == 2.0


def test_complexity_curve_points_and_full_depth():
    counts = pd.DataFrame({"s1": [1500, 500, 0], "s2": [0, 0, 0]}, index=["a", "b", "c"])
    curve = complexity_curve(counts, ["s1", "s2"])
    assert curve.values.tolist() == [["s1", 1000, 2.0], ["s1", 2000, 2.0], ["s2", 0, 0.0]]


def test_rna_type_summary_groups_classes_and_leaves_filtered_reads_out():
    rows = [
        ("x", "mirna_mature", "mirna", 50),
        ("x", "mirna_hairpin_only", "mirna", 5),
        ("x", "mirna_ambiguous", "mirna", 5),
        ("x", "spikein", "spikein", 2),
        ("x", "artifact", "other_rna", 8),
        ("x", "trna", "other_rna", 10),
        ("x", "rrna", "other_rna", 6),
        ("x", "snrna", "other_rna", 3),
        ("x", "snorna", "other_rna", 1),
        ("x", "unmapped", "unmapped", 10),
        ("x", "adapter_dimer", "filtered", 40),
    ]
    table = rna_type_summary(pd.DataFrame(rows, columns=["sample", "class", "group", "reads"]))
    row = table.iloc[0]
    assert [row[c] for c in ("passing_reads", "mirna", "rrna", "trna", "snrna_snorna", "artifact", "other", "unknown")] == [
        100, 60, 6, 10, 4, 8, 2, 10
    ]
    assert row["mirna_fraction"] == 0.6 and row["unknown_fraction"] == 0.1


def test_report_section_tables_from_the_qc_files(tmp_path):
    from exomir.qc.mirtrace import report_section

    assert report_section(tmp_path) is None  # no QC files: no section
    qc = tmp_path / "qc"
    qc.mkdir()
    rows = [("x", "mirna_mature", "mirna", 60), ("x", "trna", "other_rna", 30), ("x", "unmapped", "unmapped", 10)]
    rna_type_summary(pd.DataFrame(rows, columns=["sample", "class", "group", "reads"])).to_csv(
        qc / "rna_types.tsv", sep="\t", index=False
    )
    counts = pd.DataFrame({"x": [1500, 500, 0]}, index=["a", "b", "c"])
    complexity_curve(counts, ["x"]).to_csv(qc / "complexity.tsv", sep="\t", index=False)
    section = report_section(tmp_path)
    types, curve = section["rna_types"], section["complexity"]
    assert types.columns[:4] == ["sample", "passing_reads", "mirna %", "rrna %"]
    assert [cell[0] for cell in types.rows[0]][:3] == ["x", "100", "60"]
    assert curve.columns == ["sample", "1,000 reads", "full depth"]
    assert [cell[1] for cell in curve.rows[0]][1:] == ["2.0", "2.0"]  # sort values

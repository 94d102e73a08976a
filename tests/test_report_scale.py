"""The biomarker report's summaries for large cohorts (exomir.report_scale, issue 21.4), with exact
values on tiny inputs, and the report fixture (8 samples) summarised by lowering the threshold."""

from __future__ import annotations

import pandas as pd
import pytest

from exomir import report_scale as rs
from exomir.report import Table, build_context, composition_bars, render_report
from test_report import CONTRASTS, RESULTS, TEMPLATES, fixture_config, sheet_records


def small_table() -> Table:
    frame = pd.DataFrame({"sample": ["S1", "S2", "S3", "S4"], "status": ["pass", "warn", "pass", "fail"],
                          "reads": [10.0, 40.0, 25.5, float("nan")]})
    return Table.from_frame("t", frame, classes={"status": {"warn": "warn", "fail": "fail"}})


def test_summary_frame_exact_values():
    table = small_table()
    summary = rs.summary_frame(table.columns, table.numeric, table.rows)
    assert summary.to_dict("records") == [
        {"column": "sample", "values": 4, "min": "", "median": "", "max": "", "most frequent": "S1: 1; S2: 1; S3: 1; S4: 1"},
        {"column": "status", "values": 4, "min": "", "median": "", "max": "", "most frequent": "pass: 2; fail: 1; warn: 1"},
        {"column": "reads", "values": 3, "min": 10.0, "median": 25.5, "max": 40.0, "most frequent": ""},
    ]


def test_text_counts_caps_the_list():
    assert rs._text_counts(list("aabcdefg")) == "a: 2; b: 1; c: 1; d: 1; e: 1; 2 more"


def test_summarised_table_keeps_rows_that_need_a_look():
    summary = rs.summarised_table(small_table(), "../qc/sample_flags.tsv", Table.from_frame)
    assert summary.id == "t-summary"
    assert [row[0][0] for row in summary.rows] == ["sample", "status", "reads"]
    assert [row[2][0] for row in summary.rows] == ["", "", "10"]  # min, shown with the report's fmt
    assert summary.note == "4 samples: summarised, one row per column of the full table; the 2 rows that need a look follow."
    assert summary.link == "../qc/sample_flags.tsv"
    assert [row[0][0] for row in summary.detail.rows] == ["S2", "S4"]
    assert summary.detail.id == "t" and summary.detail.note == ""


def test_condition_blocks_never_mix_groups():
    assert rs.condition_blocks(["a", "b", "a", "a", "b"], max_blocks=2) == [[0, 2, 3], [1, 4]]
    assert rs.condition_blocks(["a", "a", "b"], max_blocks=10) == [[0], [1], [2]]


def test_block_distances_mean_of_pairs_between_blocks():
    distances = {"samples": ["A1", "A2", "B1", "B2"], "groups": ["a", "a", "b", "b"],
                 "values": [[0, 1, 4, None], [1, 0, 6, 7], [4, 6, 0, 2], [None, 7, 2, 0]]}
    blocks = rs.block_distances(distances, max_blocks=2)
    assert blocks == {"samples": ["A1 .. A2 (2 samples)", "B1 .. B2 (2 samples)"], "groups": ["a", "b"],
                      "values": [[1.0, 5.66667], [5.66667, 2.0]]}


def test_pooled_composition_sums_reads_per_condition():
    composition = pd.DataFrame({"sample": ["S1", "S2", "S3"], "raw_reads": [40, 40, 10], "mirna": [30, 10, 5],
                                "other": [10, 30, 5], "mirna_fraction": [0.75, 0.25, 0.5]})
    sheet = pd.DataFrame({"sample": ["S1", "S2", "S3"], "condition": ["a", "a", "b"]})
    view = rs.pooled_composition(composition, sheet, composition_bars)
    assert [(r["sample"], r["total"]) for r in view["rows"]] == [("a (2 samples)", 80), ("b (1 sample)", 10)]
    assert [(s["class"], s["reads"], s["pct"]) for s in view["rows"][0]["segments"]] == [("mirna", 40, "50.0%"),
                                                                                        ("other", 40, "50.0%")]
    assert view["note"].startswith("3 samples: one bar per condition")


def fixture_context():
    return build_context(RESULTS, sheet_records(), CONTRASTS, fixture_config(), command="snakemake")


def test_small_cohort_is_not_summarised():
    context, data = fixture_context()
    assert context["overview_note"] == ""
    assert context["qc"]["flags"].id == "flags-table" and context["qc"]["flags"].note == ""
    assert len(data["overview"]["distances"]["samples"]) == 8


def test_fixture_summarised_below_a_lowered_threshold(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(rs, "SAMPLE_ROWS_MAX", 4)
    monkeypatch.setattr(rs, "DISTANCE_BLOCKS_MAX", 3)
    context, data = fixture_context()
    flags = context["qc"]["flags"]
    assert flags.id == "flags-table-summary" and flags.link == "../qc/sample_flags.tsv"
    assert [row[0][0] for row in flags.detail.rows] == ["BN02", "HD03"]  # fails, warns
    distances = data["overview"]["distances"]
    assert len(distances["samples"]) == len(distances["values"]) < 8
    assert context["overview_note"].startswith("8 samples: drawn from block means")
    html = render_report(context, data, TEMPLATES)
    assert 'Full table: <a href="../qc/sample_flags.tsv">qc/sample_flags.tsv</a>' in html
    assert html.count('id="flags-table"') == 1 and 'id="flags-table-summary"' in html


def test_sample_distances_row_by_row_equal_the_broadcast_formula():
    """exomir.diffexp.sample_distances (row by row since issue 21.4) gives bit-identical values to
    the single broadcast it replaced, and exact distances on a tiny matrix."""
    import numpy as np

    from exomir.diffexp import sample_distances

    vst = pd.DataFrame(np.random.default_rng(3).normal(8, 3, (300, 9)), columns=[f"S{i}" for i in range(9)])
    data = vst.T.to_numpy()
    broadcast = np.sqrt(((data[:, None, :] - data[None, :, :]) ** 2).sum(axis=2))
    assert np.array_equal(sample_distances(vst).to_numpy(), broadcast)
    tiny = pd.DataFrame({"a": [0.0, 0.0], "b": [3.0, 4.0], "c": [0.0, 1.0]})
    assert sample_distances(tiny).to_numpy().tolist() == [[0.0, 5.0, 1.0], [5.0, 0.0, np.sqrt(18.0)],
                                                         [1.0, np.sqrt(18.0), 0.0]]

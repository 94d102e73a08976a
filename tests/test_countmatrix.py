"""Count-matrix entry: reading public matrices (GEO quirks), sheet matching, miRBase names."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd
import pytest

from exomir.countmatrix import (
    MatrixSettings,
    check_columns,
    import_matrices,
    parse_counts,
    read_matrix,
    resolve_row,
)
from exomir.errors import ExomirInputError
from exomir.markers.names import MirbaseNames
from support import ROOT

CELLLINE = ROOT / "tests" / "data" / "counts" / "exosome-cellline"
CANCER1 = CELLLINE / "cancer_cellline_derived_exosomes1.csv"
HEALTHY = CELLLINE / "healthy_cellline_derived_exosomes.csv"
#: The healthy file: miRNA names in gene_id, R's row numbers in an unnamed first column.
GEO_SETTINGS = MatrixSettings(id_column="gene_id", drop_columns=("",))


@pytest.fixture(scope="module")
def mirbase() -> MirbaseNames:
    base = ROOT / "resources" / "mirbase" / "22.1"
    return MirbaseNames.from_files(base / "mature_hsa.fa.gz", base / "hsa.gff3.gz", "hsa")


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def _samples(*paths: Path, settings: MatrixSettings = GEO_SETTINGS) -> list[str]:
    return [c for p in paths for c in read_matrix(p, settings).cells.columns]


# ------------------------------------------------------------------------- reading


def test_csv_with_empty_first_header_and_quotes(tmp_path):
    path = _write(tmp_path, "m.csv", '"","S1","S2"\n"hsa-miR-21-5p",3,0\n"hsa-let-7a-5p",10,12\n')
    table = read_matrix(path, MatrixSettings())
    assert table.ids == ["hsa-miR-21-5p", "hsa-let-7a-5p"]
    assert list(table.cells.columns) == ["S1", "S2"]
    assert table.id_column == ""


def test_tsv_gz_by_suffix(tmp_path):
    import gzip

    path = tmp_path / "m.tsv.gz"
    with gzip.open(path, "wt") as handle:
        handle.write("mirna\tA,1\nhsa-miR-16-5p\t7\n")
    table = read_matrix(path, MatrixSettings())
    assert list(table.cells.columns) == ["A,1"]  # a comma is no separator in a .tsv
    assert parse_counts(table)[0].loc["hsa-miR-16-5p", "A,1"] == 7


def test_na_and_empty_cells_read_as_zero_and_counted(tmp_path, caplog, mirbase):
    path = _write(tmp_path, "m.csv", "id,S1,S2,S3\nhsa-miR-21-5p,NA,4,\nhsa-let-7a-5p,2,,NA\nhsa-miR-16-5p,1,2,3\n")
    counts, na_cells = parse_counts(read_matrix(path, MatrixSettings()))
    assert na_cells == 4
    assert counts.to_dict("list") == {"S1": [0, 2, 1], "S2": [4, 0, 2], "S3": [0, 0, 3]}
    with caplog.at_level(logging.WARNING, logger="exomir"):
        result = import_matrices([str(path)], MatrixSettings(), ["S1", "S2", "S3"], mirbase)
    assert "4 empty or NA cell(s) read as 0" in caplog.text
    assert result.summary.loc[0, "na_cells"] == 4


def test_integer_spellings_accepted(tmp_path):
    path = _write(tmp_path, "m.csv", "id,S1\nhsa-miR-21-5p,12.0\nhsa-let-7a-5p,1e+05\nhsa-miR-16-5p, 7 \n")
    counts, _ = parse_counts(read_matrix(path, MatrixSettings()))
    assert counts["S1"].tolist() == [12, 100000, 7]
    assert str(counts["S1"].dtype) == "int64"


@pytest.mark.parametrize("value", ["12.5", "-3", "abc", "inf"])
def test_non_count_values_refused_with_column_and_row(tmp_path, value):
    path = _write(tmp_path, "m.csv", f"id,S1,S2\nhsa-miR-21-5p,1,2\nhsa-let-7a-5p,3,{value}\n")
    with pytest.raises(ExomirInputError) as err:
        parse_counts(read_matrix(path, MatrixSettings()))
    message = str(err.value)
    assert f"'S2' (e.g. '{value}' for hsa-let-7a-5p)" in message
    assert "'S1'" not in message
    assert "raw integer counts" in message


def test_repeated_mirna_row_refused(tmp_path):
    path = _write(tmp_path, "m.csv", "id,S1\nhsa-miR-21-5p,1\nhsa-miR-21-5p,2\n")
    with pytest.raises(ExomirInputError, match=r"\['hsa-miR-21-5p'\] appear in more than one row"):
        read_matrix(path, MatrixSettings())


def test_uneven_rows_refused(tmp_path):
    path = _write(tmp_path, "m.csv", "id,S1,S2\nhsa-miR-21-5p,1\n")
    with pytest.raises(ExomirInputError, match=r"line\(s\) 2 have another number of cells than the header \(3\)"):
        read_matrix(path, MatrixSettings())


# ------------------------------------------------------------------------- the sheet


def test_non_count_columns_listed_then_dropped(tmp_path):
    text = "id,gene_symbol,S1,total,S1_cpm\nhsa-miR-21-5p,MIR21,3,9,1.5\nhsa-let-7a-5p,MIRLET7A1,6,9,3.25\n"
    path = _write(tmp_path, "m.csv", text)
    with pytest.raises(ExomirInputError) as err:
        check_columns([read_matrix(path, MatrixSettings())], ["S1"])
    message = str(err.value)
    assert "'gene_symbol' (text; if it holds the miRNA names, set counts.id_column: gene_symbol)" in message
    assert "'total' (integer)" in message
    assert "'S1_cpm' (non-integer numbers)" in message
    assert "counts.drop_columns" in message
    table = read_matrix(path, MatrixSettings(drop_columns=("gene_symbol", "total", "S1_cpm")))
    check_columns([table], ["S1"])
    assert table.dropped_columns == ["gene_symbol", "total", "S1_cpm"]


def test_missing_extra_and_doubled_samples_in_one_error(tmp_path):
    first = _write(tmp_path, "a.csv", "id,S1,S2\nhsa-miR-21-5p,1,2\n")
    second = _write(tmp_path, "b.csv", "id,S2,X9\nhsa-miR-21-5p,1,2\n")
    tables = [read_matrix(p, MatrixSettings()) for p in (first, second)]
    with pytest.raises(ExomirInputError) as err:
        check_columns(tables, ["S1", "S2", "S3"])
    message = str(err.value)
    assert f"{second}: column(s) 'X9' (integer) are not samples of the sheet" in message
    assert f"sample 'S2' has a column in both {first} and {second}" in message
    assert "sample(s) ['S3'] of the sheet have no column in the count matrices (columns: S1, S2, X9)" in message


def test_unnamed_row_number_column_gets_a_hint():
    table = read_matrix(HEALTHY, MatrixSettings(id_column="gene_id"))
    with pytest.raises(ExomirInputError) as err:
        check_columns([table], [c for c in table.cells.columns if c])
    assert "'' (integer; an unnamed column, such as R's row numbers: list it as \"\" under counts.drop_columns)" in str(
        err.value
    )


# ------------------------------------------------------------------------- names


@pytest.mark.parametrize(
    "name, expected, status",
    [
        ("hsa-miR-21-5p", "hsa-miR-21-5p", "exact"),
        ("hsa-miR-451", "hsa-miR-451a", "resolved"),
        ("hsa-miR-21", "hsa-miR-21-5p", "resolved"),
        ("hsa-miR-21*", "hsa-miR-21-3p", "resolved"),
        ("hsa-let-7a", "hsa-let-7a-5p", "resolved"),
        ("miR-16", "hsa-miR-16-5p", "resolved"),
        ("mmu-miR-1a-3p", "mmu-miR-1a-3p", "unresolved"),
        ("hsa-mir-21", "hsa-mir-21", "unresolved"),
        ("hsa-miR-720", "hsa-miR-720", "unresolved"),
        ("hsa-miR-99999", "hsa-miR-99999", "unresolved"),
    ],
)
def test_row_names_to_mirbase_22(mirbase, name, expected, status):
    assert resolve_row(name, mirbase)[:2] == (expected, status)


def test_old_names_merged_and_reported(tmp_path, mirbase):
    text = (
        "id,S1,S2\nhsa-miR-451,5,1\nhsa-miR-451a,2,2\nhsa-miR-21,7,0\nhsa-miR-99999,1,1\n"
        "__no_feature,100,100\nhsa-let-7a-5p,3,4\n"
    )
    path = _write(tmp_path, "old.csv", text)
    result = import_matrices([str(path)], MatrixSettings(), ["S1", "S2"], mirbase)
    assert result.counts.to_dict("index") == {
        "hsa-miR-451a": {"S1": 7, "S2": 3},
        "hsa-miR-21-5p": {"S1": 7, "S2": 0},
        "hsa-miR-99999": {"S1": 1, "S2": 1},
        "hsa-let-7a-5p": {"S1": 3, "S2": 4},
    }
    names = result.names.set_index("input_name")
    assert names["status"].to_dict() == {
        "hsa-miR-451": "merged",
        "hsa-miR-451a": "merged",
        "hsa-miR-21": "resolved",
        "hsa-miR-99999": "unresolved",
    }
    assert set(names["files"]) == {"old.csv"}
    assert result.summary.loc[0, "dropped_rows"] == "__no_feature"


# ------------------------------------------------------------------------- real matrices


def test_real_cellline_matrices_joined(mirbase):
    samples = _samples(CANCER1, HEALTHY)
    result = import_matrices([str(CANCER1), str(HEALTHY)], GEO_SETTINGS, samples, mirbase)
    assert result.counts.shape == (300, 40)
    assert list(result.counts.columns[:2]) == ["SRR1917326.count", "SRR1917327.count"]
    assert result.counts["SRR1917326.count"].sum() == 54326
    assert result.counts["SRR8733171.count"].sum() == 77709
    assert result.counts.loc["hsa-let-7a-3p", "SRR8733171.count"] == 7
    assert result.names.empty  # every name in these files is a miRBase 22.1 name
    summary = result.summary.set_index("file")
    assert summary.loc[str(HEALTHY), "id_column"] == "gene_id"
    assert summary.loc[str(HEALTHY), "dropped_columns"] == "(unnamed)"
    assert summary.loc[str(CANCER1), "id_column"] == "(unnamed)"
    assert summary["na_cells"].tolist() == [0, 0] and summary["absent_cells"].tolist() == [0, 0]


def test_absent_mirnas_of_one_file_count_zero(tmp_path, mirbase, caplog):
    first = _write(tmp_path, "a.csv", "id,S1\nhsa-miR-21-5p,1\nhsa-let-7a-5p,2\n")
    second = _write(tmp_path, "b.tsv", "id\tS2\nhsa-miR-16-5p\t5\nhsa-miR-21-5p\t3\n")
    with caplog.at_level(logging.WARNING, logger="exomir"):
        result = import_matrices([str(first), str(second)], MatrixSettings(), ["S2", "S1"], mirbase)
    assert list(result.counts.columns) == ["S2", "S1"]  # sheet order
    assert result.counts.to_dict("index") == {
        "hsa-miR-21-5p": {"S2": 3, "S1": 1},
        "hsa-let-7a-5p": {"S2": 0, "S1": 2},
        "hsa-miR-16-5p": {"S2": 5, "S1": 0},
    }
    assert result.summary["absent_cells"].tolist() == [1, 1]
    assert "1 cell(s) of miRNAs absent from this file read as 0" in caplog.text


def test_written_matrix_is_what_diffexp_reads(tmp_path, mirbase):
    from exomir.countmatrix import write_import
    from exomir.diffexp import read_counts

    samples = _samples(CANCER1)
    result = import_matrices([str(CANCER1)], GEO_SETTINGS, samples, mirbase)
    out = tmp_path / "mature_counts.tsv"
    write_import(result, out, tmp_path / "names.tsv", tmp_path / "summary.tsv")
    assert out.read_text().startswith("mirna\tSRR1917326.count\t")
    counts = read_counts(out)
    assert counts.shape == (300, 9) and int(counts.to_numpy().sum()) == int(result.counts.to_numpy().sum())
    assert pd.read_csv(tmp_path / "names.tsv", sep="\t").columns.tolist() == [
        "input_name", "mirbase_name", "status", "rule", "files",
    ]  # fmt: skip

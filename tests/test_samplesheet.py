"""Sample sheet validation: hostile and malformed sheets fail early with the row, the problem and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from exomir.errors import ExomirInputError
from exomir.samplesheet import is_accession, load_sample_sheet, split_fastq_field

SCHEMA = Path(__file__).resolve().parents[1] / "workflow" / "schemas" / "samples.schema.yaml"


def _sheet(tmp_path: Path, rows: list[list[str]], header=("sample", "condition", "fastq")) -> Path:
    fq = tmp_path / "reads.fastq.gz"
    fq.write_bytes(b"")
    text = "\t".join(header) + "\n" + "".join("\t".join(r) + "\n" for r in rows)
    path = tmp_path / "samples.tsv"
    path.write_text(text)
    return path


def _load(path: Path):
    return load_sample_sheet(path, SCHEMA, check_files=False)


def test_valid_sheet_keeps_order_and_numeric_ids_as_text(tmp_path):
    path = _sheet(tmp_path, [["007", "control", "a.fastq.gz"], ["10", "cancer", "b.fastq;c.fastq.gz"], ["1e3", "cancer", "d.fq"]])
    df = _load(path)
    assert list(df.index) == ["007", "10", "1e3"]
    assert df.loc["007", "sample"] == "007"
    assert split_fastq_field(df.loc["10", "fastq"]) == ["b.fastq", "c.fastq.gz"]


@pytest.mark.parametrize(
    "bad_id",
    ["BC 01", "BC/01", "../etc", "a..b", "BC'01", 'BC"01', "BC;rm -rf", "$(touch x)", "`id`", "BC|01", "BC&01", "-rf", "x" * 65, "BC01.", "BC*"],
)
def test_hostile_sample_ids_rejected(tmp_path, bad_id):
    path = _sheet(tmp_path, [[bad_id, "control", "a.fastq.gz"]])
    with pytest.raises(ExomirInputError) as err:
        _load(path)
    msg = str(err.value)
    assert "column 'sample' has an invalid value" in msg
    assert "row 2" in msg and "fix" in msg.lower() and str(path) in msg


def test_duplicate_ids_named(tmp_path):
    path = _sheet(tmp_path, [["S1", "control", "a.fastq.gz"], ["S1", "cancer", "b.fastq.gz"]])
    with pytest.raises(ExomirInputError, match="sample ID 'S1' appears 2 times"):
        _load(path)


def test_missing_required_column(tmp_path):
    path = _sheet(tmp_path, [["S1", "a.fastq.gz"]], header=("sample", "fastq"))
    with pytest.raises(ExomirInputError, match="required column 'condition' is missing"):
        _load(path)


def test_empty_cells_named(tmp_path):
    path = _sheet(tmp_path, [["S1", "", "a.fastq.gz"], ["S2", "control", ""]])
    with pytest.raises(ExomirInputError) as err:
        _load(path)
    msg = str(err.value)
    assert "row 2 (sample 'S1'): empty cell in required column 'condition'" in msg
    assert "row 3 (sample 'S2'): empty cell in required column 'fastq'" in msg


def test_bad_condition_and_covariate_names(tmp_path):
    path = _sheet(tmp_path, [["S1", "<script>", "a.fastq.gz", "x"]], header=("sample", "condition", "fastq", "bad col"))
    with pytest.raises(ExomirInputError) as err:
        _load(path)
    assert "column 'condition' has an invalid value '<script>'" in str(err.value)
    assert "column name 'bad col' is not allowed" in str(err.value)


def test_description_is_free_text(tmp_path):
    path = _sheet(tmp_path, [["S1", "control", "a.fastq.gz", "<script>alert(1)</script>"]], header=("sample", "condition", "fastq", "description"))
    assert _load(path).loc["S1", "description"] == "<script>alert(1)</script>"


def test_missing_fastq_file_named(tmp_path):
    path = _sheet(tmp_path, [["S1", "control", str(tmp_path / "nope.fastq.gz")]])
    with pytest.raises(ExomirInputError) as err:
        load_sample_sheet(path, SCHEMA)
    assert "sample 'S1'" in str(err.value) and "does not exist" in str(err.value)


def test_non_fastq_suffix_named(tmp_path):
    bam = tmp_path / "x.bam"
    bam.write_bytes(b"BAM\1")
    path = _sheet(tmp_path, [["S1", "control", str(bam)]])
    with pytest.raises(ExomirInputError, match="does not end in .fastq"):
        load_sample_sheet(path, SCHEMA)


def test_accessions_recognised():
    assert is_accession("SRR2105159") and is_accession("ERR123456") and is_accession("DRR000001")
    assert not is_accession("SRR12") and not is_accession("reads/SRR2105159.fastq.gz")


def test_windows_line_endings_tolerated(tmp_path):
    path = tmp_path / "s.tsv"
    path.write_bytes(b"sample\tcondition\tfastq\r\nS1\tcontrol\ta.fastq.gz\r\n")
    df = _load(path)
    assert df.loc["S1", "fastq"] == "a.fastq.gz"

"""Input-integrity battery (issue 15): no sample may vanish, no input be counted twice, no download
run away, no case end in a partial file or a raw traceback.

Each test named ``test_d<N>_...`` reproduces defect N of issue 15 and fails on the code before the
fix; the others pin behaviour that was already right so it stays right. Module-level cases of the
sample sheet and FASTQ check are also in test_samplesheet.py and test_fastq_check.py; workflow-level
cases in test_workflow_bad_input.py.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from enaserver import ENAServer, fixture_bytes

from exomir import ena
from exomir.download import fetch_verified, size_limit
from exomir.errors import ExomirInputError
from exomir.fastq_check import check_fastq
from exomir.io import read_tsv, write_tsv
from exomir.kits import detect_sample_kit, get_kit
from exomir.logutil import log_to
from exomir.preprocess import TrimSettings
from exomir.samplesheet import load_sample_sheet
from support import (
    CUTADAPT,
    HANG_TIMEOUT,
    LOCAL_SERVER_TIMEOUT,
    ROOT,
    default_config,
    make_workdir,
    run_snakemake,
    trim_into,
)

SCHEMA = ROOT / "workflow" / "schemas" / "samples.schema.yaml"
DEMO_SHEET = ROOT / "resources" / "demo" / "samples.tsv"
SINGLE = fixture_bytes("single.fastq.gz")
SINGLE_MD5 = "97fc980b5624772ded29cf1940b8cb6a"
FAST = {"backoff": 0.01, "timeout": LOCAL_SERVER_TIMEOUT}
TRUSEQ = "TGGAATTCTCGGGTGCCAAGG"


def _write(tmp_path: Path, text: str | bytes, name: str = "samples.tsv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


def _load(path: Path, check_files: bool = False):
    return load_sample_sheet(path, SCHEMA, check_files=check_files)


def _error(path: Path, check_files: bool = False) -> str:
    with pytest.raises(ExomirInputError) as err:
        _load(path, check_files)
    return str(err.value)


def _fastq(path: Path, reads: list[str], gz: bool = True) -> Path:
    text = "".join(f"@r{i}\n{seq}\n+\n{'I' * len(seq)}\n" for i, seq in enumerate(reads))
    path.write_bytes(gzip.compress(text.encode(), mtime=0) if gz else text.encode())
    return path


# ============================================================================ 15.1 sample sheet


def test_d1_two_quoted_descriptions_keep_every_sample(tmp_path):
    """Defect 15.1: CSV quoting merged the rows between two '"'-led descriptions (10 of 12 left)."""
    lines = DEMO_SHEET.read_text().splitlines()
    cells = [line.split("\t") for line in lines]
    cells[2][-1] = '"quoted start'
    cells[5][-1] = '"another quoted start'
    path = _write(tmp_path, "\n".join("\t".join(c) for c in cells) + "\n")
    df = _load(path)
    assert list(df.index) == [c[0] for c in cells[1:]] and len(df) == 12
    assert df.iloc[1]["description"] == '"quoted start'


@pytest.mark.parametrize(
    "description",
    ['"12" tube', '"quoted"', '"unclosed', 'a "b" c', "trailing\"", '""', "it's", "'single'"],
)
def test_d1_quotes_in_cells_are_kept_as_written(tmp_path, description):
    """Defect 15.1: '"12" tube' became '12 tube'; an unclosed quote failed with 'EOF inside string'."""
    path = _write(tmp_path, f"sample\tcondition\tfastq\tdescription\nS1\tcontrol\ta.fq\t{description}\nS2\tcontrol\tb.fq\tx\n")
    df = _load(path)
    assert df.loc["S1", "description"] == description and list(df.index) == ["S1", "S2"]


def test_d1_quoted_sample_id_is_refused_not_unquoted(tmp_path):
    """Defect 15.1: the sample ID '"quoted"' silently became 'quoted'."""
    msg = _error(_write(tmp_path, 'sample\tcondition\tfastq\n"quoted"\tcontrol\ta.fq\n'))
    assert "invalid value '\"quoted\"'" in msg


@pytest.mark.parametrize("n_rows", [1, 2, 12, 50])
def test_d1_row_count_equals_non_blank_lines(tmp_path, n_rows):
    rows = "".join(f'S{i}\tcontrol\tf{i}.fq\t"{i}\n' for i in range(n_rows))
    path = _write(tmp_path, "sample\tcondition\tfastq\tdescription\n" + rows + "\n\n")
    assert len(_load(path)) == n_rows


def test_d1_blank_lines_between_rows_are_skipped_not_merged(tmp_path):
    path = _write(tmp_path, "sample\tcondition\tfastq\nS1\tcontrol\ta.fq\n\n  \nS2\tcontrol\tb.fq\n")
    assert list(_load(path).index) == ["S1", "S2"]


def test_d1_crlf_and_bom_sheet_read_cleanly(tmp_path):
    path = _write(tmp_path, b"\xef\xbb\xbfsample\tcondition\tfastq\r\nS1\tcontrol\ta.fq\r\n")
    df = _load(path)
    assert list(df.columns) == ["sample", "condition", "fastq"] and df.loc["S1", "fastq"] == "a.fq"


def test_d1_tab_count_mismatch_names_the_line(tmp_path):
    msg = _error(_write(tmp_path, "sample\tcondition\tfastq\nS1\tcontrol\ta.fq\textra\n"))
    assert "line 2 has 4 tab-separated cells but the header has 3" in msg


def test_d7_zero_byte_sheet_is_a_clear_error(tmp_path):
    """Defect 15.7: a 0-byte sheet gave a raw pandas EmptyDataError traceback."""
    msg = _error(_write(tmp_path, b""))
    assert "is empty" in msg and "Fix:" in msg


@pytest.mark.parametrize("text", ["\n", "  \n\n", "\t\n"])
def test_d7_blank_sheet_is_a_clear_error(tmp_path, text):
    msg = _error(_write(tmp_path, text))
    assert "Fix:" in msg


def test_header_only_sheet_says_no_rows(tmp_path):
    assert "has no sample rows" in _error(_write(tmp_path, "sample\tcondition\tfastq\n"))


def test_not_utf8_sheet_is_a_clear_error(tmp_path):
    assert "is not UTF-8 text" in _error(_write(tmp_path, b"sample\tcondition\tfastq\nS\xe91\tcontrol\ta.fq\n"))


def test_d7_invalid_sample_id_message_states_the_allowed_characters(tmp_path):
    """Defect 15.7: the rule was cut at its first period, so the allowed characters were never named."""
    msg = _error(_write(tmp_path, "sample\tcondition\tfastq\nBC 01\tcontrol\ta.fq\n"))
    assert "Letters, digits, '_', '-' and '.'" in msg and "at most 64 characters" in msg


@pytest.mark.parametrize(
    "text, expected",
    [
        ("sample\tcondition\tfastq\t\nS1\tcontrol\ta.fq\t\n", "header column 4 has no name (a trailing tab"),
        ("sample\tcondition\tfastq\t\t\nS1\tcontrol\ta.fq\t\t\n", "header column 4 has no name (a trailing tab"),
        ("sample\tcondition\tfastq\nS1\tcontrol\ta.fq\t\n", "no trailing tab"),
        ("sample\t\tfastq\nS1\tcontrol\ta.fq\n", "header column 2 has no name; fix"),
    ],
)
def test_d7_trailing_tabs_get_a_hint(tmp_path, text, expected):
    """Defect 15.7: trailing tabs gave "column name '' is not allowed" / 'Unnamed: 6' with no hint."""
    msg = _error(_write(tmp_path, text))
    assert expected in msg and "Unnamed" not in msg


def test_duplicate_column_names_refused(tmp_path):
    msg = _error(_write(tmp_path, "sample\tcondition\tfastq\tbatch\tbatch\nS1\tcontrol\ta.fq\tA\tB\n"))
    assert "column name 'batch' appears 2 times" in msg


# ============================================================================ 15.2 sample IDs as text

NUMERIC_IDS = ["0123", "007", "1e3", "10", "1.50", "0x1F", "NA", "nan", "TRUE", "000"]


@pytest.mark.parametrize("sample_id", NUMERIC_IDS)
def test_d2_numeric_looking_ids_kept_in_sheet_and_per_sample_tables(tmp_path, sample_id):
    """Defect 15.2: per-sample tables read back without dtype=str turned 0123 into 123."""
    path = _write(tmp_path, f"sample\tcondition\tfastq\n{sample_id}\tcontrol\ta.fq\n")
    assert list(_load(path).index) == [sample_id]
    import pandas as pd

    stats = tmp_path / "stats.tsv"
    write_tsv(pd.DataFrame({"sample": [sample_id], "raw_reads": [5]}), stats)
    assert read_tsv(stats)["sample"].tolist() == [sample_id]
    assert read_tsv(stats, dtype={"raw_reads": "int64"})["sample"].tolist() == [sample_id]


#: Direct pandas reads allowed without dtype: tables that hold no sample IDs (module: why).
NO_SAMPLE_ID_READS = {"simulate.py": "the bundled healthy profile (miRNA rows, numbers)"}


def test_d2_no_pandas_read_of_sample_tables_guesses_types():
    """Every direct pandas read in the package states its dtypes (io.read_tsv keeps sample IDs itself)."""
    offenders = []
    for path in sorted((ROOT / "scripts" / "exomir").rglob("*.py")):
        lines = path.read_text().splitlines()
        for no, line in enumerate(lines, start=1):
            if ("pd.read_csv(" in line or "pd.read_table(" in line) and path.name != "io.py":
                call = "\n".join(lines[no - 1 : no + 5])
                if "dtype" not in call and path.name not in NO_SAMPLE_ID_READS:
                    offenders.append(f"{path.relative_to(ROOT)}:{no}")
    assert offenders == []


# ============================================================================ 15.3 the same input twice


def _two_samples(tmp_path: Path, first: str, second: str) -> Path:
    return _write(tmp_path, f"sample\tcondition\tfastq\nS1\tcontrol\t{first}\nS2\tcancer\t{second}\n")


@pytest.mark.parametrize(
    "first, second",
    [("a.fastq.gz", "a.fastq.gz"), ("a.fastq.gz", "./a.fastq.gz"), ("a.fastq.gz", "sub/../a.fastq.gz"), ("a.fastq.gz", "link.fastq.gz")],
)
def test_d3_same_fastq_path_under_two_samples_refused(tmp_path, monkeypatch, first, second):
    """Defect 15.3: the same FASTQ under two samples entered DE twice with identical counts."""
    monkeypatch.chdir(tmp_path)
    _fastq(tmp_path / "a.fastq.gz", ["ACGT" * 5])
    (tmp_path / "sub").mkdir()
    (tmp_path / "link.fastq.gz").symlink_to(tmp_path / "a.fastq.gz")
    msg = _error(_two_samples(tmp_path, first, second), check_files=True)
    assert "sample 'S1'" in msg and "sample 'S2'" in msg and "counted twice" in msg


def test_d3_same_content_under_two_names_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _fastq(tmp_path / "a.fastq.gz", ["ACGT" * 5])
    shutil.copy(tmp_path / "a.fastq.gz", tmp_path / "copy.fastq.gz")
    msg = _error(_two_samples(tmp_path, "a.fastq.gz", "copy.fastq.gz"), check_files=True)
    assert "'a.fastq.gz' of sample 'S1', 'copy.fastq.gz' of sample 'S2': has the same content" in msg


def test_d3_same_accession_under_two_samples_refused(tmp_path):
    msg = _error(_two_samples(tmp_path, "SRR5581502", "SRR5581502"), check_files=True)
    assert "'SRR5581502' of sample 'S1', 'SRR5581502' of sample 'S2'" in msg


def test_d3_same_file_twice_in_one_sample_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _fastq(tmp_path / "a.fastq.gz", ["ACGT" * 5])
    _fastq(tmp_path / "b.fastq.gz", ["ACGA" * 5])
    msg = _error(_two_samples(tmp_path, "a.fastq.gz;a.fastq.gz", "b.fastq.gz"), check_files=True)
    assert "is listed 2 times" in msg


def test_d3_equal_size_different_content_accepted(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _fastq(tmp_path / "a.fastq", ["ACGT" * 5], gz=False)
    _fastq(tmp_path / "b.fastq", ["ACGA" * 5], gz=False)
    assert os.path.getsize("a.fastq") == os.path.getsize("b.fastq")
    assert list(_load(_two_samples(tmp_path, "a.fastq", "b.fastq"), check_files=True).index) == ["S1", "S2"]


def test_d3_demo_sheet_is_accepted():
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        assert len(_load(DEMO_SHEET, check_files=True)) == 12
    finally:
        os.chdir(cwd)


# ============================================================================ 15.4 / 15.5 downloads


@pytest.fixture
def server():
    with ENAServer() as running:
        yield running


def _leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.startswith("."))


@pytest.mark.parametrize("send_length", [True, False])
def test_d4_download_stops_at_the_announced_size(server, tmp_path, send_length):
    """Defect 15.4: 420 MB for a file announced as 22,744 bytes filled the cache before the MD5 check."""
    body = os.urandom(3 << 20)
    url = server.add_file("/data/big.fastq.gz", body, send_length=send_length)
    with pytest.raises(ExomirInputError) as err:
        fetch_verified(url, tmp_path / "big.fastq.gz", md5=SINGLE_MD5, expected_bytes=22744, retries=3, **FAST)
    msg = str(err.value)
    assert "more than the announced 22744 bytes" in msg
    stopped_at = int(msg.split("stopped at ")[1].split(" ")[0])
    assert size_limit(22744) < stopped_at <= size_limit(22744) + (1 << 20)
    assert server.files["/data/big.fastq.gz"].served == 1  # not retried: a wrong file stays wrong
    assert not (tmp_path / "big.fastq.gz").exists() and _leftovers(tmp_path) == []


def test_d4_size_within_margin_is_only_a_size_mismatch(server, tmp_path):
    url = server.add_file("/data/single.fastq.gz", SINGLE)
    with pytest.raises(ExomirInputError, match="size mismatch"):
        fetch_verified(url, tmp_path / "s.fastq.gz", expected_bytes=len(SINGLE) - 10, retries=1, **FAST)


def test_d5_trickling_server_is_abandoned_at_the_minimum_rate(server, tmp_path):
    """Defect 15.5: only the gap between bytes was bounded, so 1 byte/s held a job for hours."""
    body = SINGLE * 40  # 4,600 bytes: trickled whole, one attempt would take 230 s
    url = server.add_file("/data/slow.fastq.gz", body, trickle=0.05)
    started = time.monotonic()
    with pytest.raises(ExomirInputError) as err:
        fetch_verified(
            url,
            tmp_path / "slow.fastq.gz",
            md5=hashlib.md5(body).hexdigest(),
            retries=2,
            backoff=0.01,
            timeout=0.5,
            min_rate=1000,
        )
    assert "transfer too slow" in str(err.value) and "download.min_rate" in str(err.value)
    # Abandoned long before one whole transfer: the bound follows from the trickle, not from this
    # machine's speed (3 attempts of ~0.5 s on a quiet machine; a loaded one has ~50 s of slack).
    assert time.monotonic() - started < len(body) * 0.05 / 4
    assert not (tmp_path / "slow.fastq.gz").exists() and _leftovers(tmp_path) == []


def test_d5_min_rate_key_is_in_the_config():
    cfg = default_config()
    assert cfg["download"]["min_kb_per_s"] > 0


def test_d7_redirect_records_the_final_url(server, tmp_path):
    """Defect 15.7: after a redirect the record kept the original URL, not the file's."""
    final = server.add_file("/mirror/single.fastq.gz", SINGLE)
    asked = server.add_file("/data/single.fastq.gz", b"", redirect_to="/mirror/single.fastq.gz")
    record = fetch_verified(asked, tmp_path / "single.fastq.gz", md5=SINGLE_MD5, **FAST)
    assert (record["url"], record["requested_url"]) == (final, asked)


def test_d7_stale_hidden_part_files_are_removed(server, tmp_path):
    """Defect 15.7: a killed download left a hidden .part file that nothing removed."""
    stale = tmp_path / ".single.fastq.gz.abc123.part"
    fresh = tmp_path / ".single.fastq.gz.def456.part"
    stale.write_bytes(b"x" * 100)
    fresh.write_bytes(b"y")
    os.utime(stale, (time.time() - 3600, time.time() - 3600))
    url = server.add_file("/data/single.fastq.gz", SINGLE)
    fetch_verified(url, tmp_path / "single.fastq.gz", md5=SINGLE_MD5, **FAST)
    assert not stale.exists() and fresh.exists()  # a live download's .part is left alone


def test_d7_full_disk_in_a_rule_script_is_one_clear_error(tmp_path):
    """Defect 15.7: a full disk ended in a raw 'OSError: [Errno 28]' traceback (/dev/full: real ENOSPC)."""
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full on this system")
    with pytest.raises(ExomirInputError) as err:
        with log_to(str(tmp_path / "job.log")):
            with open("/dev/full", "wb") as handle:
                handle.write(b"x" * 10)
                handle.flush()
    assert "the disk is full" in str(err.value) and "Fix:" in str(err.value)
    assert "No space left on device" in (tmp_path / "job.log").read_text()


@pytest.mark.parametrize(
    "fastq_ftp",
    ["/etc/passwd", "", "ftp.sra.ebi.ac.uk", "../../etc/passwd", "host/../../etc/passwd", "ftp.sra.ebi.ac.uk/a b.fastq.gz"],
)
def test_d7_fastq_location_that_is_not_host_path_is_refused(fastq_ftp):
    """Defect 15.7: fastq_ftp=/etc/passwd was reported as 'no host given' with a network fix."""
    report = {"run_accession": "SRR1", "fastq_ftp": fastq_ftp, "fastq_md5": "a" * 32, "fastq_bytes": "10"}
    with pytest.raises(ExomirInputError) as err:
        ena.choose_fastq(report)
    msg = str(err.value)
    assert "network" not in msg and ("not a host/path address" in msg or "provides no FASTQ" in msg)


def test_d7_fastq_on_unexpected_host_is_warned():
    """Defect 15.7: FASTQ URLs on any host were taken without a warning."""
    report = {"run_accession": "SRR1", "fastq_ftp": "evil.example.org/SRR1.fastq.gz", "fastq_md5": "a" * 32}
    _file, warnings = ena.choose_fastq(report)
    assert any("served from evil.example.org" in w for w in warnings)
    report["fastq_ftp"] = "ftp.sra.ebi.ac.uk/vol1/fastq/SRR1.fastq.gz"
    assert ena.choose_fastq(report)[1] == []


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://ftp.sra.ebi.ac.uk/x.fastq.gz", "/etc/passwd", "javascript:alert(1)"])
def test_non_http_urls_are_refused_before_any_request(tmp_path, url):
    with pytest.raises(ExomirInputError, match="only http:// and https://"):
        fetch_verified(url, tmp_path / "x.fastq.gz", **FAST)
    assert list(tmp_path.iterdir()) == []


# ============================================================================ FASTQ content


def test_d7_random_bytes_named_gz_reported_as_not_gzip(tmp_path):
    """Defect 15.7: a random-byte .gz was reported as "does not start with '@'"."""
    path = _write(tmp_path, random.Random(15).randbytes(4096), "S1.fastq.gz")
    with pytest.raises(ExomirInputError) as err:
        check_fastq(path, "S1")
    assert "is not gzip" in str(err.value)


def test_plain_fastq_named_gz_is_still_read(tmp_path):
    path = _fastq(tmp_path / "S1.fastq.gz", ["ACGT" * 5], gz=False)
    assert check_fastq(path, "S1").records_checked == 1


@pytest.mark.parametrize(
    "content, problem",
    [
        (b"", "file is empty (0 bytes)"),
        (gzip.compress(b"", mtime=0), "contains no reads"),
        (gzip.compress(b"@r\nACGT\n+\nIIII\n", mtime=0)[:-12], "truncated or corrupt"),
        (b"BAM\x01rest", "a BAM file"),
        (b"<!DOCTYPE html><html>", "an HTML/XML page"),
        (b">r\nACGT\n", "FASTA"),
        (b"BZh91AY&SY", "bzip2/xz"),
        (b"@r\nACGT\n+\nIII\n", "4 bases but 3 quality scores"),
        (b"@r\nACGT\nIIII\n@s\n", "has no '+' separator"),
        (b"@r\nACGT\n+\n", "is incomplete"),
    ],
)
def test_fastq_defects_named(tmp_path, content, problem):
    path = _write(tmp_path, content, "S1.fastq.gz" if content[:2] == b"\x1f\x8b" else "S1.fastq")
    with pytest.raises(ExomirInputError) as err:
        check_fastq(path, "S1")
    assert problem in str(err.value) and "sample S1" in str(err.value)


# ============================================================================ 15.8 N-rich and over-long reads

INSERT = "TGAGGTAGTAGGTTGTATAGTT"


def _trim(tmp_path: Path, fastq: Path, kit_name: str):
    out = tmp_path / "out"
    result = trim_into(out, "S1", [fastq], get_kit(kit_name), TrimSettings(cutadapt=CUTADAPT), threads=1)
    return result.stats, out


def _accounted(stats: dict) -> bool:
    return stats["raw_reads"] == (
        stats["adapter_dimers"] + stats["too_short"] + stats["too_long"] + stats["other_filtered"] + stats["passing_reads"]
    )


@pytest.mark.parametrize("kit", ["truseq", "auto"])
def test_d8_n_rich_reads_are_filtered_and_accounted(tmp_path, kit):
    reads = [INSERT + TRUSEQ + "ATCTCGTATG"] * 60 + ["TGAGNNAGTNGGTTNTATAGTT" + TRUSEQ + "ATCT"] * 40
    fastq = _fastq(tmp_path / "S1.fastq.gz", reads)
    chosen, _ = detect_sample_kit("S1", [fastq], tmp_path / "det.tsv", kit=kit, n_reads=1000)
    assert chosen.name == "truseq"
    stats, out = _trim(tmp_path, fastq, chosen.name)
    assert (stats["raw_reads"], stats["other_filtered"], stats["passing_reads"]) == (100, 40, 60)
    assert _accounted(stats) and not list(out.glob(".*"))


def test_d8_all_n_reads_with_fixed_kit_give_an_empty_sample_not_a_crash(tmp_path):
    fastq = _fastq(tmp_path / "S1.fastq.gz", ["N" * 22 + TRUSEQ] * 50)
    stats, out = _trim(tmp_path, fastq, "truseq")
    assert (stats["raw_reads"], stats["passing_reads"]) == (50, 0) and _accounted(stats)
    assert (out / "S1.collapsed.tsv.gz").exists()


@pytest.mark.parametrize("kit", ["truseq", "auto"])
def test_d8_over_long_reads_without_adapter(tmp_path, kit):
    """Reads longer than the window and without adapter: counted as too long (fixed kit) or, with
    kit auto and no adapter in the data, refused with a clear error naming the fix."""
    long_read = "ACGTTGCAAGTCCGATAGCTAGGCTTAACGGTACCATGAGTCAG"  # 44 nt, no adapter
    fastq = _fastq(tmp_path / "S1.fastq.gz", [long_read] * 80)
    if kit == "auto":
        with pytest.raises(ExomirInputError) as err:
            detect_sample_kit("S1", [fastq], tmp_path / "det.tsv", kit="auto", n_reads=1000)
        assert "preprocess.kit is 'auto'" in str(err.value) and "Fix:" in str(err.value)
        assert not (tmp_path / "det.tsv").exists()
        return
    stats, _out = _trim(tmp_path, fastq, "truseq")
    assert (stats["raw_reads"], stats["too_long"], stats["passing_reads"]) == (80, 80, 0) and _accounted(stats)


def test_d8_mixed_over_long_and_adapter_reads_with_auto(tmp_path):
    long_read = "ACGTTGCAAGTCCGATAGCTAGGCTTAACGGTACCATGAGTCAG"
    fastq = _fastq(tmp_path / "S1.fastq.gz", [INSERT + TRUSEQ + "ATCTCGTATG"] * 70 + [long_read] * 30)
    chosen, _ = detect_sample_kit("S1", [fastq], tmp_path / "det.tsv", kit="auto", n_reads=1000)
    stats, _ = _trim(tmp_path, fastq, chosen.name)
    assert (chosen.name, stats["too_long"], stats["passing_reads"]) == ("truseq", 30, 70) and _accounted(stats)


# ============================================================================ workflow level


def _sheet_text(rows: list[tuple[str, ...]]) -> str:
    return "sample\tcondition\tbatch\tfastq\n" + "".join("\t".join(r) + "\n" for r in rows)


def _demo_rows() -> list[tuple[str, ...]]:
    """Demo rows (sample, condition, batch, fastq): the first sample of each condition x batch."""
    rows = [tuple(line.split("\t")[:4]) for line in DEMO_SHEET.read_text().splitlines()[1:]]
    firsts: dict[tuple[str, str], tuple[str, ...]] = {}
    for row in rows:
        firsts.setdefault((row[1], row[2]), row)
    return list(firsts.values())


@pytest.mark.workflow
def test_d6_fastqc_never_runs_on_a_rejected_file(tmp_path):
    """Defect 15.6: FastQC ran in parallel with the input check and reported rejected files."""
    rows = _demo_rows()
    workdir = make_workdir(tmp_path / "w", default_config(), samples_tsv=_sheet_text(rows))
    (workdir / "bad.fastq.gz").write_bytes(random.Random(6).randbytes(2048))
    sheet = _sheet_text([rows[0], ("BAD1", "control", "A", "bad.fastq.gz"), *rows[1:]])
    (workdir / "config" / "samples.tsv").write_text(sheet)
    proc = run_snakemake(workdir, "results/qc/fastqc/BAD1/BAD1_fastqc.zip", check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0 and "is not gzip" in out
    assert not (workdir / "results" / "qc" / "fastqc" / "BAD1").exists()
    assert not (workdir / "logs" / "fastqc" / "BAD1.log").exists()


@pytest.mark.workflow
def test_d3_workflow_refuses_a_fastq_under_two_samples_at_start(tmp_path):
    rows = _demo_rows()
    rows[1] = (*rows[1][:3], rows[0][3])
    workdir = make_workdir(tmp_path / "w", default_config(), samples_tsv=_sheet_text(rows))
    proc = run_snakemake(workdir, "--dry-run", check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0 and f"sample '{rows[0][0]}'" in out and f"sample '{rows[1][0]}'" in out
    assert "Traceback" not in out and not (workdir / "results").exists()


@pytest.mark.workflow
def test_d1_workflow_keeps_all_12_demo_samples_with_quoted_descriptions(tmp_path):
    cells = [line.split("\t") for line in DEMO_SHEET.read_text().splitlines()]
    cells[2][-1], cells[5][-1] = '"tube 12', '"tube 13'
    workdir = make_workdir(tmp_path / "w", default_config(), samples_tsv="\n".join("\t".join(c) for c in cells) + "\n")
    proc = run_snakemake(workdir, "--dry-run", check=True)
    jobs = [line for line in proc.stdout.splitlines() if line.strip().startswith("trim_and_collapse")]
    assert jobs and jobs[0].split()[-1] == "12", proc.stdout[-3000:]


def _launcher_root(tmp_path: Path) -> Path:
    """A copy of the launcher with a .venv that points at the running interpreter (no pip)."""
    root = tmp_path / "root"
    (root / ".venv" / "bin").mkdir(parents=True)
    shutil.copy(ROOT / "exomir", root / "exomir")
    shutil.copy(ROOT / "pyproject.toml", root / "pyproject.toml")
    venv_bin = Path(sys.executable).parent
    (root / ".venv" / "bin" / "python").symlink_to(sys.executable)
    (root / ".venv" / "bin" / "snakemake").symlink_to(venv_bin / "snakemake")
    digest = subprocess.run(["sha256sum", "pyproject.toml"], cwd=root, capture_output=True, text=True).stdout[:16]
    (root / ".venv" / f".exomir-{digest}-").touch()
    (root / "Snakefile").write_text('rule all:\n    output: "done.txt"\n    shell: "sleep 30 && touch {output}"\n')
    return root


@pytest.mark.workflow
def test_d7_stale_lock_after_kill_9_gets_an_unlock_hint(tmp_path):
    """Defect 15.7: after kill -9 of Snakemake the rerun stopped on the lock and ./exomir gave no hint."""
    root = _launcher_root(tmp_path)
    killed = subprocess.Popen([str(root / ".venv" / "bin" / "snakemake"), "--cores", "1"], cwd=root,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + HANG_TIMEOUT  # ends as soon as the lock is there
    while not any((root / ".snakemake" / "locks").glob("*")) and time.monotonic() < deadline:
        time.sleep(0.2)
    os.killpg(killed.pid, 9)
    killed.wait()
    assert any((root / ".snakemake" / "locks").glob("*")), "the run never took its lock"
    proc = subprocess.run(
        ["bash", str(root / "exomir"), "run", "--cores", "1"], cwd=root, capture_output=True, text=True, timeout=HANG_TIMEOUT
    )
    assert proc.returncode != 0
    assert "./exomir run --unlock" in proc.stderr and "safe ONLY when no other run is active" in proc.stderr
    unlock = subprocess.run(
        ["bash", str(root / "exomir"), "run", "--unlock"], cwd=root, capture_output=True, text=True, timeout=HANG_TIMEOUT
    )
    assert unlock.returncode == 0 and not any((root / ".snakemake" / "locks").glob("*"))


@pytest.mark.workflow
def test_d2_leading_zero_sample_ids_through_quantify_matrices(mini_cohort):
    """Defect 15.2 end to end: sample 0123 crashed quantify_matrices after all per-sample work."""
    workdir = mini_cohort("zero_ids")
    sheet = workdir / "config" / "samples.tsv"
    lines = sheet.read_text().splitlines()
    renamed = {lines[1].split("\t")[0]: "0123", lines[2].split("\t")[0]: "007"}
    sheet.write_text("\n".join([lines[0]] + [renamed.get(line.split("\t")[0], line.split("\t")[0]) + line[line.index("\t"):] for line in lines[1:]]) + "\n")
    run_snakemake(workdir, "results/quantify/mature_counts.tsv", "results/quantify/mapping_stats.tsv")
    header = (workdir / "results" / "quantify" / "mature_counts.tsv").read_text().splitlines()[0].split("\t")
    assert header[1:3] == ["0123", "007"] and len(header) == len(lines)
    stats = (workdir / "results" / "quantify" / "mapping_stats.tsv").read_text().splitlines()
    assert [row.split("\t")[0] for row in stats[1:3]] == ["0123", "007"]

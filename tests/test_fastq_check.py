"""FASTQ input validation: each problem gives an ExomirInputError naming sample, file and fix."""

import gzip
import os
import re
from pathlib import Path

import pytest

from exomir.errors import ExomirInputError
from exomir.fastq_check import check_fastq, check_sample_fastqs, explain_cutadapt_error

READS = Path(__file__).parent / "data" / "reads"
GOOD = "@r1 1:N:0:ACGT\nACGTACGTAC\n+\nIIIIIIIIII\n@r2 1:N:0:ACGT\nTTTTACGTAC\n+\nIIIII#IIII\n"


def write(tmp_path, name, text, gz=False, mode="w"):
    path = tmp_path / name
    if gz:
        with gzip.open(path, "wb") as handle:
            handle.write(text if isinstance(text, bytes) else text.encode())
    elif isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return path


def expect(path, sample, pattern, **kw):
    with pytest.raises(ExomirInputError) as info:
        check_fastq(path, sample, **kw)
    message = str(info.value)
    assert f"sample {sample}, file {path}" in message
    assert "Fix:" in message
    assert re.search(pattern, message), message


def test_good_plain_and_gz(tmp_path):
    plain = check_fastq(write(tmp_path, "a.fastq", GOOD), "s")
    packed = check_fastq(write(tmp_path, "a.fastq.gz", GOOD, gz=True), "s")
    assert plain.records_checked == packed.records_checked == 2
    assert (plain.min_quality_char, plain.max_quality_char) == ("#", "I")


def test_real_reads_pass():
    for path in sorted(READS.glob("*.fastq.gz")):
        assert check_fastq(path, "s").records_checked > 0


def test_missing(tmp_path):
    expect(tmp_path / "nope.fastq.gz", "s1", "does not exist")


def test_unreadable(tmp_path):
    path = write(tmp_path, "a.fastq", GOOD)
    os.chmod(path, 0)
    try:
        if os.access(path, os.R_OK):  # root reads everything
            pytest.skip("running as root: permissions are not enforced")
        expect(path, "s1", "not readable")
    finally:
        os.chmod(path, 0o644)


def test_directory(tmp_path):
    expect(tmp_path, "s1", "directory")


def test_empty_and_empty_gz(tmp_path):
    expect(write(tmp_path, "e.fastq", ""), "s1", "empty")
    expect(write(tmp_path, "e.fastq.gz", "", gz=True), "s1", "no reads")


def test_truncated_gzip_in_head(tmp_path):
    data = (READS / "testData_human_SRR026761.fastq.gz").read_bytes()
    expect(write(tmp_path, "t.fastq.gz", data[:20000]), "s1", "truncated or corrupt")


def test_seq_qual_length_mismatch(tmp_path):
    expect(write(tmp_path, "m.fastq", "@r\nACGT\n+\nIII\n"), "s1", "4 bases but 3 quality scores")


def test_missing_plus_line(tmp_path):
    expect(write(tmp_path, "p.fastq", "@r\nACGT\nIIII\n@r2\nACGT\n+\nIIII\n"), "s1", "no '\\+' separator")


def test_record_cut_at_end(tmp_path):
    expect(write(tmp_path, "c.fastq", GOOD + "@r3\nACGT\n"), "s1", "incomplete")


def test_bam(tmp_path):
    expect(
        write(tmp_path, "x.fastq.gz", b"BAM\x01\x00\x00\x00\x00", gz=True), "s1", "BAM file.*samtools fastq"
    )


def test_html(tmp_path):
    expect(write(tmp_path, "x.fastq", "<!DOCTYPE html>\n<html><body>Not found</body></html>\n"), "s1", "HTML")


def test_fasta(tmp_path):
    expect(write(tmp_path, "x.fastq", ">r1\nACGT\n"), "s1", "FASTA")


def test_phred64(tmp_path):
    text = "@r1\nACGTACGTAC\n+\nhhhhhhhhBB\n@r2\nACGTACGTAC\n+\nfffffeeeee\n"
    expect(write(tmp_path, "q.fastq", text), "s1", "Phred\\+64")


def test_crlf_accepted(tmp_path, caplog):
    path = write(tmp_path, "w.fastq", GOOD.replace("\n", "\r\n"))
    with caplog.at_level("WARNING"):
        summary = check_fastq(path, "s1")
    assert summary.crlf and summary.records_checked == 2
    assert "CRLF" in caplog.text


def test_r2_by_name_and_header(tmp_path):
    expect(write(tmp_path, "lib_S1_R2_001.fastq", GOOD), "s1", "read 2")
    expect(write(tmp_path, "lib.fastq", GOOD.replace("1:N:0", "2:N:0")), "s1", "read 2")


def test_no_files():
    with pytest.raises(ExomirInputError, match="sample s1: no FASTQ file given"):
        check_sample_fastqs([], "s1")


def test_explain_cutadapt_errors():
    err = explain_cutadapt_error(
        "Error in FASTQ file at line 4001: Length of sequence and qualities differ", ["a.fastq"], "s1"
    )
    assert "line 4001" in str(err) and "sample s1, file(s) a.fastq" in str(err)
    err = explain_cutadapt_error(
        "Compressed file ended before the end-of-stream marker was reached", ["a.fastq.gz"], "s1"
    )
    assert "truncated" in str(err)
    assert explain_cutadapt_error("some unrelated crash", ["a"], "s1") is None


def test_bzip2_refused(tmp_path):
    import bz2

    path = tmp_path / "x.fastq.bz2"
    path.write_bytes(bz2.compress(GOOD.encode()))
    expect(path, "s1", "bzip2/xz")

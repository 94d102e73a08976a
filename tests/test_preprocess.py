"""Trimming + collapsing of one sample with cutadapt (real tool, tiny hand-made and real reads)."""

import gzip
import json
import os
import shutil
import sys
from pathlib import Path

import pytest

from exomir.errors import ExomirInputError
from exomir.kits import get_kit
from exomir.preprocess import (
    STATS_COLUMNS,
    TrimSettings,
    _split_records,
    cutadapt_command,
)
from support import CUTADAPT, trim_into

DATA = Path(__file__).parent / "data"
TINY = DATA / "preprocess"
READS = DATA / "reads"



def run(tmp_path, sample, fastqs, kit, **settings):
    out = tmp_path / "out"
    result = trim_into(out, sample, fastqs, get_kit(kit), TrimSettings(cutadapt=CUTADAPT, **settings), threads=1)
    return result, out


def read_table(path):
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rt") as handle:
        rows = [line.rstrip("\n").split("\t") for line in handle]
    return rows[0], rows[1:]


def test_tiny_truseq_exact(tmp_path):
    result, out = run(tmp_path, "tiny", [TINY / "truseq_tiny.fastq"], "truseq")
    stats = result.stats
    assert stats["raw_reads"] == 10
    assert stats["reads_with_adapter"] == 9
    assert stats["adapter_dimers"] == 2  # insert of 0 and 4 nt
    assert stats["too_short"] == 1  # 10 nt
    assert stats["too_long"] == 1  # 40 nt read without adapter
    assert stats["other_filtered"] == 1  # N in the insert
    assert stats["passing_reads"] == 5
    assert stats["unique_sequences"] == 4
    header, rows = read_table(out / "tiny.collapsed.tsv.gz")
    assert header == ["sequence", "count"]
    assert rows == [
        ["TGAGGTAGTAGGTTGTATAGTT", "2"],
        ["AAAGTGCTTCCCTTTGGACT", "1"],  # adapter found after the quality-trimmed tail
        ["CCTCGACTCGATCGGCAGCTACGATCAGCA", "1"],  # 10-nt partial adapter at the read end
        ["TAGCAGCACGTAAATATTGGCG", "1"],
    ]
    header, rows = read_table(out / "tiny.stats.tsv")
    assert header == STATS_COLUMNS
    assert rows[0][:4] == ["tiny", "truseq", "TGGAATTCTCGGGTGCCAAGG", "10"]
    header, rows = read_table(out / "tiny.lengths.tsv")
    lengths = {int(a): int(b) for a, b in rows}
    assert lengths[0] == 1 and lengths[4] == 1 and lengths[10] == 1 and lengths[20] == 1
    assert lengths[22] == 3 and lengths[30] == 1 and lengths[40] == 1
    assert sum(lengths.values()) == 9 and len(lengths) == 41
    report = json.loads((out / "tiny.cutadapt.json").read_text())
    assert report["read_counts"]["input"] == 10
    log = (out / "tiny.cutadapt.log").read_text()
    assert log.startswith("This is cutadapt") and "tiny.fastq" in log  # MultiQC names the sample from it
    assert not list(out.glob(".*"))  # temporary folder removed


def test_length_window_and_discard_untrimmed(tmp_path):
    result, _ = run(
        tmp_path,
        "tiny",
        [TINY / "truseq_tiny.fastq"],
        "truseq",
        min_length=21,
        max_length=40,
        discard_untrimmed=True,
    )
    stats = result.stats
    assert stats["other_filtered"] == 2  # N read + the read without adapter
    assert stats["too_long"] == 0
    assert stats["too_short"] == 2  # 10 and 20 nt
    assert stats["passing_reads"] == 4


def test_lanes_are_merged_plain_and_gz(tmp_path):
    lines = (TINY / "truseq_tiny.fastq").read_text().splitlines(keepends=True)
    lane1, lane2 = tmp_path / "L001.fastq.gz", tmp_path / "L002.fastq"
    with gzip.open(lane1, "wt") as handle:
        handle.writelines(lines[:16])
    lane2.write_text("".join(lines[16:]))
    merged, out = run(tmp_path, "lanes", [lane1, lane2], "truseq")
    single, _ = run(tmp_path / "single", "lanes", [TINY / "truseq_tiny.fastq"], "truseq")
    assert merged.stats == single.stats
    assert merged.collapsed == single.collapsed


def test_nextflex_clips_both_ends(tmp_path):
    result, _ = run(tmp_path, "nf", [TINY / "nextflex_tiny.fastq"], "nextflex")
    assert result.collapsed == [("TGAGGTAGTAGGTTGTATAGTT", 2), ("TAGCAGCACGTAAATATTGGCG", 1)]
    assert result.stats["adapter_dimers"] == 1  # 4N + 4N only


def test_real_sample1_exact(tmp_path):
    result, out = run(tmp_path, "sample1", [READS / "sample1.fastq.gz"], "truseq")
    assert result.stats == {
        "sample": "sample1",
        "kit": "truseq",
        "adapter": "TGGAATTCTCGGGTGCCAAGG",
        "raw_reads": 10000,
        "reads_with_adapter": 9910,
        "adapter_dimers": 24,
        "too_short": 1243,
        # adapter-error recovery: 6 untrimmed 51-nt reads cut to passing inserts (526 / 8202 / 2169 without)
        "too_long": 520,
        "other_filtered": 5,
        "umi_reads": 0,
        "umi_deduplicated_reads": 0,
        "passing_reads": 8208,
        "unique_sequences": 2172,
    }
    assert result.collapsed[0] == ("TACCCTGTAGATCCGAATTTGT", 534)  # miR-10b-5p
    # deterministic bytes (gzip mtime 0)
    first = (out / "sample1.collapsed.tsv.gz").read_bytes()
    run(tmp_path, "sample1", [READS / "sample1.fastq.gz"], "truseq")
    assert (out / "sample1.collapsed.tsv.gz").read_bytes() == first


def test_real_exrnaqc_101nt(tmp_path):
    result, _ = run(tmp_path, "S3", [READS / "RNA014939_S3_R1.fastq.gz"], "truseq")
    stats = result.stats
    total = (
        stats["other_filtered"]
        + stats["adapter_dimers"]
        + stats["too_short"]
        + stats["too_long"]
        + stats["passing_reads"]
    )
    assert total == stats["raw_reads"] == 10000


def test_split_records_keeps_pairs():
    lines, rest = _split_records(b">r\nACGT\n>r\nAC", b"")
    assert lines == [b">r", b"ACGT"] and rest == b">r\nAC"
    lines, rest = _split_records(b"GT\n>r\n\n", rest)
    assert lines == [b">r", b"ACGT", b">r", b""] and rest == b""


def test_count_fastq_stream_across_blocks(monkeypatch):
    """Records split across read blocks, an empty insert, and no final line break."""
    import io

    import exomir.preprocess as preprocess

    reads = [b"ACGT", b"", b"ACGT", b"TTTTTTTT", b"ACGT", b"GG"]
    stream = b"".join(b"@read%d desc\n%s\n+\n%s\n" % (i, s, b"I" * len(s)) for i, s in enumerate(reads))
    for block in (3, 7, 64, 1 << 22):
        monkeypatch.setattr(preprocess, "_BLOCK", block)
        counts = preprocess.count_fastq_stream(io.BytesIO(stream))
        assert counts == {b"ACGT": 3, b"": 1, b"TTTTTTTT": 1, b"GG": 1}
        counts = preprocess.count_fastq_stream(io.BytesIO(stream[:-1]))  # no final "\n"
        assert counts == {b"ACGT": 3, b"": 1, b"TTTTTTTT": 1, b"GG": 1}


def test_collapsed_order_is_count_desc_then_sequence(tmp_path):
    """summarise's grouped ordering = sorting (sequence, count) by count desc, then sequence (bytes),
    including sequences that are prefixes of others; write_outputs writes exactly those lines."""
    import random
    from collections import Counter

    from exomir.preprocess import summarise, write_outputs

    rng = random.Random(7)
    counts = Counter()
    for _ in range(3000):
        seq = "".join(rng.choice("ACGTN") for _ in range(rng.randint(0, 40))).encode()
        counts[seq] = rng.choice([1, 1, 1, 2, 3, 7, 7, 250, rng.randint(1, 10**6)])
    counts.update({b"ACGTACGTACGTACGTAC": 5, b"ACGTACGTACGTACGTACG": 5, b"ACGTACGTACGTACGTA": 5})
    report = {"read_counts": {"input": 0, "read1_with_adapter": 0, "filtered": {}}}
    settings = TrimSettings()
    result = summarise("s", get_kit("truseq"), settings, counts, report, None)
    expected = sorted(
        ((seq, n) for seq, n in counts.items() if settings.min_length <= len(seq) <= settings.max_length),
        key=lambda item: (-item[1], item[0]),
    )
    assert result.collapsed_bytes == expected
    assert result.collapsed == [(seq.decode(), n) for seq, n in expected]
    assert result.stats["unique_sequences"] == len(expected)
    write_outputs(result, str(tmp_path / "c.tsv.gz"), str(tmp_path / "s.tsv"), str(tmp_path / "l.tsv"))
    lines = b"".join(b"%s\t%d\n" % row for row in expected)
    assert gzip.decompress((tmp_path / "c.tsv.gz").read_bytes()) == b"sequence\tcount\n" + lines
    empty = summarise("s", get_kit("truseq"), settings, Counter({b"ACG": 4}), report, None)
    assert empty.collapsed_bytes == [] and empty.stats["unique_sequences"] == 0


def test_cutadapt_writes_fastq_without_umi_and_named_fasta_with_umi():
    kit = get_kit("truseq")
    plain = cutadapt_command(kit, TrimSettings(), "in.fq.gz", "r.json", 2, fastq_output=True)
    assert "--fasta" not in plain and "--rename" not in plain
    default = cutadapt_command(kit, TrimSettings(), "in.fq.gz", "r.json", 2)
    assert default[default.index("--rename") + 1] == "r" and "--fasta" in default


def test_truncated_gzip_found_by_cutadapt_is_rephrased(tmp_path):
    data = (READS / "sample1.fastq.gz").read_bytes()
    broken = tmp_path / "broken.fastq.gz"
    broken.write_bytes(data[: len(data) // 2])
    out = tmp_path / "out"
    with pytest.raises(
        ExomirInputError, match=r"sample b, file\(s\) .*broken.fastq.gz: a compressed FASTQ file is truncated"
    ):
        # the head check passes; cutadapt hits the broken end
        trim_into(out, "b", [broken], get_kit("truseq"), TrimSettings(cutadapt=CUTADAPT), check_records=10)
    assert not (out / "b.stats.tsv").exists()
    assert not list(out.glob(".*"))


def test_empty_length_window_refused():
    with pytest.raises(ExomirInputError, match="length window 30..20 is empty"):
        TrimSettings(min_length=30, max_length=20)


def test_missing_cutadapt_is_clear(tmp_path):
    with pytest.raises(ExomirInputError, match="cutadapt executable"):
        trim_into(
            tmp_path,
            "x",
            [TINY / "truseq_tiny.fastq"],
            get_kit("truseq"),
            TrimSettings(cutadapt="no-such-cutadapt-xyz"),
        )


@pytest.mark.workflow
def test_rules_run_in_snakemake(tmp_path):
    """trim_and_collapse (detection included) and fastqc through Snakemake (harness Snakefile)."""
    import subprocess

    reads = tmp_path / "reads"
    reads.mkdir()
    for name in ["sample1.fastq.gz", "QiaSeq_data.fastq.gz"]:
        shutil.copy(READS / name, reads / name)
    lines = (TINY / "truseq_tiny.fastq").read_text().splitlines(keepends=True)
    with gzip.open(reads / "L001.fastq.gz", "wt") as handle:
        handle.writelines(lines[:16])
    (reads / "L002.fastq").write_text("".join(lines[16:]))
    snakemake = Path(sys.executable).parent / "snakemake"
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    proc = subprocess.run(
        [str(snakemake), "-s", str(TINY / "Snakefile"), "-d", str(tmp_path), "-c", "2", "--quiet"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = tmp_path / "results" / "preprocess"
    detection = (out / "qiaseq.adapter_detection.tsv").read_text().splitlines()
    assert detection[-1].split("\t")[1:3] == ["chosen", "qiaseq"]
    stats = (out / "lanes.stats.tsv").read_text().splitlines()[1].split("\t")
    assert stats[:4] == ["lanes", "truseq", "TGGAATTCTCGGGTGCCAAGG", "10"]
    assert (tmp_path / "results/qc/fastqc/mirtrace1/mirtrace1_fastqc.zip").stat().st_size > 0
    assert (tmp_path / "logs/trim_and_collapse/qiaseq.log").read_text().count("deduplicated") >= 1
    assert "mirtrace1.fastq.gz" in (out / "mirtrace1.cutadapt.log").read_text()


def test_truncated_lane_is_reported(tmp_path):
    data = (READS / "sample2.fastq.gz").read_bytes()
    broken = tmp_path / "L002.fastq.gz"
    broken.write_bytes(data[: len(data) // 2])
    out = tmp_path / "out"
    with pytest.raises(ExomirInputError, match="truncated"):
        trim_into(
            out,
            "two",
            [READS / "sample1.fastq.gz", broken],
            get_kit("truseq"),
            TrimSettings(cutadapt=CUTADAPT),
            check_records=10,
        )
    assert not (out / "two.stats.tsv").exists()

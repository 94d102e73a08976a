"""QIAseq UMI extraction (before adapter removal) and (insert, UMI) deduplication."""

import gzip
import re
from pathlib import Path

from exomir.kits import get_kit
from exomir.preprocess import TrimSettings
from exomir.umi import UmiDeduplicator
from support import CUTADAPT, trim_into

DATA = Path(__file__).parent / "data"


def run(tmp_path, sample, fastq, **settings):
    out = tmp_path / "out"
    return trim_into(out, sample, [fastq], get_kit("qiaseq"), TrimSettings(cutadapt=CUTADAPT, **settings), threads=1)


def test_deduplicator_unit():
    dedup = UmiDeduplicator(get_kit("qiaseq").umi)
    before = b"AACTGTAGGCACCATCAAT"
    dedup.add(
        [
            before + b"AAAACGTTCTTG" + b"AGATC",
            before + b"AAAACGTTCTTG",
            before + b"CATCGCGGCTCA",
            before + b"AAAACGTT",
            b"",
            before + b"AAAANGTTCTTG",
        ],
        [b"TGAG", b"TGAG", b"TGAG", b"TGAG", b"ACGT", b"TGAG"],
    )
    counts = dedup.result()
    assert counts == {b"TGAG": 2}
    assert (dedup.counts.reads, dedup.counts.umi_reads, dedup.counts.no_layout, dedup.counts.n_in_umi) == (
        6,
        3,
        2,
        1,
    )
    assert dedup.deduplicated_reads == 2


def test_tiny_qiaseq_exact(tmp_path):
    result = run(tmp_path, "qt", DATA / "preprocess" / "qiaseq_tiny.fastq")
    stats = result.stats
    assert stats["raw_reads"] == 8
    assert stats["umi_reads"] == 5  # q1 q2 q3 q4 q8; q5 no adapter, q6 UMI cut by read end, q7 N in UMI
    assert stats["umi_deduplicated_reads"] == 4  # q2 duplicates q1
    assert stats["too_short"] == 1  # q8 (10-nt insert, counted after deduplication)
    assert result.collapsed == [("TGAGGTAGTAGGTTGTATAGTT", 2), ("TAGCAGCACGTAAATATTGGCG", 1)]
    assert stats["passing_reads"] == 3 and stats["unique_sequences"] == 2


def test_real_qiaseq_exact(tmp_path):
    fastq = DATA / "reads" / "QiaSeq_data.fastq.gz"
    result = run(tmp_path, "qiaseq", fastq)
    assert result.stats == {
        "sample": "qiaseq",
        "kit": "qiaseq",
        "adapter": "AACTGTAGGCACCATCAATNNNNNNNNNNNNAGATCGGAAG",
        "raw_reads": 10000,
        "reads_with_adapter": 9169,
        "adapter_dimers": 973,
        "too_short": 3971,
        "too_long": 117,
        "other_filtered": 7,
        "umi_reads": 9001,
        "umi_deduplicated_reads": 9000,
        "passing_reads": 3939,
        "unique_sequences": 1475,
    }
    assert result.collapsed[:2] == [("AAAGTGCTACTACTTTTGAGTCT", 198), ("TAGCAGCACGTAAATATTGGCG", 183)]
    # Independent check with bcbio's layout regex (exact adapter, 12 nt, AGATCGGAA): every read it
    # accepts has a UMI for exomir too; exomir also accepts matches with a mismatch or a shorter tail.
    strict = re.compile(r"AACTGTAGGCACCATCAAT([ACGT]{12})AGATCGGAA")
    with gzip.open(fastq, "rt") as handle:
        seqs = [line.strip() for i, line in enumerate(handle) if i % 4 == 1]
    n_strict = sum(1 for s in seqs if strict.search(s))
    assert n_strict == 8632
    assert n_strict <= result.stats["umi_reads"]


def test_umi_off_keeps_duplicates(tmp_path):
    result = run(tmp_path, "qt", DATA / "preprocess" / "qiaseq_tiny.fastq", use_umi=False)
    stats = result.stats
    assert stats["umi_reads"] == 0 and stats["umi_deduplicated_reads"] == 0
    # adapter AACTGTAGGCACCATCAAT only: q1 q2 q3 q6 give insA, q4 q7 insB
    assert result.collapsed == [("TGAGGTAGTAGGTTGTATAGTT", 4), ("TAGCAGCACGTAAATATTGGCG", 2)]

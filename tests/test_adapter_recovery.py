"""Adapter-error recovery (exomir.adapter_recovery): exact cuts on real reads (issue 18)."""

import dataclasses
import shutil
import sys
from collections import Counter
from pathlib import Path

from exomir.adapter_recovery import RecoverySettings, applies_to, best_cuts, cut_map, recover, untrimmed_candidates
from exomir.kits import get_kit
from exomir.preprocess import TrimSettings, trim_and_collapse

READS = Path(__file__).parent / "data" / "reads"
CUTADAPT = shutil.which("cutadapt") or str(Path(sys.executable).parent / "cutadapt")
LEGACY = "TCGTATGCCGTCTTCTGCTTG"  # exceRpt SRR026761 3' adapter (kit legacy_illumina_short)
TRUSEQ = "TGGAATTCTCGGGTGCCAAGG"
# exceRpt SRR026761 reads left untrimmed by cutadapt -e 0.1 (36-nt reads; the second lost 1 nt to -q 20)
LET7C_READ = b"TGAGGTAGTAGGTTGTATGGTTTCTTATGGCGTCTT"  # let-7c-5p + adapter with 2 of 14 nt wrong
MIR92A_READ = b"TATTGCACTTGTCCCGGCCTGTAATCGTATTCCTT"  # miR-92a-3p + AA + adapter with 1 of 11 wrong
# exRNAQC serum S1: a tRNA-Gly-GCC 5' half cut by cutadapt at its adapter; its tail looks like TruSeq
TRNA_HALF = b"GCATTGGTGGTTCAGTGGTAGAATTCTCGCC"


def test_exceRpt_reads_are_cut_where_the_erroneous_adapter_starts():
    cuts = best_cuts([LET7C_READ, MIR92A_READ], LEGACY.encode(), 16, 36, RecoverySettings())
    assert cuts.tolist() == [22, 24]
    counts = Counter({LET7C_READ: 2, MIR92A_READ: 1, b"TGAGGTAGTAGGTTGTATGGTT": 5})
    result = recover(counts, LEGACY, 16, 36, 3, RecoverySettings())
    assert (result.sequences, result.reads) == (2, 3)
    assert result.counts == Counter({b"TGAGGTAGTAGGTTGTATGGTT": 7, b"TATTGCACTTGTCCCGGCCTGTAA": 1})


def test_inserts_cutadapt_trimmed_are_never_cut_again():
    # a 36-nt read length (the longest insert) and cutadapt -O 3: only inserts of >= 34 nt are candidates
    counts = Counter({LET7C_READ: 1, TRNA_HALF: 40})
    assert untrimmed_candidates(counts, 3) == [LET7C_READ]
    assert cut_map(counts, TRUSEQ, 16, 36, 3, RecoverySettings()) == {}  # and TRUSEQ is not its adapter
    # the same tRNA half would be cut if it were an untrimmed read: the read-length rule protects it
    assert best_cuts([TRNA_HALF], TRUSEQ.encode(), 16, 36, RecoverySettings()).tolist() == [18]


def test_tolerance_limits_and_kits():
    settings = RecoverySettings()
    insert = b"TGAGGTAGTAGGTTGTATGGTT"
    three_wrong = insert + b"TCTTATGGCGTATT"  # 3 of 14 wrong: floor(0.25 * 14) = 3 allowed
    four_wrong = insert + b"TCTTATGGCGTAAA"  # 4 of 14: not cut
    nine_nt = b"A" * 27 + LEGACY[:9].encode()  # a perfect 9-nt tail is below recovery_min_overlap
    assert best_cuts([three_wrong, four_wrong, nine_nt], LEGACY.encode(), 16, 36, settings).tolist() == [22, -1, -1]
    assert recover(Counter({three_wrong: 1}), LEGACY, 16, 36, 3, dataclasses.replace(settings, enabled=False)).reads == 0
    assert applies_to(LEGACY, has_umi=False)
    assert not applies_to("AAAAAAAA", has_umi=False)  # poly-A kits (CATS)
    assert not applies_to(get_kit("qiaseq").adapter, has_umi=True)


def test_exceRpt_example_recovers_the_lost_let7c_and_mir92a_reads(tmp_path):
    def collapsed(recovery: bool) -> tuple[dict, Counter]:
        out = tmp_path / str(recovery)
        result = trim_and_collapse(
            "srr026761",
            [str(READS / "testData_human_SRR026761.fastq.gz")],
            get_kit("legacy_illumina_short"),
            TrimSettings(cutadapt=CUTADAPT, recovery=RecoverySettings(enabled=recovery)),
            out_collapsed=str(out / "c.tsv.gz"),
            out_stats=str(out / "s.tsv"),
            out_lengths=str(out / "l.tsv"),
            out_json=str(out / "c.json"),
            out_log=str(out / "c.log"),
            threads=1,
        )
        return result.stats, Counter(dict(result.collapsed))

    before_stats, before = collapsed(False)
    after_stats, after = collapsed(True)
    assert after["TGAGGTAGTAGGTTGTATGGTT"] - before["TGAGGTAGTAGGTTGTATGGTT"] == 1  # let-7c-5p
    assert after["TATTGCACTTGTCCCGGCCTGTAA"] - before["TATTGCACTTGTCCCGGCCTGTAA"] == 1  # miR-92a-3p + AA
    # every read stays counted once: 104 untrimmed 34-36 nt inserts become shorter passing inserts
    assert before_stats["passing_reads"] == after_stats["passing_reads"] == 822
    assert sum(n for s, n in before.items() if len(s) >= 34) - sum(n for s, n in after.items() if len(s) >= 34) == 104

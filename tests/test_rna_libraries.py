"""Tests of the RNA-class / artefact libraries and of the artefact and release rules (issue 18)."""

from pathlib import Path

import pandas as pd

from exomir.io import iter_fasta
from exomir.quantify.matrices import other_class_counts
from exomir.quantify.release import ARTIFACT_CLASS, release_class
from exomir.rna_libraries import (
    TRUSEQ_RA5,
    LibraryRecord,
    apply_overlap_rule,
    artifact_records,
    decide,
    deduplicate,
    hairpin_words,
    is_low_complexity,
    mitochondrial_records,
    reverse_complement,
    shared_span,
)

ROOT = Path(__file__).resolve().parents[1]
LIBRARIES = ROOT / "resources" / "rna_classes"
S1_U2_READ = "AATGGATTTTTGGAGCAGGGAGA"  # exRNAQC serum S1: counted to miR-1246 before issue 18


def test_low_complexity_rule_exact_cases():
    assert is_low_complexity("A" * 24)
    assert is_low_complexity("AAAAAAAAAAAAAAAAAAAC")  # 19 of 20 = 0.95 >= 0.8
    assert is_low_complexity("AAAAAAAAAAAAAAAACCCC")  # 16 of 20 = 0.8: at the limit
    assert not is_low_complexity("AAAAAAAAAAAAAAACCGCT")  # 15 of 20 = 0.75, 6 distinct dimers
    assert is_low_complexity("CACACACACACACACACACA")  # 2 distinct dimers (CA, AC)
    assert is_low_complexity("ACGTNNNACGTACGTACGTA")  # 3 N of 20 > 10 %
    assert not is_low_complexity("TGAGGTAGTAGGTTGTATAGTT")  # let-7a-5p


def test_no_human_mature_mirna_is_low_complexity():
    matures = iter_fasta(ROOT / "resources" / "mirbase" / "22.1" / "mature_hsa.fa.gz")
    flagged = [name for name, seq in matures if is_low_complexity(seq.upper().replace("U", "T"))]
    assert flagged == []


def test_release_rule_artifact_first_then_fewer_edits_ties_stay_mirna():
    # an artefact hit wins ties with the hairpin (artefacts before miRNA) ...
    assert release_class("GAGTTCTACAGTCCGACGA", [("artifact", "RA5", 0)], 3, True) == ARTIFACT_CLASS
    assert release_class("ACGTACGTTGCAGGTC", [("artifact", "RA5", 1)], 1, True) == ARTIFACT_CLASS
    # ... but a read equal to a mature one substitution from an adapter (canonical miR-3168) stays
    assert release_class("GAGTTCTACAGTCAGAC", [("artifact", "RA5", 1)], 0, True) is None
    # low-complexity inserts go to the artefact class without any alignment
    assert release_class("A" * 20, [], 0, True) == ARTIFACT_CLASS
    # ... but only when an artefact class is configured
    assert release_class("A" * 20, [], 0, False) is None
    # strictly fewer mismatches than hairpin edits: released to the first class with that number
    hits = [("trna", "tRNA-Gly", 1), ("snrna", "RNU2-1", 0), ("snorna", "SNORD3A", 0)]
    assert release_class(S1_U2_READ, hits, 4, True) == "snrna"
    # a tie stays miRNA
    assert release_class(S1_U2_READ, [("snrna", "RNU2-1", 1)], 1, True) is None


def test_overlap_decisions_keep_documented_embedded_and_look_alikes_mask_snrna_copies():
    u2 = LibraryRecord("snrna", "RNU2-1", 2, "ACGT")
    pseudo = LibraryRecord("snrna", "RNU2-6P", 1, "ACGT")
    other = LibraryRecord("snrna", "RNU6-346P", 1, "ACGT")
    assert decide(u2, "hsa-mir-1246", 19, 73)[0] == "keep"
    assert decide(pseudo, "hsa-mir-1246", 19, 73)[0] == "mask"  # only the functional RNU2-1 is documented
    assert decide(other, "hsa-mir-548t", 23, 74)[0] == "mask"
    assert decide(LibraryRecord("snorna", "SNORA81", 1, "A"), "hsa-mir-1248", 103, 106)[0] == "keep"  # 0.97
    # a partial overlap with a snoRNA/tRNA/rRNA: the release rule judges each read (fewer edits wins)
    assert decide(LibraryRecord("snorna", "SNORA2C", 1, "A"), "hsa-mir-1291", 75, 87)[0] == "keep"  # 0.86
    assert decide(LibraryRecord("trna", "tRNA-Pro-AGG-1-1", 1, "A"), "hsa-mir-4448", 20, 61)[0] == "keep"
    # ... also when the record holds the whole mature exactly (its isomiRs: the release rule's variant checks)
    verdict = decide(LibraryRecord("rrna", "MT-RNR2", 1, "A"), "hsa-mir-4485", 51, 71, whole_mature=True)
    assert verdict[0] == "keep" and verdict[1].startswith("holds the whole mature exactly")


def test_shared_span_stays_within_one_hairpin_window():
    # 28S words at 255 and 4,864 shared with an 84-nt hairpin: two look-alikes of 18 nt, not 4,627 nt
    assert shared_span([(255, 18), (4864, 18)], 84) == 18
    # a mismatch breaking the words inside one window does not split the stretch (0-17 and 19-36)
    assert shared_span([(0, 18), (19, 18)], 84) == 37
    assert shared_span([], 84) == 0


def test_an_18_nt_whole_mature_is_a_whole_mature_overlap():
    mature = "GGGCTCACATCACCCCAT"  # hsa-miR-4284, 18 nt: also an 18-nt hairpin word
    record = LibraryRecord("trna", "MT-TF", 1, "GACG" + mature + "AAACACCA")
    words = hairpin_words([("hsa-mir-4284", "CCCC" + mature + "GGGG")])
    _records, rows = apply_overlap_rule([record], words, {"hsa-mir-4284": 26}, whole_matures={"hsa-mir-4284": {mature}})
    assert [(r[1], r[2], r[3], r[4]) for r in rows] == [("hsa-mir-4284", 5, 22, "keep")]
    assert rows[0][5].startswith("holds the whole mature exactly")
    _records, rows = apply_overlap_rule([record], words, {"hsa-mir-4284": 26})
    assert rows[0][5].startswith("partial 18-nt overlap")


def test_mitochondrial_records_follow_the_rcrs_strands_and_get_cca():
    rcrs = dict(iter_fasta(LIBRARIES / "sources" / "NC_012920.1_rCRS.fa.gz"))["NC_012920.1"]
    records = {gene: dna for genes in mitochondrial_records(rcrs).values() for gene, dna in genes}
    assert len(records) == 24 and len(records["MT-RNR2"]) == 1558  # 1671-3229 without the 3107 placeholder
    assert records["MT-TM"] == "AGTAAGGTCAGCTAAATAAGCTATCGGGCCCATACCCCGAAAATGTTGGTTATACCCTTCCCGTACTACCA"
    assert records["MT-TQ"].startswith("TAGGATGGGGTGTGATAGGTGG")  # L strand: reverse complement
    trna = dict(iter_fasta(LIBRARIES / "human" / "trna.fa.gz"))
    assert trna["trna|MT-TM"] == records["MT-TM"]


def test_masking_replaces_only_the_shared_words_with_n():
    hairpin = "GGGGGACGTACGTACGTACGTAAAAATTTTT"
    shared = "ACGTACGTACGTACGTAA"  # 18 nt of the hairpin
    record = LibraryRecord("snrna", "RNU6-9P", 1, "CCCC" + shared + "CCCC")
    words = hairpin_words([("hsa-mir-x", hairpin)])
    (masked,), rows = apply_overlap_rule([record], words, {"hsa-mir-x": len(hairpin)})
    assert masked.sequence == "CCCC" + "N" * 18 + "CCCC"
    assert rows == [
        ("snrna|RNU6-9P", "hsa-mir-x", 5, 22, "mask", rows[0][5]),
    ]


def test_deduplicate_merges_identical_sequences_and_numbers_variants():
    records = [("U6", "ACGT"), ("RNU6-1", "ACGT"), ("U6", "ACGA")]
    out = deduplicate("snrna", records)
    assert [r.name for r in out] == ["snrna|RNU6-1|x2", "snrna|U6"]


def test_artifact_records_hold_both_orientations_and_concatemers():
    records = dict((seq, name) for name, seq in artifact_records([("RTP", "TGGAATTCTCGGGTGCCAAGGC")], {"truseq": "TGGAATTCTCGGGTGCCAAGG"}))
    assert records[TRUSEQ_RA5] == "artifact|TruSeq_small_RNA_5p_adapter_RA5"
    assert records[reverse_complement(TRUSEQ_RA5)] == "artifact|TruSeq_small_RNA_5p_adapter_RA5_rc"
    assert records[TRUSEQ_RA5 + "TGGAATTCTCGGGTGCCAAGG"] == "artifact|concatemer_RA5_truseq"
    assert len(records) == 8  # RTP, RA5, kit adapter, concatemer, x2 strands


def test_bundled_u2_library_explains_the_serum_read_exactly():
    snrna = dict(iter_fasta(LIBRARIES / "human" / "snrna.fa.gz"))
    assert S1_U2_READ in snrna["snrna|RNU2-1|x2"]
    overlaps = pd.read_csv(LIBRARIES / "human" / "hairpin_overlaps.tsv", sep="\t")
    u2 = overlaps[(overlaps["record"] == "snrna|RNU2-1|x2") & (overlaps["hairpin"] == "hsa-mir-1246")]
    assert list(u2["decision"]) == ["keep"]
    assert (overlaps["decision"] == "keep").sum() == 111 and (overlaps["decision"] == "mask").sum() == 82
    # miR-1290 lies in the documented U2 fragment region: kept with it, so the S1 read stays explained
    u2_1290 = overlaps[(overlaps["record"] == "snrna|RNU2-1|x2") & (overlaps["hairpin"] == "hsa-mir-1290")]
    assert list(u2_1290["decision"]) == ["keep"]


def test_other_class_counts_count_mature_sequences_with_evidence_only():
    table = pd.DataFrame(
        {
            "mature": ["hsa-miR-1246", "hsa-miR-1246", "hsa-miR-16-5p", "hsa-miR-1246"],
            "status": ["mature", "mature", "mature", "ambiguous"],
            "count": [5, 7, 3, 11],
            "other_classes": ["snrna:RNU2-1", "", "", "snrna:RNU2-1;snorna:X"],
        }
    )
    reads, classes = other_class_counts(table)
    assert reads.to_dict() == {"hsa-miR-1246": 5}
    assert classes == {"hsa-miR-1246": {"snrna:RNU2-1"}}

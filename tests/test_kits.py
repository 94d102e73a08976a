"""Kit presets and adapter auto-detection, on every real read set in tests/data/reads."""

from pathlib import Path

import pytest

from exomir.errors import ExomirInputError
from exomir.kits import (
    chosen_kit,
    count_probes,
    detect_adapter,
    detect_sample_kit,
    get_kit,
    load_kits,
    resolve_kit,
)

READS = Path(__file__).parent / "data" / "reads"

# file -> (kit, leftmost reads, scanned reads, confidence)
EXPECTED = {
    "RNA014937_S1_R1.fastq.gz": ("truseq", 9807, 10000, "high"),
    "RNA014938_S2_R1.fastq.gz": ("truseq", 9796, 10000, "high"),
    "RNA014939_S3_R1.fastq.gz": ("truseq", 9810, 10000, "high"),
    "sample1.fastq.gz": ("truseq", 9649, 10000, "high"),
    "sample2.fastq.gz": ("truseq", 9723, 10000, "high"),
    "sample3.fastq.gz": ("legacy_illumina", 6835, 10000, "high"),
    "QiaSeq_data.fastq.gz": ("qiaseq", 9165, 10000, "high"),
    "mirqca.fastq.gz": ("truseq", 9711, 10000, "high"),
    "testData_human_SRR026761.fastq.gz": ("legacy_illumina_short", 609, 1000, "high"),
}


def test_presets_complete():
    kits = load_kits()
    for name in [
        "truseq",
        "nebnext",
        "qiaseq",
        "nextflex",
        "cats",
        "lexogen",
        "smarter",
        "legacy_illumina",
        "custom",
    ]:
        assert name in kits
    assert kits["nextflex"].clip_5p == 4 and kits["nextflex"].clip_3p == 4
    assert kits["cats"].clip_5p == 3 and kits["cats"].adapter == "AAAAAAAA"
    qia = kits["qiaseq"].umi
    assert qia.cutadapt_adapter() == "AACTGTAGGCACCATCAAT" + "N" * 12 + "AGATCGGAAG"
    for kit in kits.values():
        if kit.name != "custom":
            # poly(A) kits: the probe is 12 A whatever the adapter length
            assert kit.adapter.startswith(kit.probe) or set(kit.probe + kit.adapter) == {"A"}
            assert len(kit.probe) == 12
            assert kit.source


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_detection_real_reads(name):
    kit, leftmost, scanned, confidence = EXPECTED[name]
    detection = detect_adapter(name, [READS / name])
    assert detection.best_kit == kit
    assert detection.reads_scanned == scanned
    assert detection.rows[0]["reads_leftmost"] == leftmost
    assert detection.fraction == pytest.approx(leftmost / scanned)
    assert detection.confidence == confidence


def test_truseq_family_shared_adapter_is_reported():
    detection = detect_adapter("s1", [READS / "sample1.fastq.gz"])
    assert detection.rows[0]["kits"] == "truseq,nextflex,lexogen"
    assert "nextflex" in detection.message and "cannot be told apart" in detection.message


def test_leftmost_probe_wins_on_read_through():
    # 101-nt exRNAQC reads continue into the legacy Illumina sequence after the TruSeq adapter
    detection = detect_adapter("S1", [READS / "RNA014937_S1_R1.fastq.gz"])
    legacy = next(r for r in detection.rows if r["family"] == "legacy_illumina")
    assert legacy["reads_with_probe"] == 9575 and legacy["reads_leftmost"] == 128


def test_partial_probe_at_read_end():
    probes = {"truseq": "TGGAATTCTCGG"}
    anywhere, leftmost, n = count_probes(
        ["ACGTACGTTGGAATTC", "ACGTACGTTGGAATT", "ACGTTGGAATTCTCGGAA"], probes
    )
    # 8 nt at the end counts, 7 do not, a full probe anywhere counts
    assert (anywhere["truseq"], leftmost["truseq"], n) == (2, 2, 3)


def test_configured_kit_disagreeing_warns(tmp_path, caplog):
    out = tmp_path / "det.tsv"
    with caplog.at_level("WARNING"):
        kit, detection = detect_sample_kit("S3", [READS / "sample3.fastq.gz"], out, kit="truseq")
    assert kit.name == "truseq" and detection.best_kit == "legacy_illumina"
    assert "consider preprocess.kit: legacy_illumina" in caplog.text
    text = out.read_text()
    assert "WARNING" in text and "consider preprocess.kit: legacy_illumina" in text
    assert chosen_kit(out).name == "truseq"


def test_auto_writes_chosen_row(tmp_path):
    out = tmp_path / "det.tsv"
    kit, _ = detect_sample_kit("Q", [READS / "QiaSeq_data.fastq.gz"], out)
    assert kit.name == "qiaseq"
    lines = out.read_text().splitlines()
    assert lines[0].split("\t")[:3] == ["sample", "family", "kits"]
    assert lines[1].split("\t")[1:3] == ["qiaseq", "qiaseq"]
    assert lines[-1].split("\t")[1:3] == ["chosen", "qiaseq"]
    assert chosen_kit(out).umi is not None


def test_auto_without_adapter_fails(tmp_path):
    fastq = tmp_path / "noadapter.fastq"
    fastq.write_text(
        "".join(f"@r{i}\n{'GATCCAGTTCAGGCATCAGTCAGCATTCAG'}\n+\n{'I' * 30}\n" for i in range(50))
    )
    detection = detect_adapter("X", [fastq])
    assert detection.confidence == "none" and detection.best_kit is None
    with pytest.raises(ExomirInputError, match="sample X.*no known adapter.*Fix: set preprocess.kit"):
        resolve_kit("auto", detection)


def test_custom_kit_is_a_detection_candidate(tmp_path):
    out = tmp_path / "det.tsv"
    kit, detection = detect_sample_kit(
        "S1", [READS / "sample1.fastq.gz"], out, kit="custom", adapter="TGGAATTCTCGGGTGCCAAGG", clip_5p=1
    )
    assert kit.name == "custom" and kit.clip_5p == 1
    # the custom adapter shares the TruSeq probe; the first family seen (truseq) is reported
    assert detection.best_family == "truseq"
    assert "WARNING" not in out.read_text()  # same adapter as detected: no disagreement


def test_bad_kit_names():
    with pytest.raises(ExomirInputError, match="unknown kit 'truseqq'"):
        get_kit("truseqq")
    with pytest.raises(ExomirInputError, match="no adapter is given"):
        get_kit("custom")
    with pytest.raises(ExomirInputError, match="not a DNA sequence"):
        get_kit("custom", adapter="TGG-AAT")


def test_4n_layout_is_suspected(tmp_path):
    import random

    rng = random.Random(7)
    adapter = "TGGAATTCTCGGGTGCCAAGG"
    mirnas = ["TGAGGTAGTAGGTTGTATAGTT", "TAGCAGCACGTAAATATTGGCG", "TACCCTGTAGATCCGAATTTGT"]

    def n4():
        return "".join(rng.choice("ACGT") for _ in range(4))

    reads = [(n4() + mirnas[i % 3] + n4() + adapter)[:51] for i in range(2000)]
    fastq = tmp_path / "nf.fastq"
    fastq.write_text("".join(f"@r{i}\n{s}\n+\n{'I' * len(s)}\n" for i, s in enumerate(reads)))
    detection = detect_adapter("NF", [fastq])
    assert detection.best_kit == "truseq"
    assert "NEXTflex (4N)" in detection.message and "preprocess.kit: nextflex" in detection.message
    # the same inserts without random ends do not trigger it
    fastq.write_text("".join(f"@r{i}\n{s[4:]}\n+\n{'I' * len(s[4:])}\n" for i, s in enumerate(reads)))
    assert "NEXTflex (4N)" not in detect_adapter("TS", [fastq]).message


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_no_4n_hint_on_real_reads(name):
    assert "NEXTflex (4N)" not in detect_adapter(name, [READS / name]).message

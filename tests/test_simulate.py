"""Tests of exomir.simulate and of the bundled demo cohort / RNA-class libraries."""

from __future__ import annotations

import gzip
import re
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from exomir import simulate as S

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "resources" / "demo"
LABEL = re.compile(
    r"^@(?P<sample>[A-Z]+\d+)\.(?P<i>\d+) "
    r"(?P<cls>mirna|hairpin|trna|rrna|yrna|snrna|pirna|dimer|short|random)\|(?P<name>[^|\s]+)\|(?P<var>\S+)$"
)
MIRNA_TAG = re.compile(r"^(iso_5p:[+-]1|iso_3p:[+-][12]|iso_add3p:(A|T|AA|TT)|iso_snv_seed|iso_snv|seqerr)$")


def read_fastq(path: Path) -> list[tuple[str, str, str]]:
    with gzip.open(path, "rt") as handle:
        lines = handle.read().splitlines()
    assert len(lines) % 4 == 0
    return [(lines[i], lines[i + 1], lines[i + 3]) for i in range(0, len(lines), 4)]


@pytest.fixture(scope="module")
def model() -> S.Model:
    return S.build_model(S.DEFAULT_RESOURCES, seed=7)


@pytest.fixture(scope="module")
def small_cohort(tmp_path_factory, model) -> Path:
    """Two samples of 3,000 reads (one hemolysed control), chunked to exercise streaming."""
    out = tmp_path_factory.mktemp("sim")
    specs = [
        S.SampleSpec("BC01", "breast_cancer", "A", 3000),
        S.SampleSpec("HC05", "control", "B", 3000, hemolysed=True),
    ]
    S.simulate_cohort(out, specs, seed=7, fastq_prefix="sim", chunk_size=1000)
    return out


def test_same_seed_same_bytes(tmp_path, small_cohort):
    specs = [
        S.SampleSpec("BC01", "breast_cancer", "A", 3000),
        S.SampleSpec("HC05", "control", "B", 3000, hemolysed=True),
    ]
    S.simulate_cohort(tmp_path, specs, seed=7, fastq_prefix="sim", chunk_size=1000)
    names = sorted(p.name for p in small_cohort.iterdir())
    assert names == sorted(p.name for p in tmp_path.iterdir())
    assert names == [
        "BC01.fastq.gz",
        "HC05.fastq.gz",
        "samples.tsv",
        "truth.tsv",
        "truth_counts.tsv",
        "truth_samples.tsv",
    ]
    for name in names:
        assert (small_cohort / name).read_bytes() == (tmp_path / name).read_bytes(), name


def test_other_seed_other_reads(tmp_path, small_cohort):
    S.simulate_cohort(tmp_path, [S.SampleSpec("BC01", "breast_cancer", "A", 3000)], seed=8, chunk_size=1000)
    assert (tmp_path / "BC01.fastq.gz").read_bytes() != (small_cohort / "BC01.fastq.gz").read_bytes()


def test_read_names_match_truth_tables(small_cohort):
    counts = pd.read_csv(small_cohort / "truth_counts.tsv", sep="\t", index_col=0)
    per_sample = pd.read_csv(small_cohort / "truth_samples.tsv", sep="\t", index_col=0)
    for sample in ("BC01", "HC05"):
        records = read_fastq(small_cohort / f"{sample}.fastq.gz")
        assert len(records) == 3000 == per_sample.loc[sample, "reads"]
        mirna = Counter()
        classes = Counter()
        for k, (header, _, _) in enumerate(records, start=1):
            m = LABEL.match(header)
            assert m, header
            assert m["sample"] == sample and int(m["i"]) == k
            classes[m["cls"]] += 1
            if m["cls"] == "mirna":
                mirna[m["name"]] += 1
        observed = pd.Series(mirna).reindex(counts.index, fill_value=0)
        assert (observed.values == counts[sample].values).all()
        for cls in S.CLASSES:
            assert classes[cls] == per_sample.loc[sample, f"{cls}_reads"], cls
    assert per_sample.loc["HC05", "hemolysed"] == "yes"


def test_read_layout_and_qualities(small_cohort):
    records = read_fastq(small_cohort / "BC01.fastq.gz")
    for header, seq, qual in records:
        assert len(seq) == S.READ_LENGTH == len(qual)
        assert set(qual) <= set("#,:F")
        assert set(seq) <= set("ACGTN")
        cls, name, var = header.split(" ", 1)[1].split("|")
        if "seqerr" in var:
            continue
        insert_len = int(var[3:]) if cls in ("dimer", "short", "random") else None
        if cls in ("trna", "rrna", "snrna", "hairpin"):
            start, end = map(int, var.split("-"))
            insert_len = end - start + 1
        if insert_len is not None:
            assert_adapter_after(seq, qual, insert_len, header)


def assert_adapter_after(seq: str, qual: str, start: int, header: str) -> None:
    """Cycles after the insert carry the adapter; errors there (untagged) have non-F qualities."""
    tail = seq[start : start + len(S.ADAPTER)]
    for k, base in enumerate(tail):
        if base != S.ADAPTER[k]:
            assert qual[start + k] != "F", header


def _expected_insert(model: S.Model, name: str, tags: list[str]) -> str:
    u = model.universe
    i = u.names.index(name)
    hp = u.hairpin_seqs[u.hairpin[i]]
    start, end = int(u.start[i]), int(u.end[i])
    add = ""
    for tag in tags:
        key, _, value = tag.partition(":")
        if key == "iso_5p":
            start += int(value)
        elif key == "iso_3p":
            end += int(value)
        elif key == "iso_add3p":
            add = value
    return hp[start:end] + add


def test_isomir_tags_describe_the_insert(small_cohort, model):
    """Error-free miRNA reads are exactly hairpin[start:end] + addition, then the adapter."""
    checked = snv = 0
    for header, seq, qual in read_fastq(small_cohort / "BC01.fastq.gz"):
        cls, name, var = header.split(" ", 1)[1].split("|")
        if cls != "mirna":
            continue
        parts = var.split(",")
        if parts[0] == "canonical":
            assert parts in (["canonical"], ["canonical", "seqerr"]), var
        tags = [t for t in parts if t != "canonical"]
        assert all(MIRNA_TAG.match(t) for t in tags), var
        if "seqerr" in tags:
            continue
        insert = _expected_insert(model, name, tags)
        observed = seq[: len(insert)]
        assert_adapter_after(seq, qual, len(insert), header)
        if any(t.startswith("iso_snv") for t in tags):
            diff = [k for k in range(len(insert)) if insert[k] != observed[k]]
            assert len(diff) == 1
            assert ("iso_snv_seed" in tags) == (1 <= diff[0] <= 6)
            snv += 1
        else:
            assert observed == insert, header
        checked += 1
    assert checked > 1000


def test_mature_positions_match_mirbase(model):
    mature = S.read_fasta(S.DEFAULT_RESOURCES / "mirbase" / "22.1" / "mature_hsa.fa.gz")
    u = model.universe
    for i, name in enumerate(u.names):
        assert u.hairpin_seqs[u.hairpin[i]][u.start[i] : u.end[i]] == mature[name]
    assert abs(u.baseline.sum() - 1.0) < 1e-9
    assert u.baseline[u.names.index("hsa-miR-101-3p")] == pytest.approx(S.DOMINANT_CAP)


def test_planted_set_definition():
    names = [p[0] for p in S.PLANTED]
    assert len(names) == len(set(names)) == 20
    lfc = np.array([p[1] for p in S.PLANTED])
    assert ((np.abs(lfc) >= 1.5) & (np.abs(lfc) <= 3)).all()
    assert (lfc > 0).sum() == 13 and (lfc < 0).sum() == 7
    review = {p[0]: p[2] for p in S.PLANTED if p[2]}
    assert len(review) == 11
    # directions stated by Jia et al. 2017 are planted in that direction
    for name, value, direction in S.PLANTED:
        if direction in ("up", "down"):
            assert (value > 0) == (direction == "up"), name


def test_demo_truth_and_sheet():
    truth = pd.read_csv(DEMO / "truth.tsv", sep="\t")
    assert list(truth.columns) == [
        "mirna",
        "log2fc",
        "direction",
        "review_marker",
        "review_direction",
        "baseline_cpm",
        "realised_log2fc",
    ]
    assert truth["mirna"].tolist() == sorted(p[0] for p in S.PLANTED)
    # realised fold changes (share of miRNA reads) have the planted sign; miR-101-3p
    # (12% of miRNA reads) is damped by compositional renormalisation.
    assert (np.sign(truth["realised_log2fc"]) == np.sign(truth["log2fc"])).all()
    other = truth[truth["mirna"] != "hsa-miR-101-3p"]
    assert (abs(other["realised_log2fc"] - other["log2fc"]) < 1.0).all()
    sheet = pd.read_csv(DEMO / "samples.tsv", sep="\t")
    assert list(sheet.columns) == ["sample", "condition", "batch", "fastq", "description"]
    assert sheet["sample"].tolist() == [f"BC{k:02d}" for k in range(1, 7)] + [
        f"HC{k:02d}" for k in range(1, 7)
    ]
    assert sheet.groupby(["condition", "batch"]).size().tolist() == [3, 3, 3, 3]
    for path in sheet["fastq"]:
        assert (ROOT / path).exists(), path


def test_demo_hemolysed_control_stands_out():
    per = pd.read_csv(DEMO / "truth_samples.tsv", sep="\t", index_col=0)
    assert per.index[per["hemolysed"] == "yes"].tolist() == ["HC05"]
    ratio = per["mir451a_mir23a_ratio"]
    assert ratio["HC05"] > 10 * ratio.drop("HC05").max()
    counts = pd.read_csv(DEMO / "truth_counts.tsv", sep="\t", index_col=0)
    assert int(counts["HC05"].sum()) == per.loc["HC05", "mirna_reads"]


def test_demo_fastq_matches_truth_counts():
    counts = pd.read_csv(DEMO / "truth_counts.tsv", sep="\t", index_col=0)
    records = read_fastq(DEMO / "HC05.fastq.gz")
    mirna = Counter(h.split(" ", 1)[1].split("|")[1] for h, _, _ in records if " mirna|" in h)
    assert pd.Series(mirna).reindex(counts.index, fill_value=0).tolist() == counts["HC05"].tolist()


@pytest.mark.parametrize("cls", ["trna", "rrna", "snrna"])
def test_rna_class_libraries(cls):
    lib = S.read_fasta(S.DEFAULT_RESOURCES / "rna_classes" / f"{cls}.fa")
    assert lib
    with open(S.DEFAULT_RESOURCES / "rna_classes" / f"{cls}.fa") as handle:
        headers = [line[1:].strip() for line in handle if line.startswith(">")]
    assert all(re.fullmatch(rf"{cls}\|[A-Za-z0-9_.-]+", h) for h in headers)
    assert all(re.fullmatch("[ACGT]+", s) for s in lib.values())
    # no 18-mer shared with any human miRNA hairpin (either strand)
    hairpins = S.read_fasta(S.DEFAULT_RESOURCES / "mirbase" / "22.1" / "hairpin_hsa.fa.gz")
    kmers = {h[i : i + 18] for h in hairpins.values() for i in range(len(h) - 17)}
    comp = str.maketrans("ACGT", "TGCA")
    for name, seq in lib.items():
        for s in (seq, seq.translate(comp)[::-1]):
            assert not any(s[i : i + 18] in kmers for i in range(len(s) - 17)), name


def test_trna_have_cca(model):
    lib = S.read_fasta(S.DEFAULT_RESOURCES / "rna_classes" / "trna.fa")
    assert all(seq.endswith("CCA") for seq in lib.values())


def test_cli_rejects_unknown_sample(tmp_path):
    from exomir.errors import ExomirInputError

    with pytest.raises(ExomirInputError, match="unknown sample"):
        S.main(["--out-dir", str(tmp_path), "--reads", "100", "--samples", "XX01"])

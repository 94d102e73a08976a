"""Reference preparation: bundled miRBase 22.1, GFF3 coordinates, consistency errors."""

import gzip
from pathlib import Path

import pandas as pd
import pytest

from exomir.errors import ExomirInputError
from exomir.references import (
    bundled_paths,
    prepare_references,
    read_fasta,
    read_mirbase_gff3,
    sha256_of,
)

ROOT = Path(__file__).resolve().parents[1]
RESOURCES = ROOT / "resources"
DATA = Path(__file__).parent / "data" / "quantify"
SYNTH = DATA / "mirtop_synthetic_let7a"


def _prepare(tmp_path, species, **paths):
    out = tmp_path / species
    table = prepare_references(
        **paths,
        species=species,
        out_hairpin=str(out / "hairpin.fa"),
        out_mature=str(out / "mature.tsv"),
        out_checksums=str(out / "checksums.tsv"),
    )
    return out, table


@pytest.fixture(scope="module")
def hsa(tmp_path_factory):
    paths = bundled_paths("hsa", RESOURCES)
    return _prepare(
        tmp_path_factory.mktemp("ref"),
        "hsa",
        mature_fasta=paths["mature"],
        hairpin_fasta=paths["hairpin"],
        gff3=paths["gff3"],
    )


def test_bundled_hsa_counts(hsa):
    out, table = hsa
    assert table["mature"].nunique() == 2656
    assert len(table) == 2879
    assert table["coordinates"].value_counts().to_dict() == {"gff3": 2875, "sequence": 4}
    assert sorted(table.loc[table["coordinates"] == "sequence", "mature"]) == [
        "hsa-miR-1973",
        "hsa-miR-3713",
        "hsa-miR-378g",
        "hsa-miR-4456",
    ]
    hairpins = read_fasta(out / "hairpin.fa")
    assert len(hairpins) == 1917
    assert all(set(r.sequence) <= set("ACGT") for r in hairpins)
    assert [r.name for r in hairpins] == sorted(r.name for r in hairpins)
    written = pd.read_csv(out / "mature.tsv", sep="\t")
    # Spelled out rather than references.MATURE_COLUMNS: the file's columns are the contract the
    # quantify stage reads, so a change of the constant must fail here (duplicates lists this pair).
    assert list(written.columns) == [
        "mature",
        "accession",
        "hairpin",
        "start",
        "end",
        "arm",
        "sequence",
        "coordinates",
        "same_sequence_as",
        "feature",
    ]
    twins = table[table["same_sequence_as"] != ""].drop_duplicates("mature")
    assert len(twins) == 40
    assert table.loc[
        table["mature"] == "hsa-miR-199a-3p", "same_sequence_as"
    ].unique().tolist() == ["hsa-miR-199b-3p"]
    # Names with one identical sequence are one feature: 2656 names, 2632 count rows.
    assert table["feature"].nunique() == 2632
    merged = sorted(table.loc[table["feature"].str.contains("/"), "feature"].unique())
    assert len(merged) == 16
    assert merged[0] == "hsa-miR-199a-3p/hsa-miR-199b-3p"
    feature_of = dict(zip(table["mature"], table["feature"]))
    assert feature_of["hsa-miR-199b-3p"] == "hsa-miR-199a-3p/hsa-miR-199b-3p"
    assert feature_of["hsa-miR-526a-5p"] == "hsa-miR-518d-5p/hsa-miR-520c-5p/hsa-miR-526a-5p"
    assert feature_of["hsa-let-7a-5p"] == "hsa-let-7a-5p"
    # The feature is the name plus same_sequence_as, in name order, joined with "/".
    for row in table.itertuples():
        names = [row.mature] + (row.same_sequence_as.split(";") if row.same_sequence_as else [])
        assert row.feature == "/".join(sorted(names))


def test_bundled_hsa_loci(hsa):
    _out, table = hsa
    let7a = table[table["mature"] == "hsa-let-7a-5p"]
    assert let7a[["hairpin", "start", "end", "arm"]].values.tolist() == [
        ["hsa-let-7a-1", 6, 27, "5p"],
        ["hsa-let-7a-2", 5, 26, "5p"],
        ["hsa-let-7a-3", 4, 25, "5p"],
    ]
    assert set(let7a["accession"]) == {"MIMAT0000062"}
    assert set(let7a["sequence"]) == {"TGAGGTAGTAGGTTGTATAGTT"}
    mir16 = table[table["mature"] == "hsa-miR-16-5p"]
    assert mir16["hairpin"].tolist() == ["hsa-mir-16-1", "hsa-mir-16-2"]
    mir451 = table[table["mature"] == "hsa-miR-451a"]
    assert mir451[["hairpin", "start", "end", "arm"]].values.tolist() == [
        ["hsa-mir-451a", 17, 38, "5p"]
    ]
    # A hairpin at four genomic loci (hsa-mir-10401) is kept once.
    assert table[table["hairpin"] == "hsa-mir-10401"]["mature"].tolist() == [
        "hsa-miR-10401-3p",
        "hsa-miR-10401-5p",
    ]


def test_bundled_checksums_match_sha256sums(hsa):
    out, _table = hsa
    sums = dict(
        line.split()[::-1]
        for line in (RESOURCES / "mirbase" / "22.1" / "SHA256SUMS").read_text().splitlines()
    )
    checksums = pd.read_csv(out / "checksums.tsv", sep="\t")
    assert checksums["role"].tolist() == ["mature_fasta", "hairpin_fasta", "gff3", "hairpin_fa"]
    for row in checksums.itertuples():
        if row.role != "hairpin_fa":
            assert sums[row.file] == row.sha256
    assert checksums["sha256"].iloc[-1] == sha256_of(out / "hairpin.fa")


def test_bundled_mmu_by_sequence(tmp_path):
    paths = bundled_paths("mmu", RESOURCES)
    assert paths["gff3"] == ""
    _out, table = _prepare(
        tmp_path, "mmu", mature_fasta=paths["mature"], hairpin_fasta=paths["hairpin"], gff3=None
    )
    assert table["mature"].nunique() == 1978
    assert len(table) == 2125
    assert set(table["coordinates"]) == {"sequence"}
    assert table[table["mature"] == "mmu-miR-16-5p"]["hairpin"].tolist() == [
        "mmu-mir-16-1",
        "mmu-mir-16-2",
    ]


def test_unbundled_species_is_a_clear_error():
    with pytest.raises(ExomirInputError, match="no bundled miRBase references for species 'rno'"):
        bundled_paths("rno", RESOURCES)


def test_minus_strand_gff3_coordinates():
    lengths, intervals = read_mirbase_gff3(SYNTH / "annotate_hsa.gff3", "hsa")
    assert lengths == {
        "hsa-let-7a-1": 80,
        "hsa-let-7a-2": 72,
        "hsa-let-7a-3": 74,
        "hsa-let-7f-1": 87,
    }
    on_7a2 = [(g.mature, g.start, g.end) for g in intervals if g.hairpin == "hsa-let-7a-2"]
    assert on_7a2 == [("hsa-let-7a-5p", 5, 26), ("hsa-let-7a-2-3p", 50, 71)]


def test_small_reference_with_gff3_and_sequence_fallback(tmp_path):
    _out, table = _prepare(
        tmp_path,
        "hsa",
        mature_fasta=str(DATA / "let7_mature.fa"),
        hairpin_fasta=str(SYNTH / "annotate_hairpin.fa"),
        gff3=str(SYNTH / "annotate_hsa.gff3"),
    )
    assert table[["mature", "hairpin", "start", "end", "coordinates"]].values.tolist() == [
        ["hsa-let-7a-2-3p", "hsa-let-7a-2", 50, 71, "gff3"],
        ["hsa-let-7a-3p", "hsa-let-7a-1", 57, 77, "gff3"],
        ["hsa-let-7a-3p", "hsa-let-7a-3", 52, 72, "gff3"],
        ["hsa-let-7a-5p", "hsa-let-7a-1", 6, 27, "gff3"],
        ["hsa-let-7a-5p", "hsa-let-7a-2", 5, 26, "gff3"],
        ["hsa-let-7a-5p", "hsa-let-7a-3", 4, 25, "gff3"],
        ["hsa-let-7f-1-3p", "hsa-let-7f-1", 63, 84, "gff3"],
        ["hsa-let-7f-5p", "hsa-let-7f-1", 7, 28, "sequence"],
    ]


def test_gff3_hairpin_missing_from_fasta_names_it(tmp_path):
    # The seqcluster GFF3 has hsa-let-7f-1, its hairpin FASTA does not.
    with pytest.raises(ExomirInputError) as err:
        _prepare(
            tmp_path,
            "hsa",
            mature_fasta=str(DATA / "let7_mature.fa"),
            hairpin_fasta=str(DATA / "seqcluster_miraligner_sim" / "hairpin.fa"),
            gff3=str(DATA / "seqcluster_miraligner_sim" / "hsa.gff3"),
        )
    message = str(err.value)
    assert "hsa-let-7f-1" in message and "hairpin.fa" in message and "hsa.gff3" in message


def test_gff3_mature_missing_from_mature_fasta(tmp_path):
    mature = tmp_path / "mature.fa"
    mature.write_text(">hsa-let-7a-5p MIMAT0000062\nUGAGGUAGUAGGUUGUAUAGUU\n")
    with pytest.raises(ExomirInputError, match="hsa-let-7a-2-3p, hsa-let-7a-3p, hsa-let-7f-1-3p"):
        _prepare(
            tmp_path,
            "hsa",
            mature_fasta=str(mature),
            hairpin_fasta=str(SYNTH / "annotate_hairpin.fa"),
            gff3=str(SYNTH / "annotate_hsa.gff3"),
        )


def test_mature_not_in_any_hairpin(tmp_path):
    mature = tmp_path / "mature.fa.gz"
    with gzip.open(mature, "wt") as handle:
        handle.write(
            ">hsa-let-7a-5p MIMAT0000062\nUGAGGUAGUAGGUUGUAUAGUU\n"
            ">hsa-miR-21-5p MIMAT0000076\nUAGCUUAUCAGACUGAUGUUGA\n"
        )
    with pytest.raises(ExomirInputError, match="not found in any hairpin: hsa-miR-21-5p"):
        _prepare(
            tmp_path,
            "hsa",
            mature_fasta=str(mature),
            hairpin_fasta=str(SYNTH / "annotate_hairpin.fa"),
            gff3=None,
        )


def test_species_absent_from_fasta(tmp_path):
    with pytest.raises(ExomirInputError, match="no sequence of species 'mmu'"):
        read_fasta(DATA / "let7_mature.fa", "mmu")


def test_not_a_fasta(tmp_path):
    bad = tmp_path / "bad.fa"
    bad.write_text("<html>error</html>\n")
    with pytest.raises(ExomirInputError, match="not a FASTA file"):
        read_fasta(bad)

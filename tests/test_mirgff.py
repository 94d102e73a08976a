"""mirGFF3 output: MINTplates UIDs, CIGARs and SNV classes against miRTop's example."""

from pathlib import Path

import pytest

from exomir.mirgff import (
    GffRecord,
    license_plate,
    mirtop_cigar,
    read_mirgff,
    snv_class,
    write_mirgff,
)

DATA = Path(__file__).parent / "data" / "quantify"


def test_license_plates_match_mirtop_example():
    expected = read_mirgff(DATA / "mirtop_synthetic_let7a" / "let7a-5p.gff")
    assert len(expected) == 12
    for row in expected:
        assert license_plate(row["Read"]) == row["UID"]


@pytest.mark.parametrize(
    "sequence, plate",
    [
        ("A", "iso-1-B"),
        ("T", "iso-1-E"),
        ("TT", "iso-2-Q"),
        ("AAAAA", "iso-5-BB"),
        ("AAAAAC", "iso-6-BBD"),
        ("TTTTTTTTT", "iso-9-ZZKQ"),
        ("ACGUA", "iso-5-EL"),
    ],
)
def test_license_plate_small_cases(sequence, plate):
    assert license_plate(sequence) == plate


def test_license_plate_rejects_n():
    with pytest.raises(ValueError):
        license_plate("ACGNT")


@pytest.mark.parametrize(
    "position, name",
    [
        (1, "iso_snv"),
        (2, "iso_snv_seed"),
        (7, "iso_snv_seed"),
        (8, "iso_snv_central_offset"),
        (9, "iso_snv_central"),
        (12, "iso_snv_central"),
        (13, "iso_snv_central_supp"),
        (17, "iso_snv_central_supp"),
        (18, "iso_snv"),
        (22, "iso_snv"),
    ],
)
def test_snv_classes(position, name):
    assert snv_class(position) == name


def test_cigar_mismatch_and_addition():
    reference = "TGAGGTAGTAGGTTGTATAGTTTTAG"
    assert mirtop_cigar("TGAGGTAGTACGTTGTATAGTT", reference, 0) == "10MC11M"
    assert mirtop_cigar("TGAGGTAGTAGGTTGTATAGTTAA", reference, 2) == "22MAA"
    assert mirtop_cigar("AGAGGTAGTAGGTTGTATAGTT", reference, 0) == "A21M"


def test_write_mirgff_layout(tmp_path):
    out = tmp_path / "s1.gff"
    records = [
        GffRecord(
            "hsa-let-7a-1",
            6,
            28,
            "TGAGGTAGTAGGTTGTATAGTTA",
            "hsa-let-7a-5p",
            "iso_add3p:1",
            "22MA",
            7,
            3,
        ),
        GffRecord(
            "hsa-let-7a-1", 6, 27, "TGAGGTAGTAGGTTGTATAGTT", "hsa-let-7a-5p", "NA", "22M", 5, 3
        ),
    ]
    write_mirgff(records, out, "s1", "miRBase22.1 doi:10.25504/fairsharing.hmgte8")
    lines = out.read_text().splitlines()
    assert lines[:4] == [
        "## mirGFF3. VERSION 1.1",
        "## source-ontology: miRBase22.1 doi:10.25504/fairsharing.hmgte8",
        "## COLDATA: s1",
        "## TOOLS: exomir",
    ]
    assert lines[4].split("\t") == [
        "hsa-let-7a-1",
        "exomir",
        "ref_miRNA",
        "6",
        "27",
        ".",
        "+",
        ".",
        "UID=iso-22-XKVLRYVPQ; Read=TGAGGTAGTAGGTTGTATAGTT; Name=hsa-let-7a-5p; "
        "Parent=hsa-let-7a-1; Variant=NA; Cigar=22M; Expression=5; Filter=Pass; Hits=3",
    ]
    assert lines[5].split("\t")[2] == "isomiR"
    assert len(lines) == 6

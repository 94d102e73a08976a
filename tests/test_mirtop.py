"""mirGFF3 interoperability: the reference tool mirtop reads the demo's GFF files and counts
what exomir counts (per sample with ``mirtop stats``, per miRNA with ``mirtop counts``)."""

from __future__ import annotations

import gzip
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from exomir.mirgff import read_mirgff
from support import ROOT

pytestmark = pytest.mark.workflow  # uses the demo run

MIRTOP = [str(Path(sys.executable).parent / "mirtop")]


def _mirtop(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    proc = subprocess.run([*MIRTOP, *args], cwd=cwd, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


def _gff_files(demo_run: Path) -> list[Path]:
    files = sorted((demo_run / "results" / "quantify" / "mirgff").glob("*.gff"))
    assert len(files) == 12
    return files


def _mature_counts(demo_run: Path) -> pd.DataFrame:
    return pd.read_csv(demo_run / "results" / "quantify" / "mature_counts.tsv", sep="\t", index_col=0)


def _coldata_last(source: Path, dest: Path) -> Path:
    """The file with its ``## COLDATA`` line moved to the end of the header.

    mirtop 0.4.30 ``counts`` takes the line after ``## COLDATA`` for the first feature, so it
    needs COLDATA as the last header line (as mirtop writes it); the mirGFF3 definition sets no
    order of the header lines, and exomir writes ``## TOOLS`` after COLDATA.
    """
    lines = source.read_text().splitlines(keepends=True)
    header = [line for line in lines if line.startswith("##")]
    body = [line for line in lines if not line.startswith("##")]
    coldata = [line for line in header if line.startswith("## COLDATA")]
    dest.write_text("".join([line for line in header if line not in coldata] + coldata + body))
    return dest


@pytest.fixture(scope="module")
def mirbase_files(tmp_path_factory) -> tuple[Path, Path]:
    """The bundled miRBase 22.1 hairpins and GFF3, unpacked for mirtop (it reads plain text).

    The GFF3 loses its two trailing blank lines: mirtop's miRBase reader splits every line into
    9 columns and fails on an empty one.
    """
    out = tmp_path_factory.mktemp("mirbase")
    base = ROOT / "resources" / "mirbase" / "22.1"
    hairpin, gff3 = out / "hairpin.fa", out / "hsa.gff3"
    with gzip.open(base / "hairpin_hsa.fa.gz", "rt") as handle:
        hairpin.write_text(handle.read())
    with gzip.open(base / "hsa.gff3.gz", "rt") as handle:
        gff3.write_text("".join(line for line in handle if line.strip()))
    return hairpin, gff3


def test_mirtop_stats_total_equals_exomir_mature_reads(demo_run, tmp_path):
    files = _gff_files(demo_run)
    _mirtop("stats", "-o", str(tmp_path), *map(str, files), cwd=tmp_path)
    stats = pd.read_csv(tmp_path / "mirtop_stats.txt", comment="#", index_col=0)
    # mirtop appends a spurious "isomiR_sum 0" row after the real one: keep the first per sample
    stats = stats.drop_duplicates(["category", "sample"], keep="first").set_index(["sample", "category"])["counts"]
    counts = _mature_counts(demo_run)
    for gff in files:
        sample = gff.stem
        total = stats[(sample, "ref_miRNA_sum")] + stats[(sample, "isomiR_sum")]
        assert total == counts[sample].sum() > 10_000, sample
        mature_reads = pd.read_csv(demo_run / "results" / "quantify" / f"{sample}.stats.tsv", sep="\t")
        assert total == int(mature_reads["mature_reads"].iloc[0])


def _mirtop_counts(gff: Path, mirbase_files: tuple[Path, Path], out: Path, *extra: str) -> pd.DataFrame:
    """``mirtop counts`` of one exomir GFF (COLDATA moved last, see :func:`_coldata_last`)."""
    out.mkdir(parents=True, exist_ok=True)
    copy = _coldata_last(gff, out / gff.name)
    hairpin, gff3 = mirbase_files
    _mirtop("counts", "--gff", str(copy), "--hairpin", str(hairpin), "--gtf", str(gff3), "--sps", "hsa",
            "-o", str(out), *extra, cwd=out)
    return pd.read_csv(out / f"{gff.stem}.tsv", sep="\t")


@pytest.fixture(scope="module")
def mirtop_counts(demo_run, mirbase_files, tmp_path_factory) -> dict[str, pd.DataFrame]:
    """``mirtop counts`` of every demo sample."""
    out = tmp_path_factory.mktemp("mirtop_counts")
    return {gff.stem: _mirtop_counts(gff, mirbase_files, out / gff.stem) for gff in _gff_files(demo_run)}


def test_mirtop_counts_per_mirna_equal_exomir_counts(demo_run, mirtop_counts):
    counts = _mature_counts(demo_run)
    for gff in _gff_files(demo_run):
        sample = gff.stem
        table = mirtop_counts[sample]
        assert len(table) > 1000
        # exomir keeps reads of two mature miRNAs in the GFF with Filter REJECT:ambiguous and out of
        # the counts; mirtop counts ignores Filter, so those rows are set aside by (UID, Name)
        rejected = {(r["UID"], r["Name"]) for r in read_mirgff(gff) if r["Filter"] != "Pass"}
        passed = table[[(uid, name) not in rejected for uid, name in zip(table["UID"], table["miRNA"])]]
        per_mirna = passed.groupby("miRNA")[sample].sum()
        expected = counts.loc[counts[sample] > 0, sample]
        assert per_mirna.sort_index().to_dict() == expected.sort_index().to_dict(), sample
        assert len(table) - len(passed) == len(rejected)


def test_mirtop_recomputes_every_variant_from_exomir_coordinates(demo_run, mirbase_files, mirtop_counts, tmp_path):
    """With --add-extra mirtop re-derives each row's variant nucleotides from the hairpin and the
    miRBase GFF3 and drops rows it cannot place; it drops only exomir's merged-name rows
    ("hsa-miR-199a-3p/hsa-miR-199b-3p": one sequence, several names, not a miRBase name)."""
    for gff in _gff_files(demo_run):
        plain = mirtop_counts[gff.stem]
        extra = _mirtop_counts(gff, mirbase_files, tmp_path / gff.stem, "--add-extra")
        dropped = plain[~plain["UID"].isin(extra["UID"]) | ~plain["miRNA"].isin(extra["miRNA"])]
        assert len(extra) > 1000
        assert len(plain) - len(extra) == len(dropped)
        assert dropped["miRNA"].str.contains("/").all(), dropped["miRNA"].unique()
        assert set(extra.columns) >= {"iso_5p_nt", "iso_3p_nt", "iso_add3p_nt", "iso_snp_nt"}

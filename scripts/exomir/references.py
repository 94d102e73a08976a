"""miRBase references of one species: hairpins, mature coordinates, checksums.

:func:`prepare_references` turns miRBase files (bundled release 22.1 for
``hsa``/``mmu``, or user files, or verified downloads) into the three files
that quantification reads:

``hairpin.fa``
    the species' hairpins (precursor stem-loops) in the DNA alphabet, one
    line per sequence, sorted by name: the bowtie index is built from it.
``mature.tsv``
    one row per (mature miRNA, hairpin) locus: ``mature``, ``accession``
    (MIMAT), ``hairpin``, ``start``, ``end`` (1-based, inclusive, on the
    hairpin), ``arm`` (``5p``/``3p``), ``sequence`` (DNA), ``coordinates``
    (``gff3`` when taken from the miRBase GFF3, ``sequence`` when found by
    locating the mature sequence in the hairpin), ``same_sequence_as``
    (``;``-joined other mature names with the identical sequence, in name
    order, e.g. ``hsa-miR-199b-3p`` for hsa-miR-199a-3p; empty for most),
    ``feature`` (the row name of the mature in ``quantify/mature_counts.tsv``:
    the mature name itself, or, for names sharing one sequence, all of them
    joined with ``/`` in name order, e.g. ``hsa-miR-199a-3p/hsa-miR-199b-3p``;
    see :func:`feature_name`). A mature miRNA with several loci
    (hsa-let-7a-5p on let-7a-1/2/3) has one row per locus.
``checksums.tsv``
    ``role``, ``file`` (name only, no directory), ``sha256`` of every input.

Coordinates come from the GFF3 where it has the hairpin (human); otherwise
(mouse, or hairpins newer than the GFF3) the mature sequence is located in
the hairpins: every exact occurrence in a hairpin whose name matches the
mature name's family becomes a locus (see :func:`locate_matures`).

Consistency checks (each failure names the items and the files):
the GFF3 must not name hairpins missing from the hairpin FASTA, nor mature
miRNAs missing from the mature FASTA; a GFF3 mature interval must reproduce
the mature FASTA sequence; every mature miRNA must end up with at least one
locus. Hairpins present in the FASTA but absent from the GFF3 (4 in miRBase
22.1 human: mir-1973, mir-3713, mir-378g, mir-4456) fall back to sequence
location, with a warning.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import pandas as pd

from exomir.errors import ExomirInputError
from exomir.io import atomic_open, iter_fasta_records, open_text, write_tsv

log = logging.getLogger("exomir.references")

#: Species with references bundled in ``resources/mirbase/22.1``.
BUNDLED_SPECIES = ("hsa", "mmu")
BUNDLED_RELEASE = "22.1"

MATURE_COLUMNS = [
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

#: Joins the names of mature miRNAs with one identical sequence into one feature name.
FEATURE_SEPARATOR = "/"


def feature_name(names: Iterable[str]) -> str:
    """Feature (count row) of mature names that share one sequence: names in order, ``/``-joined.

    ``feature_name(["hsa-miR-199b-3p", "hsa-miR-199a-3p"])`` is
    ``"hsa-miR-199a-3p/hsa-miR-199b-3p"``; a single name is its own feature.
    Reads of such names cannot be told apart, so quantification counts them
    once, in this one row, instead of calling them ambiguous.
    """
    return FEATURE_SEPARATOR.join(sorted(set(names)))


@dataclass(frozen=True)
class FastaRecord:
    """One FASTA entry: first header word, second header word, DNA sequence."""

    name: str
    accession: str
    sequence: str


def to_dna(sequence: str) -> str:
    """Upper-case DNA version of an RNA/DNA sequence (U -> T)."""
    return sequence.strip().upper().replace("U", "T")


def read_fasta(path: str | os.PathLike, species: str | None = None) -> list[FastaRecord]:
    """Read a (gzipped) miRBase FASTA; keep entries whose name starts with ``{species}-``.

    Raises ExomirInputError if the file is not FASTA, has duplicate names, or
    (with ``species``) holds no entry of that species.
    """
    records = [
        FastaRecord(words[0], words[1] if len(words) > 1 else "", to_dna(sequence))
        for words, sequence in iter_fasta_records(
            path, fix="give a miRBase FASTA file (mature.fa / hairpin.fa, optionally gzipped)"
        )
    ]
    if species is not None:
        records = [r for r in records if r.name.startswith(f"{species}-")]
        if not records:
            raise ExomirInputError(
                f"no sequence of species '{species}' (names starting with '{species}-')",
                where=str(path),
                fix="check config 'species' and the reference file",
            )
    bad = sorted({r.name for r in records if not re.fullmatch(r"[ACGTN]+", r.sequence)})
    if bad:
        raise ExomirInputError(
            f"sequences with characters other than ACGUTN: {', '.join(bad[:10])}",
            where=str(path),
            fix="use miRBase FASTA files",
        )
    seen: set[str] = set()
    duplicated = sorted({r.name for r in records if r.name in seen or seen.add(r.name)})
    if duplicated:
        raise ExomirInputError(
            f"duplicate sequence names: {', '.join(duplicated[:10])}",
            where=str(path),
            fix="remove the duplicates",
        )
    return records


@dataclass(frozen=True)
class GffMature:
    """A mature miRNA interval of the miRBase GFF3, in hairpin coordinates."""

    mature: str
    accession: str
    hairpin: str
    start: int
    end: int


#: A hairpin locus of a GFF3: (name, chrom, start, end, strand).
_Locus = tuple[str, str, int, int, str]
#: A mature record of a GFF3: (name, alias, parent ID, start, end, chrom).
_GffMatureRecord = tuple[str, str, str, int, int, str]


def _gff_records(path: str | os.PathLike) -> tuple[dict[str, _Locus], list[_GffMatureRecord]]:
    """Hairpin loci (ID -> name, chrom, start, end, strand) and mature records of a miRBase GFF3."""
    primaries: dict[str, tuple[str, str, int, int, str]] = (
        {}
    )  # ID -> (name, chrom, start, end, strand)
    matures: list[tuple[str, str, str, int, int, str]] = (
        []
    )  # name, alias, parent ID, start, end, chrom
    with open_text(path) as handle:
        for line_number, line in enumerate(handle, 1):
            if line.startswith("#") or not line.strip():
                continue
            fields = line.rstrip("\n\r").split("\t")
            if len(fields) != 9:
                raise ExomirInputError(
                    f"line {line_number} has {len(fields)} tab-separated columns, not 9",
                    where=str(path),
                    fix="give a miRBase GFF3 file",
                )
            attributes = dict(
                item.split("=", 1)
                for item in fields[8].strip().strip(";").split(";")
                if "=" in item
            )
            kind, start, end, strand = fields[2], int(fields[3]), int(fields[4]), fields[6]
            if "Name" not in attributes or "ID" not in attributes:
                raise ExomirInputError(
                    f"line {line_number} lacks ID= or Name=",
                    where=str(path),
                    fix="give a miRBase GFF3 file",
                )
            if kind == "miRNA_primary_transcript":
                primaries[attributes["ID"]] = (attributes["Name"], fields[0], start, end, strand)
            elif kind == "miRNA":
                if "Derives_from" not in attributes:
                    raise ExomirInputError(
                        f"miRNA at line {line_number} lacks Derives_from=",
                        where=str(path),
                        fix="give a miRBase GFF3 file",
                    )
                matures.append(
                    (
                        attributes["Name"],
                        attributes.get("Alias", attributes["ID"]),
                        attributes["Derives_from"],
                        start,
                        end,
                        fields[0],
                    )
                )
    return primaries, matures


def _mature_intervals(
    primaries: dict[str, _Locus], matures: list[_GffMatureRecord], path: str | os.PathLike
) -> dict[tuple[str, str], tuple[int, int, str]]:
    """(mature, hairpin) -> 1-based interval on the hairpin and mature accession."""
    intervals: dict[tuple[str, str], tuple[int, int, str]] = {}
    # Derives_from names the hairpin accession; a hairpin at several loci has
    # IDs MI0033425, MI0033425_2, ...: the locus is the one containing the mature.
    loci_by_accession: dict[str, list[tuple[str, str, int, int, str]]] = {}
    for primary_id, locus in primaries.items():
        loci_by_accession.setdefault(primary_id.split("_")[0], []).append(locus)
    for name, alias, parent, start, end, chrom in matures:
        candidates = [
            locus
            for locus in loci_by_accession.get(parent.split("_")[0], [])
            if locus[1] == chrom and locus[2] <= start <= end <= locus[3]
        ]
        if not candidates:
            raise ExomirInputError(
                f"mature {name} ({chrom}:{start}-{end}) lies in no miRNA_primary_transcript "
                f"of {parent}",
                where=str(path),
                fix="give a complete miRBase GFF3 file",
            )
        hp_name, _c, hp_start, hp_end, strand = candidates[0]
        if strand == "-":
            rel_start, rel_end = hp_end - end + 1, hp_end - start + 1
        else:
            rel_start, rel_end = start - hp_start + 1, end - hp_start + 1
        key = (name, hp_name)
        if key in intervals and intervals[key][:2] != (rel_start, rel_end):
            raise ExomirInputError(
                f"mature {name} has different positions on the loci of {hp_name}",
                where=str(path),
                fix="give a consistent miRBase GFF3 file",
            )
        intervals[key] = (rel_start, rel_end, alias.split(",")[0])
    return intervals


def _hairpin_lengths(primaries: dict[str, _Locus], species: str, path: str | os.PathLike) -> dict[str, int]:
    """Length of each ``species`` hairpin; loci of one name must agree."""
    lengths: dict[str, int] = {}
    for hp_name, _c, hp_start, hp_end, _s in primaries.values():
        if not hp_name.startswith(f"{species}-"):
            continue
        length = hp_end - hp_start + 1
        if lengths.get(hp_name, length) != length:
            raise ExomirInputError(
                f"hairpin {hp_name} has loci of different lengths",
                where=str(path),
                fix="give a consistent miRBase GFF3 file",
            )
        lengths[hp_name] = length
    return lengths


def read_mirbase_gff3(
    path: str | os.PathLike, species: str
) -> tuple[dict[str, int], list[GffMature]]:
    """Read a miRBase GFF3: hairpin lengths and mature intervals on the hairpins.

    Genomic coordinates are converted to 1-based hairpin coordinates (minus
    strand: counted from the primary transcript's end). A hairpin name at
    several loci (hsa-mir-4477a ...) is kept once if its mature intervals agree.

    Returns:
        (hairpin name -> length, mature intervals sorted by hairpin, start).
    """
    primaries, matures = _gff_records(path)
    intervals = _mature_intervals(primaries, matures, path)
    lengths = _hairpin_lengths(primaries, species, path)
    result = [
        GffMature(m, acc, hp, s, e)
        for (m, hp), (s, e, acc) in intervals.items()
        if hp.startswith(f"{species}-")
    ]
    result.sort(key=lambda g: (g.hairpin, g.start, g.mature))
    return lengths, result


def arm_of(mature_name: str, start: int, end: int, hairpin_length: int) -> str:
    """``5p``/``3p`` from the name suffix, else from the position on the hairpin."""
    if mature_name.endswith("-5p"):
        return "5p"
    if mature_name.endswith("-3p"):
        return "3p"
    return "5p" if (start + end) / 2 <= hairpin_length / 2 else "3p"


def _family_key(name: str) -> str:
    """Lower-case name without species, arm and locus suffixes: 'hsa-miR-16-5p' -> 'mir-16'."""
    key = name.lower()
    key = re.sub(r"-(5p|3p)$", "", key)
    key = key.split("-", 1)[1] if "-" in key else key
    return key


def _hairpin_matches_family(mature_name: str, hairpin_name: str) -> bool:
    """True if the hairpin name belongs to the mature's family (mir-16 -> mir-16-1, mir-16-2).

    miRBase names a mature product after its precursor without the locus
    number (hsa-miR-16-5p from hsa-mir-16-1 and -2), or with it when the loci
    give different products (hsa-let-7a-2-3p); star-free legacy names
    (hsa-miR-1973) carry no arm suffix.
    """
    mature_key = _family_key(mature_name)
    hairpin_key = (
        hairpin_name.lower().split("-", 1)[1] if "-" in hairpin_name else hairpin_name.lower()
    )
    if hairpin_key == mature_key:
        return True
    # Locus number or letter suffix on the hairpin: mir-16-1, mir-16-2; mir-1302-2.
    return re.fullmatch(re.escape(mature_key) + r"(-\d+)?", hairpin_key) is not None


def locate_matures(
    matures: list[FastaRecord], hairpins: dict[str, str], mature_path: str = "mature FASTA"
) -> list[dict]:
    """Find every locus of each mature miRNA by exact sequence search in the hairpins.

    A locus is an exact occurrence of the mature sequence in a hairpin of the
    mature's family (:func:`_hairpin_matches_family`); if the family rule finds
    none, any hairpin holding the exact sequence is accepted (names in miRBase
    are not always systematic, e.g. mmu-miR-1a-3p from mmu-mir-1a-1/2).

    Raises ExomirInputError naming the mature miRNAs found in no hairpin.
    """
    rows: list[dict] = []
    missing: list[str] = []
    for record in matures:
        hits = []
        for hp_name, hp_seq in hairpins.items():
            position = hp_seq.find(record.sequence)
            if position >= 0:
                hits.append((hp_name, position))
        family_hits = [hit for hit in hits if _hairpin_matches_family(record.name, hit[0])]
        chosen = family_hits or hits
        if not chosen:
            missing.append(record.name)
            continue
        for hp_name, position in chosen:
            start, end = position + 1, position + len(record.sequence)
            rows.append(
                {
                    "mature": record.name,
                    "accession": record.accession,
                    "hairpin": hp_name,
                    "start": start,
                    "end": end,
                    "arm": arm_of(record.name, start, end, len(hairpins[hp_name])),
                    "sequence": record.sequence,
                    "coordinates": "sequence",
                }
            )
    if missing:
        raise ExomirInputError(
            f"{len(missing)} mature miRNA(s) not found in any hairpin: {', '.join(missing[:20])}",
            where=mature_path,
            fix="use mature and hairpin FASTA files of the same miRBase release and species",
        )
    return rows


def sha256_of(path: str | os.PathLike) -> str:
    """Hex SHA-256 of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _check_gff_against_fastas(
    lengths: dict[str, int],
    intervals: list[GffMature],
    hairpins: dict[str, str],
    mature_names: set[str],
    gff3: str | os.PathLike,
    *,
    mature_path: str,
    hairpin_path: str,
) -> None:
    """The GFF3 names no hairpin or mature missing from the FASTAs, and hairpin lengths agree."""
    missing_hp = sorted(set(lengths) - set(hairpins))
    if missing_hp:
        raise ExomirInputError(
            f"{len(missing_hp)} hairpin(s) of the GFF3 are missing from the hairpin FASTA "
            f"{hairpin_path}: {', '.join(missing_hp[:20])}",
            where=str(gff3),
            fix="use a GFF3, hairpin and mature FASTA of the same miRBase release",
        )
    missing_mature = sorted({g.mature for g in intervals} - mature_names)
    if missing_mature:
        raise ExomirInputError(
            f"{len(missing_mature)} mature miRNA(s) of the GFF3 are missing from the mature "
            f"FASTA {mature_path}: {', '.join(missing_mature[:20])}",
            where=str(gff3),
            fix="use a GFF3, hairpin and mature FASTA of the same miRBase release",
        )
    wrong_length = sorted(hp for hp, n in lengths.items() if len(hairpins[hp]) != n)
    if wrong_length:
        raise ExomirInputError(
            f"hairpin length differs between the GFF3 and {hairpin_path}: "
            f"{', '.join(wrong_length[:20])}",
            where=str(gff3),
            fix="use a GFF3 and hairpin FASTA of the same miRBase release",
        )


def _gff_rows(
    intervals: list[GffMature],
    hairpins: dict[str, str],
    mature_by_name: dict[str, FastaRecord],
    gff3: str | os.PathLike,
) -> list[dict]:
    """Mature-table rows of the GFF3 intervals; each must reproduce the mature FASTA sequence."""
    rows: list[dict] = []
    mismatched = []
    for g in intervals:
        expected = mature_by_name[g.mature].sequence
        found = hairpins[g.hairpin][g.start - 1 : g.end]
        if found != expected:
            mismatched.append(f"{g.mature} on {g.hairpin} {g.start}-{g.end}")
            continue
        rows.append(
            {
                "mature": g.mature,
                "accession": mature_by_name[g.mature].accession or g.accession,
                "hairpin": g.hairpin,
                "start": g.start,
                "end": g.end,
                "arm": arm_of(g.mature, g.start, g.end, len(hairpins[g.hairpin])),
                "sequence": expected,
                "coordinates": "gff3",
            }
        )
    if mismatched:
        raise ExomirInputError(
            f"GFF3 mature interval does not match the mature FASTA sequence for "
            f"{len(mismatched)} locus/loci: {'; '.join(mismatched[:10])}",
            where=str(gff3),
            fix="use a GFF3, hairpin and mature FASTA of the same miRBase release",
        )
    return rows


def _add_feature_columns(rows: list[dict]) -> None:
    """Fill ``same_sequence_as`` and ``feature`` of every row (in place)."""
    names_by_sequence: dict[str, set[str]] = {}
    for row in rows:
        names_by_sequence.setdefault(row["sequence"], set()).add(row["mature"])
    for row in rows:
        row["same_sequence_as"] = ";".join(
            sorted(names_by_sequence[row["sequence"]] - {row["mature"]})
        )
        row["feature"] = feature_name(names_by_sequence[row["sequence"]])


def build_mature_table(
    mature_records: list[FastaRecord],
    hairpin_records: list[FastaRecord],
    gff3: str | os.PathLike | None,
    species: str,
    *,
    mature_path: str = "mature FASTA",
    hairpin_path: str = "hairpin FASTA",
) -> pd.DataFrame:
    """Mature loci table (columns :data:`MATURE_COLUMNS`), sorted by mature, hairpin, start.

    Loci come from the GFF3 where it has them, the others from sequence
    location; see the module docstring for the rules and checks.
    """
    hairpins = {r.name: r.sequence for r in hairpin_records}
    mature_by_name = {r.name: r for r in mature_records}
    rows: list[dict] = []
    gff_hairpins: set[str] = set()
    if gff3 is not None:
        lengths, intervals = read_mirbase_gff3(gff3, species)
        _check_gff_against_fastas(
            lengths,
            intervals,
            hairpins,
            set(mature_by_name),
            gff3,
            mature_path=mature_path,
            hairpin_path=hairpin_path,
        )
        rows = _gff_rows(intervals, hairpins, mature_by_name, gff3)
        gff_hairpins = set(lengths)
    located_names = {row["mature"] for row in rows}
    rest_matures = [r for r in mature_records if r.name not in located_names]
    rest_hairpins = {n: s for n, s in hairpins.items() if n not in gff_hairpins}
    if gff3 is not None and rest_matures:
        log.warning(
            "%d mature miRNA(s) absent from the GFF3 located by sequence in %d hairpin(s) "
            "absent from the GFF3: %s",
            len(rest_matures),
            len(rest_hairpins),
            ", ".join(r.name for r in rest_matures[:20]),
        )
    if rest_matures:
        rows.extend(locate_matures(rest_matures, rest_hairpins or hairpins, mature_path))
    _add_feature_columns(rows)
    table = pd.DataFrame(rows, columns=MATURE_COLUMNS)
    table = table.drop_duplicates(["mature", "hairpin", "start"])
    return table.sort_values(["mature", "hairpin", "start"], kind="mergesort").reset_index(
        drop=True
    )


def bundled_paths(species: str, resources_dir: str | os.PathLike) -> dict[str, str]:
    """Paths of the bundled miRBase files of ``species`` (gff3 empty if none).

    Raises ExomirInputError for a species without bundled references.
    """
    base = Path(resources_dir) / "mirbase" / BUNDLED_RELEASE
    if species not in BUNDLED_SPECIES:
        raise ExomirInputError(
            f"no bundled miRBase references for species '{species}' (bundled: "
            f"{', '.join(BUNDLED_SPECIES)})",
            where="config 'references'",
            fix="set references.mature_fasta and references.hairpin_fasta (miRBase FASTA files) "
            "or enable references.download with URLs and sha256 checksums",
        )
    gff3 = base / f"{species}.gff3.gz"
    return {
        "mature": str(base / f"mature_{species}.fa.gz"),
        "hairpin": str(base / f"hairpin_{species}.fa.gz"),
        "gff3": str(gff3) if gff3.exists() else "",
    }


def prepare_references(
    *,
    mature_fasta: str,
    hairpin_fasta: str,
    gff3: str | None,
    species: str,
    out_hairpin: str,
    out_mature: str,
    out_checksums: str,
) -> pd.DataFrame:
    """Write ``hairpin.fa``, ``mature.tsv`` and ``checksums.tsv`` of ``species``.

    Args:
        mature_fasta, hairpin_fasta: miRBase FASTA files (any species mix, gzip or plain).
        gff3: miRBase GFF3 of the species, or None/"" to locate matures by sequence.
        species: miRBase species prefix (``hsa``).

    Returns:
        The mature table written to ``out_mature``.
    """
    gff3 = gff3 or None
    matures = read_fasta(mature_fasta, species)
    hairpins = read_fasta(hairpin_fasta, species)
    table = build_mature_table(
        matures,
        hairpins,
        gff3,
        species,
        mature_path=str(mature_fasta),
        hairpin_path=str(hairpin_fasta),
    )
    with atomic_open(out_hairpin, "wt") as handle:
        for record in sorted(hairpins, key=lambda r: r.name):
            handle.write(f">{record.name}\n{record.sequence}\n")
    write_tsv(table, out_mature)
    checksums = pd.DataFrame(
        [
            {"role": role, "file": Path(path).name, "sha256": sha256_of(path)}
            for role, path in (
                ("mature_fasta", mature_fasta),
                ("hairpin_fasta", hairpin_fasta),
                ("gff3", gff3),
            )
            if path
        ]
        + [{"role": "hairpin_fa", "file": Path(out_hairpin).name, "sha256": sha256_of(out_hairpin)}]
    )
    write_tsv(checksums, out_checksums)
    log.info(
        "%s: %d hairpins, %d mature miRNAs at %d loci (%d from GFF3 coordinates)",
        species,
        len(hairpins),
        table["mature"].nunique(),
        len(table),
        int((table["coordinates"] == "gff3").sum()),
    )
    return table

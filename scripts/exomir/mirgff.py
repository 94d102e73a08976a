"""mirGFF3 output (miRTop format, version 1.1) and the isomiR vocabulary it uses.

One line per (unique sequence, mature miRNA) of a sample, as written by
:func:`write_mirgff`. Choices, checked against the mirtop reference output
``let7a-5p.gff`` (miRTop/mirtop ``data/examples/synthetic``, v1.1):

* header: ``## mirGFF3. VERSION 1.1``, ``## source-ontology: <database>``,
  ``## COLDATA: <sample>``, plus ``## TOOLS: exomir``;
* columns: seqid = hairpin, source = ``exomir``, type ``ref_miRNA`` (the
  canonical sequence) or ``isomiR``, start/end 1-based on the hairpin (end =
  start + read length - 1, so it includes 3' additions, as mirtop writes it),
  score ``.``, strand ``+``, phase ``.``;
* attributes ``UID`` (the MINTplates license plate with prefix ``iso``, see
  :func:`license_plate`), ``Read``, ``Name``, ``Parent``, ``Variant``
  (``NA`` for the canonical sequence, else comma-joined
  ``iso_5p:<+/-N>, iso_3p:<+/-N>, iso_add3p:<N>, iso_snv_*``), ``Cigar``,
  ``Expression``, ``Filter`` and ``Hits``.

Conventions that differ from the wording of the miRTop definition text but
follow what mirtop writes (its ``let7a-5p.gff`` example):

* ``iso_5p`` / ``iso_3p`` values are coordinate shifts: read start minus
  reference start (``iso_5p:-1`` = one extra nucleotide at the 5' end), read
  templated end minus reference end (``iso_3p:+1`` = one extra templated
  nucleotide at the 3' end);
* in ``Cigar`` a mismatch is written as the read's nucleotide (``10MC11M``)
  and a non-templated 3' addition as the added nucleotides (``22MAA``);
* coordinates are 1-based as in GFF3 (the mirtop example is 0-based: its
  ref_miRNA of let-7a-1 is at 5-26 while miRBase has 6-27).

``Hits`` is the number of hairpin loci among the sequence's best alignments
(hsa-let-7a-5p: 3 for let-7a-1/2/3); seqid/Parent is the first of them by name.
``Name`` is the quantification feature: the mature name, or for mature names
with one identical sequence all of them ``/``-joined in name order
(``hsa-miR-199a-3p/hsa-miR-199b-3p``), the row name in ``mature_counts.tsv``
(see :mod:`exomir.quantify`). ``Filter`` is ``Pass`` for sequences counted to
one feature and ``REJECT:ambiguous`` for sequences that fit several mature
sequences equally well (they are not counted in the mature matrix).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from exomir.io import atomic_open

#: MINTplates alphabet: 32 symbols, no A/C/G/T so a plate never reads as a sequence.
PLATE_ALPHABET = "BD0EF1HI2JK3LM4NO5PQ6RS7UV8WX9YZ"
_BASE_VALUE = {"A": 0, "C": 1, "G": 2, "T": 3}
#: Codes of a trailing chunk of k < 5 nucleotides start after those of shorter chunks.
_REMAINDER_OFFSET = {1: 0, 2: 4, 3: 4 + 16, 4: 4 + 16 + 64}

#: miRTop v1.1 SNV classes by 1-based position in the read.
SNV_CLASSES = (
    (range(2, 8), "iso_snv_seed"),
    (range(8, 9), "iso_snv_central_offset"),
    (range(9, 13), "iso_snv_central"),
    (range(13, 18), "iso_snv_central_supp"),
)


def snv_class(position: int) -> str:
    """miRTop SNV class of a mismatch at 1-based read ``position``."""
    for positions, name in SNV_CLASSES:
        if position in positions:
            return name
    return "iso_snv"


def _chunk_value(chunk: str) -> int:
    value = 0
    for base in chunk:
        value = value * 4 + _BASE_VALUE[base]
    return value


def _to_symbols(value: int, width: int) -> str:
    symbols = []
    while value or len(symbols) < width:
        symbols.append(PLATE_ALPHABET[value % 32])
        value //= 32
    return "".join(reversed(symbols))


def _plate_symbols() -> dict[str, str]:
    """Plate symbols of every full 5-mer (2 symbols) and trailing chunk of 1-4 nt (1 symbol)."""
    from itertools import product

    symbols: dict[str, str] = {}
    for width in range(1, 6):
        for bases in product("ACGT", repeat=width):
            chunk = "".join(bases)
            if width == 5:
                symbols[chunk] = _to_symbols(_chunk_value(chunk), 2)
            else:
                symbols[chunk] = _to_symbols(_REMAINDER_OFFSET[width] + _chunk_value(chunk), 1)
    return symbols


#: Chunk -> plate symbols, computed once (1,364 entries).
_PLATE_SYMBOLS = _plate_symbols()


def license_plate(sequence: str, prefix: str = "iso") -> str:
    """MINTplates license plate of a DNA sequence (Loher et al. 2017; used by miRTop as UID).

    Each full 5-mer is a 10-bit number written as two symbols of
    :data:`PLATE_ALPHABET`; a trailing chunk of 1-4 nucleotides is numbered
    after all shorter chunks and written with as few symbols as needed.
    ``license_plate("TGAGGTAGTAGGTTGTATAGTT") == "iso-22-XKVLRYVPQ"``.
    """
    sequence = sequence.upper().replace("U", "T")
    if not sequence or set(sequence) - set(_BASE_VALUE):
        raise ValueError(f"license plates need an A/C/G/T sequence, got {sequence!r}")
    symbols = _PLATE_SYMBOLS
    plate = "".join([symbols[sequence[i : i + 5]] for i in range(0, len(sequence), 5)])
    return f"{prefix}-{len(sequence)}-{plate}"


def mirtop_cigar(read: str, reference: str, n_added: int) -> str:
    """mirGFF3 CIGAR: ``M`` runs for matches, the read base for a mismatch, added bases at the end."""
    templated = len(read) - n_added
    if read[:templated] == reference[:templated] and len(reference) >= templated:
        return (f"{templated}M" if templated else "") + read[templated:]
    out: list[str] = []
    run = 0
    for i in range(templated):
        if i < len(reference) and read[i] == reference[i]:
            run += 1
        else:
            if run:
                out.append(f"{run}M")
            out.append(read[i])
            run = 0
    if run:
        out.append(f"{run}M")
    out.append(read[templated:])
    return "".join(out)


@dataclass(frozen=True)
class GffRecord:
    """One mirGFF3 line (one unique sequence on one mature miRNA)."""

    hairpin: str
    start: int
    end: int
    read: str
    mature: str
    variant: str  # "NA" or comma-joined
    cigar: str
    expression: int
    hits: int
    filter: str = "Pass"

    @property
    def kind(self) -> str:
        return "ref_miRNA" if self.variant == "NA" else "isomiR"


def write_mirgff(
    records: list[GffRecord], path: str | os.PathLike, sample: str, source_ontology: str
) -> None:
    """Write ``records`` (sorted by hairpin, start, end, read, mature) as mirGFF3 v1.1."""
    with atomic_open(path, "wt") as handle:
        handle.write("## mirGFF3. VERSION 1.1\n")
        handle.write(f"## source-ontology: {source_ontology}\n")
        handle.write(f"## COLDATA: {sample}\n")
        handle.write("## TOOLS: exomir\n")
        for r in sorted(records, key=lambda r: (r.hairpin, r.start, r.end, r.read, r.mature)):
            attributes = "; ".join(
                [
                    f"UID={license_plate(r.read) if set(r.read) <= set('ACGT') else 'NA'}",
                    f"Read={r.read}",
                    f"Name={r.mature}",
                    f"Parent={r.hairpin}",
                    f"Variant={r.variant}",
                    f"Cigar={r.cigar}",
                    f"Expression={r.expression}",
                    f"Filter={r.filter}",
                    f"Hits={r.hits}",
                ]
            )
            handle.write(
                "\t".join(
                    [
                        r.hairpin,
                        "exomir",
                        r.kind,
                        str(r.start),
                        str(r.end),
                        ".",
                        "+",
                        ".",
                        attributes,
                    ]
                )
                + "\n"
            )


def read_mirgff(path: str | os.PathLike) -> list[dict[str, str]]:
    """Parse a mirGFF3 file (``;`` or ``; `` separated ``key=value`` attributes) into dicts.

    Each dict holds the columns ``seqid source type start end`` and the attributes.
    """
    rows = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("#") or not line.strip():
                continue
            fields = line.rstrip("\n").split("\t")
            row = dict(zip(["seqid", "source", "type", "start", "end"], fields[:5]))
            for item in fields[8].split(";"):
                item = item.strip()
                if "=" in item:
                    key, value = item.split("=", 1)
                    row[key] = value
            rows.append(row)
    return rows

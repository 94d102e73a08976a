"""Build the bundled human RNA-class libraries and decide every miRNA-hairpin overlap.

The libraries in ``resources/rna_classes/human/`` are built once (by a maintainer, not at run
time) from the Ensembl GRCh38 ncRNA records listed in ``resources/rna_classes/README.md``:
``python -m exomir.rna_libraries SOURCE.fa.gz HAIRPINS.fa.gz MATURES.fa.gz resources/rna_classes/human
resources/rna_classes/sources/NC_012920.1_rCRS.fa.gz``.

Per class (``trna``, ``rrna``, ``snrna``, ``snorna``) identical sequences are stored once (the
header keeps the first gene symbol in sorted order and the number of genes sharing it), tRNAs get
the post-transcriptional 3' CCA (GtRNAdb mature sequences omit it), and everything is DNA.

**The 18-nt hairpin-overlap rule, decided per overlap.** A library record that shares an 18-nt
word (sense strand) with a miRBase hairpin of the species could take that miRNA's reads through
the release rule (quantify: fewer edits on the RNA class than on the hairpin wins, ties stay
miRNA). Each overlap gets one of two decisions, written to ``hairpin_overlaps.tsv``:

* ``keep`` (the class may win): the miRBase entry is a documented fragment of that RNA
  (:data:`KNOWN_NON_MIRNA_ORIGINS`, e.g. hsa-mir-1246 in U2 snRNA), or the hairpin lies
  inside the RNA gene (>= :data:`EMBEDDED_SHARE` of it shared: rRNA-embedded and
  snoRNA-derived entries such as hsa-mir-3648 in the 45S 5'ETS or hsa-mir-1248 in SNORA81).
  Reads equal to the mature miRNA still tie and stay miRNA; only reads that the RNA explains
  with fewer edits leave.
* ``mask`` (the miRNA always wins): any other overlap. The shared stretch of the record is
  replaced by ``N`` (bowtie counts an N as a mismatch), so no read of the hairpin can align
  better to the class; the rest of the record stays usable.

In the bundled libraries (:data:`MASKED_CLASSES`) "any other overlap" means an snRNA record
(pseudogenes and gene copies). tRNA, rRNA and snoRNA look-alikes are kept, including records that
hold a whole mature exactly (any length; until issue 18 these were masked, and 18-nt matures were
missed by that check): masking a stretch also hides the RNA's own fragments from the composition
(masking MT-TF's 18 nt shared with hsa-miR-4284 left 541 mt-tRNA-Phe reads of miRQC A
"unmapped"). The stretch shared with a hairpin is measured within one hairpin-length window of
the record (:func:`shared_span`): words shared at distant places of 28S are separate look-alikes,
not an embedded hairpin.

A look-alike 1 mismatch from a whole mature (tRNA-His-GTG vs hsa-miR-4454, tRNA-Pro-AGG vs
hsa-miR-4448) or holding it (MT-TF vs hsa-miR-4284) cannot be decided per overlap: the tRNA's
fragments and the miRNA's error or tailed reads have the same shape. The release rule of
quantify decides per read (:mod:`exomir.quantify.release`): a read one edit from an at least
twice as abundant sequence of the same hairpin, or a whole mature + an A/U tail, stays miRNA.
On the demo truth no true miRNA read is released (6 were) and the look-alike gains stay
(mature-count precision 99.95 %, correct mature 99.84 %).
"""

from __future__ import annotations

import gzip
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Mapping, Sequence

from exomir.io import atomic_open, iter_fasta

#: Length of the words compared between libraries and hairpins.
WORD = 18

#: miRBase hairpins documented as fragments of another RNA: hairpin -> (RNA gene symbols whose
#: records may explain them, origin text, citation). Used for ``keep`` decisions.
KNOWN_NON_MIRNA_ORIGINS: Mapping[str, tuple[str, str, str]] = {
    "hsa-mir-1246": (
        r"^RNU2-1$",
        "U2 snRNA (RNU2-1) fragment",
        "doi:10.1080/15476286.2019.1585738 (Xu et al. 2019, RNA Biol 16:770-784)",
    ),
}

#: Classes whose undocumented overlaps are masked: the Ensembl snRNA records are mostly pseudogenes
#: and unnamed copies (RNU2-17P, RNU6-346P, ...) whose similarity to a miRNA says nothing about the
#: read's origin. Overlaps with tRNA, rRNA and snoRNA records are kept: a read they explain with
#: fewer edits than any hairpin is a fragment of that RNA (the release rule's purpose).
MASKED_CLASSES = frozenset({"snrna"})

#: An overlap covering at least this share of the hairpin means the miRBase locus lies inside
#: the RNA gene (an rRNA-embedded or snoRNA-derived entry): the RNA may explain its reads.
EMBEDDED_SHARE = 0.9


@dataclass(frozen=True)
class LibraryRecord:
    """One deduplicated library sequence: ``name`` is ``class|gene`` (+ ``|xN`` when N genes share it)."""

    rna_class: str
    gene: str
    n_genes: int
    sequence: str

    @property
    def name(self) -> str:
        return f"{self.rna_class}|{self.gene}" + (f"|x{self.n_genes}" if self.n_genes > 1 else "")


def classify(header: str) -> tuple[str, str] | None:
    """(class, gene symbol) of a source record header, or None for records outside the four classes."""
    words = header.split()
    first = words[0]
    if first.startswith("ENST_tRNA-"):
        return "trna", first[len("ENST_") :]
    if first.endswith("rRNA") and first.startswith("ENST_"):
        return "rrna", first[len("ENST_") :]
    fields = dict(w.split(":", 1) for w in words[1:] if ":" in w)
    biotype = fields.get("transcript_biotype")
    if biotype in ("snRNA", "snoRNA"):
        return biotype.lower(), fields.get("gene_symbol", first)
    return None


def read_source(path: str | Path) -> dict[str, list[tuple[str, str]]]:
    """Source records by class as (gene, DNA sequence), tRNAs with the 3' CCA appended."""
    by_class: dict[str, list[tuple[str, str]]] = {}
    for header, sequence in _iter_headers(path):
        kind = classify(header)
        if kind is None:
            continue
        dna = sequence.upper().replace("U", "T")
        dna = re.sub(r"[^ACGT]", "N", dna)
        if kind[0] == "trna":
            dna += "CCA"
        by_class.setdefault(kind[0], []).append((kind[1], dna))
    return by_class


def _iter_headers(path: str | Path) -> Iterable[tuple[str, str]]:
    """(full header line, sequence) of a FASTA file: :func:`exomir.io.iter_fasta` keeps the first word only."""
    header: str | None = None
    chunks: list[str] = []
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as handle:
        for line in handle:
            line = line.strip()
            if line.startswith(">"):
                if header is not None:
                    yield header, "".join(chunks)
                header, chunks = line[1:], []
            elif line:
                chunks.append(line)
    if header is not None:
        yield header, "".join(chunks)


def deduplicate(rna_class: str, records: Sequence[tuple[str, str]]) -> list[LibraryRecord]:
    """One record per distinct sequence, sorted by name; the gene is the first symbol sharing it."""
    genes: dict[str, set[str]] = {}
    for gene, sequence in records:
        genes.setdefault(sequence, set()).add(gene)
    unique = [LibraryRecord(rna_class, sorted(names)[0], len(names), seq) for seq, names in genes.items()]
    # several distinct sequences of one gene symbol: number them so names stay unique
    unique.sort(key=lambda r: (r.gene, r.sequence))
    seen: dict[str, int] = {}
    numbered = []
    for record in unique:
        seen[record.gene] = seen.get(record.gene, 0) + 1
        gene = record.gene if seen[record.gene] == 1 else f"{record.gene}~{seen[record.gene]}"
        numbered.append(LibraryRecord(rna_class, gene, record.n_genes, record.sequence))
    return numbered


def hairpin_words(hairpins: Iterable[tuple[str, str]]) -> dict[str, set[str]]:
    """18-nt word -> hairpins holding it (sense strand, DNA)."""
    words: dict[str, set[str]] = {}
    for name, sequence in hairpins:
        dna = sequence.upper().replace("U", "T")
        for i in range(len(dna) - WORD + 1):
            words.setdefault(dna[i : i + WORD], set()).add(name)
    return words


def mature_words(matures: Iterable[tuple[str, str]]) -> dict[str, set[str]]:
    """Whole mature sequences (any length) -> their hairpin-style names (``hsa-miR-4497`` -> ``hsa-mir-4497``).

    Short matures (17 nt, or whose hairpin flanks differ from the RNA) share no 18-nt hairpin word
    with a record that holds them whole: they are overlaps too.
    """
    words: dict[str, set[str]] = {}
    for name, sequence in matures:
        hairpin = re.sub(r"-(5p|3p)$", "", name).replace("-miR-", "-mir-").replace("-let-", "-let-")
        words.setdefault(sequence.upper().replace("U", "T"), set()).add(hairpin)
    return words


def matures_by_hairpin(matures: Iterable[tuple[str, str]]) -> dict[str, set[str]]:
    """Hairpin-style name -> its whole mature sequences (DNA): the inverse of :func:`mature_words`."""
    by_hairpin: dict[str, set[str]] = {}
    for sequence, hairpins in mature_words(matures).items():
        for hairpin in hairpins:
            by_hairpin.setdefault(hairpin, set()).add(sequence)
    return by_hairpin


def overlaps(record: LibraryRecord, words: Mapping[str, set[str]]) -> dict[str, list[tuple[int, int]]]:
    """Hairpin -> (start, length) of the record's words shared with it (18-nt words or whole matures)."""
    found: dict[str, list[tuple[int, int]]] = {}
    for length in sorted({len(word) for word in words}):
        for i in range(len(record.sequence) - length + 1):
            for hairpin in words.get(record.sequence[i : i + length], ()):
                found.setdefault(hairpin, []).append((i, length))
    return found


def decide(
    record: LibraryRecord, hairpin: str, span: int, hairpin_length: int, whole_mature: bool = False
) -> tuple[str, str]:
    """(``keep`` or ``mask``, reason) for one record-hairpin overlap (see the module docstring).

    ``span`` is the length of the record stretch shared with the hairpin (first to last shared nt);
    ``whole_mature``: the record holds a whole mature sequence of the hairpin exactly (recorded in
    the reason; its isomiR reads are protected by the release rule's variant checks, not by a mask).
    """
    known = KNOWN_NON_MIRNA_ORIGINS.get(hairpin)
    if known is not None and re.match(known[0], record.gene.split("~")[0]):
        return "keep", f"documented origin: {known[1]} ({known[2]})"
    if span >= EMBEDDED_SHARE * hairpin_length:
        return "keep", (
            f"embedded entry: {span} of the {hairpin_length} hairpin nt lie in this {record.rna_class} record"
        )
    if record.rna_class in MASKED_CLASSES:
        return "mask", (
            f"{record.rna_class} pseudogene or gene copy, no documented origin: the miRNA wins (shared stretch masked)"
        )
    if whole_mature:
        return "keep", (
            "holds the whole mature exactly: ties stay miRNA; its isomiR reads stay miRNA by the release rule's "
            "variant checks (one edit from >= 2x as many miRNA reads, or mature + A/U tail)"
        )
    return "keep", (
        f"partial 18-nt overlap with a {record.rna_class}: released only when the {record.rna_class} explains a "
        "read with fewer edits (tRNA/rRNA look-alikes such as tRNA-Leu 3' ends vs hsa-miR-1260a)"
    )


def shared_span(hits: Sequence[tuple[int, int]], window: int) -> int:
    """First to last shared nt of the (start, length) ``hits`` that fit in one ``window``-nt stretch.

    ``window`` is the hairpin length: words shared at distant places of a long record (two 28S
    regions) are separate look-alikes, not one hairpin embedded in the record; within one window,
    a mismatch that breaks the shared words does not split the stretch.
    """
    best = 0
    for start, _length in hits:
        ends = [i + n for i, n in hits if start <= i and i + n <= start + window]
        best = max(best, max(ends, default=start) - start)
    return best


def near_mature_hits(
    records: Sequence[LibraryRecord], matures: Sequence[tuple[str, str]], mismatches: int = 2
) -> dict[str, dict[str, list[tuple[int, int]]]]:
    """Record name -> hairpin-style mature name -> (start, length) of stretches within ``mismatches``
    of a whole mature sequence (bowtie 1, sense strand, all hits).

    A record stretch one substitution from a mature miRNA can explain that miRNA's SNV reads with
    fewer edits than the hairpin; these stretches are overlaps like the exact shared words.
    """
    import subprocess
    import tempfile

    names = {name: re.sub(r"-(5p|3p)$", "", name).replace("-miR-", "-mir-") for name, _ in matures}
    found: dict[str, dict[str, list[tuple[int, int]]]] = {}
    with tempfile.TemporaryDirectory(prefix="exomir_rna_libraries_") as tmp:
        lib, reads, hits = Path(tmp) / "lib.fa", Path(tmp) / "matures.fa", Path(tmp) / "hits.txt"
        lib.write_text("".join(f">{i}\n{r.sequence}\n" for i, r in enumerate(records)))
        reads.write_text("".join(f">{n}\n{q.upper().replace('U', 'T')}\n" for n, q in matures))
        subprocess.run(["bowtie-build", "-q", str(lib), str(Path(tmp) / "lib")], check=True)
        subprocess.run(
            ["bowtie", "-f", "--norc", "-a", "-v", str(mismatches), "--quiet", "-x", str(Path(tmp) / "lib"),
             str(reads), str(hits)],
            check=True,
        )
        for line in hits.read_text().splitlines():
            fields = line.split("\t")
            record = records[int(fields[2])].name
            found.setdefault(record, {}).setdefault(names[fields[0]], []).append((int(fields[3]), len(fields[4])))
    return found


def apply_overlap_rule(
    records: Sequence[LibraryRecord],
    words: Mapping[str, set[str]],
    hairpin_lengths: Mapping[str, int],
    near: Mapping[str, Mapping[str, list[tuple[int, int]]]] | None = None,
    whole_matures: Mapping[str, Iterable[str]] | None = None,
) -> tuple[list[LibraryRecord], list[tuple[str, str, int, int, str, str]]]:
    """Mask the overlaps decided ``mask``; return the records and one row per overlap.

    ``whole_matures``: hairpin -> its mature sequences (DNA); a record holding one exactly is a
    whole-mature overlap (:func:`decide`), whatever the mature's length.
    """
    out: list[LibraryRecord] = []
    rows: list[tuple[str, str, int, int, str, str]] = []
    for record in records:
        sequence = list(record.sequence)
        shared = overlaps(record, words)
        overlaps_exact = {hairpin: list(hits) for hairpin, hits in shared.items()}
        near_here = (near or {}).get(record.name, {})
        for hairpin, stretches in near_here.items():
            shared.setdefault(hairpin, []).extend(stretches)
        decided = []
        for hairpin, hits in sorted(shared.items()):
            first, last = min(i for i, _ in hits), max(i + n for i, n in hits)
            # a whole mature held exactly (any length, 18 nt included); near_here stretches
            # (1-2 mismatches) are look-alikes the release rule may judge (tRNA-Pro vs miR-4448)
            whole = any(n != WORD for _, n in overlaps_exact.get(hairpin, ())) or any(
                mature in record.sequence for mature in (whole_matures or {}).get(hairpin, ())
            )
            length = hairpin_lengths.get(hairpin, 10**6)
            verdict = decide(record, hairpin, shared_span(hits, length), length, whole)
            decided.append([hairpin, hits, first, last, *verdict])
        kept = [(h, f, la) for h, _, f, la, d, why in decided if d == "keep" and why.startswith("documented")]
        for row in decided:  # a stretch inside a documented fragment region shares its origin
            inside = [h for h, f, la in kept if row[4] == "mask" and row[2] < la and f < row[3]]
            if inside:
                row[4], row[5] = "keep", f"lies in the documented fragment region of {inside[0]} in this record (same origin)"
        for hairpin, hits, first, last, decision, reason in decided:
            rows.append((record.name, hairpin, first + 1, last, decision, reason))
            if decision == "mask":
                for start, length in hits:
                    sequence[start : start + length] = "N" * length
        out.append(LibraryRecord(record.rna_class, record.gene, record.n_genes, "".join(sequence)))
    return out, rows


#: Human mitochondrial rRNA and tRNA loci on the rCRS (NC_012920.1, 1-based, inclusive; ``H``
#: heavy-strand transcript = the sequence as numbered, ``L`` = its reverse complement), from the
#: locus table of Bio::Mitomaster 0.10 (``SpeciesRef.pm``), whose positions after the rCRS 3107
#: placeholder are one lower than the rCRS numbering: +1 applied there (checked: MT-TM 4402-4469
#: holds the tRNA-Met sequence, MT-TG 9991-10058 as in the RefSeq NC_012920.1 annotation).
MT_LOCI: tuple[tuple[str, str, int, int, str], ...] = (
    ("rrna", "MT-RNR1", 648, 1601, "H"), ("rrna", "MT-RNR2", 1671, 3229, "H"),
    ("trna", "MT-TF", 577, 647, "H"), ("trna", "MT-TV", 1602, 1670, "H"), ("trna", "MT-TL1", 3230, 3304, "H"),
    ("trna", "MT-TI", 4263, 4331, "H"), ("trna", "MT-TQ", 4329, 4400, "L"), ("trna", "MT-TM", 4402, 4469, "H"),
    ("trna", "MT-TW", 5512, 5579, "H"), ("trna", "MT-TA", 5587, 5655, "L"), ("trna", "MT-TN", 5657, 5729, "L"),
    ("trna", "MT-TC", 5761, 5826, "L"), ("trna", "MT-TY", 5826, 5891, "L"), ("trna", "MT-TS1", 7446, 7516, "L"),
    ("trna", "MT-TD", 7518, 7585, "H"), ("trna", "MT-TK", 8295, 8364, "H"), ("trna", "MT-TG", 9991, 10058, "H"),
    ("trna", "MT-TR", 10405, 10469, "H"), ("trna", "MT-TH", 12138, 12206, "H"), ("trna", "MT-TS2", 12207, 12265, "H"),
    ("trna", "MT-TL2", 12266, 12336, "H"), ("trna", "MT-TE", 14674, 14742, "L"), ("trna", "MT-TT", 15888, 15953, "H"),
    ("trna", "MT-TP", 15955, 16023, "L"),
)

#: rCRS position of the placeholder base (``N``) that keeps the old Cambridge numbering.
RCRS_PLACEHOLDER = 3107


def mitochondrial_records(rcrs: str) -> dict[str, list[tuple[str, str]]]:
    """(gene, DNA) per class of the mitochondrial rRNAs and tRNAs (:data:`MT_LOCI`) of the rCRS.

    The placeholder at 3107 is not a base of the RNA and is dropped; tRNAs get the 3' CCA added
    after transcription, as the nuclear ones.
    """
    by_class: dict[str, list[tuple[str, str]]] = {}
    for rna_class, gene, start, end, strand in MT_LOCI:
        locus = "".join(
            base for position, base in enumerate(rcrs[start - 1 : end], start) if position != RCRS_PLACEHOLDER
        )
        dna = locus if strand == "H" else reverse_complement(locus)
        by_class.setdefault(rna_class, []).append((gene, dna + ("CCA" if rna_class == "trna" else "")))
    return by_class


def write_library(records: Sequence[LibraryRecord], path: str | Path) -> None:
    """Gzipped FASTA, one line per sequence (deterministic bytes: gzip mtime 0)."""
    with atomic_open(path, "wt") as handle:
        for record in records:
            handle.write(f">{record.name}\n{record.sequence}\n")


def build(
    source: str | Path,
    hairpin_fasta: str | Path,
    mature_fasta: str | Path,
    out_dir: str | Path,
    rcrs_fasta: str | Path | None = None,
    species: str = "hsa",
) -> None:
    """Write ``{class}.fa.gz`` per class and ``hairpin_overlaps.tsv`` into ``out_dir``.

    ``rcrs_fasta`` (the human mitochondrial genome, rCRS) adds the mitochondrial rRNAs and tRNAs
    (:func:`mitochondrial_records`) to the ``rrna`` and ``trna`` classes.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    hairpins = [(n, s) for n, s in iter_fasta(hairpin_fasta) if n.startswith(f"{species}-")]
    matures = [(n, s) for n, s in iter_fasta(mature_fasta) if n.startswith(f"{species}-") and len(s) >= 16]
    words = hairpin_words(hairpins)
    for word, names in mature_words(matures).items():
        words.setdefault(word, set()).update(names)
    all_rows = []
    sources = read_source(source)
    if rcrs_fasta is not None:
        ((_name, rcrs),) = iter_fasta(rcrs_fasta)
        for rna_class, records in mitochondrial_records(rcrs.upper()).items():
            sources.setdefault(rna_class, []).extend(records)
    for rna_class, records in sorted(sources.items()):
        lengths = {name: len(seq) for name, seq in hairpins}
        unique = deduplicate(rna_class, records)
        library, rows = apply_overlap_rule(
            unique, words, lengths, near_mature_hits(unique, matures), matures_by_hairpin(matures)
        )
        write_library(library, out / f"{rna_class}.fa.gz")
        all_rows += rows
        print(f"{rna_class}: {len(records)} source records -> {len(library)} sequences, {len(rows)} overlaps")
    with atomic_open(out / "hairpin_overlaps.tsv", "wt") as handle:
        handle.write("record\thairpin\tfirst_nt\tlast_nt\tdecision\treason\n")
        for row in sorted(all_rows):
            handle.write("\t".join(map(str, row)) + "\n")




# --------------------------------------------------------------------------- artefact library

#: Illumina TruSeq small RNA 5' adapter (RA5) as it appears in read 1 (ADAPTERS.md, S1/S2).
TRUSEQ_RA5 = "GTTCAGAGTTCTACAGTCCGACGATC"

_COMPLEMENT = str.maketrans("ACGTN", "TGCAN")


def reverse_complement(sequence: str) -> str:
    """Reverse complement of a DNA sequence."""
    return sequence.translate(_COMPLEMENT)[::-1]


def artifact_records(univec: Sequence[tuple[str, str]], kit_adapters: Mapping[str, str]) -> list[tuple[str, str]]:
    """Artefact library records (name, DNA): adapters, primers and concatemers, both orientations.

    ``univec`` holds exceRpt's Illumina adapter/primer records (RT, PCR and index primers,
    TruSeq and Nextera adapters); ``kit_adapters`` the 3' adapter of each kit preset. Adapter
    concatemers are the 5' adapter followed by each 3' adapter (the insert-less ligation
    product). Both orientations are stored because the libraries are searched sense-only.
    Identical sequences are kept once (first name in sorted order).
    """
    named = [(re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_"), seq.upper()) for name, seq in univec]
    named.append(("TruSeq_small_RNA_5p_adapter_RA5", TRUSEQ_RA5))
    for kit, adapter in sorted(kit_adapters.items()):
        if set(adapter) <= set("ACGT") and len(set(adapter)) > 1:  # poly-A "adapters" are rules, not records
            named.append((f"kit_{kit}_3p_adapter", adapter))
            named.append((f"concatemer_RA5_{kit}", TRUSEQ_RA5 + adapter))
    by_sequence: dict[str, str] = {}
    for name, sequence in named:
        for strand, seq in (("", sequence), ("_rc", reverse_complement(sequence))):
            candidate = f"artifact|{name}{strand}"
            if seq not in by_sequence or candidate < by_sequence[seq]:
                by_sequence[seq] = candidate
    return sorted((name, seq) for seq, name in by_sequence.items())


def is_low_complexity(sequence: str, max_base_share: float = 0.8, min_distinct_dimers: int = 4) -> bool:
    """Poly-A/poly-N and other low-complexity inserts: one base >= ``max_base_share`` of the
    insert, any N share above 10%, or fewer than ``min_distinct_dimers`` distinct 2-mers
    (dinucleotide repeats such as ``CACACA``). No human miRBase 22.1 mature sequence meets
    it (checked by ``tests/test_artifacts.py``).
    """
    if not sequence:
        return False
    top = max(map(sequence.count, "ACGTN"))
    if top >= max_base_share * len(sequence) or sequence.count("N") > 0.1 * len(sequence):
        return True
    # 2-mers as (base, next base) pairs: as many distinct ones as 2-mer strings, built in C
    dimers = set(zip(sequence, sequence[1:]))
    return len(dimers) < min_distinct_dimers


if __name__ == "__main__":  # pragma: no cover - maintainer tool
    build(*sys.argv[1:6])

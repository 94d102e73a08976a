"""miRNA quantification: align unique inserts to hairpins, assign them to mature arms.

Per sample, :func:`quantify_sample` reads ``preprocess/{sample}.collapsed.tsv.gz``
(unique insert sequences with their read counts) and works on unique
sequences only: bowtie sees each sequence once (unnamed FASTA records: bowtie
names them by position, which maps back to the rank), so time and memory grow
with the number of distinct inserts, not with the number of reads. Python work
is spent on the sequences bowtie aligns (in plasma libraries most unique
sequences are not miRNA): the unaligned ones are held as plain strings, passed
to the 3'-trimmed passes (only those long enough for the trim) and streamed to
``unmapped.fa.gz``; hits are re-scored only for sequences that got new bowtie
hits in a pass; the BAM is written in coordinate order directly (no sort pass).

Alignment (bowtie 1, ``--norc -a --best --strata -v <mismatches>``)
    Pass 1 aligns every sequence end to end with at most ``mismatches``
    (default 1) mismatches, reporting all hits of the best mismatch stratum.
    Non-templated 3' additions (mostly A/U) show up as mismatches at the
    3' end, so a sequence with two or three added nucleotides fails pass 1;
    passes 2..(1 + ``max_3p_addition``) re-align the still unaligned sequences
    with 1, 2, 3 nucleotides trimmed from the 3' end (bowtie ``-3 k``); so do
    sequences whose best hit so far carries an addition longer than the trim,
    which finds the other loci where the same addition fits. Unaligned
    sequences that no trimmed pass can align (exact seed test,
    :func:`could_align_trimmed`) are left out of those passes. Every
    hit is then re-scored on the full sequence against the hairpin
    (:func:`score_hit`): the non-templated addition is the longest 3' suffix
    of at most ``max_3p_addition`` (3) bases that starts at a mismatch (or a
    base past the hairpin end) and either mismatches in every base or is made
    of A/T only (mixed A/U tails whose later bases match the hairpin by
    chance, e.g. an added ``AU`` over a templated ``UU``); other mismatches
    are SNVs (at most ``mismatches``). So a substitution followed by
    template-matching bases is an SNV unless it starts an A/U tail. An added
    base that matches the hairpin right after the templated end is
    indistinguishable from a templated 3' extension and is called iso_3p (the
    accuracy truth is normalised the same way). Ambiguities left by design: a
    substitution in the very last base is called a 1-nt addition, and a
    substitution to A/T followed by templated A/Ts within the last 3 bases is
    called an A/U tail.

Choosing among hits
    Hits are ranked by (1) mismatches + added nucleotides, (2) on an annotated
    mature arm before off-arm, (3) |5' offset| from the arm's reference start,
    (4) |3' offset|; all hits sharing the best rank are kept ("best hits").
    A hit is on a mature arm when its start is within ``max_5p_shift`` (4) and
    its templated end within ``max_3p_shift`` (4) nucleotides of the arm's
    miRBase coordinates (the limits mirtop applies when it annotates isomiRs).

Features: mature names with one identical sequence are one row
    Mature miRNAs are counted per *feature*. A feature is one mature name,
    except for names that share one identical mature sequence (16 groups, 40
    human names in miRBase 22.1): their reads cannot be told apart, so they
    form ONE feature, counted once, in one row named by joining the names with
    ``/`` in name order, e.g. ``hsa-miR-199a-3p/hsa-miR-199b-3p``,
    ``hsa-miR-365a-3p/hsa-miR-365b-3p``, ``hsa-miR-518a-5p/hsa-miR-527``.
    ``mature.tsv`` gives each name's feature (column ``feature``; column
    ``same_sequence_as`` lists the other names of the group), so a catalogue
    name maps to its row (:func:`read_features`). The feature name is what
    the assignments (``mature``), the matrices (``mirna``), the isomiR table
    and the mirGFF3 ``Name`` carry.

Multi-mapping policy (status column of the assignments)
    * ``mature``: all best hits are on arms of one feature. Identical
      mature sequences from several loci (hsa-let-7a-5p on let-7a-1/2/3,
      hsa-miR-16-5p on mir-16-1/2) have one name and are counted once; so do
      the names of one feature (hsa-miR-199a-3p on mir-199a-1/2 and
      hsa-miR-199b-3p on mir-199b count once to
      ``hsa-miR-199a-3p/hsa-miR-199b-3p``).
    * ``ambiguous``: the best hits are on arms of different features, i.e. the
      sequence fits different mature sequences equally well (equal rank as
      defined above). The sequence is listed in the isomiR table and the
      assignments with all features ``;``-joined, and counted in no row of
      the mature matrix: nothing is ever double counted.
    * ``hairpin_only``: aligned, but no best hit on a mature arm.
    Hairpin matrix: a sequence counts to a hairpin only when all its best hits
    lie on that one hairpin (any status). Sequences whose best hits lie on
    several hairpins (let-7a-5p on let-7a-1/2/3) are not split or guessed:
    they are reported as ``multi_hairpin_reads`` in the stats. So the sum of
    every matrix column is at most the sample's reads.

Sequences better explained by another RNA class (plasma tRNA/rRNA fragments)
    Several miRBase entries lie within one mismatch of abundant tRNA or rRNA
    fragments (hsa-miR-4448 of tRNA-Pro-AGG, hsa-miR-1260a of tRNA-Leu-AAG,
    hsa-miR-7977 of tRNA-Gly-TCC, hsa-miR-4488 of 18S rRNA). In plasma, where
    tRNA and rRNA fragments are a large share of the reads, such fragments
    would otherwise be counted as those miRNAs. With ``rna_class_indexes``
    (the QC stage's tRNA/rRNA/snRNA libraries, config
    ``quantify.release_to_better_rna_class``), every aligned sequence is also
    aligned end to end to each RNA-class library (bowtie 1, ``--norc``,
    ``<= mismatches``); a sequence that a class explains with strictly fewer
    mismatches than its best hairpin hit has edits (SNVs + added bases) is
    released: it is treated as unaligned (not in the assignments, BAM or
    mirGFF3, written to ``unmapped.fa.gz``, so the QC composition counts it in
    its RNA class) and its reads are reported as ``rna_class_released_reads``
    (part of ``unmapped_reads``). On a tie the miRNA keeps the sequence, as in
    exceRpt and miRge, which give miRNAs priority.

Per-sample files
    ``assignments.tsv.gz``: one row per aligned unique sequence (columns
    :data:`ASSIGNMENT_COLUMNS`); ``start``/``end`` (1-based, ``end`` = last
    templated base, additions excluded), ``isomir_type`` and ``mismatches``
    describe the first best hit by hairpin name. ``unmapped.fa.gz``: sequences
    without a valid hit (``>u{rank}_x{count}``). BAM: one record per best hit
    (first primary, others secondary), 3' additions soft-clipped, tag ``XC`` =
    read count. ``bowtie.log``: bowtie's summary of pass 1 (unique sequences).

isomiR classification (miRTop v1.1 names; see :mod:`exomir.mirgff`)
    ``canonical``, else ``;``-joined ``iso_5p:<+/-N>`` (read start minus
    reference start), ``iso_3p:<+/-N>`` (templated end minus reference end),
    ``iso_add3p:<N>``, and one label per SNV class present
    (``iso_snv_seed`` positions 2-7, ``iso_snv_central_offset`` 8,
    ``iso_snv_central`` 9-12, ``iso_snv_central_supp`` 13-17, ``iso_snv``
    otherwise; 1-based positions in the read).
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from exomir.errors import ExomirInputError
from exomir.io import atomic_open, atomic_path, open_text, read_tsv, write_tsv
from exomir.mirgff import GffRecord, mirtop_cigar, snv_class, write_mirgff
from exomir.references import feature_name

log = logging.getLogger("exomir.quantify")

ASSIGNMENT_COLUMNS = [
    "sequence",
    "count",
    "hairpins",
    "mature",
    "status",
    "isomir_type",
    "start",
    "end",
    "mismatches",
]
#: Gzip level of the large per-sample intermediates (assignments, unmapped FASTA): level 1
#: costs a tenth of the CPU of level 6 for ~15% larger files; still ``mtime=0``, deterministic.
INTERMEDIATE_GZIP_LEVEL = 1

STATS_COLUMNS = [
    "sample",
    "input_reads",
    "unique_sequences",
    "aligned_reads",
    "mature_reads",
    "hairpin_only_reads",
    "ambiguous_reads",
    "unmapped_reads",
    "mirnas_detected",
    "multi_hairpin_reads",
    "aligned_unique_sequences",
    "rna_class_released_reads",
]


@dataclass(frozen=True)
class QuantifySettings:
    """Alignment and assignment tolerances (config section ``quantify``)."""

    mismatches: int = 1
    max_3p_addition: int = 3
    max_5p_shift: int = 4
    max_3p_shift: int = 4
    min_length: int = 15
    threads: int = 1


@dataclass(frozen=True)
class MatureArm:
    """A mature miRNA locus on a hairpin (1-based inclusive coordinates).

    ``feature`` is the count row the locus belongs to: the mature name, or the
    ``/``-joined names of mature miRNAs with one identical sequence.
    """

    mature: str
    hairpin: str
    start: int
    end: int
    feature: str


@dataclass(slots=True)
class Hit:
    """One alignment of a sequence, re-scored on the full sequence."""

    hairpin: str
    start: int  # 1-based
    templated_end: int  # 1-based, last templated base
    snv_positions: list[int]  # 1-based read positions of mismatches in the templated part
    n_added: int
    arm: MatureArm | None = None

    @property
    def edits(self) -> int:
        return len(self.snv_positions) + self.n_added

    def rank(self) -> tuple[int, int, int, int]:
        if self.arm is None:
            return (self.edits, 1, 0, 0)
        return (
            self.edits,
            0,
            abs(self.start - self.arm.start),
            abs(self.templated_end - self.arm.end),
        )


@dataclass(slots=True)
class Assignment:
    """The outcome for one unique sequence."""

    sequence: str
    count: int
    hits: list[Hit] = field(default_factory=list)

    @property
    def hairpins(self) -> list[str]:
        return sorted({h.hairpin for h in self.hits})

    @property
    def matures(self) -> list[str]:
        """Features (count rows) of the best hits on mature arms."""
        return sorted({h.arm.feature for h in self.hits if h.arm is not None})

    @property
    def status(self) -> str:
        names = self.matures
        if not names:
            return "hairpin_only"
        return "mature" if len(names) == 1 else "ambiguous"


# ----------------------------------------------------------------------------- inputs


def read_collapsed(path: str | os.PathLike) -> list[tuple[str, int]]:
    """Unique sequences and counts, sorted by count descending then sequence.

    Raises ExomirInputError if the columns are not ``sequence``/``count``,
    counts are not positive integers, or sequences repeat or are not DNA.
    """
    sequences, counts = read_collapsed_columns(path)
    return list(zip(sequences, counts))


#: Bytes that may appear in a collapsed sequence (after upper-casing).
_DNA_BYTES = b"ACGTN"
_NOT_TAB_OR_NEWLINE = bytes(b for b in range(256) if b not in b"\t\n")


def read_collapsed_columns(path: str | os.PathLike) -> tuple[list[str], list[int]]:
    """:func:`read_collapsed` as two parallel lists (sequences, counts): less memory.

    A file as the preprocess stage writes it (header ``sequence<TAB>count``, upper-case
    DNA, positive counts, unique sequences, already in order) is read with plain
    string operations; anything else takes the pandas path that validates, explains
    errors and sorts.
    """
    fast = _read_collapsed_fast(path)
    if fast is not None:
        return fast
    table = _read_collapsed_table(path)
    return list(table["sequence"]), [int(c) for c in table["count"]]


def _read_collapsed_fast(path: str | os.PathLike) -> tuple[list[str], list[int]] | None:
    """Sequences and counts of a well-formed, sorted collapsed table; None otherwise."""
    with open_text(path) as handle:
        header = handle.readline()
        if header != "sequence\tcount\n":
            return None
        text = handle.read()
    if not text:
        return [], []
    if not text.endswith("\n") or "\r" in text or "\n\n" in text:
        return None
    if not text.isascii() or "\t\n" in text or "\n\t" in text or text[0] == "\t":
        return None
    # exactly one tab per line: the tabs and line breaks alternate
    n_lines = text.count("\n")
    if text.encode("ascii").translate(None, _NOT_TAB_OR_NEWLINE) != b"\t\n" * n_lines:
        return None
    fields = text[:-1].replace("\n", "\t").split("\t")
    del text
    sequences = fields[0::2]
    count_texts = fields[1::2]
    del fields
    if not "".join(count_texts).isdecimal() or not "".join(count_texts).isascii():
        return None
    counts = [int(c) for c in count_texts]
    del count_texts
    joined = "".join(sequences)
    if not joined.isascii() or joined.encode("ascii").translate(None, _DNA_BYTES):
        return None
    del joined
    if min(counts) <= 0 or len(set(sequences)) != len(sequences):
        return None
    # Order: count descending, then sequence ascending (strict: no repeats).
    previous_count, previous_sequence = counts[0], sequences[0]
    for count, sequence in zip(counts, sequences):
        if count > previous_count or (count == previous_count and sequence < previous_sequence):
            return None
        previous_count, previous_sequence = count, sequence
    return sequences, counts


def _read_collapsed_table(path: str | os.PathLike) -> pd.DataFrame:
    """Validate and sort any collapsed table (columns ``sequence``, ``count``) with pandas."""
    try:
        table = pd.read_csv(path, sep="\t", dtype={"sequence": str}, keep_default_na=False)
    except pd.errors.EmptyDataError:
        raise ExomirInputError(
            "empty file",
            where=str(path),
            fix="re-run preprocessing; the file needs a header " "'sequence<TAB>count'",
        ) from None
    if list(table.columns) != ["sequence", "count"]:
        raise ExomirInputError(
            f"columns are {list(table.columns)}, expected ['sequence', 'count']",
            where=str(path),
            fix="give the collapsed table written by the preprocess stage",
        )
    if table.empty:  # every read was filtered in preprocessing: a valid, empty sample
        return table
    if not pd.api.types.is_integer_dtype(table["count"]) or (table["count"] <= 0).any():
        raise ExomirInputError(
            "counts must be positive integers",
            where=str(path),
            fix="give the collapsed table written by the preprocess stage",
        )
    table["sequence"] = table["sequence"].str.upper()
    bad = table.loc[~table["sequence"].str.fullmatch(r"[ACGTN]+"), "sequence"]
    if len(bad):
        raise ExomirInputError(
            f"sequences with characters other than ACGTN, e.g. {bad.iloc[0]!r}",
            where=str(path),
            fix="collapse DNA inserts (T, not U)",
        )
    if table["sequence"].duplicated().any():
        raise ExomirInputError(
            f"sequence {table.loc[table['sequence'].duplicated(), 'sequence'].iloc[0]} repeats",
            where=str(path),
            fix="collapse identical inserts into one row",
        )
    return table.sort_values(["count", "sequence"], ascending=[False, True], kind="mergesort")


def read_hairpins(path: str | os.PathLike) -> dict[str, str]:
    """Hairpin name -> DNA sequence from the prepared ``hairpin.fa``."""
    hairpins: dict[str, str] = {}
    name = None
    with open_text(path) as handle:
        for line in handle:
            line = line.strip()
            if line.startswith(">"):
                name = line[1:].split()[0]
                hairpins[name] = ""
            elif line and name is not None:
                hairpins[name] += line.upper().replace("U", "T")
    return hairpins


def read_features(path: str | os.PathLike) -> dict[str, str]:
    """Mature name -> feature (count row) from the prepared ``mature.tsv``.

    Names with one identical mature sequence share one feature, their names
    ``/``-joined in name order (:func:`exomir.references.feature_name`). Uses the
    ``feature`` column, or groups the ``sequence`` column when a table has none.
    """
    table = read_tsv(path, dtype={"mature": str, "sequence": str, "feature": str})
    if "feature" in table.columns:
        return dict(zip(table["mature"], table["feature"]))
    names_by_sequence: dict[str, set[str]] = {}
    for name, sequence in zip(table["mature"], table["sequence"]):
        names_by_sequence.setdefault(sequence, set()).add(name)
    return {
        name: feature_name(names_by_sequence[sequence])
        for name, sequence in zip(table["mature"], table["sequence"])
    }


def read_arms(path: str | os.PathLike) -> dict[str, list[MatureArm]]:
    """Hairpin name -> mature arms on it, from the prepared ``mature.tsv``."""
    table = read_tsv(path, dtype={"mature": str, "hairpin": str})
    features = read_features(path)
    arms: dict[str, list[MatureArm]] = {}
    for row in table.itertuples(index=False):
        arms.setdefault(row.hairpin, []).append(
            MatureArm(row.mature, row.hairpin, int(row.start), int(row.end), features[row.mature])
        )
    return arms


# ----------------------------------------------------------------------------- alignment


def run_bowtie(
    index_prefix: str,
    fasta: str,
    out_hits: str,
    stderr_path: str,
    *,
    mismatches: int,
    trim3: int = 0,
    threads: int = 1,
) -> list[str]:
    """Run bowtie 1 on a FASTA of unique sequences; return the command run.

    Output is bowtie's default tabular format (name, strand, hairpin, 0-based
    offset, ...). Options: ``-f --norc -a --best --strata -v <mismatches>
    -3 <trim3> -p <threads>``; bowtie's summary goes to ``stderr_path``
    (MultiQC's bowtie1 module finds it by its ``# reads processed:`` line; its
    numbers are unique sequences of the first pass, not reads).
    """
    command = [
        "bowtie",
        "-f",
        "--norc",
        "-a",
        "--best",
        "--strata",
        "-v",
        str(mismatches),
        "-3",
        str(trim3),
        "-p",
        str(threads),
        "-x",
        index_prefix,
        fasta,
        out_hits,
    ]
    with open(stderr_path, "w", encoding="utf-8") as err:
        result = subprocess.run(command, stderr=err, stdout=subprocess.DEVNULL, check=False)
    if result.returncode != 0:
        message = Path(stderr_path).read_text(encoding="utf-8", errors="replace")[-2000:]
        raise ExomirInputError(
            f"bowtie failed (exit {result.returncode}): {message.strip()}",
            where=index_prefix,
            fix="check that the bowtie index was built by the workflow from its FASTA (hairpin.fa or the RNA-class library)",
        )
    return command


def score_hit(
    sequence: str, hairpin_seq: str, offset: int, settings: QuantifySettings
) -> tuple[list[int], int] | None:
    """SNV positions and number of added 3' nucleotides of ``sequence`` at ``offset``.

    The non-templated addition is the longest 3' suffix of at most
    ``max_3p_addition`` bases that starts at a mismatch (or a base past the
    hairpin end) and either mismatches the hairpin in every base, or consists
    of A/T only: adenylation and uridylation make mixed A/U tails whose later
    bases match the hairpin by chance (an added ``AU`` over a templated
    ``UU``). Any other mismatch is an SNV, in particular a mismatch followed by
    template-matching bases that are not an A/U tail (``G`` then a templated
    ``C`` is an SNV, not a 2-nt addition). A first added base that matches
    the hairpin is templated (iso_3p), by convention, since the two cannot be
    told apart. Returns None if the SNVs exceed ``settings.mismatches``.
    """
    length = len(sequence)
    reference = hairpin_seq[offset : offset + length]
    if reference == sequence:  # most hits: no mismatch, no addition
        return [], 0
    # bases past the hairpin end count as mismatches
    mismatch = [a != b for a, b in zip(sequence, reference)]
    mismatch += [True] * (length - len(reference))
    n_added = 0
    for i in range(max(0, length - settings.max_3p_addition), length):
        if mismatch[i] and (all(mismatch[i:]) or set(sequence[i:]) <= {"A", "T"}):
            n_added = length - i
            break
    snvs = [i + 1 for i in range(length - n_added) if mismatch[i]]
    if len(snvs) > settings.mismatches:
        return None
    return snvs, n_added


def find_arm(
    hairpin: str,
    start: int,
    templated_end: int,
    arms: dict[str, list[MatureArm]],
    settings: QuantifySettings,
) -> MatureArm | None:
    """The mature arm whose coordinates the hit fits within the tolerances (closest first)."""
    fitting = [
        arm
        for arm in arms.get(hairpin, [])
        if abs(start - arm.start) <= settings.max_5p_shift
        and abs(templated_end - arm.end) <= settings.max_3p_shift
    ]
    if len(fitting) < 2:
        return fitting[0] if fitting else None
    return min(fitting, key=lambda a: (abs(start - a.start), abs(templated_end - a.end), a.mature))


def best_hits(
    sequence: str,
    raw_hits: list[tuple[str, int]],
    hairpins: dict[str, str],
    arms: dict[str, list[MatureArm]],
    settings: QuantifySettings,
) -> list[Hit]:
    """Re-score bowtie hits on the full sequence and keep those of the best rank.

    Rank as :meth:`Hit.rank`; hits of the best rank sorted by (hairpin, start).
    """
    scored: list[tuple[tuple[int, int, int, int], Hit]] = []
    length = len(sequence)
    for hairpin, offset in set(raw_hits):
        result = score_hit(sequence, hairpins[hairpin], offset, settings)
        if result is None:
            continue
        snvs, n_added = result
        start, templated_end = offset + 1, offset + length - n_added
        arm = find_arm(hairpin, start, templated_end, arms, settings)
        edits = len(snvs) + n_added
        if arm is None:
            rank = (edits, 1, 0, 0)
        else:
            rank = (edits, 0, abs(start - arm.start), abs(templated_end - arm.end))
        scored.append((rank, Hit(hairpin, start, templated_end, snvs, n_added, arm)))
    if len(scored) < 2:
        return [hit for _rank, hit in scored]
    best = min(rank for rank, _hit in scored)
    return sorted((hit for rank, hit in scored if rank == best), key=lambda h: (h.hairpin, h.start))


def isomir_labels(sequence: str, hit: Hit) -> list[str]:
    """miRTop variant labels of a hit on a mature arm (empty list = canonical)."""
    assert hit.arm is not None
    labels = []
    shift5 = hit.start - hit.arm.start
    shift3 = hit.templated_end - hit.arm.end
    if shift5:
        labels.append(f"iso_5p:{shift5:+d}")
    if shift3:
        labels.append(f"iso_3p:{shift3:+d}")
    if hit.n_added:
        labels.append(f"iso_add3p:{hit.n_added}")
    for name in dict.fromkeys(snv_class(p) for p in hit.snv_positions):
        labels.append(name)
    return labels


def _write_pass_fasta(path: str, sequences: list[str], ranks: list[int]) -> None:
    """FASTA of ``sequences[rank - 1]`` for ``ranks``, with empty read names.

    Bowtie names a read without a name by its 0-based position in the file, so
    record ``i`` is ``ranks[i]`` (:func:`parse_bowtie_hits_by_position`): the file
    is a few C-level joins instead of one formatted name per sequence.
    """
    block = 200_000
    every = len(ranks) == len(sequences)  # pass 1 without short sequences: ranks 1..n
    with open(path, "w", encoding="ascii") as handle:
        for start in range(0, len(ranks), block):
            if every:
                chunk = sequences[start : start + block]
            else:
                chunk = [sequences[r - 1] for r in ranks[start : start + block]]
            handle.write(">\n" + "\n>\n".join(chunk) + "\n")


def parse_bowtie_hits_by_position(path: str, ranks: list[int]) -> dict[int, list[tuple[str, int]]]:
    """Sequence rank -> [(hairpin, 0-based offset)] for a FASTA of :func:`_write_pass_fasta`."""
    hits: dict[int, list[tuple[str, int]]] = {}
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            fields = line.split("\t", 4)
            if fields[1] != "+":  # --norc: never happens, kept as a guard
                continue
            hits.setdefault(ranks[int(fields[0])], []).append((fields[2], int(fields[3])))
    return hits


#: Seed lengths of :func:`could_align_trimmed`: shorter seeds are in almost every hairpin, longer
#: ones add little selectivity.
SEED_MIN, SEED_MAX = 7, 12


def could_align_trimmed(
    sequences: list[str], ranks: list[int], hairpins: dict[str, str], settings: QuantifySettings
) -> list[int]:
    """The ``ranks`` whose sequence could align in a 3'-trimmed pass; the others never can.

    Exact pigeonhole filter, no approximation: an end-to-end alignment of a
    3'-trimmed sequence (``n - trim`` nt, ``trim <= max_3p_addition``) with at
    most ``m`` mismatches covers the first ``(m + 1) * k`` bases when
    ``k = (n - max_3p_addition) // (m + 1)``; these are ``m + 1`` disjoint
    ``k``-mers, so at least one equals a hairpin ``k``-mer exactly. A sequence
    none of whose seeds occurs in any hairpin is dropped; bowtie would find
    nothing for it in any trimmed pass. Sequences too short for seeds of
    ``SEED_MIN`` nt are kept. In plasma libraries this removes most non-miRNA
    sequences (about 70% of the unaligned ones of a 5M-read demo sample).
    """
    parts = settings.mismatches + 1
    by_length: dict[int, list[int]] = {}
    for rank in ranks:
        by_length.setdefault(len(sequences[rank - 1]), []).append(rank)
    kmers: dict[int, set[str]] = {}
    kept: list[int] = []
    for n, group in by_length.items():
        k = min(SEED_MAX, (n - settings.max_3p_addition) // parts)
        if k < SEED_MIN:
            kept.extend(group)
            continue
        if k not in kmers:
            kmers[k] = {
                hairpin[i : i + k]
                for hairpin in hairpins.values()
                for i in range(len(hairpin) - k + 1)
            }
        found = kmers[k]
        if parts == 2:  # the default (1 mismatch): two seeds, one C-level expression each
            kept.extend(
                r
                for r in group
                if sequences[r - 1][:k] in found or sequences[r - 1][k : 2 * k] in found
            )
        else:
            seeds = range(0, parts * k, k)
            kept.extend(
                r for r in group if any(sequences[r - 1][j : j + k] in found for j in seeds)
            )
    kept.sort()
    return kept


def align_sequences(
    sequences: list[str],
    index_prefix: str,
    hairpins: dict[str, str],
    arms: dict[str, list[MatureArm]],
    settings: QuantifySettings,
    bowtie_log: str,
    workdir: str,
) -> tuple[dict[int, list[Hit]], list[list[str]]]:
    """Align unique sequences (rank = 1-based position) in passes; return best hits per rank.

    See the module docstring for the passes. Pass 1's bowtie summary is
    written to ``bowtie_log``; later passes' summaries go to the job log.
    Python work is limited to the sequences bowtie reports: best hits are
    (re)computed only for ranks that got new raw hits in a pass, and a pass with
    ``k`` nt trimmed only gets the sequences of at least ``min_length + k`` nt.
    """
    results: dict[int, list[Hit]] = {}
    raw_hits: dict[int, list[tuple[str, int]]] = {}
    commands: list[list[str]] = []
    min_length = settings.min_length
    # Still-unaligned ranks (in rank order) and aligned ranks whose best hit carries an
    # addition longer than the current trim (they are re-aligned too, see below).
    unaligned = [rank for rank, seq in enumerate(sequences, 1) if len(seq) >= min_length]
    with_addition: list[int] = []
    # Unaligned sequences too short for the current trim can never align, but they keep
    # later passes running (as in a plain "re-align everything unaligned" loop), so the
    # passes run, and the BAM header lists, do not depend on this shortcut.
    short_unaligned = never_align = False
    shortest = min(map(len, sequences), default=0)
    for trim3 in range(0, settings.max_3p_addition + 1):
        if (
            not unaligned
            and not with_addition
            and not short_unaligned
            and not never_align
            and trim3 > 0
        ):
            break  # pass 1 always runs, so its log always exists
        min_pass_length = min_length + trim3
        if trim3 and shortest < min_pass_length:
            long_enough = [r for r in unaligned if len(sequences[r - 1]) >= min_pass_length]
            short_unaligned = short_unaligned or len(long_enough) < len(unaligned)
            unaligned = long_enough
        written_addition = [r for r in with_addition if len(sequences[r - 1]) >= min_pass_length]
        pending = sorted(unaligned + written_addition) if written_addition else unaligned
        fasta = os.path.join(workdir, f"pass{trim3}.fa")
        _write_pass_fasta(fasta, sequences, pending)
        out_hits = os.path.join(workdir, f"pass{trim3}.hits")
        stderr_path = bowtie_log if trim3 == 0 else os.path.join(workdir, f"pass{trim3}.log")
        commands.append(
            run_bowtie(
                index_prefix,
                fasta,
                out_hits,
                stderr_path,
                mismatches=settings.mismatches,
                trim3=trim3,
                threads=settings.threads,
            )
        )
        if trim3:
            log.info(
                "bowtie pass with %d nt trimmed at 3': %s",
                trim3,
                Path(stderr_path).read_text(encoding="utf-8").strip().replace("\n", " | "),
            )
        new_hits = parse_bowtie_hits_by_position(out_hits, pending)
        for rank, hits in new_hits.items():
            raw_hits.setdefault(rank, []).extend(hits)
            # best hits change only when raw hits were added
            best = best_hits(sequences[rank - 1], raw_hits[rank], hairpins, arms, settings)
            if best:
                results[rank] = best
        # Bowtie's best stratum counts an addition's bases as mismatches, so loci where
        # the addition mismatches more bases are missed: re-align 3'-trimmed sequences
        # that carry an addition too, to collect every locus of equal rank.
        if new_hits:
            unaligned = [r for r in unaligned if r not in results]
        if trim3 == 0 and settings.max_3p_addition:
            # Sequences no trimmed pass can align are dropped from the passes; they still keep
            # the passes running, as in a plain "re-align everything unaligned" loop.
            candidates = could_align_trimmed(sequences, unaligned, hairpins, settings)
            never_align = never_align or len(candidates) < len(unaligned)
            unaligned = candidates
        with_addition = sorted(
            {r for r in with_addition if results[r][0].n_added > trim3}
            | {r for r in new_hits if r in results and results[r][0].n_added > trim3}
        )
    return results, commands


def release_better_rna_class(
    sequences: list[str],
    counts: list[int],
    hits_by_rank: dict[int, list[Hit]],
    rna_class_indexes: Sequence[tuple[str, str]],
    settings: QuantifySettings,
    workdir: str,
) -> dict[str, int]:
    """Remove from ``hits_by_rank`` the sequences an RNA class explains better; reads per class.

    ``rna_class_indexes``: (class name, bowtie index prefix) in priority order.
    Each aligned sequence is aligned end to end (``-v mismatches``, sense
    strand) to every class; its fewest class mismatches are compared with the
    edits (SNVs + added bases) of its best hairpin hits. Strictly fewer:
    released (the first class in priority order with that number is reported).
    Ties stay miRNA. Returns {class: released reads} for classes with any.
    """
    # a sequence without edits on its hairpin can never be explained better
    ranks = sorted(rank for rank, hits in hits_by_rank.items() if hits[0].edits)
    if not ranks or not rna_class_indexes:
        return {}
    fasta = os.path.join(workdir, "rna_class_check.fa")
    _write_pass_fasta(fasta, sequences, ranks)
    best: dict[int, tuple[int, str]] = {}
    for name, prefix in rna_class_indexes:
        out_hits = os.path.join(workdir, f"rna_class_check.{name}.hits")
        run_bowtie(
            prefix,
            fasta,
            out_hits,
            out_hits + ".log",
            mismatches=settings.mismatches,
            threads=settings.threads,
        )
        with open(out_hits, encoding="utf-8") as handle:
            for line in handle:
                fields = line.rstrip("\n").split("\t")
                # column 8: comma-separated mismatch descriptors, empty for an exact match
                mismatches = len(fields[7].split(",")) if len(fields) > 7 and fields[7] else 0
                rank = ranks[int(fields[0])]
                if rank not in best or mismatches < best[rank][0]:
                    best[rank] = (mismatches, name)
    released: dict[str, int] = {}
    for rank, (mismatches, name) in best.items():
        if mismatches < hits_by_rank[rank][0].edits:
            del hits_by_rank[rank]
            released[name] = released.get(name, 0) + counts[rank - 1]
    return released


# ----------------------------------------------------------------------------- outputs


def _bam_records(
    header_hairpins: dict[str, str],
    assignments: list[tuple[int, Assignment]],
    out_bam: str,
    commands: list[list[str]],
    sample: str,
) -> None:
    """Write a coordinate-sorted, indexed BAM: one record per best hit, counts carried.

    Records are ordered by (hairpin, start), ties in rank then hit order (what a
    stable coordinate sort of the rank-ordered records gives), and written in
    that order: no separate sort pass.
    """
    import pysam

    header = {
        "HD": {"VN": "1.6", "SO": "coordinate"},
        "SQ": [{"SN": name, "LN": len(seq)} for name, seq in header_hairpins.items()],
        "RG": [{"ID": sample, "SM": sample}],
        "PG": [
            {
                "ID": f"bowtie.pass{i}",
                "PN": "bowtie",
                "CL": " ".join(c[:-4] + ["-x", "<index>", "<fasta>", "<out>"]),
            }
            for i, c in enumerate(commands)
        ],
        "CO": [
            "Records are unique sequences named s<rank>_x<count>; tag XC = read count, "
            "NH = number of best hits, XS = exomir status, XM = mature feature(s); "
            "soft clips are non-templated 3' additions."
        ],
    }
    ref_ids = {name: i for i, name in enumerate(header_hairpins)}
    order = sorted(
        (ref_ids[hit.hairpin], hit.start, position, i)
        for position, (_rank, assignment) in enumerate(assignments)
        for i, hit in enumerate(assignment.hits)
    )
    # Records are built from SAM text (htslib parses it, choosing the same integer tag
    # types as setting the fields one by one, 8x faster); per-sequence fields once.
    shared: dict[int, tuple[str, str]] = {}
    with atomic_path(out_bam) as tmp_bam:
        with pysam.AlignmentFile(str(tmp_bam), "wb", header=header) as bam:
            bam_header = bam.header
            for _ref_id, start, position, i in order:
                rank, assignment = assignments[position]
                hit = assignment.hits[i]
                if position not in shared:
                    names = ";".join(assignment.matures)
                    n_hits = len(assignment.hits)
                    shared[position] = (
                        f"s{rank}_x{assignment.count}",
                        f"NH:i:{n_hits}\tXC:i:{assignment.count}\tXS:Z:{assignment.status}"
                        f"\tRG:Z:{sample}" + (f"\tXM:Z:{names}" if names else ""),
                    )
                query_name, tags = shared[position]
                sequence = assignment.sequence
                templated = len(sequence) - hit.n_added
                cigar = f"{templated}M" + (f"{hit.n_added}S" if hit.n_added else "")
                line = (
                    f"{query_name}\t{0 if i == 0 else 256}\t{hit.hairpin}\t{start}\t"
                    f"{255 if len(assignment.hits) == 1 else 0}\t{cigar}\t*\t0\t0\t{sequence}\t*\t"
                    f"NM:i:{len(hit.snv_positions)}\t{tags}"
                )
                bam.write(pysam.AlignedSegment.fromstring(line, bam_header))
    pysam.index(str(out_bam))


def _write_unmapped(
    path: str, sequences: list[str], counts: list[int], aligned: dict[int, list[Hit]]
) -> None:
    """``unmapped.fa.gz``: sequences without a valid hit, ``>u{rank}_x{count}``, in rank order."""
    block = 100_000
    entry = ">u{}_x{}\n{}\n".format
    unmapped_rank = 0
    with atomic_open(path, "wt", compresslevel=INTERMEDIATE_GZIP_LEVEL) as handle:
        for start in range(0, len(sequences), block):
            ranks = [
                r
                for r in range(start + 1, min(start + block, len(sequences)) + 1)
                if r not in aligned
            ]
            numbers = range(unmapped_rank + 1, unmapped_rank + len(ranks) + 1)
            unmapped_rank += len(ranks)
            handle.write(
                "".join(
                    map(
                        entry,
                        numbers,
                        [counts[r - 1] for r in ranks],
                        [sequences[r - 1] for r in ranks],
                    )
                )
            )


def quantify_sample(
    *,
    sample: str,
    collapsed: str,
    hairpin_fa: str,
    mature_tsv: str,
    index_prefix: str,
    out_bam: str,
    out_bowtie_log: str,
    out_assignments: str,
    out_stats: str,
    out_unmapped: str,
    out_mirgff: str,
    settings: QuantifySettings = QuantifySettings(),
    source_ontology: str = "miRBase22.1 doi:10.25504/fairsharing.hmgte8",
    rna_class_indexes: Sequence[tuple[str, str]] = (),
) -> pd.DataFrame:
    """Align, assign and count one sample; write all per-sample outputs.

    Returns the one-row stats table (columns :data:`STATS_COLUMNS`). Only aligned
    sequences get Python objects; the rest are written to ``out_unmapped`` and
    counted. ``rna_class_indexes``: (class name, bowtie index prefix) pairs for
    :func:`release_better_rna_class`; empty = no release.
    """
    if shutil.which("bowtie") is None:
        raise ExomirInputError(
            "bowtie (version 1) is not on PATH",
            where=f"sample {sample}",
            fix="install bowtie 1 or run with --use-conda",
        )
    sequences, counts = read_collapsed_columns(collapsed)
    hairpins = read_hairpins(hairpin_fa)
    arms = read_arms(mature_tsv)
    unknown = sorted(set(arms) - set(hairpins))
    if unknown:
        raise ExomirInputError(
            f"mature.tsv names hairpins missing from hairpin.fa: " f"{', '.join(unknown[:10])}",
            where=mature_tsv,
            fix="re-run the references stage",
        )
    Path(out_bowtie_log).parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f"exomir_quantify_{sample}_") as workdir:
        with atomic_path(out_bowtie_log) as tmp_log:
            hits_by_rank, commands = align_sequences(
                sequences, index_prefix, hairpins, arms, settings, str(tmp_log), workdir
            )
        released = release_better_rna_class(
            sequences, counts, hits_by_rank, rna_class_indexes, settings, workdir
        )
        for name, reads in released.items():
            log.info(
                "%s: %d reads released to RNA class %s (explained better than by a hairpin)",
                sample,
                reads,
                name,
            )
        # rank order = count descending, then sequence: the order of the assignments table
        aligned = [
            (rank, Assignment(sequences[rank - 1], counts[rank - 1], hits_by_rank[rank]))
            for rank in sorted(hits_by_rank)
        ]
    _bam_records(hairpins, aligned, out_bam, commands, sample)

    _write_unmapped(out_unmapped, sequences, counts, hits_by_rank)
    total = sum(counts)
    n_unique = len(sequences)
    del sequences, counts, hits_by_rank

    gff_records: list[GffRecord] = []
    reads_by_status = {"mature": 0, "hairpin_only": 0, "ambiguous": 0}
    detected: set[str] = set()
    aligned_reads = 0
    multi_hairpin_reads = 0
    with atomic_open(out_assignments, "wt", compresslevel=INTERMEDIATE_GZIP_LEVEL) as handle:
        handle.write("\t".join(ASSIGNMENT_COLUMNS) + "\n")
        lines: list[str] = []
        for _rank, a in aligned:
            first = a.hits[0]
            matures = a.matures
            status = (
                "hairpin_only" if not matures else ("mature" if len(matures) == 1 else "ambiguous")
            )
            hairpin_names = a.hairpins
            labels = None
            if first.arm is not None:
                labels = isomir_labels(a.sequence, first)
                isomir_type = ";".join(labels) if labels else "canonical"
            else:
                isomir_type = ""
            lines.append(
                f"{a.sequence}\t{a.count}\t{';'.join(hairpin_names)}\t{';'.join(matures)}\t"
                f"{status}\t{isomir_type}\t{first.start}\t{first.templated_end}\t"
                f"{len(first.snv_positions)}\n"
            )
            if len(lines) >= 100_000:
                handle.write("".join(lines))
                lines.clear()
            aligned_reads += a.count
            reads_by_status[status] += a.count
            if status == "mature":
                detected.add(matures[0])
            if len(hairpin_names) > 1:
                multi_hairpin_reads += a.count
            for name in matures:
                on_name = [h for h in a.hits if h.arm is not None and h.arm.feature == name]
                hit = on_name[0]
                name_labels = labels if hit is first else isomir_labels(a.sequence, hit)
                reference = hairpins[hit.hairpin][hit.start - 1 : hit.start - 1 + len(a.sequence)]
                gff_records.append(
                    GffRecord(
                        hairpin=hit.hairpin,
                        start=hit.start,
                        end=hit.start + len(a.sequence) - 1,
                        read=a.sequence,
                        mature=name,
                        variant=",".join(name_labels) if name_labels else "NA",
                        cigar=mirtop_cigar(a.sequence, reference, hit.n_added),
                        expression=a.count,
                        hits=len({h.hairpin for h in on_name}),
                        filter="Pass" if status == "mature" else "REJECT:ambiguous",
                    )
                )
        handle.write("".join(lines))
    n_aligned = len(aligned)
    del aligned
    write_mirgff(gff_records, out_mirgff, sample, source_ontology)

    stats = pd.DataFrame(
        [
            {
                "sample": sample,
                "input_reads": total,
                "unique_sequences": n_unique,
                "aligned_reads": aligned_reads,
                "mature_reads": reads_by_status["mature"],
                "hairpin_only_reads": reads_by_status["hairpin_only"],
                "ambiguous_reads": reads_by_status["ambiguous"],
                "unmapped_reads": total - aligned_reads,
                "mirnas_detected": len(detected),
                "multi_hairpin_reads": multi_hairpin_reads,
                "aligned_unique_sequences": n_aligned,
                "rna_class_released_reads": sum(released.values()),
            }
        ],
        columns=STATS_COLUMNS,
    )
    write_tsv(stats, out_stats)
    log.info(
        "%s: %d reads, %d unique; %d aligned, %d mature, %d ambiguous, %d hairpin-only",
        sample,
        total,
        n_unique,
        stats.at[0, "aligned_reads"],
        stats.at[0, "mature_reads"],
        stats.at[0, "ambiguous_reads"],
        stats.at[0, "hairpin_only_reads"],
    )
    return stats


# ----------------------------------------------------------------------------- cohort


def _read_assignments(path: str) -> pd.DataFrame:
    return pd.read_csv(
        path,
        sep="\t",
        dtype={"sequence": str, "hairpins": str, "mature": str, "status": str, "isomir_type": str},
        keep_default_na=False,
    )


def build_matrices(
    *,
    samples: list[str],
    assignments: list[str],
    stats: list[str],
    mature_tsv: str,
    hairpin_fa: str,
    out_mature: str,
    out_hairpin: str,
    out_mature_rpm: str,
    out_hairpin_rpm: str,
    out_isomirs: str,
    out_mapping_stats: str,
) -> None:
    """Cohort tables from the per-sample assignments and stats (sample-sheet order).

    Every mature feature (a mature name, or the ``/``-joined names of mature
    miRNAs with one identical sequence) / hairpin of the species is a row
    (zeros kept), sorted by name. RPM = count / input reads (reads passing preprocessing) * 1e6.
    """
    if not (len(samples) == len(assignments) == len(stats)):
        raise ValueError("samples, assignments and stats must have the same length")
    mature_names = sorted(set(read_features(mature_tsv).values()))
    hairpin_names = sorted(read_hairpins(hairpin_fa))
    mature = pd.DataFrame(
        0, index=pd.Index(mature_names, name="mirna"), columns=samples, dtype="int64"
    )
    hairpin = pd.DataFrame(
        0, index=pd.Index(hairpin_names, name="hairpin"), columns=samples, dtype="int64"
    )
    isomir_parts = []
    stats_rows = []
    for sample, assignment_path, stats_path in zip(samples, assignments, stats):
        table = _read_assignments(assignment_path)
        counted = table[table["status"] == "mature"].groupby("mature")["count"].sum()
        unknown = sorted(set(counted.index) - set(mature_names))
        if unknown:
            raise ExomirInputError(
                f"assignments name mature miRNAs not in {mature_tsv}: "
                f"{', '.join(unknown[:10])}",
                where=assignment_path,
                fix="re-run quantification after the references stage",
            )
        mature.loc[counted.index, sample] = counted.astype("int64")
        single = table[~table["hairpins"].str.contains(";")].groupby("hairpins")["count"].sum()
        hairpin.loc[single.index, sample] = single.astype("int64")
        on_mature = table[table["status"] != "hairpin_only"]
        part = on_mature[["sequence", "mature", "status", "isomir_type", "count"]].rename(
            columns={"mature": "mirna", "count": sample}
        )
        isomir_parts.append(part.set_index(["sequence", "mirna", "status", "isomir_type"]))
        stats_rows.append(read_tsv(stats_path, dtype={"sample": str}))
    mapping = pd.concat(stats_rows, ignore_index=True)
    mapping["sample"] = mapping["sample"].astype(str)
    if list(mapping["sample"]) != list(samples):
        raise ExomirInputError(
            "per-sample stats files are not in sample order",
            where=", ".join(stats),
            fix="pass the stats in sample-sheet order",
        )
    total = mapping.set_index("sample")["input_reads"].astype(float)
    for column in ("aligned_reads", "mature_reads", "ambiguous_reads", "hairpin_only_reads"):
        mapping[column.replace("_reads", "_fraction")] = (
            mapping[column] / mapping["input_reads"].where(mapping["input_reads"] > 0)
        ).round(6)

    def rpm(counts: pd.DataFrame) -> pd.DataFrame:
        return counts.div(total.where(total > 0), axis=1).mul(1e6).fillna(0.0)

    write_tsv(mature.reset_index(), out_mature)
    write_tsv(hairpin.reset_index(), out_hairpin)
    write_tsv(rpm(mature).reset_index(), out_mature_rpm)
    write_tsv(rpm(hairpin).reset_index(), out_hairpin_rpm)
    if isomir_parts:
        isomirs = pd.concat(isomir_parts, axis=1).fillna(0).astype("int64")
    else:
        isomirs = pd.DataFrame(columns=samples)
    isomirs = isomirs.reindex(columns=samples).reset_index()
    isomirs = isomirs.sort_values(["mirna", "sequence"], kind="mergesort")
    write_tsv(isomirs, out_isomirs)
    write_tsv(mapping, out_mapping_stats)

"""miRNA quantification: align unique inserts to hairpins, assign them to mature arms.

Per sample, :func:`quantify_sample` reads ``preprocess/{sample}.collapsed.tsv.gz``
(unique insert sequences with their read counts) and works on unique
sequences only: bowtie sees each sequence once (FASTA name ``s{rank}_x{count}``)
and every later step loops over sequences, so time and memory grow with the
number of distinct inserts, not with the number of reads.

Alignment (bowtie 1, ``--norc -a --best --strata -v <mismatches>``)
    Pass 1 aligns every sequence end to end with at most ``mismatches``
    (default 1) mismatches, reporting all hits of the best mismatch stratum.
    Non-templated 3' additions (mostly A/U) show up as mismatches at the
    3' end, so a sequence with two or three added nucleotides fails pass 1;
    passes 2..(1 + ``max_3p_addition``) re-align the still unaligned sequences
    with 1, 2, 3 nucleotides trimmed from the 3' end (bowtie ``-3 k``); so do
    sequences whose best hit so far carries an addition longer than the trim,
    which finds the other loci where the same addition fits. Every
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


@dataclass
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


@dataclass
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
        return []
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
    table = table.sort_values(["count", "sequence"], ascending=[False, True], kind="mergesort")
    return list(zip(table["sequence"], table["count"].astype(int)))


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
            fix="check that the bowtie index was built from the prepared hairpin.fa",
        )
    return command


def parse_bowtie_hits(path: str) -> dict[int, list[tuple[str, int]]]:
    """Sequence rank -> [(hairpin, 0-based offset)] from bowtie's default output."""
    hits: dict[int, list[tuple[str, int]]] = {}
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            fields = line.split("\t", 4)
            if fields[1] != "+":  # --norc: never happens, kept as a guard
                continue
            rank = int(fields[0].split("_", 1)[0][1:])
            hits.setdefault(rank, []).append((fields[2], int(fields[3])))
    return hits


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
    mismatch = [
        offset + i >= len(hairpin_seq) or sequence[i] != hairpin_seq[offset + i]
        for i in range(length)
    ]
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
    if not fitting:
        return None
    return min(fitting, key=lambda a: (abs(start - a.start), abs(templated_end - a.end), a.mature))


def best_hits(
    sequence: str,
    raw_hits: list[tuple[str, int]],
    hairpins: dict[str, str],
    arms: dict[str, list[MatureArm]],
    settings: QuantifySettings,
) -> list[Hit]:
    """Re-score bowtie hits on the full sequence and keep those of the best rank."""
    scored: list[Hit] = []
    for hairpin, offset in set(raw_hits):
        result = score_hit(sequence, hairpins[hairpin], offset, settings)
        if result is None:
            continue
        snvs, n_added = result
        start, templated_end = offset + 1, offset + len(sequence) - n_added
        hit = Hit(hairpin, start, templated_end, snvs, n_added)
        hit.arm = find_arm(hairpin, start, templated_end, arms, settings)
        scored.append(hit)
    if not scored:
        return []
    best = min(hit.rank() for hit in scored)
    return sorted((h for h in scored if h.rank() == best), key=lambda h: (h.hairpin, h.start))


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


def align_sequences(
    sequences: list[tuple[str, int]],
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
    """
    results: dict[int, list[Hit]] = {}
    raw_hits: dict[int, list[tuple[str, int]]] = {}
    commands: list[list[str]] = []
    pending = [
        rank for rank, (seq, _c) in enumerate(sequences, 1) if len(seq) >= settings.min_length
    ]
    for trim3 in range(0, settings.max_3p_addition + 1):
        if not pending and trim3 > 0:  # pass 1 always runs, so its log always exists
            break
        fasta = os.path.join(workdir, f"pass{trim3}.fa")
        with open(fasta, "w", encoding="utf-8") as handle:
            for rank in pending:
                seq, count = sequences[rank - 1]
                if len(seq) - trim3 >= settings.min_length:
                    handle.write(f">s{rank}_x{count}\n{seq}\n")
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
        for rank, hits in parse_bowtie_hits(out_hits).items():
            raw_hits.setdefault(rank, []).extend(hits)
        next_pending = []
        for rank in pending:
            hits = best_hits(
                sequences[rank - 1][0], raw_hits.get(rank, []), hairpins, arms, settings
            )
            if hits:
                results[rank] = hits
            # Bowtie's best stratum counts an addition's bases as mismatches, so loci where
            # the addition mismatches more bases are missed: re-align 3'-trimmed sequences
            # that carry an addition too, to collect every locus of equal rank.
            if not hits or hits[0].n_added > trim3:
                next_pending.append(rank)
        pending = next_pending
    return results, commands


# ----------------------------------------------------------------------------- outputs


def _bam_records(
    header_hairpins: dict[str, str],
    assignments: list[tuple[int, Assignment]],
    out_bam: str,
    commands: list[list[str]],
    sample: str,
    workdir: str,
) -> None:
    """Write a coordinate-sorted, indexed BAM: one record per best hit, counts carried."""
    import pysam

    header = {
        "HD": {"VN": "1.6", "SO": "unsorted"},
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
    tmp_unsorted = os.path.join(workdir, "unsorted.bam")
    with pysam.AlignmentFile(tmp_unsorted, "wb", header=header) as bam:
        for rank, assignment in assignments:
            status = assignment.status
            names = ";".join(assignment.matures)
            for i, hit in enumerate(assignment.hits):
                record = pysam.AlignedSegment()
                record.query_name = f"s{rank}_x{assignment.count}"
                record.query_sequence = assignment.sequence
                record.flag = 0 if i == 0 else 256
                record.reference_id = ref_ids[hit.hairpin]
                record.reference_start = hit.start - 1
                record.mapping_quality = 255 if len(assignment.hits) == 1 else 0
                templated = len(assignment.sequence) - hit.n_added
                record.cigarstring = f"{templated}M" + (f"{hit.n_added}S" if hit.n_added else "")
                tags = [
                    ("NM", len(hit.snv_positions)),
                    ("NH", len(assignment.hits)),
                    ("XC", assignment.count),
                    ("XS", status),
                    ("RG", sample),
                ]
                if names:
                    tags.append(("XM", names))
                record.set_tags(tags)
                bam.write(record)
    with atomic_path(out_bam) as tmp_sorted:
        pysam.sort("--no-PG", "-o", str(tmp_sorted), "-O", "bam", tmp_unsorted)
    pysam.index(str(out_bam))


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
) -> pd.DataFrame:
    """Align, assign and count one sample; write all per-sample outputs.

    Returns the one-row stats table (columns :data:`STATS_COLUMNS`).
    """
    if shutil.which("bowtie") is None:
        raise ExomirInputError(
            "bowtie (version 1) is not on PATH",
            where=f"sample {sample}",
            fix="install bowtie 1 or run with --use-conda",
        )
    sequences = read_collapsed(collapsed)
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
        assignments = [
            (rank, Assignment(seq, count, hits_by_rank.get(rank, [])))
            for rank, (seq, count) in enumerate(sequences, 1)
        ]
        aligned = [(rank, a) for rank, a in assignments if a.hits]
        _bam_records(hairpins, aligned, out_bam, commands, sample, workdir)

    rows = []
    gff_records: list[GffRecord] = []
    for _rank, a in aligned:
        first = a.hits[0]
        labels = isomir_labels(a.sequence, first) if first.arm is not None else []
        status = a.status
        rows.append(
            {
                "sequence": a.sequence,
                "count": a.count,
                "hairpins": ";".join(a.hairpins),
                "mature": ";".join(a.matures),
                "status": status,
                "isomir_type": (
                    ("canonical" if not labels else ";".join(labels))
                    if first.arm is not None
                    else ""
                ),
                "start": first.start,
                "end": first.templated_end,
                "mismatches": len(first.snv_positions),
            }
        )
        for name in a.matures:
            on_name = [h for h in a.hits if h.arm is not None and h.arm.feature == name]
            hit = on_name[0]
            name_labels = isomir_labels(a.sequence, hit)
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
    table = pd.DataFrame(rows, columns=ASSIGNMENT_COLUMNS)
    table = table.sort_values(["count", "sequence"], ascending=[False, True], kind="mergesort")
    write_tsv(table, out_assignments)
    write_mirgff(gff_records, out_mirgff, sample, source_ontology)

    with atomic_open(out_unmapped, "wt") as handle:
        unmapped_rank = 0
        for _rank, a in assignments:
            if not a.hits:
                unmapped_rank += 1
                handle.write(f">u{unmapped_rank}_x{a.count}\n{a.sequence}\n")

    total = sum(count for _s, count in sequences)
    by_status = table.groupby("status")["count"].sum() if len(table) else pd.Series(dtype=int)
    multi = int(table.loc[table["hairpins"].str.contains(";"), "count"].sum()) if len(table) else 0
    stats = pd.DataFrame(
        [
            {
                "sample": sample,
                "input_reads": total,
                "unique_sequences": len(sequences),
                "aligned_reads": int(table["count"].sum()) if len(table) else 0,
                "mature_reads": int(by_status.get("mature", 0)),
                "hairpin_only_reads": int(by_status.get("hairpin_only", 0)),
                "ambiguous_reads": int(by_status.get("ambiguous", 0)),
                "unmapped_reads": total - (int(table["count"].sum()) if len(table) else 0),
                "mirnas_detected": (
                    int(table.loc[table["status"] == "mature", "mature"].nunique())
                    if len(table)
                    else 0
                ),
                "multi_hairpin_reads": multi,
                "aligned_unique_sequences": len(table),
            }
        ],
        columns=STATS_COLUMNS,
    )
    write_tsv(stats, out_stats)
    log.info(
        "%s: %d reads, %d unique; %d aligned, %d mature, %d ambiguous, %d hairpin-only",
        sample,
        total,
        len(sequences),
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
        stats_rows.append(read_tsv(stats_path))
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

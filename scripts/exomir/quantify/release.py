"""Release of sequences an RNA-class library explains better than any hairpin; other-class evidence.

Part of :mod:`exomir.quantify` (the module docstring there describes the method).

Rules, per aligned unique sequence (``rna_class_indexes`` in priority order):

* **artefacts first**: when a class named :data:`ARTIFACT_CLASS` is configured, a sequence it
  explains (end to end, sense strand) with at most as many mismatches as its best hairpin hit
  has edits (ties go to the artefact), or a low-complexity sequence
  (:func:`exomir.rna_libraries.is_low_complexity`), is released to it: adapter and primer
  artefacts are removed before miRNA assignment. A read equal to a mature miRNA that is one
  substitution from an adapter (canonical hsa-miR-3168) stays miRNA;
* otherwise a sequence is released when a class explains it with strictly fewer mismatches than
  its best hairpin hit has edits (SNVs + added bases); the first class in priority order with that
  number is reported. Ties stay miRNA.
* **a miRNA variant stays miRNA**: a sequence the previous rule would release stays miRNA when
  (a) its best hit is a whole mature exactly followed by an untemplated A/U tail
  (:func:`is_tailed_mature`: 3' adenylation/uridylation, the commonest isomiR; an RNA templating
  the tail explains it no better), or (b) the sample holds, one edit from it (one substitution,
  or one 3' base less), sequences that the same hairpin explains with fewer edits, that stay
  miRNA and that hold at least :data:`PARENT_SKEW` times its reads (:func:`mirna_parent_reads`):
  such a sequence is most likely a sequencing error or isomiR of the abundant miRNA sequence next
  to it, not a fragment of the RNA (the abundance-skew reasoning of amplicon denoising: UNOISE,
  Edgar 2016, bioRxiv 081257; DADA2, Callahan et al. 2016, Nat Methods 13:581). Without them, demo
  miRNA reads whose sequencing error hits the one base where a miRBase look-alike differs from
  its tRNA (hsa-miR-4454 vs tRNA-His-GTG), or whose A tail MT-TF templates (hsa-miR-4284), were
  released (issue 18); fragments with no abundant miRNA neighbour (tRNA-Pro reads 1 mismatch from
  hsa-miR-4448) are still released.
* Sequences that stay miRNA but that a class also explains (ties) are the *other-class evidence*
  (:func:`release_better_rna_class` fills ``evidence``): ``class:gene`` of each class that aligns.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from exomir.quantify.align import run_bowtie, write_pass_fasta
from exomir.quantify.model import Hit, QuantifySettings
from exomir.rna_libraries import is_low_complexity

#: Name of the artefact class (kit adapters, primers, concatemers, low-complexity inserts).
ARTIFACT_CLASS = "artifact"

#: A release candidate stays miRNA when its one-edit miRNA neighbours hold >= this many times its
#: reads. Calibrated on the demo truth (``tests/accuracy/measure_demo_accuracy.py``): 2 keeps the 5
#: true miRNA reads with such neighbours that the plain rule released, and no background read; 1
#: also keeps 2 background reads; 8 (UNOISE's skew for one difference) keeps only 2 of the 5.
PARENT_SKEW = 2

#: One class alignment of a sequence: (class, gene, mismatches).
ClassHit = tuple[str, str, int]


def _gene(reference: str) -> str:
    """Gene of a library record name ``class|gene[|xN]`` (the whole name if it has no ``|``)."""
    parts = reference.split("|")
    return parts[1] if len(parts) > 1 else parts[0]


def align_to_classes(
    sequences: list[str],
    ranks: list[int],
    rna_class_indexes: Sequence[tuple[str, str]],
    settings: QuantifySettings,
    workdir: str,
) -> dict[int, list[ClassHit]]:
    """Best alignment per class of each rank, classes in priority order: rank -> [(class, gene, mm)].

    The gene of a class is the first in name order among its best-stratum hits (bowtie
    ``-a --best --strata`` reports every record of the best mismatch count).
    """
    fasta = os.path.join(workdir, "rna_class_check.fa")
    write_pass_fasta(fasta, sequences, ranks)
    found: dict[int, list[ClassHit]] = {}
    for name, prefix in rna_class_indexes:
        out_hits = os.path.join(workdir, f"rna_class_check.{name}.hits")
        run_bowtie(prefix, fasta, out_hits, out_hits + ".log", mismatches=settings.mismatches, threads=settings.threads)
        best: dict[int, tuple[int, str]] = {}
        with open(out_hits, encoding="utf-8") as handle:
            for line in handle:
                fields = line.rstrip("\n").split("\t")
                # column 8: comma-separated mismatch descriptors, empty for an exact match
                mismatches = len(fields[7].split(",")) if len(fields) > 7 and fields[7] else 0
                rank = ranks[int(fields[0])]
                key = (mismatches, _gene(fields[2]))
                if rank not in best or key < best[rank]:
                    best[rank] = key
        for rank, (mismatches, gene) in best.items():
            found.setdefault(rank, []).append((name, gene, mismatches))
    return found


def release_class(sequence: str, class_hits: list[ClassHit], edits: int, artifact_configured: bool) -> str | None:
    """The class a sequence is released to (see the module docstring), or None (it stays miRNA)."""
    if artifact_configured and (
        is_low_complexity(sequence)
        or any(name == ARTIFACT_CLASS and mismatches <= edits for name, _, mismatches in class_hits)
    ):
        return ARTIFACT_CLASS
    best: tuple[int, str] | None = None
    for name, _gene_name, mismatches in class_hits:  # priority order: strictly fewer replaces
        if best is None or mismatches < best[0]:
            best = (mismatches, name)
    if best is not None and best[0] < edits:
        return best[1]
    return None


def one_edit_neighbours(sequence: str) -> set[str]:
    """Sequences one edit from ``sequence``: each single substitution, and the sequence without its last base."""
    out = {sequence[:i] + base + sequence[i + 1 :] for i in range(len(sequence)) for base in "ACGT"}
    out.discard(sequence)
    out.add(sequence[:-1])
    return out


def mirna_parent_reads(
    rank: int,
    sequences: list[str],
    counts: list[int],
    hits_by_rank: dict[int, list[Hit]],
    targets: dict[int, str | None],
    rank_of: dict[str, int],
) -> int:
    """Reads of the one-edit neighbours of ``rank`` that stay miRNA and that a hairpin of its best
    hits explains with fewer edits (the miRNA "parents" of the module docstring)."""
    edits = hits_by_rank[rank][0].edits
    hairpins = {hit.hairpin for hit in hits_by_rank[rank]}
    reads = 0
    for neighbour in one_edit_neighbours(sequences[rank - 1]):
        other = rank_of.get(neighbour)
        if other is None or targets[other] is not None:
            continue
        best = hits_by_rank[other]
        if best[0].edits < edits and hairpins & {hit.hairpin for hit in best}:
            reads += counts[other - 1]
    return reads


#: Bases of the untemplated 3' tails that miRNAs carry (adenylation, uridylation).
MIRNA_TAIL_BASES = frozenset("AT")


def is_tailed_mature(sequence: str, hits: list[Hit]) -> bool:
    """True when a best hit is a whole mature exactly (templated part = the mature arm, no SNV)
    followed by an untemplated 3' tail of A/U only: the commonest miRNA isomiR (3' adenylation and
    uridylation by nucleotidyl transferases; Wyman et al. 2011, Genome Res 21:1450), which an RNA
    that happens to template the tail explains no better."""
    for hit in hits:
        arm = hit.arm
        if (
            arm is not None
            and hit.n_added > 0
            and not hit.snv_positions
            and (hit.start, hit.templated_end) == (arm.start, arm.end)
            and set(sequence[-hit.n_added :]) <= MIRNA_TAIL_BASES
        ):
            return True
    return False


def release_targets(
    sequences: list[str], counts: list[int], hits_by_rank: dict[int, list[Hit]], class_hits: dict[int, list[ClassHit]],
    artifact_configured: bool,
) -> dict[int, str | None]:
    """Rank -> class it is released to (None = stays miRNA): :func:`release_class`, then the miRNA-variant
    rules (:func:`is_tailed_mature`, :func:`mirna_parent_reads`)."""
    targets = {
        rank: release_class(sequences[rank - 1], class_hits.get(rank, []), hits[0].edits, artifact_configured)
        for rank, hits in hits_by_rank.items()
    }
    rank_of = {sequences[rank - 1]: rank for rank in hits_by_rank}
    kept = [
        rank
        for rank, target in targets.items()
        if target not in (None, ARTIFACT_CLASS)
        and (
            is_tailed_mature(sequences[rank - 1], hits_by_rank[rank])
            or mirna_parent_reads(rank, sequences, counts, hits_by_rank, targets, rank_of)
            >= PARENT_SKEW * counts[rank - 1]
        )
    ]
    for rank in kept:  # decided after the loop: parents are judged by the plain rule only
        targets[rank] = None
    return targets


def release_better_rna_class(
    sequences: list[str],
    counts: list[int],
    hits_by_rank: dict[int, list[Hit]],
    rna_class_indexes: Sequence[tuple[str, str]],
    settings: QuantifySettings,
    workdir: str,
    evidence: dict[int, str] | None = None,
) -> dict[str, int]:
    """Remove from ``hits_by_rank`` the sequences a class explains better (module docstring); reads per class.

    ``rna_class_indexes``: (class name, bowtie index prefix) in priority order. ``evidence``,
    when given, receives rank -> ``;``-joined ``class:gene`` for the sequences that stay miRNA
    although a class also explains them. Returns {class: released reads} for classes with any.
    """
    ranks = sorted(hits_by_rank)
    if not ranks or not rna_class_indexes:
        return {}
    artifact_configured = any(name == ARTIFACT_CLASS for name, _ in rna_class_indexes)
    class_hits = align_to_classes(sequences, ranks, rna_class_indexes, settings, workdir)
    targets = release_targets(sequences, counts, hits_by_rank, class_hits, artifact_configured)
    released: dict[str, int] = {}
    for rank in ranks:
        hits = class_hits.get(rank, [])
        target = targets[rank]
        if target is not None:
            del hits_by_rank[rank]
            released[target] = released.get(target, 0) + counts[rank - 1]
        elif hits and evidence is not None:
            evidence[rank] = ";".join(sorted(f"{name}:{gene}" for name, gene, _ in hits))
    return released

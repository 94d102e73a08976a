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
    released: dict[str, int] = {}
    for rank in ranks:
        hits = class_hits.get(rank, [])
        target = release_class(sequences[rank - 1], hits, hits_by_rank[rank][0].edits, artifact_configured)
        if target is not None:
            del hits_by_rank[rank]
            released[target] = released.get(target, 0) + counts[rank - 1]
        elif hits and evidence is not None:
            evidence[rank] = ";".join(sorted(f"{name}:{gene}" for name, gene, _ in hits))
    return released

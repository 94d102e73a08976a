"""Release of sequences an RNA-class library explains with fewer edits than any hairpin.

Part of :mod:`exomir.quantify` (the module docstring there describes the method).
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from exomir.quantify.align import write_pass_fasta, run_bowtie
from exomir.quantify.model import Hit, QuantifySettings


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
    write_pass_fasta(fasta, sequences, ranks)
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

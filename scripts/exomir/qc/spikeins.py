"""Spike-in reads: exact (or one-mismatch) stretches of synthetic spike-in sequences."""

from __future__ import annotations

from pathlib import Path
from typing import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from exomir.errors import ExomirInputError
from exomir.io import read_reference_fasta, write_tsv
from exomir.qc.inputs import iter_collapsed_tsv

#: Spike-in reads matching several spike-in sequences equally well.
AMBIGUOUS_SPIKEIN = "ambiguous"
SPIKEIN_COLUMNS = ["sample", "spikein", "reads", "reads_counted_as_mirna", "per_million_passing"]

class SpikeinMatcher:
    """Assign reads to spike-ins: the read must equal a stretch of a spike-in sequence.

    A read is a spike-in read when it is at least ``min_length`` nt long and equal to a
    contiguous part of a spike-in sequence with at most ``mismatches`` (0 or 1)
    substitutions; the full-length spike-in and its 5'/3' truncations all match. A read
    matching two spike-ins is assigned to :data:`AMBIGUOUS_SPIKEIN`. All variants are held
    in a dictionary, so matching costs one lookup per unique sequence.
    """

    def __init__(self, spikeins: Sequence[tuple[str, str]], mismatches: int = 1, min_length: int = 16):
        if mismatches not in (0, 1):
            raise ExomirInputError(
                f"spike-in mismatches must be 0 or 1, got {mismatches}",
                where="config qc.spikein_mismatches",
                fix="set qc.spikein_mismatches to 0 or 1.",
            )
        self.names = [name for name, _ in spikeins]
        if len(set(self.names)) != len(self.names):
            raise ExomirInputError(
                "spike-in names are not unique",
                where="config qc.spikeins",
                fix="give every spike-in sequence a unique name.",
            )
        self._lookup: dict[str, str] = {}
        for name, sequence in spikeins:
            for variant in self._variants(sequence, mismatches, min_length):
                previous = self._lookup.get(variant)
                if previous is None:
                    self._lookup[variant] = name
                elif previous != name:
                    self._lookup[variant] = AMBIGUOUS_SPIKEIN

    @staticmethod
    def _variants(sequence: str, mismatches: int, min_length: int) -> set[str]:
        variants: set[str] = set()
        for start in range(len(sequence)):
            for end in range(start + min_length, len(sequence) + 1):
                part = sequence[start:end]
                variants.add(part)
                if mismatches:
                    for i, base in enumerate(part):
                        for other in "ACGT":
                            if other != base:
                                variants.add(part[:i] + other + part[i + 1 :])
        return variants

    def match(self, sequence: str) -> str | None:
        """Return the spike-in name, :data:`AMBIGUOUS_SPIKEIN`, or None."""
        return self._lookup.get(sequence)

    def count(self, records: Iterable[tuple[str, int]]) -> dict[str, int]:
        """Sum counts of (sequence, count) pairs per spike-in (all names, plus ambiguous)."""
        totals = {name: 0 for name in self.names}
        totals[AMBIGUOUS_SPIKEIN] = 0
        for sequence, count in records:
            hit = self.match(sequence)
            if hit is not None:
                totals[hit] += count
        return totals


def load_spikeins(path: str | Path | None) -> list[tuple[str, str]]:
    """Read the optional spike-in FASTA; an empty path means no spike-ins."""
    if not path:
        return []
    records = read_reference_fasta(path, "spike-in")
    for name, _ in records:
        if name == AMBIGUOUS_SPIKEIN:
            raise ExomirInputError(
                f"spike-in name {AMBIGUOUS_SPIKEIN!r} is reserved",
                where=str(path),
                fix="rename that spike-in.",
            )
    return records


# --------------------------------------------------------------------------- bowtie


def write_spikein_table(
    sample: str,
    matcher: SpikeinMatcher,
    spike_unmapped: Mapping[str, int],
    collapsed_tsv: str | Path,
    passing: int,
    out_spikeins: str | Path,
) -> None:
    """Count spike-ins in all reads passing preprocessing (the collapsed file) and write the table.

    ``reads_counted_as_mirna`` is the part of them that quantify counted as miRNA (the
    spike-in reads *not* among the unmapped ones, ``spike_unmapped``).
    """
    spike_all: dict[str, int] = {}
    if matcher.names:
        collapsed = list(iter_collapsed_tsv(collapsed_tsv))
        collapsed_total = sum(count for _, count in collapsed)
        if collapsed_total != passing:
            raise ExomirInputError(
                f"the counts add up to {collapsed_total}, the preprocess stats say passing_reads = {passing}",
                where=str(collapsed_tsv),
                fix="re-run the preprocess stage for this sample.",
            )
        spike_all = matcher.count(collapsed)
    spike_rows = [
        (
            sample,
            name,
            reads,
            reads - spike_unmapped[name],
            reads / passing * 1e6 if passing else np.nan,
        )
        for name, reads in spike_all.items()
    ]
    write_tsv(pd.DataFrame(spike_rows, columns=SPIKEIN_COLUMNS), out_spikeins)

"""Second adapter search for inserts cutadapt left untrimmed because the adapter has too many errors.

cutadapt (``-e 0.1``) accepts one error in a 10-19 nt adapter stretch. On older or noisy runs
the 3' end of a read, where the adapter is, carries more sequencing errors than that: such a read
stays untrimmed and its insert is the whole read (a 22-nt miRNA + 14 nt of adapter with 2
errors in a 36-nt read), which aligns nowhere end to end. This module looks again, only in
inserts long enough to be such reads (:attr:`RecoverySettings.min_insert`, default longer than
any human miRBase mature) and only for a cut that leaves an insert inside the kept length window:

* the candidate cut positions ``p`` leave ``min_length <= p <= max_length`` nt;
* the insert's tail from ``p`` is compared, without indels, with the start of the kit's 3'
  adapter over ``n = min(tail length, adapter length)`` nt; ``n`` must be at least
  ``min_overlap`` and the mismatches at most ``floor(error_rate * n)`` (``N`` counts as a
  mismatch);
* of the accepted positions the one with the lowest mismatch rate wins (then the leftmost).

A true long insert is cut only when its 3' part looks like the adapter over >= ``min_overlap`` nt
with at most a quarter of the bases wrong (random chance ~1e-3 per insert); the demo truth and
the bundled real read sets measure it (``docs`` in config/README.md). Kits whose 3' adapter is
a poly-A stretch (CATS, SMARTer) and UMI kits (the adapter carries the UMI) are left alone.
"""

from __future__ import annotations

import dataclasses
import logging
from collections import Counter

import numpy as np

LOG = logging.getLogger("exomir.preprocess")


@dataclasses.dataclass(frozen=True)
class RecoverySettings:
    """Adapter-error recovery parameters (config ``preprocess.adapter_recovery``)."""

    enabled: bool = True
    #: adapter nt that must be compared (the tail of the insert, or the whole adapter)
    min_overlap: int = 10
    #: mismatches allowed per compared adapter nt
    error_rate: float = 0.25


@dataclasses.dataclass(frozen=True)
class RecoveryResult:
    """Inserts after recovery and what moved: unique inserts and reads cut."""

    counts: Counter
    sequences: int
    reads: int


def applies_to(adapter: str, has_umi: bool) -> bool:
    """Whether recovery runs for a kit: a 3' adapter of several bases, no UMI in the adapter."""
    return not has_umi and len(set(adapter) - {"N"}) > 1


def _matrix(sequences: list[bytes], width: int) -> np.ndarray:
    """Sequences as a (n, width) uint8 matrix, zero-padded on the right."""
    packed = np.zeros((len(sequences), width), dtype=np.uint8)
    for row, sequence in enumerate(sequences):
        packed[row, : len(sequence)] = np.frombuffer(sequence[:width], dtype=np.uint8)
    return packed


def best_cuts(
    sequences: list[bytes], adapter: bytes, min_length: int, max_length: int, settings: RecoverySettings
) -> np.ndarray:
    """Cut position per sequence (insert length to keep), -1 where no position is accepted.

    Vectorised over the sequences: one pass per candidate position ``p`` compares the tails
    with the adapter start (see the module docstring).
    """
    lengths = np.fromiter(map(len, sequences), dtype=np.int64, count=len(sequences))
    width = int(lengths.max(initial=0))
    packed = _matrix(sequences, width)
    adapter_codes = np.frombuffer(adapter, dtype=np.uint8)
    best_rate = np.full(len(sequences), np.inf)
    cut = np.full(len(sequences), -1, dtype=np.int64)
    for p in range(min_length, min(max_length, width - settings.min_overlap) + 1):
        n = np.minimum(lengths - p, len(adapter_codes))  # compared adapter nt per sequence
        span = min(width - p, len(adapter_codes))
        window = packed[:, p : p + span]
        compared = np.arange(span)[None, :] < n[:, None]
        differs = (window != adapter_codes[None, :span]) & (adapter_codes[None, :span] != ord("N"))
        mismatches = (differs & compared).sum(axis=1)
        allowed = np.floor(settings.error_rate * n + 1e-9)
        ok = (n >= settings.min_overlap) & (mismatches <= allowed)
        rate = np.where(ok, mismatches / np.maximum(n, 1), np.inf)
        better = rate < best_rate  # strictly lower: the leftmost position wins ties
        cut[better] = p
        best_rate[better] = rate[better]
    return cut


def untrimmed_candidates(counts: Counter, cutadapt_min_overlap: int) -> list[bytes]:
    """Inserts cutadapt cannot have trimmed: longer than the read length minus its ``-O``.

    The read length is the longest insert (a read without adapter, not quality-trimmed). An
    insert from which cutadapt removed an adapter is at least ``-O`` nt shorter than its read, so
    it is a true insert ending where the adapter was found and is never searched again (a tRNA
    half followed by an adapter look-alike stays whole).
    """
    read_length = max(map(len, counts), default=0)
    shortest = read_length - cutadapt_min_overlap + 1
    return [sequence for sequence in counts if len(sequence) >= shortest]


def cut_map(
    counts: Counter, adapter: str, min_length: int, max_length: int, cutadapt_min_overlap: int,
    settings: RecoverySettings,
) -> dict[bytes, bytes]:
    """Untrimmed insert -> the insert left once the adapter found by :func:`best_cuts` is cut off."""
    if not settings.enabled:
        return {}
    candidates = [
        seq for seq in untrimmed_candidates(counts, cutadapt_min_overlap) if len(seq) >= min_length + settings.min_overlap
    ]
    if not candidates:
        return {}
    cuts = best_cuts(candidates, adapter.encode("ascii"), min_length, max_length, settings)
    return {sequence: sequence[:p] for sequence, p in zip(candidates, cuts.tolist()) if p >= 0}


def recover(
    counts: Counter, adapter: str, min_length: int, max_length: int, cutadapt_min_overlap: int,
    settings: RecoverySettings,
) -> RecoveryResult:
    """Cut the adapter out of the untrimmed inserts where :func:`best_cuts` finds it; merge counts.

    ``counts`` (insert bytes -> reads) is changed in place (no copy of a large table) and returned.
    """
    cuts = cut_map(counts, adapter, min_length, max_length, cutadapt_min_overlap, settings)
    moved_reads = 0
    for sequence, kept in cuts.items():
        reads = counts.pop(sequence)
        counts[kept] += reads
        moved_reads += reads
    return RecoveryResult(counts, len(cuts), moved_reads)


def recover_adapter_errors(counts: Counter, kit, settings) -> Counter:
    """The preprocess hook: :func:`recover` with a kit (:class:`exomir.kits.Kit`) and trim settings.

    ``settings`` is a :class:`exomir.preprocess.TrimSettings` (its ``recovery`` field holds the
    :class:`RecoverySettings`). UMI and poly-A kits are returned unchanged. Logs what moved.
    """
    has_umi = kit.umi is not None and settings.use_umi
    if not applies_to(kit.adapter, has_umi):
        return counts
    result = recover(counts, kit.adapter, settings.min_length, settings.max_length, settings.min_overlap, settings.recovery)
    LOG.info(
        "adapter-error recovery: %d reads (%d unique inserts) without an adapter match by cutadapt were cut "
        "where the adapter start matches with <= %.0f%% mismatches",
        result.reads,
        result.sequences,
        100 * settings.recovery.error_rate,
    )
    return result.counts

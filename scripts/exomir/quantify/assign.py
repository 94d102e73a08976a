"""Scoring of a hit on the full sequence, mature arm lookup, best hits and isomiR labels.

Part of :mod:`exomir.quantify` (the module docstring there describes the method).
"""

from __future__ import annotations

from exomir.mirgff import snv_class
from exomir.quantify.model import Hit, MatureArm, QuantifySettings


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
    mismatch = list(map(str.__ne__, sequence, reference))  # a != b per base, in C
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
    candidates = arms.get(hairpin)
    if not candidates:  # most hairpin hits of non-miRNA sequences: no arm to test
        return None
    max_5p, max_3p = settings.max_5p_shift, settings.max_3p_shift
    fitting = [
        arm
        for arm in candidates
        if -max_5p <= start - arm.start <= max_5p and -max_3p <= templated_end - arm.end <= max_3p
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
        hairpin_seq = hairpins[hairpin]
        if hairpin_seq[offset : offset + length] == sequence:  # most hits: score_hit's exact case inline
            snvs, n_added = [], 0
        else:
            result = score_hit(sequence, hairpin_seq, offset, settings)
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

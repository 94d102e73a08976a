"""Settings, constants and the data classes of quantification (arms, hits, assignments).

Part of :mod:`exomir.quantify` (the module docstring there describes the method).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence




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
    "other_classes",
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


# Same shape as the other stages' frozen settings classes (GenomeMapSettings, NovelSettings):
# different fields and defaults, one config section each; nothing to share but the decorator.
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
        return status_of(self.matures)


def status_of(matures: Sequence[str]) -> str:
    """``hairpin_only``, ``mature`` or ``ambiguous`` for a sequence whose best hits name ``matures``."""
    if not matures:
        return "hairpin_only"
    return "mature" if len(matures) == 1 else "ambiguous"


# ----------------------------------------------------------------------------- inputs

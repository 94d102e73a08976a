"""One sample end to end (rule quantify_sample): align, release, assign, write.

Part of :mod:`exomir.quantify` (the module docstring there describes the method).
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from exomir.errors import ExomirInputError
from exomir.io import atomic_path, write_tsv
from exomir.mirgff import write_mirgff
from exomir.quantify.align import align_sequences
from exomir.quantify.inputs import read_arms, read_collapsed_columns, read_hairpins
from exomir.quantify.model import STATS_COLUMNS, Assignment, Hit, MatureArm, QuantifySettings
from exomir.quantify.outputs import AssignmentTally, write_assignments, write_bam, write_unmapped
from exomir.quantify.release import release_better_rna_class

log = logging.getLogger("exomir.quantify")


def _read_references(
    sample: str, mature_tsv: str, hairpin_fa: str
) -> tuple[dict[str, str], dict[str, list[MatureArm]]]:
    """``(hairpins, arms)``, read once; bowtie 1 must be on PATH and every hairpin of
    ``mature.tsv`` in ``hairpin.fa``."""
    if shutil.which("bowtie") is None:
        raise ExomirInputError(
            "bowtie (version 1) is not on PATH",
            where=f"sample {sample}",
            fix="install bowtie 1 or run with --use-conda",
        )
    hairpins = read_hairpins(hairpin_fa)
    arms = read_arms(mature_tsv)
    unknown = sorted(set(arms) - set(hairpins))
    if unknown:
        raise ExomirInputError(
            f"mature.tsv names hairpins missing from hairpin.fa: " f"{', '.join(unknown[:10])}",
            where=mature_tsv,
            fix="re-run the references stage",
        )
    return hairpins, arms


def _stats_table(
    sample: str, total: int, n_unique: int, n_aligned: int, tally: AssignmentTally, released_reads: int
) -> pd.DataFrame:
    """The one-row stats table (columns :data:`STATS_COLUMNS`)."""
    aligned_reads = tally.aligned_reads
    reads_by_status = tally.reads_by_status
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
                "mirnas_detected": len(tally.detected),
                "multi_hairpin_reads": tally.multi_hairpin_reads,
                "aligned_unique_sequences": n_aligned,
                "rna_class_released_reads": released_reads,
            }
        ],
        columns=STATS_COLUMNS,
    )
    return stats


def _align_and_release(
    sample: str,
    sequences: list[str],
    counts: list[int],
    hairpins: dict[str, str],
    arms: dict[str, list[MatureArm]],
    index_prefix: str,
    out_bowtie_log: str,
    settings: QuantifySettings,
    rna_class_indexes: Sequence[tuple[str, str]],
) -> tuple[dict[int, list[Hit]], list[list[str]], dict[int, str], dict[str, int]]:
    """Align (bowtie log to ``out_bowtie_log``), then release reads another RNA class explains better.

    Returns ``(best hits by rank, bowtie commands, release evidence by rank, released reads by class)``.
    """
    Path(out_bowtie_log).parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f"exomir_quantify_{sample}_") as workdir:
        with atomic_path(out_bowtie_log) as tmp_log:
            hits_by_rank, commands = align_sequences(
                sequences, index_prefix, hairpins, arms, settings, str(tmp_log), workdir
            )
        evidence: dict[int, str] = {}
        released = release_better_rna_class(
            sequences, counts, hits_by_rank, rna_class_indexes, settings, workdir, evidence
        )
    for name, reads in released.items():
        log.info(
            "%s: %d reads released to RNA class %s (explained better than by a hairpin)",
            sample,
            reads,
            name,
        )
    return hits_by_rank, commands, evidence, released


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
    hairpins, arms = _read_references(sample, mature_tsv, hairpin_fa)
    sequences, counts = read_collapsed_columns(collapsed)
    hits_by_rank, commands, evidence, released = _align_and_release(
        sample, sequences, counts, hairpins, arms, index_prefix, out_bowtie_log, settings, rna_class_indexes
    )
    # rank order = count descending, then sequence: the order of the assignments table
    aligned = [
        (rank, Assignment(sequences[rank - 1], counts[rank - 1], hits_by_rank[rank]))
        for rank in sorted(hits_by_rank)
    ]
    write_bam(hairpins, aligned, out_bam, commands, sample)

    write_unmapped(out_unmapped, sequences, counts, hits_by_rank)
    total = sum(counts)
    n_unique = len(sequences)
    del sequences, counts, hits_by_rank

    tally = write_assignments(aligned, hairpins, out_assignments, evidence)
    n_aligned = len(aligned)
    del aligned
    write_mirgff(tally.gff_records, out_mirgff, sample, source_ontology)
    stats = _stats_table(sample, total, n_unique, n_aligned, tally, sum(released.values()))

    write_tsv(stats, out_stats)
    log.info(
        "%s: %d reads, %d unique; %d aligned, %d mature, %d ambiguous, %d hairpin-only",
        sample,
        total,
        n_unique,
        *stats.loc[0, ["aligned_reads", "mature_reads", "ambiguous_reads", "hairpin_only_reads"]],
    )
    return stats


# ----------------------------------------------------------------------------- cohort

"""RNA-class libraries of the QC stage: composition row names, class-name checks, library
preparation for ``bowtie-build`` and the sense-strand bowtie pass that assigns sequences.
"""

from __future__ import annotations

import logging
import re
import subprocess
import tempfile
from pathlib import Path
from typing import Sequence

from exomir.errors import ExomirInputError
from exomir.io import atomic_open, read_reference_fasta
from exomir.qc.inputs import CollapsedSequence

log = logging.getLogger("exomir.qc")

MIRNA_CLASSES = ("mirna_mature", "mirna_hairpin_only", "mirna_ambiguous")
#: Rows for reads removed by preprocessing, from the preprocess stats.
FILTERED_CLASSES = ("adapter_dimer", "too_short", "too_long", "other_filtered", "no_umi", "umi_duplicate")
SPIKEIN_CLASS = "spikein"
UNMAPPED_CLASS = "unmapped"
#: Genome mode only (issue 22): reads no RNA class explained that map to 1 / > 1 genome loci.
GENOME_CLASSES = ("genome_unique", "genome_multi")
#: Names an RNA-class library may not take (they are rows of the composition already).
RESERVED_CLASS_NAMES = frozenset(MIRNA_CLASSES + FILTERED_CLASSES + GENOME_CLASSES + (SPIKEIN_CLASS, UNMAPPED_CLASS))

CLASS_NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")


def check_rna_class_names(names: Sequence[str]) -> None:
    """Check configured RNA-class names: identifier-like, unique, not a reserved row name."""
    seen: set[str] = set()
    for name in names:
        if not CLASS_NAME_PATTERN.match(name) or name in RESERVED_CLASS_NAMES or name in seen:
            reason = (
                "is used twice"
                if name in seen
                else "is a reserved composition row"
                if name in RESERVED_CLASS_NAMES
                else "must be lower case letters, digits and '_' starting with a letter"
            )
            raise ExomirInputError(
                f"RNA class name {name!r} {reason}",
                where="config qc.rna_classes",
                fix="give each entry of qc.rna_classes a unique name such as 'trna' or 'rrna'.",
            )
        seen.add(name)


def prepare_rna_class_fasta(in_fasta: str | Path, out_fasta: str | Path, rna_class: str) -> int:
    """Write an RNA-class library as a clean DNA FASTA for ``bowtie-build``; return #records.

    Accepts RNA or DNA alphabet, gzip or plain, any header (the first word is kept, e.g.
    ``trna|tRNA-Gly-GCC-1-1``). Full databases (GtRNAdb mature tRNAs, RNAcentral or Rfam
    exports) can be given by path as they are downloaded.
    """
    records = read_reference_fasta(in_fasta, f"RNA class '{rna_class}'")
    with atomic_open(out_fasta, "wt") as handle:
        for name, sequence in records:
            handle.write(f">{name}\n{sequence}\n")
    log.info("RNA class %s: %d sequences from %s", rna_class, len(records), in_fasta)
    return len(records)




def bowtie_aligned_names(
    records: Sequence[CollapsedSequence], index_prefix: str | Path, mismatches: int = 1, threads: int = 1
) -> set[str]:
    """Names of the ``records`` that align to the bowtie index (sense strand, <= mismatches)."""
    if not records:
        return set()
    with tempfile.TemporaryDirectory(prefix="exomir_qc_") as tmp:
        reads = Path(tmp) / "reads.fa"
        hits = Path(tmp) / "hits.txt"
        with open(reads, "w", encoding="utf-8") as handle:
            for record in records:
                handle.write(f">{record.name}\n{record.sequence}\n")
        command = [
            "bowtie",
            "-f",
            "--norc",
            "-v",
            str(mismatches),
            "-k",
            "1",
            "-p",
            str(threads),
            "--quiet",
            "-x",
            str(index_prefix),
            str(reads),
            str(hits),
        ]
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(f"bowtie failed ({' '.join(command)}):\n{result.stderr}")
        with open(hits, encoding="utf-8") as handle:
            return {line.split("\t", 1)[0] for line in handle if line.strip()}


"""exRNA quality control: read composition, spike-ins, hemolysis and sample flags.

The stage answers three questions per sample, from the files the earlier stages wrote:

1. **Where did every raw read go?** :func:`sample_composition` splits the raw reads into
   miRNA (mature / hairpin-only / ambiguous, from the quantify stats), spike-ins, the
   configured RNA classes (tRNA, rRNA, Y RNA, sn/snoRNA, piRNA, ... in priority order),
   unmapped, and the reads removed by preprocessing (adapter dimers, too short, too long,
   low quality, UMI duplicates). The classes add up exactly to ``raw_reads``; any
   inconsistency between the stage files is an error, never a silent remainder.
2. **Is the sample usable?** :func:`sample_flags` applies the exRNA standards used by
   exceRpt / the ERCC exRNA Atlas, miRNA depth and diversity, adapter-dimer and too-short
   fractions, and hemolysis indicators (:func:`hemolysis_table`), giving ``pass`` /
   ``warn`` / ``fail`` with the reasons.
3. **What do the reports show?** :func:`exomir.multiqc_content.write_qc_content` writes MultiQC custom
   content (general statistics columns, composition bar chart, flags and hemolysis tables).

RNA-class assignment uses bowtie 1 on the collapsed unmapped sequences: sense strand only
(``--norc``; small RNA-seq libraries are strand-specific and fragments of tRNA, rRNA, Y RNA,
snRNA and piRNA are read in the sense orientation), end-to-end with at most
``mismatches`` mismatches (``-v``), one alignment is enough (``-k 1``). Each sequence is
aligned to the classes one after the other in the configured order and keeps the first
class it aligns to, so the order *is* the priority.

Modules, by concern:

* :mod:`exomir.qc.inputs`: readers of the stats, collapsed sequences and mature counts;
* :mod:`exomir.qc.rna_classes`: composition row names, RNA-class libraries, the bowtie pass;
* :mod:`exomir.qc.spikeins`: spike-in matching and the per-sample spike-in table;
* :mod:`exomir.qc.composition`: per-sample composition and the cohort composition tables;
* :mod:`exomir.qc.hemolysis`: hemolysis indicators;
* :mod:`exomir.qc.flags`: thresholds and pass / warn / fail flags;
* :mod:`exomir.qc.summary`: the cohort summary (rule ``qc_summary``).

The MultiQC content of the stage is written by :mod:`exomir.multiqc_content` (all MultiQC
content lives there). The names below are re-exported so ``from exomir.qc import ...`` keeps
working for rule scripts and tests.
"""

from __future__ import annotations

from exomir.io import IUPAC_AMBIGUOUS, read_reference_fasta
from exomir.multiqc_content import QC_CONTENT_FILES as MULTIQC_FILES
from exomir.qc.composition import (
    COMPOSITION_COLUMNS,
    composition_wide,
    read_accounting,
    read_compositions,
    sample_composition,
    sample_metrics,
)
from exomir.qc.flags import Thresholds, sample_flags
from exomir.qc.hemolysis import hemolysis_table, qualified_mirna, robust_upper_outliers
from exomir.qc.inputs import (
    COLLAPSED_HEADER,
    PREPROCESS_COLUMNS,
    QUANTIFY_COLUMNS,
    CollapsedSequence,
    iter_collapsed_tsv,
    read_collapsed_fasta,
    read_mature_counts,
    read_preprocess_stats,
    read_quantify_stats,
)
from exomir.qc.rna_classes import (
    CLASS_NAME_PATTERN,
    FILTERED_CLASSES,
    MIRNA_CLASSES,
    RESERVED_CLASS_NAMES,
    SPIKEIN_CLASS,
    UNMAPPED_CLASS,
    bowtie_aligned_names,
    check_rna_class_names,
    prepare_rna_class_fasta,
)
from exomir.qc.spikeins import AMBIGUOUS_SPIKEIN, SPIKEIN_COLUMNS, SpikeinMatcher, load_spikeins
from exomir.qc.summary import summarize_qc

__all__ = [
    "AMBIGUOUS_SPIKEIN",
    "CLASS_NAME_PATTERN",
    "COLLAPSED_HEADER",
    "COMPOSITION_COLUMNS",
    "FILTERED_CLASSES",
    "IUPAC_AMBIGUOUS",
    "MIRNA_CLASSES",
    "MULTIQC_FILES",
    "PREPROCESS_COLUMNS",
    "QUANTIFY_COLUMNS",
    "RESERVED_CLASS_NAMES",
    "SPIKEIN_CLASS",
    "SPIKEIN_COLUMNS",
    "UNMAPPED_CLASS",
    "CollapsedSequence",
    "SpikeinMatcher",
    "Thresholds",
    "bowtie_aligned_names",
    "check_rna_class_names",
    "composition_wide",
    "hemolysis_table",
    "iter_collapsed_tsv",
    "load_spikeins",
    "prepare_rna_class_fasta",
    "qualified_mirna",
    "read_accounting",
    "read_collapsed_fasta",
    "read_compositions",
    "read_mature_counts",
    "read_preprocess_stats",
    "read_quantify_stats",
    "read_reference_fasta",
    "robust_upper_outliers",
    "sample_composition",
    "sample_flags",
    "sample_metrics",
    "summarize_qc",
]

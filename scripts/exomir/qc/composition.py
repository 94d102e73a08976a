"""Read composition of one sample (where every raw read went) and the cohort composition tables.

:func:`sample_composition` splits the raw reads into miRNA (mature / hairpin-only / ambiguous,
from the quantify stats), spike-ins, the configured RNA classes (in priority order), unmapped,
and the reads removed by preprocessing. The classes add up exactly to ``raw_reads``; any
inconsistency between the stage files is an error, never a silent remainder.

In genome mode (issue 22) the reads no spike-in or RNA class explained are split further into
``genome_unique`` (one genome locus), ``genome_multi`` (more than one best-stratum locus) and
``unmapped`` (not in the genome either); without a genome the rows are exactly as before.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from exomir.errors import ExomirInputError
from exomir.io import read_tsv, write_tsv
from exomir.qc.inputs import CollapsedSequence, read_collapsed_fasta, read_preprocess_stats, read_quantify_stats
from exomir.qc.rna_classes import (
    GENOME_CLASSES,
    SPIKEIN_CLASS,
    UNMAPPED_CLASS,
    bowtie_aligned_names,
    check_rna_class_names,
)
from exomir.quantify.release import ARTIFACT_CLASS
from exomir.rna_libraries import is_low_complexity
from exomir.qc.spikeins import SpikeinMatcher, load_spikeins, write_spikein_table

log = logging.getLogger("exomir.qc")

COMPOSITION_COLUMNS = ["sample", "class", "group", "reads", "fraction_of_raw", "fraction_of_passing"]


def read_accounting(pre: Mapping[str, int], where: str) -> dict[str, int]:
    """Reads removed by preprocessing, by reason, from the preprocess stats.

    The preprocess contract: ``raw_reads = other_filtered + no_umi + umi_duplicates +
    adapter_dimers + too_short + too_long + passing_reads`` where, for UMI kits,
    ``no_umi = raw_reads - other_filtered - umi_reads`` (reads whose UMI layout was not
    found), ``umi_duplicates = umi_reads - umi_deduplicated_reads`` (PCR duplicates) and the
    length classes count deduplicated molecules. Without UMIs both are 0, except for a UMI
    kit in which no read had a UMI (then every read after ``other_filtered`` is ``no_umi``).
    """
    length_classes = pre["adapter_dimers"] + pre["too_short"] + pre["too_long"] + pre["passing_reads"]
    if pre["umi_reads"] > 0:
        no_umi = pre["raw_reads"] - pre["other_filtered"] - pre["umi_reads"]
        duplicates = pre["umi_reads"] - pre["umi_deduplicated_reads"]
        consistent = no_umi >= 0 and duplicates >= 0 and pre["umi_deduplicated_reads"] == length_classes
    else:
        no_umi = pre["raw_reads"] - pre["other_filtered"] - length_classes
        duplicates = 0
        consistent = no_umi == 0 or (no_umi > 0 and length_classes == 0)
    if not consistent:
        raise ExomirInputError(
            f"the read accounting does not close: raw_reads {pre['raw_reads']}, other_filtered "
            f"{pre['other_filtered']}, umi_reads {pre['umi_reads']}, umi_deduplicated_reads "
            f"{pre['umi_deduplicated_reads']}, adapter_dimers + too_short + too_long + passing_reads "
            f"{length_classes}",
            where=where,
            fix="re-run the preprocess stage; raw_reads must equal the sum of its read classes.",
        )
    return {
        "adapter_dimer": pre["adapter_dimers"],
        "too_short": pre["too_short"],
        "too_long": pre["too_long"],
        "other_filtered": pre["other_filtered"],
        "no_umi": no_umi,
        "umi_duplicate": duplicates,
    }


def _mirna_reads(sample: str, pre: Mapping, quant: Mapping, preprocess_stats: str, quantify_stats: str) -> dict:
    """miRNA rows from the quantify stats, after checking that both stats files agree."""
    for label, stats, path in (("preprocess", pre, preprocess_stats), ("quantify", quant, quantify_stats)):
        if "sample" in stats and str(stats["sample"]) != sample:
            raise ExomirInputError(
                f"the {label} stats belong to sample {stats['sample']!r}, not {sample!r}",
                where=str(path),
                fix="re-run the stage for this sample.",
            )
    if quant["input_reads"] != pre["passing_reads"]:
        raise ExomirInputError(
            f"quantify input_reads ({quant['input_reads']}) differs from preprocess passing_reads "
            f"({pre['passing_reads']})",
            where=str(quantify_stats),
            fix="re-run quantify after preprocess so both describe the same reads.",
        )
    mirna = {
        "mirna_mature": quant["mature_reads"],
        "mirna_hairpin_only": quant["hairpin_only_reads"],
        "mirna_ambiguous": quant["ambiguous_reads"],
    }
    if sum(mirna.values()) + quant["unmapped_reads"] != quant["input_reads"]:
        raise ExomirInputError(
            "mature_reads + hairpin_only_reads + ambiguous_reads + unmapped_reads != input_reads",
            where=str(quantify_stats),
            fix="re-run the quantify stage.",
        )
    return mirna


def _read_unmapped(unmapped_fasta: str | Path, unmapped_reads: int) -> list[CollapsedSequence]:
    """The sequences quantify did not align to a hairpin; their counts must match the stats."""
    unmapped = read_collapsed_fasta(unmapped_fasta)
    unmapped_total = sum(record.count for record in unmapped)
    if unmapped_total != unmapped_reads:
        raise ExomirInputError(
            f"the counts in the FASTA add up to {unmapped_total}, the quantify stats say "
            f"unmapped_reads = {unmapped_reads}",
            where=str(unmapped_fasta),
            fix="re-run the quantify stage.",
        )
    return unmapped


def _assign_rna_classes(
    sample: str,
    remaining: list[CollapsedSequence],
    rna_class_indexes: Sequence[tuple[str, str]],
    mismatches: int,
    threads: int,
) -> tuple[dict[str, int], list[CollapsedSequence]]:
    """Reads per RNA class, classes tried in priority order; return them and the sequences left.

    The ``artifact`` class also takes every low-complexity sequence (poly-A, poly-N, repeats).
    """
    class_reads: dict[str, int] = {}
    for name, index_prefix in rna_class_indexes:
        hits = bowtie_aligned_names(remaining, index_prefix, mismatches, threads)
        if name == ARTIFACT_CLASS:
            hits |= {r.name for r in remaining if is_low_complexity(r.sequence)}
        class_reads[name] = sum(r.count for r in remaining if r.name in hits)
        remaining = [r for r in remaining if r.name not in hits]
        log.info("%s: %d reads assigned to %s", sample, class_reads[name], name)
    return class_reads, remaining


def _split_genome(
    remaining: list[CollapsedSequence], unmapped: list[CollapsedSequence], genome_loci: str | Path
) -> tuple[dict[str, int], list[CollapsedSequence]]:
    """Genome-unique / genome-multi reads among ``remaining``, and the sequences still unexplained.

    ``genome_loci`` is the per-sequence table of rule genome_map_sample (``sequence``, ``count``,
    ``n_loci``), made from the same ``unmapped.fa.gz``: a sequence or count it does not share
    with that FASTA means the files come from different runs.
    """
    loci = read_tsv(genome_loci, dtype={"sequence": str})
    known = {r.sequence: r.count for r in unmapped}
    stray = [seq for seq, n in zip(loci["sequence"], loci["count"]) if known.get(seq) != n]
    if stray:
        raise ExomirInputError(
            f"{len(stray)} genome-mapped sequence(s) (e.g. {stray[0]}) are not in the unmapped FASTA "
            "with the same count",
            where=str(genome_loci),
            fix="re-run genome_map_sample after quantify so both describe the same reads.",
        )
    n_loci = dict(zip(loci["sequence"], loci["n_loci"]))
    unique, multi = GENOME_CLASSES
    reads = {unique: 0, multi: 0}
    left = []
    for record in remaining:
        hits = n_loci.get(record.sequence, 0)
        if hits == 0:
            left.append(record)
        else:
            reads[unique if hits == 1 else multi] += record.count
    return reads, left


def _composition_table(sample: str, rows: list[tuple[str, str, int]], pre: Mapping) -> pd.DataFrame:
    """Composition rows (class, group, reads) with fractions of raw and of passing reads."""
    composition = pd.DataFrame(rows, columns=["class", "group", "reads"])
    composition.insert(0, "sample", sample)
    total = int(composition["reads"].sum())
    if total != pre["raw_reads"]:  # guaranteed by the checks of the caller; kept as the contract
        raise AssertionError(f"{sample}: composition sums to {total}, raw_reads = {pre['raw_reads']}")
    composition["fraction_of_raw"] = composition["reads"] / pre["raw_reads"] if pre["raw_reads"] else np.nan
    passing = pre["passing_reads"]
    composition["fraction_of_passing"] = np.where(
        composition["group"] == "filtered", np.nan, composition["reads"] / passing if passing else np.nan
    )
    return composition[COMPOSITION_COLUMNS]


def sample_composition(
    sample: str,
    preprocess_stats: str | Path,
    quantify_stats: str | Path,
    unmapped_fasta: str | Path,
    collapsed_tsv: str | Path,
    rna_class_indexes: Sequence[tuple[str, str]],
    out_composition: str | Path,
    out_spikeins: str | Path,
    spikein_fasta: str | Path | None = None,
    class_mismatches: int = 1,
    spikein_mismatches: int = 1,
    spikein_min_length: int = 16,
    threads: int = 1,
    genome_loci: str | Path | None = None,
) -> pd.DataFrame:
    """Write the read composition of one sample and its spike-in counts; return the composition.

    ``rna_class_indexes`` is the ordered list of (class name, bowtie index prefix); the order
    is the assignment priority. Spike-ins are matched first (they are synthetic, so any read
    equal to one is counted as spike-in), then the classes, the rest is ``unmapped``.

    The spike-in table counts spike-ins in *all* reads passing preprocessing (the collapsed
    file) and reports how many of them quantify counted as miRNA (``reads_counted_as_mirna``:
    non-zero means the spike-in resembles an endogenous hairpin and inflates miRNA counts).
    ``genome_loci`` (genome mode) splits what no class explained into genome rows.
    """
    check_rna_class_names([name for name, _ in rna_class_indexes])
    pre = read_preprocess_stats(preprocess_stats)
    quant = read_quantify_stats(quantify_stats)
    mirna = _mirna_reads(sample, pre, quant, str(preprocess_stats), str(quantify_stats))
    removed = read_accounting(pre, str(preprocess_stats))
    unmapped = _read_unmapped(unmapped_fasta, quant["unmapped_reads"])

    matcher = SpikeinMatcher(load_spikeins(spikein_fasta), spikein_mismatches, spikein_min_length)
    spike_unmapped = matcher.count((r.sequence, r.count) for r in unmapped)
    remaining = [r for r in unmapped if matcher.match(r.sequence) is None]
    spikein_reads = quant["unmapped_reads"] - sum(r.count for r in remaining)
    class_reads, remaining = _assign_rna_classes(
        sample, remaining, rna_class_indexes, class_mismatches, threads
    )

    rows: list[tuple[str, str, int]] = [(name, "mirna", reads) for name, reads in mirna.items()]
    rows.append((SPIKEIN_CLASS, "spikein", spikein_reads))
    rows += [(name, "other_rna", reads) for name, reads in class_reads.items()]
    if genome_loci is not None:
        genome_reads, remaining = _split_genome(remaining, unmapped, genome_loci)
        rows += [(name, "genome", reads) for name, reads in genome_reads.items()]
    rows.append((UNMAPPED_CLASS, "unmapped", sum(r.count for r in remaining)))
    rows += [(name, "filtered", reads) for name, reads in removed.items()]
    composition = _composition_table(sample, rows, pre)
    write_tsv(composition, out_composition)
    write_spikein_table(sample, matcher, spike_unmapped, collapsed_tsv, pre["passing_reads"], out_spikeins)
    return composition


# --------------------------------------------------------------------------- cohort tables


def read_compositions(paths: Sequence[str | Path], samples: Sequence[str]) -> pd.DataFrame:
    """Concatenate per-sample compositions (long format), checking sample names and sums."""
    tables = []
    for sample, path in zip(samples, paths, strict=True):
        table = read_tsv(path, dtype={"sample": str})
        if list(table.columns) != COMPOSITION_COLUMNS or set(table["sample"]) != {sample}:
            raise ExomirInputError(
                f"not a composition table of sample {sample!r}",
                where=str(path),
                fix="re-run the rule qc_composition for this sample.",
            )
        tables.append(table)
    return pd.concat(tables, ignore_index=True)


def composition_wide(composition: pd.DataFrame, samples: Sequence[str]) -> pd.DataFrame:
    """Sample x class table: ``raw_reads``, ``<class>`` read counts, then ``<class>_fraction``."""
    classes = list(dict.fromkeys(composition["class"]))
    reads = composition.pivot(index="sample", columns="class", values="reads").reindex(index=samples)
    reads = reads[classes].astype("int64")
    raw = reads.sum(axis=1)
    fractions = reads.div(raw.where(raw > 0), axis=0).add_suffix("_fraction")
    wide = pd.concat([raw.rename("raw_reads"), reads, fractions], axis=1)
    wide.index.name = "sample"
    return wide.reset_index()


def sample_metrics(composition: pd.DataFrame, samples: Sequence[str]) -> pd.DataFrame:
    """Per-sample read metrics used by the flags (indexed by sample)."""
    reads = composition.pivot(index="sample", columns="class", values="reads").reindex(index=samples)
    groups = composition.groupby(["sample", "group"])["reads"].sum().unstack(fill_value=0).reindex(index=samples)
    for group in ("mirna", "other_rna", "spikein", "unmapped", "filtered"):
        if group not in groups:
            groups[group] = 0
    raw = reads.sum(axis=1)
    passing = raw - groups["filtered"]
    annotated = groups["mirna"] + groups["other_rna"]
    endogenous = passing - groups["spikein"]
    metrics = pd.DataFrame(
        {
            "raw_reads": raw,
            "passing_reads": passing,
            "annotated_reads": annotated,
            "annotated_fraction": annotated / endogenous.where(endogenous > 0),
            "mirna_reads": groups["mirna"],
            "mature_mirna_reads": reads["mirna_mature"],
            "mirna_fraction": groups["mirna"] / passing.where(passing > 0),
            "adapter_dimer_fraction": reads["adapter_dimer"] / raw.where(raw > 0),
            "too_short_fraction": reads["too_short"] / raw.where(raw > 0),
        },
        index=pd.Index(samples, name="sample"),
    )
    if "genome" in groups:  # genome mode only: without a genome the metrics are exactly as before
        metrics = metrics.join(_genome_metrics(annotated, groups["genome"], reads["genome_multi"], endogenous))
    return metrics


def _genome_metrics(annotated: pd.Series, genome: pd.Series, multi: pd.Series, endogenous: pd.Series) -> pd.DataFrame:
    """Genome-mode metrics, with exceRpt's transcriptome/genome ratio.

    exceRpt divides the reads assigned to annotated transcripts by the reads mapped to the
    genome. Here annotated reads (miRNA + RNA classes) count as genome-mapped (their loci are
    genomic; non-templated 3' additions would otherwise lose them) and the genome-mapped reads
    are those plus the reads no class explained that map to the genome (``genome_*`` rows).
    """
    mapped = annotated + genome
    return pd.DataFrame(
        {
            "genome_reads": genome,
            "genome_multi_reads": multi,
            "genome_mapped_fraction": mapped / endogenous.where(endogenous > 0),
            "transcriptome_genome_ratio": annotated / mapped.where(mapped > 0),
        }
    )

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
3. **What do the reports show?** :func:`write_multiqc_content` writes MultiQC custom
   content (general statistics columns, composition bar chart, flags and hemolysis tables).

RNA-class assignment uses bowtie 1 on the collapsed unmapped sequences: sense strand only
(``--norc``; small RNA-seq libraries are strand-specific and fragments of tRNA, rRNA, Y RNA,
snRNA and piRNA are read in the sense orientation), end-to-end with at most
``mismatches`` mismatches (``-v``), one alignment is enough (``-k 1``). Each sequence is
aligned to the classes one after the other in the configured order and keeps the first
class it aligns to, so the order *is* the priority.
"""

from __future__ import annotations

import json
import logging
import math
import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator, Mapping, Sequence

import numpy as np
import pandas as pd

from exomir.errors import ExomirInputError
from exomir.io import atomic_open, open_text, read_tsv, write_tsv

log = logging.getLogger("exomir.qc")

#: miRNA rows of the composition, from the quantify stats (reads aligned to hairpins).
MIRNA_CLASSES = ("mirna_mature", "mirna_hairpin_only", "mirna_ambiguous")
#: Rows for reads removed by preprocessing, from the preprocess stats.
FILTERED_CLASSES = ("adapter_dimer", "too_short", "too_long", "other_filtered", "no_umi", "umi_duplicate")
SPIKEIN_CLASS = "spikein"
UNMAPPED_CLASS = "unmapped"
#: Names an RNA-class library may not take (they are rows of the composition already).
RESERVED_CLASS_NAMES = frozenset(MIRNA_CLASSES + FILTERED_CLASSES + (SPIKEIN_CLASS, UNMAPPED_CLASS))
#: Spike-in reads matching several spike-in sequences equally well.
AMBIGUOUS_SPIKEIN = "ambiguous"

CLASS_NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
COLLAPSED_HEADER = re.compile(r"^u(\d+)_x(\d+)$")
IUPAC_AMBIGUOUS = set("RYKMSWBDHVN")

PREPROCESS_COLUMNS = (
    "raw_reads",
    "adapter_dimers",
    "too_short",
    "too_long",
    "other_filtered",
    "umi_reads",
    "umi_deduplicated_reads",
    "passing_reads",
)
QUANTIFY_COLUMNS = (
    "input_reads",
    "mature_reads",
    "hairpin_only_reads",
    "ambiguous_reads",
    "unmapped_reads",
)
COMPOSITION_COLUMNS = ["sample", "class", "group", "reads", "fraction_of_raw", "fraction_of_passing"]
SPIKEIN_COLUMNS = ["sample", "spikein", "reads", "reads_counted_as_mirna", "per_million_passing"]


# --------------------------------------------------------------------------- inputs


def _read_one_row_stats(path: str | Path, required: Sequence[str], stage: str) -> dict:
    """Read a one-row stats table and check that the integer columns ``required`` exist."""
    try:
        table = read_tsv(path, dtype={"sample": str})
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        raise ExomirInputError(
            f"cannot read the {stage} stats table ({err})",
            where=str(path),
            fix=f"re-run the {stage} stage for this sample.",
        ) from None
    missing = [col for col in required if col not in table.columns]
    if len(table) != 1 or missing:
        raise ExomirInputError(
            f"expected one row with columns {', '.join(required)}; found {len(table)} rows"
            + (f", missing {', '.join(missing)}" if missing else ""),
            where=str(path),
            fix=f"re-run the {stage} stage; the file format is described in docs/architecture.md.",
        )
    row = table.iloc[0].to_dict()
    for col in required:
        value = row[col]
        if pd.isna(value) or float(value) != int(value) or int(value) < 0:
            raise ExomirInputError(
                f"column {col} must be a non-negative integer, found {value!r}",
                where=str(path),
                fix=f"re-run the {stage} stage.",
            )
        row[col] = int(value)
    return row


def read_preprocess_stats(path: str | Path) -> dict:
    """Read ``preprocess/{sample}.stats.tsv`` (one row) as a dict with integer counts."""
    return _read_one_row_stats(path, PREPROCESS_COLUMNS, "preprocess")


def read_quantify_stats(path: str | Path) -> dict:
    """Read ``quantify/{sample}.stats.tsv`` (one row) as a dict with integer counts."""
    return _read_one_row_stats(path, QUANTIFY_COLUMNS, "quantify")


@dataclass(frozen=True)
class CollapsedSequence:
    """One unique sequence of a collapsed FASTA (``>u{rank}_x{count}``)."""

    name: str
    sequence: str
    count: int


def read_collapsed_fasta(path: str | Path) -> list[CollapsedSequence]:
    """Read a collapsed FASTA written by quantify (``>u{rank}_x{count}`` then the sequence)."""
    records: list[CollapsedSequence] = []
    for name, sequence in _iter_fasta(path):
        match = COLLAPSED_HEADER.match(name)
        if match is None:
            raise ExomirInputError(
                f"header {name!r} is not of the form u<rank>_x<count>",
                where=str(path),
                fix="re-run the quantify stage; the format is described in docs/architecture.md.",
            )
        records.append(CollapsedSequence(name, sequence.upper(), int(match.group(2))))
    return records


def iter_collapsed_tsv(path: str | Path) -> Iterator[tuple[str, int]]:
    """Yield (sequence, count) from ``preprocess/{sample}.collapsed.tsv.gz``."""
    with open_text(path) as handle:
        header = handle.readline().rstrip("\r\n").split("\t")
        if header[:2] != ["sequence", "count"]:
            raise ExomirInputError(
                f"expected the columns 'sequence' and 'count', found {header}",
                where=str(path),
                fix="re-run the preprocess stage.",
            )
        for line_no, line in enumerate(handle, start=2):
            fields = line.rstrip("\r\n").split("\t")
            if len(fields) < 2 or not fields[1].isdigit():
                raise ExomirInputError(
                    f"line {line_no} is not '<sequence><TAB><count>'",
                    where=str(path),
                    fix="re-run the preprocess stage.",
                )
            yield fields[0].upper(), int(fields[1])


def _iter_fasta(path: str | Path) -> Iterator[tuple[str, str]]:
    """Yield (first word of the header, sequence) from a plain or gzipped FASTA file."""
    name: str | None = None
    chunks: list[str] = []
    with open_text(path) as handle:
        for line_no, raw in enumerate(handle, start=1):
            line = raw.strip()
            if not line:
                continue
            if line.startswith(">"):
                if name is not None:
                    yield name, "".join(chunks)
                words = line[1:].split()
                if not words:
                    raise ExomirInputError(
                        f"empty FASTA header on line {line_no}",
                        where=str(path),
                        fix="give every sequence a name.",
                    )
                name, chunks = words[0], []
            elif name is None:
                raise ExomirInputError(
                    "the file does not start with a '>' header line",
                    where=str(path),
                    fix="provide a FASTA file.",
                )
            else:
                chunks.append(line)
    if name is not None:
        yield name, "".join(chunks)


def read_reference_fasta(path: str | Path, what: str) -> list[tuple[str, str]]:
    """Read a reference FASTA as (name, DNA sequence): RNA U->T, upper case, IUPAC codes -> N.

    Raises :class:`ExomirInputError` on an empty file, an empty sequence or characters that
    are not nucleotides, naming the file, the record and the fix.
    """
    records = []
    for name, sequence in _iter_fasta(path):
        dna = sequence.upper().replace("U", "T")
        bad = set(dna) - set("ACGT") - IUPAC_AMBIGUOUS
        if not dna or bad:
            raise ExomirInputError(
                f"{what} record {name!r} "
                + ("is empty" if not dna else f"contains non-nucleotide characters {''.join(sorted(bad))}"),
                where=str(path),
                fix="provide nucleotide sequences (DNA or RNA alphabet, IUPAC codes allowed).",
            )
        records.append((name, "".join("N" if base in IUPAC_AMBIGUOUS else base for base in dna)))
    if not records:
        raise ExomirInputError(
            f"the {what} FASTA file contains no sequences",
            where=str(path),
            fix="provide a non-empty FASTA file or remove it from the configuration.",
        )
    return records


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


# --------------------------------------------------------------------------- spike-ins


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


# --------------------------------------------------------------------------- composition


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
) -> pd.DataFrame:
    """Write the read composition of one sample and its spike-in counts; return the composition.

    ``rna_class_indexes`` is the ordered list of (class name, bowtie index prefix); the order
    is the assignment priority. Spike-ins are matched first (they are synthetic, so any read
    equal to one is counted as spike-in), then the classes, the rest is ``unmapped``.

    The spike-in table counts spike-ins in *all* reads passing preprocessing (the collapsed
    file) and reports how many of them quantify counted as miRNA (``reads_counted_as_mirna``:
    non-zero means the spike-in resembles an endogenous hairpin and inflates miRNA counts).
    """
    check_rna_class_names([name for name, _ in rna_class_indexes])
    pre = read_preprocess_stats(preprocess_stats)
    quant = read_quantify_stats(quantify_stats)
    for label, stats, path in (("preprocess", pre, preprocess_stats), ("quantify", quant, quantify_stats)):
        if "sample" in stats and str(stats["sample"]) != sample:
            raise ExomirInputError(
                f"the {label} stats belong to sample {stats['sample']!r}, not {sample!r}",
                where=str(path),
                fix="re-run the stage for this sample.",
            )

    removed = read_accounting(pre, str(preprocess_stats))

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

    unmapped = read_collapsed_fasta(unmapped_fasta)
    unmapped_total = sum(record.count for record in unmapped)
    if unmapped_total != quant["unmapped_reads"]:
        raise ExomirInputError(
            f"the counts in the FASTA add up to {unmapped_total}, the quantify stats say "
            f"unmapped_reads = {quant['unmapped_reads']}",
            where=str(unmapped_fasta),
            fix="re-run the quantify stage.",
        )

    matcher = SpikeinMatcher(load_spikeins(spikein_fasta), spikein_mismatches, spikein_min_length)
    spike_unmapped = matcher.count((r.sequence, r.count) for r in unmapped)
    remaining = [r for r in unmapped if matcher.match(r.sequence) is None]
    spikein_reads = unmapped_total - sum(r.count for r in remaining)

    class_reads: dict[str, int] = {}
    for name, index_prefix in rna_class_indexes:
        hits = bowtie_aligned_names(remaining, index_prefix, class_mismatches, threads)
        class_reads[name] = sum(r.count for r in remaining if r.name in hits)
        remaining = [r for r in remaining if r.name not in hits]
        log.info("%s: %d reads assigned to %s", sample, class_reads[name], name)

    rows: list[tuple[str, str, int]] = [(name, "mirna", reads) for name, reads in mirna.items()]
    rows.append((SPIKEIN_CLASS, "spikein", spikein_reads))
    rows += [(name, "other_rna", reads) for name, reads in class_reads.items()]
    rows.append((UNMAPPED_CLASS, "unmapped", sum(r.count for r in remaining)))
    rows += [(name, "filtered", reads) for name, reads in removed.items()]

    composition = pd.DataFrame(rows, columns=["class", "group", "reads"])
    composition.insert(0, "sample", sample)
    total = int(composition["reads"].sum())
    if total != pre["raw_reads"]:  # guaranteed by the checks above; kept as the contract
        raise AssertionError(f"{sample}: composition sums to {total}, raw_reads = {pre['raw_reads']}")
    composition["fraction_of_raw"] = composition["reads"] / pre["raw_reads"] if pre["raw_reads"] else np.nan
    passing = pre["passing_reads"]
    composition["fraction_of_passing"] = np.where(
        composition["group"] == "filtered", np.nan, composition["reads"] / passing if passing else np.nan
    )
    write_tsv(composition[COMPOSITION_COLUMNS], out_composition)

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
    return metrics


def read_mature_counts(path: str | Path, samples: Sequence[str]) -> pd.DataFrame:
    """Read ``quantify/mature_counts.tsv`` (mirna x sample integers) for ``samples``."""
    counts = read_tsv(path, index_col=0)
    missing = [s for s in samples if s not in counts.columns]
    if counts.index.name != "mirna" or missing:
        raise ExomirInputError(
            "expected first column 'mirna' and one column per sample"
            + (f"; missing samples {', '.join(missing)}" if missing else ""),
            where=str(path),
            fix="re-run the quantify stage for all samples of the sample sheet.",
        )
    return counts[list(samples)]


def qualified_mirna(name: str, species: str) -> str:
    """Prefix a species-free miRNA name (``miR-451a``) with the species code (``hsa-miR-451a``)."""
    return name if re.match(r"^[a-z]{3,4}-", name) else f"{species}-{name}"


def robust_upper_outliers(
    values: pd.Series, n_mads: float, min_deviation: float, min_samples: int
) -> tuple[pd.Series, float, float, float]:
    """Flag values above ``median + max(n_mads * MAD, min_deviation)``.

    MAD is the median absolute deviation scaled by 1.4826 (consistent with the standard
    deviation for normal data). ``min_deviation`` keeps a very homogeneous cohort (MAD ~ 0)
    from flagging trivial differences. With fewer than ``min_samples`` finite values no
    outlier call is made (all NA). Returns (flags, median, scaled MAD, threshold).
    """
    finite = values[np.isfinite(values)]
    if len(finite) < min_samples:
        return pd.Series(pd.NA, index=values.index, dtype="boolean"), np.nan, np.nan, np.nan
    median = float(finite.median())
    mad = float(1.4826 * (finite - median).abs().median())
    threshold = median + max(n_mads * mad, min_deviation)
    flags = (values > threshold).astype("boolean")
    flags[~np.isfinite(values)] = pd.NA
    return flags, median, mad, threshold


def hemolysis_table(
    mature_counts: pd.DataFrame,
    species: str,
    marker: str = "miR-451a",
    reference: str = "miR-23a-3p",
    rbc_mirnas: Sequence[str] = ("miR-451a", "miR-486-5p", "miR-16-5p", "miR-92a-3p"),
    pseudocount: float = 1.0,
    ratio_threshold: float | None = 128.0,
    rbc_share_max: float | None = None,
    outlier_mads: float = 3.0,
    outlier_min_log2_deviation: float = 1.0,
    min_cohort_size: int = 5,
    min_ratio_reads: int = 10,
) -> pd.DataFrame:
    """Hemolysis indicators per sample from mature miRNA counts.

    * ``ratio`` = (marker + pseudocount) / (reference + pseudocount), by default
      miR-451a / miR-23a-3p (Blondal et al. 2013: a qPCR delta Cq(miR-23a - miR-451a) > 7,
      i.e. a ratio above ~2^7 = 128, indicates a risk of hemolysis). Sequencing has its own
      ligation biases, so the absolute threshold is a guide; the cohort outlier rule on
      log2(ratio) (``ratio_outlier``) is the robust call.
    * ``rbc_share`` = reads of the red-blood-cell miRNAs (miR-451a, miR-486-5p, miR-16-5p,
      miR-92a-3p; Kirschner et al. 2011, Pritchard et al. 2012) / all mature miRNA reads;
      outliers are called on its log2 odds (``rbc_share_outlier``).

    The ratio needs at least ``min_ratio_reads`` reads of marker and reference together: below
    that it is not assessable (NA, no flag) and stays out of the cohort outlier statistics, so
    libraries with almost no miR-451a/miR-23a (a pseudocount ratio of 1) do not shift the cohort.

    RBC miRNAs absent from the species' miRBase are skipped with a log message; a missing
    marker or reference is an error (they define the ratio).
    """
    present = set(mature_counts.index)
    marker_name, reference_name = qualified_mirna(marker, species), qualified_mirna(reference, species)
    for role, name in (("marker", marker_name), ("reference", reference_name)):
        if name not in present:
            raise ExomirInputError(
                f"hemolysis {role} miRNA {name} is not in the mature miRNA counts",
                where="config qc.hemolysis",
                fix=f"set qc.hemolysis.{role} to a mature miRNA name of species {species}.",
            )
    rbc_names = [qualified_mirna(name, species) for name in rbc_mirnas]
    skipped = [name for name in rbc_names if name not in present]
    if skipped:
        log.warning("RBC miRNAs not in the mature counts, skipped: %s", ", ".join(skipped))
    rbc_names = [name for name in dict.fromkeys(rbc_names) if name in present]

    total = mature_counts.sum(axis=0)
    marker_reads = mature_counts.loc[marker_name]
    reference_reads = mature_counts.loc[reference_name]
    ratio = ((marker_reads + pseudocount) / (reference_reads + pseudocount)).where(
        marker_reads + reference_reads >= min_ratio_reads
    )
    log2_ratio = np.log2(ratio)
    rbc_reads = mature_counts.loc[rbc_names].sum(axis=0) if rbc_names else total * 0
    share = rbc_reads / total.where(total > 0)
    # log2 odds with a half-read correction, so shares of 0 or 1 stay finite
    share_log2_odds = np.log2((rbc_reads + 0.5) / (total - rbc_reads + 0.5)).where(total > 0)

    ratio_outlier, ratio_median, ratio_mad, ratio_limit = robust_upper_outliers(
        log2_ratio, outlier_mads, outlier_min_log2_deviation, min_cohort_size
    )
    share_outlier, share_median, share_mad, share_limit = robust_upper_outliers(
        share_log2_odds, outlier_mads, outlier_min_log2_deviation, min_cohort_size
    )
    table = pd.DataFrame(
        {
            "marker": marker_name,
            "reference": reference_name,
            "marker_reads": marker_reads.astype("int64"),
            "reference_reads": reference_reads.astype("int64"),
            "ratio": ratio,
            "log2_ratio": log2_ratio,
            "ratio_above_threshold": (
                (ratio > ratio_threshold).astype("boolean")
                if ratio_threshold is not None
                else pd.Series(pd.NA, index=ratio.index, dtype="boolean")
            ),
            "cohort_median_log2_ratio": ratio_median,
            "cohort_mad_log2_ratio": ratio_mad,
            "outlier_limit_log2_ratio": ratio_limit,
            "ratio_outlier": ratio_outlier,
            "rbc_mirnas": ";".join(rbc_names),
            "rbc_reads": rbc_reads.astype("int64"),
            "mature_mirna_reads": total.astype("int64"),
            "rbc_share": share,
            "rbc_share_log2_odds": share_log2_odds,
            "cohort_median_rbc_log2_odds": share_median,
            "outlier_limit_rbc_log2_odds": share_limit,
            "rbc_share_above_max": (
                (share > rbc_share_max).astype("boolean")
                if rbc_share_max is not None
                else pd.Series(pd.NA, index=ratio.index, dtype="boolean")
            ),
            "rbc_share_outlier": share_outlier,
        }
    )
    table.index.name = "sample"
    return table


@dataclass(frozen=True)
class Thresholds:
    """Sample-flag thresholds; ``None`` disables a rule. See config/README.md."""

    annotated_reads_fail: float | None = 100_000
    annotated_fraction_fail: float | None = 0.5
    mature_mirna_reads_fail: float | None = 100_000
    mature_mirna_reads_warn: float | None = 500_000
    mirnas_detected_fail: float | None = 50
    mirnas_detected_warn: float | None = 150
    adapter_dimer_fraction_fail: float | None = 0.7
    adapter_dimer_fraction_warn: float | None = 0.3
    too_short_fraction_fail: float | None = 0.6
    too_short_fraction_warn: float | None = 0.3
    hemolysis_severity: str = "warn"

    @classmethod
    def from_config(cls, values: Mapping[str, object]) -> "Thresholds":
        """Build from the ``qc.thresholds`` mapping (unknown keys are an error)."""
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(values) - known)
        if unknown:
            raise ExomirInputError(
                f"unknown threshold(s) {', '.join(unknown)}",
                where="config qc.thresholds",
                fix=f"use only: {', '.join(sorted(known))}.",
            )
        thresholds = cls(**values)  # type: ignore[arg-type]
        if thresholds.hemolysis_severity not in ("warn", "fail"):
            raise ExomirInputError(
                f"severity must be 'warn' or 'fail', got {thresholds.hemolysis_severity!r}",
                where="config qc.hemolysis",
                fix="set qc.hemolysis.severity to warn or fail.",
            )
        return thresholds


def _is_true(value: object) -> bool:
    """True for a boolean-like True; False for False and NA."""
    return not pd.isna(value) and bool(value)


def _fmt(value: float | None) -> str:
    if value is None or pd.isna(value):
        return "NA"
    if isinstance(value, (int, np.integer)) or float(value).is_integer():
        return str(int(value))
    return f"{value:.3g}"


def sample_flags(
    metrics: pd.DataFrame,
    hemolysis: pd.DataFrame,
    mirnas_detected: pd.Series,
    thresholds: Thresholds,
    exclude_failed_from_de: bool = True,
    hemolysis_ratio_threshold: float | None = None,
    rbc_share_max: float | None = None,
) -> pd.DataFrame:
    """pass / warn / fail per sample with ``;``-joined reasons and the metrics behind them.

    A reason reads ``<rule> (<severity>: <value> <op> <threshold>)``. ``status`` is the worst
    severity. ``use_in_de`` is False for failing samples when ``exclude_failed_from_de``.
    """
    t = thresholds
    # (rule name, metric column, operator meaning "bad", fail threshold, warn threshold)
    numeric_rules = [
        ("low_annotated_reads", "annotated_reads", "<", t.annotated_reads_fail, None),
        ("low_annotated_fraction", "annotated_fraction", "<=", t.annotated_fraction_fail, None),
        ("low_mature_mirna_reads", "mature_mirna_reads", "<", t.mature_mirna_reads_fail, t.mature_mirna_reads_warn),
        ("few_mirnas_detected", "mirnas_detected", "<", t.mirnas_detected_fail, t.mirnas_detected_warn),
        (
            "high_adapter_dimers",
            "adapter_dimer_fraction",
            ">",
            t.adapter_dimer_fraction_fail,
            t.adapter_dimer_fraction_warn,
        ),
        ("high_too_short", "too_short_fraction", ">", t.too_short_fraction_fail, t.too_short_fraction_warn),
    ]
    table = metrics.copy()
    table["mirnas_detected"] = mirnas_detected.reindex(table.index).astype("int64")
    table["hemolysis_ratio"] = hemolysis["ratio"].reindex(table.index)
    table["hemolysis_ratio_outlier"] = hemolysis["ratio_outlier"].reindex(table.index)
    table["rbc_share"] = hemolysis["rbc_share"].reindex(table.index)
    table["rbc_share_outlier"] = hemolysis["rbc_share_outlier"].reindex(table.index)

    def bad(value: float, op: str, limit: float) -> bool:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return op in ("<", "<=")  # no data at all counts as too little
        return {"<": value < limit, "<=": value <= limit, ">": value > limit}[op]

    statuses, reasons_all = [], []
    for sample, row in table.iterrows():
        reasons: list[tuple[str, str]] = []
        for rule, column, op, fail, warn in numeric_rules:
            value = row[column]
            for severity, limit in (("fail", fail), ("warn", warn)):
                if limit is not None and bad(value, op, limit):
                    shown = "NA" if pd.isna(value) else _fmt(value)
                    reasons.append((severity, f"{rule} ({severity}: {shown} {op} {_fmt(limit)})"))
                    break
        hemo = hemolysis.loc[sample]
        severity = t.hemolysis_severity
        if _is_true(hemo["ratio_above_threshold"]):
            reasons.append(
                (
                    severity,
                    f"hemolysis_ratio ({severity}: {hemo['marker']}/{hemo['reference']} "
                    f"{_fmt(hemo['ratio'])} > {_fmt(hemolysis_ratio_threshold)})",
                )
            )
        if _is_true(hemo["ratio_outlier"]):
            reasons.append(
                (
                    severity,
                    f"hemolysis_outlier ({severity}: log2 ratio {_fmt(hemo['log2_ratio'])} > cohort limit "
                    f"{_fmt(hemo['outlier_limit_log2_ratio'])})",
                )
            )
        if _is_true(hemo["rbc_share_above_max"]):
            reasons.append(
                (severity, f"rbc_share ({severity}: {_fmt(hemo['rbc_share'])} > {_fmt(rbc_share_max)})")
            )
        if _is_true(hemo["rbc_share_outlier"]):
            reasons.append(
                (
                    severity,
                    f"rbc_share_outlier ({severity}: log2 odds {_fmt(hemo['rbc_share_log2_odds'])} > cohort "
                    f"limit {_fmt(hemo['outlier_limit_rbc_log2_odds'])})",
                )
            )
        severities = {s for s, _ in reasons}
        statuses.append("fail" if "fail" in severities else "warn" if "warn" in severities else "pass")
        reasons_all.append(";".join(text for _, text in reasons))

    table.insert(0, "status", statuses)
    table.insert(1, "reasons", reasons_all)
    table.insert(2, "use_in_de", [not (exclude_failed_from_de and s == "fail") for s in statuses])
    table.index.name = "sample"
    return table.reset_index()


def summarize_qc(
    samples: Sequence[str],
    composition_paths: Sequence[str | Path],
    spikein_paths: Sequence[str | Path],
    mature_counts_path: str | Path,
    species: str,
    out_composition: str | Path,
    out_hemolysis: str | Path,
    out_spikeins: str | Path,
    out_flags: str | Path,
    multiqc_dir: str | Path,
    thresholds: Mapping[str, object],
    hemolysis: Mapping[str, object],
    mirna_min_reads: int = 10,
    exclude_failed_from_de: bool = True,
) -> pd.DataFrame:
    """Cohort QC: composition matrix, hemolysis, spike-ins, flags and MultiQC content.

    ``hemolysis`` holds the keyword arguments of :func:`hemolysis_table` (the
    ``qc.hemolysis`` config section). Returns the flags table.
    """
    samples = list(samples)
    hemolysis = dict(hemolysis)
    limits = Thresholds.from_config({**thresholds, "hemolysis_severity": hemolysis.pop("severity", "warn")})
    composition = read_compositions(composition_paths, samples)
    wide = composition_wide(composition, samples)
    write_tsv(wide, out_composition)

    counts = read_mature_counts(mature_counts_path, samples)
    hemo = hemolysis_table(counts, species, **hemolysis)
    write_tsv(hemo.reset_index(), out_hemolysis)

    spikes = [read_tsv(path, dtype={"sample": str, "spikein": str}) for path in spikein_paths]
    spike_table = pd.concat(spikes, ignore_index=True) if spikes else pd.DataFrame(columns=SPIKEIN_COLUMNS)
    write_tsv(spike_table[SPIKEIN_COLUMNS], out_spikeins)

    metrics = sample_metrics(composition, samples)
    detected = (counts >= mirna_min_reads).sum(axis=0)
    flags = sample_flags(
        metrics,
        hemo,
        detected,
        limits,
        exclude_failed_from_de,
        hemolysis_ratio_threshold=hemolysis.get("ratio_threshold", 128.0),
        rbc_share_max=hemolysis.get("rbc_share_max"),
    )
    write_tsv(flags, out_flags)
    write_multiqc_content(multiqc_dir, wide, flags, hemo, mirna_min_reads)
    for row in flags.itertuples():
        log.info("%s: %s %s", row.sample, row.status, row.reasons)
    return flags


# --------------------------------------------------------------------------- MultiQC

#: MultiQC custom-content files written by :func:`write_multiqc_content`.
MULTIQC_FILES = (
    "exomir_qc_general_mqc.json",
    "exomir_qc_composition_mqc.json",
    "exomir_qc_flags_mqc.json",
    "exomir_qc_hemolysis_mqc.json",
)

_CLASS_COLOURS = {
    "mirna_mature": "#1b9e77",
    "mirna_hairpin_only": "#66c2a5",
    "mirna_ambiguous": "#b3e2cd",
    "spikein": "#e7298a",
    "unmapped": "#bdbdbd",
    "adapter_dimer": "#d95f02",
    "too_short": "#fc8d62",
    "too_long": "#fdcdac",
    "other_filtered": "#8c510a",
    "no_umi": "#969696",
    "umi_duplicate": "#636363",
}
_OTHER_RNA_COLOURS = ("#7570b3", "#e6ab02", "#66a61e", "#a6761d", "#1f78b4", "#b2df8a", "#fb9a99", "#cab2d6")
_STATUS_COLOURS = [{"pass": "#5cb85c"}, {"warn": "#f0ad4e"}, {"fail": "#d9534f"}]
_STATUS_RULES = {"pass": [{"s_eq": "pass"}], "warn": [{"s_eq": "warn"}], "fail": [{"s_eq": "fail"}]}


def _clean(value: object) -> object:
    """JSON-safe scalar: NaN/NA -> None, numpy -> Python."""
    if value is None or value is pd.NA:
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return None if math.isnan(value) else float(f"{float(value):.6g}")
    return value


def _table_value(value: object, column: str) -> object:
    """Table cell for MultiQC. Booleans become words: MultiQC colours every "yes" green and
    every "no" red, which would paint "outlier: no" as a problem."""
    value = _clean(value)
    if isinstance(value, bool):
        if column == "use_in_de":
            return "used" if value else "excluded"
        return "outlier" if value else "normal"
    return value


def _column_format(column: str) -> dict:
    """MultiQC column options by column kind: status colours, outlier colours, number format."""
    if column == "status":
        return {"cond_formatting_rules": _STATUS_RULES, "cond_formatting_colours": _STATUS_COLOURS}
    if column.endswith("outlier") or column == "use_in_de":
        return {
            "cond_formatting_rules": {"exomir_bad": [{"s_eq": "outlier"}, {"s_eq": "excluded"}]},
            "cond_formatting_colours": [{"exomir_bad": "#d9534f"}],
        }
    if column.endswith(("fraction", "share")):
        return {"format": "{:,.3f}"}
    if column.endswith("reads") or column == "mirnas_detected":
        return {"format": "{:,.0f}"}
    if column.endswith(("ratio", "limit_log2_ratio")):
        return {"format": "{:,.2f}"}
    return {}


def _mqc_table(
    section_id: str,
    section_name: str,
    description: str,
    title: str,
    columns: dict[str, tuple[str, str]],
    frame: pd.DataFrame,
) -> dict:
    """A MultiQC custom-content table of ``columns`` (name -> (title, description)) per sample row."""
    return {
        "id": section_id,
        "section_name": section_name,
        "description": description,
        "plot_type": "table",
        "pconfig": {"id": f"{section_id}_table", "title": title, "sort_rows": False},
        "headers": {
            column: {"title": col_title, "description": col_description, "scale": False} | _column_format(column)
            for column, (col_title, col_description) in columns.items()
        },
        "data": {
            sample: {column: _table_value(row[column], column) for column in columns}
            for sample, row in frame.iterrows()
        },
    }


def _write_json(path: Path, content: dict) -> None:
    with atomic_open(path, "wt") as handle:
        json.dump(content, handle, indent=1)
        handle.write("\n")


def write_multiqc_content(
    out_dir: str | Path,
    composition: pd.DataFrame,
    flags: pd.DataFrame,
    hemolysis: pd.DataFrame,
    mirna_min_reads: int,
) -> list[Path]:
    """Write MultiQC (1.35) custom-content JSON files; return their paths.

    * general statistics: % miRNA (of reads passing preprocessing), miRNAs detected,
      hemolysis ratio, QC status;
    * ``exomir_qc_composition``: stacked bar chart of the read composition (reads);
    * ``exomir_qc_flags``: table of status, reasons and metrics;
    * ``exomir_qc_hemolysis``: table of the hemolysis metrics.
    """
    out = Path(out_dir)
    flags_by_sample = flags.set_index("sample")
    marker = str(hemolysis["marker"].iloc[0]) if len(hemolysis) else "marker"
    reference = str(hemolysis["reference"].iloc[0]) if len(hemolysis) else "reference"
    short = {name: re.sub(r"^[a-z]{3,4}-(miR|let)-", "", name) for name in (marker, reference)}
    samples = list(flags_by_sample.index)
    paths = [out / name for name in MULTIQC_FILES]

    general = {
        "id": "exomir_qc_general",
        "plot_type": "generalstats",
        "headers": {
            "mirna_percent": {
                "title": "% miRNA loci",
                "description": "Reads aligned to miRNA hairpins, % of reads passing preprocessing",
                "suffix": "%",
                "min": 0,
                "max": 100,
                "scale": "Greens",
                "format": "{:,.1f}",
            },
            "mirnas_detected": {
                "title": f"miRNAs >={mirna_min_reads}",
                "description": f"Mature miRNAs with >= {mirna_min_reads} reads",
                "min": 0,
                "scale": "Blues",
                "format": "{:,.0f}",
            },
            "hemolysis_ratio": {
                "title": f"{short[marker]}/{short[reference]}",
                "description": f"Hemolysis ratio: mature reads of {marker} / {reference} (+pseudocount)",
                "min": 0,
                "scale": "Reds",
                "format": "{:,.1f}",
            },
            "qc_status": {
                "title": "exRNA QC",
                "description": "exomir sample QC status (pass / warn / fail); see the exRNA QC flags table",
                "scale": False,
                "cond_formatting_rules": _STATUS_RULES,
                "cond_formatting_colours": _STATUS_COLOURS,
            },
        },
        "data": {
            sample: {
                "mirna_percent": _clean(row["mirna_fraction"] * 100),
                "mirnas_detected": _clean(row["mirnas_detected"]),
                "hemolysis_ratio": _clean(row["hemolysis_ratio"]),
                "qc_status": row["status"],
            }
            for sample, row in flags_by_sample.iterrows()
        },
    }
    _write_json(paths[0], general)

    n_classes = (len(composition.columns) - 2) // 2  # sample, raw_reads, reads..., fractions...
    read_columns = list(composition.columns[2 : 2 + n_classes])
    other_rna = [c for c in read_columns if c not in _CLASS_COLOURS]
    colours = dict(_CLASS_COLOURS)
    for i, name in enumerate(other_rna):
        colours[name] = _OTHER_RNA_COLOURS[i % len(_OTHER_RNA_COLOURS)]
    by_sample = composition.set_index("sample")
    bar = {
        "id": "exomir_qc_composition",
        "section_name": "exRNA read composition",
        "description": (
            "Where every raw read went. miRNA from hairpin alignment (mature / hairpin-only / "
            "ambiguous); spike-ins; RNA classes assigned in priority order with bowtie "
            "(sense strand, <= 1 mismatch) on the reads not aligned to a hairpin; unmapped; "
            "reads removed by preprocessing. The classes add up to the raw reads."
        ),
        "plot_type": "bargraph",
        "pconfig": {
            "id": "exomir_qc_composition_plot",
            "title": "exomir: exRNA read composition",
            "ylab": "Reads",
            "cpswitch_counts_label": "Reads",
            "sort_samples": False,
        },
        "categories": {name: {"name": name.replace("_", " "), "color": colours[name]} for name in read_columns},
        "data": {
            sample: {name: _clean(by_sample.loc[sample, name]) for name in read_columns} for sample in samples
        },
    }
    _write_json(paths[1], bar)

    flag_columns = {
        "status": ("Status", "pass / warn / fail"),
        "reasons": ("Reasons", "Rules that were not met (severity: value vs threshold)"),
        "use_in_de": ("Used in DE", "Whether differential expression uses the sample"),
        "raw_reads": ("Raw reads", "Reads in the FASTQ file(s)"),
        "annotated_reads": ("Annotated reads", "miRNA + RNA-class reads (exRNA standard: >= 100,000)"),
        "annotated_fraction": (
            "Annotated fraction",
            "Annotated reads / reads passing preprocessing without spike-ins (exRNA standard: > 0.5)",
        ),
        "mature_mirna_reads": ("Mature miRNA reads", "Reads counted to mature miRNAs"),
        "mirnas_detected": ("miRNAs detected", f"Mature miRNAs with >= {mirna_min_reads} reads"),
        "adapter_dimer_fraction": ("Adapter dimers", "Fraction of raw reads"),
        "too_short_fraction": ("Too short", "Fraction of raw reads"),
        "hemolysis_ratio": ("Hemolysis ratio", f"{marker} / {reference} reads (+pseudocount)"),
        "rbc_share": ("RBC miRNA share", "Red-blood-cell miRNA reads / mature miRNA reads"),
    }
    flags_table = _mqc_table(
        "exomir_qc_flags",
        "exRNA QC flags",
        "Sample QC status and the metrics it is computed from (results/qc/sample_flags.tsv).",
        "exomir: exRNA QC flags",
        flag_columns,
        flags_by_sample,
    )
    _write_json(paths[2], flags_table)

    hemo_columns = {
        "marker_reads": (f"{short[marker]} reads", f"Mature reads of the hemolysis marker {marker}"),
        "reference_reads": (f"{short[reference]} reads", f"Mature reads of the reference miRNA {reference}"),
        "ratio": ("Ratio", "(marker + 1) / (reference + 1)"),
        "log2_ratio": ("log2 ratio", "log2 of the ratio"),
        "outlier_limit_log2_ratio": ("Outlier limit", "Cohort median + max(k * MAD, minimum deviation)"),
        "ratio_outlier": ("Ratio outlier", "log2 ratio above the cohort limit"),
        "rbc_share": ("RBC share", "RBC miRNA reads / mature miRNA reads"),
        "rbc_share_outlier": ("RBC share outlier", "log2 odds of the share above the cohort limit"),
    }
    hemo_table = _mqc_table(
        "exomir_qc_hemolysis",
        "Hemolysis",
        (
            "Red-blood-cell contamination indicators: miR-451a / miR-23a-3p (Blondal et al. 2013, "
            "Methods 59:S1-S6) and the share of RBC miRNAs (Kirschner et al. 2011 PLoS One "
            "6:e24145; Pritchard et al. 2012 Cancer Prev Res 5:492-497), with robust cohort "
            "outlier calls."
        ),
        "exomir: hemolysis",
        hemo_columns,
        hemolysis,
    )
    _write_json(paths[3], hemo_table)
    return paths

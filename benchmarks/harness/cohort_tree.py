"""Simulated cohorts for the cohort-level steps (issue 21.4): a Snakemake working directory whose
``results/`` holds n samples' per-sample tables, each derived from one real sample of a finished
demo run (``--cohort-source``) by a deterministic count scale, so no two samples are identical.

Sample ``S0001..Sn``: source = the demo's samples in turn, scale = :func:`scale_factor`. Integer
read counts are multiplied by the scale (rounded; sequences whose count rounds to 0 are dropped),
fractions and lengths are kept; the sample name is rewritten in every table, log and FastQC zip
(MultiQC takes names from the cutadapt command line, the bowtie log name and FastQC's
``Filename``). Cohort-level tables the report needs beyond the timed steps (the DE stage's
sample tables) are built from the simulated count matrix by :func:`write_diffexp_tables`; the
per-contrast DE and marker tables are the demo's (one row per miRNA: independent of n).
"""

from __future__ import annotations

import gzip
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

#: Integer count columns scaled per table; all other columns are copied.
SCALED = {
    "preprocess.stats": ("raw_reads", "reads_with_adapter", "adapter_dimers", "too_short", "too_long",
                         "other_filtered", "umi_reads", "umi_deduplicated_reads", "passing_reads",
                         "unique_sequences"),
    "lengths": ("reads",),
    "quantify.stats": ("input_reads", "unique_sequences", "aligned_reads", "mature_reads", "hairpin_only_reads",
                       "ambiguous_reads", "unmapped_reads", "multi_hairpin_reads", "aligned_unique_sequences",
                       "rna_class_released_reads"),
    "composition": ("reads",),
    "spikeins": ("reads", "reads_counted_as_mirna"),
}
#: FastQC zip entries MultiQC's FastQC module reads (the images and HTML are not parsed).
FASTQC_ENTRIES = ("fastqc_data.txt", "summary.txt")
CONTRAST = "breast_cancer_vs_control"


def sample_id(i: int) -> str:
    """Name of the ``i``-th (0-based) simulated sample."""
    return f"S{i + 1:04d}"


def scale_factor(i: int) -> float:
    """Deterministic count scale of sample ``i``: 0.5..1.5 in steps of 0.001, spread by a prime
    stride so neighbouring samples differ."""
    return 0.5 + ((i * 7919) % 1001) / 1000


def scale_table(text: str, columns: tuple[str, ...], factor: float, name: str) -> str:
    """A TSV with its ``sample`` column set to ``name`` and ``columns`` scaled by ``factor``."""
    lines = text.rstrip("\n").split("\n")
    head = lines[0].split("\t")
    at_sample = head.index("sample") if "sample" in head else None
    scaled = [i for i, col in enumerate(head) if col in columns]
    out = [lines[0]]
    for line in lines[1:]:
        cells = line.split("\t")
        if at_sample is not None:
            cells[at_sample] = name
        for i in scaled:
            cells[i] = str(int(round(int(cells[i]) * factor)))
        out.append("\t".join(cells))
    return "\n".join(out) + "\n"


def scale_assignments(source: Path, target: Path, factor: float) -> None:
    """Per-sequence assignments with the ``count`` column scaled (rows rounding to 0 dropped)."""
    table = pd.read_csv(source, sep="\t", dtype=str, keep_default_na=False)
    counts = np.rint(table["count"].astype(np.int64).to_numpy() * factor).astype(np.int64)
    table["count"] = counts.astype(str)
    with gzip.open(target, "wt", compresslevel=1, newline="") as handle:
        table[counts > 0].to_csv(handle, sep="\t", index=False, lineterminator="\n")


def fastqc_zip(source: Path, target: Path, old: str, new: str) -> None:
    """A FastQC zip holding the parsed entries of ``source`` with the sample renamed."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zout:
        for entry in FASTQC_ENTRIES:
            text = zin.read(f"{old}_fastqc/{entry}").decode()
            zout.writestr(zipfile.ZipInfo(f"{new}_fastqc/{entry}", (2020, 1, 1, 0, 0, 0)), text.replace(old, new))


def write_sample(src_results: Path, results: Path, old: str, new: str, factor: float) -> None:
    """Every per-sample input of the cohort steps for one simulated sample."""
    pre, quant, qc = src_results / "preprocess", src_results / "quantify", src_results / "qc"
    tables = {
        f"preprocess/{new}.stats.tsv": (pre / f"{old}.stats.tsv", "preprocess.stats"),
        f"preprocess/{new}.lengths.tsv": (pre / f"{old}.lengths.tsv", "lengths"),
        f"quantify/{new}.stats.tsv": (quant / f"{old}.stats.tsv", "quantify.stats"),
        f"qc/composition/{new}.tsv": (qc / "composition" / f"{old}.tsv", "composition"),
        f"qc/spikeins/{new}.tsv": (qc / "spikeins" / f"{old}.tsv", "spikeins"),
    }
    for target, (source, kind) in tables.items():
        (results / target).write_text(scale_table(source.read_text(), SCALED[kind], factor, new))
    for target, source in {f"preprocess/{new}.cutadapt.log": pre / f"{old}.cutadapt.log",
                           f"quantify/{new}.bowtie.log": quant / f"{old}.bowtie.log"}.items():
        (results / target).write_text(source.read_text().replace(old, new))
    scale_assignments(quant / f"{old}.assignments.tsv.gz", results / f"quantify/{new}.assignments.tsv.gz", factor)
    fastqc_zip(qc / "fastqc" / old / f"{old}_fastqc.zip", results / f"qc/fastqc/{new}/{new}_fastqc.zip", old, new)


def link_cohort_files(src_results: Path, results: Path, species: str) -> None:
    """Cohort-level inputs that do not depend on n: references, versions, per-contrast tables."""
    (results / "references").mkdir(parents=True)
    (results / "references" / species).symlink_to((src_results / "references" / species).resolve())
    shutil.copytree(src_results / "provenance", results / "provenance")
    for stage in ("diffexp", "markers"):
        (results / stage).mkdir(parents=True, exist_ok=True)
        (results / stage / CONTRAST).symlink_to((src_results / stage / CONTRAST).resolve())


def build_tree(n_samples: int, source: Path, folder: Path, species: str = "hsa") -> pd.DataFrame:
    """``folder/results`` with ``n_samples`` simulated samples from ``source`` (a demo run's
    working directory); returns the simulated sample sheet (also written to ``folder/samples.tsv``)."""
    src_results = source / "results"
    demo = pd.read_csv(src_results / "diffexp" / "samples.tsv", sep="\t", dtype=str, keep_default_na=False)
    shutil.rmtree(folder, ignore_errors=True)
    results = folder / "results"
    for sub in ("preprocess", "quantify", "qc/composition", "qc/spikeins", "qc/fastqc", "report"):
        (results / sub).mkdir(parents=True, exist_ok=True)
    link_cohort_files(src_results, results, species)
    rows = []
    for i in range(n_samples):
        src = demo.iloc[i % len(demo)]
        new = sample_id(i)
        write_sample(src_results, results, src["sample"], new, scale_factor(i))
        rows.append({"sample": new, "condition": src["condition"], "batch": src["batch"],
                     "fastq": f"data/{new}.fastq.gz", "description": f"simulated from {src['sample']}"})
    sheet = pd.DataFrame(rows)
    sheet.to_csv(folder / "samples.tsv", sep="\t", index=False)
    return sheet


def _vst_like(counts: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Median-of-ratios normalised counts and their log2(x + 1) on miRNAs with mean >= 10."""
    detected = counts[(counts > 0).all(axis=1)]
    log_geo = np.log(detected).mean(axis=1)
    size = np.exp(np.median(np.log(detected).sub(log_geo, axis=0), axis=0))
    normalized = counts / size
    kept = normalized[normalized.mean(axis=1) >= 10]
    return normalized, np.log2(kept + 1)


def write_diffexp_tables(folder: Path, sheet: pd.DataFrame) -> None:
    """The DE stage's sample-level tables the report reads (samples, normalised counts, PCA,
    sample distances), from the simulated count matrix (untimed input of the report step)."""
    from scipy.spatial.distance import cdist

    from exomir.diffexp import pca

    out = folder / "results" / "diffexp"
    counts = pd.read_csv(folder / "results/quantify/mature_counts.tsv", sep="\t", index_col=0)
    normalized, vst = _vst_like(counts)
    normalized.round(4).to_csv(out / "normalized_counts.tsv", sep="\t", index_label="mirna")
    design = sheet[["sample", "batch", "condition"]].assign(qc_status="pass", qc_reasons="", used="yes", note="")
    design.to_csv(out / "samples.tsv", sep="\t", index=False)
    scores, percent = pca(vst)
    scores.round(6).reset_index(names="sample").pipe(
        lambda df: design[["sample", "batch", "condition"]].merge(df, on="sample")
    ).to_csv(out / "pca.tsv", sep="\t", index=False)
    percent.round(4).rename_axis("component").rename("percent_variance").reset_index().to_csv(
        out / "pca_variance.tsv", sep="\t", index=False)
    data = vst.T.to_numpy()
    distances = pd.DataFrame(cdist(data, data), index=vst.columns, columns=vst.columns).round(4)
    distances.to_csv(out / "sample_distances.tsv", sep="\t", index_label="sample")

"""All MultiQC custom content of exomir (the small-RNA sections of the QC report).

MultiQC's native modules parse the cutadapt, bowtie and FastQC outputs that
the rule ``multiqc`` passes to it (no samtools output is produced or passed);
everything specific to small RNA (read-length profile, how reads were
assigned to miRNAs, how many miRNAs each sample detects, which miRNAs
dominate, the differential-expression and biomarker summary) is written
here as ``*_mqc.yaml`` files that MultiQC's custom-content module reads
(:func:`write_multiqc_content`, rule ``multiqc_content``, ``results/report/multiqc/``).
The exRNA QC stage's sections (general statistics, read composition, flags,
hemolysis) are written as ``*_mqc.json`` by :func:`write_qc_content` (rule
``qc_summary``, ``results/qc/multiqc/``).

Every value comes from a table of the pipeline (see docs/architecture.md),
so the numbers in the MultiQC report can be traced back to a file.
"""

from __future__ import annotations

import json
import logging
import math
import re
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
import yaml

from exomir.errors import ExomirInputError
from exomir.io import atomic_open, read_tsv

log = logging.getLogger("exomir.multiqc_content")

#: File names written by :func:`write_multiqc_content`, in report order.
CONTENT_FILES = (
    "exomir_general_stats_mqc.yaml",
    "exomir_read_lengths_mqc.yaml",
    "exomir_read_assignment_mqc.yaml",
    "exomir_mirna_detection_mqc.yaml",
    "exomir_top_mirnas_mqc.yaml",
    "exomir_de_summary_mqc.yaml",
)

#: Read-count thresholds for the detection curve (a miRNA counts as detected at >= t reads).
DETECTION_THRESHOLDS = (1, 5, 10, 50, 100, 1000)


def _require(df: pd.DataFrame, columns: Sequence[str], where: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ExomirInputError(
            f"missing column(s) {', '.join(missing)} (found: {', '.join(map(str, df.columns))})",
            where=where,
            fix="re-run the stage that writes this file; its format is described in docs/architecture.md",
        )


def _one_row(path: str | Path) -> dict[str, Any]:
    df = read_tsv(path)
    if len(df) != 1:
        raise ExomirInputError(f"expected one row, found {len(df)}", where=str(path), fix="re-run the stage")
    return df.iloc[0].to_dict()


def _num(value: Any) -> float | int | None:
    """Plain Python number for YAML output; None for NA."""
    if value is None:
        return None
    if isinstance(value, (bool, np.bool_)):
        return int(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    if math.isnan(number) or math.isinf(number):
        return None
    return round(number, 6)


def general_stats(
    samples: Sequence[str],
    preprocess_stats: Mapping[str, str | Path],
    quantify_stats: Mapping[str, str | Path],
) -> dict[str, Any]:
    """General-statistics columns "Trimmed reads" and "Mature miRNA reads", one row per sample.

    % miRNA, miRNAs detected, hemolysis ratio and QC status come from the qc stage's own
    custom content (``results/qc/multiqc/``), so they are not repeated here.
    """
    data: dict[str, dict[str, Any]] = {}
    for sample in samples:
        pre = _one_row(preprocess_stats[sample])
        quant = _one_row(quantify_stats[sample])
        _require(pd.DataFrame([pre]), ["passing_reads"], str(preprocess_stats[sample]))
        _require(pd.DataFrame([quant]), ["mature_reads"], str(quantify_stats[sample]))
        data[sample] = {"trimmed_reads": int(pre["passing_reads"]), "mirna_reads": int(quant["mature_reads"])}
    headers: dict[str, Any] = {
        "trimmed_reads": {
            "title": "Trimmed reads",
            "description": "Reads passing adapter trimming and the length/quality filters "
            "(preprocess/{sample}.stats.tsv: passing_reads)",
            "scale": "Blues",
            "format": "{:,.0f}",
            "min": 0,
        },
        "mirna_reads": {
            "title": "Mature miRNA reads",
            "description": "Reads assigned to exactly one mature miRNA (quantify/{sample}.stats.tsv: mature_reads)",
            "scale": "Greens",
            "format": "{:,.0f}",
            "min": 0,
        },
    }
    return {
        "id": "exomir_general_stats",
        "plot_type": "generalstats",
        "namespace": "exomir",
        "headers": headers,
        "data": data,
    }


def read_lengths(samples: Sequence[str], lengths: Mapping[str, str | Path]) -> dict[str, Any]:
    """Line graph of the insert-length distribution (% of reads per length), after trimming."""
    data: dict[str, dict[int, float]] = {}
    for sample in samples:
        df = read_tsv(lengths[sample])
        _require(df, ["length", "reads"], str(lengths[sample]))
        total = float(df["reads"].sum())
        df = df.sort_values("length")
        data[sample] = {
            int(length): (_num(100.0 * reads / total) if total else 0.0)
            for length, reads in zip(df["length"], df["reads"])
        }
    return {
        "id": "exomir_read_lengths",
        "section_name": "Insert length after trimming",
        "description": (
            "Length of the inserts after adapter removal, before the length filter, as % of the sample's reads "
            "(preprocess/{sample}.lengths.tsv). Plasma-exosome libraries show a miRNA peak at 21-23 nt; "
            "a peak below 18 nt means adapter dimers or degraded RNA, large peaks at 30-33 nt are usually "
            "tRNA/Y-RNA fragments."
        ),
        "plot_type": "linegraph",
        "pconfig": {
            "id": "exomir_read_lengths_plot",
            "title": "exomir: insert length distribution",
            "xlab": "Insert length (nt)",
            "ylab": "% of reads",
            "ymin": 0,
            "x_decimals": False,
            "tt_label": "{point.x} nt: {point.y:.2f}%",
        },
        "data": data,
    }


def read_assignment(samples: Sequence[str], quantify_stats: Mapping[str, str | Path]) -> dict[str, Any]:
    """Stacked bar graph of where the trimmed reads went: mature miRNA, hairpin only, ambiguous, unmapped."""
    cats = ["mature_reads", "hairpin_only_reads", "ambiguous_reads", "unmapped_reads"]
    data: dict[str, dict[str, int]] = {}
    for sample in samples:
        row = _one_row(quantify_stats[sample])
        _require(pd.DataFrame([row]), cats, str(quantify_stats[sample]))
        data[sample] = {c: int(row[c]) for c in cats}
    return {
        "id": "exomir_read_assignment",
        "section_name": "miRNA read assignment",
        "description": (
            "Where each sample's trimmed reads were assigned by the miRBase alignment (quantify/{sample}.stats.tsv): "
            "to one mature miRNA, to a hairpin outside any mature arm, ambiguously to several mature miRNAs, or "
            "not to any hairpin (other RNA classes: see the composition section). Switch to percentages to compare "
            "samples of different depth."
        ),
        "plot_type": "bargraph",
        "pconfig": {
            "id": "exomir_read_assignment_plot",
            "title": "exomir: read assignment",
            "ylab": "Reads",
            "cpswitch_counts_label": "Reads",
        },
        "categories": {
            "mature_reads": {"name": "Mature miRNA", "color": "#2b8cbe"},
            "hairpin_only_reads": {"name": "Hairpin only", "color": "#a6bddb"},
            "ambiguous_reads": {"name": "Ambiguous", "color": "#fdae6b"},
            "unmapped_reads": {"name": "Not miRNA", "color": "#bdbdbd"},
        },
        "data": data,
    }


def _load_counts(mature_counts: str | Path, samples: Sequence[str]) -> pd.DataFrame:
    counts = read_tsv(mature_counts)
    _require(counts, ["mirna", *samples], str(mature_counts))
    return counts.set_index("mirna")[list(samples)]


def mirna_detection(samples: Sequence[str], mature_counts: str | Path) -> dict[str, Any]:
    """Line graph: number of miRNAs detected at increasing read thresholds, per sample."""
    counts = _load_counts(mature_counts, samples)
    data = {s: {t: int((counts[s] >= t).sum()) for t in DETECTION_THRESHOLDS} for s in samples}
    return {
        "id": "exomir_mirna_detection",
        "section_name": "miRNA detection",
        "description": (
            "Number of mature miRNAs with at least N reads, for N = " + ", ".join(map(str, DETECTION_THRESHOLDS))
            + " (quantify/mature_counts.tsv). Curves that drop much faster than the cohort mean a shallow or "
            "low-complexity library; such samples carry little information for differential expression."
        ),
        "plot_type": "linegraph",
        "pconfig": {
            "id": "exomir_mirna_detection_plot",
            "title": "exomir: miRNAs detected by read threshold",
            "xlab": "Minimum reads",
            "ylab": "miRNAs detected",
            "xlog": True,
            "ymin": 0,
            "tt_label": "&ge; {point.x} reads: {point.y} miRNAs",
        },
        "data": data,
    }


def top_mirnas(samples: Sequence[str], mature_counts: str | Path, n: int = 10) -> dict[str, Any]:
    """Stacked bar graph: share of each sample's miRNA reads taken by the cohort's top ``n`` miRNAs."""
    counts = _load_counts(mature_counts, samples)
    totals = counts.sum(axis=0)
    frac = counts.div(totals.where(totals > 0, 1), axis=1)
    # rank by mean fraction across samples so one deep sample does not dominate; ties by name
    ranking = pd.DataFrame({"mean": frac.mean(axis=1).to_numpy(), "name": list(frac.index)}).sort_values(
        ["mean", "name"], ascending=[False, True], kind="mergesort"
    )
    top = list(ranking.loc[ranking["mean"] > 0, "name"])[:n]
    data: dict[str, dict[str, int]] = {}
    for s in samples:
        row = {m: int(counts.loc[m, s]) for m in top}
        row["other miRNAs"] = int(totals[s]) - sum(row.values())
        data[s] = row
    categories = {m: {"name": m} for m in top}
    categories["other miRNAs"] = {"name": "other miRNAs", "color": "#d9d9d9"}
    return {
        "id": "exomir_top_mirnas",
        "section_name": "Most abundant miRNAs",
        "description": (
            f"Share of each sample's mature miRNA reads taken by the cohort's {len(top)} most abundant miRNAs "
            "(ranked by mean share; quantify/mature_counts.tsv). In plasma, miR-451a, miR-16 and miR-486 "
            "come largely from red blood cells: a sample where they dominate much more than in the others "
            "is likely hemolysed (see the hemolysis ratio)."
        ),
        "plot_type": "bargraph",
        "pconfig": {
            "id": "exomir_top_mirnas_plot",
            "title": "exomir: most abundant miRNAs",
            "ylab": "miRNA reads",
            "cpswitch_c_active": False,
            "cpswitch_counts_label": "Reads",
        },
        "categories": categories,
        "data": data,
    }


def de_summary(
    contrasts: Sequence[str],
    results: Mapping[str, str | Path],
    annotations: Mapping[str, str | Path] | None = None,
    alpha: float = 0.05,
) -> dict[str, Any]:
    """Table with one row per contrast: miRNAs tested, significant (up/down) and catalogue concordance."""
    data: dict[str, dict[str, Any]] = {}
    for contrast in contrasts:
        res = read_tsv(results[contrast])
        _require(res, ["mirna", "log2FoldChange", "padj"], str(results[contrast]))
        sig = res[res["padj"].notna() & (res["padj"] < alpha)]
        row: dict[str, Any] = {
            "tested": int(res["padj"].notna().sum()),
            "significant": int(len(sig)),
            "up": int((sig["log2FoldChange"] > 0).sum()),
            "down": int((sig["log2FoldChange"] < 0).sum()),
        }
        if annotations and contrast in annotations and Path(annotations[contrast]).exists():
            ann = read_tsv(annotations[contrast], keep_default_na=False, dtype={"concordance": str})
            _require(ann, ["concordance"], str(annotations[contrast]))
            conc = ann["concordance"].value_counts()
            row["catalogue_entries"] = int(len(ann))
            row["catalogue_detected"] = int(len(ann) - conc.get("not detected", 0))
            row["concordant"] = int(conc.get("concordant", 0))
            row["discordant"] = int(conc.get("discordant", 0))
        data[contrast] = row
    count = {"format": "{:,.0f}", "scale": False, "min": 0}
    headers = {
        "tested": {"title": "Tested", "description": "miRNAs with an adjusted p-value (not removed by independent filtering)", **count},
        "significant": {"title": f"padj < {alpha:g}", "description": f"miRNAs with adjusted p-value below {alpha:g}", **count},
        "up": {"title": "Up", "description": "significant and higher in the first condition of the contrast", **count},
        "down": {"title": "Down", "description": "significant and lower in the first condition of the contrast", **count},
        "catalogue_entries": {"title": "Catalogue markers", "description": "entries of the breast-cancer marker catalogue", **count},
        "catalogue_detected": {"title": "Detected", "description": "catalogue markers detected in this cohort", **count},
        "concordant": {"title": "Concordant", "description": "observed direction agrees with the literature", **count},
        "discordant": {"title": "Discordant", "description": "observed direction opposite to the literature", **count},
    }
    return {
        "id": "exomir_de_summary",
        "section_name": "Differential expression and biomarkers",
        "description": (
            "One row per contrast (diffexp/{contrast}/results.tsv, markers/{contrast}/annotation.tsv). "
            "'Up' means higher in the first condition of the contrast name. Concordance compares the observed "
            "log2 fold change with the direction reported in the literature, whatever its significance; "
            "the full tables with effect sizes are in the exomir biomarker report."
        ),
        "plot_type": "table",
        "pconfig": {"id": "exomir_de_summary_table", "title": "exomir: differential expression summary",
                    "col1_header": "Contrast", "only_defined_headers": True},
        "headers": {k: v for k, v in headers.items() if any(k in r for r in data.values())},
        "data": data,
    }


def _dump(obj: dict[str, Any], path: Path) -> None:
    with atomic_open(path, "wt") as handle:
        handle.write("# Written by exomir (scripts/exomir/multiqc_content.py); read by MultiQC custom content.\n")
        yaml.safe_dump(obj, handle, sort_keys=False, default_flow_style=False, allow_unicode=True, width=100)


def write_multiqc_content(
    outdir: str | Path,
    samples: Sequence[str],
    preprocess_stats: Mapping[str, str | Path],
    lengths: Mapping[str, str | Path],
    quantify_stats: Mapping[str, str | Path],
    mature_counts: str | Path,
    contrasts: Sequence[str] = (),
    de_results: Mapping[str, str | Path] | None = None,
    annotations: Mapping[str, str | Path] | None = None,
    alpha: float = 0.05,
    top_n: int = 10,
) -> list[Path]:
    """Write every exomir custom-content file into ``outdir``; return their paths in report order."""
    outdir = Path(outdir)
    samples = list(samples)
    if not samples:
        raise ExomirInputError("no samples given", where="multiqc content", fix="check the sample sheet")
    contents = [
        general_stats(samples, preprocess_stats, quantify_stats),
        read_lengths(samples, lengths),
        read_assignment(samples, quantify_stats),
        mirna_detection(samples, mature_counts),
        top_mirnas(samples, mature_counts, n=top_n),
        de_summary(list(contrasts), de_results or {}, annotations, alpha=alpha)
        if contrasts
        else {
            "id": "exomir_de_summary",
            "section_name": "Differential expression and biomarkers",
            "plot_type": "html",
            "description": "No contrast was configured, so no differential expression was run.",
            "data": "<p>No contrasts configured.</p>",
        },
    ]
    paths = []
    for name, content in zip(CONTENT_FILES, contents):
        path = outdir / name
        _dump(content, path)
        paths.append(path)
        log.info("wrote %s", path)
    return paths


# --------------------------------------------------------------------------- exRNA QC stage (JSON)
# The qc_summary rule writes these four files into results/qc/multiqc/ (JSON, MultiQC 1.35).

#: MultiQC custom-content files written by :func:`write_qc_content`.
QC_CONTENT_FILES = (
    "exomir_qc_general_mqc.json",
    "exomir_qc_composition_mqc.json",
    "exomir_qc_flags_mqc.json",
    "exomir_qc_hemolysis_mqc.json",
    "exomir_qc_rna_types_mqc.json",
    "exomir_qc_complexity_mqc.json",
)

_CLASS_COLOURS = {
    "mirna_mature": "#1b9e77",
    "mirna_hairpin_only": "#66c2a5",
    "mirna_ambiguous": "#b3e2cd",
    "spikein": "#e7298a",
    "unmapped": "#bdbdbd",
    "genome_unique": "#386cb0",  # genome mode only
    "genome_multi": "#9ecae1",
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


def _short_names(hemolysis: pd.DataFrame) -> tuple[str, str, dict[str, str]]:
    """Hemolysis marker and reference names, and their species- and prefix-free short forms."""
    marker = str(hemolysis["marker"].iloc[0]) if len(hemolysis) else "marker"
    reference = str(hemolysis["reference"].iloc[0]) if len(hemolysis) else "reference"
    short = {name: re.sub(r"^[a-z]{3,4}-(miR|let)-", "", name) for name in (marker, reference)}
    return marker, reference, short


def qc_general_stats(flags_by_sample: pd.DataFrame, hemolysis: pd.DataFrame, mirna_min_reads: int) -> dict:
    """General-statistics columns of the QC stage: % miRNA, miRNAs detected, hemolysis ratio, status."""
    marker, reference, short = _short_names(hemolysis)
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
    if "transcriptome_genome_ratio" in flags_by_sample:  # genome mode only
        _add_genome_general_stats(general, flags_by_sample)
    return general


def _add_genome_general_stats(general: dict, flags_by_sample: pd.DataFrame) -> None:
    """Genome-mode general-statistics columns: % genome-mapped and exceRpt's transcriptome/genome ratio."""
    general["headers"]["genome_percent"] = {
        "title": "% genome",
        "description": "Reads mapped to the genome (annotated + genome-only), % of reads passing preprocessing "
        "without spike-ins",
        "suffix": "%",
        "min": 0,
        "max": 100,
        "scale": "Purples",
        "format": "{:,.1f}",
    }
    general["headers"]["transcriptome_genome_ratio"] = {
        "title": "Tx/genome",
        "description": "exceRpt's transcriptome/genome ratio: annotated reads / genome-mapped reads "
        "(exRNA standard: > 0.5)",
        "min": 0,
        "max": 1,
        "scale": "RdYlGn",
        "format": "{:,.2f}",
    }
    for sample, row in flags_by_sample.iterrows():
        general["data"][sample]["genome_percent"] = _clean(row["genome_mapped_fraction"] * 100)
        general["data"][sample]["transcriptome_genome_ratio"] = _clean(row["transcriptome_genome_ratio"])


#: Added to the composition description in genome mode only (no change without a genome).
GENOME_COMPOSITION_NOTE = (
    " Genome mode: what no class explained is split into genome unique (1 locus), genome multi "
    "(> 1 best-stratum locus, bowtie 1) and unmapped (not in the genome either)."
)


def qc_composition_bargraph(composition: pd.DataFrame, samples: Sequence[str]) -> dict:
    """Stacked bar chart of the read composition (reads per class; the wide composition table)."""
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
            + (GENOME_COMPOSITION_NOTE if "genome_unique" in read_columns else "")
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
    return bar


#: Genome-mode columns of the flags table (sample_flags.tsv has them only with a genome).
_GENOME_FLAG_COLUMNS = {
    "genome_reads": ("Genome-only reads", "Reads no miRNA or RNA class explained that map to the genome"),
    "genome_multi_reads": ("Genome multi-mapping", "Genome-only reads with more than one best locus"),
    "transcriptome_genome_ratio": (
        "Transcriptome/genome",
        "Annotated reads / genome-mapped reads, exceRpt's ratio (exRNA standard: > 0.5)",
    ),
}


def qc_flags_table(flags_by_sample: pd.DataFrame, hemolysis: pd.DataFrame, mirna_min_reads: int) -> dict:
    """Table of the QC status, reasons and the metrics behind them."""
    marker, reference, _ = _short_names(hemolysis)
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
    if "transcriptome_genome_ratio" in flags_by_sample:  # genome mode only
        flag_columns.update(_GENOME_FLAG_COLUMNS)
    flags_table = _mqc_table(
        "exomir_qc_flags",
        "exRNA QC flags",
        "Sample QC status and the metrics it is computed from (results/qc/sample_flags.tsv).",
        "exomir: exRNA QC flags",
        flag_columns,
        flags_by_sample,
    )
    return flags_table


# Same shape as qc_flags_table (columns dict, then _mqc_table): different table, columns and text.
def qc_hemolysis_table(hemolysis: pd.DataFrame) -> dict:
    """Table of the hemolysis metrics."""
    marker, reference, short = _short_names(hemolysis)
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
    return hemo_table


_RNA_TYPE_NAMES = {
    "mirna": ("miRNA", "#1b9e77"),
    "rrna": ("rRNA", "#e6ab02"),
    "trna": ("tRNA", "#7570b3"),
    "snrna_snorna": ("snRNA / snoRNA", "#66a61e"),
    "artifact": ("artifact", "#d95f02"),
    "other": ("other (spike-ins, other classes)", "#e7298a"),
    "unknown": ("unknown", "#bdbdbd"),
}


def qc_rna_types_bargraph(rna_types: pd.DataFrame) -> dict:
    """miRTrace-style RNA-type summary per sample (results/qc/rna_types.tsv), as a bar chart."""
    by_sample = rna_types.set_index("sample")
    return {
        "id": "exomir_qc_rna_types",
        "section_name": "RNA types (miRTrace-style)",
        "description": (
            "Reads passing preprocessing by RNA type, as miRTrace reports them (results/qc/rna_types.tsv): "
            "miRNA, rRNA, tRNA, snRNA/snoRNA, artefacts (adapters, primers, concatemers, low-complexity "
            "inserts) and unknown (no library explains them)."
        ),
        "plot_type": "bargraph",
        "pconfig": {"id": "exomir_qc_rna_types_plot", "title": "exomir: RNA types", "ylab": "Reads",
                    "cpswitch_counts_label": "Reads", "sort_samples": False},
        "categories": {key: {"name": name, "color": colour} for key, (name, colour) in _RNA_TYPE_NAMES.items()},
        "data": {
            sample: {key: _clean(row[key]) for key in _RNA_TYPE_NAMES} for sample, row in by_sample.iterrows()
        },
    }


def qc_complexity_linegraph(complexity: pd.DataFrame) -> dict:
    """miRNA complexity curve per sample (results/qc/complexity.tsv), as a line graph."""
    data: dict[str, dict[int, object]] = {}
    for row in complexity.itertuples(index=False):
        data.setdefault(str(row.sample), {})[int(row.reads_sampled)] = _clean(row.mirnas_detected)
    return {
        "id": "exomir_qc_complexity",
        "section_name": "miRNA complexity",
        "description": (
            "Distinct mature miRNAs detected (>= 1 read) against mature-miRNA reads sampled: the exact "
            "rarefaction expectation, deterministic (results/qc/complexity.tsv). A curve that is still "
            "rising at full depth means more sequencing would detect more miRNAs."
        ),
        "plot_type": "linegraph",
        "pconfig": {"id": "exomir_qc_complexity_plot", "title": "exomir: miRNA complexity",
                    "xlab": "Mature miRNA reads sampled", "ylab": "miRNAs detected", "ymin": 0},
        "data": data,
    }


def write_qc_content(
    out_dir: str | Path,
    composition: pd.DataFrame,
    flags: pd.DataFrame,
    hemolysis: pd.DataFrame,
    mirna_min_reads: int,
    rna_types: pd.DataFrame | None = None,
    complexity: pd.DataFrame | None = None,
) -> list[Path]:
    """Write the QC stage's MultiQC (1.35) custom-content JSON files; return their paths.

    * general statistics: % miRNA (of reads passing preprocessing), miRNAs detected,
      hemolysis ratio, QC status;
    * ``exomir_qc_composition``: stacked bar chart of the read composition (reads);
    * ``exomir_qc_flags``: table of status, reasons and metrics;
    * ``exomir_qc_hemolysis``: table of the hemolysis metrics.
    """
    out = Path(out_dir)
    flags_by_sample = flags.set_index("sample")
    samples = list(flags_by_sample.index)
    contents = (
        qc_general_stats(flags_by_sample, hemolysis, mirna_min_reads),
        qc_composition_bargraph(composition, samples),
        qc_flags_table(flags_by_sample, hemolysis, mirna_min_reads),
        qc_hemolysis_table(hemolysis),
    )
    if rna_types is not None and complexity is not None:
        contents += (qc_rna_types_bargraph(rna_types), qc_complexity_linegraph(complexity))
    paths = [out / name for name in QC_CONTENT_FILES[: len(contents)]]
    for path, content in zip(paths, contents):
        _write_json(path, content)
    return paths

"""MultiQC custom content for the small-RNA sections of the QC report.

MultiQC's native modules parse the cutadapt, bowtie, FastQC and samtools
logs; everything specific to small RNA (read-length profile, how reads were
assigned to miRNAs, how many miRNAs each sample detects, which miRNAs
dominate, the differential-expression and biomarker summary) is written
here as ``*_mqc.yaml`` files that MultiQC's custom-content module reads.

Every value comes from a table of the pipeline (see docs/architecture.md),
so the numbers in the MultiQC report can be traced back to a file.
"""

from __future__ import annotations

import logging
import math
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

"""Standalone biomarker report: one self-contained HTML file.

The report gathers the cohort and design, the sample QC, per contrast the
differential-expression results (interactive volcano and MA plots, sortable and
filterable tables), the literature-catalogue view with concordance, the
exploratory ROC/AUC view and the methods (tool versions, reference checksums,
config, command). It reads only the pipeline's tables (docs/architecture.md),
so every number shown can be traced to a file under ``results/``.

Safety: every user-provided string (sample ids, conditions, descriptions,
config values) goes through Jinja2 autoescaping; the data for the plots is
embedded as JSON with ``<``, ``>``, ``&`` and ``'`` escaped (Jinja's ``tojson``),
and the JavaScript inserts text with ``textContent`` only. No network: CSS and
JavaScript are inlined, there is no CDN.
"""

from __future__ import annotations

import importlib.metadata
import logging
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import jinja2
import numpy as np
import pandas as pd
import yaml
from markupsafe import Markup

import exomir
from exomir.countmatrix import count_matrix_section
from exomir.diffexp.report_section import report_notes
from exomir.errors import ExomirInputError
from exomir.genome.report_section import novel_report
from exomir.io import atomic_open, read_tsv
from exomir.qc.mirtrace import report_section as mirtrace_report_section
from exomir.report_scale import summarise_large_cohort
from exomir.report_evidence import (
    cohort_overview,
    findings,
    marker_strips,
    meta_view,
    reader_auc_table,
    roc_legend,
    significant_by_concordance,
    strip_ids,
    svg_data_uri,
    validation_view,
)

log = logging.getLogger("exomir.report")

#: Python packages whose versions are listed in the methods (when installed where the report runs).
PACKAGES = ("snakemake", "cutadapt", "pysam", "pandas", "numpy", "scipy", "pydeseq2", "scikit-learn", "statsmodels",
            "matplotlib", "multiqc", "jinja2")

#: Order of the concordance categories (markers stage).
CONCORDANCE = ("concordant", "discordant", "direction not stated", "not tested", "not detected")

#: Catalogue columns shown first in the catalogue view, when present.
CATALOGUE_FIRST = ("name_in_review", "mature", "role", "direction", "log2FoldChange", "padj", "significant",
                   "concordance", "cited_papers", "detected", "baseMean", "expected_lfc_sign", "comparison",
                   "context", "function", "drug", "targets", "entry_id", "mirna", "review_refs")


#: Columns read as text whatever they hold (identifiers and seeds are printed as written).
TEXT_COLUMNS = ("sample", "seed", "entry_id", "accession", "run", "batch", "subject", "patient")

# ----------------------------------------------------------------------------- formatting


def is_na(value: Any) -> bool:
    """True for None, NaN, pandas NA and empty strings."""
    if value is None or value is pd.NA:
        return True
    if isinstance(value, str):
        return value.strip() == "" or value.strip().lower() in ("nan", "na")
    try:
        return bool(math.isnan(float(value)))
    except (TypeError, ValueError):
        return False


def fmt(value: Any, kind: str = "auto") -> str:
    """Human-readable cell text: thousands separators for integers, 3 significant digits else,
    scientific notation for p-values below 0.001, "NA" for missing values."""
    if isinstance(value, str) and value.strip() == "":
        return ""
    if is_na(value):
        return "NA"
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, str):
        return value
    number = float(value)
    if math.isinf(number):
        return "inf" if number > 0 else "-inf"
    if kind == "p":
        return f"{number:.2e}" if number < 1e-3 else f"{number:.3f}"
    if kind == "int" or (number.is_integer() and abs(number) >= 1 and kind == "auto"):
        return f"{int(round(number)):,}"
    if kind == "pct":
        return f"{number:.1f}%"
    if number == 0:
        return "0"
    if abs(number) >= 1000:
        return f"{number:,.0f}"
    return f"{number:.3g}"


def header(column: str) -> str:
    """Column header for a reader: snake_case words spaced ("raw_reads" -> "raw reads"); DESeq2's
    own names (log2FoldChange, padj, ...) are kept, and the TSV name stays in the title attribute."""
    return str(column).replace("_", " ")


def sort_value(value: Any) -> str:
    """Machine-readable value for the ``data-v`` attribute used by the table sorter ("" = NA)."""
    if is_na(value):
        return ""
    if isinstance(value, (bool, np.bool_)):
        return "1" if value else "0"
    if isinstance(value, (int, float, np.integer, np.floating)):
        number = float(value)
        return "" if math.isnan(number) else repr(number) if not math.isinf(number) else ("1e308" if number > 0 else "-1e308")
    return str(value)


def _json_number(value: Any) -> float | None:
    if is_na(value):
        return None
    number = float(value)
    if math.isinf(number):
        return None
    return float(f"{number:.6g}")


def _is_numeric(series: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)


@dataclass
class Table:
    """A table for the template: column names, numeric flags and rows of (text, sort value, css class)."""

    id: str
    columns: list[str]
    numeric: list[bool]
    rows: list[list[tuple[str, str, str]]]
    row_attrs: list[dict[str, str]] = field(default_factory=list)
    # set on the summaries of large cohorts only (exomir.report_scale); empty = a full table
    note: str = ""
    link: str = ""
    detail: "Table | None" = None

    @classmethod
    def from_frame(
        cls,
        table_id: str,
        df: pd.DataFrame,
        kinds: Mapping[str, str] | None = None,
        classes: Mapping[str, Mapping[str, str]] | None = None,
        row_attrs: list[dict[str, str]] | None = None,
    ) -> "Table":
        kinds = dict(kinds or {})
        classes = dict(classes or {})
        columns = [str(c) for c in df.columns]
        numeric = [_is_numeric(df[c]) for c in df.columns]
        rows = []
        for record in df.itertuples(index=False):
            row = []
            for col, value in zip(columns, record):
                kind = kinds.get(col, "auto")
                text = fmt(value, kind)
                css = classes.get(col, {}).get(text, "")
                row.append((text, sort_value(value), css))
            rows.append(row)
        return cls(table_id, columns, numeric, rows, row_attrs or [{} for _ in rows])


# ----------------------------------------------------------------------------- loading


def _read(path: Path, **kwargs) -> pd.DataFrame:
    try:
        return read_tsv(path, **kwargs)
    except pd.errors.EmptyDataError:
        return pd.DataFrame()


def _read_text_table(path: Path) -> pd.DataFrame:
    """Read a table keeping text as written (ids like 007 stay text, empty cells are "");
    columns whose every non-empty cell is a number become numeric."""
    df = _read(path, dtype=str, keep_default_na=False)
    for col in df.columns:
        values = df[col]
        filled = values != ""
        if col in TEXT_COLUMNS or not filled.any() or values[filled].str.match(r"^0\d").any():
            # IDs and seeds are shown as written (a seed 20170329 is not "20,170,329")
            if filled.any() and values[filled].isin(["True", "False"]).all():
                df[col] = values.map({"True": "yes", "False": "no"}).fillna(values)
            continue
        if values[filled].isin(["True", "False"]).all():
            df[col] = values.map({"True": "yes", "False": "no"}).fillna(values)
            continue
        converted = pd.to_numeric(values.where(filled, None), errors="coerce")
        if int(converted.notna().sum()) == int(filled.sum()):
            df[col] = converted
    return df


@dataclass
class ContrastInfo:
    """Where a contrast comes from: the ``diffexp.contrasts`` entry, or the results columns."""

    name: str
    factor: str
    level: str
    reference: str


def contrast_info(name: str, results: pd.DataFrame, configured: Sequence[Mapping[str, Any]]) -> ContrastInfo:
    """Factor, level and reference of contrast ``name`` (config first, else the ``mean_norm_`` columns)."""
    for entry in configured or []:
        if str(entry.get("name")) == name:
            return ContrastInfo(name, str(entry.get("factor", "")), str(entry.get("level", "")),
                                str(entry.get("reference", "")))
    levels = [c[len("mean_norm_"):] for c in results.columns if str(c).startswith("mean_norm_")]
    level, reference = (levels + ["", ""])[:2]
    return ContrastInfo(name, "", level, reference)


def composition_bars(composition: pd.DataFrame, samples: Sequence[str]) -> dict[str, Any] | None:
    """Per-sample read composition as fractions of raw reads, from ``qc/composition.tsv``.

    Accepts the wide format of the qc stage (``sample``, ``raw_reads``, one read-count column per
    class, then ``<class>_fraction``) or a long format (``sample``, ``class``, ``reads``).
    """
    if composition.empty or "sample" not in composition.columns:
        return None
    composition = composition.copy()
    composition["sample"] = composition["sample"].astype(str)
    if {"class", "reads"} <= set(composition.columns):
        wide = composition.pivot_table(index="sample", columns="class", values="reads", aggfunc="sum", sort=False)
        classes = list(dict.fromkeys(composition["class"]))
        wide = wide[classes]
    else:
        classes = [c for c in composition.columns if c not in ("sample", "raw_reads")
                   and not str(c).endswith("_fraction") and _is_numeric(composition[c])]
        wide = composition.set_index("sample")[classes]
    wide = wide.reindex([s for s in samples if s in wide.index]).fillna(0)
    total = wide.sum(axis=1)
    palette = ["#1b9e77", "#66c2a5", "#b3e2cd", "#7570b3", "#e6ab02", "#66a61e", "#a6761d", "#1f78b4",
               "#e7298a", "#d95f02", "#fc8d62", "#fdcdac", "#8c510a", "#636363", "#bdbdbd", "#cab2d6"]
    colours = {c: palette[i % len(palette)] for i, c in enumerate(classes)}
    rows = []
    for sample in wide.index:
        x = 0.0
        segments = []
        for cls in classes:
            share = float(wide.loc[sample, cls]) / float(total[sample]) if total[sample] else 0.0
            segments.append({"class": cls, "x": round(100 * x, 3), "w": round(100 * share, 3),
                             "reads": int(wide.loc[sample, cls]), "pct": f"{100 * share:.1f}%"})
            x += share
        rows.append({"sample": sample, "total": int(total[sample]), "segments": segments})
    return {"classes": [{"name": c, "colour": colours[c]} for c in classes], "rows": rows}


def _versions_from_logs(results: Path, samples: Sequence[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for sample in samples:
        path = results / "preprocess" / f"{sample}.cutadapt.log"
        if path.exists():
            with open(path, encoding="utf-8", errors="replace") as handle:
                match = re.search(r"This is cutadapt (\S+)", handle.read(2000))
            if match:
                found["cutadapt (from the trimming logs)"] = match.group(1)
                break
    return found


def tool_versions(results: Path, samples: Sequence[str], extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """Versions: exomir, tools recorded in the logs, and the Python packages importable here."""
    versions = {"exomir": exomir.__version__}
    versions.update(_versions_from_logs(results, samples))
    for package in PACKAGES:
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            continue
    versions.update({str(k): str(v) for k, v in (extra or {}).items()})
    return versions


# ----------------------------------------------------------------------------- context


def _sample_frame(samples: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    if not samples:
        raise ExomirInputError("the sample list is empty", where="report", fix="check the sample sheet")
    df = pd.DataFrame([{str(k): ("" if is_na(v) else str(v)) for k, v in s.items()} for s in samples])
    if "sample" not in df.columns or "condition" not in df.columns:
        raise ExomirInputError("samples need the columns 'sample' and 'condition'", where="report",
                               fix="check the sample sheet")
    return df


def _cohort(sheet: pd.DataFrame, results: Path) -> dict[str, Any]:
    shown = [c for c in sheet.columns if c not in ("fastq",)]
    used_path = results / "diffexp" / "samples.tsv"
    used = _read(used_path, dtype=str, keep_default_na=False) if used_path.exists() else pd.DataFrame()
    table = sheet[shown].copy()
    if not used.empty and {"sample", "used"} <= set(used.columns):
        by = used.set_index("sample")
        table["used in DE"] = [by["used"].get(s, "") for s in table["sample"]]
        if "note" in by.columns:
            table["DE note"] = [by["note"].get(s, "") for s in table["sample"]]
    conditions = sheet["condition"].value_counts(sort=False)
    covariates = [c for c in shown if c not in ("sample", "condition", "description")]
    n_used = int((table["used in DE"] == "yes").sum()) if "used in DE" in table.columns else None
    return {
        "n_samples": len(sheet),
        "n_used": n_used,
        "conditions": [(str(k), int(v)) for k, v in conditions.items()],
        "covariates": covariates,
        "table": Table.from_frame("samples-table", table,
                                  classes={"used in DE": {"no": "bad"}}),
    }


def _qc(results: Path, samples: Sequence[str]) -> dict[str, Any]:
    qc: dict[str, Any] = {"flags": None, "status_counts": {}, "composition": None, "hemolysis": None,
                          "spikeins": None, "reads": None}
    flags_path = results / "qc" / "sample_flags.tsv"
    if flags_path.exists():
        flags = _read_text_table(flags_path)
        flags["sample"] = flags["sample"].astype(str)
        order = {s: i for i, s in enumerate(samples)}
        flags = flags.sort_values("sample", key=lambda s: s.map(order).fillna(len(order)), kind="mergesort")
        counts = flags["status"].astype(str).value_counts()
        qc["status_counts"] = {k: int(counts.get(k, 0)) for k in ("pass", "warn", "fail")}
        flags = flags.copy()
        if "reasons" in flags.columns:
            flags["reasons"] = flags["reasons"].astype(str).str.replace(";", "; ", regex=False)
        qc["flags"] = Table.from_frame(
            "flags-table", flags,
            classes={"status": {"pass": "pass", "warn": "warn", "fail": "fail"}},
        )
    comp_path = results / "qc" / "composition.tsv"
    if comp_path.exists():
        qc["composition"] = composition_bars(_read(comp_path, dtype={"sample": str}), samples)
    hemo_path = results / "qc" / "hemolysis.tsv"
    if hemo_path.exists():
        qc["hemolysis"] = Table.from_frame("hemolysis-table", _read_text_table(hemo_path))
    spike_path = results / "qc" / "spikeins.tsv"
    if spike_path.exists():
        spikes = _read_text_table(spike_path)
        if not spikes.empty:
            qc["spikeins"] = Table.from_frame("spikeins-table", spikes)
    rows = []
    for sample in samples:
        pre = results / "preprocess" / f"{sample}.stats.tsv"
        quant = results / "quantify" / f"{sample}.stats.tsv"
        if not (pre.exists() and quant.exists()):
            continue
        p = read_tsv(pre).iloc[0]
        q = read_tsv(quant).iloc[0]
        passing = int(p["passing_reads"])
        rows.append({"sample": sample, "raw reads": int(p["raw_reads"]), "passing reads": passing,
                     "mature miRNA reads": int(q["mature_reads"]),
                     "% mature miRNA": 100.0 * int(q["mature_reads"]) / passing if passing else float("nan"),
                     "miRNAs detected": int(q["mirnas_detected"])})
    if rows:
        qc["reads"] = Table.from_frame("reads-table", pd.DataFrame(rows), kinds={"% mature miRNA": "pct"})
        qc["reads_total"] = {"raw": sum(r["raw reads"] for r in rows),
                             "passing": sum(r["passing reads"] for r in rows)}
    return qc


def _read_results(results: Path, name: str) -> pd.DataFrame:
    """``diffexp/{name}/results.tsv``, checked for the columns the report needs."""
    res_path = results / "diffexp" / name / "results.tsv"
    if not res_path.exists():
        raise ExomirInputError(f"no results for contrast {name!r}", where=str(res_path),
                               fix="run the diffexp stage, or remove the contrast from diffexp.contrasts")
    res = read_tsv(res_path, dtype={"mirna": str})
    for col in ("mirna", "baseMean", "log2FoldChange", "pvalue", "padj"):
        if col not in res.columns:
            raise ExomirInputError(f"column {col!r} is missing", where=str(res_path),
                                   fix="re-run the diffexp stage (format: docs/architecture.md)")
    return res


def _concordance_counts(annotation: pd.DataFrame) -> dict[str, int]:
    """Rows per concordance category, known categories first (in :data:`CONCORDANCE` order)."""
    counts = annotation["concordance"].astype(str).value_counts()
    concordance = {k: int(counts.get(k, 0)) for k in CONCORDANCE}
    for k, v in counts.items():
        if k not in concordance and k:
            concordance[str(k)] = int(v)
    return concordance


def _artefact_lines(annotation: pd.DataFrame) -> list[str]:
    """One sentence per catalogue miRNA whose reads may come from another RNA class (artefact_flag yes)."""
    if "artefact_flag" not in annotation.columns:
        return []
    lines = []
    flagged = annotation[annotation["artefact_flag"].astype(str) == "yes"].drop_duplicates("mature")
    for row in flagged.itertuples(index=False):
        share = getattr(row, "other_class_share", float("nan"))
        origin = str(getattr(row, "non_mirna_origin", "") or "")
        classes = str(getattr(row, "other_classes", "") or "")
        text = f"{row.mature}: {fmt(100 * float(share), 'pct') if not is_na(share) else 'NA'} of its reads are also explained by"
        text += f" {classes.replace(';', ', ')}" if classes else " another RNA class"
        if origin:
            text += f"; known non-miRNA origin: {origin}"
        lines.append(text + ". A change in this miRNA may be a change in that RNA.")
    return lines


def _catalogue_view(markers_dir: Path, name: str) -> dict[str, Any]:
    """Catalogue names, concordance counts, orientation and table of ``markers/{name}/annotation.tsv``."""
    view: dict[str, Any] = {"names": set(), "concordance": {}, "table": None, "orientation": "", "n": 0,
                            "artefacts": []}
    path = markers_dir / "annotation.tsv"
    annotation = _read_text_table(path) if path.exists() else None
    if annotation is None or annotation.empty:
        return view
    view["n"] = len(annotation)
    name_col = "mature" if "mature" in annotation.columns else "mirna"
    if name_col in annotation.columns:
        view["names"] = {str(m) for m in annotation[name_col] if not is_na(m)}
    if "concordance" in annotation.columns:
        view["concordance"] = _concordance_counts(annotation)
    view["artefacts"] = _artefact_lines(annotation)
    if "orientation" in annotation.columns and annotation["orientation"].nunique() == 1:
        view["orientation"] = str(annotation["orientation"].iloc[0])
        annotation = annotation.drop(columns=["orientation"])
    annotation = annotation.drop(columns=[c for c in ("contrast",) if c in annotation.columns])
    first = [c for c in CATALOGUE_FIRST if c in annotation.columns]
    ordered = annotation[first + [c for c in annotation.columns if c not in first]]
    view["table"] = Table.from_frame(
        f"catalogue-{name}", ordered, kinds={"padj": "p", "pvalue": "p"},
        classes={"concordance": {"concordant": "pass", "discordant": "fail",
                                 "direction not stated": "", "not detected": "muted"}},
    )
    return view


def _results_table(res: pd.DataFrame, name: str, sig: pd.Series, catalogue_names: set[str]) -> Table:
    """The sortable DE results table (catalogue membership, significance as a row attribute)."""
    shown = ["mirna", "baseMean", "log2FoldChange", "lfcSE", "pvalue", "padj"]
    if "log2FoldChange_shrunk" in res.columns:
        shown.append("log2FoldChange_shrunk")
    shown += [c for c in res.columns if str(c).startswith("mean_norm_")]
    table_df = res[[c for c in shown if c in res.columns]].copy()
    table_df.insert(1, "catalogue", ["yes" if m in catalogue_names else "" for m in res["mirna"]])
    if "note" in res.columns:
        table_df["note"] = res["note"].fillna("")
    attrs = [{"data-sig": "1" if s else "0"} for s in sig]
    return Table.from_frame(f"results-{name}", table_df, kinds={"pvalue": "p", "padj": "p"}, row_attrs=attrs)


def _auc_view(markers_dir: Path, name: str, level: str, reference: str) -> tuple[Table | None, dict[str, Any], str]:
    """AUC table for a reader, ROC legend text and AUC per curve, and the bootstrap note of ``auc.tsv``.

    The legend and the table are built from the same numbers: the AUC with the higher group as
    positive, and that group's name (issue 20.3: "AUC 1" next to "auc 0, higher in reference").
    """
    auc, legend, auc_note = None, {}, ""
    if (markers_dir / "auc.tsv").exists():
        auc_df = _read_text_table(markers_dir / "auc.tsv")
        if not auc_df.empty and {"auc_best_direction", "higher_in"} <= set(auc_df.columns):
            auc = Table.from_frame(f"auc-{name}", reader_auc_table(auc_df, level, reference))
            legend = {m: {"auc": _json_number(v), "label": text} for (m, text), v in
                      zip(roc_legend(auc_df, level, reference, fmt).items(), auc_df["auc_best_direction"])}
            if "bootstrap" in auc_df.columns and not is_na(auc_df["bootstrap"].iloc[0]):
                auc_note = str(auc_df["bootstrap"].iloc[0])
    if (markers_dir / "panel_summary.tsv").exists():
        summary_df = _read_text_table(markers_dir / "panel_summary.tsv")
        if "cv_auc_mean" in summary_df.columns and not summary_df.empty:
            mean = summary_df["cv_auc_mean"].iloc[0]
            legend.setdefault("panel (nested CV)", {"auc": _json_number(mean),
                                                    "label": f"panel, out-of-fold: mean CV AUC {fmt(mean)}"})
    return auc, legend, auc_note


def _roc_data(markers_dir: Path) -> dict[str, list[list[float | None]]]:
    """ROC points per curve from ``markers/{name}/roc.tsv`` (empty when absent)."""
    roc: dict[str, list[list[float | None]]] = {}
    if (markers_dir / "roc.tsv").exists():
        roc_df = _read(markers_dir / "roc.tsv")
        feature = next((c for c in ("curve", "feature", "mature", "mirna") if c in roc_df.columns), None)
        if feature and {"fpr", "tpr"} <= set(roc_df.columns):
            for key_, group in roc_df.groupby(feature, sort=False):
                roc[str(key_)] = [[_json_number(f), _json_number(t)] for f, t in zip(group["fpr"], group["tpr"])]
    return roc


def _volcano_points(res: pd.DataFrame, sig: pd.Series, catalogue_names: set[str]) -> list[dict[str, Any]]:
    """One JSON point per miRNA for the interactive volcano and MA plots."""
    return [
        {
            "m": str(row.mirna),
            "bm": _json_number(row.baseMean),
            "lfc": _json_number(row.log2FoldChange),
            "p": _json_number(row.pvalue),
            "padj": _json_number(row.padj),
            "sig": bool(s),
            "cat": str(row.mirna) in catalogue_names,
        }
        for row, s in zip(res.itertuples(index=False), sig)
    ]


def _contrast(results: Path, name: str, configured: Sequence[Mapping[str, Any]], alpha: float) -> tuple[dict, dict]:
    """Template context and plot data of one contrast (DE results, catalogue, AUC, panel, ROC)."""
    res = _read_results(results, name)
    info = contrast_info(name, res, configured)
    sig = res["padj"].notna() & (res["padj"] < alpha)
    markers_dir = results / "markers" / name
    catalogue = _catalogue_view(markers_dir, name)
    auc, auc_by, auc_note = _auc_view(markers_dir, name, info.level, info.reference)
    annotation_path = markers_dir / "annotation.tsv"
    annotation = _read_text_table(annotation_path) if annotation_path.exists() else None
    strips = marker_strips(results, res, annotation, info.level, info.reference, alpha)
    roc = _roc_data(markers_dir)
    context = {
        "name": name,
        "anchor": "c-" + re.sub(r"[^A-Za-z0-9_-]", "_", name),
        "factor": info.factor,
        "level": info.level,
        "reference": info.reference,
        "n_rows": len(res),
        "n_tested": int(res["padj"].notna().sum()),
        "n_sig": int(sig.sum()),
        "n_up": int((sig & (res["log2FoldChange"] > 0)).sum()),
        "n_down": int((sig & (res["log2FoldChange"] < 0)).sum()),
        "results": _results_table(res, name, sig, catalogue["names"]),
        "catalogue": catalogue["table"],
        "concordance": catalogue["concordance"],
        "orientation": catalogue["orientation"],
        "n_catalogue": catalogue["n"],
        "artefacts": catalogue["artefacts"],
        "auc": auc,
        "auc_note": auc_note,
        "panel": _optional_table(markers_dir / "panel.tsv", f"panel-{name}", drop=("contrast", "analysis")),
        "panel_summary": _optional_table(markers_dir / "panel_summary.tsv", f"panel-summary-{name}",
                                         drop=("contrast", "analysis")),
        "has_roc": bool(roc),
        "strips": strip_ids(strips),
        "replicated": significant_by_concordance(annotation, "concordant"),
        "contradicted": significant_by_concordance(annotation, "discordant"),
        "dotplot": svg_data_uri(markers_dir / "dotplot.svg"),
    }
    points = _volcano_points(res, sig, catalogue["names"])
    data = {"points": points, "roc": roc, "auc": auc_by, "level": info.level, "reference": info.reference,
            "strips": strips}
    return context, data


def _evidence(results: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """Context and plot data of the cohort overview, validation and meta-analysis sections."""
    overview, validation, meta = cohort_overview(results), validation_view(results), meta_view(results)
    context: dict[str, Any] = {"overview": bool(overview), "validation": None, "meta": None}
    if validation:
        context["validation"] = {"metrics": validation["metrics"],
                                 "calibration": Table.from_frame("calibration-table", validation["calibration"])
                                 if validation["calibration"] is not None else None}
    if meta:
        table = meta["table"].drop(columns=[c for c in ("method",) if c in meta["table"].columns])
        context["meta"] = {**{k: v for k, v in meta.items() if k != "table"},
                           "table": Table.from_frame("meta-table", table, kinds={"pvalue": "p", "padj": "p",
                                                                                  "Q_pvalue": "p"},
                                                     classes={"direction_agreement": {"agrees": "pass",
                                                                                      "contradicts": "fail"}})}
    data = {"overview": overview, "validation_roc": validation["roc"] if validation else []}
    return context, data


def _optional_table(path: Path, table_id: str, drop: Sequence[str] = ()) -> Table | None:
    """Table of an optional file (None when absent or empty); ``;``-lists get spaces to wrap."""
    if not path.exists():
        return None
    df = _read_text_table(path)
    if df.empty:
        return None
    df = df.drop(columns=[c for c in drop if c in df.columns])
    for col in df.columns:
        if df[col].dtype == object:
            df[col] = df[col].astype(str).str.replace(";", "; ", regex=False)
    return Table.from_frame(table_id, df)


def reference_note(config: Mapping[str, Any]) -> str:
    """Which miRBase files were used, from the ``references`` config section."""
    refs = config.get("references") or {}
    download = refs.get("download") or {}
    if download.get("enabled"):
        urls = [str(download.get(k)) for k in ("mature_url", "hairpin_url", "gff3_url") if download.get(k)]
        return "downloaded and verified against their SHA-256: " + ", ".join(urls)
    paths = [str(refs.get(k)) for k in ("mature_fasta", "hairpin_fasta", "gff3") if refs.get(k)]
    if paths:
        return "user-provided files: " + ", ".join(paths)
    return "miRBase 22.1 bundled with exomir (resources/mirbase/22.1)"


def _checksums(results: Path, species: str) -> Table | None:
    path = results / "references" / species / "checksums.tsv"
    if not path.exists():
        return None
    return Table.from_frame("checksums-table", _read(path, dtype=str, keep_default_na=False))


def no_de_reason(diffexp_cfg: Mapping[str, Any]) -> str:
    """Why a run did no differential expression (quantification-only), in words for the report."""
    if not diffexp_cfg.get("enabled", True):
        return "differential expression is switched off (diffexp.enabled: false): a quantification-only run"
    return "no contrast is configured (diffexp.contrasts is empty): a quantification-only run"


def build_context(
    results_dir: str | Path,
    samples: Sequence[Mapping[str, Any]],
    contrasts: Sequence[str],
    config: Mapping[str, Any] | None = None,
    command: str = "",
    multiqc_href: str = "multiqc_report.html",
    alpha: float | None = None,
    title: str | None = None,
    extra_versions: Mapping[str, str] | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Everything the template shows (``context``) and the JSON data for the plots (``data``)."""
    results = Path(results_dir)
    config = dict(config or {})
    sheet = _sample_frame(samples)
    sample_ids = list(sheet["sample"])
    diffexp_cfg = config.get("diffexp") or {}
    if alpha is None:
        alpha = float(diffexp_cfg.get("alpha", 0.1))
    configured = list(diffexp_cfg.get("contrasts") or [])
    species = str(config.get("species", ""))
    contrast_ctx, contrast_data = [], {}
    for name in contrasts:
        ctx, data = _contrast(results, str(name), configured, alpha)
        if ctx["anchor"] in contrast_data:  # e.g. "a.b" and "a_b" sanitise to the same anchor
            ctx["anchor"] += f"-{len(contrast_ctx) + 1}"
        contrast_ctx.append(ctx)
        contrast_data[ctx["anchor"]] = data
    report_cfg = config.get("report") or {}
    context = {
        "title": title or report_cfg.get("title") or "exomir biomarker report",
        "version": exomir.__version__,
        "species": species,
        "alpha": alpha,
        "design": str(diffexp_cfg.get("design", "")),
        "cohort": _cohort(sheet, results),
        "qc": _qc(results, sample_ids),
        "mirtrace": mirtrace_report_section(results),
        "contrasts": contrast_ctx,
        "versions": tool_versions(results, sample_ids, extra_versions),
        "checksums": _checksums(results, species) if species else None,
        "reference_note": reference_note(config),
        "config_yaml": yaml.safe_dump(config, sort_keys=False, default_flow_style=False, allow_unicode=True)
        if config else "",
        "command": command,
        "multiqc_href": multiqc_href,
        "no_de_reason": "" if contrast_ctx else no_de_reason(diffexp_cfg),
        "novel": novel_report(results),  # genome mode (issue 22): None without a genome
        "diffexp_notes": report_notes(results, [str(name) for name in contrasts]),
        "count_matrix": count_matrix_section(results, Table.from_frame),  # count-matrix entry
    }
    evidence, evidence_data = _evidence(results)
    context.update(evidence)
    context["findings"] = findings(context)
    data = {"alpha": alpha, "contrasts": contrast_data, **evidence_data}
    context["overview_note"] = ""
    summarise_large_cohort(context, data, sheet, results, Table.from_frame, composition_bars)
    return context, data


# ----------------------------------------------------------------------------- rendering


def _asset(path: Path, closing: str) -> Markup:
    text = path.read_text(encoding="utf-8")
    if closing in text.lower():
        raise ValueError(f"{path} contains {closing!r} and cannot be inlined")
    return Markup(text)


def render_report(context: Mapping[str, Any], data: Mapping[str, Any], template_dir: str | Path) -> str:
    """Render the HTML with autoescaping; CSS and JS from ``template_dir/assets`` are inlined."""
    template_dir = Path(template_dir)
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(template_dir)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["fmt"] = fmt
    env.filters["header"] = header
    template = env.get_template("exomir_report.html.j2")
    return template.render(
        **context,
        data=data,
        css=_asset(template_dir / "assets" / "report.css", "</style"),
        js=_asset(template_dir / "assets" / "report.js", "</script"),
    )


def write_report(
    out_html: str | Path,
    results_dir: str | Path,
    samples: Sequence[Mapping[str, Any]],
    contrasts: Sequence[str],
    template_dir: str | Path,
    config: Mapping[str, Any] | None = None,
    command: str = "",
    multiqc_href: str = "multiqc_report.html",
    alpha: float | None = None,
    extra_versions: Mapping[str, str] | None = None,
) -> Path:
    """Build and write the standalone report (rule ``exomir_report``)."""
    context, data = build_context(results_dir, samples, contrasts, config, command, multiqc_href, alpha,
                                  extra_versions=extra_versions)
    html = render_report(context, data, template_dir)
    with atomic_open(out_html, "wt") as handle:
        handle.write(html)
    log.info("wrote %s (%d contrasts, %d samples)", out_html, len(contrasts), len(samples))
    return Path(out_html)

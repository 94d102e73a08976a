"""The biomarker report at cohort scale (issue 21.4): above :data:`SAMPLE_ROWS_MAX` samples the
per-sample views are summarised, so the HTML stays small and opens quickly whatever the cohort.

* every per-sample table (cohort, flags, reads, hemolysis, spike-ins, miRTrace-style RNA types
  and complexity) becomes one row per column (values present, min, median, max, most frequent
  texts), followed by the rows that need a look (a warn, fail or "not used" cell) and a link to
  the full TSV under ``results/`` (the report sits in ``results/report/``);
* the read-composition bars are pooled per condition (reads summed over the condition's samples);
* the sample-distance heatmap is drawn from block means: samples grouped by condition, each
  condition cut into consecutive blocks so that there are at most about
  :data:`DISTANCE_BLOCKS_MAX` blocks; a cell is the mean distance of all pairs of different
  samples between two blocks.

Small cohorts (the demo) are left exactly as they were. The PCA, strip plots and the per-miRNA
tables are not summarised: they grow with the number of miRNAs, or by one point per sample.
"""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

#: Above this many samples the per-sample tables, bars and the distance heatmap are summarised.
SAMPLE_ROWS_MAX = 200
#: About this many blocks per side of the summarised sample-distance heatmap.
DISTANCE_BLOCKS_MAX = 100
#: Distinct texts listed per text column of a summary.
TOP_TEXTS = 5
#: Cell classes that mark a row as needing a look (status warn/fail, "used in DE: no").
ATTENTION = ("warn", "fail", "bad")

#: Per-sample tables of the report context: (keys to the table, TSV the full table is in).
SAMPLE_TABLES = (
    (("cohort", "table"), "diffexp/samples.tsv"),
    (("qc", "flags"), "qc/sample_flags.tsv"),
    (("qc", "reads"), "qc/sample_flags.tsv"),
    (("qc", "hemolysis"), "qc/hemolysis.tsv"),
    (("qc", "spikeins"), "qc/spikeins.tsv"),
    (("mirtrace", "rna_types"), "qc/rna_types.tsv"),
    (("mirtrace", "complexity"), "qc/complexity.tsv"),
)


def _text_counts(texts: Sequence[str]) -> str:
    """The most frequent texts with their counts, most frequent first (ties by text)."""
    counts = sorted(Counter(texts).items(), key=lambda item: (-item[1], item[0]))
    shown = "; ".join(f"{text}: {n:,}" for text, n in counts[:TOP_TEXTS])
    return shown + (f"; {len(counts) - TOP_TEXTS:,} more" if len(counts) > TOP_TEXTS else "")


def summary_frame(columns: Sequence[str], numeric: Sequence[bool], rows: Sequence[Sequence[tuple]]) -> pd.DataFrame:
    """One row per column of a report table: values present, min/median/max of numeric columns
    (from the cells' sort values, i.e. unrounded), the most frequent texts of the others."""
    out = []
    for at, (column, is_number) in enumerate(zip(columns, numeric)):
        cells = [row[at] for row in rows if row[at][1] != ""]
        entry: dict[str, Any] = {"column": column, "values": len(cells), "min": "", "median": "", "max": "",
                                 "most frequent": ""}
        if is_number and cells:
            values = np.array([float(v) for _, v, _ in cells])
            entry.update(min=float(values.min()), median=float(np.median(values)), max=float(values.max()))
        elif cells:
            entry["most frequent"] = _text_counts([text for text, _, _ in cells])
        out.append(entry)
    return pd.DataFrame(out, columns=["column", "values", "min", "median", "max", "most frequent"])


def summarised_table(table, link: str, from_frame) -> Any:
    """``table`` (an ``exomir.report.Table``) as its column summary; the rows needing a look follow
    as ``detail``; ``note`` and ``link`` name the full table. ``from_frame`` = ``Table.from_frame``."""
    summary = from_frame(f"{table.id}-summary", summary_frame(table.columns, table.numeric, table.rows))
    flagged = [i for i, row in enumerate(table.rows) if any(css in ATTENTION for _, _, css in row)]
    summary.note = (f"{len(table.rows):,} samples: summarised, one row per column of the full table"
                    + (f"; the {len(flagged):,} rows that need a look follow." if flagged else "."))
    summary.link = link
    if flagged:
        kept = flagged[:SAMPLE_ROWS_MAX]
        summary.detail = type(table)(table.id, table.columns, table.numeric, [table.rows[i] for i in kept],
                                     [table.row_attrs[i] for i in kept])
        if len(flagged) > len(kept):
            summary.detail.note = f"The first {len(kept):,} of {len(flagged):,} rows that need a look."
    return summary


def condition_blocks(groups: Sequence[str], max_blocks: int | None = None) -> list[list[int]]:
    """Sample positions in blocks: by group (first-seen order), each group cut into consecutive
    blocks of ``ceil(n / max_blocks)`` samples (default :data:`DISTANCE_BLOCKS_MAX`), so a block
    never mixes two groups."""
    size = max(1, math.ceil(len(groups) / (max_blocks or DISTANCE_BLOCKS_MAX)))
    blocks = []
    for group in dict.fromkeys(groups):
        members = [i for i, g in enumerate(groups) if g == group]
        blocks.extend(members[start:start + size] for start in range(0, len(members), size))
    return blocks


def _block_label(samples: Sequence[str], block: Sequence[int]) -> str:
    if len(block) == 1:
        return samples[block[0]]
    return f"{samples[block[0]]} .. {samples[block[-1]]} ({len(block):,} samples)"


def block_distances(distances: Mapping[str, Any], max_blocks: int | None = None) -> dict[str, Any]:
    """The report's distance data (samples, groups, values) as block means (:func:`condition_blocks`);
    pairs of a sample with itself and missing distances are left out of the means."""
    samples, groups = list(distances["samples"]), list(distances["groups"])
    values = np.array([[np.nan if v is None else v for v in row] for row in distances["values"]], dtype=float)
    valid = ~np.isnan(values)
    np.fill_diagonal(valid, False)
    blocks = condition_blocks(groups, max_blocks)
    member = np.zeros((len(samples), len(blocks)))
    for b, block in enumerate(blocks):
        member[block, b] = 1.0
    sums = member.T @ np.where(valid, values, 0.0) @ member
    pairs = member.T @ valid.astype(float) @ member
    means = np.divide(sums, pairs, out=np.full_like(sums, np.nan), where=pairs > 0)
    return {"samples": [_block_label(samples, b) for b in blocks], "groups": [groups[b[0]] for b in blocks],
            "values": [[None if math.isnan(v) else float(f"{v:.6g}") for v in row] for row in means]}


def pooled_composition(composition: pd.DataFrame, sheet: pd.DataFrame, bars) -> dict[str, Any] | None:
    """Read-composition bars of the conditions (reads summed over each condition's samples);
    ``bars`` = ``exomir.report.composition_bars``."""
    if composition.empty or "sample" not in composition.columns:
        return None
    condition = dict(zip(sheet["sample"].astype(str), sheet["condition"].astype(str)))
    frame = composition.copy()
    frame["sample"] = frame["sample"].astype(str).map(condition)
    frame = frame[frame["sample"].notna()]
    sizes = frame["sample"].value_counts(sort=False)
    counts = [c for c in frame.columns if c != "sample" and not str(c).endswith("_fraction")
              and pd.api.types.is_numeric_dtype(frame[c])]
    pooled = frame.groupby("sample", sort=False)[counts].sum().reset_index()
    pooled["sample"] = [f"{c} ({sizes[c]:,} sample{'' if sizes[c] == 1 else 's'})" for c in pooled["sample"]]
    view = bars(pooled, list(pooled["sample"]))
    if view is not None:
        view["note"] = (f"{len(composition):,} samples: one bar per condition, the reads of its samples summed; "
                        "per-sample values are in the file.")
    return view


def summarise_large_cohort(context: dict[str, Any], data: dict[str, Any], sheet: pd.DataFrame, results: Path,
                           from_frame, bars) -> None:
    """Summarise the per-sample views of ``context`` and ``data`` in place when the cohort has
    more than :data:`SAMPLE_ROWS_MAX` samples (nothing changes otherwise)."""
    if len(sheet) <= SAMPLE_ROWS_MAX:
        return
    for (section, key), tsv in SAMPLE_TABLES:
        part = context.get(section)
        if part and part.get(key) is not None:
            link = f"../{tsv}" if (results / tsv).exists() else ""
            part[key] = summarised_table(part[key], link, from_frame)
    if context["qc"].get("composition") is not None:
        composition = pd.read_csv(results / "qc" / "composition.tsv", sep="\t", dtype={"sample": str})
        context["qc"]["composition"] = pooled_composition(composition, sheet, bars)
    overview = data.get("overview")
    if overview and len(overview["distances"]["samples"]) > SAMPLE_ROWS_MAX:
        overview["distances"] = block_distances(overview["distances"])
        context["overview_note"] = (f"{len(sheet):,} samples: drawn from block means (samples grouped by condition, "
                                    f"{len(overview['distances']['samples'])} blocks; hover a cell for the blocks); "
                                    "every distance is in the file.")

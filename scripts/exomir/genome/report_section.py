"""Data of the biomarker report's novel-miRNA section (genome mode, issue 22).

The section itself is the Jinja partial ``workflow/report/novel_mirnas.html.j2``; this module
reads what rule genome_novel wrote (``results/genome/novel_candidates.tsv``,
``novel_counts.tsv`` and ``novel_stacks.json``) and returns the context the partial shows, or
``None`` when genome mode did not run (then the partial renders nothing).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from exomir.io import read_tsv

#: Columns of the candidate table in the report (the TSV has every score component too).
REPORT_COLUMNS = [
    "id", "chrom", "start", "end", "strand", "arm", "mature_sequence", "star_sequence", "mfe",
    "total_reads", "mature_reads", "star_reads", "five_prime_consistency", "score", "call", "overlaps",
]  # fmt: skip
#: Drawings shown (best scores first): a real genome can give hundreds of candidates.
MAX_DRAWINGS = 50


def _call_counts(candidates: pd.DataFrame) -> list[tuple[str, int]]:
    """(call, number of loci) in descending number, then name: novel, known_*, below_cutoff..."""
    counts = candidates["call"].value_counts()
    return sorted(((str(call), int(n)) for call, n in counts.items()), key=lambda item: (-item[1], item[0]))


def _drawings(novel: pd.DataFrame, stacks: dict[str, list[str]]) -> list[dict[str, Any]]:
    """Title and text lines (precursor, dot-bracket, mature/star, read stacks) per novel candidate."""
    best = novel.sort_values(["score", "id"], ascending=[False, True], kind="stable").head(MAX_DRAWINGS)
    return [
        {
            "id": row["id"],
            "title": f"{row['chrom']}:{row['start']}-{row['end']} ({row['strand']}), {row['arm']} mature, "
            f"score {row['score']}",
            "text": "\n".join(stacks.get(row["id"], [])),
        }
        for _, row in best.iterrows()
    ]


def novel_report(results_dir: str | Path) -> dict[str, Any] | None:
    """Context of the novel-miRNA section, or None without genome-mode results."""
    from exomir.report import Table  # exomir.report imports this module

    genome = Path(results_dir) / "genome"
    paths = [genome / name for name in ("novel_candidates.tsv", "novel_counts.tsv", "novel_stacks.json")]
    if not all(path.exists() for path in paths):
        return None
    candidates = read_tsv(paths[0], dtype={"chrom": str, "id": str}, keep_default_na=False, na_values=[""])
    counts = read_tsv(paths[1], dtype={"novel": str})
    stacks = json.loads(paths[2].read_text(encoding="utf-8"))
    novel = candidates[candidates["call"] == "novel"] if len(candidates) else candidates
    shown = candidates.reindex(columns=REPORT_COLUMNS)
    return {
        "n_evaluated": len(candidates),
        "n_novel": len(novel),
        "calls": _call_counts(candidates) if len(candidates) else [],
        "candidates": Table.from_frame("novel-candidates-table", shown) if len(candidates) else None,
        "counts": Table.from_frame("novel-counts-table", counts) if len(counts) else None,
        "drawings": _drawings(novel, stacks) if len(novel) else [],
        "max_drawings": MAX_DRAWINGS,
    }

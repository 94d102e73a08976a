"""Data of the report's differential-expression notes (partial ``workflow/report/diffexp_notes.html.j2``).

Per contrast: which fold change is which (:data:`exomir.diffexp.LFC_NOTE`) and the
hemolysis check of ``results.tsv`` (column ``hemolysis_sensitive``, see
:mod:`exomir.diffexp.hemolysis`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import pandas as pd

from exomir.diffexp import LFC_NOTE
from exomir.diffexp.hemolysis import HEMOLYSIS_NOTE, SENSITIVE_COLUMN


def hemolysis_summary(results: pd.DataFrame) -> dict[str, Any]:
    """Counts and names of the hemolysis check in one results table (``status`` says which case)."""
    if SENSITIVE_COLUMN not in results.columns:
        return {"status": "absent", "n_calls": 0, "n_lost": 0, "lost": []}
    column = results[SENSITIVE_COLUMN].fillna("").astype(str)
    if (column == "not_assessed").any():
        return {"status": "not_assessed", "n_calls": int((column == "not_assessed").sum()), "n_lost": 0, "lost": []}
    lost = results.loc[column == "yes", "mirna"].astype(str).tolist()
    return {"status": "assessed", "n_calls": int(column.isin(["yes", "no"]).sum()), "n_lost": len(lost),
            "lost": lost}


def report_notes(results_dir: str | Path, contrasts: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Per contrast name: the LFC note, the hemolysis note and the hemolysis check's summary."""
    notes = {}
    for name in contrasts:
        path = Path(results_dir) / "diffexp" / str(name) / "results.tsv"
        table = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False) if path.exists() else pd.DataFrame()
        notes[str(name)] = {"lfc_note": LFC_NOTE, "hemolysis_note": HEMOLYSIS_NOTE,
                            "hemolysis": hemolysis_summary(table)}
    return notes

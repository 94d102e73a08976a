"""Hemolysis-aware differential expression: the hemolysis score as a covariate, and a sensitivity check.

Red-blood-cell miRNAs (miR-451a, miR-486-5p, miR-16-5p, miR-92a-3p) leak into
plasma when blood cells lyse; a hemolysed sample in one group makes them look
differentially expressed. exomir's hemolysis score is the sample's
``log2((miR-451a + 1) / (miR-23a-3p + 1))`` from ``qc/hemolysis.tsv``
(:func:`exomir.qc.hemolysis.hemolysis_table`).

* ``diffexp.hemolysis_covariate: true`` adds the score, centred on the used
  samples' mean, as a continuous term to the design (``~ batch + condition +
  hemolysis``); the reported statistics are then adjusted for hemolysis.
* Whether or not it is on (``diffexp.hemolysis_check``, default true), the
  design is also fitted the other way (with the covariate when it is off,
  without it when it is on), and ``results.tsv`` gets the column
  ``hemolysis_sensitive``: for every call of the model *without* the covariate
  (padj < alpha), ``yes`` when it is not a call once hemolysis is accounted
  for, ``no`` when it stays a call; empty for miRNAs that are not calls without
  the covariate; ``not_assessed`` on every call when the check could not run
  (the log and the report say why).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from exomir.diffexp import (
    Contrast,
    DiffexpSettings,
    Fit,
    contrast_table,
    design_rank_problem,
    fit_design,
    model_metadata,
    fit_baselines,
    tested_statistics,
)
from exomir.errors import ExomirInputError
from exomir.io import read_tsv

LOG = logging.getLogger("exomir.diffexp")

#: Name of the continuous design term (not a sample-sheet column: checked in :func:`with_hemolysis`).
HEMOLYSIS_TERM = "hemolysis"
#: Results column of the sensitivity check.
SENSITIVE_COLUMN = "hemolysis_sensitive"

#: Short text for the report, next to the results tables.
HEMOLYSIS_NOTE = (
    "hemolysis_sensitive marks the calls (padj < alpha) of the model without the hemolysis covariate: "
    "yes = not a call any more when the sample's hemolysis score (log2 miR-451a / miR-23a-3p, "
    "qc/hemolysis.tsv) is added to the design as a continuous covariate, no = still a call; empty for "
    "miRNAs that are not calls without the covariate. A 'yes' call may be driven by red-blood-cell "
    "miRNAs released by hemolysis in some samples rather than by the condition. With "
    "diffexp.hemolysis_covariate: true the reported statistics are the adjusted ones."
)


def read_hemolysis_scores(path: str | Path, samples: pd.DataFrame) -> pd.Series:
    """``log2_ratio`` of ``qc/hemolysis.tsv`` per used sample (NaN where not assessable)."""
    table = read_tsv(path, dtype={"sample": str}).set_index("sample")
    used = samples.loc[samples["used"] == "yes", "sample"].tolist()
    missing = [s for s in used if s not in table.index]
    if "log2_ratio" not in table.columns or missing:
        raise ExomirInputError(
            f"no hemolysis score (column log2_ratio) for sample(s) {missing or used}",
            where=str(path),
            fix="rerun the qc stage",
        )
    return table.loc[used, "log2_ratio"].astype(float)


def with_hemolysis(design: str, samples: pd.DataFrame) -> str:
    """``design`` plus the hemolysis term; a sample-sheet column of that name would be ambiguous."""
    if HEMOLYSIS_TERM in samples.columns:
        raise ExomirInputError(
            f"the sample sheet has a column {HEMOLYSIS_TERM!r}, the name of exomir's hemolysis covariate",
            where="sample sheet",
            fix=f"rename the column, or set diffexp.hemolysis_covariate and diffexp.hemolysis_check to false",
        )
    return f"{design} + {HEMOLYSIS_TERM}"


def covariate_problem(scores: pd.Series | None, samples: pd.DataFrame, settings: DiffexpSettings) -> str:
    """Why the design with the hemolysis covariate cannot be fitted (empty when it can)."""
    if scores is None:
        return "no hemolysis scores (qc/hemolysis.tsv) were given"
    unassessable = scores.index[~np.isfinite(scores.to_numpy())].tolist()
    if unassessable:
        return (f"the hemolysis score of sample(s) {', '.join(unassessable)} is not assessable "
                "(too few miR-451a + miR-23a-3p reads)")
    design = with_hemolysis(settings.design, samples)
    meta = model_metadata(samples, design, fit_baselines(settings), covariates={HEMOLYSIS_TERM: scores})
    return design_rank_problem(meta, design)


@dataclass
class HemolysisFits:
    """The configured fit (``main``), the fit of the other hemolysis variant, and why it is missing."""

    main: Fit
    other: Fit | None
    covariate_in_main: bool
    note: str = ""

    def contrast_table(self, contrast: Contrast, settings: DiffexpSettings) -> pd.DataFrame:
        """``contrast``'s results from the main fit, with the ``hemolysis_sensitive`` column."""
        table = contrast_table(self.main, contrast, settings)
        column = pd.Series("", index=table.index, dtype=object)
        if self.other is None:
            column[table["padj"] < settings.alpha] = "not_assessed"
        else:
            other = tested_statistics(self.other, contrast, settings)["padj"].reindex(table["mirna"]).to_numpy()
            with_cov, without = (table["padj"].to_numpy(), other) if self.covariate_in_main else (
                other, table["padj"].to_numpy())
            column[:] = sensitivity(without, with_cov, settings.alpha)
            LOG.info("%s: %d of %d calls without the hemolysis covariate lose significance with it",
                     contrast.name, int((column == "yes").sum()), int(column.isin(["yes", "no"]).sum()))
        table.insert(table.columns.get_loc("note"), SENSITIVE_COLUMN, column.to_numpy())
        return table


def sensitivity(padj_without: np.ndarray, padj_with: np.ndarray, alpha: float) -> np.ndarray:
    """``yes`` / ``no`` for the calls without the covariate (lost / kept with it), else empty."""
    called = np.nan_to_num(np.asarray(padj_without, dtype=float), nan=1.0) < alpha
    kept = np.nan_to_num(np.asarray(padj_with, dtype=float), nan=1.0) < alpha
    return np.where(called, np.where(kept, "no", "yes"), "")


def hemolysis_fits(
    counts: pd.DataFrame,
    samples: pd.DataFrame,
    keep: pd.Series,
    settings: DiffexpSettings,
    scores: pd.Series | None,
) -> HemolysisFits:
    """Fit the configured design and, for the check, its other hemolysis variant.

    With ``hemolysis_covariate`` on, a score that cannot be used is an error;
    with it off, the check is skipped with a note (column ``not_assessed``).
    """
    problem = covariate_problem(scores, samples, settings)
    if settings.hemolysis_covariate and problem:
        raise ExomirInputError(
            f"diffexp.hemolysis_covariate is on but {problem}",
            where="config diffexp.hemolysis_covariate",
            fix="set diffexp.hemolysis_covariate: false, or check the hemolysis QC (qc/hemolysis.tsv)",
        )
    plain = fit_design(counts, samples, settings, keep) if not settings.hemolysis_covariate else None
    adjusted = None
    if settings.hemolysis_covariate or (settings.hemolysis_check and not problem):
        design = with_hemolysis(settings.design, samples)
        adjusted = fit_design(counts, samples, replace(settings, design=design), keep, design,
                              covariates={HEMOLYSIS_TERM: scores - scores.mean()})
    if settings.hemolysis_covariate and settings.hemolysis_check:
        plain = fit_design(counts, samples, settings, keep)
    note = "" if settings.hemolysis_check else "the hemolysis check is off (diffexp.hemolysis_check: false)"
    note = note or problem
    if note:
        LOG.warning("hemolysis sensitivity not assessed: %s", note)
    if settings.hemolysis_covariate:
        return HemolysisFits(adjusted, plain, True, note)
    return HemolysisFits(plain, adjusted, False, note)

"""Contrast groups and the annotation of a DE contrast with the catalogue (concordance)."""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Mapping, Sequence

import pandas as pd

from exomir.errors import ExomirInputError
from exomir.markers.names import _natural_key

log = logging.getLogger("exomir.markers")

#: Label carried by every diagnostic-performance output.
EXPLORATORY = "exploratory, discovery cohort"

ROLES = (
    "diagnosis/prognosis",
    "metastasis/invasion",
    "angiogenesis",
    "drug resistance",
    "immune modulation",
    "microenvironment/stem cells",
    "transformation",
    "therapy",
)
DIRECTIONS = ("up", "down", "not stated")
#: "not tested": enough reads, but the DE stage's prefilter left the miRNA out (no LFC).
CONCORDANCE = ("concordant", "discordant", "direction not stated", "not detected", "not tested")


# --------------------------------------------------------------------------------------------
# Contrast groups and annotation
# --------------------------------------------------------------------------------------------
def contrast_orientation(level: str, reference: str, case_levels: Sequence[str]) -> int:
    """+1 when ``level`` is the cancer group, -1 when ``reference`` is, 0 when unknown.

    Literature directions ("up in cancer") are mapped to the contrast's log2 fold change
    (level vs reference) by this sign.
    """
    cases = {c.lower() for c in case_levels}
    level_case, ref_case = level.lower() in cases, reference.lower() in cases
    if level_case and not ref_case:
        return 1
    if ref_case and not level_case:
        return -1
    return 0


def contrast_samples(
    samples_tsv: str | Path, contrast: Mapping[str, str], available: Sequence[str]
) -> tuple[list[str], list[str]]:
    """Level and reference samples of a contrast, in sample-sheet order.

    Read from the DE stage's ``samples.tsv`` (``sample``, design columns, ``used``): a sample
    counts when ``used`` is "yes", its ``contrast['factor']`` value is the level or the
    reference, and it is a column of the expression matrix (``available``).
    """
    df = pd.read_csv(samples_tsv, sep="\t", dtype=str, keep_default_na=False)
    factor = contrast["factor"]
    for column in ("sample", factor):
        if column not in df.columns:
            raise ExomirInputError(
                f"column '{column}' missing (needed for contrast '{contrast['name']}')",
                where=str(samples_tsv),
                fix="check diffexp.contrasts[].factor against the sample sheet and re-run the diffexp stage",
            )
    used = df["used"].str.strip().str.lower().isin(["yes", "true", "1"]) if "used" in df.columns else True
    avail = set(available)
    df = df[used & df["sample"].isin(avail)]
    level = df.loc[df[factor] == contrast["level"], "sample"].tolist()
    reference = df.loc[df[factor] == contrast["reference"], "sample"].tolist()
    if not level or not reference:
        raise ExomirInputError(
            f"contrast '{contrast['name']}' has {len(level)} '{contrast['level']}' and {len(reference)} "
            f"'{contrast['reference']}' samples among the used samples",
            where=str(samples_tsv),
            fix="check diffexp.contrasts (factor, level, reference) against the sample sheet",
        )
    return level, reference


def find_contrast(contrasts: Sequence[Mapping[str, str]], name: str) -> dict[str, str]:
    """The contrast called ``name`` from config ``diffexp.contrasts``."""
    for contrast in contrasts:
        if contrast.get("name") == name:
            missing = [k for k in ("factor", "level", "reference") if not contrast.get(k)]
            if missing:
                raise ExomirInputError(
                    f"contrast '{name}' lacks {', '.join(missing)}",
                    where="config diffexp.contrasts",
                    fix="give name, factor, level, reference",
                )
            return {k: str(contrast[k]) for k in ("name", "factor", "level", "reference")}
    raise ExomirInputError(
        f"no contrast named '{name}'",
        where="config diffexp.contrasts",
        fix="add the contrast or remove it from the requested outputs",
    )


def _sign(value: float) -> int:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value == 0:
        return 0
    return 1 if value > 0 else -1


def concordance(direction: str, detected: bool, lfc: float, orientation: int) -> tuple[str, str]:
    """Concordance of an observed log2 fold change with a literature direction.

    Returns (concordance, expected sign text). ``orientation`` is +1 when the contrast's level
    is the cancer group, -1 when the reference is, 0 when unknown (then no direction can be
    compared: "direction not stated"). A detected miRNA without a log2 fold change (left out
    by the DE prefilter) is "not tested".
    """
    if not detected:
        return "not detected", ""
    if lfc is None or math.isnan(lfc):
        return "not tested", ""
    if direction not in ("up", "down") or orientation == 0:
        return "direction not stated", ""
    expected = (1 if direction == "up" else -1) * orientation
    observed = _sign(lfc)
    text = "positive" if expected > 0 else "negative"
    if observed == 0:
        return "direction not stated", text
    return ("concordant" if observed == expected else "discordant"), text


def detected_mirnas(
    counts: pd.DataFrame, level: Sequence[str], reference: Sequence[str], min_count: int, min_fraction: float
) -> set[str]:
    """miRNAs with >= min_count reads in >= min_fraction of the samples of either group."""
    out: set[str] = set()
    for group in (level, reference):
        cols = [s for s in group if s in counts.columns]
        if not cols:
            continue
        frac = (counts[cols] >= min_count).mean(axis=1)
        out.update(counts.index[frac >= min_fraction - 1e-12])
    return out


#: Catalogue columns copied to every annotation row.
ANNOTATION_KEEP = [
    "catalogue", "entry_id", "name_in_review", "mirna", "role", "function", "drug", "targets", "direction",
    "comparison", "context", "source", "review_refs", "cited_papers", "notes", "legacy_mature",
]  # fmt: skip
#: DE result columns copied to every annotation row (NaN when the miRNA has no result).
RESULT_COLUMNS = ["baseMean", "log2FoldChange", "log2FoldChange_shrunk", "lfcSE", "stat", "pvalue", "padj"]


def _warn_unknown_orientation(contrast: Mapping[str, str], case_levels: Sequence[str]) -> None:
    log.warning(
        "contrast %s: not exactly one of '%s' and '%s' is in markers.case_levels %s; "
        "literature directions are not compared (concordance 'direction not stated')",
        contrast["name"],
        contrast["level"],
        contrast["reference"],
        list(case_levels),
    )


def annotation_row(
    entry: Mapping[str, str],
    mature: str,
    res: pd.DataFrame,
    detected_set: set[str],
    result_columns: Sequence[str],
    orientation: int,
    alpha: float,
) -> dict:
    """One annotation row: a catalogue entry joined to the DE result of one of its mature names."""
    row = {k: entry.get(k, "") for k in ANNOTATION_KEEP}
    row["mature"] = mature
    row["legacy_arm"] = "yes" if mature and mature in set(entry["legacy_mature"].split(";")) else "no"
    in_res = mature in res.index
    lfc = float(res.at[mature, "log2FoldChange"]) if in_res else float("nan")
    detected = bool(mature) and mature in detected_set
    tested = detected and not math.isnan(lfc)
    row["detected"] = "yes" if detected else "no"
    row["tested"] = "yes" if tested else "no"
    for col in result_columns:
        row[col] = float(res.at[mature, col]) if in_res and col in res.columns else float("nan")
    padj = row["padj"]
    row["significant"] = "yes" if tested and not math.isnan(padj) and padj < alpha else "no"
    row["concordance"], row["expected_lfc_sign"] = concordance(entry["direction"], detected, lfc, orientation)
    return row


def annotate_contrast(
    resolved: pd.DataFrame,
    results: pd.DataFrame,
    counts: pd.DataFrame,
    contrast: Mapping[str, str],
    level_samples: Sequence[str],
    reference_samples: Sequence[str],
    case_levels: Sequence[str],
    alpha: float,
    min_count: int,
    min_fraction: float,
) -> pd.DataFrame:
    """One row per (catalogue entry, resolved mature name) with DE results and concordance.

    ``detected`` requires both enough reads (:func:`detected_mirnas`) and a DE result (non-NA
    log2 fold change). Entries that resolve to no mature name get one row with empty ``mature``.
    """
    orientation = contrast_orientation(contrast["level"], contrast["reference"], case_levels)
    if orientation == 0:
        _warn_unknown_orientation(contrast, case_levels)
    det = detected_mirnas(counts, level_samples, reference_samples, min_count, min_fraction)
    res = results.set_index("mirna")
    lvl, ref = contrast["level"], contrast["reference"]
    mean_cols = [c for c in (f"mean_norm_{lvl}", f"mean_norm_{ref}") if c in res.columns]
    rows = [
        annotation_row(entry, mature, res, det, RESULT_COLUMNS + mean_cols, orientation, alpha)
        for entry in resolved.to_dict(orient="records")
        for mature in ([n for n in entry["mirbase_names"].split(";") if n] or [""])
    ]
    out = pd.DataFrame(rows)
    out.insert(0, "contrast", contrast["name"])
    out["orientation"] = {
        1: f"{lvl} is the cancer group",
        -1: f"{ref} is the cancer group",
        0: "unknown: neither level is in markers.case_levels",
    }[orientation]
    out = out.drop(columns=["legacy_mature"])
    out = out.sort_values(["mirna", "role", "entry_id", "mature"], key=_natural_key).reset_index(drop=True)
    return out


# --------------------------------------------------------------------------------------------
# Artefact awareness (contract with the quantification stage: mature_other_class.tsv)
# --------------------------------------------------------------------------------------------
def read_other_class(path: str | Path) -> pd.DataFrame:
    """``quantify/mature_other_class.tsv`` indexed by miRNA (share of reads another RNA class explains)."""
    df = pd.read_csv(path, sep="\t", dtype={"mirna": str, "other_classes": str}, keep_default_na=False)
    missing = [c for c in ("mirna", "reads", "other_class_reads", "other_class_share") if c not in df.columns]
    if missing:
        raise ExomirInputError(
            f"column(s) {', '.join(missing)} missing",
            where=str(path),
            fix="re-run the quantify stage (format: docs/architecture.md)",
        )
    if "other_classes" not in df.columns:
        df["other_classes"] = ""
    return df.set_index("mirna")


def add_artefact_columns(
    annotation: pd.DataFrame,
    other_class: pd.DataFrame,
    origins: Mapping[str, str],
    artefact_share: float,
) -> pd.DataFrame:
    """Add ``other_class_share``, ``other_classes``, ``non_mirna_origin`` and ``artefact_flag``.

    ``artefact_flag`` is "yes" when at least ``artefact_share`` of the miRNA's reads are also
    explained by another RNA class, or when the catalogue knows a non-miRNA origin (e.g. miR-1246
    as a U2 snRNA fragment) and any read is shared: then "miR-1246 up" may mean "U2 fragments up".
    ``origins`` maps catalogue ``mirna`` -> ``non_mirna_origin`` text.
    """
    out = annotation.copy()
    share = [
        float(other_class.at[m, "other_class_share"]) if m and m in other_class.index else float("nan")
        for m in out["mature"]
    ]
    out["other_class_share"] = share
    out["other_classes"] = [
        str(other_class.at[m, "other_classes"]) if m and m in other_class.index else "" for m in out["mature"]
    ]
    out["non_mirna_origin"] = [origins.get(m, "") for m in out["mirna"]]
    out["artefact_flag"] = [
        "yes" if not math.isnan(s) and (s >= artefact_share or (origin and s > 0)) else "no"
        for s, origin in zip(share, out["non_mirna_origin"])
    ]
    return out

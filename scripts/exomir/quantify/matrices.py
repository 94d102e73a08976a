"""Cohort count matrices, RPM, isomiR table and mapping stats (rule quantify_matrices).

Part of :mod:`exomir.quantify` (the module docstring there describes the method).
"""

from __future__ import annotations

import pandas as pd

from exomir.errors import ExomirInputError
from exomir.io import read_tsv, write_tsv
from exomir.quantify.inputs import read_features, read_hairpins


def _read_assignments(path: str) -> pd.DataFrame:
    return pd.read_csv(
        path,
        sep="\t",
        dtype={
            "sequence": str,
            "hairpins": str,
            "mature": str,
            "status": str,
            "isomir_type": str,
            "other_classes": str,
        },
        keep_default_na=False,
    )


def _add_sample(
    sample: str,
    assignment_path: str,
    mature: pd.DataFrame,
    hairpin: pd.DataFrame,
    mature_tsv: str,
    other: pd.DataFrame,
    other_classes: dict[str, set[str]],
) -> pd.DataFrame:
    """Fill the sample's column of ``mature`` / ``hairpin`` / ``other``; return its isomiR counts."""
    table = _read_assignments(assignment_path)
    other_reads, classes = other_class_counts(table)
    other.loc[other_reads.index, sample] = other_reads
    for name, names in classes.items():
        other_classes.setdefault(name, set()).update(names)
    counted = table[table["status"] == "mature"].groupby("mature")["count"].sum()
    unknown = sorted(set(counted.index) - set(mature.index))
    if unknown:
        raise ExomirInputError(
            f"assignments name mature miRNAs not in {mature_tsv}: {', '.join(unknown[:10])}",
            where=assignment_path,
            fix="re-run quantification after the references stage",
        )
    mature.loc[counted.index, sample] = counted.astype("int64")
    single = table[~table["hairpins"].str.contains(";")].groupby("hairpins")["count"].sum()
    hairpin.loc[single.index, sample] = single.astype("int64")
    on_mature = table[table["status"] != "hairpin_only"]
    part = on_mature[["sequence", "mature", "status", "isomir_type", "count"]].rename(
        columns={"mature": "mirna", "count": sample}
    )
    return part.set_index(["sequence", "mirna", "status", "isomir_type"])


def _mapping_stats(stats_rows: list[pd.DataFrame], samples: list[str], stats: list[str]) -> pd.DataFrame:
    """The per-sample stats in sample order, with aligned/mature/ambiguous/hairpin-only fractions."""
    mapping = pd.concat(stats_rows, ignore_index=True)
    mapping["sample"] = mapping["sample"].astype(str)
    if list(mapping["sample"]) != list(samples):
        raise ExomirInputError(
            "per-sample stats files are not in sample order",
            where=", ".join(stats),
            fix="pass the stats in sample-sheet order",
        )
    for column in ("aligned_reads", "mature_reads", "ambiguous_reads", "hairpin_only_reads"):
        mapping[column.replace("_reads", "_fraction")] = (
            mapping[column] / mapping["input_reads"].where(mapping["input_reads"] > 0)
        ).round(6)
    return mapping


def other_class_counts(table: pd.DataFrame) -> tuple[pd.Series, dict[str, set[str]]]:
    """Reads per mature miRNA of the sequences a class library also explains, and those classes.

    Only sequences counted to one mature miRNA (status ``mature``) are counted, as in
    ``mature_counts.tsv``. Assignment tables without ``other_classes`` give no evidence.
    """
    if "other_classes" not in table.columns:
        return pd.Series(dtype="int64"), {}
    rows = table[(table["status"] == "mature") & (table["other_classes"] != "")]
    classes: dict[str, set[str]] = {}
    for mature, other in zip(rows["mature"], rows["other_classes"]):
        classes.setdefault(mature, set()).update(other.split(";"))
    return rows.groupby("mature")["count"].sum().astype("int64"), classes


def write_other_class(
    mature: pd.DataFrame,
    other: pd.DataFrame,
    classes: dict[str, set[str]],
    out_summary: str,
    out_counts: str,
) -> None:
    """``mature_other_class.tsv`` (miRNAs with >= 1 read) and ``mature_other_class_counts.tsv``."""
    write_tsv(other.reset_index(), out_counts)
    reads = mature.sum(axis=1)
    other_reads = other.sum(axis=1)
    keep = reads[reads > 0].index
    summary = pd.DataFrame(
        {
            "mirna": keep,
            "reads": reads[keep].to_numpy(),
            "other_class_reads": other_reads[keep].to_numpy(),
            "other_class_share": (other_reads[keep] / reads[keep]).round(4).to_numpy(),
            "other_classes": [";".join(sorted(classes.get(name, ()))) for name in keep],
        }
    )
    write_tsv(summary, out_summary)


def _zero_tables(samples: list[str], mature_tsv: str, hairpin_fa: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """All-zero mature-feature and hairpin count tables (rows sorted by name, one column a sample)."""
    mature_names = sorted(set(read_features(mature_tsv).values()))
    hairpin_names = sorted(read_hairpins(hairpin_fa))
    mature = pd.DataFrame(
        0, index=pd.Index(mature_names, name="mirna"), columns=samples, dtype="int64"
    )
    hairpin = pd.DataFrame(
        0, index=pd.Index(hairpin_names, name="hairpin"), columns=samples, dtype="int64"
    )
    return mature, hairpin


def _write_isomirs(isomir_parts: list[pd.DataFrame], samples: list[str], out_isomirs: str) -> None:
    """The isomiR table: the samples' parts side by side (missing = 0), sorted by (mirna, sequence)."""
    if isomir_parts:
        isomirs = pd.concat(isomir_parts, axis=1).fillna(0).astype("int64")
    else:
        isomirs = pd.DataFrame(columns=samples)
    isomirs = isomirs.reindex(columns=samples).reset_index()
    isomirs = isomirs.sort_values(["mirna", "sequence"], kind="mergesort")
    write_tsv(isomirs, out_isomirs)


def build_matrices(
    *,
    samples: list[str],
    assignments: list[str],
    stats: list[str],
    mature_tsv: str,
    hairpin_fa: str,
    out_mature: str,
    out_hairpin: str,
    out_mature_rpm: str,
    out_hairpin_rpm: str,
    out_isomirs: str,
    out_mapping_stats: str,
    out_other_class: str | None = None,
    out_other_class_counts: str | None = None,
) -> None:
    """Cohort tables from the per-sample assignments and stats (sample-sheet order).

    Every mature feature (a mature name, or the ``/``-joined names of mature
    miRNAs with one identical sequence) / hairpin of the species is a row
    (zeros kept), sorted by name. RPM = count / input reads (reads passing preprocessing) * 1e6.
    ``out_other_class`` / ``out_other_class_counts``: the other-class evidence
    (:func:`other_class_counts`), written when given.
    """
    if not (len(samples) == len(assignments) == len(stats)):
        raise ValueError("samples, assignments and stats must have the same length")
    mature, hairpin = _zero_tables(samples, mature_tsv, hairpin_fa)
    other = mature.copy() * 0
    other_classes: dict[str, set[str]] = {}
    isomir_parts = []
    stats_rows = []
    for sample, assignment_path, stats_path in zip(samples, assignments, stats):
        isomir_parts.append(_add_sample(sample, assignment_path, mature, hairpin, mature_tsv, other, other_classes))
        stats_rows.append(read_tsv(stats_path, dtype={"sample": str}))
    mapping = _mapping_stats(stats_rows, samples, stats)
    total = mapping.set_index("sample")["input_reads"].astype(float)

    def rpm(counts: pd.DataFrame) -> pd.DataFrame:
        return counts.div(total.where(total > 0), axis=1).mul(1e6).fillna(0.0)

    write_tsv(mature.reset_index(), out_mature)
    write_tsv(hairpin.reset_index(), out_hairpin)
    write_tsv(rpm(mature).reset_index(), out_mature_rpm)
    write_tsv(rpm(hairpin).reset_index(), out_hairpin_rpm)
    _write_isomirs(isomir_parts, samples, out_isomirs)
    write_tsv(mapping, out_mapping_stats)
    if out_other_class and out_other_class_counts:
        write_other_class(mature, other, other_classes, out_other_class, out_other_class_counts)

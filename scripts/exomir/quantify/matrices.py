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
        dtype={"sequence": str, "hairpins": str, "mature": str, "status": str, "isomir_type": str},
        keep_default_na=False,
    )


def _add_sample(
    sample: str, assignment_path: str, mature: pd.DataFrame, hairpin: pd.DataFrame, mature_tsv: str
) -> pd.DataFrame:
    """Fill the sample's column of ``mature`` / ``hairpin``; return its isomiR counts (indexed rows)."""
    table = _read_assignments(assignment_path)
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
) -> None:
    """Cohort tables from the per-sample assignments and stats (sample-sheet order).

    Every mature feature (a mature name, or the ``/``-joined names of mature
    miRNAs with one identical sequence) / hairpin of the species is a row
    (zeros kept), sorted by name. RPM = count / input reads (reads passing preprocessing) * 1e6.
    """
    if not (len(samples) == len(assignments) == len(stats)):
        raise ValueError("samples, assignments and stats must have the same length")
    mature_names = sorted(set(read_features(mature_tsv).values()))
    hairpin_names = sorted(read_hairpins(hairpin_fa))
    mature = pd.DataFrame(
        0, index=pd.Index(mature_names, name="mirna"), columns=samples, dtype="int64"
    )
    hairpin = pd.DataFrame(
        0, index=pd.Index(hairpin_names, name="hairpin"), columns=samples, dtype="int64"
    )
    isomir_parts = []
    stats_rows = []
    for sample, assignment_path, stats_path in zip(samples, assignments, stats):
        isomir_parts.append(_add_sample(sample, assignment_path, mature, hairpin, mature_tsv))
        stats_rows.append(read_tsv(stats_path))
    mapping = _mapping_stats(stats_rows, samples, stats)
    total = mapping.set_index("sample")["input_reads"].astype(float)

    def rpm(counts: pd.DataFrame) -> pd.DataFrame:
        return counts.div(total.where(total > 0), axis=1).mul(1e6).fillna(0.0)

    write_tsv(mature.reset_index(), out_mature)
    write_tsv(hairpin.reset_index(), out_hairpin)
    write_tsv(rpm(mature).reset_index(), out_mature_rpm)
    write_tsv(rpm(hairpin).reset_index(), out_hairpin_rpm)
    if isomir_parts:
        isomirs = pd.concat(isomir_parts, axis=1).fillna(0).astype("int64")
    else:
        isomirs = pd.DataFrame(columns=samples)
    isomirs = isomirs.reindex(columns=samples).reset_index()
    isomirs = isomirs.sort_values(["mirna", "sequence"], kind="mergesort")
    write_tsv(isomirs, out_isomirs)
    write_tsv(mapping, out_mapping_stats)

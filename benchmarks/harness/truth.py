"""Count agreement with the simulator's truth (``truth_counts.tsv``), the same for every tool.

Tools name mature miRNAs with one identical sequence together (``hsa-miR-199a-3p/hsa-miR-199b-3p``
in exomir and miRge3), so names are grouped first: every ``/``-joined name any table uses links
its parts, and the truth and each tool's counts are summed per group. Measures:

* ``total_ratio``: counted reads on truth miRNAs / true reads;
* ``spearman_detected``: Spearman correlation of counts and truth over the groups both the truth
  and the tool have reads for;
* ``profile_distance``: half the L1 distance between the tool's and the truth's miRNA profiles
  (shares of the total; 0 = identical composition, 1 = disjoint).
"""

from __future__ import annotations

import csv
import gzip
from pathlib import Path

from scipy.stats import spearmanr


def truth_counts(path: Path, sample: str) -> dict[str, int]:
    """True reads per mature miRNA of ``sample`` (column of the simulator's truth_counts.tsv)."""
    with open(path, newline="") as handle:
        return {row["mirna"]: int(row[sample]) for row in csv.DictReader(handle, delimiter="\t") if int(row[sample])}


def exomir_counts(assignments: Path) -> dict[str, int]:
    """exomir's mature counts of one sample from its assignments table (as quantify_matrices sums them)."""
    counts: dict[str, int] = {}
    with gzip.open(assignments, "rt", newline="") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            if row["status"] == "mature":
                counts[row["mature"]] = counts.get(row["mature"], 0) + int(row["count"])
    return counts


def _groups(*tables: dict[str, int]) -> dict[str, str]:
    """Name -> group key (sorted ``/``-joined parts of the largest merged name containing it)."""
    parent: dict[str, str] = {}

    def find(name: str) -> str:
        while parent.setdefault(name, name) != name:
            name = parent[name]
        return name

    for table in tables:
        for name in table:
            parts = name.split("/")
            for part in parts:
                parent[find(part)] = find(parts[0])
    members: dict[str, list[str]] = {}
    for name in list(parent):
        members.setdefault(find(name), []).append(name)
    return {name: "/".join(sorted(members[find(name)])) for name in parent}


def _grouped(table: dict[str, int], group_of: dict[str, str]) -> dict[str, int]:
    """Counts summed per group; a merged name's reads go to the group of its first part."""
    out: dict[str, int] = {}
    for name, count in table.items():
        key = group_of[name.split("/")[0]]
        out[key] = out.get(key, 0) + count
    return out


def agreement(counts: dict[str, int], truth: dict[str, int]) -> dict[str, float]:
    """``total_ratio``, ``spearman_detected``, ``profile_distance`` and ``mirnas_detected`` of ``counts``."""
    group_of = _groups(counts, truth)
    tool, real = _grouped(counts, group_of), _grouped(truth, group_of)
    on_truth = sum(count for name, count in tool.items() if name in real)
    both = sorted(name for name in real if tool.get(name, 0) > 0)
    rho = spearmanr([tool[n] for n in both], [real[n] for n in both]).statistic if len(both) > 2 else float("nan")
    tool_total, real_total = sum(tool.values()) or 1, sum(real.values()) or 1
    names = set(tool) | set(real)
    distance = 0.5 * sum(abs(tool.get(n, 0) / tool_total - real.get(n, 0) / real_total) for n in names)
    return {
        "total_ratio": round(on_truth / real_total, 4),
        "spearman_detected": round(float(rho), 4),
        "profile_distance": round(distance, 4),
        "mirnas_detected": len([n for n, c in tool.items() if c > 0]),
        "mirnas_true": len(real),
    }

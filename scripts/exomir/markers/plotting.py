"""Plotting data and SVG figures of the marker stage (catalogue dot plot, ROC curves)."""

from __future__ import annotations

import math
from typing import Mapping

import numpy as np
import pandas as pd

from exomir.io import atomic_path
from exomir.markers.concordance import EXPLORATORY

def _svg_setup():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams["svg.hashsalt"] = "exomir-markers"
    plt.rcParams["svg.fonttype"] = "none"
    return plt


def _save_svg(fig, path: str) -> None:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="svg", metadata={"Date": None, "Creator": "exomir"}, bbox_inches="tight")


def plot_dotplot(dots: pd.DataFrame, contrast: Mapping[str, str], alpha: float, path: str) -> None:
    """Catalogue dot-plot: LFC per detected catalogue miRNA; filled = significant; colour = literature."""
    plt = _svg_setup()
    height = max(2.5, 0.22 * len(dots) + 1.2)
    fig, ax = plt.subplots(figsize=(7, height))
    colours = {
        "expected positive": "#b2182b",
        "expected negative": "#2166ac",
        "direction not stated": "#7f7f7f",
        "conflicting": "#984ea3",
    }
    ypos = np.arange(len(dots))[::-1]
    for (_, row), yy in zip(dots.iterrows(), ypos):
        col = colours.get(row["literature"], "#7f7f7f")
        sig = row["significant"] == "yes"
        size = 20 + 15 * min(8.0, row["neg_log10_padj"] if not math.isnan(row["neg_log10_padj"]) else 0.0)
        ax.scatter(
            [row["log2FoldChange"]],
            [yy],
            s=size,
            facecolors=col if sig else "white",
            edgecolors=col,
            linewidths=1.2,
        )
    ax.axvline(0, color="black", lw=0.6)
    ax.set_yticks(ypos)
    ax.set_yticklabels([f"{m} ({r})" for m, r in zip(dots["mature"], dots["roles"])], fontsize=7)
    ax.set_xlabel(f"log2 fold change, {contrast['level']} vs {contrast['reference']}")
    ax.set_title(
        f"Jia et al. 2017 catalogue miRNAs, contrast {contrast['name']}\n"
        f"filled: padj < {alpha}; size: -log10 padj; colour: literature direction ({EXPLORATORY})",
        fontsize=8,
    )
    for label, col in colours.items():
        ax.scatter([], [], color=col, label=label, s=25)
    ax.legend(fontsize=7, loc="lower right", frameon=False)
    if dots.empty:
        ax.text(0.5, 0.5, "no catalogue miRNA detected", transform=ax.transAxes, ha="center")
    _save_svg(fig, path)
    plt.close(fig)


def plot_roc(roc: pd.DataFrame, labels: Mapping[str, str], contrast: Mapping[str, str], path: str) -> None:
    """ROC curves of the best single markers and the cross-validated panel."""
    plt = _svg_setup()
    fig, ax = plt.subplots(figsize=(5, 5))
    for curve, points in roc.groupby("curve", sort=False):
        ax.step(
            points["fpr"],
            points["tpr"],
            where="post",
            lw=2 if curve == "panel (nested CV)" else 1.2,
            label=labels.get(curve, curve),
        )
    ax.plot([0, 1], [0, 1], color="grey", lw=0.6, ls="--")
    ax.set_xlabel("1 - specificity")
    ax.set_ylabel("sensitivity")
    ax.set_title(f"ROC, {contrast['level']} vs {contrast['reference']} ({EXPLORATORY})", fontsize=8)
    ax.legend(fontsize=7, loc="lower right", frameon=False)
    if roc.empty:
        ax.text(0.5, 0.5, "not enough samples or markers", transform=ax.transAxes, ha="center")
    _save_svg(fig, path)
    plt.close(fig)


def dotplot_table(annotation: pd.DataFrame) -> pd.DataFrame:
    """One row per detected catalogue mature miRNA (entries merged) for the dot-plot and report."""
    det = annotation[annotation["tested"] == "yes"]
    rows = []
    for mature, group in det.groupby("mature", sort=False):
        expected = {e for e in group["expected_lfc_sign"] if e}
        literature = (
            "direction not stated"
            if not expected
            else "conflicting" if len(expected) > 1 else f"expected {expected.pop()}"
        )
        concord = sorted(set(group["concordance"]) - {"direction not stated"})
        first = group.iloc[0]
        padj = float(first["padj"])
        rows.append(
            {
                "mature": mature,
                "mirna": ";".join(dict.fromkeys(group["mirna"])),
                "roles": ";".join(dict.fromkeys(group["role"])),
                "entry_ids": ";".join(group["entry_id"]),
                "log2FoldChange": float(first["log2FoldChange"]),
                "log2FoldChange_shrunk": float(first["log2FoldChange_shrunk"]),
                "padj": padj,
                "neg_log10_padj": (
                    -math.log10(padj) if padj > 0 else (float("nan") if math.isnan(padj) else 300.0)
                ),
                "significant": first["significant"],
                "literature": literature,
                "concordance": ";".join(concord) if concord else "direction not stated",
            }
        )
    cols = [
        "mature",
        "mirna",
        "roles",
        "entry_ids",
        "log2FoldChange",
        "log2FoldChange_shrunk",
        "padj",
        "neg_log10_padj",
        "significant",
        "literature",
        "concordance",
    ]
    out = pd.DataFrame(rows, columns=cols)
    return out.sort_values(
        ["log2FoldChange", "mature"], ascending=[False, True], kind="mergesort"
    ).reset_index(drop=True)

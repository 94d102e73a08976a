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


#: Line styles cycled through the ROC curves: curves that coincide stay distinguishable.
ROC_STYLES = (("-", "o"), ("--", "s"), (":", "^"), ("-.", "D"), ((0, (5, 1, 1, 1)), "v"), ((0, (1, 2)), "P"))


def plot_roc(roc: pd.DataFrame, labels: Mapping[str, str], contrast: Mapping[str, str], path: str) -> None:
    """ROC curves of the best single markers and the cross-validated panel.

    Each curve has its own dash pattern and marker and is offset by a fraction of a percent,
    so curves with the same points (several AUC 1 markers) do not hide each other.
    """
    plt = _svg_setup()
    fig, ax = plt.subplots(figsize=(5, 5))
    for i, (curve, points) in enumerate(roc.groupby("curve", sort=False)):
        dash, marker = ROC_STYLES[i % len(ROC_STYLES)]
        shift = 0.008 * i
        ax.step(
            points["fpr"] + shift,
            points["tpr"] - shift,
            where="post",
            ls=dash,
            marker=marker,
            markersize=3.5,
            lw=2 if curve == "panel (nested CV)" else 1.2,
            label=labels.get(curve, curve),
        )
    ax.plot([0, 1], [0, 1], color="grey", lw=0.6, ls="--")
    ax.set_xlabel("1 - specificity")
    ax.set_ylabel("sensitivity")
    ax.set_title(f"ROC, {contrast['level']} vs {contrast['reference']} ({EXPLORATORY})\n"
                 "curves offset slightly so coinciding ones stay visible", fontsize=8)
    ax.legend(fontsize=6, loc="lower right", frameon=False)
    if roc.empty:
        ax.text(0.5, 0.5, "not enough samples or markers", transform=ax.transAxes, ha="center")
    _save_svg(fig, path)
    plt.close(fig)


def plot_validation_roc(roc: pd.DataFrame, metrics: Mapping[str, object], path: str) -> None:
    """ROC of the locked panel on the validation cohort, with the locked threshold's point."""
    plt = _svg_setup()
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.step(roc["fpr"], roc["tpr"], where="post", lw=1.8,
            label=f"locked panel: AUC {metrics['auc']:.2f} ({metrics['auc_ci_low']:.2f}-{metrics['auc_ci_high']:.2f})")
    ax.plot([1 - float(metrics["specificity"])], [float(metrics["sensitivity"])], "o", color="black",
            label=f"locked threshold {float(metrics['threshold']):.3g}")
    ax.plot([0, 1], [0, 1], color="grey", lw=0.6, ls="--")
    ax.set_xlabel("1 - specificity")
    ax.set_ylabel("sensitivity")
    ax.set_title(f"Validation ROC, {metrics['level']} vs {metrics['reference']} "
                 f"({metrics['n_level']} vs {metrics['n_reference']} samples)", fontsize=8)
    ax.legend(fontsize=7, loc="lower right", frameon=False)
    _save_svg(fig, path)
    plt.close(fig)


def plot_calibration(table: pd.DataFrame, metrics: Mapping[str, object], path: str) -> None:
    """Observed fraction of the level group against the mean predicted probability per bin."""
    plt = _svg_setup()
    fig, ax = plt.subplots(figsize=(5, 5))
    shown = table[table["n"] > 0]
    ax.plot([0, 1], [0, 1], color="grey", lw=0.6, ls="--", label="perfect calibration")
    ax.plot(shown["mean_predicted"], shown["observed_fraction"], "o-", label="probability bins")
    for row in shown.itertuples(index=False):
        ax.annotate(f"n={row.n}", (row.mean_predicted, row.observed_fraction), fontsize=6,
                    textcoords="offset points", xytext=(4, -8))
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("mean predicted probability")
    ax.set_ylabel(f"observed fraction {metrics['level']}")
    ax.set_title(f"Calibration on the validation cohort (Brier {float(metrics['brier']):.3f})", fontsize=8)
    ax.legend(fontsize=7, loc="upper left", frameon=False)
    _save_svg(fig, path)
    plt.close(fig)


def plot_forest(table: pd.DataFrame, cohorts: pd.DataFrame, path: str) -> None:
    """Forest plot: per cohort log2 fold change (95% CI) and the pooled random-effects estimate."""
    plt = _svg_setup()
    names = list(cohorts["cohort"].drop_duplicates())
    rows_per = len(names) + 2
    fig, ax = plt.subplots(figsize=(7, max(2.5, 0.18 * rows_per * max(len(table), 1) + 1)))
    y, ticks, labels = 0.0, [], []
    for row in table.itertuples(index=False):
        for name in names:
            hit = cohorts[(cohorts["cohort"] == name) & (cohorts["mature"] == row.mature)]
            if not hit.empty and not math.isnan(float(hit["log2FoldChange"].iloc[0])):
                lfc, se = float(hit["log2FoldChange"].iloc[0]), float(hit["lfcSE"].iloc[0])
                ax.errorbar([lfc], [y], xerr=[[1.96 * se], [1.96 * se]], fmt="s", color="#636363", ms=3, lw=0.8)
            ticks.append(y), labels.append(f"  {name}")
            y -= 1
        if not math.isnan(row.pooled_log2FoldChange):
            ax.errorbar([row.pooled_log2FoldChange], [y], fmt="D", color="#b2182b", ms=5, lw=1.4,
                        xerr=[[row.pooled_log2FoldChange - row.ci_low], [row.ci_high - row.pooled_log2FoldChange]])
        ticks.append(y), labels.append(f"{row.mature} pooled (I2 {row.I2:.0%})" if not math.isnan(row.I2)
                                       else f"{row.mature} pooled")
        y -= 2
    ax.axvline(0, color="black", lw=0.6)
    ax.set_yticks(ticks)
    ax.set_yticklabels(labels, fontsize=6)
    ax.set_xlabel("log2 fold change (95% CI); red: random-effects pooled estimate")
    ax.set_title("Cross-cohort meta-analysis of catalogue miRNAs", fontsize=8)
    if table.empty:
        ax.text(0.5, 0.5, "no catalogue miRNA tested in two cohorts", transform=ax.transAxes, ha="center")
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

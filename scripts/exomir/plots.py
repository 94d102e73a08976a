"""Static, deterministic SVG plots shared by the stages (matplotlib, Agg backend).

Every function takes plain tables and an output path and writes one SVG
atomically. The same input gives the same bytes: SVG element ids are derived
from a fixed hash salt and no creation date is written. Colours come from a
fixed palette assigned to the sorted group labels, so a group keeps its colour
across plots.
"""

from __future__ import annotations

import os
from typing import Sequence

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from exomir.io import atomic_path  # noqa: E402

#: Colour-blind-safe palette (Okabe-Ito), then tab10 for larger groups.
PALETTE: tuple[str, ...] = (
    "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000",
) + tuple(matplotlib.colors.to_hex(c) for c in plt.get_cmap("tab10").colors)
MARKERS: tuple[str, ...] = ("o", "s", "^", "D", "v", "P", "X", "<", ">", "h")
UP, DOWN, NOT_SIG = "#D55E00", "#0072B2", "#9E9E9E"

_STYLE = {
    "svg.hashsalt": "exomir",
    "svg.fonttype": "path",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
}


def new_figure(width: float = 6.0, height: float = 4.5) -> tuple[Figure, plt.Axes]:
    """A figure with one axes in the shared style."""
    with plt.rc_context(_STYLE):
        fig, ax = plt.subplots(figsize=(width, height))
    return fig, ax


def save_svg(fig: Figure, path: str | os.PathLike) -> None:
    """Write ``fig`` as a deterministic SVG (fixed id salt, no date) and close it."""
    with plt.rc_context(_STYLE), atomic_path(path) as tmp:
        fig.savefig(tmp, format="svg", metadata={"Date": None}, bbox_inches="tight")
    plt.close(fig)


def group_colors(labels: Sequence[str]) -> dict[str, str]:
    """A colour per distinct label, assigned in sorted order."""
    return {label: PALETTE[i % len(PALETTE)] for i, label in enumerate(sorted(set(labels)))}


def pca_plot(
    scores: pd.DataFrame,
    percent: pd.Series,
    annotation: pd.DataFrame,
    color_by: str,
    shape_by: str | None,
    path: str | os.PathLike,
    title: str = "PCA",
) -> None:
    """PC1 vs PC2; colour by ``annotation[color_by]``, marker by ``annotation[shape_by]``."""
    fig, ax = new_figure()
    colors = group_colors(annotation[color_by])
    shapes = sorted(set(annotation[shape_by])) if shape_by else [None]
    y_col = "PC2" if "PC2" in scores.columns else "PC1"
    for color_label in sorted(colors):
        for i, shape_label in enumerate(shapes):
            mask = annotation[color_by] == color_label
            if shape_by:
                mask &= annotation[shape_by] == shape_label
            if not mask.any():
                continue
            label = color_label if not shape_by else f"{color_label} / {shape_label}"
            ax.scatter(
                scores.loc[mask, "PC1"], scores.loc[mask, y_col], c=colors[color_label],
                marker=MARKERS[i % len(MARKERS)], s=30, edgecolors="white", linewidths=0.5, label=label,
            )
    ax.set_xlabel(f"PC1 ({percent['PC1']:.1f}% variance)")
    ax.set_ylabel(f"{y_col} ({percent[y_col]:.1f}% variance)")
    ax.set_title(title)
    legend_title = color_by if not shape_by else f"{color_by} / {shape_by}"
    ax.legend(title=legend_title, loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False)
    save_svg(fig, path)


def _heatmap(
    matrix: pd.DataFrame, column_groups: pd.Series | None, path: str | os.PathLike, title: str,
    cmap: str, colorbar_label: str, symmetric: bool,
) -> None:
    n_rows, n_cols = matrix.shape
    width = min(14.0, 3.0 + 0.18 * n_cols)
    height = min(14.0, 2.5 + 0.16 * n_rows)
    fig, ax = new_figure(width, height)
    values = matrix.to_numpy(dtype=float)
    limit = float(np.nanmax(np.abs(values))) if values.size else 1.0
    vmin, vmax = (-limit, limit) if symmetric else (None, None)
    image = ax.imshow(values, aspect="auto", cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
    ax.set_xticks(range(n_cols), matrix.columns, rotation=90, fontsize=6)
    ax.set_yticks(range(n_rows), matrix.index, fontsize=6)
    if column_groups is not None:
        colors = group_colors(column_groups)
        for tick, sample in zip(ax.get_xticklabels(), matrix.columns):
            tick.set_color(colors[column_groups[sample]])
        handles = [plt.Line2D([], [], color=c, marker="s", ls="", label=g) for g, c in colors.items()]
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.15, 1), frameon=False, title=column_groups.name)
    fig.colorbar(image, ax=ax, label=colorbar_label, fraction=0.04)
    ax.set_title(title)
    save_svg(fig, path)


def distance_heatmap(distances: pd.DataFrame, groups: pd.Series, path: str | os.PathLike, title: str) -> None:
    """Square sample-distance matrix (already ordered); tick labels coloured by group."""
    _heatmap(distances, groups, path, title, "viridis_r", "distance", symmetric=False)


def expression_heatmap(matrix: pd.DataFrame, groups: pd.Series, path: str | os.PathLike, title: str) -> None:
    """miRNA x sample matrix of centred values on a diverging scale; columns coloured by group."""
    _heatmap(matrix, groups, path, title, "RdBu_r", "VST - miRNA mean", symmetric=True)


def _significance_colors(results: pd.DataFrame, alpha: float) -> np.ndarray:
    sig = (results["padj"] < alpha).to_numpy()
    up = results["log2FoldChange"].to_numpy() > 0
    return np.where(sig & up, UP, np.where(sig, DOWN, NOT_SIG))


def ma_plot(results: pd.DataFrame, alpha: float, path: str | os.PathLike, title: str) -> None:
    """log2 fold change against mean of normalized counts; padj < alpha highlighted."""
    data = results[results["baseMean"] > 0]
    _significance_scatter(
        data,
        data["baseMean"],
        data["log2FoldChange"],
        alpha,
        path,
        title,
        ("mean of normalized counts (baseMean)", "log2 fold change"),
        volcano=False,
    )


def volcano_plot(results: pd.DataFrame, alpha: float, path: str | os.PathLike, title: str) -> None:
    """-log10 p value against log2 fold change; padj < alpha highlighted."""
    data = results[results["pvalue"].notna()]
    floor = np.finfo(float).tiny
    _significance_scatter(
        data,
        data["log2FoldChange"],
        -np.log10(data["pvalue"].clip(lower=floor)),
        alpha,
        path,
        title,
        ("log2 fold change", "-log10 p value"),
        volcano=True,
    )


def _significance_scatter(
    data: pd.DataFrame,
    x: pd.Series,
    y: pd.Series,
    alpha: float,
    path: str | os.PathLike,
    title: str,
    labels: tuple[str, str],
    *,
    volcano: bool,
) -> None:
    """Scatter of DE results coloured by significance, with the zero line and the legend.

    An MA plot has a log x axis and a horizontal zero line (fold change on y); a
    volcano plot a vertical one (fold change on x).
    """
    fig, ax = new_figure()
    ax.scatter(x, y, c=_significance_colors(data, alpha), s=8, linewidths=0)
    if volcano:
        ax.axvline(0, color="black", lw=0.6)
    else:
        ax.set_xscale("log")
        ax.axhline(0, color="black", lw=0.6)
    ax.set_xlabel(labels[0])
    ax.set_ylabel(labels[1])
    _significance_legend(ax, data, alpha)
    ax.set_title(title)
    save_svg(fig, path)


def _significance_legend(ax: plt.Axes, data: pd.DataFrame, alpha: float) -> None:
    sig = data["padj"] < alpha
    n_up = int((sig & (data["log2FoldChange"] > 0)).sum())
    n_down = int((sig & (data["log2FoldChange"] <= 0)).sum())
    handles = [
        plt.Line2D([], [], color=UP, marker="o", ls="", label=f"up, padj < {alpha:g} ({n_up})"),
        plt.Line2D([], [], color=DOWN, marker="o", ls="", label=f"down, padj < {alpha:g} ({n_down})"),
        plt.Line2D([], [], color=NOT_SIG, marker="o", ls="", label=f"other ({len(data) - n_up - n_down})"),
    ]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False)


def dispersion_plot(table: pd.DataFrame, path: str | os.PathLike, title: str) -> None:
    """Gene-wise, fitted and final dispersions against baseMean (log-log), as R's plotDispEsts."""
    fig, ax = new_figure()
    data = table[table["baseMean"] > 0].sort_values("baseMean", kind="mergesort")
    ax.scatter(data["baseMean"], data["dispersion_genewise"], s=6, c="black", linewidths=0, label="gene-wise estimate")
    ax.scatter(data["baseMean"], data["dispersion_final"], s=6, c="#0072B2", linewidths=0, label="final (shrunk)")
    ax.plot(data["baseMean"], data["dispersion_fitted"], color="#D55E00", lw=1.2, label="fitted trend")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("mean of normalized counts")
    ax.set_ylabel("dispersion")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False)
    ax.set_title(title)
    save_svg(fig, path)


__all__ = [
    "PALETTE", "save_svg", "new_figure", "group_colors", "pca_plot", "distance_heatmap",
    "expression_heatmap", "ma_plot", "volcano_plot", "dispersion_plot",
]

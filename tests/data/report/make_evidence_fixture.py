"""Add the biomarker-evidence tables (issue 20.3) to the report fixture's ``results_tree/``.

Run after ``make_fixture.py``, from the project root:
``PYTHONPATH=scripts .venv/bin/python tests/data/report/make_evidence_fixture.py``.
Everything is computed with exomir's own functions from the fixture's synthetic counts
(normalisation, PCA, distances) or from synthetic inputs with a fixed seed (validation
probabilities, per-cohort effects of the fictitious catalogue rows); nothing is real data.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from exomir.diffexp import pca, sample_distances
from exomir.io import read_tsv, write_tsv
from exomir.markers.diagnostics import roc_curve_points
from exomir.markers.meta import meta_table, oriented_effects
from exomir.markers.plotting import dotplot_table, plot_dotplot, plot_forest
from exomir.markers.validation import calibration_table, validation_metrics
from exomir.qc.mirtrace import complexity_curve, rna_type_summary

RESULTS = Path(__file__).resolve().parent / "results_tree"
SEED = 20261202


def cohort_tables() -> None:
    """normalized_counts.tsv (median of ratios), pca.tsv, pca_variance.tsv, sample_distances.tsv."""
    counts = read_tsv(RESULTS / "quantify" / "mature_counts.tsv", dtype={"mirna": str}).set_index("mirna")
    samples = pd.read_csv(RESULTS / "diffexp" / "samples.tsv", sep="\t", dtype=str, keep_default_na=False)
    positive = counts[(counts > 0).all(axis=1)]
    logmeans = np.log(positive).mean(axis=1)
    size = np.exp(np.log(positive).sub(logmeans, axis=0).median(axis=0))
    normalized = counts / size
    write_tsv(normalized.rename_axis("mirna").reset_index(), RESULTS / "diffexp" / "normalized_counts.tsv")
    vst = np.log2(normalized + 1)  # fixture stand-in for the VST (same scale, no dispersion fit)
    scores, percent = pca(vst)
    meta = samples.set_index("sample")[["condition", "batch"]]
    write_tsv(pd.concat([meta.loc[scores.index], scores], axis=1).rename_axis("sample").reset_index(),
              RESULTS / "diffexp" / "pca.tsv")
    write_tsv(percent.rename("percent_variance").rename_axis("component").reset_index(),
              RESULTS / "diffexp" / "pca_variance.tsv")
    write_tsv(sample_distances(vst).rename_axis("sample").reset_index(), RESULTS / "diffexp" / "sample_distances.tsv")


def validation_tables(rng: np.random.Generator) -> None:
    """A synthetic validation cohort of 20 vs 20 scored probabilities, as validation_score writes them."""
    y = np.array([1] * 20 + [0] * 20)
    prob = 1 / (1 + np.exp(-(1.6 * (y - 0.5) * 2 + rng.normal(0, 1.2, 40))))
    metrics = {"contrast": "cancer_vs_healthy", "level": "cancer", "reference": "healthy",
               "markers": "hsa-miR-21-5p;hsa-miR-1246",
               **validation_metrics(prob, y, 0.5, 500, 1), "model_checksum": "sha256:" + "0" * 64,
               "analysis": "independent validation cohort, locked model"}
    folder = RESULTS / "validation"
    write_tsv(pd.DataFrame([metrics]), folder / "metrics.tsv")
    write_tsv(roc_curve_points(prob[y == 1], prob[y == 0]), folder / "roc.tsv")
    write_tsv(calibration_table(prob, y, 5), folder / "calibration.tsv")


def meta_tables(rng: np.random.Generator) -> None:
    """Three synthetic cohorts' effects of the fixture catalogue miRNAs, pooled by meta_table."""
    resolved = pd.DataFrame({"mirna": ["miR-21", "miR-1246", "miR-145", "miR-122"],
                             "mirbase_names": ["hsa-miR-21-5p", "hsa-miR-1246", "hsa-miR-145-5p", "hsa-miR-122-5p"],
                             "direction": ["up", "up", "down", ""]})
    truth = {"hsa-miR-21-5p": 1.5, "hsa-miR-1246": 2.0, "hsa-miR-145-5p": 0.8, "hsa-miR-122-5p": 0.0}
    parts = []
    for name in ("cohort_a", "cohort_b", "cohort_c"):
        se = rng.uniform(0.3, 0.6, len(truth))
        table = pd.DataFrame({"mirna": list(truth), "log2FoldChange": np.array(list(truth.values())) + rng.normal(0, se),
                              "lfcSE": se, "padj": 0.01})
        parts.append(oriented_effects(table, {"name": name, "level": "cancer", "reference": "healthy"}, ["cancer"]))
    effects = pd.concat(parts, ignore_index=True)
    table = meta_table(effects, resolved, "dl")
    catalogue = effects.rename(columns={"mirna": "mature"})
    write_tsv(table, RESULTS / "meta" / "meta_analysis.tsv")
    write_tsv(catalogue, RESULTS / "meta" / "cohort_effects.tsv")
    plot_forest(table, catalogue, str(RESULTS / "meta" / "forest.svg"))


#: The fixture's wide composition columns, as classes of the long composition (issue 18 names).
FIXTURE_CLASSES = {"adapter_dimer": "filtered", "too_short": "filtered", "too_long": "filtered",
                   "low_quality": "filtered", "mirna_mature": "mirna", "mirna_hairpin_only": "mirna",
                   "mirna_ambiguous": "mirna", "rRNA": "rna_class", "tRNA": "rna_class",
                   "snoRNA": "rna_class", "spikein": "spikein", "unmapped": "unmapped"}


def mirtrace_and_dotplot_tables() -> None:
    """qc/rna_types.tsv and qc/complexity.tsv from the fixture's composition and counts, and each
    contrast's dotplot.tsv/.svg from its annotation (exomir's own functions)."""
    wide = read_tsv(RESULTS / "qc" / "composition.tsv", dtype={"sample": str})
    long = wide.melt(id_vars="sample", value_vars=list(FIXTURE_CLASSES), var_name="class", value_name="reads")
    long["group"] = long["class"].map(FIXTURE_CLASSES)
    long["class"] = long["class"].str.lower()
    write_tsv(rna_type_summary(long), RESULTS / "qc" / "rna_types.tsv")
    counts = read_tsv(RESULTS / "quantify" / "mature_counts.tsv", dtype={"mirna": str}).set_index("mirna")
    write_tsv(complexity_curve(counts, list(wide["sample"])), RESULTS / "qc" / "complexity.tsv")
    for contrast in ("cancer_vs_healthy", "benign_vs_healthy"):
        level, reference = contrast.split("_vs_")
        annotation = pd.read_csv(RESULTS / "markers" / contrast / "annotation.tsv", sep="\t", dtype=str,
                                 keep_default_na=False, na_values=["NA", ""])
        if "tested" not in annotation:  # the fixture's annotation predates the tested column
            annotation["tested"] = annotation["detected"]
        dots = dotplot_table(annotation)
        write_tsv(dots, RESULTS / "markers" / contrast / "dotplot.tsv")
        plot_dotplot(dots, {"name": contrast, "factor": "condition", "level": level, "reference": reference},
                     0.1, str(RESULTS / "markers" / contrast / "dotplot.svg"))


def main() -> None:
    rng = np.random.default_rng(SEED)
    cohort_tables()
    mirtrace_and_dotplot_tables()
    validation_tables(rng)
    meta_tables(rng)


if __name__ == "__main__":
    main()

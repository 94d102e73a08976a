# Marker stage settings derived from the config, and its outputs for `rule all`.
# Schemas are part of the workflow code: located from this file, not from the working directory.
MARKERS_SCHEMA_DIR = (
    Path(workflow.current_basedir).resolve().parents[1]
    / "resources"
    / "markers"
    / "schema"
)

from snakemake.exceptions import WorkflowError

# markers.alpha null: use the differential-expression threshold so both stages call alike.
MARKERS_ALPHA = (
    config["markers"]["alpha"]
    if config["markers"].get("alpha") is not None
    else config["diffexp"]["alpha"]
)

MARKERS_OUTPUTS = (
    ["results/markers/catalogue_resolved.tsv", "results/markers/other_markers.tsv"]
    + expand(
        "results/markers/{contrast}/{name}",
        contrast=CONTRASTS,
        name=[
            "annotation.tsv",
            "dotplot.tsv",
            "dotplot.svg",
            "auc.tsv",
            "panel.tsv",
            "panel_summary.tsv",
            "roc.tsv",
            "roc.svg",
            "panel_scores.tsv",
            "panel_model.json",
        ],
    )
    if config["markers"]["enabled"]
    else []
)


def other_class_input(wildcards):
    """quantify/mature_other_class.tsv once the quantify stage declares it (issue-18 contract), else []."""
    try:
        outputs = list(rules.quantify_matrices.output)
    except (AttributeError, WorkflowError):  # markers rules included on their own
        return []
    if COUNTS_MODE:  # a count matrix says nothing about other RNA classes
        return []
    return [path for path in outputs if path.endswith("mature_other_class.tsv")]


# Locked-panel validation (validation.smk): active when validation.model is set.
VALIDATION = config.get("validation", {})
VALIDATION_MODEL = VALIDATION.get("model", "")
VALIDATION_OUTPUTS = (
    [
        f"results/validation/{name}"
        for name in [
            "scores.tsv",
            "metrics.tsv",
            "roc.tsv",
            "roc.svg",
            "calibration.tsv",
            "calibration.svg",
        ]
    ]
    if VALIDATION_MODEL
    else []
)

# Cross-cohort meta-analysis (meta.smk): active with two or more cohorts.
META_COHORTS = {
    c["name"]: c for c in config.get("meta_analysis", {}).get("cohorts", [])
}
META_OUTPUTS = (
    [
        "results/meta/meta_analysis.tsv",
        "results/meta/cohort_effects.tsv",
        "results/meta/forest.svg",
    ]
    if len(META_COHORTS) >= 2
    else []
)


def meta_cohort_table(name):
    """The effect table of a cohort: its own results file, or the one rule meta_cohort writes."""
    cohort = META_COHORTS[name]
    return (
        cohort["results"]
        if cohort.get("results")
        else f"results/meta/cohorts/{name}.tsv"
    )


def meta_cohort_file(wildcards, key):
    """counts or samples path of a count-matrix cohort (rule meta_cohort)."""
    cohort = META_COHORTS[wildcards.cohort]
    if not (cohort.get("counts") and cohort.get("samples")):
        raise WorkflowError(
            f"meta_analysis cohort {wildcards.cohort}: give counts and samples, or results"
        )
    return cohort[key]

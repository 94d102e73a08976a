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

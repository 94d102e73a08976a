# Constants of the report stage (included after common.smk).
import os
import shlex

from exomir.multiqc_content import CONTENT_FILES as _MULTIQC_CONTENT_NAMES

# workflow/report, found from this file so the rules also work when included from elsewhere
REPORT_ASSETS = Path(str(workflow.current_basedir)).parent / "report"
MULTIQC_CONTENT_FILES = [
    f"results/report/multiqc/{name}" for name in _MULTIQC_CONTENT_NAMES
]

# The command shown in the methods of the biomarker report. It travels in the environment,
# not in params: a param would mark the report outdated whenever snakemake is called with
# other arguments (even a dry run). The report rules are local, so they see this process's
# environment; a job process re-parsing the Snakefile keeps the value it inherited.
os.environ.setdefault("EXOMIR_COMMAND", shlex.join(["snakemake", *sys.argv[1:]]))

# Tables of the report's cohort overview and strip plots (issue 20.3); none without DE.
REPORT_OVERVIEW_INPUTS = [
    f"results/diffexp/{name}"
    for name in [
        "pca.tsv",
        "pca_variance.tsv",
        "sample_distances.tsv",
        "normalized_counts.tsv",
    ]
    if DIFFEXP_SAMPLES_TSV
]


def report_read_inputs(wildcards):
    """Read-level inputs of the biomarker report (QC, read statistics, reference checksums);
    a count-matrix run has none: the import tables instead."""
    if COUNTS_MODE:
        return {
            "counts_summary": "results/counts/import_summary.tsv",
            "counts_names": "results/counts/name_resolution.tsv",
        }
    return {
        "flags": "results/qc/sample_flags.tsv",
        "composition": "results/qc/composition.tsv",
        "hemolysis": "results/qc/hemolysis.tsv",
        "rna_types": "results/qc/rna_types.tsv",
        "complexity": "results/qc/complexity.tsv",
        "preprocess_stats": expand(
            "results/preprocess/{sample}.stats.tsv", sample=SAMPLES
        ),
        "quantify_stats": expand("results/quantify/{sample}.stats.tsv", sample=SAMPLES),
        "checksums": f"{REF}/checksums.tsv",
    }

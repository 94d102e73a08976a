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

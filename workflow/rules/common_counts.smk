# Count-matrix entry (counts.matrices): checks made before any job runs, the outputs of the
# import. Included after common.smk.
from exomir.countmatrix import MatrixSettings, check_matrices  # noqa: E402

COUNTS_SETTINGS = MatrixSettings.from_config(config["counts"])
# What `rule all` requests for the import (nothing in a FASTQ run).
COUNTS_OUTPUTS = (
    ["results/counts/import_summary.tsv", "results/counts/name_resolution.tsv"]
    if COUNTS_MODE
    else []
)

if COUNTS_MODE:
    if config["genome"]["fasta"]:
        raise WorkflowError(
            "config: genome.fasta is set but the run starts from a count matrix "
            "(counts.matrices), and genome mode maps reads. Fix: leave genome.fasta empty, "
            "or start from FASTQ (empty counts.matrices)"
        )
    if "fastq" in SAMPLE_SHEET.columns:
        logger.warning(
            "exomir: the sample sheet has a fastq column, but counts.matrices is set: the "
            "counts come from the matrices and the fastq column is ignored"
        )
    try:
        # Every mismatch between sheet and matrices, and any non-count value, fails here.
        check_matrices(COUNT_MATRICES, COUNTS_SETTINGS, SAMPLES)
    except ExomirInputError as err:
        raise WorkflowError(str(err)) from None

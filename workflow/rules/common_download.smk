# Run accessions in the sample sheet: where their FASTQ is cached, and the cohort table inputs.
# Included after common.smk (uses SAMPLES, SAMPLE_SHEET, is_accession, split_fastq_field).
import os

# A user's "~/..." cache is expanded here because Snakemake does not expand "~" in paths.
DOWNLOAD_CACHE = os.path.normpath(os.path.expanduser(config["download"]["cache_dir"]))

# (sample, accession) pairs in sample-sheet order, lanes in the order given; none for a sheet
# without fastq column (a count-matrix run).
SAMPLE_ACCESSIONS = (
    [
        (sample, entry)
        for sample in SAMPLES
        for entry in split_fastq_field(SAMPLE_SHEET.loc[sample, "fastq"])
        if is_accession(entry)
    ]
    if "fastq" in SAMPLE_SHEET.columns
    else []
)
DOWNLOAD_SAMPLES = [sample for sample, _ in SAMPLE_ACCESSIONS]
DOWNLOAD_ACCESSIONS = [accession for _, accession in SAMPLE_ACCESSIONS]

# Final outputs of the download stage (the cohort table), only when accessions are used
# (so a cohort of local FASTQ never touches the network).
DOWNLOAD_OUTPUTS = ["results/downloads/accessions.tsv"] if SAMPLE_ACCESSIONS else []


def accession_fastq(accession):
    """Cached FASTQ of a run accession (written by rule download_run)."""
    return f"{DOWNLOAD_CACHE}/{accession}.fastq.gz"


def accession_metadata(accession):
    """JSON metadata of a downloaded run (accession, URL, MD5, date, warnings)."""
    return f"{DOWNLOAD_CACHE}/{accession}.json"


def get_download_metadata(wildcards):
    """Metadata JSON of every accession of the sample sheet, in sheet order."""
    return [accession_metadata(accession) for accession in DOWNLOAD_ACCESSIONS]

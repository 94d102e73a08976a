# Inputs shared by every stage: validated config and sample sheet, sample list, input functions.
import hashlib
import os
import json
import sys
from pathlib import Path

from snakemake.exceptions import WorkflowError
from snakemake.logging import logger
from snakemake.utils import min_version, validate

# The exomir package (scripts/exomir) holds the logic. It is found next to this workflow (a clone,
# or a module deployed from a local path), never in the working directory; without it an installed
# exomir (pip install exomir) is used. PYTHONPATH carries that location to every rule script, also
# inside --sdm conda environments and SLURM jobs (they re-read this file), so rule scripts import
# exomir with no path code of their own (issue 16.3).
EXOMIR_SCRIPTS = str(
    Path(str(workflow.current_basedir)).resolve().parents[1] / "scripts"
)
if Path(EXOMIR_SCRIPTS, "exomir", "__init__.py").is_file():
    sys.path.insert(0, EXOMIR_SCRIPTS)
    # (setdefault/update rather than a lookup: the variable is optional, not a required envvar)
    _pythonpath = [
        p for p in os.environ.setdefault("PYTHONPATH", "").split(os.pathsep) if p
    ]
    if EXOMIR_SCRIPTS not in _pythonpath:
        os.environ.update(PYTHONPATH=os.pathsep.join([EXOMIR_SCRIPTS, *_pythonpath]))

from exomir.bundled import resolve_config  # noqa: E402
from exomir.countmatrix import matrix_paths  # noqa: E402
from exomir.diffexp import check_sample_sheet_design  # noqa: E402
from exomir.errors import ExomirInputError  # noqa: E402
from exomir.samplesheet import (  # noqa: E402
    is_accession,
    load_sample_sheet,
    split_fastq_field,
)
from exomir.wildcards import exact_alternation  # noqa: E402

min_version("9.0")


validate(config, schema="../schemas/config.schema.yaml")
# Config values "bundled:<path under resources/>" name files shipped with exomir: replaced here,
# once, by their location next to the workflow (users' own paths stay relative to their project).
config.update(resolve_config(config))

# Count-matrix entry (counts.matrices, rules/counts.smk): the counts come from matrix files, so
# the sample sheet needs no fastq column and the read-level stages are not requested.
COUNT_MATRICES = matrix_paths(config["counts"]["matrices"])
COUNTS_MODE = bool(COUNT_MATRICES)

try:
    SAMPLE_SHEET = load_sample_sheet(
        config["samples"],
        schema_path=Path(str(workflow.current_basedir)).parent
        / "schemas"
        / "samples.schema.yaml",
        require_fastq=not COUNTS_MODE,
    )
except ExomirInputError as err:
    raise WorkflowError(str(err)) from None

# Quantification-only runs: with diffexp.enabled false or no contrast, no DE or marker job is
# requested; counts, isomiRs, mirGFF3, QC, MultiQC and the report (saying why) still are.
DE_SKIPPED = (
    "diffexp.enabled is false"
    if not config["diffexp"]["enabled"]
    else ("diffexp.contrasts is empty" if not config["diffexp"]["contrasts"] else "")
)
if DE_SKIPPED:
    logger.warning(
        f"exomir: {DE_SKIPPED}: differential expression and marker annotation are skipped"
    )
else:
    try:
        # Contrasts that cannot be tested fail here, before any job runs.
        for warning in check_sample_sheet_design(SAMPLE_SHEET, config["diffexp"]):
            logger.warning(f"exomir: {warning}")
    except ExomirInputError as err:
        raise WorkflowError(
            f"{err}\nFor counts, isomiRs and QC without differential expression (one sample, "
            "one condition), set diffexp.enabled: false instead."
        ) from None

SAMPLES = list(SAMPLE_SHEET.index)
SPECIES = config["species"]
REF = f"results/references/{SPECIES}"
CONTRASTS = (
    []
    if DE_SKIPPED
    else [contrast["name"] for contrast in config["diffexp"]["contrasts"]]
)
# Cohort-level DE outputs: none in a quantification-only run.
DIFFEXP_COHORT_OUTPUTS = (
    []
    if DE_SKIPPED
    else ["results/diffexp/normalized_counts.tsv", "results/diffexp/pca.svg"]
)
DIFFEXP_SAMPLES_TSV = [] if DE_SKIPPED else ["results/diffexp/samples.tsv"]
# Digest of the whole configuration: a param of the rules that record it.
CONFIG_DIGEST = hashlib.sha256(
    json.dumps(config, sort_keys=True, default=str).encode()
).hexdigest()


# The sample IDs as a prefix tree: a plain "|".join(SAMPLES) costs every file-name match time
# proportional to the cohort (a 5,000-sample dry run grew with the square of the samples).
wildcard_constraints:
    sample=exact_alternation(SAMPLES),
    contrast="|".join(CONTRASTS) if CONTRASTS else "no_contrast",


def sample_fastqs(sample):
    """Raw FASTQ files of a sample, in sample-sheet order; accessions map to the download cache."""
    return [
        accession_fastq(entry) if is_accession(entry) else entry
        for entry in split_fastq_field(SAMPLE_SHEET.at[sample, "fastq"])
    ]


def get_fastqs(wildcards):
    """Input function: the sample's FASTQ files, looked up once per sample (three rules ask)."""
    if not SAMPLE_FASTQS:
        SAMPLE_FASTQS.update((sample, sample_fastqs(sample)) for sample in SAMPLES)
    return list(SAMPLE_FASTQS[wildcards.sample])


# Filled on first use: accession_fastq is defined by common_download.smk, included later.
SAMPLE_FASTQS = {}

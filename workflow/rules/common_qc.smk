# Input functions of the exRNA QC stage (included after common.smk).

QC_RNA_CLASSES = [entry["name"] for entry in config["qc"]["rna_classes"]]
QC_RNA_CLASS_FASTA = {
    entry["name"]: entry["fasta"] for entry in config["qc"]["rna_classes"]
}
QC_INDEX_SUFFIXES = (
    ".1.ebwt",
    ".2.ebwt",
    ".3.ebwt",
    ".4.ebwt",
    ".rev.1.ebwt",
    ".rev.2.ebwt",
)
QC_MULTIQC_FILES = [
    f"results/qc/multiqc/{name}"
    for name in (
        "exomir_qc_general_mqc.json",
        "exomir_qc_composition_mqc.json",
        "exomir_qc_flags_mqc.json",
        "exomir_qc_hemolysis_mqc.json",
        "exomir_qc_rna_types_mqc.json",
        "exomir_qc_complexity_mqc.json",
    )
]

try:
    from exomir.qc import check_rna_class_names

    check_rna_class_names(QC_RNA_CLASSES)
except ExomirInputError as err:
    raise WorkflowError(str(err)) from None


wildcard_constraints:
    rna_class="|".join(QC_RNA_CLASSES) if QC_RNA_CLASSES else "no_rna_class",


def get_rna_class_fasta(wildcards):
    """Configured FASTA library of one RNA class (qc.rna_classes)."""
    return QC_RNA_CLASS_FASTA[wildcards.rna_class]


def rna_class_index_prefixes(names):
    """bowtie index prefixes of the RNA classes ``names``, in the given (priority) order."""
    return [f"results/qc/rna_classes/{name}" for name in names]


def rna_class_index_files(names):
    """One bowtie index file per RNA class of ``names``, standing for the whole index.

    qc_rna_class_index declares all six files, so Snakemake still builds (or rebuilds, when one
    is missing) every one of them; listing one per class keeps a cohort's DAG small (each listed
    input costs Snakemake a producer lookup per sample job: issue 21.3).
    """
    return [prefix + QC_INDEX_SUFFIXES[0] for prefix in rna_class_index_prefixes(names)]


def get_rna_class_index_prefixes():
    """bowtie index prefixes of the RNA classes, in priority (config) order."""
    return rna_class_index_prefixes(QC_RNA_CLASSES)


# Inputs that are the same for every sample are lists, not input functions: Snakemake calls
# (and inspects) an input function once per job, which a cohort of thousands pays for.
# The bowtie indexes of all RNA classes, one file each (inputs of qc_composition).
RNA_CLASS_INDEXES = rna_class_index_files(QC_RNA_CLASSES)
# The optional spike-in FASTA (qc.spikeins) as a list: empty when not configured.
SPIKEIN_FASTA = [config["qc"]["spikeins"]] if config["qc"]["spikeins"] else []


# Classes quantify_sample checks aligned inserts against (quantify.release_to_better_rna_class).
RELEASE_RNA_CLASSES = (
    QC_RNA_CLASSES if config["quantify"]["release_to_better_rna_class"] else []
)


def get_release_rna_class_prefixes():
    """bowtie index prefixes of RELEASE_RNA_CLASSES, in priority (config) order."""
    return rna_class_index_prefixes(RELEASE_RNA_CLASSES)


# The bowtie indexes of RELEASE_RNA_CLASSES, one file each (inputs of quantify_sample).
RELEASE_RNA_CLASS_INDEXES = rna_class_index_files(RELEASE_RNA_CLASSES)

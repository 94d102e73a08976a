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
    """All bowtie index files of the RNA classes ``names``."""
    return [
        prefix + suffix
        for prefix in rna_class_index_prefixes(names)
        for suffix in QC_INDEX_SUFFIXES
    ]


def get_rna_class_index_prefixes():
    """bowtie index prefixes of the RNA classes, in priority (config) order."""
    return rna_class_index_prefixes(QC_RNA_CLASSES)


def get_rna_class_indexes(wildcards):
    """All bowtie index files of all RNA classes (inputs of qc_composition)."""
    return rna_class_index_files(QC_RNA_CLASSES)


def get_spikein_fasta(wildcards):
    """The optional spike-in FASTA (qc.spikeins) as a list: empty when not configured."""
    return [config["qc"]["spikeins"]] if config["qc"]["spikeins"] else []


# Classes quantify_sample checks aligned inserts against (quantify.release_to_better_rna_class).
RELEASE_RNA_CLASSES = (
    QC_RNA_CLASSES if config["quantify"]["release_to_better_rna_class"] else []
)


def get_release_rna_class_prefixes():
    """bowtie index prefixes of RELEASE_RNA_CLASSES, in priority (config) order."""
    return rna_class_index_prefixes(RELEASE_RNA_CLASSES)


def get_release_rna_class_indexes(wildcards):
    """All bowtie index files of RELEASE_RNA_CLASSES (inputs of quantify_sample)."""
    return rna_class_index_files(RELEASE_RNA_CLASSES)

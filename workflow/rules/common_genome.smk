# Genome mode (issue 22), shared definitions: whether it is on, its outputs and the input
# functions other stages use (qc_composition, multiqc, exomir_report). Rules: genome.smk.
GENOME = config.get("genome", {})
GENOME_ENABLED = bool(GENOME.get("fasta"))
GENOME_INDEX = GENOME.get("bowtie_index") or "results/genome/index/genome"
if GENOME.get("bowtie_index") and not GENOME_ENABLED:
    raise WorkflowError(
        "config genome: bowtie_index is set but fasta is empty, so genome mode is off. "
        "Fix: set genome.fasta to the FASTA the index was built from (candidate precursors "
        "are excised from it), or leave bowtie_index empty"
    )
GENOME_OUTPUTS = (
    [
        "results/genome/mapping_stats.tsv",
        "results/genome/novel_candidates.tsv",
        "results/genome/novel_counts.tsv",
        "results/genome/novel_section.html",
        "results/genome/multiqc/genome_mapping_mqc.tsv",
    ]
    if GENOME_ENABLED
    else []
)
GENOME_MULTIQC_FILES = GENOME_OUTPUTS[-1:]
# What the biomarker report's novel-miRNA section reads (empty without a genome).
GENOME_REPORT_FILES = (
    [
        "results/genome/novel_candidates.tsv",
        "results/genome/novel_counts.tsv",
        "results/genome/novel_stacks.json",
    ]
    if GENOME_ENABLED
    else []
)


def get_genome_loci(wildcards):
    """Per-sequence genome loci of a sample for its read composition ([] without a genome)."""
    return [f"results/genome/{wildcards.sample}.loci.tsv.gz"] if GENOME_ENABLED else []

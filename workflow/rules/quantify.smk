# miRNA quantification: unique inserts -> bowtie to hairpins -> mature arms, isomiRs, matrices.


rule quantify_sample:
    input:
        collapsed="results/preprocess/{sample}.collapsed.tsv.gz",
        hairpin=f"{REF}/hairpin.fa",
        mature=f"{REF}/mature.tsv",
        # one file stands for the index (rule bowtie_index_hairpins writes all six): fewer
        # inputs per sample job keep a cohort's DAG fast
        index=f"{REF}/bowtie/hairpin{BOWTIE_INDEX_SUFFIXES[0]}",
        rna_class_indexes=RELEASE_RNA_CLASS_INDEXES,
    output:
        bam="results/quantify/{sample}.bam",
        bai="results/quantify/{sample}.bam.bai",
        bowtie_log="results/quantify/{sample}.bowtie.log",
        assignments="results/quantify/{sample}.assignments.tsv.gz",
        stats="results/quantify/{sample}.stats.tsv",
        unmapped="results/quantify/{sample}.unmapped.fa.gz",
        mirgff="results/quantify/mirgff/{sample}.gff",
    log:
        "logs/quantify_sample/{sample}.log",
    group:
        "sample_chain"
    conda:
        "../envs/bowtie.yaml"
    threads: 2
    resources:
        mem_mb=1500,
        runtime=60,
    params:
        index_prefix=lambda wildcards, input: input.index.removesuffix(
            BOWTIE_INDEX_SUFFIXES[0]
        ),
        mismatches=config["quantify"]["mismatches"],
        max_3p_addition=config["quantify"]["max_3p_addition"],
        max_5p_shift=config["quantify"]["max_5p_shift"],
        max_3p_shift=config["quantify"]["max_3p_shift"],
        min_length=config["quantify"]["min_length"],
        rna_classes=RELEASE_RNA_CLASSES,
        rna_class_prefixes=get_release_rna_class_prefixes(),
        source_ontology=MIRGFF_SOURCE,
    script:
        "../scripts/quantify_sample.py"


rule quantify_matrices:
    input:
        assignments=expand(
            "results/quantify/{sample}.assignments.tsv.gz", sample=SAMPLES
        ),
        stats=expand("results/quantify/{sample}.stats.tsv", sample=SAMPLES),
        hairpin=f"{REF}/hairpin.fa",
        mature=f"{REF}/mature.tsv",
    output:
        mature_counts=report(
            "results/quantify/mature_counts.tsv",
            caption="../report/mature_counts.rst",
            category="1. Quality control",
            labels={"table": "mature miRNA counts"},
        ),
        hairpin_counts="results/quantify/hairpin_counts.tsv",
        mature_rpm="results/quantify/mature_rpm.tsv",
        hairpin_rpm="results/quantify/hairpin_rpm.tsv",
        isomirs="results/quantify/isomirs.tsv",
        mapping_stats="results/quantify/mapping_stats.tsv",
        other_class="results/quantify/mature_other_class.tsv",
        other_class_counts="results/quantify/mature_other_class_counts.tsv",
    log:
        "logs/quantify_matrices/quantify_matrices.log",
    conda:
        "../envs/python.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        samples=SAMPLES,
    script:
        "../scripts/quantify_matrices.py"

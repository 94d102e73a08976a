# exRNA quality control: read composition, spike-ins, hemolysis, sample flags, MultiQC content.


rule qc_prepare_rna_class:
    input:
        fasta=get_rna_class_fasta,
    output:
        fasta="results/qc/rna_classes/{rna_class}.fa",
    log:
        "logs/qc_prepare_rna_class/{rna_class}.log",
    conda:
        "../envs/python.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    script:
        "../scripts/qc_prepare_rna_class.py"


rule qc_rna_class_index:
    input:
        fasta="results/qc/rna_classes/{rna_class}.fa",
    output:
        multiext(
            "results/qc/rna_classes/{rna_class}",
            ".1.ebwt",
            ".2.ebwt",
            ".3.ebwt",
            ".4.ebwt",
            ".rev.1.ebwt",
            ".rev.2.ebwt",
        ),
    log:
        "logs/qc_rna_class_index/{rna_class}.log",
    conda:
        "../envs/bowtie.yaml"
    threads: 2
    resources:
        mem_mb=4000,
        runtime=60,
    params:
        prefix=lambda wildcards, output: output[0].removesuffix(".1.ebwt"),
    shell:
        "bowtie-build --threads {threads} {input.fasta:q} {params.prefix:q} > {log:q} 2>&1"


rule qc_composition:
    input:
        preprocess_stats="results/preprocess/{sample}.stats.tsv",
        collapsed="results/preprocess/{sample}.collapsed.tsv.gz",
        quantify_stats="results/quantify/{sample}.stats.tsv",
        unmapped="results/quantify/{sample}.unmapped.fa.gz",
        indexes=RNA_CLASS_INDEXES,
        spikeins=SPIKEIN_FASTA,
        # genome mode (issue 22): [] without genome.fasta
        genome_loci=get_genome_loci,
    output:
        composition="results/qc/composition/{sample}.tsv",
        spikeins="results/qc/spikeins/{sample}.tsv",
    log:
        "logs/qc_composition/{sample}.log",
    conda:
        "../envs/bowtie.yaml"
    threads: 2
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        rna_classes=QC_RNA_CLASSES,
        index_prefixes=get_rna_class_index_prefixes(),
        class_mismatches=config["qc"]["class_mismatches"],
        spikein_mismatches=config["qc"]["spikein_mismatches"],
        spikein_min_length=config["qc"]["spikein_min_length"],
    script:
        "../scripts/qc_composition.py"


rule qc_summary:
    input:
        compositions=expand("results/qc/composition/{sample}.tsv", sample=SAMPLES),
        spikeins=expand("results/qc/spikeins/{sample}.tsv", sample=SAMPLES),
        mature_counts="results/quantify/mature_counts.tsv",
    output:
        composition=report(
            "results/qc/composition.tsv",
            caption="../report/composition.rst",
            category="1. Quality control",
        ),
        hemolysis="results/qc/hemolysis.tsv",
        spikeins="results/qc/spikeins.tsv",
        flags=report(
            "results/qc/sample_flags.tsv",
            caption="../report/sample_flags.rst",
            category="1. Quality control",
        ),
        rna_types="results/qc/rna_types.tsv",
        complexity="results/qc/complexity.tsv",
        multiqc=QC_MULTIQC_FILES,
    log:
        "logs/qc_summary/qc_summary.log",
    conda:
        "../envs/python.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=20,
    params:
        samples=SAMPLES,
        species=SPECIES,
        thresholds=config["qc"]["thresholds"],
        hemolysis=config["qc"]["hemolysis"],
        mirna_min_reads=config["qc"]["mirna_min_reads"],
        exclude_failed_from_de=config["qc"]["exclude_failed_from_de"],
        multiqc_dir=lambda wildcards, output: os.path.dirname(output.multiqc[0]),
    script:
        "../scripts/qc_summary.py"

# Preprocess stage: adapter detection + trimming + UMI deduplication + collapsing, FastQC.
# Logic in scripts/exomir/{kits,preprocess,umi,fastq_check}.py; kit presets in resources/kits/.


# Peak memory measured with the 2 threads: 171 MB for 2 M reads with 98,522 unique passing
# inserts, 273 MB for 2 M reads with 564,172; 193 MB for 1 M QIAseq UMI reads. It grows by about
# 350 bytes per unique trimmed sequence (+ 8 bytes per UMI read), not with the number of reads.
# The adapter detection (first detection_reads reads) runs in the same job: one Python start and
# one job per sample less than a job of its own (issue 21).
rule trim_and_collapse:
    input:
        fastq=get_fastqs,
    output:
        detection="results/preprocess/{sample}.adapter_detection.tsv",
        collapsed="results/preprocess/{sample}.collapsed.tsv.gz",
        stats="results/preprocess/{sample}.stats.tsv",
        lengths="results/preprocess/{sample}.lengths.tsv",
        json="results/preprocess/{sample}.cutadapt.json",
        cutadapt_log="results/preprocess/{sample}.cutadapt.log",
    log:
        "logs/trim_and_collapse/{sample}.log",
    group:
        "sample_chain"
    conda:
        "../envs/cutadapt.yaml"
    threads: 2
    resources:
        mem_mb=2000,
        runtime=120,
    params:
        kit=config["preprocess"]["kit"],
        adapter=config["preprocess"]["adapter"],
        clip_5p=config["preprocess"]["clip_5p"],
        clip_3p=config["preprocess"]["clip_3p"],
        n_reads=config["preprocess"]["detection_reads"],
        min_fraction=config["preprocess"]["detection_min_fraction"],
        min_ratio=config["preprocess"]["detection_min_ratio"],
        quality_cutoff=config["preprocess"]["quality_cutoff"],
        max_n=config["preprocess"]["max_n"],
        min_length=config["preprocess"]["min_length"],
        max_length=config["preprocess"]["max_length"],
        discard_untrimmed=config["preprocess"]["discard_untrimmed"],
        error_rate=config["preprocess"]["error_rate"],
        min_overlap=config["preprocess"]["min_overlap"],
        use_umi=config["preprocess"]["use_umi"],
        adapter_recovery=config["preprocess"]["adapter_recovery"],
        recovery_error_rate=config["preprocess"]["recovery_error_rate"],
        recovery_min_overlap=config["preprocess"]["recovery_min_overlap"],
    script:
        "../scripts/trim_and_collapse.py"


# All lanes of a sample are streamed into one FastQC run named after the sample,
# so MultiQC shows one raw-read FastQC entry per sample. It waits for the detection table, written
# only after exomir's input check passed: a rejected file gets no FastQC report (issue 15.6).
rule fastqc:
    input:
        fastq=get_fastqs,
        checked="results/preprocess/{sample}.adapter_detection.tsv",
    output:
        zip="results/qc/fastqc/{sample}/{sample}_fastqc.zip",
        html="results/qc/fastqc/{sample}/{sample}_fastqc.html",
    log:
        "logs/fastqc/{sample}.log",
    conda:
        "../envs/fastqc.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=60,
    shell:
        "(gzip -dcf -- {input.fastq:q} | fastqc --quiet --threads {threads} "
        "--outdir results/qc/fastqc/{wildcards.sample} stdin:{wildcards.sample}) > {log:q} 2>&1"

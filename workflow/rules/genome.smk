# Genome mode (optional, config genome.fasta): genome mapping statistics and novel miRNA
# candidates from the sequences no miRNA or RNA-class step explained. Nothing here runs (or is
# requested) while genome.fasta is empty.


rule genome_index:
    input:
        fasta=GENOME.get("fasta") or "genome.fa",
    output:
        index=multiext("results/genome/index/genome", *BOWTIE_INDEX_SUFFIXES),
    log:
        "logs/genome_index/genome_index.log",
    conda:
        "../envs/bowtie.yaml"
    threads: 4
    resources:
        # bowtie-build: 46.7 Mb 44 s CPU / 162 MB, 93 Mb 95 s / 228 MB; GRCh38 ~4.6 (<= 11) GB, 2-4 h (config/README.md).
        mem_mb=16000,
        runtime=480,
    params:
        prefix=lambda wildcards, output: output.index[0].removesuffix(
            BOWTIE_INDEX_SUFFIXES[0]
        ),
    shell:
        "bowtie-build --threads {threads} --seed 1 {input.fasta:q} {params.prefix:q} > {log:q} 2>&1"


rule genome_faidx:
    input:
        fasta=GENOME.get("fasta") or "genome.fa",
    output:
        fai="results/genome/index/genome.fa.fai",
        fasta="results/genome/index/genome.fa",
    log:
        "logs/genome_faidx/genome_faidx.log",
    conda:
        "../envs/bowtie.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=60,
    shell:
        "(gzip -dcf {input.fasta:q} > {output.fasta:q} && samtools faidx {output.fasta:q}) > {log:q} 2>&1"


rule genome_map_sample:
    input:
        unmapped="results/quantify/{sample}.unmapped.fa.gz",
        index=multiext(GENOME_INDEX, *BOWTIE_INDEX_SUFFIXES),
    output:
        hits="results/genome/{sample}.hits.tsv.gz",
        stats="results/genome/{sample}.stats.tsv",
        loci="results/genome/{sample}.loci.tsv.gz",
    log:
        "logs/genome_map_sample/{sample}.log",
    conda:
        "../envs/bowtie.yaml"
    threads: 2
    resources:
        mem_mb=4000,
        runtime=60,
    params:
        index_prefix=lambda wildcards, input: input.index[0].removesuffix(
            BOWTIE_INDEX_SUFFIXES[0]
        ),
        mismatches=GENOME.get("mismatches", 0),
        max_loci=GENOME.get("max_loci", 5),
    script:
        "../scripts/genome_map_sample.py"


rule genome_cohort_stats:
    input:
        stats=expand("results/genome/{sample}.stats.tsv", sample=SAMPLES),
        quantify_stats=expand("results/quantify/{sample}.stats.tsv", sample=SAMPLES),
    output:
        table="results/genome/mapping_stats.tsv",
        multiqc="results/genome/multiqc/genome_mapping_mqc.tsv",
    log:
        "logs/genome_cohort_stats/genome_cohort_stats.log",
    conda:
        "../envs/genome.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    script:
        "../scripts/genome_cohort_stats.py"


rule genome_novel:
    input:
        hits=expand("results/genome/{sample}.hits.tsv.gz", sample=SAMPLES),
        fasta="results/genome/index/genome.fa",
        fai="results/genome/index/genome.fa.fai",
        hairpin=f"{REF}/hairpin.fa",
        rna_classes=sorted(
            os.path.relpath(p)
            for p in (
                Path(workflow.basedir).parent / "resources" / "rna_classes"
            ).glob("*.fa")
        ),
    output:
        candidates="results/genome/novel_candidates.tsv",
        counts="results/genome/novel_counts.tsv",
        section="results/genome/novel_section.html",
        stacks="results/genome/novel_stacks.json",
    log:
        "logs/genome_novel/genome_novel.log",
    conda:
        "../envs/genome.yaml"
    threads: 1
    resources:
        mem_mb=8000,
        runtime=120,
    params:
        samples=SAMPLES,
        min_score=GENOME.get("min_score", 5.0),
    script:
        "../scripts/genome_novel.py"

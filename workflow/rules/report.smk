# Reports: MultiQC (read-level QC with small-RNA sections) and the standalone biomarker report.


localrules:
    multiqc_content,
    multiqc,
    exomir_report,


rule multiqc_content:
    input:
        preprocess_stats=expand("results/preprocess/{sample}.stats.tsv", sample=SAMPLES),
        lengths=expand("results/preprocess/{sample}.lengths.tsv", sample=SAMPLES),
        quantify_stats=expand("results/quantify/{sample}.stats.tsv", sample=SAMPLES),
        mature_counts="results/quantify/mature_counts.tsv",
        de_results=expand("results/diffexp/{contrast}/results.tsv", contrast=CONTRASTS),
        annotations=expand(
            "results/markers/{contrast}/annotation.tsv", contrast=CONTRASTS
        ),
    output:
        content=MULTIQC_CONTENT_FILES,
    log:
        "logs/multiqc_content/multiqc_content.log",
    conda:
        "../envs/python.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        samples=SAMPLES,
        contrasts=CONTRASTS,
        alpha=config["diffexp"]["alpha"],
        top_n=config["report"]["multiqc_top_mirnas"],
        outdir=lambda wildcards, output: os.path.dirname(output.content[0]),
    script:
        "../scripts/multiqc_content.py"


rule multiqc:
    input:
        fastqc=expand("results/qc/fastqc/{sample}/{sample}_fastqc.zip", sample=SAMPLES),
        cutadapt=expand("results/preprocess/{sample}.cutadapt.log", sample=SAMPLES),
        bowtie=expand("results/quantify/{sample}.bowtie.log", sample=SAMPLES),
        qc_content=QC_MULTIQC_FILES,
        exomir_content=MULTIQC_CONTENT_FILES,
        # genome mode (issue 22): empty list without genome.fasta
        genome_content=GENOME_MULTIQC_FILES,
        config=REPORT_ASSETS / "multiqc_config.yaml",
    output:
        html=report(
            "results/report/multiqc_report.html",
            caption="../report/multiqc.rst",
            category="1. Quality control",
            labels={"report": "MultiQC"},
        ),
    log:
        "logs/multiqc/multiqc.log",
    conda:
        "../envs/multiqc.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        user_config=(
            f"--config {shlex.quote(config['report']['multiqc_config'])}"
            if config["report"]["multiqc_config"]
            else ""
        ),
    shell:
        # Only the listed files are read (not whole folders): each cutadapt log has a JSON twin
        # that MultiQC would otherwise parse a second time.
        "multiqc --force --no-data-dir --no-ansi --config {input.config:q} {params.user_config} "
        "--outdir results/report --filename multiqc_report.html "
        "{input.fastqc:q} {input.cutadapt:q} {input.bowtie:q} {input.qc_content:q} {input.exomir_content:q} {input.genome_content:q} "
        "> {log:q} 2>&1"


rule exomir_report:
    input:
        unpack(report_read_inputs),  # QC and read statistics; count-matrix import tables
        de_samples=DIFFEXP_SAMPLES_TSV,
        de_results=expand("results/diffexp/{contrast}/results.tsv", contrast=CONTRASTS),
        annotations=expand(
            "results/markers/{contrast}/annotation.tsv", contrast=CONTRASTS
        ),
        auc=expand("results/markers/{contrast}/auc.tsv", contrast=CONTRASTS),
        roc=expand("results/markers/{contrast}/roc.tsv", contrast=CONTRASTS),
        dotplots=expand("results/markers/{contrast}/dotplot.svg", contrast=CONTRASTS),
        # cohort overview and strip plots (issue 20.3): none in a quantification-only run
        overview=REPORT_OVERVIEW_INPUTS,
        validation=VALIDATION_OUTPUTS,
        meta=META_OUTPUTS,
        versions="results/provenance/software_versions.tsv",
        # genome mode (issue 22): novel-miRNA section data, [] without genome.fasta
        genome=GENOME_REPORT_FILES,
        template=REPORT_ASSETS / "exomir_report.html.j2",
        css=REPORT_ASSETS / "assets" / "report.css",
        js=REPORT_ASSETS / "assets" / "report.js",
    output:
        html=report(
            "results/report/exomir_report.html",
            caption="../report/exomir_report.rst",
            category="3. Biomarkers",
            labels={"report": "exomir biomarker report"},
        ),
    log:
        "logs/exomir_report/exomir_report.log",
    conda:
        "../envs/report.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        results=lambda wildcards, output: str(Path(output.html).parents[1]),
        samples=SAMPLE_SHEET.reset_index(drop=True).to_dict("records"),
        contrasts=CONTRASTS,
        alpha=config["diffexp"]["alpha"],
        template_dir=lambda wildcards, input: os.path.dirname(input.template),
        # no MultiQC report in a count-matrix run: there are no reads to check
        multiqc_href="" if COUNTS_MODE else "multiqc_report.html",
    script:
        "../scripts/exomir_report.py"

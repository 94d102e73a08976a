# Differential expression of mature miRNAs with pyDESeq2: one cohort fit serves the cohort tables,
# the VST and every contrast's test (plus the hemolysis check's second design); then plots per contrast.


rule diffexp_fit:
    input:
        counts="results/quantify/mature_counts.tsv",
        sample_sheet=config["samples"],
        # a count-matrix run has no read-level QC flags: every sample is used
        flags=[] if COUNTS_MODE else "results/qc/sample_flags.tsv",
        hemolysis=[] if COUNTS_MODE else "results/qc/hemolysis.tsv",
    output:
        samples="results/diffexp/samples.tsv",
        size_factors="results/diffexp/size_factors.tsv",
        normalized="results/diffexp/normalized_counts.tsv",
        vst="results/diffexp/vst.tsv",
        vst_parameters="results/diffexp/vst_parameters.json",
        pca="results/diffexp/pca.tsv",
        pca_variance="results/diffexp/pca_variance.tsv",
        distances="results/diffexp/sample_distances.tsv",
        dispersions="results/diffexp/dispersions.tsv",
        pca_svg=report(
            "results/diffexp/pca.svg",
            caption="../report/pca.rst",
            category="2. Differential expression",
        ),
        distances_svg=report(
            "results/diffexp/sample_distances.svg",
            caption="../report/sample_distances.rst",
            category="2. Differential expression",
        ),
        dispersion_svg=report(
            "results/diffexp/dispersion.svg",
            caption="../report/dispersion.rst",
            category="2. Differential expression",
        ),
        results=report(
            expand("results/diffexp/{contrast}/results.tsv", contrast=CONTRASTS),
            caption="../report/diffexp_results.rst",
            category="2. Differential expression",
        ),
    log:
        "logs/diffexp_fit/diffexp_fit.log",
    conda:
        "../envs/pydeseq2.yaml"
    threads: 2
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        outdir=lambda wildcards, output: os.path.dirname(output.samples),
        diffexp=config["diffexp"],
        exclude_failed=config["qc"]["exclude_failed_from_de"],
    script:
        "../scripts/diffexp_fit.py"


rule diffexp_contrast:
    input:
        results="results/diffexp/{contrast}/results.tsv",
        samples="results/diffexp/samples.tsv",
        vst="results/diffexp/vst.tsv",
    output:
        top="results/diffexp/{contrast}/top_mirnas.tsv",
        ma_svg=report(
            "results/diffexp/{contrast}/ma.svg",
            caption="../report/ma.rst",
            category="2. Differential expression",
            subcategory="{contrast}",
        ),
        volcano_svg=report(
            "results/diffexp/{contrast}/volcano.svg",
            caption="../report/volcano.rst",
            category="2. Differential expression",
            subcategory="{contrast}",
        ),
        heatmap_svg=report(
            "results/diffexp/{contrast}/heatmap_top.svg",
            caption="../report/heatmap_top.rst",
            category="2. Differential expression",
            subcategory="{contrast}",
        ),
    log:
        "logs/diffexp_contrast/{contrast}.log",
    conda:
        "../envs/pydeseq2.yaml"
    threads: 2
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        outdir=lambda wildcards, output: os.path.dirname(output.top),
        diffexp=config["diffexp"],
    script:
        "../scripts/diffexp_contrast.py"

# Differential expression of mature miRNAs with pyDESeq2: one cohort fit, then one test per contrast.


rule diffexp_fit:
    input:
        counts="results/quantify/mature_counts.tsv",
        sample_sheet=config["samples"],
        flags="results/qc/sample_flags.tsv",
    output:
        samples="results/diffexp/samples.tsv",
        size_factors="results/diffexp/size_factors.tsv",
        normalized="results/diffexp/normalized_counts.tsv",
        vst="results/diffexp/vst.tsv",
        pca="results/diffexp/pca.tsv",
        pca_variance="results/diffexp/pca_variance.tsv",
        distances="results/diffexp/sample_distances.tsv",
        dispersions="results/diffexp/dispersions.tsv",
        pca_svg="results/diffexp/pca.svg",
        distances_svg="results/diffexp/sample_distances.svg",
        dispersion_svg="results/diffexp/dispersion.svg",
    log:
        "logs/diffexp_fit/diffexp_fit.log",
    conda:
        "../envs/pydeseq2.yaml"
    threads: 2
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        outdir="results/diffexp",
        diffexp=config["diffexp"],
        exclude_failed=config["qc"]["exclude_failed_from_de"],
    script:
        "../scripts/diffexp_fit.py"


rule diffexp_contrast:
    input:
        counts="results/quantify/mature_counts.tsv",
        samples="results/diffexp/samples.tsv",
        vst="results/diffexp/vst.tsv",
    output:
        results="results/diffexp/{contrast}/results.tsv",
        top="results/diffexp/{contrast}/top_mirnas.tsv",
        ma_svg="results/diffexp/{contrast}/ma.svg",
        volcano_svg="results/diffexp/{contrast}/volcano.svg",
        heatmap_svg="results/diffexp/{contrast}/heatmap_top.svg",
    log:
        "logs/diffexp_contrast/{contrast}.log",
    conda:
        "../envs/pydeseq2.yaml"
    threads: 2
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        outdir="results/diffexp/{contrast}",
        diffexp=config["diffexp"],
    script:
        "../scripts/diffexp_contrast.py"

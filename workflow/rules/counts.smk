# Count-matrix entry: the matrices of counts.matrices, checked and put under miRBase 22.1 names,
# become results/quantify/mature_counts.tsv, which the DE, marker and report rules read as
# they read the quantify stage's. Logic in scripts/exomir/countmatrix.py.


if COUNTS_MODE:

    # The imported matrix stands in for the one quantify_matrices builds from reads.
    ruleorder: counts_import > quantify_matrices

    rule counts_import:
        input:
            matrices=COUNT_MATRICES,
            sample_sheet=config["samples"],
            mature=config["markers"]["mirbase_mature"],
            gff3=config["markers"]["mirbase_gff3"],
        output:
            counts="results/quantify/mature_counts.tsv",
            names="results/counts/name_resolution.tsv",
            summary="results/counts/import_summary.tsv",
        log:
            "logs/counts_import/counts_import.log",
        conda:
            "../envs/python.yaml"
        threads: 1
        resources:
            mem_mb=2000,
            runtime=10,
        params:
            samples=SAMPLES,
            counts=config["counts"],
            prefix=config["markers"]["mirbase_prefix"],
        script:
            "../scripts/counts_import.py"

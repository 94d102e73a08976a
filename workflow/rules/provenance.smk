# Software versions and the configuration of this run, for the methods of the reports.


rule provenance:
    output:
        versions="results/provenance/software_versions.tsv",
        config="results/provenance/config.yaml",
    log:
        "logs/provenance/provenance.log",
    conda:
        "../envs/python.yaml"
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    params:
        # Rerun when the configuration changes.
        config_digest=CONFIG_DIGEST,
    script:
        "../scripts/provenance.py"

# Public runs given as accessions: resolve at ENA, download verified FASTQ, record provenance.


# Downloads need the internet, which cluster compute nodes often lack: run them on the
# host that runs Snakemake (limit parallel downloads with --local-cores).
localrules:
    download_run,
    download_accession_table,


rule download_run:
    output:
        fastq=f"{DOWNLOAD_CACHE}/{{accession}}.fastq.gz",
        json=f"{DOWNLOAD_CACHE}/{{accession}}.json",
    log:
        "logs/download_run/{accession}.log",
    wildcard_constraints:
        accession=r"(SRR|ERR|DRR)[0-9]{5,12}",
    conda:
        "../envs/python.yaml"
    threads: 1
    resources:
        mem_mb=500,
        runtime=240,
    params:
        api_url=config["download"]["ena_api_url"],
        scheme=config["download"]["file_scheme"],
        retries=config["download"]["retries"],
        retry_wait=config["download"]["retry_wait"],
        timeout=config["download"]["timeout"],
        min_rate=config["download"]["min_kb_per_s"] * 1000,
        file_hosts=config["download"]["file_hosts"],
    script:
        "../scripts/download_run.py"


rule download_accession_table:
    input:
        metadata=get_download_metadata,
    output:
        table="results/downloads/accessions.tsv",
    log:
        "logs/download_accession_table/accession_table.log",
    conda:
        "../envs/python.yaml"
    threads: 1
    resources:
        mem_mb=500,
        runtime=10,
    params:
        samples=DOWNLOAD_SAMPLES,
        accessions=DOWNLOAD_ACCESSIONS,
    script:
        "../scripts/download_accession_table.py"

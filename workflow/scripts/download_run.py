"""Rule download_run: see exomir.ena.download_run."""

from exomir.ena import download_run
from exomir.logutil import log_to

with log_to(snakemake.log[0]):
    download_run(
        snakemake.wildcards.accession,
        snakemake.output.fastq,
        snakemake.output.json,
        api_url=snakemake.params.api_url,
        scheme=snakemake.params.scheme,
        retries=int(snakemake.params.retries),
        timeout=float(snakemake.params.timeout),
        backoff=float(snakemake.params.retry_wait),
        min_rate=float(snakemake.params.min_rate),
        file_hosts=list(snakemake.params.file_hosts),
    )

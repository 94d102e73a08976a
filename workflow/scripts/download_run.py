"""Rule download_run: see exomir.ena.download_run."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parents[1] / "scripts"))
from exomir.ena import download_run  # noqa: E402
from exomir.logutil import log_to  # noqa: E402

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

"""Rule download_reference: see exomir.download.fetch_verified."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parents[1] / "scripts"))
from exomir.download import fetch_verified  # noqa: E402
from exomir.logutil import log_to  # noqa: E402

with log_to(snakemake.log[0]):
    dest = snakemake.output.reference
    fetch_verified(
        snakemake.params.url,
        dest,
        sha256=snakemake.params.sha256,
        retries=snakemake.params.retries,
        timeout=snakemake.params.timeout,
        min_rate=float(snakemake.params.min_rate),
        expect="gzip" if dest.endswith(".gz") else "text",
    )

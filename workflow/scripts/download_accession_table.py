"""Rule download_accession_table: see exomir.ena.write_accession_table."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parents[1] / "scripts"))
from exomir.ena import write_accession_table  # noqa: E402
from exomir.logutil import log_to  # noqa: E402

with log_to(snakemake.log[0]):
    write_accession_table(
        samples=list(snakemake.params.samples),
        accessions=list(snakemake.params.accessions),
        metadata_jsons=list(snakemake.input.metadata),
        out_tsv=snakemake.output.table,
    )

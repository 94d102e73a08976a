"""Rule download_accession_table: see exomir.ena.write_accession_table."""

from exomir.ena import write_accession_table
from exomir.logutil import log_to

with log_to(snakemake.log[0]):
    write_accession_table(
        samples=list(snakemake.params.samples),
        accessions=list(snakemake.params.accessions),
        metadata_jsons=list(snakemake.input.metadata),
        out_tsv=snakemake.output.table,
    )

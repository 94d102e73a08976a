"""Rule provenance: see exomir.provenance.write_provenance."""

from exomir.logutil import log_to
from exomir.provenance import write_provenance

with log_to(snakemake.log[0]):
    write_provenance(
        versions_tsv=snakemake.output.versions,
        config_yaml=snakemake.output.config,
        config=dict(snakemake.config),
    )

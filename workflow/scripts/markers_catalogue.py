"""Rule markers_catalogue: see exomir.markers.catalogue.resolve_catalogues."""

from exomir.logutil import log_to
from exomir.markers.catalogue import resolve_catalogues

with log_to(snakemake.log[0]):
    resolve_catalogues(
        catalogue_paths=list(snakemake.input.catalogues),
        mirna_schema=snakemake.input.mirna_schema,
        other_paths=list(snakemake.input.other_catalogues),
        other_schema=snakemake.input.other_schema,
        mature_fasta=snakemake.input.mature,
        gff3=snakemake.input.gff3,
        prefix=snakemake.params.prefix,
        out_resolved=snakemake.output.resolved,
        out_other=snakemake.output.other,
    )

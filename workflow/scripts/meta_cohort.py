"""Rule meta_cohort: see exomir.markers.meta.cohort_de."""

from exomir.io import write_tsv
from exomir.logutil import log_to
from exomir.markers.meta import cohort_de

with log_to(snakemake.log[0]):
    table = cohort_de(
        counts_tsv=snakemake.input.counts,
        samples_tsv=snakemake.input.samples,
        cohort=dict(snakemake.params.cohort),
        alpha=float(snakemake.params.alpha),
    )
    write_tsv(table, snakemake.output.table)

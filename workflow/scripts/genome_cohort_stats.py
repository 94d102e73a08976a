"""Rule genome_cohort_stats: see exomir.genome.mapping.cohort_stats."""

from exomir.genome.mapping import cohort_stats
from exomir.genome.section import write_multiqc
from exomir.logutil import log_to

with log_to(snakemake.log[0]):
    table = cohort_stats(
        list(snakemake.input.stats),
        list(snakemake.input.quantify_stats),
        snakemake.output.table,
    )
    write_multiqc(table, snakemake.output.multiqc)

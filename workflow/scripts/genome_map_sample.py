"""Rule genome_map_sample: see exomir.genome.mapping.map_sample."""

from exomir.genome.mapping import GenomeMapSettings, map_sample
from exomir.logutil import log_to

with log_to(snakemake.log[0]):
    map_sample(
        sample=snakemake.wildcards.sample,
        unmapped_fa=snakemake.input.unmapped,
        index_prefix=snakemake.params.index_prefix,
        out_hits=snakemake.output.hits,
        out_stats=snakemake.output.stats,
        out_loci=snakemake.output.loci,
        settings=GenomeMapSettings(
            mismatches=snakemake.params.mismatches,
            max_loci=snakemake.params.max_loci,
            threads=snakemake.threads,
        ),
    )

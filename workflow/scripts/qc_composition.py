"""Rule qc_composition: see exomir.qc.sample_composition."""

from exomir.logutil import log_to
from exomir.qc import sample_composition

with log_to(snakemake.log[0]):
    sample_composition(
        sample=snakemake.wildcards.sample,
        preprocess_stats=snakemake.input.preprocess_stats,
        quantify_stats=snakemake.input.quantify_stats,
        unmapped_fasta=snakemake.input.unmapped,
        collapsed_tsv=snakemake.input.collapsed,
        rna_class_indexes=list(zip(snakemake.params.rna_classes, snakemake.params.index_prefixes, strict=True)),
        out_composition=snakemake.output.composition,
        out_spikeins=snakemake.output.spikeins,
        spikein_fasta=snakemake.input.spikeins[0] if snakemake.input.spikeins else None,
        class_mismatches=snakemake.params.class_mismatches,
        spikein_mismatches=snakemake.params.spikein_mismatches,
        spikein_min_length=snakemake.params.spikein_min_length,
        threads=snakemake.threads,
        genome_loci=snakemake.input.genome_loci[0] if snakemake.input.genome_loci else None,
    )

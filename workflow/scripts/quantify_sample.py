"""Rule quantify_sample: see exomir.quantify.quantify_sample."""

from exomir.logutil import log_to
from exomir.quantify import QuantifySettings, quantify_sample

with log_to(snakemake.log[0]):
    quantify_sample(
        sample=snakemake.wildcards.sample,
        collapsed=snakemake.input.collapsed,
        hairpin_fa=snakemake.input.hairpin,
        mature_tsv=snakemake.input.mature,
        index_prefix=snakemake.params.index_prefix,
        out_bam=snakemake.output.bam,
        out_bowtie_log=snakemake.output.bowtie_log,
        out_assignments=snakemake.output.assignments,
        out_stats=snakemake.output.stats,
        out_unmapped=snakemake.output.unmapped,
        out_mirgff=snakemake.output.mirgff,
        settings=QuantifySettings(
            mismatches=snakemake.params.mismatches,
            max_3p_addition=snakemake.params.max_3p_addition,
            max_5p_shift=snakemake.params.max_5p_shift,
            max_3p_shift=snakemake.params.max_3p_shift,
            min_length=snakemake.params.min_length,
            threads=snakemake.threads,
        ),
        source_ontology=snakemake.params.source_ontology,
        rna_class_indexes=list(
            zip(snakemake.params.rna_classes, snakemake.params.rna_class_prefixes)
        ),
    )

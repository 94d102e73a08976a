"""Rule quantify_matrices: see exomir.quantify.build_matrices."""

from exomir.logutil import log_to
from exomir.quantify import build_matrices

with log_to(snakemake.log[0]):
    build_matrices(
        samples=list(snakemake.params.samples),
        assignments=list(snakemake.input.assignments),
        stats=list(snakemake.input.stats),
        mature_tsv=snakemake.input.mature,
        hairpin_fa=snakemake.input.hairpin,
        out_mature=snakemake.output.mature_counts,
        out_hairpin=snakemake.output.hairpin_counts,
        out_mature_rpm=snakemake.output.mature_rpm,
        out_hairpin_rpm=snakemake.output.hairpin_rpm,
        out_isomirs=snakemake.output.isomirs,
        out_mapping_stats=snakemake.output.mapping_stats,
        out_other_class=snakemake.output.other_class,
        out_other_class_counts=snakemake.output.other_class_counts,
    )

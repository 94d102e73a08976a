"""Rule qc_summary: see exomir.qc.summarize_qc."""

from exomir.logutil import log_to
from exomir.qc import summarize_qc

with log_to(snakemake.log[0]):
    summarize_qc(
        samples=list(snakemake.params.samples),
        composition_paths=list(snakemake.input.compositions),
        spikein_paths=list(snakemake.input.spikeins),
        mature_counts_path=snakemake.input.mature_counts,
        species=snakemake.params.species,
        out_composition=snakemake.output.composition,
        out_hemolysis=snakemake.output.hemolysis,
        out_spikeins=snakemake.output.spikeins,
        out_flags=snakemake.output.flags,
        multiqc_dir=snakemake.params.multiqc_dir,
        thresholds=dict(snakemake.params.thresholds),
        hemolysis=dict(snakemake.params.hemolysis),
        mirna_min_reads=snakemake.params.mirna_min_reads,
        exclude_failed_from_de=snakemake.params.exclude_failed_from_de,
        out_rna_types=snakemake.output.rna_types,
        out_complexity=snakemake.output.complexity,
    )

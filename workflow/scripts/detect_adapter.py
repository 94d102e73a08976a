"""Rule detect_adapter: see exomir.kits.detect_sample_kit."""

from exomir.kits import detect_sample_kit
from exomir.logutil import log_to

with log_to(snakemake.log[0]):
    detect_sample_kit(
        sample=snakemake.wildcards.sample,
        fastqs=list(snakemake.input.fastq),
        out_tsv=snakemake.output.table,
        kit=snakemake.params.kit,
        adapter=snakemake.params.adapter,
        clip_5p=snakemake.params.clip_5p,
        clip_3p=snakemake.params.clip_3p,
        n_reads=snakemake.params.n_reads,
        min_fraction=snakemake.params.min_fraction,
        min_ratio=snakemake.params.min_ratio,
    )

"""Rule trim_and_collapse: see exomir.preprocess.trim_and_collapse."""

from exomir.adapter_recovery import RecoverySettings
from exomir.kits import chosen_kit
from exomir.logutil import log_to
from exomir.preprocess import TrimSettings, trim_and_collapse

with log_to(snakemake.log[0]):
    kit = chosen_kit(
        snakemake.input.detection,
        adapter=snakemake.params.adapter,
        clip_5p=snakemake.params.clip_5p,
        clip_3p=snakemake.params.clip_3p,
    )
    settings = TrimSettings(
        quality_cutoff=snakemake.params.quality_cutoff,
        max_n=snakemake.params.max_n,
        min_length=snakemake.params.min_length,
        max_length=snakemake.params.max_length,
        discard_untrimmed=snakemake.params.discard_untrimmed,
        error_rate=snakemake.params.error_rate,
        min_overlap=snakemake.params.min_overlap,
        use_umi=snakemake.params.use_umi,
        recovery=RecoverySettings(
            enabled=snakemake.params.adapter_recovery,
            min_overlap=snakemake.params.recovery_min_overlap,
            error_rate=snakemake.params.recovery_error_rate,
        ),
    )
    trim_and_collapse(
        sample=snakemake.wildcards.sample,
        fastqs=list(snakemake.input.fastq),
        kit=kit,
        settings=settings,
        out_collapsed=snakemake.output.collapsed,
        out_stats=snakemake.output.stats,
        out_lengths=snakemake.output.lengths,
        out_json=snakemake.output.json,
        out_log=snakemake.output.cutadapt_log,
        threads=snakemake.threads,
    )

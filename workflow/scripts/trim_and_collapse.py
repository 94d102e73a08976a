"""Rule trim_and_collapse: see exomir.kits.detect_sample_kit and exomir.preprocess.trim_and_collapse."""

from exomir.adapter_recovery import RecoverySettings
from exomir.kits import detect_sample_kit
from exomir.logutil import log_to
from exomir.preprocess import TrimSettings, trim_and_collapse

params = snakemake.params
with log_to(snakemake.log[0]):
    # Detection first: it checks the FASTQs, writes the table and returns the kit chosen there.
    kit, _detection = detect_sample_kit(
        sample=snakemake.wildcards.sample,
        fastqs=list(snakemake.input.fastq),
        out_tsv=snakemake.output.detection,
        kit=params.kit,
        adapter=params.adapter,
        clip_5p=params.clip_5p,
        clip_3p=params.clip_3p,
        n_reads=params.n_reads,
        min_fraction=params.min_fraction,
        min_ratio=params.min_ratio,
    )
    settings = TrimSettings(
        quality_cutoff=params.quality_cutoff,
        max_n=params.max_n,
        min_length=params.min_length,
        max_length=params.max_length,
        discard_untrimmed=params.discard_untrimmed,
        error_rate=params.error_rate,
        min_overlap=params.min_overlap,
        use_umi=params.use_umi,
        recovery=RecoverySettings(
            enabled=params.adapter_recovery,
            min_overlap=params.recovery_min_overlap,
            error_rate=params.recovery_error_rate,
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
        check_inputs=False,
    )

"""Rule diffexp_contrast: see exomir.diffexp.run_contrast."""

from exomir.diffexp import DiffexpSettings, run_contrast
from exomir.logutil import log_to

with log_to(snakemake.log[0]):
    section = dict(snakemake.params.diffexp)
    section["n_cpus"] = min(int(section.get("n_cpus", 1)), snakemake.threads)
    run_contrast(
        results_tsv=snakemake.input.results,
        samples_tsv=snakemake.input.samples,
        vst_tsv=snakemake.input.vst,
        settings=DiffexpSettings.from_config(section),
        contrast_name=snakemake.wildcards.contrast,
        outdir=snakemake.params.outdir,
    )

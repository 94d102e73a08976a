"""Rule diffexp_fit: see exomir.diffexp.run_cohort."""

from exomir.diffexp import DiffexpSettings, run_cohort
from exomir.logutil import log_to

with log_to(snakemake.log[0]):
    section = dict(snakemake.params.diffexp)
    section["n_cpus"] = min(int(section.get("n_cpus", 1)), snakemake.threads)
    run_cohort(
        counts_tsv=snakemake.input.counts,
        sample_sheet=snakemake.input.sample_sheet,
        flags_tsv=snakemake.input.flags,
        exclude_failed=bool(snakemake.params.exclude_failed),
        settings=DiffexpSettings.from_config(section),
        outdir=snakemake.params.outdir,
        hemolysis_tsv=snakemake.input.hemolysis,
    )

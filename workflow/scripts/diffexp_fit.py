"""Rule diffexp_fit: see exomir.diffexp.run_cohort."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parents[1] / "scripts"))
from exomir.diffexp import DiffexpSettings, run_cohort  # noqa: E402
from exomir.logutil import log_to  # noqa: E402

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
    )

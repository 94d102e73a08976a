"""Rule genome_cohort_stats: see exomir.genome.mapping.cohort_stats."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parents[1] / "scripts"))
from exomir.genome.mapping import cohort_stats  # noqa: E402
from exomir.genome.section import write_multiqc  # noqa: E402
from exomir.logutil import log_to  # noqa: E402

with log_to(snakemake.log[0]):
    table = cohort_stats(
        list(snakemake.input.stats),
        list(snakemake.input.quantify_stats),
        snakemake.output.table,
    )
    write_multiqc(table, snakemake.output.multiqc)

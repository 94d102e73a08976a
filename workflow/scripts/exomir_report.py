"""Rule exomir_report: see exomir.report.write_report."""

import os

from exomir.logutil import log_to
from exomir.io import read_tsv
from exomir.report import write_report

with log_to(snakemake.log[0]):
    versions = read_tsv(snakemake.input.versions, dtype=str)
    write_report(
        out_html=snakemake.output.html,
        results_dir=snakemake.params.results,
        samples=list(snakemake.params.samples),
        contrasts=list(snakemake.params.contrasts),
        template_dir=snakemake.params.template_dir,
        config=dict(snakemake.config),
        # set by workflow/rules/common_report.smk (kept out of params on purpose)
        command=os.environ.get("EXOMIR_COMMAND", ""),
        multiqc_href=snakemake.params.multiqc_href,
        alpha=float(snakemake.params.alpha),
        extra_versions=dict(zip(versions["tool"], versions["version"])),
    )

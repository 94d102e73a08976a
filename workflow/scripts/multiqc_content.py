"""Rule multiqc_content: see exomir.multiqc_content.write_multiqc_content."""

from exomir.logutil import log_to
from exomir.multiqc_content import write_multiqc_content

with log_to(snakemake.log[0]):
    samples = list(snakemake.params.samples)
    contrasts = list(snakemake.params.contrasts)
    write_multiqc_content(
        outdir=snakemake.params.outdir,
        samples=samples,
        preprocess_stats=dict(zip(samples, snakemake.input.preprocess_stats)),
        lengths=dict(zip(samples, snakemake.input.lengths)),
        quantify_stats=dict(zip(samples, snakemake.input.quantify_stats)),
        mature_counts=snakemake.input.mature_counts,
        contrasts=contrasts,
        de_results=dict(zip(contrasts, snakemake.input.de_results)),
        annotations=dict(zip(contrasts, snakemake.input.annotations)),
        alpha=float(snakemake.params.alpha),
        top_n=int(snakemake.params.top_n),
    )

"""Rule qc_prepare_rna_class: see exomir.qc.prepare_rna_class_fasta."""

from exomir.logutil import log_to
from exomir.qc import prepare_rna_class_fasta

with log_to(snakemake.log[0]):
    prepare_rna_class_fasta(
        in_fasta=snakemake.input.fasta,
        out_fasta=snakemake.output.fasta,
        rna_class=snakemake.wildcards.rna_class,
    )

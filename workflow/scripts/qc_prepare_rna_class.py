"""Rule qc_prepare_rna_class: see exomir.qc.prepare_rna_class_fasta."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parents[1] / "scripts"))
from exomir.logutil import log_to  # noqa: E402
from exomir.qc import prepare_rna_class_fasta  # noqa: E402

with log_to(snakemake.log[0]):
    prepare_rna_class_fasta(
        in_fasta=snakemake.input.fasta,
        out_fasta=snakemake.output.fasta,
        rna_class=snakemake.wildcards.rna_class,
    )

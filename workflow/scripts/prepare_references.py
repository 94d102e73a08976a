"""Rule prepare_references: see exomir.references.prepare_references."""

from exomir.logutil import log_to
from exomir.references import prepare_references

with log_to(snakemake.log[0]):
    prepare_references(
        mature_fasta=snakemake.input.mature,
        hairpin_fasta=snakemake.input.hairpin,
        gff3=snakemake.input.get("gff3", None),
        species=snakemake.params.species,
        out_hairpin=snakemake.output.hairpin,
        out_mature=snakemake.output.mature,
        out_checksums=snakemake.output.checksums,
    )

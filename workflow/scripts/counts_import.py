"""Rule counts_import: see exomir.countmatrix.import_matrices."""

from exomir.countmatrix import MatrixSettings, import_matrices, write_import
from exomir.logutil import log_to
from exomir.markers.names import MirbaseNames

with log_to(snakemake.log[0]):
    result = import_matrices(
        paths=list(snakemake.input.matrices),
        settings=MatrixSettings.from_config(dict(snakemake.params.counts)),
        samples=list(snakemake.params.samples),
        mirbase=MirbaseNames.from_files(
            snakemake.input.mature, snakemake.input.gff3, snakemake.params.prefix
        ),
    )
    write_import(
        result,
        out_counts=snakemake.output.counts,
        out_names=snakemake.output.names,
        out_summary=snakemake.output.summary,
    )

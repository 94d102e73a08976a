"""Rule validation_score: see exomir.markers.validation.validate_panel."""

from exomir.logutil import log_to
from exomir.markers.validation import validate_panel

with log_to(snakemake.log[0]):
    validate_panel(
        model_json=snakemake.input.model,
        counts_tsv=snakemake.input.counts,
        samples_tsv=snakemake.input.samples,
        checksums_tsv=snakemake.input.checksums,
        species=str(snakemake.params.species),
        n_boot=int(snakemake.params.bootstrap),
        seed=int(snakemake.params.seed),
        bins=int(snakemake.params.calibration_bins),
        out=dict(snakemake.output.items()),
    )

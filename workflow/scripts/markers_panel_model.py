"""Rule markers_panel_model: see exomir.markers.validation.lock_panel."""

from exomir.logutil import log_to
from exomir.markers.validation import lock_panel

with log_to(snakemake.log[0]):
    lock_panel(
        dotplot_tsv=snakemake.input.dotplot,
        vst_tsv=snakemake.input.vst,
        vst_parameters_json=snakemake.input.vst_parameters,
        counts_tsv=snakemake.input.counts,
        samples_tsv=snakemake.input.samples,
        scores_tsv=snakemake.input.panel_scores,
        checksums_tsv=snakemake.input.checksums,
        contrasts=list(snakemake.params.contrasts),
        contrast_name=snakemake.wildcards.contrast,
        species=str(snakemake.params.species),
        panel_max_features=int(snakemake.params.panel_max_features),
        cv_folds=int(snakemake.params.cv_folds),
        seed=int(snakemake.params.seed),
        out_model=snakemake.output.model,
    )

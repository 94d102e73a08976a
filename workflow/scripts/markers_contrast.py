"""Rule markers_contrast: see exomir.markers.contrast.annotate_and_score."""

from exomir.logutil import log_to
from exomir.markers.contrast import annotate_and_score

with log_to(snakemake.log[0]):
    annotate_and_score(
        resolved_tsv=snakemake.input.resolved,
        results_tsv=snakemake.input.results,
        vst_tsv=snakemake.input.vst,
        counts_tsv=snakemake.input.counts,
        samples_tsv=snakemake.input.samples,
        contrasts=list(snakemake.params.contrasts),
        contrast_name=snakemake.wildcards.contrast,
        case_levels=list(snakemake.params.case_levels),
        alpha=float(snakemake.params.alpha),
        min_count=int(snakemake.params.min_count),
        min_fraction=float(snakemake.params.min_fraction),
        n_boot=int(snakemake.params.bootstrap),
        seed=int(snakemake.params.seed),
        panel_max_features=int(snakemake.params.panel_max_features),
        cv_folds=int(snakemake.params.cv_folds),
        cv_repeats=int(snakemake.params.cv_repeats),
        roc_top=int(snakemake.params.roc_top),
        out_annotation=snakemake.output.annotation,
        out_dotplot_tsv=snakemake.output.dotplot_tsv,
        out_dotplot_svg=snakemake.output.dotplot_svg,
        out_auc=snakemake.output.auc,
        out_panel=snakemake.output.panel,
        out_panel_summary=snakemake.output.panel_summary,
        out_roc_tsv=snakemake.output.roc_tsv,
        out_roc_svg=snakemake.output.roc_svg,
        other_class_tsv=snakemake.input.other_class[0] if snakemake.input.other_class else None,
        artefact_share=float(snakemake.params.artefact_share),
        out_panel_scores=snakemake.output.panel_scores,
    )

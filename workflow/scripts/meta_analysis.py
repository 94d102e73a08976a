"""Rule meta_analysis: see exomir.markers.meta.run_meta_analysis."""

from exomir.logutil import log_to
from exomir.markers.meta import run_meta_analysis

with log_to(snakemake.log[0]):
    run_meta_analysis(
        cohort_tables=list(snakemake.input.cohorts),
        cohorts=[dict(c) for c in snakemake.params.cohorts],
        resolved_tsv=snakemake.input.resolved,
        case_levels=list(snakemake.params.case_levels),
        method=str(snakemake.params.method),
        out={"table": snakemake.output.table, "cohort_effects": snakemake.output.cohort_effects,
             "forest_svg": snakemake.output.forest_svg},
    )

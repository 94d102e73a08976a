# Cross-cohort random-effects meta-analysis of the catalogue miRNAs. Logic in
# scripts/exomir/markers/meta.py.


rule meta_cohort:
    input:
        counts=lambda wildcards: meta_cohort_file(wildcards, "counts"),
        samples=lambda wildcards: meta_cohort_file(wildcards, "samples"),
    output:
        table="results/meta/cohorts/{cohort}.tsv",
    log:
        "logs/meta_cohort/{cohort}.log",
    wildcard_constraints:
        cohort="|".join(META_COHORTS) if META_COHORTS else "no_cohort",
    conda:
        "../envs/pydeseq2.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        cohort=lambda wildcards: META_COHORTS[wildcards.cohort],
        alpha=config["diffexp"]["alpha"],
    script:
        "../scripts/meta_cohort.py"


rule meta_analysis:
    input:
        cohorts=[meta_cohort_table(name) for name in META_COHORTS],
        resolved="results/markers/catalogue_resolved.tsv",
    output:
        table=report(
            "results/meta/meta_analysis.tsv",
            caption="../report/meta_analysis.rst",
            category="3. Biomarkers",
            labels={"table": "meta-analysis"},
        ),
        cohort_effects="results/meta/cohort_effects.tsv",
        forest_svg=report(
            "results/meta/forest.svg",
            caption="../report/meta_analysis.rst",
            category="3. Biomarkers",
            labels={"figure": "forest plot"},
        ),
    log:
        "logs/meta_analysis/meta_analysis.log",
    conda:
        "../envs/pydeseq2.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        cohorts=list(META_COHORTS.values()),
        case_levels=config["markers"]["case_levels"],
        method=config.get("meta_analysis", {}).get("method", "dl"),
    script:
        "../scripts/meta_analysis.py"

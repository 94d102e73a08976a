# Breast-cancer exosome marker catalogue (Jia et al. 2017): resolution, annotation per
# contrast, exploratory diagnostic performance. Logic in scripts/exomir/markers/ (one module per concern).


rule markers_catalogue:
    input:
        catalogues=config["markers"]["catalogues"],
        other_catalogues=config["markers"]["other_catalogues"],
        mature=config["markers"]["mirbase_mature"],
        gff3=config["markers"]["mirbase_gff3"],
        mirna_schema=MARKERS_SCHEMA_DIR / "mirnas.schema.yaml",
        other_schema=MARKERS_SCHEMA_DIR / "other_markers.schema.yaml",
    output:
        resolved="results/markers/catalogue_resolved.tsv",
        other="results/markers/other_markers.tsv",
    log:
        "logs/markers_catalogue/markers_catalogue.log",
    conda:
        "../envs/python.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        prefix=config["markers"]["mirbase_prefix"],
    script:
        "../scripts/markers_catalogue.py"


rule markers_contrast:
    input:
        resolved="results/markers/catalogue_resolved.tsv",
        results="results/diffexp/{contrast}/results.tsv",
        vst="results/diffexp/vst.tsv",
        counts="results/quantify/mature_counts.tsv",
        samples="results/diffexp/samples.tsv",
        # contract with the quantify stage: used only once that stage declares the file
        other_class=other_class_input,
    output:
        annotation=report(
            "results/markers/{contrast}/annotation.tsv",
            caption="../report/marker_annotation.rst",
            category="3. Biomarkers",
            subcategory="{contrast}",
            labels={"table": "catalogue annotation"},
        ),
        dotplot_tsv="results/markers/{contrast}/dotplot.tsv",
        dotplot_svg=report(
            "results/markers/{contrast}/dotplot.svg",
            caption="../report/marker_dotplot.rst",
            category="3. Biomarkers",
            subcategory="{contrast}",
            labels={"figure": "catalogue dot plot"},
        ),
        auc=report(
            "results/markers/{contrast}/auc.tsv",
            caption="../report/marker_auc.rst",
            category="3. Biomarkers",
            subcategory="{contrast}",
            labels={"table": "single-marker AUC"},
        ),
        panel="results/markers/{contrast}/panel.tsv",
        panel_summary="results/markers/{contrast}/panel_summary.tsv",
        roc_tsv="results/markers/{contrast}/roc.tsv",
        roc_svg=report(
            "results/markers/{contrast}/roc.svg",
            caption="../report/roc.rst",
            category="3. Biomarkers",
            subcategory="{contrast}",
            labels={"figure": "ROC"},
        ),
        panel_scores="results/markers/{contrast}/panel_scores.tsv",
    log:
        "logs/markers_contrast/{contrast}.log",
    conda:
        "../envs/python.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        contrasts=config["diffexp"]["contrasts"],
        case_levels=config["markers"]["case_levels"],
        alpha=MARKERS_ALPHA,
        min_count=config["markers"]["detection_min_count"],
        min_fraction=config["markers"]["detection_min_fraction"],
        bootstrap=config["markers"]["bootstrap"],
        seed=config["markers"]["seed"],
        panel_max_features=config["markers"]["panel_max_features"],
        cv_folds=config["markers"]["cv_folds"],
        cv_repeats=config["markers"]["cv_repeats"],
        roc_top=config["markers"]["roc_top"],
        artefact_share=config["markers"]["artefact_share"],
    script:
        "../scripts/markers_contrast.py"


rule markers_panel_model:
    input:
        dotplot="results/markers/{contrast}/dotplot.tsv",
        panel_scores="results/markers/{contrast}/panel_scores.tsv",
        vst="results/diffexp/vst.tsv",
        vst_parameters="results/diffexp/vst_parameters.json",
        counts="results/quantify/mature_counts.tsv",
        samples="results/diffexp/samples.tsv",
        checksums=f"{REF}/checksums.tsv",
    output:
        model="results/markers/{contrast}/panel_model.json",
    log:
        "logs/markers_panel_model/{contrast}.log",
    conda:
        "../envs/pydeseq2.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=20,
    params:
        contrasts=config["diffexp"]["contrasts"],
        species=config["species"],
        panel_max_features=config["markers"]["panel_max_features"],
        cv_folds=config["markers"]["cv_folds"],
        seed=config["markers"]["seed"],
    script:
        "../scripts/markers_panel_model.py"

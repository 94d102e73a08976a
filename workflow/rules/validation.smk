# Locked-panel validation: an independent cohort scored with a discovery run's panel_model.json
# (nothing refitted). Logic in scripts/exomir/markers/validation.py and panel.py.


rule validation_score:
    input:
        model=VALIDATION_MODEL or "results/validation/no_model_configured",
        counts=VALIDATION.get("counts") or "results/quantify/mature_counts.tsv",
        samples=VALIDATION.get("samples") or config["samples"],
        checksums=f"{REF}/checksums.tsv",
    output:
        scores="results/validation/scores.tsv",
        metrics=report(
            "results/validation/metrics.tsv",
            caption="../report/validation.rst",
            category="3. Biomarkers",
            labels={"table": "validation metrics"},
        ),
        roc_tsv="results/validation/roc.tsv",
        roc_svg=report(
            "results/validation/roc.svg",
            caption="../report/validation.rst",
            category="3. Biomarkers",
            labels={"figure": "validation ROC"},
        ),
        calibration="results/validation/calibration.tsv",
        calibration_svg=report(
            "results/validation/calibration.svg",
            caption="../report/validation.rst",
            category="3. Biomarkers",
            labels={"figure": "validation calibration"},
        ),
    log:
        "logs/validation_score/validation_score.log",
    conda:
        "../envs/pydeseq2.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=20,
    params:
        species=config["species"],
        bootstrap=config["markers"]["bootstrap"],
        seed=config["markers"]["seed"],
        calibration_bins=VALIDATION.get("calibration_bins", 5),
    script:
        "../scripts/validation_score.py"

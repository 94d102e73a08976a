"""The cohort-level rule-script calls timed by ``harness.cohort``, each run in its own process
from the simulated cohort's working directory (paths as the rules give them). ``params.json``
(written by :func:`harness.cohort.write_params`) holds the sample list, the demo config and the
contrasts, so the snippets take no long argument lists."""

from __future__ import annotations

#: Shared head of every snippet: the parameters of the run.
_HEAD = """
import json
params = json.load(open("params.json"))
samples, config = params["samples"], params["config"]
"""

QUANTIFY_MATRICES = _HEAD + """
from exomir.quantify import build_matrices
ref = "results/references/" + config["species"]
build_matrices(
    samples=samples, assignments=[f"results/quantify/{s}.assignments.tsv.gz" for s in samples],
    stats=[f"results/quantify/{s}.stats.tsv" for s in samples], mature_tsv=ref + "/mature.tsv",
    hairpin_fa=ref + "/hairpin.fa",
    out_mature="results/quantify/mature_counts.tsv", out_hairpin="results/quantify/hairpin_counts.tsv",
    out_mature_rpm="results/quantify/mature_rpm.tsv", out_hairpin_rpm="results/quantify/hairpin_rpm.tsv",
    out_isomirs="results/quantify/isomir_counts.tsv", out_mapping_stats="results/quantify/mapping_stats.tsv",
    out_other_class="results/quantify/other_class_shares.tsv",
    out_other_class_counts="results/quantify/other_class_counts.tsv",
)
"""

QC_SUMMARY = _HEAD + """
from exomir.qc import summarize_qc
qc = config["qc"]
summarize_qc(
    samples=samples, composition_paths=[f"results/qc/composition/{s}.tsv" for s in samples],
    spikein_paths=[f"results/qc/spikeins/{s}.tsv" for s in samples],
    mature_counts_path="results/quantify/mature_counts.tsv", species=config["species"],
    out_composition="results/qc/composition.tsv", out_hemolysis="results/qc/hemolysis.tsv",
    out_spikeins="results/qc/spikeins.tsv", out_flags="results/qc/sample_flags.tsv",
    multiqc_dir="results/qc/multiqc", thresholds=dict(qc["thresholds"]), hemolysis=dict(qc["hemolysis"]),
    mirna_min_reads=qc["mirna_min_reads"], exclude_failed_from_de=qc["exclude_failed_from_de"],
    out_rna_types="results/qc/rna_types.tsv", out_complexity="results/qc/complexity.tsv",
)
"""

MULTIQC_CONTENT = _HEAD + """
from exomir.multiqc_content import write_multiqc_content
contrasts = params["contrasts"]
write_multiqc_content(
    outdir="results/report/multiqc", samples=samples,
    preprocess_stats={s: f"results/preprocess/{s}.stats.tsv" for s in samples},
    lengths={s: f"results/preprocess/{s}.lengths.tsv" for s in samples},
    quantify_stats={s: f"results/quantify/{s}.stats.tsv" for s in samples},
    mature_counts="results/quantify/mature_counts.tsv", contrasts=contrasts,
    de_results={c: f"results/diffexp/{c}/results.tsv" for c in contrasts},
    annotations={c: f"results/markers/{c}/annotation.tsv" for c in contrasts},
    alpha=float(config["diffexp"]["alpha"]), top_n=int(config["report"]["multiqc_top_mirnas"]),
)
"""

#: argv: output HTML, optionally a sample limit replacing exomir.report_scale.SAMPLE_ROWS_MAX (the
#: unsummarised report for comparison).
EXOMIR_REPORT = _HEAD + """
import sys
import pandas as pd
from exomir import report_scale
from exomir.report import write_report
if len(sys.argv) > 2:
    report_scale.SAMPLE_ROWS_MAX = int(sys.argv[2])
versions = pd.read_csv("results/provenance/software_versions.tsv", sep="\\t", dtype=str)
write_report(
    out_html=sys.argv[1], results_dir="results", samples=params["sheet"],
    contrasts=params["contrasts"], template_dir=params["template_dir"], config=config,
    command="snakemake --cores 2", multiqc_href="multiqc_report.html",
    alpha=float(config["diffexp"]["alpha"]), extra_versions=dict(zip(versions["tool"], versions["version"])),
)
"""

#: The rule ``multiqc``'s command (workflow/rules/report.smk) on the simulated cohort's files.
MULTIQC = (
    "multiqc --force --no-data-dir --no-ansi --config {config} --outdir results/report "
    "--filename multiqc_report.html results/qc/fastqc/*/*_fastqc.zip results/preprocess/*.cutadapt.log "
    "results/quantify/*.bowtie.log results/qc/multiqc/*_mqc.json results/report/multiqc/*_mqc.yaml"
)

"""Python snippets timed as "pieces": the functions the rule scripts call, each run in its own
subprocess (``python -c SNIPPET args...``) with the rule's settings and thread count."""

from __future__ import annotations

from harness.common import MISMATCHES, SAMPLE, THREADS

PIECE_TRIM = """
import json, resource, sys
from exomir.kits import chosen_kit
from exomir.preprocess import TrimSettings, trim_and_collapse
fastq, detection, out = sys.argv[1:4]
kit = chosen_kit(detection, adapter="", clip_5p=0, clip_3p=0)
result = trim_and_collapse(
    sample="{sample}", fastqs=[fastq], kit=kit, settings=TrimSettings(),
    out_collapsed=out + "/{sample}.collapsed.tsv.gz", out_stats=out + "/{sample}.stats.tsv",
    out_lengths=out + "/{sample}.lengths.tsv", out_json=out + "/{sample}.cutadapt.json",
    out_log=out + "/{sample}.cutadapt.log", threads={threads},
)
own = resource.getrusage(resource.RUSAGE_SELF)
kids = resource.getrusage(resource.RUSAGE_CHILDREN)
json.dump({"python_cpu_s": own.ru_utime + own.ru_stime, "children_cpu_s": kids.ru_utime + kids.ru_stime,
           "stats": result.stats}, open(out + "/piece_trim.json", "w"))
""".replace("{sample}", SAMPLE).replace("{threads}", str(THREADS))

PIECE_QUANT = """
import inspect, json, sys
from exomir.quantify import QuantifySettings, quantify_sample
collapsed, ref, out, class_prefixes = sys.argv[1:5]
extra = {}
parameter = inspect.signature(quantify_sample).parameters.get("rna_class_indexes")
if parameter is not None:
    # the QC stage's RNA-class bowtie indexes, as the rule passes them: (name, prefix) pairs in
    # config qc.rna_classes order ([] with quantify.release_to_better_rna_class false); plain
    # prefixes if the annotation asks for no pairs
    pairs = [tuple(pair) for pair in json.loads(class_prefixes)]
    extra["rna_class_indexes"] = pairs if "tuple" in str(parameter.annotation) else [p for _, p in pairs]
quantify_sample(
    sample="{sample}", collapsed=collapsed, hairpin_fa=ref + "/hairpin.fa", mature_tsv=ref + "/mature.tsv",
    index_prefix=ref + "/bowtie/hairpin", out_bam=out + "/{sample}.bam", out_bowtie_log=out + "/{sample}.bowtie.log",
    out_assignments=out + "/{sample}.assignments.tsv.gz", out_stats=out + "/{sample}.qstats.tsv",
    out_unmapped=out + "/{sample}.unmapped.fa.gz", out_mirgff=out + "/{sample}.gff",
    settings=QuantifySettings(mismatches={mm}, max_3p_addition=3, max_5p_shift=4, max_3p_shift=4,
                              min_length=15, threads={threads}),
    **extra,
)
""".replace("{sample}", SAMPLE).replace("{threads}", str(THREADS)).replace("{mm}", str(MISMATCHES))

PIECE_COLLAPSE = """
import json, sys
from exomir.kits import chosen_kit
import exomir.preprocess as pre
from exomir.preprocess import TrimSettings, check_accounting, clip_3p, summarise, write_outputs
reads, report_json, detection, out = sys.argv[1:5]
kit = chosen_kit(detection, adapter="", clip_5p=0, clip_3p=0)
settings = TrimSettings()
with open(reads, "rb") as stream:
    # exomir's cutadapt output: FASTQ since the performance work, FASTA ("--fasta") before
    fastq = stream.peek(1)[:1] == b"@" and hasattr(pre, "count_fastq_stream")
    counts = pre.count_fastq_stream(stream) if fastq else pre.count_fasta_stream(stream, None)
report = json.load(open(report_json))
result = summarise("{sample}", kit, settings, clip_3p(counts, kit.clip_3p), report, None)
check_accounting(result.stats, int(report["read_counts"]["output"]), None)
write_outputs(result, out + "/{sample}.collapsed.tsv.gz", out + "/{sample}.stats.tsv", out + "/{sample}.lengths.tsv")
""".replace("{sample}", SAMPLE)

#: pyDESeq2 through exomir.diffexp: "fit" (run_cohort) or "contrast" (run_contrast)
PIECE_DE = """
import sys
from exomir.diffexp import Contrast, DiffexpSettings, run_cohort, run_contrast
step, counts, sheet, out = sys.argv[1:5]
settings = DiffexpSettings(contrasts=(Contrast("bc_vs_hc", "condition", "breast_cancer", "control"),), n_cpus={threads})
if step == "fit":
    run_cohort(counts, sheet, None, False, settings, out)
else:
    # the fit already wrote the contrast's results.tsv (one fit per design); this step draws its plots
    run_contrast(out + "/bc_vs_hc/results.tsv", out + "/samples.tsv", out + "/vst.tsv", settings, "bc_vs_hc", out + "/bc_vs_hc")
""".replace("{threads}", str(THREADS))


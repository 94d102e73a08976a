"""One read number: every per-sample step on the same simulated FASTQ, in interleaved rounds.

Preparation (untimed): the simulated FASTQ, a Snakemake working directory with the references,
the hairpin and RNA-class bowtie indexes and the sample's adapter detection, cutadapt's output
with exomir's exact command line (the input of ``collapse_only`` and of the baselines), the
baselines' references and, when enabled, miRge3's venv and library. Then each round runs every
step once, in the same order; the rows are the medians over the rounds.
"""

from __future__ import annotations

import gzip
import inspect
import json
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from harness import baselines, mirge, truth
from harness.common import (
    ADAPTER, MAX_LENGTH, MIN_LENGTH, MISMATCHES, PROJECT, PYTHON, SAMPLE, THREADS, ratio, read_one_row, run_quiet,
    same_gzip_content, tiny_fastq,
)
from harness.inputs import rna_class_names, simulate, snakemake_cmd, write_workdir
from harness.measure import Step, run_rounds
from harness.pieces import PIECE_COLLAPSE, PIECE_QUANT, PIECE_TRIM

REF = "results/references/hsa"


@dataclass
class SizeRun:
    """Paths of one read number's run."""

    fastq: Path
    run: Path

    @property
    def smk(self) -> Path:
        return self.run / "snakemake"

    @property
    def pieces(self) -> Path:
        return self.run / "pieces"

    @property
    def detection(self) -> Path:
        return self.smk / f"results/preprocess/{SAMPLE}.adapter_detection.tsv"


def prepare_snakemake(paths: SizeRun) -> None:
    """The chain's working directory, references, indexes and the detection table (untimed).

    The sheet must pass exomir's design checks at parse time, so two tiny samples that are never
    built (no job runs for them) complete it; design "~ condition", no contrasts.
    """
    smk = paths.smk
    (smk / "data").mkdir(parents=True)
    (smk / "data" / f"{SAMPLE}.fastq.gz").symlink_to(paths.fastq.resolve())
    sheet = [{"sample": SAMPLE, "condition": "control", "fastq": f"data/{SAMPLE}.fastq.gz"}]
    for i, condition in enumerate(("control", "breast_cancer")):
        name = f"UNUSED{i + 1}"
        (smk / "data" / f"{name}.fastq.gz").write_bytes(tiny_fastq(name))
        sheet.append({"sample": name, "condition": condition, "fastq": f"data/{name}.fastq.gz"})
    write_workdir(smk, sheet, contrasts=[], design="~ condition")
    class_indexes = [f"results/qc/rna_classes/{name}.1.ebwt" for name in rna_class_names()]
    run_quiet(snakemake_cmd(smk, f"{REF}/bowtie/hairpin.1.ebwt", f"{REF}/mature.tsv", *class_indexes,
                            str(paths.detection.relative_to(smk))))


def prepare_trimmed(paths: SizeRun) -> Path:
    """cutadapt's output with exomir's exact command line (FASTQ), written once, untimed."""
    sys.path.insert(0, str(PROJECT / "scripts"))
    from exomir.kits import chosen_kit
    from exomir.preprocess import TrimSettings, cutadapt_command

    kit = chosen_kit(str(paths.detection), adapter="", clip_5p=0, clip_3p=0)
    trimmed = paths.run / "trimmed.fastq"
    fastq_kw = {"fastq_output": True} if "fastq_output" in inspect.signature(cutadapt_command).parameters else {}
    cmd = cutadapt_command(kit, TrimSettings(), str(paths.fastq), str(paths.run / "trimmed.json"), THREADS, **fastq_kw)
    run_quiet(cmd, stdout=trimmed)
    return trimmed


def prepare_windows(paths: SizeRun, trimmed: Path) -> tuple[Path, Path, int]:
    """The trimmed reads of exomir's length window as FASTA (minimal baseline) and FASTQ (nf-core)."""
    window_fa, window_fq = paths.run / "trimmed_16_36.fa", paths.run / "trimmed_16_36.fastq"
    run_quiet(baselines.LENGTH_WINDOW_FASTA_FASTQ.format(lo=MIN_LENGTH, hi=MAX_LENGTH, src=trimmed, dst=window_fa,
                                                         dst_fq=window_fq))
    window_reads = sum(1 for _ in open(window_fa, "rb")) // 2
    return window_fa, window_fq, window_reads


def unique_fasta_maker(paths: SizeRun) -> tuple[Path, callable]:
    """The unique 16-36 nt sequences of the piece's collapsed file as FASTA, made (untimed) before
    the first ``bowtie_unique_sequences`` run: the piece writes the collapsed file in the round."""
    unique_fa = paths.run / "unique_16_36.fa"

    def make() -> None:
        if unique_fa.exists():
            return
        run_quiet(
            "gzip -dc {src} | awk -v lo={lo} -v hi={hi} -F '\t' 'NR > 1 && length($1) >= lo && length($1) <= hi "
            "{{print \">s\" NR \"_x\" $2; print $1}}' > {dst}".format(
                src=paths.pieces / f"{SAMPLE}.collapsed.tsv.gz", lo=MIN_LENGTH, hi=MAX_LENGTH, dst=unique_fa
            )
        )

    return unique_fa, make


def fresh_dir(folder: Path) -> callable:
    """A ``before`` hook emptying ``folder``."""

    def make() -> None:
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)

    return make


def chain_steps(paths: SizeRun) -> list[Step]:
    """The floor, cutadapt alone and the exomir chain through Snakemake."""
    smk = paths.smk

    def clean_sample_outputs() -> None:
        for folder in ("results/preprocess", "results/quantify", "logs/trim_and_collapse", "logs/quantify_sample",
                       "logs/detect_adapter"):  # detect_adapter: its own job before issue 21
            shutil.rmtree(smk / folder, ignore_errors=True)

    return [
        Step("floor_gzip_wc", f"gzip -dc {paths.fastq} | wc -l", kwargs={"stdout": paths.run / "wc.txt"}),
        Step("cutadapt_alone",
             ["cutadapt", "-j", str(THREADS), "-a", ADAPTER, "-q", "20", "--max-n", "0", "-e", "0.1", "-O", "3",
              "--json", str(paths.run / "cutadapt_alone.json"), "-o", str(paths.run / "cutadapt_alone.fastq"),
              str(paths.fastq)]),
        Step("exomir_chain_snakemake", snakemake_cmd(smk, f"results/quantify/{SAMPLE}.stats.tsv"),
             before=clean_sample_outputs),
    ]


def piece_steps(paths: SizeRun, trimmed: Path) -> list[Step]:
    """The rule scripts' functions, each in its own subprocess, and collapsing alone."""
    classes = json.dumps([[name, str(paths.smk / f"results/qc/rna_classes/{name}")]
                          for name in rna_class_names(release_only=True)])
    collapse_dir = paths.run / "collapse"
    return [
        Step("piece_trim_and_collapse", [PYTHON, "-c", PIECE_TRIM, str(paths.fastq), str(paths.detection),
                                         str(paths.pieces)], before=fresh_dir(paths.pieces)),
        Step("piece_quantify_sample",
             [PYTHON, "-c", PIECE_QUANT, str(paths.pieces / f"{SAMPLE}.collapsed.tsv.gz"), str(paths.smk / REF),
              str(paths.pieces), classes]),
        Step("collapse_only", [PYTHON, "-c", PIECE_COLLAPSE, str(trimmed), str(paths.run / "trimmed.json"),
                               str(paths.detection), str(collapse_dir)], before=fresh_dir(collapse_dir)),
    ]


def baseline_steps(paths: SizeRun, window_fa: Path, window_fq: Path) -> list[Step]:
    """The minimal baseline, nf-core's mirna_quant, and bowtie on the unique sequences only."""
    index = paths.smk / REF / "bowtie/hairpin"
    nfcore_ref = baselines.nfcore_reference(paths.run / "nfcore_ref", paths.smk / REF / "hairpin.fa")
    nfcore = paths.run / "nfcore"
    unique_fa, make_unique = unique_fasta_maker(paths)
    return [
        Step("baseline_bowtie_all_reads",
             baselines.BASELINE.format(mm=MISMATCHES, threads=THREADS, index=index, fasta=window_fa,
                                       out=paths.run / "baseline_counts.tsv")),
        Step("baseline_nfcore_mirna_quant", baselines.nfcore_script(nfcore, window_fq, nfcore_ref),
             before=fresh_dir(nfcore)),
        Step("bowtie_unique_sequences",
             baselines.BASELINE.format(mm=MISMATCHES, threads=THREADS, index=index, fasta=unique_fa,
                                       out=paths.run / "unique_counts.tsv"), before=make_unique),
    ]


def accuracy(paths: SizeRun, with_mirge: bool) -> dict:
    """Count agreement with the simulator's truth of exomir (the chain's output) and miRge3."""
    real = truth.truth_counts(paths.fastq.parent / "truth_counts.tsv", SAMPLE)
    out = {f"exomir_{k}": v for k, v in
           truth.agreement(truth.exomir_counts(paths.smk / f"results/quantify/{SAMPLE}.assignments.tsv.gz"),
                           real).items()}
    if with_mirge:
        out.update({f"mirge3_{k}": v for k, v in truth.agreement(mirge.counts(paths.run / "mirge"), real).items()})
    return out


def summarise(by: dict[str, dict], raw_reads: int, paths: SizeRun, extra: dict) -> dict:
    """The ratios of one read number (medians of the rounds) and the chain's counts."""
    chain_stats = read_one_row(paths.smk / f"results/preprocess/{SAMPLE}.stats.tsv")
    quant_cpu = by["collapse_only"]["cpu_s"] + by["piece_quantify_sample"]["cpu_s"]
    chain, cutadapt = by["exomir_chain_snakemake"], by["cutadapt_alone"]
    summary = {
        "reads": raw_reads,
        "passing_reads": int(chain_stats["passing_reads"]),
        "unique_sequences": int(chain_stats["unique_sequences"]),
        "ratio_chain_vs_cutadapt_cpu": ratio(chain["cpu_s"], cutadapt["cpu_s"]),
        "ratio_chain_vs_cutadapt_wall": ratio(chain["wall_s"], cutadapt["wall_s"]),
        "chain_cpu_beyond_cutadapt_s": round(chain["cpu_s"] - cutadapt["cpu_s"], 2),
        "ratio_baseline_vs_quant_cpu": ratio(by["baseline_bowtie_all_reads"]["cpu_s"], quant_cpu),
        "ratio_nfcore_baseline_vs_quant_cpu": ratio(by["baseline_nfcore_mirna_quant"]["cpu_s"], quant_cpu),
        "peak_tree_rss_chain_mb": chain["peak_tree_rss_mb"],
        **extra,
    }
    if "mirge3" in by:
        summary["ratio_mirge3_vs_chain_cpu"] = ratio(by["mirge3"]["cpu_s"], chain["cpu_s"])
        summary["ratio_mirge3_vs_chain_wall"] = ratio(by["mirge3"]["wall_s"], chain["wall_s"])
        summary["peak_tree_rss_mirge3_mb"] = by["mirge3"]["peak_tree_rss_mb"]
    for step, row in by.items():
        summary[f"wall_s_per_million_{step}"] = round(row["wall_s"] / (raw_reads / 1e6), 2)
    return summary


def bench_size(reads: int, work: Path, rounds: int = 3, with_mirge: bool = True) -> dict:
    """Every per-sample step on ``reads`` simulated reads, ``rounds`` interleaved rounds."""
    paths = SizeRun(simulate(reads, work), work / f"run_{reads}")
    shutil.rmtree(paths.run, ignore_errors=True)
    paths.run.mkdir(parents=True)
    print(f"== {reads:,} reads ({paths.fastq.stat().st_size / 1e6:.0f} MB gzip)", flush=True)
    prepare_snakemake(paths)
    trimmed = prepare_trimmed(paths)
    window_fa, window_fq, window_reads = prepare_windows(paths, trimmed)
    steps = chain_steps(paths)
    if with_mirge:
        peer = mirge.prepare(work, paths.smk / REF / "hairpin.fa")
        steps.append(Step("mirge3", mirge.command(peer, paths.fastq, paths.run / "mirge"),
                          before=fresh_dir(paths.run / "mirge")))
    steps += piece_steps(paths, trimmed) + baseline_steps(paths, window_fa, window_fq)
    by = run_rounds(steps, rounds)
    raw_reads = int((paths.run / "wc.txt").read_text().split()[0]) // 4
    identical = same_gzip_content(paths.smk / f"results/preprocess/{SAMPLE}.collapsed.tsv.gz",
                                  paths.pieces / f"{SAMPLE}.collapsed.tsv.gz")
    extra = {"reads_16_36_aligned_by_baseline": window_reads, "collapsed_files_identical": identical,
             **baselines.nfcore_summary(paths.run / "nfcore"), **accuracy(paths, with_mirge)}
    rows = list(by.values())
    for row in rows:
        row["reads"] = raw_reads
    summary = summarise(by, raw_reads, paths, extra)
    print("  " + json.dumps(summary), flush=True)
    for big in (trimmed, window_fa, window_fq, paths.run / "cutadapt_alone.fastq"):
        big.unlink(missing_ok=True)
    shutil.rmtree(paths.smk / ".snakemake", ignore_errors=True)
    return {"rows": rows, "summary": summary}

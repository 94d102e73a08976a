#!/usr/bin/env python3
"""exomir performance benchmark: throughput, scaling and memory against baselines run on the same input.

Run from the project root (a script, not a test: nothing here asserts a time)::

    .venv/bin/python benchmarks/run_benchmarks.py                 # 1M, 5M, 20M reads + DAG + pyDESeq2
    .venv/bin/python benchmarks/run_benchmarks.py --quick         # 200k, 1M reads (smoke run)
    .venv/bin/python benchmarks/run_benchmarks.py --sizes 2000000 --skip dag,diffexp

For each read number N one sample (BC01 of the demo simulator, seed 1; the
simulator varies read numbers by up to +-10% around N, so the real count is
reported) is simulated once (cached under ``--work``) and then, on the same
FASTQ file:

``floor``
    ``gzip -dc FASTQ | wc -l``: decompressing and reading the input.
``cutadapt``
    cutadapt alone with exomir's trimming settings (TruSeq adapter, ``-q 20``,
    ``--max-n 0``, ``-e 0.1``, ``-O 3``, ``-j 2``) writing trimmed FASTQ to a file.
``exomir_chain``
    the real Snakemake rules for one sample (``detect_adapter``,
    ``trim_and_collapse``, ``quantify_sample``) in a temporary working
    directory, target ``results/quantify/{sample}.stats.tsv``; references and
    the bowtie index are built first, untimed. Includes Snakemake's own start-up.
``trim_and_collapse`` / ``quantify_sample``
    the pieces: the functions the rule scripts call
    (:func:`exomir.preprocess.trim_and_collapse`, :func:`exomir.quantify.quantify_sample`),
    each in its own Python subprocess with the rule's settings and thread count.
``collapse``
    the collapsing step alone: :func:`exomir.preprocess.count_fastq_stream`
    (``count_fasta_stream`` for code before the performance work) + ``summarise`` +
    ``write_outputs`` on cutadapt's output saved to a file (written by an untimed
    cutadapt run with exomir's exact command line: FASTQ, or FASTA before).
``baseline_bowtie_all_reads``
    the minimal "align every read" baseline: every trimmed read of 16-36 nt
    (exomir's length window; filtered untimed) aligned with bowtie 1 using
    exomir's first-pass settings (``-f --norc -a --best --strata -v 1 -p 2``),
    alignments counted per hairpin by a streamed ``awk``. The cheapest way to
    align every read, not what nf-core/smrnaseq does.
``baseline_nfcore_mirna_quant``
    what nf-core/smrnaseq's ``mirna_quant`` really runs, on the same reads as
    FASTQ: its ``BOWTIE_MAP_SEQ`` module (``bowtie -x INDEX -q READS -p 2 -t -k 50
    --best --strata -e 99999 --chunkmbs 2048 --un unmapped.fq -S > x.sam``,
    ``samtools view -bS``, ``gzip`` of the unmapped FASTQ) on the mature index
    (miRBase hsa mature, U -> T; built untimed), then on the hairpin index with
    the reads unmapped to mature, then ``BAM_SORT_STATS_SAMTOOLS`` on both BAMs
    (``samtools sort``, ``index``, ``stats --reference``, ``flagstat``,
    ``idxstats``). One bash script, timed as one step.
``bowtie_unique_sequences``
    the same bowtie command on the unique 16-36 nt sequences of the collapsed
    file: the alignment work that collapsing leaves.

Ratios: ``exomir_chain / cutadapt`` (target <= 1.5) and
``baseline / (collapse + quantify_sample)`` (target >= 3 at 5M reads), for
both baselines (``ratio_baseline_vs_quant_*``: minimal; ``ratio_nfcore_baseline_vs_quant_*``: nf-core).

The Snakemake working directory also gets the QC stage's RNA-class bowtie
indexes (``results/qc/rna_classes/{name}``, names from config ``qc.rna_classes``)
built untimed, and ``quantify_sample`` gets their prefixes as
``rna_class_indexes`` when its signature has that parameter.

Cohort-scale checks: Snakemake parse time (``--list-rules``) and dry run
(``-n``) of a 500-sample sheet of tiny FASTQ files; pyDESeq2 through exomir's
``diffexp.run_cohort`` (fit + VST + PCA + plots) and ``diffexp.run_contrast``
on 200 samples x 2,600 miRNAs of simulated negative-binomial counts.

How resources are measured (every command runs as one child process tree):

* wall: ``time.perf_counter`` around start and ``os.wait4``.
* CPU: user + sys from ``os.wait4``'s rusage of the child, which includes all
  descendants the child waited for (cutadapt workers, bowtie, Snakemake jobs).
* ``maxrss_single``: ``ru_maxrss`` from ``os.wait4``: the largest RSS of any
  single process of the tree (Linux reports the maximum, not the sum). The
  forked child's RSS before ``exec`` (= this script's) counts too, so values
  equal to this script's size are upper bounds.
* ``--repeats``: each step runs that many times; the fastest wall time is kept.
* ``peak_tree_rss``: the largest SUM of RSS over all live processes of the tree,
  sampled from ``/proc`` every 0.1 s (shared pages counted in each process, so
  an upper bound; very short peaks between samples can be missed).

Results: ``benchmarks/results/*.tsv`` and ``*.json`` (small); big temporary
files under ``--work`` (default ``benchmarks/out``, git-ignored).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

PROJECT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
VENV_BIN = str(Path(sys.executable).parent)
SAMPLE = "BC01"
SEED = 1
ADAPTER = "TGGAATTCTCGGGTGCCAAGG"
#: exomir's defaults (config/config.yaml, preprocess + quantify sections)
MIN_LENGTH, MAX_LENGTH = 16, 36
MISMATCHES = 1
THREADS = 2
#: stderr of the timed commands (kept only when a command fails); set from --work in main()
STDERR_DIR = PROJECT / "benchmarks" / "out" / "stderr"
#: 4 reads (miR-10b-5p + TruSeq adapter) for sample-sheet entries that are never processed
TINY_FASTQ = b"".join(
    b"@r%d\n%s\n+\n%s\n" % (i, b"TACCCTGTAGATCCGAATTTGTGTGGAATTCTCGGGTGCCAAGGAACTCC", b"F" * 50) for i in range(4)
)


# --------------------------------------------------------------------------- measuring


def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as handle:
                stat = handle.read()
        except OSError:
            continue
        # field 4 (ppid) follows the ")" closing the command name
        ppid = int(stat[stat.rindex(b")") + 2 :].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    return children


def _tree_rss_kb(root: int) -> int:
    children = _children_map()
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        stack.extend(children.get(pid, []))
        try:
            with open(f"/proc/{pid}/statm", "rb") as handle:
                total += int(handle.read().split()[1]) * (os.sysconf("SC_PAGE_SIZE") // 1024)
        except OSError:
            pass
    return total


def measure(name: str, command: list[str] | str, *, cwd: Path = PROJECT, stdout=None, env=None) -> dict:
    """Run ``command`` once; return wall, CPU, and memory of its process tree."""
    shell = isinstance(command, str)
    argv = ["bash", "-o", "pipefail", "-c", command] if shell else command
    env = env or bench_env()
    out_handle = open(stdout, "wb") if isinstance(stdout, (str, Path)) else subprocess.DEVNULL
    STDERR_DIR.mkdir(parents=True, exist_ok=True)
    err_path = STDERR_DIR / f"{name}.stderr"
    with open(err_path, "wb") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, cwd=cwd, stdout=out_handle, stderr=err, env=env)
        peak = [0]
        done = threading.Event()

        def sample() -> None:
            while not done.is_set():
                peak[0] = max(peak[0], _tree_rss_kb(proc.pid))
                done.wait(0.1)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _pid, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        done.set()
        sampler.join()
        proc.returncode = os.waitstatus_to_exitcode(status)
    if out_handle is not subprocess.DEVNULL:
        out_handle.close()
    if proc.returncode != 0:
        sys.stderr.write(err_path.read_text(errors="replace")[-4000:])
        raise SystemExit(f"benchmark step {name} failed (exit {proc.returncode}): {command}")
    err_path.unlink()
    result = {
        "step": name,
        "wall_s": round(wall, 2),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
        "user_s": round(usage.ru_utime, 2),
        "sys_s": round(usage.ru_stime, 2),
        "maxrss_single_mb": round(usage.ru_maxrss / 1024, 1),
        "peak_tree_rss_mb": round(peak[0] / 1024, 1),
    }
    print(
        f"  {name:<28} wall {result['wall_s']:>8.2f} s  cpu {result['cpu_s']:>8.2f} s  "
        f"maxrss {result['maxrss_single_mb']:>7.1f} MB  tree {result['peak_tree_rss_mb']:>7.1f} MB",
        flush=True,
    )
    return result


def measure_best(name: str, command, repeats: int, before=None, **kwargs) -> dict:
    """``measure`` ``repeats`` times (``before()`` runs untimed before each); keep the fastest wall time."""
    runs = []
    for _ in range(repeats):
        if before is not None:
            before()
        runs.append(measure(name, command, **kwargs))
    best = min(runs, key=lambda r: r["wall_s"])
    best["wall_s_all_runs"] = ",".join(str(r["wall_s"]) for r in runs)
    best["cpu_s_all_runs"] = ",".join(str(r["cpu_s"]) for r in runs)
    return best


def bench_env() -> dict[str, str]:
    """Environment of every step: the venv's tools first on PATH, exomir importable."""
    env = dict(os.environ)
    env["PATH"] = VENV_BIN + os.pathsep + env.get("PATH", "")
    env["PYTHONPATH"] = str(PROJECT / "scripts")
    env.setdefault("OMP_NUM_THREADS", str(THREADS))
    return env


def run_quiet(command: list[str] | str, cwd: Path = PROJECT, stdout=None) -> None:
    """Untimed preparation step; fails loudly."""
    shell = isinstance(command, str)
    argv = ["bash", "-o", "pipefail", "-c", command] if shell else command
    out = open(stdout, "wb") if stdout else subprocess.DEVNULL
    proc = subprocess.run(argv, cwd=cwd, stdout=out, stderr=subprocess.PIPE, env=bench_env())
    if stdout:
        out.close()
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr.decode(errors="replace")[-4000:])
        raise SystemExit(f"preparation step failed: {command}")


# --------------------------------------------------------------------------- inputs


def simulate(reads: int, work: Path) -> Path:
    """Simulated FASTQ of ``SAMPLE`` with about ``reads`` reads (cached)."""
    folder = work / "sim" / f"reads_{reads}"
    fastq = folder / f"{SAMPLE}.fastq.gz"
    if not (folder / "truth_samples.tsv").exists():
        print(f"simulating {reads:,} reads -> {folder}", flush=True)
        run_quiet(
            [PYTHON, "-m", "exomir.simulate", "--out-dir", str(folder), "--reads", str(reads),
             "--samples", SAMPLE, "--seed", str(SEED)]
        )
    return fastq


def write_workdir(
    workdir: Path, sheet_rows: list[dict], contrasts: list[dict] | None = None, design: str | None = None
) -> None:
    """A Snakemake working directory: resources symlink, config, sample sheet."""
    import yaml

    workdir.mkdir(parents=True, exist_ok=True)
    link = workdir / "resources"
    if not link.exists():
        link.symlink_to(PROJECT / "resources")
    config = yaml.safe_load((PROJECT / "config" / "config.yaml").read_text())
    config["samples"] = "samples.tsv"
    if contrasts is not None:
        config["diffexp"]["contrasts"] = contrasts
    if design is not None:
        config["diffexp"]["design"] = design
    (workdir / "config").mkdir(exist_ok=True)
    (workdir / "config" / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    columns = list(sheet_rows[0])
    lines = ["\t".join(columns)] + ["\t".join(str(r[c]) for c in columns) for r in sheet_rows]
    (workdir / "samples.tsv").write_text("\n".join(lines) + "\n")


def snakemake_cmd(workdir: Path, *targets: str) -> list[str]:
    """Snakemake on ``targets`` in ``workdir`` with the project's Snakefile and 2 cores."""
    return [
        str(Path(VENV_BIN) / "snakemake"), *targets, "-s", str(PROJECT / "workflow" / "Snakefile"),
        "-d", str(workdir), "--cores", str(THREADS),
    ]


# --------------------------------------------------------------------------- per-size benchmark

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

#: FASTA records (2 lines) whose sequence is in exomir's length window
LENGTH_FILTER = (
    "awk -v lo={lo} -v hi={hi} 'NR % 2 == 1 {{name = $0; next}} "
    "length($0) >= lo && length($0) <= hi {{print name; print $0}}' {src} > {dst}"
)
#: per-hairpin alignment counts from bowtie's default output (column 3 = reference)
BASELINE = (
    "bowtie -f --norc -a --best --strata -v {mm} -p {threads} -x {index} {fasta} "
    "| awk -F '\\t' '{{n[$3]++}} END {{for (h in n) print h \"\\t\" n[h]}}' "
    "| LC_ALL=C sort > {out}"
)


#: one pass over exomir's FASTQ output (4-line records, no UMIs): the window's reads as FASTA named
#: ">r" (minimal baseline) and as FASTQ (nf-core baseline; the records unchanged)
LENGTH_WINDOW_FASTA_FASTQ = (
    "awk -v lo={lo} -v hi={hi} -v fq={dst_fq} 'NR % 4 == 1 {{name = $0}} NR % 4 == 2 {{seq = $0}} "
    "NR % 4 == 3 {{plus = $0}} NR % 4 == 0 && length(seq) >= lo && length(seq) <= hi "
    "{{print \">r\"; print seq; print name > fq; print seq > fq; print plus > fq; print $0 > fq}}' "
    "{src} > {dst}"
)

#: nf-core/smrnaseq's miRNA quantification (subworkflow mirna_quant): modules/local/bowtie_map_mirna.nf
#: (BOWTIE_MAP_SEQ) on the mature index with every trimmed read, then on the hairpin index with the
#: reads unmapped to mature; then BAM_SORT_STATS_SAMTOOLS on each BAM (sort, index, stats with the
#: reference FASTA, flagstat, idxstats). nf-core reads its input as ``-q <(zcat reads.fastq.gz)``;
#: here the first input is plain FASTQ (no decompression: favours the baseline), the hairpin pass
#: reads the gzipped unmapped reads of the mature pass exactly as nf-core does.
NFCORE_MAP = (
    "bowtie -x {index} -q {reads} -p {threads} -t -k 50 --best --strata -e 99999 --chunkmbs 2048 "
    "--un {name}_unmapped.fq -S > {name}.sam 2> {name}.bowtie.log\n"
    "samtools view -bS {name}.sam > {name}.bam\n"
    "if [ ! -f {name}_unmapped.fq ]; then touch {name}_unmapped.fq; fi\n"
    "gzip {name}_unmapped.fq\n"
)
NFCORE_STATS = (
    "samtools sort -@ {threads} -T {name}.sort -o {name}.sorted.bam {name}.bam\n"
    "samtools index -@ {threads_1} {name}.sorted.bam\n"
    "samtools stats --threads {threads} --reference {fasta} {name}.sorted.bam > {name}.stats\n"
    "samtools flagstat --threads {threads} {name}.sorted.bam > {name}.flagstat\n"
    "samtools idxstats --threads {threads_1} {name}.sorted.bam > {name}.idxstats\n"
)


def nfcore_script(folder: Path, reads_fastq: Path, ref: Path) -> str:
    """The whole nf-core miRNA quantification of one sample as one bash script (run in ``folder``)."""
    threads = dict(threads=THREADS, threads_1=max(1, THREADS - 1))
    return (
        f"set -euo pipefail\ncd {folder}\n"
        + NFCORE_MAP.format(index=ref / "bowtie" / "mature", reads=reads_fastq, name="mature", **threads)
        + NFCORE_MAP.format(index=ref / "bowtie" / "hairpin", reads="<(zcat mature_unmapped.fq.gz)", name="hairpin",
                            **threads)
        + NFCORE_STATS.format(name="mature", fasta=ref / "mature.fa", **threads)
        + NFCORE_STATS.format(name="hairpin", fasta=ref / "hairpin.fa", **threads)
    )


def nfcore_reference(folder: Path, hairpin_fa: Path) -> Path:
    """nf-core's two references in ``folder`` (untimed): ``mature.fa`` (miRBase 22.1 mature sequences
    bundled with the project, species of the config only, first word of the name, U -> T), ``hairpin.fa``
    (a copy of exomir's hairpin reference, DNA), each with its bowtie index ``bowtie/{mature,hairpin}``
    and a samtools ``.fai`` (for ``samtools stats --reference``)."""
    import yaml

    species = yaml.safe_load((PROJECT / "config" / "config.yaml").read_text()).get("species", "hsa")
    shutil.rmtree(folder, ignore_errors=True)
    (folder / "bowtie").mkdir(parents=True)
    records, keep = [], False
    with gzip.open(PROJECT / "resources" / "mirbase" / "22.1" / f"mature_{species}.fa.gz", "rt") as handle:
        for line in handle:
            line = line.strip()
            if line.startswith(">"):
                name = line[1:].split()[0]
                keep = name.startswith(species + "-")
                if keep:
                    records.append(f">{name}")
            elif keep and line:
                records.append(line.upper().replace("U", "T"))
    (folder / "mature.fa").write_text("\n".join(records) + "\n")
    shutil.copyfile(hairpin_fa, folder / "hairpin.fa")
    for name in ("mature", "hairpin"):
        run_quiet(["bowtie-build", "--threads", str(THREADS), str(folder / f"{name}.fa"), str(folder / "bowtie" / name)])
        run_quiet(["samtools", "faidx", str(folder / f"{name}.fa")])
    return folder


def rna_class_names(release_only: bool = False) -> list[str]:
    """RNA-class library names of the project's config (``qc.rna_classes``, priority order);
    ``release_only``: those ``quantify_sample`` gets (none if ``quantify.release_to_better_rna_class``
    is false, all if the key is missing)."""
    import yaml

    config = yaml.safe_load((PROJECT / "config" / "config.yaml").read_text())
    names = [entry["name"] for entry in (config.get("qc") or {}).get("rna_classes") or []]
    if release_only and not (config.get("quantify") or {}).get("release_to_better_rna_class", True):
        return []
    return names


def bench_size(reads: int, work: Path, repeats: int = 1) -> dict:
    fastq = simulate(reads, work)
    run = work / f"run_{reads}"
    shutil.rmtree(run, ignore_errors=True)
    run.mkdir(parents=True)
    print(f"== {reads:,} reads ({fastq.stat().st_size / 1e6:.0f} MB gzip)", flush=True)
    rows = []

    # floor
    rows.append(measure_best("floor_gzip_wc", f"gzip -dc {fastq} | wc -l", repeats, stdout=run / "wc.txt"))
    raw_reads = int((run / "wc.txt").read_text().split()[0]) // 4

    # cutadapt alone, exomir's settings, FASTQ to a file
    trimmed_fq = run / "cutadapt_alone.fastq"
    rows.append(
        measure_best(
            "cutadapt_alone",
            ["cutadapt", "-j", str(THREADS), "-a", ADAPTER, "-q", "20", "--max-n", "0", "-e", "0.1",
             "-O", "3", "--json", str(run / "cutadapt_alone.json"), "-o", str(trimmed_fq), str(fastq)],
            repeats,
        )
    )
    trimmed_fq.unlink()

    # exomir chain through Snakemake (references built untimed first)
    smk = run / "snakemake"
    (smk / "data").mkdir(parents=True)
    (smk / "data" / f"{SAMPLE}.fastq.gz").symlink_to(fastq.resolve())
    # The sheet must pass exomir's design checks at parse time, so two tiny samples that are never
    # built (no job runs for them) complete it; design "~ condition", no contrasts.
    sheet = [{"sample": SAMPLE, "condition": "control", "fastq": f"data/{SAMPLE}.fastq.gz"}]
    for i, condition in enumerate(("control", "breast_cancer")):
        (smk / "data" / f"UNUSED{i + 1}.fastq.gz").write_bytes(gzip.compress(TINY_FASTQ, mtime=0))
        sheet.append({"sample": f"UNUSED{i + 1}", "condition": condition, "fastq": f"data/UNUSED{i + 1}.fastq.gz"})
    write_workdir(smk, sheet, contrasts=[], design="~ condition")
    ref = "results/references/hsa"
    # references, the hairpin index and the QC stage's RNA-class indexes (results/qc/rna_classes/
    # {name}.*.ebwt, names from config qc.rna_classes), built untimed by the same Snakemake
    class_prefixes = [f"results/qc/rna_classes/{name}" for name in rna_class_names()]
    run_quiet(snakemake_cmd(smk, f"{ref}/bowtie/hairpin.1.ebwt", f"{ref}/mature.tsv",
                            *(f"{prefix}.1.ebwt" for prefix in class_prefixes)))
    def clean_sample_outputs() -> None:
        for folder in ("results/preprocess", "results/quantify", "logs/trim_and_collapse", "logs/quantify_sample",
                       "logs/detect_adapter"):
            shutil.rmtree(smk / folder, ignore_errors=True)

    rows.append(
        measure_best(
            "exomir_chain_snakemake", snakemake_cmd(smk, f"results/quantify/{SAMPLE}.stats.tsv"), repeats,
            before=clean_sample_outputs,
        )
    )
    chain_stats = read_one_row(smk / f"results/preprocess/{SAMPLE}.stats.tsv")
    quant_stats = read_one_row(smk / f"results/quantify/{SAMPLE}.stats.tsv")

    # pieces: the rule scripts' functions, each in its own subprocess
    pieces = run / "pieces"
    pieces.mkdir()
    detection = smk / f"results/preprocess/{SAMPLE}.adapter_detection.tsv"
    rows.append(
        measure_best("piece_trim_and_collapse", [PYTHON, "-c", PIECE_TRIM, str(fastq), str(detection), str(pieces)],
                     repeats)
    )
    trim_split = json.loads((pieces / "piece_trim.json").read_text())
    rows.append(
        measure_best(
            "piece_quantify_sample",
            [PYTHON, "-c", PIECE_QUANT, str(pieces / f"{SAMPLE}.collapsed.tsv.gz"), str(smk / ref), str(pieces),
             json.dumps([[name, str(smk / f"results/qc/rna_classes/{name}")]
                         for name in rna_class_names(release_only=True)])],
            repeats,
        )
    )

    # collapse alone, on cutadapt's FASTA stream saved to a file (untimed cutadapt run)
    sys.path.insert(0, str(PROJECT / "scripts"))
    from exomir.kits import chosen_kit
    from exomir.preprocess import TrimSettings, cutadapt_command

    kit = chosen_kit(str(detection), adapter="", clip_5p=0, clip_3p=0)
    trimmed_fa = run / "trimmed.reads"  # FASTQ or FASTA, whatever exomir's command writes
    # exactly what trim_and_collapse runs (FASTQ output since the performance work)
    import inspect

    fastq_kw = {"fastq_output": True} if "fastq_output" in inspect.signature(cutadapt_command).parameters else {}
    cmd = cutadapt_command(kit, TrimSettings(), str(fastq), str(run / "trimmed.json"), THREADS, **fastq_kw)
    run_quiet(cmd, stdout=trimmed_fa)
    trimmed_is_fastq = open(trimmed_fa, "rb").read(1) == b"@"
    collapse_dir = run / "collapse"
    collapse_dir.mkdir()
    rows.append(
        measure_best(
            "collapse_only",
            [PYTHON, "-c", PIECE_COLLAPSE, str(trimmed_fa), str(run / "trimmed.json"), str(detection),
             str(collapse_dir)],
            repeats,
        )
    )

    # baseline: align every trimmed read of 16-36 nt
    window_fa = run / "trimmed_16_36.fa"
    window_fq = run / "trimmed_16_36.fastq"
    if trimmed_is_fastq:
        run_quiet(LENGTH_WINDOW_FASTA_FASTQ.format(lo=MIN_LENGTH, hi=MAX_LENGTH, src=trimmed_fa, dst=window_fa,
                                                   dst_fq=window_fq))
    else:
        run_quiet(LENGTH_FILTER.format(lo=MIN_LENGTH, hi=MAX_LENGTH, src=trimmed_fa, dst=window_fa))
    trimmed_fa.unlink()
    window_reads = sum(1 for _ in open(window_fa, "rb")) // 2
    rows.append(
        measure_best(
            "baseline_bowtie_all_reads",
            BASELINE.format(mm=MISMATCHES, threads=THREADS, index=smk / ref / "bowtie/hairpin", fasta=window_fa,
                            out=run / "baseline_counts.tsv"),
            repeats,
        )
    )
    window_fa.unlink()

    # nf-core/smrnaseq's actual practice: mature then hairpin bowtie on every read, BAMs sorted,
    # indexed, samtools stats / flagstat / idxstats (one bash script; indexes built untimed)
    if trimmed_is_fastq:
        nfcore_ref = nfcore_reference(run / "nfcore_ref", smk / ref / "hairpin.fa")
        nfcore = run / "nfcore"

        def fresh_nfcore_dir() -> None:
            shutil.rmtree(nfcore, ignore_errors=True)
            nfcore.mkdir()

        rows.append(
            measure_best(
                "baseline_nfcore_mirna_quant", nfcore_script(nfcore, window_fq, nfcore_ref), repeats,
                before=fresh_nfcore_dir,
            )
        )
        nfcore_counts = nfcore_summary(nfcore)
        window_fq.unlink()
        shutil.rmtree(nfcore)
    else:
        nfcore_counts = {}

    # the same alignment on the unique sequences only (exomir's first bowtie pass, without its
    # Python re-scoring): how much alignment work collapsing saves
    unique_fa = run / "unique_16_36.fa"
    run_quiet(
        "gzip -dc {src} | awk -v lo={lo} -v hi={hi} -F '\t' 'NR > 1 && length($1) >= lo && length($1) <= hi "
        "{{print \">s\" NR \"_x\" $2; print $1}}' > {dst}".format(
            src=pieces / f"{SAMPLE}.collapsed.tsv.gz", lo=MIN_LENGTH, hi=MAX_LENGTH, dst=unique_fa
        )
    )
    rows.append(
        measure_best(
            "bowtie_unique_sequences",
            BASELINE.format(mm=MISMATCHES, threads=THREADS, index=smk / ref / "bowtie/hairpin", fasta=unique_fa,
                            out=run / "unique_counts.tsv"),
            repeats,
        )
    )
    unique_fa.unlink()

    identical = same_gzip_content(
        smk / f"results/preprocess/{SAMPLE}.collapsed.tsv.gz", collapse_dir / f"{SAMPLE}.collapsed.tsv.gz"
    ) and same_gzip_content(
        smk / f"results/preprocess/{SAMPLE}.collapsed.tsv.gz", pieces / f"{SAMPLE}.collapsed.tsv.gz"
    )
    by = {r["step"]: r for r in rows}
    for r in rows:
        r["reads"] = raw_reads
    quant_wall = by["collapse_only"]["wall_s"] + by["piece_quantify_sample"]["wall_s"]
    quant_cpu = by["collapse_only"]["cpu_s"] + by["piece_quantify_sample"]["cpu_s"]
    summary = {
        "reads": raw_reads,
        "target_reads": reads,
        "passing_reads": int(chain_stats["passing_reads"]),
        "unique_sequences": int(chain_stats["unique_sequences"]),
        "reads_16_36_aligned_by_baseline": window_reads,
        "mature_reads": int(quant_stats["mature_reads"]),
        "mirnas_detected": int(quant_stats["mirnas_detected"]),
        "collapsed_files_identical": identical,
        "trim_python_cpu_s": round(trim_split["python_cpu_s"], 2),
        "trim_children_cpu_s": round(trim_split["children_cpu_s"], 2),
        "ratio_chain_vs_cutadapt_wall": ratio(by["exomir_chain_snakemake"]["wall_s"], by["cutadapt_alone"]["wall_s"]),
        "ratio_chain_vs_cutadapt_cpu": ratio(by["exomir_chain_snakemake"]["cpu_s"], by["cutadapt_alone"]["cpu_s"]),
        "ratio_pieces_vs_cutadapt_wall": ratio(
            by["piece_trim_and_collapse"]["wall_s"] + by["piece_quantify_sample"]["wall_s"],
            by["cutadapt_alone"]["wall_s"],
        ),
        "ratio_baseline_vs_quant_wall": ratio(by["baseline_bowtie_all_reads"]["wall_s"], quant_wall),
        "ratio_baseline_vs_quant_cpu": ratio(by["baseline_bowtie_all_reads"]["cpu_s"], quant_cpu),
        **({
            "ratio_nfcore_baseline_vs_quant_wall": ratio(by["baseline_nfcore_mirna_quant"]["wall_s"], quant_wall),
            "ratio_nfcore_baseline_vs_quant_cpu": ratio(by["baseline_nfcore_mirna_quant"]["cpu_s"], quant_cpu),
            "ratio_nfcore_baseline_vs_minimal_baseline_cpu": ratio(
                by["baseline_nfcore_mirna_quant"]["cpu_s"], by["baseline_bowtie_all_reads"]["cpu_s"]
            ),
            "peak_tree_rss_nfcore_baseline_mb": by["baseline_nfcore_mirna_quant"]["peak_tree_rss_mb"],
            **nfcore_counts,
        } if "baseline_nfcore_mirna_quant" in by else {}),
        "ratio_bowtie_all_reads_vs_unique_wall": ratio(
            by["baseline_bowtie_all_reads"]["wall_s"], by["bowtie_unique_sequences"]["wall_s"]
        ),
        "ratio_bowtie_all_reads_vs_unique_cpu": ratio(
            by["baseline_bowtie_all_reads"]["cpu_s"], by["bowtie_unique_sequences"]["cpu_s"]
        ),
        "peak_tree_rss_trim_mb": by["piece_trim_and_collapse"]["peak_tree_rss_mb"],
        "peak_tree_rss_quantify_mb": by["piece_quantify_sample"]["peak_tree_rss_mb"],
        "peak_tree_rss_chain_mb": by["exomir_chain_snakemake"]["peak_tree_rss_mb"],
    }
    for step in ("floor_gzip_wc", "cutadapt_alone", "exomir_chain_snakemake", "piece_trim_and_collapse",
                 "piece_quantify_sample", "collapse_only", "baseline_bowtie_all_reads", "baseline_nfcore_mirna_quant",
                 "bowtie_unique_sequences"):
        if step not in by:
            continue
        summary[f"wall_s_per_million_{step}"] = round(by[step]["wall_s"] / (raw_reads / 1e6), 2)
    print("  " + json.dumps(summary), flush=True)
    shutil.rmtree(run / "snakemake" / ".snakemake", ignore_errors=True)
    return {"rows": rows, "summary": summary}


def nfcore_summary(folder: Path) -> dict:
    """Reads aligned by the nf-core baseline's two bowtie runs (their logs) and BAM records (idxstats)."""
    out = {}
    for name in ("mature", "hairpin"):
        log = (folder / f"{name}.bowtie.log").read_text()
        aligned = [line for line in log.splitlines() if line.startswith("# reads with at least one")]
        if aligned:
            out[f"nfcore_{name}_reads_aligned"] = int(aligned[0].split(":")[1].split()[0])
        idx = [line.split("\t") for line in (folder / f"{name}.idxstats").read_text().splitlines()]
        out[f"nfcore_{name}_alignments"] = sum(int(row[2]) for row in idx)
    return out


def ratio(a: float, b: float) -> float:
    return round(a / b, 2) if b else float("nan")


def read_one_row(path: Path) -> dict:
    header, values = path.read_text().splitlines()[:2]
    return dict(zip(header.split("\t"), values.split("\t")))


def same_gzip_content(a: Path, b: Path) -> bool:
    """Same decompressed bytes (compared in blocks: the benchmark process stays small)."""
    with gzip.open(a, "rb") as fa, gzip.open(b, "rb") as fb:
        while True:
            block_a, block_b = fa.read(1 << 20), fb.read(1 << 20)
            if block_a != block_b:
                return False
            if not block_a:
                return True


# --------------------------------------------------------------------------- cohort scale


def bench_dag(n_samples: int, work: Path) -> list[dict]:
    """Parse (--list-rules) and dry run (-n) with an n-sample sheet of tiny FASTQ files."""
    print(f"== Snakemake DAG, {n_samples} samples", flush=True)
    workdir = work / f"dag_{n_samples}"
    shutil.rmtree(workdir, ignore_errors=True)
    (workdir / "data").mkdir(parents=True)
    rows = []
    for i in range(n_samples):
        group = "breast_cancer" if i % 2 == 0 else "control"
        sample = f"S{i + 1:04d}"
        (workdir / "data" / f"{sample}.fastq.gz").write_bytes(gzip.compress(TINY_FASTQ, mtime=0))
        rows.append({"sample": sample, "condition": group, "batch": "AB"[(i // 2) % 2],
                     "fastq": f"data/{sample}.fastq.gz"})
    contrast = [{"name": "bc_vs_hc", "factor": "condition", "level": "breast_cancer", "reference": "control"}]
    write_workdir(workdir, rows, contrasts=contrast)
    base = [str(Path(VENV_BIN) / "snakemake"), "-s", str(PROJECT / "workflow" / "Snakefile"), "-d", str(workdir),
            "--cores", str(THREADS)]
    results = [
        measure(f"snakemake_parse_{n_samples}", base + ["--list-rules"], cwd=workdir),
        measure(f"snakemake_dryrun_{n_samples}", base + ["-n"], cwd=workdir,
                stdout=workdir / "dryrun.txt"),
    ]
    totals = [line.split()[1] for line in (workdir / "dryrun.txt").read_text().splitlines()
              if line.startswith("total ")]
    for r in results:
        r["samples"] = n_samples
    results[1]["dryrun_jobs"] = int(totals[-1]) if totals else "?"
    return results


PIECE_DE = """
import sys
from exomir.diffexp import Contrast, DiffexpSettings, run_cohort, run_contrast
step, counts, sheet, out = sys.argv[1:5]
settings = DiffexpSettings(contrasts=(Contrast("bc_vs_hc", "condition", "breast_cancer", "control"),), n_cpus={threads})
if step == "fit":
    run_cohort(counts, sheet, None, False, settings, out)
else:
    run_contrast(counts, out + "/samples.tsv", out + "/vst.tsv", settings, "bc_vs_hc", out + "/bc_vs_hc")
""".replace("{threads}", str(THREADS))


def bench_diffexp(n_samples: int, n_mirnas: int, work: Path) -> list[dict]:
    """pyDESeq2 through exomir.diffexp on simulated negative-binomial counts."""
    print(f"== pyDESeq2, {n_samples} samples x {n_mirnas} miRNAs", flush=True)
    workdir = work / f"diffexp_{n_samples}x{n_mirnas}"
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    rng = np.random.default_rng(SEED)
    # miRNA means spanning 0.5..1e5 reads (log-normal), NB dispersion 0.05 + 1/mean, 10% DE (|log2FC| 1)
    means = np.exp(rng.normal(3.0, 2.5, n_mirnas)).clip(0.5, 1e5)
    condition = np.array(["breast_cancer" if i % 2 == 0 else "control" for i in range(n_samples)])
    fold = np.ones(n_mirnas)
    de = rng.choice(n_mirnas, n_mirnas // 10, replace=False)
    fold[de] = 2.0 ** rng.choice([-1.0, 1.0], de.size)
    size_factors = rng.uniform(0.5, 2.0, n_samples)
    mu = means[:, None] * size_factors[None, :] * np.where(condition[None, :] == "breast_cancer", fold[:, None], 1.0)
    dispersion = 0.05 + 1.0 / means
    shape = 1.0 / dispersion[:, None]
    counts = rng.poisson(rng.gamma(shape, mu / shape))
    samples = [f"S{i + 1:04d}" for i in range(n_samples)]
    mirnas = [f"hsa-miR-sim{i + 1:04d}" for i in range(n_mirnas)]
    with open(workdir / "mature_counts.tsv", "w") as handle:
        handle.write("mirna\t" + "\t".join(samples) + "\n")
        for name, row in zip(mirnas, counts):
            handle.write(name + "\t" + "\t".join(map(str, row.tolist())) + "\n")
    with open(workdir / "samples.tsv", "w") as handle:
        handle.write("sample\tcondition\tfastq\n")
        for s, c in zip(samples, condition):
            handle.write(f"{s}\t{c}\tdata/{s}.fastq.gz\n")
    out = workdir / "diffexp"
    args = [str(workdir / "mature_counts.tsv"), str(workdir / "samples.tsv"), str(out)]
    results = [
        measure("pydeseq2_run_cohort", [PYTHON, "-c", PIECE_DE, "fit", *args]),
        measure("pydeseq2_run_contrast", [PYTHON, "-c", PIECE_DE, "contrast", *args]),
    ]
    for r in results:
        r["samples"], r["mirnas"] = n_samples, n_mirnas
    return results


# --------------------------------------------------------------------------- machine + output


def machine() -> dict:
    def first(cmd: list[str]) -> str:
        try:
            out = subprocess.run(cmd, capture_output=True, text=True, errors="replace", env=bench_env())
            return (out.stdout or out.stderr).strip().splitlines()[0]
        except (OSError, IndexError):
            return "unavailable"

    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "?")
    mem_kb = int(next(line.split()[1] for line in open("/proc/meminfo") if line.startswith("MemTotal")))
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "ram_gb": round(mem_kb / 1024**2, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "cutadapt": first(["cutadapt", "--version"]),
        "bowtie": first(["bowtie", "--version"]),
        "samtools": first(["samtools", "--version"]),
        "snakemake": first([str(Path(VENV_BIN) / "snakemake"), "--version"]),
        "pydeseq2": first([PYTHON, "-c", "import pydeseq2; print(pydeseq2.__version__)"]),
        "gzip": first(["gzip", "--version"]),
        "load_average_start": first(["uptime"]),
    }


def write_tsv(rows: list[dict], path: Path) -> None:
    columns: list[str] = []
    for row in rows:
        columns += [c for c in row if c not in columns]
    with open(path, "w") as handle:
        handle.write("\t".join(columns) + "\n")
        for row in rows:
            handle.write("\t".join(str(row.get(c, "")) for c in columns) + "\n")


def read_rows(path: Path) -> list[dict]:
    lines = path.read_text().splitlines()
    header = lines[0].split("\t")
    return [dict(zip(header, line.split("\t"))) for line in lines[1:]]


def markdown_tables(results: Path, tag: str) -> str:
    """The README tables of one run, from its TSV files."""
    out = []
    steps = read_rows(results / f"{tag}_steps.tsv")
    out.append("| reads | step | wall s | CPU s | wall s / M reads | peak tree RSS MB | max single RSS MB |")
    out.append("|---:|---|---:|---:|---:|---:|---:|")
    for r in steps:
        per_m = float(r["wall_s"]) / (int(r["reads"]) / 1e6)
        out.append(
            f"| {int(r['reads']):,} | {r['step']} | {r['wall_s']} | {r['cpu_s']} | {per_m:.2f} | "
            f"{r['peak_tree_rss_mb']} | {r['maxrss_single_mb']} |"
        )
    summary = read_rows(results / f"{tag}_summary.tsv")
    keys = [k for k in summary[0] if not k.startswith("wall_s_per_million")]
    out.append("")
    out.append("| | " + " | ".join(f"{int(s['reads']):,} reads" for s in summary) + " |")
    out.append("|---|" + "---:|" * len(summary))
    for key in keys:
        out.append(f"| {key} | " + " | ".join(s.get(key, "") for s in summary) + " |")
    for name in ("dag", "diffexp"):
        path = results / f"{tag}_{name}.tsv"
        if path.exists():
            rows = read_rows(path)
            out.append("")
            out.append("| step | wall s | CPU s | peak tree RSS MB | max single RSS MB |")
            out.append("|---|---:|---:|---:|---:|")
            for r in rows:
                out.append(f"| {r['step']} | {r['wall_s']} | {r['cpu_s']} | {r['peak_tree_rss_mb']} | "
                           f"{r['maxrss_single_mb']} |")
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000000,5000000,20000000", help="reads per sample, comma-separated")
    parser.add_argument("--quick", action="store_true", help="smoke run: 200k and 1M reads, 100-sample DAG, 50 DE samples")
    parser.add_argument("--skip", default="", help="comma-separated: reads, dag, diffexp")
    parser.add_argument(
        "--repeats", default="2,2,1",
        help="timed runs of each step per size (fastest kept), one value per size or one for all (default 2,2,1)",
    )
    parser.add_argument("--dag-samples", type=int, default=500)
    parser.add_argument("--de-samples", type=int, default=200)
    parser.add_argument("--de-mirnas", type=int, default=2600)
    parser.add_argument("--tables", action="store_true", help="only print the markdown tables of --tag's results")
    parser.add_argument("--tag", default=None, help="prefix of the result files (default: full, or quick)")
    parser.add_argument("--work", default=str(PROJECT / "benchmarks" / "out"), help="big temporary files")
    parser.add_argument("--results", default=str(PROJECT / "benchmarks" / "results"), help="TSV/JSON output")
    args = parser.parse_args(argv)
    if args.quick:
        args.sizes, args.dag_samples, args.de_samples, args.repeats = "200000,1000000", 100, 50, "1"
    sizes = [int(s) for s in args.sizes.split(",") if s]
    skip = set(filter(None, args.skip.split(",")))
    work, results = Path(args.work), Path(args.results)
    global STDERR_DIR
    STDERR_DIR = work / "stderr"
    work.mkdir(parents=True, exist_ok=True)
    results.mkdir(parents=True, exist_ok=True)
    tag = args.tag or ("quick" if args.quick else "full")
    if args.tables:
        print(markdown_tables(results, tag), end="")
        return 0

    info = machine()
    print(json.dumps(info, indent=1), flush=True)
    report: dict = {"machine": info, "command": " ".join(["benchmarks/run_benchmarks.py", *(argv or sys.argv[1:])])}
    if "reads" not in skip:
        repeats = [int(r) for r in args.repeats.split(",")]
        repeats = repeats * len(sizes) if len(repeats) == 1 else repeats + [repeats[-1]] * (len(sizes) - len(repeats))
        per_size = []
        for n, r in zip(sizes, repeats):
            per_size.append(bench_size(n, work, r))
            # written after every size: a run stopped early keeps the sizes it finished
            steps = [row for s in per_size for row in s["rows"]]
            summaries = [s["summary"] for s in per_size]
            write_tsv(steps, results / f"{tag}_steps.tsv")
            write_tsv(summaries, results / f"{tag}_summary.tsv")
        report["sizes"] = summaries
        if len(summaries) > 1:
            first_s, last_s = summaries[0], summaries[-1]
            report["growth_wall_per_million_last_over_first"] = {
                key.replace("wall_s_per_million_", ""): ratio(last_s[key], first_s[key])
                for key in first_s if key.startswith("wall_s_per_million_")
            }
    if "dag" not in skip:
        dag = bench_dag(args.dag_samples, work)
        write_tsv(dag, results / f"{tag}_dag.tsv")
        report["dag"] = dag
    if "diffexp" not in skip:
        de = bench_diffexp(args.de_samples, args.de_mirnas, work)
        write_tsv(de, results / f"{tag}_diffexp.tsv")
        report["diffexp"] = de
    report["machine"]["load_average_end"] = machine()["load_average_start"]
    (results / f"{tag}.json").write_text(json.dumps(report, indent=1) + "\n")
    print(json.dumps({k: v for k, v in report.items() if k != "machine"}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Genome-mode leave-out benchmark (larger than the CI test in tests/test_genome.py).

Builds the leave-out test genome (exomir.genome.testgenome, fixed seed), runs the workflow up to
the genome outputs in WORKDIR, and prints sensitivity, precision and the score distribution of
the loci evaluated (left-out hairpins vs everything else).

    PYTHONPATH=scripts python benchmarks/genome_leaveout.py WORKDIR [--hairpins 200 --left-out 60]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
from exomir.genome.testgenome import LeaveOutSpec, evaluate, make_test_genome  # noqa: E402

TARGETS = ["results/genome/mapping_stats.tsv", "results/genome/novel_candidates.tsv"]


def configure(workdir: Path) -> None:
    """Demo config pointed at the test genome, the reduced miRBase files and its samples."""
    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    config["samples"] = "tg/samples.tsv"
    config["references"].update(mature_fasta="tg/mature.fa", hairpin_fasta="tg/hairpin.fa")
    config["genome"]["fasta"] = "tg/genome.fa"
    config["preprocess"]["kit"] = "truseq"
    config["diffexp"].update(design="~ condition", contrasts=[])
    (workdir / "config").mkdir(exist_ok=True)
    (workdir / "config" / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    if not (workdir / "resources").exists():
        (workdir / "resources").symlink_to(ROOT / "resources")


def score_distribution(cands: pd.DataFrame, truth: pd.DataFrame) -> pd.DataFrame:
    """Loci per score bin: overlapping a left-out hairpin or not."""
    left = truth[truth["left_out"]]
    is_left = [bool(((left["chrom"] == c.chrom) & (left["start"] <= c.end) & (left["end"] >= c.start)).any())
               for c in cands.itertuples(index=False)]
    bins = pd.cut(cands["score"], bins=np.arange(-3, 11, 1.0), right=False)
    table = pd.crosstab(bins, pd.Series(is_left, name="left_out_hairpin"))
    return table.rename(columns={True: "left_out_hairpin", False: "other"})


def main() -> int:
    """Run the benchmark and print its figures (markdown-ready)."""
    parser = argparse.ArgumentParser()
    parser.add_argument("workdir", type=Path)
    parser.add_argument("--hairpins", type=int, default=200)
    parser.add_argument("--left-out", type=int, default=60)
    parser.add_argument("--inverted-repeats", type=int, default=120)
    parser.add_argument("--samples", type=int, default=4)
    args = parser.parse_args()
    spec = LeaveOutSpec(n_hairpins=args.hairpins, n_left_out=args.left_out,
                        n_inverted_repeats=args.inverted_repeats, samples=args.samples, n_chromosomes=4)
    args.workdir.mkdir(parents=True, exist_ok=True)
    truth = make_test_genome(ROOT / "resources", args.workdir / "tg", spec)
    configure(args.workdir)
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    start = time.time()
    subprocess.run([sys.executable, "-m", "snakemake", "--snakefile", str(ROOT / "workflow" / "Snakefile"),
                    "--directory", str(args.workdir), "--cores", "2", *TARGETS], check=True, env=env,
                   cwd=args.workdir, capture_output=True)
    elapsed = time.time() - start
    genome_len = sum(len(line) - 1 for line in open(args.workdir / "tg" / "genome.fa") if not line.startswith(">"))
    cands = pd.read_csv(args.workdir / "results" / "genome" / "novel_candidates.tsv", sep="\t")
    print(f"genome {genome_len} nt, {args.hairpins} hairpins ({args.left_out} left out), "
          f"{args.inverted_repeats} inverted repeats, {args.samples} samples; workflow {elapsed:.0f} s")
    print(evaluate(cands, truth))
    print(cands["call"].value_counts().to_string())
    print(score_distribution(cands, truth).to_string())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

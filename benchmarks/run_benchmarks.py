#!/usr/bin/env python3
"""exomir performance benchmark: throughput, scaling and memory against baselines and peers run on
the same input. The logic is the package ``benchmarks/harness`` (its ``__init__`` lists the modules).

Run from the project root (a script, not a test: nothing here asserts a time)::

    .venv/bin/python benchmarks/run_benchmarks.py                       # 2M, 5M reads, 3 rounds, DAG, cohort, pyDESeq2
    .venv/bin/python benchmarks/run_benchmarks.py --quick               # smoke run
    .venv/bin/python benchmarks/run_benchmarks.py --sizes 2000000 --skip dag,cohort,diffexp
    .venv/bin/python benchmarks/run_benchmarks.py --skip reads,cohort,diffexp --dag-samples 500,2000,5000
    .venv/bin/python benchmarks/run_benchmarks.py --tables --tag full   # markdown tables of a stored run

Per read number, on one simulated FASTQ (BC01 of exomir.simulate, seed 1), every step runs once
per round and the rounds are interleaved (``--rounds``, medians reported): ``floor_gzip_wc``,
``cutadapt_alone`` (exomir's trimming settings), ``exomir_chain_snakemake`` (the real rules
trim_and_collapse -> quantify_sample, Snakemake start-up included), ``mirge3``
(miRge3.0 0.1.4 in a benchmark-only venv, library from the bundled miRBase 22.1), the pieces
(rule-script functions in their own process), ``collapse_only``, the minimal "align every read"
baseline, nf-core/smrnaseq's ``mirna_quant`` and bowtie on the unique sequences. Count agreement
with the simulator's truth is reported for exomir and miRge3. Results:
``benchmarks/results/{tag}_*.tsv`` and ``{tag}.json``; big files under ``--work``.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())

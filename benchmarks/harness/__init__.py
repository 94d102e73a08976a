"""exomir's benchmark harness (``benchmarks/run_benchmarks.py`` is its command line).

Modules, one concern each:

``common``      constants, the environment of every step, small table helpers
``measure``     running one command as a process tree: wall, CPU, peak memory; interleaved rounds
``inputs``      simulated FASTQ, Snakemake working directories, tiny sample-sheet FASTQ
``pieces``      the Python snippets timed as "pieces" (rule-script functions in a subprocess)
``baselines``   the minimal "align every read" baseline and nf-core/smrnaseq's mirna_quant
``mirge``       miRge3.0 in a benchmark-only venv, its minimal library, its samtools wrapper
``truth``       count agreement with the simulator's truth (exomir and miRge3)
``size``        one read number: every per-sample step in interleaved rounds, the ratios
``dag``         Snakemake parse and dry run of generated cohorts
``cohort``      cohort-level steps (matrices, QC summary, MultiQC, report) at scale
``cohort_tree`` simulated cohorts of n samples made from a demo run's per-sample tables
``cohort_pieces`` the cohort rules' function calls and MultiQC command timed by ``cohort``
``diffexp``     pyDESeq2 through exomir.diffexp at cohort scale
``output``      the machine description and the markdown tables of a run
``cli``         the command line
"""

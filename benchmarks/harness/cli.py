"""Command line of the benchmark (``benchmarks/run_benchmarks.py``)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from harness import measure
from harness.common import PROJECT, ratio, write_tsv
from harness.output import machine, markdown_tables

DESCRIPTION = "exomir performance benchmark: throughput, scaling and memory against baselines run on the same input."


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The options (``--quick`` replaces sizes, cohort sizes and rounds by a smoke run's)."""
    parser = argparse.ArgumentParser(description=DESCRIPTION)
    parser.add_argument("--sizes", default="2000000,5000000", help="reads per sample, comma-separated")
    parser.add_argument("--quick", action="store_true", help="smoke run: 200k reads, 100-sample DAG and cohort, 50 DE samples")
    parser.add_argument("--skip", default="", help="comma-separated: reads, mirge, dag, cohort, diffexp")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds of the per-sample steps (medians)")
    parser.add_argument("--dag-samples", default="500,2000,5000", help="cohort sizes of the DAG dry runs")
    parser.add_argument("--dag-rounds", type=int, default=1, help="interleaved rounds of the DAG steps")
    parser.add_argument("--cohort-samples", default="500,2000", help="cohort sizes of the cohort-level steps")
    parser.add_argument("--cohort-source", default=str(PROJECT),
                        help="working directory of a finished demo run (./exomir demo) whose per-sample tables "
                             "the simulated cohorts are made from")
    parser.add_argument("--cohort-rounds", type=int, default=1, help="interleaved rounds of the cohort steps")
    parser.add_argument("--de-samples", type=int, default=200)
    parser.add_argument("--de-mirnas", type=int, default=2600)
    parser.add_argument("--tables", action="store_true", help="only print the markdown tables of --tag's results")
    parser.add_argument("--tag", default=None, help="prefix of the result files (default: full, or quick)")
    parser.add_argument("--work", default=str(PROJECT / "benchmarks" / "out"), help="big temporary files")
    parser.add_argument("--results", default=str(PROJECT / "benchmarks" / "results"), help="TSV/JSON output")
    args = parser.parse_args(argv)
    if args.quick:
        args.sizes, args.dag_samples, args.cohort_samples, args.de_samples, args.rounds = "200000", "100", "100", 50, 1
    args.tag = args.tag or ("quick" if args.quick else "full")
    return args


def _ints(text: str) -> list[int]:
    return [int(s) for s in text.split(",") if s]


def run_sizes(args: argparse.Namespace, work: Path, results: Path, report: dict) -> None:
    """Every read number (results rewritten after each: a run stopped early keeps what it finished)."""
    from harness.size import bench_size

    per_size = []
    for n in _ints(args.sizes):
        per_size.append(bench_size(n, work, args.rounds, with_mirge="mirge" not in args.skip_set))
        write_tsv([row for s in per_size for row in s["rows"]], results / f"{args.tag}_steps.tsv")
        write_tsv([s["summary"] for s in per_size], results / f"{args.tag}_summary.tsv")
    summaries = [s["summary"] for s in per_size]
    report["sizes"] = summaries
    if len(summaries) > 1:
        first, last = summaries[0], summaries[-1]
        report["growth_wall_per_million_last_over_first"] = {
            key.replace("wall_s_per_million_", ""): ratio(last[key], first[key])
            for key in first if key.startswith("wall_s_per_million_") and key in last
        }


def run_cohort_parts(args: argparse.Namespace, work: Path, results: Path, report: dict) -> None:
    """The DAG, cohort-level and pyDESeq2 parts that are not skipped."""
    if "dag" not in args.skip_set:
        from harness.dag import bench_dag

        report["dag"] = bench_dag(_ints(args.dag_samples), work, args.dag_rounds)
        write_tsv(report["dag"], results / f"{args.tag}_dag.tsv")
    if "cohort" not in args.skip_set:
        from harness.cohort import bench_cohort

        report["cohort"] = bench_cohort(_ints(args.cohort_samples), work, Path(args.cohort_source),
                                        args.cohort_rounds)
        write_tsv(report["cohort"], results / f"{args.tag}_cohort.tsv")
    if "diffexp" not in args.skip_set:
        from harness.diffexp import bench_diffexp

        report["diffexp"] = bench_diffexp(args.de_samples, args.de_mirnas, work)
        write_tsv(report["diffexp"], results / f"{args.tag}_diffexp.tsv")


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark parts; write ``{tag}_*.tsv`` and ``{tag}.json`` under ``--results``."""
    args = parse_args(argv)
    args.skip_set = set(filter(None, args.skip.split(",")))
    work, results = Path(args.work), Path(args.results)
    measure.STDERR_DIR[0] = work / "stderr"
    work.mkdir(parents=True, exist_ok=True)
    results.mkdir(parents=True, exist_ok=True)
    if args.tables:
        print(markdown_tables(results, args.tag), end="")
        return 0
    info = machine()
    print(json.dumps(info, indent=1), flush=True)
    report: dict = {"machine": info, "command": " ".join(["benchmarks/run_benchmarks.py", *(argv or sys.argv[1:])])}
    if "reads" not in args.skip_set:
        run_sizes(args, work, results, report)
    run_cohort_parts(args, work, results, report)
    report["machine"]["load_average_end"] = machine()["load_average_start"]
    (results / f"{args.tag}.json").write_text(json.dumps(report, indent=1) + "\n")
    print(json.dumps({k: v for k, v in report.items() if k != "machine"}, indent=1))
    return 0

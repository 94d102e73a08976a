"""Cohort-level steps at scale (issue 21.4): ``quantify_matrices``, ``qc_summary``,
``multiqc_content``, MultiQC and the biomarker report on simulated cohorts of n samples
(``harness.cohort_tree``: per-sample tables of a finished demo run, scaled per sample), each the
rule's own function or command in its own process; then the report's size and the time headless
Chromium takes to open it (:func:`chromium_open`)."""

from __future__ import annotations

import json
import re
import shutil
import statistics
import subprocess
import time
from pathlib import Path

from harness import cohort_pieces as pieces
from harness.cohort_tree import CONTRAST, build_tree, write_diffexp_tables
from harness.common import PROJECT, PYTHON, load_config
from harness.measure import Step, load_average, run_rounds

REPORT, REPORT_FULL = "results/report/exomir_report.html", "results/report/exomir_report_unsummarised.html"
#: Chromium runs per report (median) and the longest wait for one.
OPEN_REPEATS, OPEN_TIMEOUT = 3, 300

#: Chromium flags of the report's browser test (tests/test_report_browser.py), plus --dump-dom.
CHROMIUM = ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-extensions", "--mute-audio", "--hide-scrollbars", "--window-size=1280,900"]
#: Appended to a copy of the report after its own script: runs once the load event fired, i.e.
#: after report.js set up every table and plot (it does so synchronously and then sets
#: data-exomir-ready), and writes the page's clock into the DOM that --dump-dom prints.
TIMING_SCRIPT = ("<script>window.addEventListener('load', function () {"
                 "var ready = document.documentElement.getAttribute('data-exomir-ready');"
                 "document.documentElement.setAttribute('data-bench-load-ms', String(Math.round(performance.now())) + ':' + ready);"
                 "});</script>")


def write_params(folder: Path, sheet, config: dict) -> None:
    """``params.json`` of the snippets in ``harness.cohort_pieces``."""
    params = {"samples": list(sheet["sample"]), "sheet": sheet.to_dict("records"), "config": config,
              "contrasts": [CONTRAST], "template_dir": str(PROJECT / "workflow" / "report")}
    (folder / "params.json").write_text(json.dumps(params))


def cohort_steps(n: int, folder: Path, sheet) -> list[Step]:
    """The timed steps of one cohort size, in workflow order (each reads the previous' outputs)."""
    kwargs = {"cwd": folder}
    multiqc = pieces.MULTIQC.format(config=PROJECT / "workflow" / "report" / "multiqc_config.yaml")
    return [
        Step(f"quantify_matrices_{n}", [PYTHON, "-c", pieces.QUANTIFY_MATRICES], kwargs=kwargs),
        Step(f"qc_summary_{n}", [PYTHON, "-c", pieces.QC_SUMMARY], kwargs=kwargs),
        Step(f"multiqc_content_{n}", [PYTHON, "-c", pieces.MULTIQC_CONTENT], kwargs=kwargs,
             before=lambda: write_diffexp_tables(folder, sheet)),
        Step(f"multiqc_{n}", multiqc, kwargs=kwargs),
        Step(f"exomir_report_{n}", [PYTHON, "-c", pieces.EXOMIR_REPORT, REPORT], kwargs=kwargs),
        # the same without the large-cohort summaries: what they save
        Step(f"exomir_report_unsummarised_{n}", [PYTHON, "-c", pieces.EXOMIR_REPORT, REPORT_FULL, str(10**9)],
             kwargs=kwargs),
    ]


def _open_once(page: Path, work: Path) -> tuple[float, int | None, bool]:
    """One headless Chromium run of ``page`` (--dump-dom): wall seconds, the page clock written by
    :data:`TIMING_SCRIPT` (None after :data:`OPEN_TIMEOUT`) and whether report.js had finished."""
    profile = work / "chromium_profile"
    shutil.rmtree(profile, ignore_errors=True)
    start = time.perf_counter()
    try:
        dom = subprocess.run([*CHROMIUM, f"--user-data-dir={profile}", "--dump-dom", page.as_uri()],
                             capture_output=True, text=True, timeout=OPEN_TIMEOUT).stdout
    except subprocess.TimeoutExpired:
        return time.perf_counter() - start, None, False
    wall = time.perf_counter() - start
    match = re.search(r'data-bench-load-ms="(\d+):([^"]*)"', dom)
    if not match:
        raise SystemExit(f"Chromium did not run the timing script of {page}")
    return wall, int(match.group(1)), match.group(2) == "1"


def chromium_open(html: Path, work: Path, repeats: int = OPEN_REPEATS) -> dict:
    """Open ``html`` in headless Chromium ``repeats`` times (medians): the page's own clock at the
    end of its load event (navigation start -> report.js finished every table and plot), and the
    wall time of the whole browser run minus that of a blank page (browser start-up excluded)."""
    timed, blank = html.with_name(f"bench_open_{html.stem}.html"), html.with_name("bench_blank.html")
    timed.write_text(html.read_text(encoding="utf-8").replace("</body>", TIMING_SCRIPT + "</body>", 1), encoding="utf-8")
    blank.write_text("<!doctype html><html><body>" + TIMING_SCRIPT + "</body></html>")
    runs = []
    for _ in range(repeats):
        blank_wall = _open_once(blank, work)[0]
        wall, clock, ready = _open_once(timed, work)
        runs.append((wall - blank_wall, clock, ready, wall))
        if clock is None:
            break
    clocks = [r[1] for r in runs]
    return {"report_mb": round(html.stat().st_size / 1e6, 2),
            "open_ms_page_clock": None if None in clocks else statistics.median(clocks),
            "report_ready": all(r[2] for r in runs),
            "open_s_wall_minus_blank": round(statistics.median(r[0] for r in runs), 2),
            "chromium_wall_s": round(statistics.median(r[3] for r in runs), 2), "open_runs": len(runs),
            "load": load_average()}


def bench_cohort(sizes: list[int], work: Path, source: Path, rounds: int = 1) -> list[dict]:
    """Every cohort step at every size (``source``: the working directory of a finished demo run);
    the report's size and Chromium open time are added to the report step's row."""
    print(f"== cohort-level steps, {', '.join(map(str, sizes))} samples (per-sample tables of {source})", flush=True)
    config, source = load_config(), source.resolve()
    if not (source / "results" / "diffexp" / "samples.tsv").exists():
        raise SystemExit(f"{source} holds no finished demo run (results/diffexp/samples.tsv): run ./exomir demo "
                         "there first, pass --cohort-source DIR, or --skip cohort")
    rows = []
    for n in sizes:
        folder = work / f"cohort_{n}"
        started = time.perf_counter()
        sheet = build_tree(n, source, folder, config["species"])
        print(f"  built {n} samples in {time.perf_counter() - started:.1f} s", flush=True)
        write_params(folder, sheet, config)
        size_rows = list(run_rounds(cohort_steps(n, folder, sheet), rounds).values())
        size_rows[-2].update(chromium_open(folder / REPORT, work))
        size_rows[-1].update(chromium_open(folder / REPORT_FULL, work, repeats=1))
        size_rows[-3]["report_mb"] = round((folder / "results/report/multiqc_report.html").stat().st_size / 1e6, 2)
        for row in size_rows:
            row["samples"] = n
            row["cpu_ms_per_sample"] = round(1000 * row["cpu_s"] / n, 1)
        rows.extend(size_rows)
    return rows

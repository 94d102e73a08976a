"""Cohort-level steps at scale (issue 21.4): ``quantify_matrices``, ``qc_summary``,
``multiqc_content``, MultiQC and the biomarker report on simulated cohorts of n samples
(``harness.cohort_tree``: per-sample tables of a finished demo run, scaled per sample), each the
rule's own function or command in its own process; then the report's size and the time headless
Chromium takes to open it (:func:`chromium_open`)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
from pathlib import Path

from harness import cohort_pieces as pieces
from harness.cohort_tree import CONTRAST, build_tree, write_diffexp_tables
from harness.common import PROJECT, PYTHON, load_config
from harness.measure import Step, load_average, run_rounds

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
        Step(f"exomir_report_{n}", [PYTHON, "-c", pieces.EXOMIR_REPORT], kwargs=kwargs),
    ]


def chromium_open(html: Path, work: Path) -> dict:
    """Open ``html`` in headless Chromium (--dump-dom): the page's own clock at the end of its load
    event (navigation start -> report.js finished), and the wall time of the whole browser run
    minus that of a blank page (browser start-up excluded)."""
    timed = html.with_name("bench_open.html")
    text = html.read_text(encoding="utf-8")
    timed.write_text(text.replace("</body>", TIMING_SCRIPT + "</body>", 1), encoding="utf-8")
    blank = html.with_name("bench_blank.html")
    blank.write_text("<!doctype html><html><body>" + TIMING_SCRIPT + "</body></html>")
    walls, clocks = {}, {}
    for name, page in (("blank", blank), ("report", timed)):
        profile = work / f"chromium_profile_{name}"
        shutil.rmtree(profile, ignore_errors=True)
        start = time.perf_counter()
        dom = subprocess.run([*CHROMIUM, f"--user-data-dir={profile}", "--dump-dom", page.as_uri()],
                             capture_output=True, text=True, timeout=600).stdout
        walls[name] = time.perf_counter() - start
        match = re.search(r'data-bench-load-ms="(\d+):([^"]*)"', dom)
        if not match:
            raise SystemExit(f"Chromium did not run the timing script of {page}")
        clocks[name] = (int(match.group(1)), match.group(2))
    return {"report_mb": round(html.stat().st_size / 1e6, 2), "open_ms_page_clock": clocks["report"][0],
            "report_ready": clocks["report"][1] == "1", "open_s_wall_minus_blank": round(walls["report"] - walls["blank"], 2),
            "chromium_wall_s": round(walls["report"], 2), "chromium_blank_wall_s": round(walls["blank"], 2),
            "load": load_average()}


def bench_cohort(sizes: list[int], work: Path, source: Path, rounds: int = 1) -> list[dict]:
    """Every cohort step at every size (``source``: the working directory of a finished demo run);
    the report's size and Chromium open time are added to the report step's row."""
    print(f"== cohort-level steps, {', '.join(map(str, sizes))} samples (per-sample tables of {source})", flush=True)
    config = load_config()
    rows = []
    for n in sizes:
        folder = work / f"cohort_{n}"
        started = time.perf_counter()
        sheet = build_tree(n, source, folder, config["species"])
        print(f"  built {n} samples in {time.perf_counter() - started:.1f} s", flush=True)
        write_params(folder, sheet, config)
        size_rows = list(run_rounds(cohort_steps(n, folder, sheet), rounds).values())
        size_rows[-1].update(chromium_open(folder / "results/report/exomir_report.html", work))
        multiqc_html = folder / "results/report/multiqc_report.html"
        size_rows[-2]["report_mb"] = round(multiqc_html.stat().st_size / 1e6, 2)
        for row in size_rows:
            row["samples"] = n
            row["cpu_ms_per_sample"] = round(1000 * row["cpu_s"] / n, 1)
        rows.extend(size_rows)
    return rows

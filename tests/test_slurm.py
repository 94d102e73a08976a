"""The workflow through a real SLURM (single node on localhost, started by ./exomir test).

Checks that the jobs really went through SLURM and that the results equal a local run's.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time

import pytest

from support import COMPARED, IN_CI, ROOT, SNAKEMAKE_TIMEOUT, checksums, run_snakemake

pytestmark = [pytest.mark.workflow, pytest.mark.slurm]


def _slurm_ready() -> bool:
    if not shutil.which("srun"):
        return False
    try:
        # A loaded controller can take minutes to answer; only a SLURM that never answers is absent.
        return subprocess.run(["srun", "-t", "1", "true"], timeout=600, capture_output=True).returncode == 0
    except subprocess.TimeoutExpired:
        return False


@pytest.fixture(scope="module")
def slurm():
    if not _slurm_ready():
        if IN_CI:
            pytest.fail("SLURM is not running: './exomir test' starts it (tests/slurm/local_slurm.sh)")
        pytest.skip("no local SLURM (run the suite with ./exomir test as root)")


def test_demo_subset_through_slurm_matches_local_run(slurm, reference_run, mini_cohort):
    local_dir, expected = reference_run
    workdir = mini_cohort("slurm")
    start = time.monotonic()
    # Poll SLURM every 3 s instead of 10 s: the test's jobs are seconds long.
    proc = run_snakemake(
        workdir,
        "--profile",
        str(ROOT / "profiles" / "slurm"),
        "--jobs",
        "4",
        "--seconds-between-status-checks",
        "3",
        cores=2,
        # Generous: a loaded 2-core machine took ~20x a quiet one's time (issue 16.5). MinJobAge in
        # tests/slurm/slurm.conf.in (one day) keeps finished jobs visible for longer than this.
        timeout=SNAKEMAKE_TIMEOUT,
    )
    wall = time.monotonic() - start

    # Every non-local job left a SLURM log named after its SLURM job id.
    slurm_logs = sorted((workdir / "logs" / "slurm").rglob("*.log"))  # slurm-logdir of the profile
    assert slurm_logs, proc.stderr[-3000:]
    job_ids = {p.stem for p in slurm_logs}
    assert all(j.isdigit() for j in job_ids), job_ids
    rules = {p.parent.name for p in slurm_logs}
    assert {"rule_quantify_sample", "rule_diffexp_fit"} <= rules or any("group" in r for r in rules), rules
    # SLURM itself knows the jobs (finished jobs stay visible to squeue for MinJobAge).
    known = subprocess.run(["squeue", "-h", "--states=all", "-o", "%i %T"], capture_output=True, text=True).stdout
    known_ids = {line.split()[0] for line in known.splitlines() if line.strip()}
    assert job_ids <= known_ids, (sorted(job_ids - known_ids), known)

    assert checksums(workdir, COMPARED) == expected
    assert (workdir / "results" / "report" / "exomir_report.html").exists()
    summary = {"slurm_jobs": len(job_ids), "wall_seconds": round(wall, 1), "rules": sorted(rules)}
    (workdir / "slurm_run.json").write_text(json.dumps(summary, indent=2))
    print(f"SLURM run: {summary}")

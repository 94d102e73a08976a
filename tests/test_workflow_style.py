"""The workflow code stays clean: Snakemake's linter and snakefmt (pinned in pyproject.toml)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from support import HANG_TIMEOUT, ROOT, SNAKEMAKE


def test_snakemake_lint_is_clean():
    proc = subprocess.run([*SNAKEMAKE, "--lint", "--cores", "1"], cwd=ROOT, capture_output=True, text=True, timeout=HANG_TIMEOUT)
    out = proc.stdout + proc.stderr
    assert "Congratulations, your workflow is in a good condition" in out, out[-4000:]


def test_snakefmt_check_is_clean():
    snakefmt = Path(sys.executable).parent / "snakefmt"
    proc = subprocess.run([str(snakefmt), "--check", "workflow"], cwd=ROOT, capture_output=True, text=True, timeout=HANG_TIMEOUT)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_snakefile_is_thin():
    """The Snakefile only includes rule files and defines rule all (helpers live in common*.smk)."""
    text = (ROOT / "workflow" / "Snakefile").read_text()
    assert text.count("rule ") == 1 and "def " not in text and "import " not in text


def test_rule_files_hold_no_python_helpers():
    for rules in sorted((ROOT / "workflow" / "rules").glob("*.smk")):
        if rules.name.startswith("common"):
            continue
        assert "\ndef " not in rules.read_text(), rules.name


def test_every_rule_declares_log_env_threads_and_resources():
    import re

    missing = []
    for rules in sorted((ROOT / "workflow" / "rules").glob("*.smk")):
        blocks = re.split(r"\n(?=rule \w+:)", rules.read_text())
        for block in blocks:
            match = re.match(r"rule (\w+):", block)
            if not match:
                continue
            for needed in ("output:", "log:", "conda:", "threads:", "mem_mb=", "runtime="):
                if needed not in block:
                    missing.append(f"{rules.name}: rule {match.group(1)} lacks {needed}")
            threads = re.search(r"threads: (\S+)", block)
            if threads and not threads.group(1).isdigit():
                missing.append(f"{rules.name}: rule {match.group(1)} threads not literal")
    assert not missing, "\n".join(missing)


def test_every_report_caption_is_wired_to_an_output():
    """snakemake --report: each caption of workflow/report/*.rst belongs to a report() output (issue 20.4)."""
    import re

    workflow = ROOT / "workflow"
    used = set()
    for rules in (workflow / "rules").glob("*.smk"):
        used |= set(re.findall(r'caption="\.\./report/([^"]+\.rst)"', rules.read_text()))
    captions = {p.name for p in (workflow / "report").glob("*.rst")}
    assert captions - used == set(), "captions no output uses"
    assert used - captions == set(), "captions referenced but missing"

"""Deployment the way core facilities do it, and quantification-only runs (issue 17).

- A separate project folder as ``snakedeploy deploy-workflow`` writes it: a Snakefile with
  ``module exomir`` + ``use rule * from exomir``, its own ``config/config.yaml`` (bundled files as
  ``bundled:...``) and sample sheet, the FASTQ outside the project and outside the repository.
  Its results equal an in-repository run of the same data byte for byte.
- Quantification-only runs (one sample; one condition) end with exit 0 and a report that says why
  no differential expression was run; configured contrasts that cannot be tested fail at start.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from support import (
    COMPARED,
    MINI_READS,
    ROOT,
    SNAKEMAKE,
    SNAKEMAKE_TIMEOUT,
    checksums,
    default_config,
    make_workdir,
    run_snakemake,
    write_head_fastq,
)

pytestmark = pytest.mark.workflow

#: Config keys whose demo value is a bundled file under resources/.
RESOURCE_PREFIX = "resources/"


def _to_bundled(node):
    """The demo config with every ``resources/...`` value written as ``bundled:...``."""
    if isinstance(node, dict):
        return {k: _to_bundled(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_to_bundled(v) for v in node]
    if isinstance(node, str) and node.startswith(RESOURCE_PREFIX):
        return "bundled:" + node[len(RESOURCE_PREFIX):]
    return node


def _deployed_project(tmp_path, reference_dir):
    """A snakedeploy-style project using the mini cohort's FASTQ from a data folder elsewhere."""
    data = tmp_path / "sequencing_data"
    shutil.copytree(reference_dir / "mini", data)
    project = tmp_path / "my_project"
    (project / "config").mkdir(parents=True)
    sheet = pd.read_csv(reference_dir / "config" / "samples.tsv", sep="\t", dtype=str, keep_default_na=False)
    sheet["fastq"] = [str(data / f"{s}.fastq.gz") for s in sheet["sample"]]
    sheet.to_csv(project / "config" / "samples.tsv", sep="\t", index=False)
    config = yaml.safe_load((reference_dir / "config" / "config.yaml").read_text())
    config = _to_bundled(config)
    config["samples"] = "config/samples.tsv"
    (project / "config" / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    (project / "workflow").mkdir()
    (project / "workflow" / "Snakefile").write_text(
        'configfile: "config/config.yaml"\n\n\n'
        "module exomir:\n"
        f"    snakefile:\n        {str(ROOT / 'workflow' / 'Snakefile')!r}\n"
        "    config:\n        config\n\n\n"
        "use rule * from exomir\n"
    )
    return project


def test_module_deployment_matches_in_repository_run(tmp_path, reference_run):
    reference_dir, expected = reference_run
    project = _deployed_project(tmp_path, reference_dir)
    assert not (project / "resources").exists()  # nothing of the repository is linked in
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    proc = subprocess.run(
        [*SNAKEMAKE, "--cores", "2"], cwd=project, capture_output=True, text=True, timeout=SNAKEMAKE_TIMEOUT, env=env
    )
    assert proc.returncode == 0, proc.stderr[-6000:]
    assert checksums(project, COMPARED) == expected
    for report in ("exomir_report.html", "multiqc_report.html"):
        assert (project / "results" / "report" / report).stat().st_size > 0


def _single_condition_workdir(tmp_path, samples, **diffexp):
    sheet = pd.read_csv(ROOT / "resources" / "demo" / "samples.tsv", sep="\t", dtype=str)
    sheet = sheet[sheet["sample"].isin(samples)].copy()
    (tmp_path / "data").mkdir(parents=True)
    for sample in samples:
        write_head_fastq(ROOT / "resources" / "demo" / f"{sample}.fastq.gz", tmp_path / "data" / f"{sample}.fastq.gz",
                         MINI_READS)
    sheet["fastq"] = [f"data/{s}.fastq.gz" for s in sheet["sample"]]
    config = default_config()
    config["diffexp"].update(diffexp)
    return make_workdir(tmp_path, config, samples_tsv=sheet.to_csv(sep="\t", index=False))


def _assert_quantification_only(workdir, samples, reason):
    results = workdir / "results"
    counts = pd.read_csv(results / "quantify" / "mature_counts.tsv", sep="\t", dtype=str)
    assert list(counts.columns[1:]) == samples
    for sample in samples:
        assert (results / "quantify" / "mirgff" / f"{sample}.gff").stat().st_size > 0
    assert (results / "quantify" / "isomirs.tsv").exists()
    assert (results / "qc" / "sample_flags.tsv").exists()
    assert (results / "report" / "multiqc_report.html").exists()
    assert not (results / "diffexp").exists()
    # The catalogue is still resolved against miRBase (no cohort needed); no contrast folder exists.
    assert not [p for p in (results / "markers").glob("*") if p.is_dir()]
    html = (results / "report" / "exomir_report.html").read_text()
    text = re.sub(r"<[^>]+>", "", html)
    assert "No differential expression was run: " + reason in text, text[:3000]


def test_one_sample_quantification_only_run(tmp_path):
    workdir = _single_condition_workdir(tmp_path, ["BC01"], enabled=False)
    run_snakemake(workdir, cores=2)
    _assert_quantification_only(workdir, ["BC01"], "differential expression is switched off (diffexp.enabled: false)")


def test_one_condition_without_contrasts_runs_to_the_report(tmp_path):
    workdir = _single_condition_workdir(tmp_path, ["HC01", "HC02"], contrasts=[])
    run_snakemake(workdir, cores=2)
    _assert_quantification_only(workdir, ["HC01", "HC02"], "no contrast is configured (diffexp.contrasts is empty)")


def test_configured_contrast_on_one_condition_fails_at_start_with_the_right_fix(tmp_path):
    workdir = _single_condition_workdir(tmp_path, ["HC01", "HC02"])
    proc = run_snakemake(workdir, "--dry-run", cores=1, check=False)
    message = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "'breast_cancer' of factor 'condition' has no used sample" in message, message
    assert "set diffexp.enabled: false" in message
    assert not (workdir / "results").exists()

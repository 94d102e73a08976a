"""Shared fixtures: the demo run and the 6-sample mini cohort, built once per session."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from support import (
    COMPARED,
    MINI_READS,
    MINI_SAMPLES,
    ROOT,
    checksums,
    default_config,
    make_workdir,
    run_snakemake,
    write_head_fastq,
)


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory) -> Path:
    """The whole workflow on the bundled demo cohort (the README's demo), run once per session."""
    workdir = make_workdir(tmp_path_factory.mktemp("demo"), default_config())
    run_snakemake(workdir, cores=2)
    return workdir


@pytest.fixture(scope="session")
def mini_cohort(tmp_path_factory):
    """Factory of working directories holding a 6-sample, 6,000-read subset of the demo cohort."""
    import pandas as pd

    sheet = pd.read_csv(ROOT / "resources" / "demo" / "samples.tsv", sep="\t", dtype=str)
    sheet = sheet[sheet["sample"].isin(MINI_SAMPLES)].copy()
    source_dir = tmp_path_factory.mktemp("mini_source")
    for sample in MINI_SAMPLES:
        write_head_fastq(ROOT / "resources" / "demo" / f"{sample}.fastq.gz", source_dir / f"{sample}.fastq.gz", MINI_READS)
    sheet["fastq"] = [f"mini/{s}.fastq.gz" for s in sheet["sample"]]
    tsv = sheet.to_csv(sep="\t", index=False)

    def factory(name: str, **overrides) -> Path:
        workdir = tmp_path_factory.mktemp(name)
        shutil.copytree(source_dir, workdir / "mini")
        config = default_config()
        for key, value in overrides.items():
            section, _, sub = key.partition("__")
            if sub:
                config[section][sub] = value
            else:
                config[section] = value
        return make_workdir(workdir, config, samples_tsv=tsv)

    return factory


@pytest.fixture(scope="session")
def reference_run(mini_cohort) -> tuple[Path, dict[str, str]]:
    workdir = mini_cohort("reference")
    run_snakemake(workdir, cores=2)
    sums = checksums(workdir, COMPARED)
    assert any("mature_counts" in k for k in sums) and any("results.tsv" in k for k in sums)
    return workdir, sums

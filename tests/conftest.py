"""Shared fixtures: isolated working directories and Snakemake runs of the real workflow."""

from __future__ import annotations

import copy
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
SNAKEFILE = ROOT / "workflow" / "Snakefile"
SNAKEMAKE = [sys.executable, "-m", "snakemake"]
IN_CI = bool(os.environ.get("CI"))


def default_config() -> dict:
    """The runnable default config (the demo)."""
    return yaml.safe_load((ROOT / "config" / "config.yaml").read_text())


def make_workdir(path: Path, config: dict, samples_tsv: str | None = None) -> Path:
    """Create a working directory that sees the project's resources, with its own config.

    ``resources`` is linked so bundled references and the demo cohort resolve as in the
    project root; results and logs stay inside ``path``.
    """
    path.mkdir(parents=True, exist_ok=True)
    link = path / "resources"
    if not link.exists():
        link.symlink_to(ROOT / "resources")
    (path / "config").mkdir(exist_ok=True)
    config = copy.deepcopy(config)
    if samples_tsv is not None:
        (path / "config" / "samples.tsv").write_text(samples_tsv)
        config["samples"] = "config/samples.tsv"
    elif not (path / config["samples"]).exists():
        shutil.copy(ROOT / config["samples"], path / "config" / "samples.tsv")
        config["samples"] = "config/samples.tsv"
    (path / "config" / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def run_snakemake(workdir: Path, *args: str, cores: int = 2, check: bool = True, timeout: int = 1800, **kwargs):
    """Run the project's workflow in ``workdir`` with its ``config/config.yaml``."""
    cmd = [
        *SNAKEMAKE,
        "--snakefile",
        str(SNAKEFILE),
        "--directory",
        str(workdir),
        "--configfile",
        str(workdir / "config" / "config.yaml"),
        "--cores",
        str(cores),
        *args,
    ]
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    proc = subprocess.run(cmd, cwd=workdir, capture_output=True, text=True, timeout=timeout, env=env, **kwargs)
    if check and proc.returncode != 0:
        raise AssertionError(f"snakemake failed ({proc.returncode}):\n{proc.stderr[-6000:]}")
    return proc


def sha256_of(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def checksums(root: Path, patterns: list[str]) -> dict[str, str]:
    """Checksums of the files matching ``patterns`` under ``root`` (relative path -> sha256)."""
    found = {}
    for pattern in patterns:
        for file in sorted(root.glob(pattern)):
            if file.is_file():
                found[str(file.relative_to(root))] = sha256_of(file)
    return found


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory) -> Path:
    """The whole workflow on the bundled demo cohort (the README's demo), run once per session."""
    workdir = make_workdir(tmp_path_factory.mktemp("demo"), default_config())
    run_snakemake(workdir, cores=2)
    return workdir

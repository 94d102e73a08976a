"""Record what produced the results: software versions and the configuration used.

Reference checksums are written by the references stage
(``results/references/{species}/checksums.tsv``); this module covers the software.
"""

from __future__ import annotations

import re
import subprocess
from importlib import metadata
from pathlib import Path

import pandas as pd
import yaml

import exomir
from exomir.io import atomic_open, write_tsv

#: Python distributions whose versions are recorded (tool name -> distribution name).
PYTHON_PACKAGES = {
    "snakemake": "snakemake",
    "snakemake-executor-plugin-slurm": "snakemake-executor-plugin-slurm",
    "cutadapt": "cutadapt",
    "pysam": "pysam",
    "pandas": "pandas",
    "numpy": "numpy",
    "scipy": "scipy",
    "pydeseq2": "pydeseq2",
    "scikit-learn": "scikit-learn",
    "matplotlib": "matplotlib",
    "multiqc": "multiqc",
    "jinja2": "Jinja2",
}

#: Command-line tools: (command, regular expression that captures the version).
COMMAND_TOOLS = {
    "bowtie": (["bowtie", "--version"], r"version (\S+)"),
    "samtools": (["samtools", "--version"], r"samtools (\S+)"),
    "fastqc": (["fastqc", "--version"], r"FastQC v(\S+)"),
    "python": (["python3", "--version"], r"Python (\S+)"),
}


def command_version(cmd: list[str], pattern: str) -> str:
    """Version printed by a command, or ``not found`` when the command is missing."""
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, errors="replace", timeout=60)
    except (FileNotFoundError, subprocess.TimeoutExpired):
        return "not found"
    match = re.search(pattern, proc.stdout + proc.stderr)
    return match.group(1) if match else "unknown"


def software_versions() -> pd.DataFrame:
    """Versions of exomir, its Python packages and the command-line tools, sorted by tool."""
    rows = [{"tool": "exomir", "version": exomir.__version__, "kind": "workflow"}]
    for tool, dist in PYTHON_PACKAGES.items():
        try:
            version = metadata.version(dist)
        except metadata.PackageNotFoundError:
            version = "not installed"
        rows.append({"tool": tool, "version": version, "kind": "python package"})
    for tool, (cmd, pattern) in COMMAND_TOOLS.items():
        rows.append({"tool": tool, "version": command_version(cmd, pattern), "kind": "command"})
    return pd.DataFrame(rows).sort_values("tool", kind="stable").reset_index(drop=True)


def write_provenance(versions_tsv: str | Path, config_yaml: str | Path, config: dict) -> None:
    """Write the software versions table and the configuration the run used."""
    write_tsv(software_versions(), versions_tsv)
    with atomic_open(config_yaml) as handle:
        yaml.safe_dump(config, handle, sort_keys=False, default_flow_style=False)

"""Helpers shared by the tests: project paths, isolated working directories, Snakemake runs.

Tests import these with ``from support import ...``; ``conftest.py`` holds only fixtures.
"""

from __future__ import annotations

import copy
import gzip
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
SNAKEFILE = ROOT / "workflow" / "Snakefile"
SNAKEMAKE = [sys.executable, "-m", "snakemake"]
IN_CI = bool(os.environ.get("CI"))
# cutadapt of the running venv when the test is not run from an activated environment
CUTADAPT = shutil.which("cutadapt") or str(Path(sys.executable).parent / "cutadapt")


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


# A hung run must end the test, but a slow one must not: a loaded 2-core machine took ~20x the time
# of a quiet one (issue 16.5), so the ceiling is hours, not the minutes a quiet machine needs.
# HANG_TIMEOUT bounds every subprocess a test starts (Snakemake, pip, chromium, the launcher).
HANG_TIMEOUT = 3 * 3600
SNAKEMAKE_TIMEOUT = HANG_TIMEOUT
#: Socket timeout of clients talking to the tests' local servers: the server is in the test's own
#: process, and on a loaded machine its thread can wait seconds for the CPU; only tests of the
#: timeout itself set a short one.
LOCAL_SERVER_TIMEOUT = 120


def snakemake_command(workdir: Path, cores: int, *args: str) -> list[str]:
    """The command line that runs the project's workflow in ``workdir`` with its own config."""
    return [
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


def run_snakemake(
    workdir: Path, *args: str, cores: int = 2, check: bool = True, timeout: int = SNAKEMAKE_TIMEOUT, **kwargs
):
    """Run the project's workflow in ``workdir`` with its ``config/config.yaml``."""
    cmd = snakemake_command(workdir, cores, *args)
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


MINI_SAMPLES = ["BC01", "BC02", "BC04", "HC01", "HC02", "HC04"]
MINI_READS = 6000


def write_head_fastq(source: Path, dest: Path, n_reads: int) -> None:
    """Copy the first ``n_reads`` records of a FASTQ.gz (deterministic gzip, no timestamp)."""
    with gzip.open(source, "rt") as src:
        lines = [next(src) for _ in range(4 * n_reads)]
    dest.parent.mkdir(parents=True, exist_ok=True)
    with open(dest, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as out:
        out.write("".join(lines).encode())


#: The tables users read and the stages hand over: they must not change between runs.
COMPARED = [
    "results/preprocess/*.collapsed.tsv.gz",
    "results/preprocess/*.stats.tsv",
    "results/quantify/*.tsv",
    "results/quantify/*.assignments.tsv.gz",
    "results/quantify/mirgff/*.gff",
    "results/qc/*.tsv",
    "results/diffexp/*.tsv",
    "results/diffexp/*/*.tsv",
    "results/markers/*.tsv",
    "results/markers/*/*.tsv",
]


def trim_into(out: Path, sample: str, fastqs: list, kit, settings, **kwargs):
    """``preprocess.trim_and_collapse`` of ``fastqs`` writing ``{out}/{sample}.<output>`` files.

    The outputs are named as the workflow names them (``.collapsed.tsv.gz``, ``.stats.tsv``,
    ``.lengths.tsv``, ``.cutadapt.json``, ``.cutadapt.log``); ``kwargs`` go to the function.
    """
    from exomir.preprocess import trim_and_collapse

    return trim_and_collapse(
        sample,
        [str(f) for f in fastqs],
        kit,
        settings,
        out_collapsed=str(out / f"{sample}.collapsed.tsv.gz"),
        out_stats=str(out / f"{sample}.stats.tsv"),
        out_lengths=str(out / f"{sample}.lengths.tsv"),
        out_json=str(out / f"{sample}.cutadapt.json"),
        out_log=str(out / f"{sample}.cutadapt.log"),
        **kwargs,
    )


def quantify_into(out: Path, sample: str, collapsed, ref: dict, settings, **kwargs):
    """``quantify.quantify_sample`` of one collapsed file writing ``{out}/{sample}.<output>`` files.

    ``ref`` holds the prepared references (``hairpin``, ``mature``, ``index``); the outputs are
    named as the workflow names them; ``kwargs`` (e.g. ``rna_class_indexes``) go to the function.
    """
    from exomir.quantify import quantify_sample

    return quantify_sample(
        sample=sample,
        collapsed=collapsed,
        hairpin_fa=ref["hairpin"],
        mature_tsv=ref["mature"],
        index_prefix=ref["index"],
        out_bam=str(out / f"{sample}.bam"),
        out_bowtie_log=str(out / f"{sample}.bowtie.log"),
        out_assignments=str(out / f"{sample}.assignments.tsv.gz"),
        out_stats=str(out / f"{sample}.stats.tsv"),
        out_unmapped=str(out / f"{sample}.unmapped.fa.gz"),
        out_mirgff=str(out / "mirgff" / f"{sample}.gff"),
        settings=settings,
        **kwargs,
    )

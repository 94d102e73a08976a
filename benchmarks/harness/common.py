"""Constants of the benchmark and helpers every module uses."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
VENV_BIN = str(Path(sys.executable).parent)
SAMPLE = "BC01"
SEED = 1
ADAPTER = "TGGAATTCTCGGGTGCCAAGG"
#: exomir's defaults (config/config.yaml, preprocess + quantify sections)
MIN_LENGTH, MAX_LENGTH = 16, 36
MISMATCHES = 1
THREADS = 2
#: 4 reads (miR-10b-5p + TruSeq adapter) for sample-sheet entries that are never processed
TINY_READ = b"TACCCTGTAGATCCGAATTTGTGTGGAATTCTCGGGTGCCAAGGAACTCC"


def tiny_fastq(name: str) -> bytes:
    """A gzipped 4-read FASTQ whose read names carry ``name``: exomir refuses two sheet entries
    with the same content (they would be counted twice), so every never-processed entry differs."""
    records = b"".join(b"@%s_r%d\n%s\n+\n%s\n" % (name.encode(), i, TINY_READ, b"F" * len(TINY_READ)) for i in range(4))
    return gzip.compress(records, mtime=0)


def load_config() -> dict:
    """The project's config/config.yaml (the demo configuration)."""
    import yaml

    return yaml.safe_load((PROJECT / "config" / "config.yaml").read_text())


def bench_env() -> dict[str, str]:
    """Environment of every step: the venv's tools first on PATH, exomir importable."""
    env = dict(os.environ)
    env["PATH"] = VENV_BIN + os.pathsep + env.get("PATH", "")
    env["PYTHONPATH"] = str(PROJECT / "scripts")
    env.setdefault("OMP_NUM_THREADS", str(THREADS))
    return env


def shell_argv(command: list[str] | str) -> list[str]:
    """``command`` as an argv: a string runs in bash with pipefail."""
    return ["bash", "-o", "pipefail", "-c", command] if isinstance(command, str) else command


def run_quiet(command: list[str] | str, cwd: Path = PROJECT, stdout=None, env: dict | None = None) -> None:
    """Untimed preparation step; fails loudly."""
    out = open(stdout, "wb") if stdout else subprocess.DEVNULL
    proc = subprocess.run(shell_argv(command), cwd=cwd, stdout=out, stderr=subprocess.PIPE, env=env or bench_env())
    if stdout:
        out.close()
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr.decode(errors="replace")[-4000:])
        raise SystemExit(f"preparation step failed: {command}")


def ratio(a: float, b: float) -> float:
    """``a / b`` rounded to 2 decimals (NaN when ``b`` is 0)."""
    return round(a / b, 2) if b else float("nan")


def read_one_row(path: Path) -> dict:
    """The first data row of a TSV as a dict."""
    header, values = path.read_text().splitlines()[:2]
    return dict(zip(header.split("\t"), values.split("\t")))


def same_gzip_content(a: Path, b: Path) -> bool:
    """Same decompressed bytes (compared in blocks: the benchmark process stays small)."""
    with gzip.open(a, "rb") as fa, gzip.open(b, "rb") as fb:
        while True:
            block_a, block_b = fa.read(1 << 20), fb.read(1 << 20)
            if block_a != block_b:
                return False
            if not block_a:
                return True


def write_tsv(rows: list[dict], path: Path) -> None:
    """Rows of dicts as a TSV (columns in first-seen order)."""
    columns: list[str] = []
    for row in rows:
        columns += [c for c in row if c not in columns]
    with open(path, "w") as handle:
        handle.write("\t".join(columns) + "\n")
        for row in rows:
            handle.write("\t".join(str(row.get(c, "")) for c in columns) + "\n")


def read_rows(path: Path) -> list[dict]:
    """A TSV written by :func:`write_tsv` as a list of dicts of strings."""
    lines = path.read_text().splitlines()
    header = lines[0].split("\t")
    return [dict(zip(header, line.split("\t"))) for line in lines[1:]]

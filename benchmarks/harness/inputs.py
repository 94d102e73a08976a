"""Benchmark inputs: simulated FASTQ, Snakemake working directories, generated sample sheets."""

from __future__ import annotations

from pathlib import Path

from harness.common import PROJECT, PYTHON, SAMPLE, SEED, THREADS, VENV_BIN, load_config, run_quiet, tiny_fastq


def simulate(reads: int, work: Path) -> Path:
    """Simulated FASTQ of ``SAMPLE`` with about ``reads`` reads (cached; truth tables next to it)."""
    folder = work / "sim" / f"reads_{reads}"
    fastq = folder / f"{SAMPLE}.fastq.gz"
    if not (folder / "truth_samples.tsv").exists():
        print(f"simulating {reads:,} reads -> {folder}", flush=True)
        run_quiet(
            [PYTHON, "-m", "exomir.simulate", "--out-dir", str(folder), "--reads", str(reads),
             "--samples", SAMPLE, "--seed", str(SEED)]
        )
    return fastq


def write_sheet(path: Path, rows: list[dict]) -> None:
    """A tab-separated sample sheet with the columns of the first row."""
    columns = list(rows[0])
    lines = ["\t".join(columns)] + ["\t".join(str(r[c]) for c in columns) for r in rows]
    path.write_text("\n".join(lines) + "\n")


def write_workdir(
    workdir: Path, sheet_rows: list[dict], contrasts: list[dict] | None = None, design: str | None = None
) -> None:
    """A Snakemake working directory: resources symlink, config, sample sheet."""
    import yaml

    workdir.mkdir(parents=True, exist_ok=True)
    link = workdir / "resources"
    if not link.exists():
        link.symlink_to(PROJECT / "resources")
    config = load_config()
    config["samples"] = "samples.tsv"
    if contrasts is not None:
        config["diffexp"]["contrasts"] = contrasts
    if design is not None:
        config["diffexp"]["design"] = design
    (workdir / "config").mkdir(exist_ok=True)
    (workdir / "config" / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    write_sheet(workdir / "samples.tsv", sheet_rows)


def cohort_rows(n_samples: int, data: Path, relative_to: Path) -> list[dict]:
    """``n_samples`` sheet rows (S0001..., alternating conditions, two batches), each with its own
    tiny FASTQ written under ``data``."""
    data.mkdir(parents=True, exist_ok=True)
    rows = []
    for i in range(n_samples):
        sample = f"S{i + 1:04d}"
        fastq = data / f"{sample}.fastq.gz"
        fastq.write_bytes(tiny_fastq(sample))
        rows.append({"sample": sample, "condition": "breast_cancer" if i % 2 == 0 else "control",
                     "batch": "AB"[(i // 2) % 2], "fastq": str(fastq.relative_to(relative_to))})
    return rows


def snakemake_cmd(workdir: Path, *targets: str) -> list[str]:
    """Snakemake on ``targets`` in ``workdir`` with the project's Snakefile and 2 cores."""
    return [
        str(Path(VENV_BIN) / "snakemake"), *targets, "-s", str(PROJECT / "workflow" / "Snakefile"),
        "-d", str(workdir), "--cores", str(THREADS),
    ]


def rna_class_names(release_only: bool = False) -> list[str]:
    """RNA-class library names of the project's config (``qc.rna_classes``, priority order);
    ``release_only``: those ``quantify_sample`` gets (none if ``quantify.release_to_better_rna_class``
    is false, all if the key is missing)."""
    config = load_config()
    names = [entry["name"] for entry in (config.get("qc") or {}).get("rna_classes") or []]
    if release_only and not (config.get("quantify") or {}).get("release_to_better_rna_class", True):
        return []
    return names

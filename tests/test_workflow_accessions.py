"""The workflow on run accessions served by a local fake ENA (127.0.0.1), up to the count matrix.

Four samples: one single-end run, one paired-end run (read 1 only), one sample made of two runs
(the two halves of a real plasma library, merged like lanes) and the same library as a local
FASTQ. The merged-accession sample must give exactly the counts of the local file.
"""

from __future__ import annotations

import csv
import gzip
import json
import shutil
from pathlib import Path

import pytest
from support import LOCAL_SERVER_TIMEOUT, ROOT, default_config, make_workdir, run_snakemake
from enaserver import ENAServer

READS = ROOT / "tests" / "data" / "reads"


def _conditions(config: dict) -> tuple[str, str]:
    """Two condition levels the default config's first contrast knows (else generic names)."""
    for contrast in config.get("diffexp", {}).get("contrasts", []) or []:
        levels = [contrast.get(key) for key in ("level", "numerator", "treatment") if contrast.get(key)]
        references = [contrast.get(key) for key in ("reference", "denominator", "control") if contrast.get(key)]
        if levels and references:
            return str(levels[0]), str(references[0])
    return "breast_cancer", "control"


def _halves(path: Path) -> tuple[bytes, bytes]:
    """The first and second half of the reads of a FASTQ.gz, each gzipped (mtime 0)."""
    lines = gzip.decompress(path.read_bytes()).splitlines(keepends=True)
    middle = (len(lines) // 8) * 4
    return gzip.compress(b"".join(lines[:middle]), mtime=0), gzip.compress(b"".join(lines[middle:]), mtime=0)


def _column(path: Path, sample: str) -> dict[str, int]:
    with open(path, newline="") as handle:
        return {row["mirna"]: int(row[sample]) for row in csv.DictReader(handle, delimiter="\t")}


def _serve_runs(ena: ENAServer) -> dict[str, bytes]:
    """Register the four runs on the fake ENA; return the bytes served per file role."""
    files = {
        "single": (READS / "RNA014937_S1_R1.fastq.gz").read_bytes(),
        "paired_1": (READS / "RNA014938_S2_R1.fastq.gz").read_bytes(),
        # Read 2 must never be fetched: serve something that would break the analysis if it were.
        "paired_2": gzip.compress(b"@r2\nNNNN\n+\n####\n", mtime=0),
    }
    first_half, second_half = _halves(READS / "RNA014939_S3_R1.fastq.gz")
    ena.add_run("SRR0000011", {"SRR0000011.fastq.gz": files["single"]})
    ena.add_run(
        "ERR0000012",
        {"ERR0000012_1.fastq.gz": files["paired_1"], "ERR0000012_2.fastq.gz": files["paired_2"]},
        layout="PAIRED",
    )
    ena.add_run("DRR0000013", {"DRR0000013.fastq.gz": first_half})
    ena.add_run("DRR0000014", {"DRR0000014.fastq.gz": second_half}, strategy="RNA-Seq", selection="cDNA")
    return files


def _accession_workdir(tmp_path: Path, ena: ENAServer) -> Path:
    """A working directory whose sheet mixes the runs (one merged from two) and a local FASTQ."""
    config = default_config()
    config["download"] = {
        "cache_dir": "cache/ena",
        "ena_api_url": ena.api_url,
        "file_scheme": "http",
        "retries": 2,
        "retry_wait": 0.1,
        "timeout": LOCAL_SERVER_TIMEOUT,
        "file_hosts": ["127.0.0.1"],  # the fake ENA serves its files itself
    }
    config["diffexp"]["design"] = "~ condition"  # this sheet has no batch column
    case, control = _conditions(config)
    sheet = (
        "sample\tcondition\tfastq\n"
        f"acc_single\t{case}\tSRR0000011\n"
        f"acc_paired\t{control}\tERR0000012\n"
        f"acc_merged\t{case}\tDRR0000013;DRR0000014\n"
        f"local_plasma\t{control}\treads/RNA014939_S3_R1.fastq.gz\n"
    )
    workdir = make_workdir(tmp_path / "run", config, sheet)
    (workdir / "reads").mkdir()
    shutil.copy(READS / "RNA014939_S3_R1.fastq.gz", workdir / "reads")
    return workdir


def _check_downloads(ena: ENAServer, workdir: Path, files: dict[str, bytes]) -> None:
    """Each file fetched once and cached as served, read 2 never; accessions.tsv names every run."""
    assert ena.file_requests("SRR0000011") == 1
    assert ena.count("/vol1/fastq/ERR000/ERR0000012/ERR0000012_1") == 1
    assert ena.count("/vol1/fastq/ERR000/ERR0000012/ERR0000012_2") == 0
    assert ena.file_requests("DRR0000013") == 1 and ena.file_requests("DRR0000014") == 1

    cache = workdir / "cache" / "ena"
    assert (cache / "SRR0000011.fastq.gz").read_bytes() == files["single"]
    assert (cache / "ERR0000012.fastq.gz").read_bytes() == files["paired_1"]
    assert json.loads((cache / "ERR0000012.json").read_text())["read_used"] == "1"

    with open(workdir / "results" / "downloads" / "accessions.tsv", newline="") as handle:
        table = list(csv.DictReader(handle, delimiter="\t"))
    assert [(row["sample"], row["accession"]) for row in table] == [
        ("acc_single", "SRR0000011"),
        ("acc_paired", "ERR0000012"),
        ("acc_merged", "DRR0000013"),
        ("acc_merged", "DRR0000014"),
    ]
    assert table[1]["warnings"].startswith("paired-end run: only read 1")
    assert table[3]["warnings"].startswith("library_strategy is 'RNA-Seq'")


def _check_counts(workdir: Path) -> None:
    """One count column per sample; the run merged from two halves counts as the local file."""
    counts = workdir / "results" / "quantify" / "mature_counts.tsv"
    with open(counts) as handle:
        assert handle.readline().rstrip("\n").split("\t") == [
            "mirna",
            "acc_single",
            "acc_paired",
            "acc_merged",
            "local_plasma",
        ]
    merged, local = _column(counts, "acc_merged"), _column(counts, "local_plasma")
    assert sum(local.values()) > 1000
    assert merged == local
    assert sum(_column(counts, "acc_single").values()) > 1000
    assert sum(_column(counts, "acc_paired").values()) > 1000


@pytest.mark.workflow
def test_accessions_end_to_end(tmp_path):
    targets = ("results/quantify/mature_counts.tsv", "results/downloads/accessions.tsv")
    with ENAServer() as ena:
        files = _serve_runs(ena)
        workdir = _accession_workdir(tmp_path, ena)
        run_snakemake(workdir, *targets)
        _check_downloads(ena, workdir, files)
        _check_counts(workdir)

        # Cleaning results/ keeps the cache: nothing is downloaded again.
        shutil.rmtree(workdir / "results")
        dry = run_snakemake(workdir, "-n", *targets)
        assert "download_run" not in dry.stdout + dry.stderr
        assert ena.report_requests() == 4

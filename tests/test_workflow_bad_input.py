"""Bad input through the real workflow: clear early errors naming the problem, the file or sample
and the fix; no partial outputs; data-dependent problems flagged while the run goes on.

Module-level cases (every FASTQ defect, sample-sheet rules, escaping) are in test_fastq_check.py,
test_samplesheet.py and test_report.py; this file checks that the workflow surfaces them.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import pandas as pd
import pytest
import yaml

from support import ROOT, default_config, make_workdir, run_snakemake

pytestmark = pytest.mark.workflow

DEMO = ROOT / "resources" / "demo"


def _sheet(rows: list[dict]) -> str:
    return pd.DataFrame(rows).to_csv(sep="\t", index=False)


def _demo_rows(samples=("BC01", "BC02", "HC01", "HC02")) -> list[dict]:
    sheet = pd.read_csv(DEMO / "samples.tsv", sep="\t", dtype=str).set_index("sample", drop=False)
    return [dict(sheet.loc[s]) for s in samples]


def _startup_error(tmp_path: Path, config: dict | None = None, rows: list[dict] | None = None) -> str:
    """Dry-run the workflow and return its error output (it must fail)."""
    cfg = config or default_config()
    workdir = make_workdir(tmp_path / "w", cfg, samples_tsv=_sheet(rows or _demo_rows()))
    proc = run_snakemake(workdir, "--dry-run", check=False)
    assert proc.returncode != 0, proc.stdout[-2000:]
    assert not (workdir / "results").exists(), "nothing may be written before the input is valid"
    return proc.stdout + proc.stderr


# ----------------------------------------------------------------------------- config


def test_unknown_config_key(tmp_path):
    cfg = default_config()
    cfg["preprocess"]["min_lenght"] = 18
    out = _startup_error(tmp_path, cfg)
    assert "min_lenght" in out and "Additional properties are not allowed" in out


def test_wrong_type_in_config(tmp_path):
    cfg = default_config()
    cfg["preprocess"]["min_length"] = "sixteen"
    out = _startup_error(tmp_path, cfg)
    assert "sixteen" in out and "is not of type 'integer'" in out


def test_unknown_kit(tmp_path):
    cfg = default_config()
    cfg["preprocess"]["kit"] = "truseq_v9"
    out = _startup_error(tmp_path, cfg)
    assert "truseq_v9" in out and "is not one of" in out


def test_species_without_references(tmp_path):
    cfg = default_config()
    cfg["species"] = "rno"
    out = _startup_error(tmp_path, cfg)
    assert "rno" in out and "references" in out


# ----------------------------------------------------------------------------- sample sheet


@pytest.mark.parametrize("bad_id", ["BC 01", "../BC01", "BC01;touch pwned", "$(touch pwned)", "BC01'", "BC|01"])
def test_hostile_sample_id_stopped_before_any_shell(tmp_path, bad_id):
    rows = _demo_rows()
    rows[0]["sample"] = bad_id
    out = _startup_error(tmp_path, rows=rows)
    assert "invalid value" in out and "sample" in out
    assert not (tmp_path / "w" / "pwned").exists()


def test_duplicate_sample_ids(tmp_path):
    rows = _demo_rows()
    rows[1]["sample"] = rows[0]["sample"]
    assert "appears 2 times" in _startup_error(tmp_path, rows=rows)


def test_missing_fastq_named_with_sample(tmp_path):
    rows = _demo_rows()
    rows[2]["fastq"] = "resources/demo/NOPE.fastq.gz"
    out = _startup_error(tmp_path, rows=rows)
    assert "HC01" in out and "NOPE.fastq.gz" in out and "does not exist" in out


def test_contrast_level_with_one_sample(tmp_path):
    rows = _demo_rows(("BC01", "HC01", "HC02"))
    out = _startup_error(tmp_path, rows=rows)
    assert "breast_cancer" in out and "only 1" in out and "Fix" in out


def test_confounded_batch_and_condition(tmp_path):
    rows = _demo_rows(("BC01", "BC02", "HC04", "HC05"))  # batch A = cancer, batch B = control
    out = _startup_error(tmp_path, rows=rows)
    assert "not full rank" in out


def test_design_factor_not_in_sheet(tmp_path):
    cfg = default_config()
    cfg["diffexp"]["design"] = "~ age_group + condition"
    out = _startup_error(tmp_path, cfg)
    assert "age_group" in out and "sample sheet" in out


# ----------------------------------------------------------------------------- FASTQ content


def _truncated_copy(source: Path, dest: Path) -> None:
    data = source.read_bytes()
    dest.write_bytes(data[: len(data) // 2])


@pytest.mark.parametrize("defect", ["truncated_gzip", "html", "bam"])
def test_broken_fastq_fails_clearly_without_partial_output(tmp_path, defect):
    workdir = tmp_path / "w"
    (workdir / "data").mkdir(parents=True)
    bad = workdir / "data" / "BC02.fastq.gz"
    if defect == "truncated_gzip":
        _truncated_copy(DEMO / "BC02.fastq.gz", bad)
    elif defect == "html":
        bad.write_bytes(gzip.compress(b"<!DOCTYPE html><html><body>Not found</body></html>\n", mtime=0))
    else:
        bad.write_bytes(b"BAM\x01" + bytes(200))
    rows = _demo_rows()
    rows[1]["fastq"] = "data/BC02.fastq.gz"
    make_workdir(workdir, default_config(), samples_tsv=_sheet(rows))
    proc = run_snakemake(workdir, "results/preprocess/BC02.collapsed.tsv.gz", check=False)
    assert proc.returncode != 0
    # The first job that reads the file (adapter detection or trimming) reports it.
    log = "".join(p.read_text() for p in sorted((workdir / "logs").glob("*/BC02.log")))
    assert "BC02" in log and "data/BC02.fastq.gz" in log and "Fix:" in log
    leftovers = sorted(p.name for p in (workdir / "results" / "preprocess").glob("BC02*"))
    assert not [n for n in leftovers if "collapsed" in n or "stats" in n], leftovers


# ----------------------------------------------------------------------------- data-dependent


def test_configured_adapter_absent_warns_and_suggests(tmp_path):
    cfg = default_config()
    cfg["preprocess"]["kit"] = "nebnext"
    workdir = make_workdir(tmp_path / "w", cfg, samples_tsv=_sheet(_demo_rows()))
    run_snakemake(workdir, "results/preprocess/BC01.adapter_detection.tsv", "results/preprocess/BC01.stats.tsv")
    detection = (workdir / "results" / "preprocess" / "BC01.adapter_detection.tsv").read_text()
    log = (workdir / "logs" / "trim_and_collapse" / "BC01.log").read_text()
    assert "truseq" in detection
    assert "WARNING" in log and "nebnext" in log and "truseq" in log


def _dimer_only_fastq(path: Path, n: int = 500) -> None:
    adapter = "TGGAATTCTCGGGTGCCAAGGAACTCCAGTCACACAGTGATCTCGTATG"
    records = "".join(f"@dimer.{i}\n{adapter}\n+\n{'I' * len(adapter)}\n" for i in range(n))
    path.write_bytes(gzip.compress(records.encode(), mtime=0))


def test_sample_without_usable_reads_is_flagged_and_run_goes_on(mini_cohort):
    """A library of adapter dimers: zero reads after trimming, QC fail, excluded from DE; run completes.

    Then every sample failing QC stops differential expression with a clear error.
    """
    workdir = mini_cohort("dimer_sample")
    sheet = pd.read_csv(workdir / "config" / "samples.tsv", sep="\t", dtype=str)
    _dimer_only_fastq(workdir / "mini" / "DIMER1.fastq.gz")
    extra = {"sample": "DIMER1", "condition": "control", "batch": "A", "fastq": "mini/DIMER1.fastq.gz",
             "description": "adapter dimers only"}
    sheet = pd.concat([sheet, pd.DataFrame([extra])], ignore_index=True)
    (workdir / "config" / "samples.tsv").write_text(sheet.to_csv(sep="\t", index=False))
    run_snakemake(workdir)
    flags = pd.read_csv(workdir / "results" / "qc" / "sample_flags.tsv", sep="\t", dtype=str).set_index("sample")
    assert flags.loc["DIMER1", "status"] == "fail"
    assert "dimer" in flags.loc["DIMER1", "reasons"]
    used = pd.read_csv(workdir / "results" / "diffexp" / "samples.tsv", sep="\t", dtype=str).set_index("sample")
    assert used.loc["DIMER1", "used"] == "no"
    counts = pd.read_csv(workdir / "results" / "quantify" / "mature_counts.tsv", sep="\t")
    assert counts["DIMER1"].sum() == 0
    assert (workdir / "results" / "report" / "exomir_report.html").exists()

    cfg_path = workdir / "config" / "config.yaml"
    cfg = yaml.safe_load(cfg_path.read_text())
    cfg["qc"]["thresholds"]["mature_mirna_reads_fail"] = 10**9
    cfg_path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    proc = run_snakemake(workdir, check=False)
    assert proc.returncode != 0
    log = (workdir / "logs" / "diffexp_fit" / "diffexp_fit.log").read_text()
    assert "only 0 sample(s) left" in log and "qc.exclude_failed_from_de" in log

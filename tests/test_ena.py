"""exomir.ena: run accessions resolved and downloaded through a local fake ENA (127.0.0.1 only)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from enaserver import ENAServer, fixture_bytes

from exomir import ena
from exomir.errors import ExomirInputError
from support import HANG_TIMEOUT, LOCAL_SERVER_TIMEOUT

SINGLE = fixture_bytes("single.fastq.gz")
PAIRED_1 = fixture_bytes("paired_1.fastq.gz")
PAIRED_2 = fixture_bytes("paired_2.fastq.gz")
SINGLE_MD5 = "97fc980b5624772ded29cf1940b8cb6a"
PAIRED_1_MD5 = "c5d7a88defc3501fb5d42fc9064a7308"


@pytest.fixture
def server():
    with ENAServer() as running:
        running.add_run("SRR0000001", {"SRR0000001.fastq.gz": SINGLE})
        running.add_run(
            "ERR0000002",
            {"ERR0000002_1.fastq.gz": PAIRED_1, "ERR0000002_2.fastq.gz": PAIRED_2},
            layout="PAIRED",
        )
        running.add_run(
            "SRR0000404", {"SRR0000404.fastq.gz": SINGLE}, behaviour={"SRR0000404.fastq.gz": {"status": 404}}
        )
        running.add_run(
            "SRR0000005", {"SRR0000005.fastq.gz": SINGLE}, behaviour={"SRR0000005.fastq.gz": {"truncate_to": 70}}
        )
        running.add_run(
            "DRR0000006",
            {"DRR0000006.fastq.gz": b"<!DOCTYPE html><html><body>Maintenance</body></html>"},
            behaviour={"DRR0000006.fastq.gz": {"content_type": "text/html"}},
        )
        running.add_run(
            "SRR0000007", {"SRR0000007.fastq.gz": SINGLE}, strategy="WGS", source="GENOMIC", selection="RANDOM"
        )
        yield running


def download(server, accession, tmp_path, **kwargs):
    return ena.download_run(
        accession,
        tmp_path / f"{accession}.fastq.gz",
        tmp_path / f"{accession}.json",
        api_url=server.api_url,
        scheme="http",
        backoff=0.01,
        timeout=LOCAL_SERVER_TIMEOUT,
        file_hosts={server.host.split(":")[0]},
        **kwargs,
    )


@pytest.mark.parametrize(
    "entry, expected",
    [
        ("SRR5581502", True),
        ("ERR0000002", True),
        ("DRR012345", True),
        (" SRR12345 ", True),
        ("SRR1234", False),
        ("SRX123", False),
        ("PRJNA385886", False),
        ("GSM2627040", False),
        ("srr5581502", False),
        ("reads/SRR5581502.fastq.gz", False),
        ("SRR", False),
    ],
)
def test_is_run_accession(entry, expected):
    assert ena.is_run_accession(entry) is expected


def test_filereport_url():
    assert ena.filereport_url("SRR1", "https://www.ebi.ac.uk/ena/portal/api/") == (
        "https://www.ebi.ac.uk/ena/portal/api/filereport?accession=SRR1&result=read_run&fields="
        + ",".join(ena.FILEREPORT_FIELDS)
        + "&format=tsv"
    )


def test_single_end_run_is_downloaded_and_described(server, tmp_path):
    metadata = download(server, "SRR0000001", tmp_path)
    assert (tmp_path / "SRR0000001.fastq.gz").read_bytes() == SINGLE
    on_disk = json.loads((tmp_path / "SRR0000001.json").read_text())
    assert on_disk == metadata
    assert metadata["url"] == f"http://{server.host}/vol1/fastq/SRR000/SRR0000001/SRR0000001.fastq.gz"
    assert metadata["md5"] == SINGLE_MD5
    assert metadata["bytes"] == 115
    assert metadata["read_used"] == "single"
    assert metadata["warnings"] == []
    assert metadata["filereport"]["library_strategy"] == "miRNA-Seq"
    assert metadata["filereport"]["study_accession"] == "PRJNA000001"
    assert metadata["filereport_url"] == ena.filereport_url("SRR0000001", server.api_url)
    assert server.report_requests() == 1 and server.file_requests("SRR0000001") == 1


def test_paired_end_run_uses_read_1_with_a_warning(server, tmp_path):
    metadata = download(server, "ERR0000002", tmp_path)
    assert (tmp_path / "ERR0000002.fastq.gz").read_bytes() == PAIRED_1
    assert metadata["md5"] == PAIRED_1_MD5
    assert metadata["read_used"] == "1"
    assert metadata["warnings"] == [
        "paired-end run: only read 1 (ERR0000002_1.fastq.gz) is analysed; "
        "small-RNA inserts are shorter than one read"
    ]
    assert server.count("/vol1/fastq/ERR000/ERR0000002/ERR0000002_1") == 1
    assert server.count("/vol1/fastq/ERR000/ERR0000002/ERR0000002_2") == 0


def test_unknown_run_is_a_clear_error(server, tmp_path):
    with pytest.raises(ExomirInputError) as error:
        download(server, "SRR0000999", tmp_path)
    assert "ENA knows no public run SRR0000999" in str(error.value)
    assert "Fix:" in str(error.value)
    assert not (tmp_path / "SRR0000999.fastq.gz").exists()


def test_missing_file_is_a_clear_error(server, tmp_path):
    with pytest.raises(ExomirInputError) as error:
        download(server, "SRR0000404", tmp_path)
    message = str(error.value)
    assert message.startswith(
        f"http://{server.host}/vol1/fastq/SRR000/SRR0000404/SRR0000404.fastq.gz: "
        "the server says the file does not exist (HTTP 404"
    )
    assert server.file_requests("SRR0000404") == 1
    assert list(tmp_path.iterdir()) == []


def test_truncated_file_is_retried_then_fails(server, tmp_path):
    with pytest.raises(ExomirInputError) as error:
        download(server, "SRR0000005", tmp_path, retries=3)
    message = str(error.value)
    assert f"download failed after 3 attempt(s): MD5 mismatch: expected {SINGLE_MD5}" in message
    assert "(70 bytes received, 115 expected)" in message
    assert server.file_requests("SRR0000005") == 3
    assert list(tmp_path.iterdir()) == []


def test_html_page_instead_of_fastq_is_refused(server, tmp_path):
    with pytest.raises(ExomirInputError, match="HTML page"):
        download(server, "DRR0000006", tmp_path)
    assert server.file_requests("DRR0000006") == 1
    assert list(tmp_path.iterdir()) == []


def test_cached_run_is_reused_without_any_request(server, tmp_path):
    first = download(server, "SRR0000001", tmp_path)
    second = download(server, "SRR0000001", tmp_path)
    assert second == first
    assert server.report_requests() == 1
    assert server.file_requests("SRR0000001") == 1


def test_cached_fastq_without_sidecar_is_verified_against_ena(server, tmp_path):
    download(server, "SRR0000001", tmp_path)
    (tmp_path / "SRR0000001.json").unlink()
    metadata = download(server, "SRR0000001", tmp_path)
    assert metadata["md5"] == SINGLE_MD5
    assert server.report_requests() == 2
    assert server.file_requests("SRR0000001") == 1


def test_outputs_deleted_by_a_rerun_are_restored_from_the_verified_copy(server, tmp_path):
    first = download(server, "SRR0000001", tmp_path)
    # Snakemake deletes the outputs of a job before it reruns it.
    (tmp_path / "SRR0000001.fastq.gz").unlink()
    (tmp_path / "SRR0000001.json").unlink()
    second = download(server, "SRR0000001", tmp_path)
    assert second == first
    assert (tmp_path / "SRR0000001.fastq.gz").read_bytes() == SINGLE
    assert server.report_requests() == 2
    assert server.file_requests("SRR0000001") == 1
    assert sorted(p.name for p in (tmp_path / ".verified").iterdir()) == [
        f"SRR0000001.{SINGLE_MD5}.fastq.gz",
        f"SRR0000001.{SINGLE_MD5}.json",
    ]


def test_new_version_at_ena_replaces_the_verified_copy(server, tmp_path):
    download(server, "SRR0000001", tmp_path)
    (tmp_path / "SRR0000001.json").unlink()
    server.add_run("SRR0000001", {"SRR0000001.fastq.gz": PAIRED_1})
    metadata = download(server, "SRR0000001", tmp_path)
    assert metadata["md5"] == PAIRED_1_MD5
    assert (tmp_path / "SRR0000001.fastq.gz").read_bytes() == PAIRED_1
    assert sorted(p.name for p in (tmp_path / ".verified").iterdir()) == [
        f"SRR0000001.{PAIRED_1_MD5}.fastq.gz",
        f"SRR0000001.{PAIRED_1_MD5}.json",
    ]


def test_corrupted_cache_is_downloaded_again(server, tmp_path):
    download(server, "SRR0000001", tmp_path)
    (tmp_path / "SRR0000001.fastq.gz").write_bytes(b"damaged")
    download(server, "SRR0000001", tmp_path)
    assert (tmp_path / "SRR0000001.fastq.gz").read_bytes() == SINGLE
    assert server.file_requests("SRR0000001") == 2


def test_non_small_rna_library_is_flagged_in_the_metadata(server, tmp_path):
    metadata = download(server, "SRR0000007", tmp_path)
    assert metadata["warnings"] == [
        "library_strategy is 'WGS' (selection 'RANDOM'), not miRNA-Seq/ncRNA-Seq: "
        "check that this run is a small-RNA library",
        "library_source is 'GENOMIC', not TRANSCRIPTOMIC: check that this run is an RNA library",
    ]


@pytest.mark.parametrize(
    "strategy, selection, source, n_warnings",
    [
        ("miRNA-Seq", "size fractionation", "TRANSCRIPTOMIC", 0),
        ("ncRNA-Seq", "RANDOM", "TRANSCRIPTOMIC", 0),
        ("RNA-Seq", "size fractionation", "TRANSCRIPTOMIC", 0),
        ("RNA-Seq", "cDNA", "TRANSCRIPTOMIC", 1),
        ("miRNA-Seq", "size fractionation", "TRANSCRIPTOMIC SINGLE CELL", 1),
        ("", "", "", 2),
    ],
)
def test_library_warnings(strategy, selection, source, n_warnings):
    report = {"library_strategy": strategy, "library_selection": selection, "library_source": source}
    assert len(ena.library_warnings(report)) == n_warnings


def test_choose_fastq_prefixes_the_scheme():
    report = {
        "run_accession": "SRR1",
        "library_layout": "SINGLE",
        "fastq_ftp": "ftp.sra.ebi.ac.uk/vol1/fastq/SRR000/SRR1/SRR1.fastq.gz",
        "fastq_md5": "ABCDEF",
        "fastq_bytes": "12",
    }
    assert ena.choose_fastq(report) == (
        {
            "url": "https://ftp.sra.ebi.ac.uk/vol1/fastq/SRR000/SRR1/SRR1.fastq.gz",
            "md5": "abcdef",
            "bytes": 12,
            "read_used": "single",
        },
        [],
    )


def test_choose_fastq_paired_with_unpaired_reads_file():
    report = {
        "run_accession": "SRR1",
        "library_layout": "PAIRED",
        "fastq_ftp": "h/SRR1.fastq.gz;h/SRR1_1.fastq.gz;h/SRR1_2.fastq.gz",
        "fastq_md5": "a;b;c",
        "fastq_bytes": "1;2;3",
    }
    file, warnings = ena.choose_fastq(report, "https", {"h"})
    assert (file["url"], file["md5"], file["bytes"], file["read_used"]) == ("https://h/SRR1_1.fastq.gz", "b", 2, "1")
    assert len(warnings) == 1


def test_choose_fastq_paired_layout_with_one_file_warns():
    report = {"run_accession": "SRR1", "library_layout": "PAIRED", "fastq_ftp": "h/x.fq.gz", "fastq_md5": "a"}
    file, warnings = ena.choose_fastq(report, file_hosts={"h"})
    assert file["read_used"] == "single" and file["bytes"] is None
    assert warnings == ["library_layout is PAIRED but ENA provides one FASTQ (x.fq.gz); it is analysed as single-end"]


@pytest.mark.parametrize(
    "fastq_ftp, fastq_md5, problem",
    [
        ("", "", "ENA provides no FASTQ file for run SRR1"),
        ("h/a.fq.gz;h/b.fq.gz", "x;y", "cannot tell which of the FASTQ files of run SRR1 is read 1"),
        ("h/SRR1.fastq.gz", "", "lists 1 FASTQ file(s) but 0 MD5(s)"),
    ],
)
def test_choose_fastq_errors(fastq_ftp, fastq_md5, problem):
    report = {"run_accession": "SRR1", "library_layout": "SINGLE", "fastq_ftp": fastq_ftp, "fastq_md5": fastq_md5}
    with pytest.raises(ExomirInputError) as error:
        ena.choose_fastq(report)
    assert problem in str(error.value)


def test_non_run_accession_is_refused_before_any_request(tmp_path):
    with pytest.raises(ExomirInputError, match="'PRJNA385886' is not a run accession"):
        ena.fetch_filereport("PRJNA385886", "http://127.0.0.1:9")


def test_api_error_message_is_passed_on(server):
    with pytest.raises(ExomirInputError) as error:
        ena.fetch_filereport("SRR0000001", server.url + "/wrong/api", retries=1, backoff=0.01)
    assert "the ENA portal API answered HTTP 404 for run SRR0000001" in str(error.value)
    assert "download.ena_api_url" in str(error.value)


def test_header_only_report_means_unknown_run(server):
    server.add_file("/alt/api/filereport", b"run_accession\tfastq_ftp\n", content_type="text/plain")
    with pytest.raises(ExomirInputError, match=r"ENA knows no public run SRR0000001 \(empty file report\)"):
        ena.fetch_filereport("SRR0000001", server.url + "/alt/api", backoff=0.01)


def test_html_answer_of_the_api_is_refused(server):
    server.add_file("/alt/api/filereport", b"<!DOCTYPE html><html>portal</html>", content_type="text/plain")
    with pytest.raises(ExomirInputError, match="HTML page instead of a file report for run SRR0000001"):
        ena.fetch_filereport("SRR0000001", server.url + "/alt/api", backoff=0.01)


def test_api_server_errors_are_retried(server):
    server.add_file("/alt/api/filereport", b"run_accession\nSRR0000001\n", content_type="text/plain", fail_first=1)
    assert ena.fetch_filereport("SRR0000001", server.url + "/alt/api", backoff=0.01) == {"run_accession": "SRR0000001"}
    assert server.count("/alt/api/filereport") == 2


def test_sheet_accessions():
    entries = [("s1", "SRR100001;SRR100002"), ("s2", "reads/s2.fastq.gz"), ("s3", " ERR300003 ; reads/x.fq.gz ")]
    assert ena.sheet_accessions(entries) == [("s1", "SRR100001"), ("s1", "SRR100002"), ("s3", "ERR300003")]


def test_accession_table(server, tmp_path):
    download(server, "SRR0000001", tmp_path)
    download(server, "ERR0000002", tmp_path)
    out = tmp_path / "accessions.tsv"
    ena.write_accession_table(
        ["patient_a", "patient_b"],
        ["SRR0000001", "ERR0000002"],
        [tmp_path / "SRR0000001.json", tmp_path / "ERR0000002.json"],
        out,
    )
    lines = out.read_text().splitlines()
    assert lines[0].split("\t") == list(ena.ACCESSION_TABLE_COLUMNS)
    rows = [dict(zip(ena.ACCESSION_TABLE_COLUMNS, line.split("\t"))) for line in lines[1:]]
    assert [(r["sample"], r["accession"], r["read_used"], r["md5"], r["bytes"]) for r in rows] == [
        ("patient_a", "SRR0000001", "single", SINGLE_MD5, "115"),
        ("patient_b", "ERR0000002", "1", PAIRED_1_MD5, "104"),
    ]
    assert rows[0]["study_accession"] == "PRJNA000001"
    assert rows[0]["library_strategy"] == "miRNA-Seq"
    assert rows[0]["warnings"] == ""
    assert rows[1]["warnings"].startswith("paired-end run: only read 1")


def test_accession_table_refuses_a_mismatched_sidecar(server, tmp_path):
    download(server, "SRR0000001", tmp_path)
    with pytest.raises(ExomirInputError, match="describes run 'SRR0000001', expected SRR0000002"):
        ena.write_accession_table(["a"], ["SRR0000002"], [tmp_path / "SRR0000001.json"], tmp_path / "t.tsv")


STANDALONE_SNAKEFILE = """
import sys
sys.path.insert(0, {scripts!r})
import pandas as pd
from exomir.samplesheet import is_accession, split_fastq_field

SAMPLE_SHEET = pd.read_csv("samples.tsv", sep="\\t", dtype=str).set_index("sample", drop=False)
SAMPLES = list(SAMPLE_SHEET.index)


include: {common!r}
include: {rules!r}


rule all:
    input:
        DOWNLOAD_OUTPUTS,
"""


@pytest.mark.workflow
def test_download_rules_in_snakemake_reuse_the_cache(server, tmp_path):
    """Rules download_run + download_accession_table with a stand-in for common.smk.

    A rerun forced on the download jobs (Snakemake deletes their outputs first) and a run
    after deleting results/ must not fetch any FASTQ again.
    """
    root = Path(__file__).resolve().parents[1]
    (tmp_path / "Snakefile").write_text(
        STANDALONE_SNAKEFILE.format(
            scripts=str(root / "scripts"),
            common=str(root / "workflow" / "rules" / "common_download.smk"),
            rules=str(root / "workflow" / "rules" / "download.smk"),
        )
    )
    (tmp_path / "samples.tsv").write_text(
        "sample\tcondition\tfastq\ns1\tcase\tSRR0000001\ns2\tcontrol\tERR0000002;SRR0000007\ns3\tcontrol\tlocal.fq.gz\n"
    )
    config = {
        "download": {
            "cache_dir": "cache",
            "ena_api_url": server.api_url,
            "file_scheme": "http",
            "retries": 2,
            "retry_wait": 0.01,
            "timeout": LOCAL_SERVER_TIMEOUT,
            "min_kb_per_s": 10,
            "file_hosts": ["127.0.0.1"],  # the fake ENA serves its files itself
        }
    }
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))

    def snakemake(*args):
        cmd = [sys.executable, "-m", "snakemake", "--cores", "2", "--configfile", "config.yaml", *args]
        proc = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=HANG_TIMEOUT)
        assert proc.returncode == 0, proc.stderr[-4000:]

    snakemake()
    table = (tmp_path / "results" / "downloads" / "accessions.tsv").read_text().splitlines()
    assert [line.split("\t")[:2] for line in table] == [
        ["sample", "accession"],
        ["s1", "SRR0000001"],
        ["s2", "ERR0000002"],
        ["s2", "SRR0000007"],
    ]
    assert (tmp_path / "cache" / "ERR0000002.fastq.gz").read_bytes() == PAIRED_1
    files_fetched = server.count("/vol1/")
    assert files_fetched == 3 and server.report_requests() == 3

    snakemake("--forcerun", "download_run")
    assert server.count("/vol1/") == files_fetched
    assert server.report_requests() == 6

    shutil.rmtree(tmp_path / "results")
    snakemake()
    assert server.count("/vol1/") == files_fetched
    assert server.report_requests() == 6
    assert (tmp_path / "results" / "downloads" / "accessions.tsv").read_text().splitlines() == table

"""exomir.download.fetch_verified against a local HTTP server (127.0.0.1 only)."""

from __future__ import annotations

import gzip
import hashlib

import pytest
from enaserver import ENAServer, fixture_bytes

from exomir.download import fetch_verified, file_digests, get_text
from exomir.errors import ExomirInputError
from support import LOCAL_SERVER_TIMEOUT

SINGLE = fixture_bytes("single.fastq.gz")
SINGLE_MD5 = "97fc980b5624772ded29cf1940b8cb6a"
SINGLE_SHA256 = hashlib.sha256(SINGLE).hexdigest()
FAST = {"backoff": 0.01, "timeout": LOCAL_SERVER_TIMEOUT}


@pytest.fixture
def server():
    with ENAServer() as running:
        yield running


def leftovers(directory):
    return sorted(p.name for p in directory.iterdir() if p.name.startswith("."))


def test_fixture_checksum_is_the_committed_one():
    assert hashlib.md5(SINGLE).hexdigest() == SINGLE_MD5
    assert len(SINGLE) == 115


def test_download_verifies_and_records(server, tmp_path):
    url = server.add_file("/data/single.fastq.gz", SINGLE)
    dest = tmp_path / "sub" / "single.fastq.gz"
    record = fetch_verified(url, dest, md5=SINGLE_MD5.upper(), sha256=SINGLE_SHA256, expect="fastq", **FAST)
    assert dest.read_bytes() == SINGLE
    assert {k: record[k] for k in ("url", "bytes", "md5", "sha256", "reused", "attempts")} == {
        "url": url,
        "bytes": 115,
        "md5": SINGLE_MD5,
        "sha256": SINGLE_SHA256,
        "reused": False,
        "attempts": 1,
    }
    assert len(record["date"]) == 20 and record["date"].endswith("Z")
    assert leftovers(dest.parent) == []
    assert server.count("/data/") == 1


def test_verified_file_already_present_is_not_downloaded_again(server, tmp_path):
    url = server.add_file("/data/single.fastq.gz", SINGLE)
    dest = tmp_path / "single.fastq.gz"
    fetch_verified(url, dest, md5=SINGLE_MD5, **FAST)
    record = fetch_verified(url, dest, md5=SINGLE_MD5, **FAST)
    assert record["reused"] is True and record["md5"] == SINGLE_MD5 and record["bytes"] == 115
    assert server.count("/data/") == 1


def test_without_checksum_an_existing_file_is_replaced(server, tmp_path):
    url = server.add_file("/data/single.fastq.gz", SINGLE)
    dest = tmp_path / "single.fastq.gz"
    dest.write_bytes(b"old")
    record = fetch_verified(url, dest, **FAST)
    assert record["reused"] is False and dest.read_bytes() == SINGLE


def test_md5_mismatch_is_retried_then_fails_leaving_nothing(server, tmp_path):
    url = server.add_file("/data/single.fastq.gz", SINGLE, truncate_to=60)
    dest = tmp_path / "single.fastq.gz"
    with pytest.raises(ExomirInputError) as error:
        fetch_verified(url, dest, md5=SINGLE_MD5, retries=3, **FAST)
    message = str(error.value)
    assert url in message
    assert "download failed after 3 attempt(s): MD5 mismatch" in message
    assert "60 bytes received" in message
    assert "Fix:" in message
    assert server.count("/data/") == 3
    assert not dest.exists()
    assert leftovers(tmp_path) == []


def test_failed_download_leaves_an_existing_file_untouched(server, tmp_path):
    url = server.add_file("/data/single.fastq.gz", SINGLE, truncate_to=60)
    dest = tmp_path / "single.fastq.gz"
    dest.write_bytes(b"previous content")
    with pytest.raises(ExomirInputError):
        fetch_verified(url, dest, md5=SINGLE_MD5, retries=2, **FAST)
    assert dest.read_bytes() == b"previous content"


def test_sha256_mismatch_is_an_error(server, tmp_path):
    url = server.add_file("/data/single.fastq.gz", SINGLE)
    with pytest.raises(ExomirInputError, match="SHA-256 mismatch"):
        fetch_verified(url, tmp_path / "x.fastq.gz", sha256="0" * 64, retries=1, **FAST)


def test_server_errors_are_retried_until_success(server, tmp_path):
    url = server.add_file("/data/single.fastq.gz", SINGLE, fail_first=2)
    record = fetch_verified(url, tmp_path / "single.fastq.gz", md5=SINGLE_MD5, retries=3, **FAST)
    assert record["attempts"] == 3
    assert server.count("/data/") == 3


def test_server_errors_beyond_retries_fail(server, tmp_path):
    url = server.add_file("/data/single.fastq.gz", SINGLE, fail_first=5)
    with pytest.raises(ExomirInputError, match=r"after 2 attempt\(s\): HTTP 503"):
        fetch_verified(url, tmp_path / "single.fastq.gz", retries=2, **FAST)
    assert server.count("/data/") == 2


def test_404_fails_at_once_with_a_clear_message(server, tmp_path):
    url = server.url + "/data/missing.fastq.gz"
    with pytest.raises(ExomirInputError) as error:
        fetch_verified(url, tmp_path / "missing.fastq.gz", retries=3, **FAST)
    assert str(error.value).startswith(f"{url}: the server says the file does not exist (HTTP 404")
    assert server.count("/data/") == 1


@pytest.mark.parametrize(
    "body, content_type",
    [
        (b"<html><body>Service down</body></html>", "text/html; charset=utf-8"),
        (b"\n  <!DOCTYPE html>\n<html><body>Please log in</body></html>", "application/octet-stream"),
    ],
)
def test_html_instead_of_data_is_refused(server, tmp_path, body, content_type):
    url = server.add_file("/data/page.fastq.gz", body, content_type=content_type)
    dest = tmp_path / "page.fastq.gz"
    with pytest.raises(ExomirInputError, match="HTML"):
        fetch_verified(url, dest, retries=3, **FAST)
    assert server.count("/data/") == 1
    assert not dest.exists() and leftovers(tmp_path) == []


def test_empty_file_is_refused(server, tmp_path):
    url = server.add_file("/data/empty.txt", b"")
    with pytest.raises(ExomirInputError, match="empty file"):
        fetch_verified(url, tmp_path / "empty.txt", **FAST)
    assert not (tmp_path / "empty.txt").exists()


def test_truncated_gzip_without_checksum_is_detected(server, tmp_path):
    url = server.add_file("/data/single.fastq.gz", SINGLE, truncate_to=80)
    with pytest.raises(ExomirInputError, match="gzip file is incomplete or corrupt"):
        fetch_verified(url, tmp_path / "single.fastq.gz", retries=2, **FAST)
    assert server.count("/data/") == 2
    assert leftovers(tmp_path) == []


def test_expect_fastq_refuses_other_content(server, tmp_path):
    body = gzip.compress(b">not a fastq\nACGT\n", mtime=0)
    url = server.add_file("/data/x.fastq.gz", body)
    with pytest.raises(ExomirInputError, match="not FASTQ"):
        fetch_verified(url, tmp_path / "x.fastq.gz", expect="fastq", **FAST)


def test_expect_gzip_checks_a_file_without_gz_suffix(server, tmp_path):
    url = server.add_file("/data/plain", b"plain text\n")
    with pytest.raises(ExomirInputError, match="gzip"):
        fetch_verified(url, tmp_path / "plain", expect="gzip", retries=1, **FAST)


def test_expect_text_accepts_text_and_refuses_binary(server, tmp_path):
    url = server.add_file("/data/ref.fa", b">a\nACGT\n")
    assert fetch_verified(url, tmp_path / "ref.fa", expect="text", **FAST)["bytes"] == 8
    url = server.add_file("/data/bin.fa", SINGLE)
    with pytest.raises(ExomirInputError, match="not UTF-8 text"):
        fetch_verified(url, tmp_path / "bin.fa", expect="text", **FAST)


def test_expected_size_is_checked(server, tmp_path):
    url = server.add_file("/data/single.fastq.gz", SINGLE)
    with pytest.raises(ExomirInputError, match="size mismatch: 115 bytes received, 116 expected"):
        fetch_verified(url, tmp_path / "single.fastq.gz", expected_bytes=116, retries=1, **FAST)


def test_only_http_urls_are_accepted(tmp_path):
    with pytest.raises(ExomirInputError, match="only http:// and https://"):
        fetch_verified("ftp.sra.ebi.ac.uk/vol1/fastq/x.fastq.gz", tmp_path / "x.fastq.gz")
    with pytest.raises(ValueError, match="expect must be one of"):
        fetch_verified("https://example.org/x", tmp_path / "x", expect="bam")


def test_unreachable_server_is_a_network_error(tmp_path):
    with ENAServer() as stopped:
        url = stopped.url + "/x.gz"
    with pytest.raises(ExomirInputError, match=r"after 2 attempt\(s\): network error"):
        fetch_verified(url, tmp_path / "x.gz", retries=2, **FAST)


def test_file_digests(tmp_path):
    path = tmp_path / "single.fastq.gz"
    path.write_bytes(SINGLE)
    assert file_digests(path) == (SINGLE_MD5, SINGLE_SHA256, 115)


def test_get_text_returns_status_and_body(server):
    server.add_file("/api/hello", b"hello\n", content_type="text/plain")
    assert get_text(server.url + "/api/hello", **FAST) == (200, "hello\n")
    status, body = get_text(server.url + "/api/missing", **FAST)
    assert status == 404 and "Not Found" in body

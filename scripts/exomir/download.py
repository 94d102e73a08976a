"""Verified downloads: nothing unverified or partial ever lands at the destination.

:func:`fetch_verified` streams an HTTP(S) response to a temporary sibling of
the destination, checks it (not empty, not an HTML error page, expected
checksums, complete gzip stream) and only then moves it into place. Network
errors and checksum mismatches are retried with exponential backoff; errors
that retrying cannot fix (404, HTML instead of data) fail at once. Every
failure is an :class:`~exomir.errors.ExomirInputError` naming the URL, the
problem and what to do about it.

Only the standard library is used, so rule scripts can call this inside any
per-rule conda environment.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import gzip
import hashlib
import http.client
import logging
import os
import socket
import ssl
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import zlib
from pathlib import Path
from typing import Any

from exomir.errors import DISK_FULL_ERRNOS, ExomirInputError, disk_full_error

log = logging.getLogger("exomir.download")

#: Values accepted by ``expect``: ``any`` checks only "not empty, not HTML";
#: ``gzip`` also requires a complete gzip stream (implied by a ``.gz`` dest);
#: ``fastq`` requires (possibly gzipped) text whose first line starts with ``@``;
#: ``text`` requires UTF-8 text (e.g. a FASTA or TSV reference).
EXPECT_KINDS = ("any", "gzip", "fastq", "text")

#: HTTP status codes worth retrying: server overload and gateway hiccups.
RETRY_STATUS = {408, 425, 429, 500, 502, 503, 504}

CHUNK_BYTES = 1 << 20
#: A progress line is logged every this many bytes of a long download.
PROGRESS_BYTES = 256 << 20
#: Exceptions that mean "the network or the server failed this time".
_NETWORK_ERRORS = (
    urllib.error.URLError,
    http.client.HTTPException,
    ssl.SSLError,
    socket.timeout,
    TimeoutError,
    ConnectionError,
)
USER_AGENT = "exomir (https://github.com/; small-RNA-seq workflow) python-urllib"


class _RetryableError(Exception):
    """A failure that may go away when the download is tried again."""


def fetch_verified(
    url: str,
    dest: str | os.PathLike,
    *,
    md5: str | None = None,
    sha256: str | None = None,
    retries: int = 3,
    timeout: float = 60,
    expect: str = "any",
    backoff: float = 2.0,
    expected_bytes: int | None = None,
    min_rate: float = 0,
) -> dict[str, Any]:
    """Download ``url`` to ``dest`` and verify it; return a provenance record.

    Args:
        url: ``http://`` or ``https://`` address.
        dest: final path; its parent is created. A ``.gz`` suffix makes the
            gzip stream be checked end to end.
        md5, sha256: expected hex digests (case-insensitive); when given and
            ``dest`` already exists with matching digests, nothing is
            downloaded and the existing file is reported (``reused``: True).
        retries: attempts in total for network errors, retryable HTTP status
            codes, truncated transfers and checksum mismatches (at least 1).
        timeout: seconds without data before a connection attempt is abandoned.
        expect: one of :data:`EXPECT_KINDS`.
        backoff: seconds before the second attempt; doubled for each further one.
        expected_bytes: size announced by the data provider, checked if given;
            the transfer is stopped as soon as it exceeds this size (or the
            server's Content-Length) by more than :func:`size_limit` allows.
        min_rate: minimum average rate in bytes per second, enforced once a
            transfer has run for ``timeout`` seconds (0: no minimum); bounds the
            time a server sending a trickle of bytes can hold a job.

    Returns:
        ``{"url", "requested_url", "bytes", "md5", "sha256", "date", "reused", "attempts"}``;
        ``url`` is where the file came from (after redirects), ``requested_url``
        the address asked for; ``date`` is the UTC time (ISO 8601) the file was
        fetched, or the modification time of a reused file.

    Raises:
        ExomirInputError: the URL is not HTTP(S), the server says the file
            does not exist, the body is HTML or empty, or verification still
            fails after ``retries`` attempts. ``dest`` is then untouched.
    """
    if expect not in EXPECT_KINDS:
        raise ValueError(f"expect must be one of {EXPECT_KINDS}, not {expect!r}")
    _check_scheme(url)
    md5 = md5.lower().strip() if md5 else None
    sha256 = sha256.lower().strip() if sha256 else None
    dest = Path(dest)
    reused = _reuse_existing(url, dest, md5, sha256, expected_bytes)
    if reused is not None:
        return reused
    _remove_stale_parts(dest, timeout)
    plan = _Plan(url, dest, md5, sha256, timeout, expect, expect == "gzip" or dest.name.endswith(".gz"),
                 expected_bytes, float(min_rate))
    return _with_retries(plan, max(1, int(retries)), backoff)


@dataclasses.dataclass(frozen=True)
class _Plan:
    """Everything one download attempt needs."""

    url: str
    dest: Path
    md5: str | None
    sha256: str | None
    timeout: float
    expect: str
    check_gzip: bool
    expected_bytes: int | None
    min_rate: float


def _check_scheme(url: str) -> None:
    """Only http(s) URLs are fetched (no file://, ftp:// or bare paths)."""
    scheme = urllib.parse.urlsplit(url).scheme.lower()
    if scheme not in ("http", "https"):
        raise ExomirInputError(
            f"cannot download {url!r}: only http:// and https:// addresses are supported",
            where=url,
            fix="give a full https:// URL (ENA paths like ftp.sra.ebi.ac.uk/... need 'https://' in front)",
        )


def _with_retries(plan: _Plan, attempts: int, backoff: float) -> dict[str, Any]:
    """Run attempts with exponential backoff until one succeeds or a final error."""
    last_problem = ""
    for attempt in range(1, attempts + 1):
        try:
            record = _attempt(plan)
            record["attempts"] = attempt
            log.info("downloaded %s (%d bytes, md5 %s) to %s", record["url"], record["bytes"], record["md5"], plan.dest)
            return record
        except _RetryableError as exc:
            last_problem = str(exc)
            if attempt < attempts:
                delay = backoff * (2 ** (attempt - 1))
                log.warning(
                    "download attempt %d/%d of %s failed (%s); retrying in %.1f s",
                    attempt,
                    attempts,
                    plan.url,
                    last_problem,
                    delay,
                )
                time.sleep(delay)
    raise ExomirInputError(
        f"download failed after {attempts} attempt(s): {last_problem}",
        where=plan.url,
        fix=(
            "check the network connection and that the server is up, then run the workflow "
            "again (verified files already downloaded are kept); if a checksum keeps failing, "
            "the remote file or its recorded checksum is wrong: report it to the data provider"
        ),
    )


def size_limit(announced: int) -> int:
    """Most bytes accepted for a file announced as ``announced`` bytes: +1 % and 64 KiB.

    The margin only absorbs a provider whose recorded size is slightly stale; a server
    that sends far more (a wrong file, an endless stream) is stopped before it fills the disk.
    """
    return announced + max(64 << 10, announced // 100)


def _remove_stale_parts(dest: Path, timeout: float) -> None:
    """Delete hidden ``.part`` files of ``dest`` left by a killed download.

    Only files untouched for longer than ``timeout`` (the longest a live transfer
    waits for data) are removed, so a download running at the same time is spared.
    """
    if not dest.parent.is_dir():
        return
    cutoff = time.time() - max(float(timeout), 1.0)
    for part in dest.parent.glob(f".{dest.name}.*.part"):
        try:
            if part.stat().st_mtime < cutoff:
                part.unlink()
                log.info("removed %s, left by an interrupted download", part)
        except FileNotFoundError:
            pass


def file_digests(path: str | os.PathLike) -> tuple[str, str, int]:
    """Return ``(md5, sha256, size in bytes)`` of a file, read in chunks."""
    h_md5, h_sha = hashlib.md5(), hashlib.sha256()
    size = 0
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(CHUNK_BYTES), b""):
            h_md5.update(chunk)
            h_sha.update(chunk)
            size += len(chunk)
    return h_md5.hexdigest(), h_sha.hexdigest(), size


def utc_now() -> str:
    """Current UTC time as ``YYYY-MM-DDTHH:MM:SSZ``."""
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _reuse_existing(
    url: str, dest: Path, md5: str | None, sha256: str | None, expected_bytes: int | None
) -> dict[str, Any] | None:
    """Report ``dest`` as the download if it exists and matches the checksums given."""
    if not dest.is_file() or (md5 is None and sha256 is None):
        return None
    got_md5, got_sha, size = file_digests(dest)
    if (md5 and got_md5 != md5) or (sha256 and got_sha != sha256):
        return None
    if expected_bytes is not None and size != expected_bytes:
        return None
    mtime = _dt.datetime.fromtimestamp(dest.stat().st_mtime, _dt.timezone.utc)
    log.info("%s already present and verified (md5 %s); not downloading %s", dest, got_md5, url)
    return {
        "url": url,
        "requested_url": url,
        "bytes": size,
        "md5": got_md5,
        "sha256": got_sha,
        "date": mtime.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "reused": True,
        "attempts": 0,
    }


def _attempt(plan: _Plan) -> dict[str, Any]:
    """One download attempt into a temporary sibling of ``plan.dest``."""
    dest = plan.dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            size, got_md5, got_sha, final_url = _stream(plan, out)
        _verify(plan, size, got_md5, got_sha)
        _check_content(plan.url, tmp, plan.expect, plan.check_gzip)
        # mkstemp creates 0600 files: give the download the usual permissions.
        os.chmod(tmp, 0o666 & ~_current_umask())
        os.replace(tmp, dest)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        if exc.errno in DISK_FULL_ERRNOS:
            raise disk_full_error(exc, dest) from None
        raise
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    if final_url != plan.url:
        log.info("%s was redirected to %s", plan.url, final_url)
    return {
        "url": final_url,
        "requested_url": plan.url,
        "bytes": size,
        "md5": got_md5,
        "sha256": got_sha,
        "date": utc_now(),
        "reused": False,
    }


def _verify(plan: _Plan, size: int, got_md5: str, got_sha: str) -> None:
    """Non-empty, and the checksums and size the provider announced."""
    if size == 0:
        raise ExomirInputError(
            "the server sent an empty file",
            where=plan.url,
            fix="check that the URL points to the data file itself; try again later if the provider is updating it",
        )
    expected = plan.expected_bytes
    received = f"{size} bytes received" + (f", {expected} expected" if expected is not None else "")
    if plan.md5 and got_md5 != plan.md5:
        raise _RetryableError(f"MD5 mismatch: expected {plan.md5}, got {got_md5} ({received})")
    if plan.sha256 and got_sha != plan.sha256:
        raise _RetryableError(f"SHA-256 mismatch: expected {plan.sha256}, got {got_sha} ({received})")
    if expected is not None and size != expected:
        raise _RetryableError(f"size mismatch: {received}")


def _stream(plan: _Plan, out) -> tuple[int, str, str, str]:
    """GET ``plan.url`` into ``out``; return (size, md5, sha256, final URL). Refuses HTML."""
    request = urllib.request.Request(plan.url, headers={"User-Agent": USER_AGENT})
    try:
        with urllib.request.urlopen(request, timeout=plan.timeout) as response:
            content_type = (response.headers.get("Content-Type") or "").lower()
            if content_type.startswith("text/html"):
                raise _html_error(plan.url, f"the server answered with an HTML page (Content-Type {content_type})")
            header = response.headers.get("Content-Length")
            announced = int(header) if header and header.isdigit() else None
            size, got_md5, got_sha = _copy_body(plan, response, out, announced)
            if announced is not None and announced != size:
                raise _RetryableError(f"transfer cut short: {size} of {announced} bytes received")
            return size, got_md5, got_sha, response.geturl()
    except urllib.error.HTTPError as exc:
        raise _http_error(plan.url, exc) from exc
    except _NETWORK_ERRORS as exc:
        reason = getattr(exc, "reason", exc)
        raise _RetryableError(f"network error: {reason}") from exc


def _copy_body(plan: _Plan, response, out, announced: int | None) -> tuple[int, str, str]:
    """Copy the body to ``out``, hashing it, within the size limit and the minimum rate.

    ``read1`` returns what has arrived, so the limits are checked between small reads
    rather than after a 1 MiB read that a trickling server could stretch for days.
    """
    sizes = [n for n in (plan.expected_bytes, announced) if n is not None]
    limit = size_limit(min(sizes)) if sizes else None
    h_md5, h_sha = hashlib.md5(), hashlib.sha256()
    size, started = 0, time.monotonic()
    while chunk := response.read1(CHUNK_BYTES):
        if size == 0:
            head = chunk[:512].lstrip().lower()
            if head.startswith(b"<!doctype") or head.startswith(b"<html"):
                raise _html_error(plan.url, "the server sent an HTML page instead of the data file")
        size += len(chunk)
        if limit is not None and size > limit:
            raise ExomirInputError(
                f"the server sent more than the announced {min(sizes)} bytes (stopped at {size} bytes)",
                where=plan.url,
                fix="the remote file is not the one the provider describes: report it to the provider; nothing was kept",
            )
        out.write(chunk)
        h_md5.update(chunk)
        h_sha.update(chunk)
        _check_rate(plan, size, time.monotonic() - started)
        if size // PROGRESS_BYTES != (size - len(chunk)) // PROGRESS_BYTES:
            log.info("%s: %d MB of %s received", plan.url, size >> 20, f"{announced >> 20} MB" if announced else "?")
    return size, h_md5.hexdigest(), h_sha.hexdigest()


def _check_rate(plan: _Plan, size: int, elapsed: float) -> None:
    """Abandon a transfer slower than ``plan.min_rate`` once it has run ``plan.timeout`` seconds."""
    if plan.min_rate > 0 and elapsed > plan.timeout and size / elapsed < plan.min_rate:
        raise _RetryableError(
            f"transfer too slow: {size} bytes in {elapsed:.0f} s ({size / elapsed:.0f} B/s, "
            f"download.min_rate is {plan.min_rate:.0f} B/s)"
        )


def _http_error(url: str, exc: urllib.error.HTTPError) -> Exception:
    """Map an HTTP error status to a retryable or a final error."""
    if exc.code in RETRY_STATUS:
        return _RetryableError(f"HTTP {exc.code} {exc.reason}")
    if exc.code in (404, 410):
        return ExomirInputError(
            f"the server says the file does not exist (HTTP {exc.code} {exc.reason})",
            where=url,
            fix="check the accession or URL; the provider may have moved or withdrawn the file",
        )
    return ExomirInputError(
        f"the server refused the download (HTTP {exc.code} {exc.reason})",
        where=url,
        fix="check the URL and any access restrictions (controlled-access data cannot be fetched this way)",
    )


def _current_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def get_text(url: str, *, retries: int = 3, timeout: float = 60, backoff: float = 2.0) -> tuple[int, str]:
    """GET a small text document (an API answer); return ``(HTTP status, body)``.

    Network errors and retryable status codes (:data:`RETRY_STATUS`) are
    retried with exponential backoff; other HTTP errors are returned with
    their body (APIs explain bad requests there) so the caller can word the
    error for the user.
    """
    attempts = max(1, int(retries))
    problem = ""
    for attempt in range(1, attempts + 1):
        request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status, response.read().decode("utf-8", errors="replace")
        except urllib.error.HTTPError as exc:
            if exc.code not in RETRY_STATUS:
                body = exc.read().decode("utf-8", errors="replace") if exc.fp else ""
                return exc.code, body
            problem = f"HTTP {exc.code} {exc.reason}"
        except _NETWORK_ERRORS as exc:
            problem = f"network error: {getattr(exc, 'reason', exc)}"
        if attempt < attempts:
            delay = backoff * (2 ** (attempt - 1))
            log.warning("request %d/%d to %s failed (%s); retrying in %.1f s", attempt, attempts, url, problem, delay)
            time.sleep(delay)
    raise ExomirInputError(
        f"no answer after {attempts} attempt(s): {problem}",
        where=url,
        fix="check the network connection (a proxy may need https_proxy set) and that the service is up, then run again",
    )


def _html_error(url: str, problem: str) -> ExomirInputError:
    return ExomirInputError(
        problem + " (usually an error, login or maintenance page)",
        where=url,
        fix="open the URL in a browser to see the message; use the direct file URL",
    )


def _check_content(url: str, path: Path, expect: str, check_gzip: bool) -> None:
    """Check gzip integrity and the expected kind of content of a downloaded file."""
    if check_gzip:
        try:
            with gzip.open(path, "rb") as handle:
                first = handle.read(CHUNK_BYTES)
                while handle.read(CHUNK_BYTES):
                    pass
        except (OSError, EOFError, zlib.error) as exc:
            # A truncated or corrupt gzip without a checksum to compare is most
            # likely a cut transfer: worth another attempt.
            raise _RetryableError(f"the gzip file is incomplete or corrupt ({exc})") from exc
    else:
        with open(path, "rb") as handle:
            first = handle.read(CHUNK_BYTES)
    if expect == "fastq" and not first.lstrip().startswith(b"@"):
        raise ExomirInputError(
            "the downloaded file is not FASTQ (its first line does not start with '@')",
            where=url,
            fix="check that the URL points to a FASTQ(.gz) file",
        )
    if expect == "text":
        try:
            first.decode("utf-8")
        except UnicodeDecodeError as exc:
            # A chunk boundary may split a multi-byte character: tolerate the last 3 bytes.
            if exc.start < len(first) - 3:
                raise ExomirInputError(
                    "the downloaded file is not UTF-8 text",
                    where=url,
                    fix="check that the URL points to an uncompressed text file, or name the destination '.gz'",
                ) from exc

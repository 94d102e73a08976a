"""Early checks of raw FASTQ input, run before any preprocessing output is written.

The checks read the start of each file (``n_records`` records, 10,000 by
default), so they cost well under a second per sample. Problems that only
show up later in a large file (a gzip file truncated at the end, a broken
record deep inside) are caught when cutadapt fails on them; ``explain_cutadapt_error``
turns cutadapt's message into the same kind of user error.

Policies (documented in config/README.md):

* Windows line endings (CRLF) are accepted: cutadapt removes the ``\\r`` and the
  check treats ``\\r\\n`` like ``\\n``. A warning is logged.
* Quality scores must be Phred+33. Files whose quality characters are all
  >= ``;`` (ASCII 59) and reach above ``K`` (ASCII 75) are Phred+64 (Illumina
  1.3-1.7 / Solexa) and are refused with a conversion command.
* Small RNA libraries are sequenced single-end; read 2 of a paired run holds the
  reverse complement of the insert and must not be merged with read 1. A file
  whose name marks it as read 2 (``_R2_``, ``_R2.``) or whose first header says
  read 2 (Casava 1.8 comment ``2:N:0:...``) is refused, whether or not an R1 file
  is listed too: exomir never drops a file the user listed.
"""

from __future__ import annotations

import bz2
import dataclasses
import gzip
import logging
import lzma
import os
import re
import zlib
from pathlib import Path
from typing import IO, Sequence

from exomir.errors import ExomirInputError

LOG = logging.getLogger("exomir.fastq_check")

GZIP_MAGIC = b"\x1f\x8b"
BZ2_MAGIC = b"BZh"
XZ_MAGIC = b"\xfd7zXZ\x00"
BAM_MAGIC = b"BAM\x01"

#: File-name marks of read 2 of a paired-end run.
R2_NAME = re.compile(r"(^|[._-])R2([._-]|$)")
#: Casava 1.8+ header comment of read 2: "2:N:0:ACGT" / "2:Y:..."
R2_COMMENT = re.compile(r"^2:[YN]:")


@dataclasses.dataclass
class FastqSummary:
    """What the check saw at the start of one file."""

    path: str
    records_checked: int
    crlf: bool
    min_quality_char: str
    max_quality_char: str


def _open_binary(path: str, head: bytes) -> IO[bytes]:
    if head.startswith(GZIP_MAGIC):
        return gzip.open(path, "rb")
    if head.startswith(BZ2_MAGIC):
        return bz2.open(path, "rb")
    if head.startswith(XZ_MAGIC):
        return lzma.open(path, "rb")
    return open(path, "rb")


def _error(problem: str, path: str, sample: str, fix: str) -> ExomirInputError:
    return ExomirInputError(problem, where=f"sample {sample}, file {path}", fix=fix)


def _not_fastq(first: bytes, path: str, sample: str) -> ExomirInputError:
    stripped = first.lstrip()
    lowered = stripped[:200].lower()
    if stripped.startswith(BAM_MAGIC):
        what = "a BAM file"
        fix = "convert it to FASTQ first (samtools fastq FILE.bam | gzip > FILE.fastq.gz)"
    elif lowered.startswith((b"<!doctype", b"<html", b"<?xml", b"<head")):
        what = "an HTML/XML page (probably a failed download)"
        fix = "download the FASTQ again and check it starts with '@'"
    elif stripped.startswith(b">"):
        what = "FASTA (starts with '>'), not FASTQ"
        fix = "give the raw FASTQ file with quality scores"
    else:
        what = "not FASTQ (the first record does not start with '@')"
        fix = "give raw single-end FASTQ files (.fastq or .fastq.gz)"
    return _error(f"file is {what}", path, sample, fix)


def check_fastq(path: str | os.PathLike, sample: str, n_records: int = 10000) -> FastqSummary:
    """Check the first ``n_records`` records of one FASTQ file; raise ``ExomirInputError``."""
    path = str(path)
    _check_file(path, sample)
    head = _check_compression(path, sample)
    try:
        with _open_binary(path, head) as handle:
            scan = _scan_records(handle, path, sample, n_records)
    except (EOFError, zlib.error, gzip.BadGzipFile, OSError, lzma.LZMAError) as exc:
        if isinstance(exc, ExomirInputError):
            raise
        raise _error(
            f"compressed file is truncated or corrupt ({exc})",
            path,
            sample,
            "re-copy or re-download the file and check it with 'gzip -t'",
        ) from None
    if scan.records == 0:
        raise _error("file contains no reads", path, sample, "re-copy or re-download the file")
    _check_encoding(scan, path, sample)
    if scan.crlf:
        LOG.warning("sample %s, file %s: Windows line endings (CRLF); accepted, \\r is ignored", sample, path)
    low, high = (chr(scan.min_q), chr(scan.max_q)) if scan.records else ("", "")
    return FastqSummary(path, scan.records, scan.crlf, low, high)


@dataclasses.dataclass
class _Scan:
    """Running totals of :func:`_scan_records`."""

    records: int = 0
    crlf: bool = False
    min_q: int = 255
    max_q: int = 0


def _check_file(path: str, sample: str) -> None:
    """The path exists, is a readable non-empty file and is not named as read 2."""
    if not os.path.exists(path):
        raise _error(
            "file does not exist",
            path,
            sample,
            "correct the fastq column of the sample sheet (paths are relative to the working directory)",
        )
    if os.path.isdir(path):
        raise _error("path is a directory, not a FASTQ file", path, sample, "list the FASTQ files themselves")
    if not os.access(path, os.R_OK):
        raise _error("file is not readable (permission denied)", path, sample, "fix the file permissions")
    if os.path.getsize(path) == 0:
        raise _error("file is empty (0 bytes)", path, sample, "re-copy or re-download the file")
    if R2_NAME.search(Path(path).name):
        raise _error(
            "file name marks it as read 2 of a paired-end run",
            path,
            sample,
            "small RNA inserts are read from read 1 only: list only the R1 file(s) of this sample",
        )


def _check_compression(path: str, sample: str) -> bytes:
    """Return the first bytes; refuse bzip2/xz and '.gz' files that are not gzip."""
    with open(path, "rb") as raw:
        head = raw.read(8)
    if head.startswith((BZ2_MAGIC, XZ_MAGIC)):
        raise _error(
            "file is bzip2/xz-compressed; exomir reads plain or gzip-compressed FASTQ",
            path,
            sample,
            "recompress it with gzip (e.g. 'bzcat FILE.bz2 | gzip > FILE.gz')",
        )
    # A plain FASTQ misnamed .gz is still read (by content); anything else named .gz is
    # reported as "not gzip", the real problem, rather than "does not start with '@'".
    if path.endswith(".gz") and not head.startswith(GZIP_MAGIC) and not head.lstrip().startswith(b"@"):
        raise _error(
            f"file name ends in .gz but the file is not gzip (it starts with bytes {head[:4].hex()}, "
            "gzip starts with 1f8b)",
            path,
            sample,
            "the file is corrupt or mislabelled: re-copy or re-download it and check it with 'gzip -t'",
        )
    return head


def _scan_records(handle: IO[bytes], path: str, sample: str, n_records: int) -> _Scan:
    """Read up to ``n_records`` four-line records, checking each one."""
    first = handle.read(512)
    if not first:
        raise _error("file contains no reads (empty after decompression)", path, sample, "re-copy or re-download the file")
    if not first.startswith(b"@"):
        raise _not_fastq(first, path, sample)
    lines = _lines(first, handle)
    scan = _Scan()
    while scan.records < n_records:
        header = next(lines, None)
        if header is None:
            break
        seq, plus, qual = next(lines, None), next(lines, None), next(lines, None)
        scan.crlf = scan.crlf or header.endswith(b"\r")
        record = [None if x is None else x.rstrip(b"\r") for x in (header, seq, plus, qual)]
        _check_record(record, scan.records, path, sample)
        qual = record[3]
        if qual:
            scan.min_q = min(scan.min_q, min(qual))
            scan.max_q = max(scan.max_q, max(qual))
        scan.records += 1
    return scan


def _check_record(record: list[bytes | None], index: int, path: str, sample: str) -> None:
    """One record (header, sequence, '+', qualities; index from 0) is well formed."""
    header, seq, plus, qual = record
    where = f"record {index + 1} (line {4 * index + 1})"
    if not header.startswith(b"@"):
        raise _error(
            f"malformed FASTQ: {where} does not start with '@'",
            path,
            sample,
            "the file is corrupted or not FASTQ; re-create it from the source",
        )
    if qual is None or plus is None or seq is None:
        raise _error(
            f"malformed FASTQ: {where} is incomplete (the file ends inside a record)",
            path,
            sample,
            "the file is truncated; re-copy or re-download it",
        )
    if not plus.startswith(b"+"):
        raise _error(
            f"malformed FASTQ: {where} has no '+' separator line",
            path,
            sample,
            "each record must have 4 lines (@name, sequence, +, qualities); multi-line FASTQ is not supported",
        )
    if len(seq) != len(qual):
        raise _error(
            f"malformed FASTQ: {where} has {len(seq)} bases but {len(qual)} quality scores",
            path,
            sample,
            "the file is corrupted; re-create it from the source",
        )
    if index == 0:
        fields = header.split(maxsplit=1)
        if len(fields) == 2 and R2_COMMENT.match(fields[1].decode(errors="replace")):
            raise _error(
                "reads are read 2 of a paired-end run (header comment '2:N:0:...')",
                path,
                sample,
                "small RNA inserts are read from read 1 only: list the R1 file instead",
            )


def _check_encoding(scan: _Scan, path: str, sample: str) -> None:
    """Refuse Phred+64 qualities (all >= ';' and some above 'K')."""
    if scan.min_q >= ord(";") and scan.max_q > ord("K"):
        raise _error(
            f"quality scores look like Phred+64 (characters {chr(scan.min_q)!r}..{chr(scan.max_q)!r}; "
            "exomir needs Phred+33, as written by Illumina 1.8 and later)",
            path,
            sample,
            "convert the file, e.g. 'seqtk seq -Q64 -V in.fastq.gz | gzip > out.fastq.gz'",
        )


def _lines(first: bytes, handle: IO[bytes]):
    """Yield the lines (without ``\\n``) of ``first`` + the rest of ``handle``."""
    buffer = first
    while True:
        chunk = handle.read(1 << 16)
        buffer += chunk
        parts = buffer.split(b"\n")
        buffer = parts.pop()
        yield from parts
        if not chunk:
            if buffer:
                yield buffer
            return


def check_sample_fastqs(
    fastqs: Sequence[str | os.PathLike], sample: str, n_records: int = 10000
) -> list[FastqSummary]:
    """Check every file of one sample (lanes to be merged)."""
    if not fastqs:
        raise ExomirInputError(
            "no FASTQ file given", where=f"sample {sample}", fix="fill the fastq column of the sample sheet"
        )
    return [check_fastq(path, sample, n_records) for path in fastqs]


def explain_cutadapt_error(stderr: str, fastqs: Sequence[str], sample: str) -> ExomirInputError | None:
    """Turn a cutadapt failure caused by the input into an ``ExomirInputError`` (else None)."""
    files = ", ".join(str(f) for f in fastqs)
    where = f"sample {sample}, file(s) {files}"
    if "Compressed file ended before the end-of-stream marker" in stderr or "EOFError" in stderr:
        return ExomirInputError(
            "a compressed FASTQ file is truncated (cutadapt reached its end without the gzip end marker)",
            where=where,
            fix="re-copy or re-download the file; 'gzip -t FILE' shows which file is broken",
        )
    match = re.search(r"Error in FASTQ file at line (\d+): ([^\n]+)", stderr)
    if match:
        return ExomirInputError(
            f"malformed FASTQ record at line {match.group(1)} (of the merged input): {match.group(2)}",
            where=where,
            fix="the file is corrupted; re-create it from the source",
        )
    for marker in ("FormatError", "Invalid", "BadGzipFile", "not a gzipped file", "zlib"):
        if marker in stderr:
            last = stderr.strip().splitlines()[-1] if stderr.strip() else marker
            return ExomirInputError(
                f"cutadapt could not read the input: {last}",
                where=where,
                fix="check the file with 'gzip -t' and that it is FASTQ",
            )
    return None

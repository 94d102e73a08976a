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
    with open(path, "rb") as raw:
        head = raw.read(8)
    if head.startswith((BZ2_MAGIC, XZ_MAGIC)):
        raise _error(
            "file is bzip2/xz-compressed; exomir reads plain or gzip-compressed FASTQ",
            path,
            sample,
            "recompress it with gzip (e.g. 'bzcat FILE.bz2 | gzip > FILE.gz')",
        )
    records = 0
    crlf = False
    min_q, max_q = 255, 0
    try:
        with _open_binary(path, head) as handle:
            first = handle.read(512)
            if not first:
                raise _error(
                    "file contains no reads (empty after decompression)",
                    path,
                    sample,
                    "re-copy or re-download the file",
                )
            if not first.startswith(b"@"):
                raise _not_fastq(first, path, sample)
            lines = _lines(first, handle)
            line_no = 0
            while records < n_records:
                header = next(lines, None)
                if header is None:
                    break
                seq, plus, qual = next(lines, None), next(lines, None), next(lines, None)
                line_no += 4
                if header.endswith(b"\r"):
                    crlf = True
                header, seq, plus, qual = (
                    None if x is None else x.rstrip(b"\r") for x in (header, seq, plus, qual)
                )
                where = f"record {records + 1} (line {line_no - 3})"
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
                        "each record must have 4 lines (@name, sequence, +, qualities); "
                        "multi-line FASTQ is not supported",
                    )
                if len(seq) != len(qual):
                    raise _error(
                        f"malformed FASTQ: {where} has {len(seq)} bases but {len(qual)} quality scores",
                        path,
                        sample,
                        "the file is corrupted; re-create it from the source",
                    )
                if records == 0:
                    fields = header.split(maxsplit=1)
                    if len(fields) == 2 and R2_COMMENT.match(fields[1].decode(errors="replace")):
                        raise _error(
                            "reads are read 2 of a paired-end run (header comment '2:N:0:...')",
                            path,
                            sample,
                            "small RNA inserts are read from read 1 only: list the R1 file instead",
                        )
                if qual:
                    min_q = min(min_q, min(qual))
                    max_q = max(max_q, max(qual))
                records += 1
    except (EOFError, zlib.error, gzip.BadGzipFile, OSError, lzma.LZMAError) as exc:
        if isinstance(exc, ExomirInputError):
            raise
        raise _error(
            f"compressed file is truncated or corrupt ({exc})",
            path,
            sample,
            "re-copy or re-download the file and check it with 'gzip -t'",
        ) from None
    if records == 0:
        raise _error("file contains no reads", path, sample, "re-copy or re-download the file")
    if min_q >= ord(";") and max_q > ord("K"):
        raise _error(
            f"quality scores look like Phred+64 (characters {chr(min_q)!r}..{chr(max_q)!r}; "
            "exomir needs Phred+33, as written by Illumina 1.8 and later)",
            path,
            sample,
            "convert the file, e.g. 'seqtk seq -Q64 -V in.fastq.gz | gzip > out.fastq.gz'",
        )
    if crlf:
        LOG.warning("sample %s, file %s: Windows line endings (CRLF); accepted, \\r is ignored", sample, path)
    return FastqSummary(path, records, crlf, chr(min_q) if records else "", chr(max_q) if records else "")


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

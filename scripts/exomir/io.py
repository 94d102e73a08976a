"""Atomic, deterministic file output shared by every stage.

Every file a user reads is written to a temporary sibling and moved into
place, so an interrupted job never leaves a half-written table behind.
Tables are tab-separated, have a header and a stable row order. FASTA inputs
(RNA-class libraries, spike-ins) are read here too, with one validation for all.
"""

from __future__ import annotations

import contextlib
import gzip
import os
import tempfile
from pathlib import Path
from typing import IO, TYPE_CHECKING, Iterator

from exomir.errors import ExomirInputError

if TYPE_CHECKING:  # pandas is imported where a table is read: jobs without tables start faster
    import pandas as pd

#: Float format of every numeric table: enough digits to be exact for counts
#: and stable across platforms for statistics.
FLOAT_FORMAT = "%.6g"


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; move it into place on success.

    On any exception the temporary file is removed and ``path`` is untouched.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    # mkstemp creates 0600; give the final file the usual permissions (0666 minus umask).
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp_path, 0o666 & ~umask)
    try:
        yield tmp_path
        os.replace(tmp_path, target)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike, mode: str = "wt", compresslevel: int = 6) -> Iterator[IO]:
    """Open ``path`` for writing atomically; ``.gz`` paths are gzip-compressed.

    Gzip output carries no file name or timestamp (``mtime=0``), so the same
    content always gives the same bytes (for a given ``compresslevel``, 1-9;
    large intermediates use 1: a tenth of the CPU of 6, slightly larger files).
    """
    with atomic_path(path) as tmp:
        if str(path).endswith(".gz"):
            raw = open(tmp, "wb")
            try:
                gz = gzip.GzipFile(
                    filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=compresslevel
                )
                handle = gz if "b" in mode else _text(gz)
                try:
                    yield handle
                finally:
                    handle.close()
            finally:
                raw.close()
        else:
            with open(tmp, mode if "w" in mode else "w" + mode) as handle:
                yield handle


def _text(binary: IO[bytes]) -> IO[str]:
    import io

    return io.TextIOWrapper(binary, encoding="utf-8", newline="\n")


def open_text(path: str | os.PathLike) -> IO[str]:
    """Open a plain or gzip-compressed text file for reading."""
    path = str(path)
    if path.endswith(".gz"):
        return gzip.open(path, "rt", encoding="utf-8", newline="")
    return open(path, "rt", encoding="utf-8", newline="")


def write_tsv(df: pd.DataFrame, path: str | os.PathLike, index: bool = False) -> None:
    """Write ``df`` as a tab-separated table atomically with a fixed float format."""
    with atomic_open(path, "wt") as handle:
        df.to_csv(handle, sep="\t", index=index, float_format=FLOAT_FORMAT, lineterminator="\n")


#: Columns that hold sample IDs: always read as written (``0123`` stays ``0123``, ``NA`` stays ``NA``).
SAMPLE_ID_COLUMNS = ("sample",)


def read_tsv(path: str | os.PathLike, **kwargs) -> pd.DataFrame:
    """Read a tab-separated table written by :func:`write_tsv`.

    Sample-ID columns (:data:`SAMPLE_ID_COLUMNS`) are read as the literal text
    whatever ``dtype`` says: a per-sample table read back with type guessing
    turned sample ``0123`` into 123 (issue 15.2).
    """
    import pandas as pd

    dtype = kwargs.get("dtype")
    if dtype is not str:
        if isinstance(dtype, dict):
            kwargs["dtype"] = {k: v for k, v in dtype.items() if k not in SAMPLE_ID_COLUMNS}
        converters = dict(kwargs.get("converters") or {})
        converters.update({column: str for column in SAMPLE_ID_COLUMNS if column not in converters})
        kwargs["converters"] = converters
    return pd.read_csv(path, sep="\t", **kwargs)


#: IUPAC codes other than ACGT; reference FASTA readers turn them into N.
IUPAC_AMBIGUOUS = set("RYKMSWBDHVN")


def iter_fasta_records(
    path: str | os.PathLike, fix: str = "provide a FASTA file."
) -> Iterator[tuple[list[str], str]]:
    """Yield (words of the header, sequence) from a plain or gzipped FASTA file.

    The one FASTA parser of the package: blank lines are skipped, sequence lines
    are stripped and joined. ``fix`` is the advice given when the file is not FASTA.
    """
    words: list[str] | None = None
    chunks: list[str] = []
    with open_text(path) as handle:
        for line_no, raw in enumerate(handle, start=1):
            line = raw.strip()
            if not line:
                continue
            if line.startswith(">"):
                if words is not None:
                    yield words, "".join(chunks)
                words, chunks = line[1:].split(), []
                if not words:
                    raise ExomirInputError(
                        f"empty FASTA header on line {line_no}",
                        where=str(path),
                        fix="give every sequence a name.",
                    )
            elif words is None:
                raise ExomirInputError(
                    "not a FASTA file (its first line does not start with '>')",
                    where=str(path),
                    fix=fix,
                )
            else:
                chunks.append(line)
    if words is not None:
        yield words, "".join(chunks)


def iter_fasta(path: str | os.PathLike) -> Iterator[tuple[str, str]]:
    """Yield (first word of the header, sequence) from a plain or gzipped FASTA file."""
    for words, sequence in iter_fasta_records(path):
        yield words[0], sequence


def read_reference_fasta(path: str | os.PathLike, what: str) -> list[tuple[str, str]]:
    """Read a reference FASTA as (name, DNA sequence): RNA U->T, upper case, IUPAC codes -> N.

    Raises :class:`ExomirInputError` on an empty file, an empty sequence or characters that
    are not nucleotides, naming the file, the record and the fix.
    """
    records = []
    for name, sequence in iter_fasta(path):
        dna = sequence.upper().replace("U", "T")
        bad = set(dna) - set("ACGT") - IUPAC_AMBIGUOUS
        if not dna or bad:
            raise ExomirInputError(
                f"{what} record {name!r} "
                + ("is empty" if not dna else f"contains non-nucleotide characters {''.join(sorted(bad))}"),
                where=str(path),
                fix="provide nucleotide sequences (DNA or RNA alphabet, IUPAC codes allowed).",
            )
        records.append((name, "".join("N" if base in IUPAC_AMBIGUOUS else base for base in dna)))
    if not records:
        raise ExomirInputError(
            f"the {what} FASTA file contains no sequences",
            where=str(path),
            fix="provide a non-empty FASTA file or remove it from the configuration.",
        )
    return records

"""Readers of the files the earlier stages write, as the QC stage consumes them: the one-row
preprocess/quantify stats, collapsed FASTA/TSV sequences and the mature count matrix.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

import pandas as pd

from exomir.errors import ExomirInputError
from exomir.io import iter_fasta, open_text, read_tsv
from exomir.preprocess import STATS_COLUMNS as _PREPROCESS_STATS_COLUMNS

COLLAPSED_HEADER = re.compile(r"^u(\d+)_x(\d+)$")

#: Integer columns of ``preprocess/{sample}.stats.tsv`` that the read accounting needs.
PREPROCESS_COLUMNS = tuple(
    column
    for column in _PREPROCESS_STATS_COLUMNS
    if column not in ("sample", "kit", "adapter", "reads_with_adapter", "unique_sequences")
)
#: Integer columns of ``quantify/{sample}.stats.tsv`` that the composition needs.
QUANTIFY_COLUMNS = ("input_reads", "mature_reads", "hairpin_only_reads", "ambiguous_reads", "unmapped_reads")


def _read_one_row_stats(path: str | Path, required: Sequence[str], stage: str) -> dict:
    """Read a one-row stats table and check that the integer columns ``required`` exist."""
    try:
        table = read_tsv(path, dtype={"sample": str})
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        raise ExomirInputError(
            f"cannot read the {stage} stats table ({err})",
            where=str(path),
            fix=f"re-run the {stage} stage for this sample.",
        ) from None
    missing = [col for col in required if col not in table.columns]
    if len(table) != 1 or missing:
        raise ExomirInputError(
            f"expected one row with columns {', '.join(required)}; found {len(table)} rows"
            + (f", missing {', '.join(missing)}" if missing else ""),
            where=str(path),
            fix=f"re-run the {stage} stage; the file format is described in docs/architecture.md.",
        )
    row = table.iloc[0].to_dict()
    for col in required:
        value = row[col]
        if pd.isna(value) or float(value) != int(value) or int(value) < 0:
            raise ExomirInputError(
                f"column {col} must be a non-negative integer, found {value!r}",
                where=str(path),
                fix=f"re-run the {stage} stage.",
            )
        row[col] = int(value)
    return row


def read_preprocess_stats(path: str | Path) -> dict:
    """Read ``preprocess/{sample}.stats.tsv`` (one row) as a dict with integer counts."""
    return _read_one_row_stats(path, PREPROCESS_COLUMNS, "preprocess")


def read_quantify_stats(path: str | Path) -> dict:
    """Read ``quantify/{sample}.stats.tsv`` (one row) as a dict with integer counts."""
    return _read_one_row_stats(path, QUANTIFY_COLUMNS, "quantify")


@dataclass(frozen=True)
class CollapsedSequence:
    """One unique sequence of a collapsed FASTA (``>u{rank}_x{count}``)."""

    name: str
    sequence: str
    count: int


def read_collapsed_fasta(path: str | Path) -> list[CollapsedSequence]:
    """Read a collapsed FASTA written by quantify (``>u{rank}_x{count}`` then the sequence)."""
    records: list[CollapsedSequence] = []
    for name, sequence in iter_fasta(path):
        match = COLLAPSED_HEADER.match(name)
        if match is None:
            raise ExomirInputError(
                f"header {name!r} is not of the form u<rank>_x<count>",
                where=str(path),
                fix="re-run the quantify stage; the format is described in docs/architecture.md.",
            )
        records.append(CollapsedSequence(name, sequence.upper(), int(match.group(2))))
    return records


def iter_collapsed_tsv(path: str | Path) -> Iterator[tuple[str, int]]:
    """Yield (sequence, count) from ``preprocess/{sample}.collapsed.tsv.gz``."""
    with open_text(path) as handle:
        header = handle.readline().rstrip("\r\n").split("\t")
        if header[:2] != ["sequence", "count"]:
            raise ExomirInputError(
                f"expected the columns 'sequence' and 'count', found {header}",
                where=str(path),
                fix="re-run the preprocess stage.",
            )
        for line_no, line in enumerate(handle, start=2):
            fields = line.rstrip("\r\n").split("\t")
            if len(fields) < 2 or not fields[1].isdigit():
                raise ExomirInputError(
                    f"line {line_no} is not '<sequence><TAB><count>'",
                    where=str(path),
                    fix="re-run the preprocess stage.",
                )
            yield fields[0].upper(), int(fields[1])


def read_mature_counts(path: str | Path, samples: Sequence[str]) -> pd.DataFrame:
    """Read ``quantify/mature_counts.tsv`` (mirna x sample integers) for ``samples``."""
    counts = read_tsv(path, index_col=0)
    missing = [s for s in samples if s not in counts.columns]
    if counts.index.name != "mirna" or missing:
        raise ExomirInputError(
            "expected first column 'mirna' and one column per sample"
            + (f"; missing samples {', '.join(missing)}" if missing else ""),
            where=str(path),
            fix="re-run the quantify stage for all samples of the sample sheet.",
        )
    return counts[list(samples)]

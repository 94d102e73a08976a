"""Readers of the quantify inputs: collapsed sequences, hairpin FASTA, mature arms.

Part of :mod:`exomir.quantify` (the module docstring there describes the method).
"""

from __future__ import annotations

import os

import pandas as pd

from exomir.errors import ExomirInputError
from exomir.io import iter_fasta, open_text, read_tsv
from exomir.quantify.model import MatureArm
from exomir.references import feature_name


def read_collapsed(path: str | os.PathLike) -> list[tuple[str, int]]:
    """Unique sequences and counts, sorted by count descending then sequence.

    Raises ExomirInputError if the columns are not ``sequence``/``count``,
    counts are not positive integers, or sequences repeat or are not DNA.
    """
    sequences, counts = read_collapsed_columns(path)
    return list(zip(sequences, counts))


#: Bytes that may appear in a collapsed sequence (after upper-casing).
_DNA_BYTES = b"ACGTN"
_NOT_TAB_OR_NEWLINE = bytes(b for b in range(256) if b not in b"\t\n")


def read_collapsed_columns(path: str | os.PathLike) -> tuple[list[str], list[int]]:
    """:func:`read_collapsed` as two parallel lists (sequences, counts): less memory.

    A file as the preprocess stage writes it (header ``sequence<TAB>count``, upper-case
    DNA, positive counts, unique sequences, already in order) is read with plain
    string operations; anything else takes the pandas path that validates, explains
    errors and sorts.
    """
    fast = _read_collapsed_fast(path)
    if fast is not None:
        return fast
    table = _read_collapsed_table(path)
    return list(table["sequence"]), [int(c) for c in table["count"]]


def _read_collapsed_fast(path: str | os.PathLike) -> tuple[list[str], list[int]] | None:
    """Sequences and counts of a well-formed, sorted collapsed table; None otherwise."""
    with open_text(path) as handle:
        header = handle.readline()
        if header != "sequence\tcount\n":
            return None
        text = handle.read()
    if not text:
        return [], []
    if not text.endswith("\n") or "\r" in text or "\n\n" in text:
        return None
    if not text.isascii() or "\t\n" in text or "\n\t" in text or text[0] == "\t":
        return None
    # exactly one tab per line: the tabs and line breaks alternate
    n_lines = text.count("\n")
    if text.encode("ascii").translate(None, _NOT_TAB_OR_NEWLINE) != b"\t\n" * n_lines:
        return None
    fields = text[:-1].replace("\n", "\t").split("\t")
    del text
    sequences = fields[0::2]
    count_texts = fields[1::2]
    del fields
    if not "".join(count_texts).isdecimal() or not "".join(count_texts).isascii():
        return None
    counts = [int(c) for c in count_texts]
    del count_texts
    joined = "".join(sequences)
    if not joined.isascii() or joined.encode("ascii").translate(None, _DNA_BYTES):
        return None
    del joined
    if min(counts) <= 0 or len(set(sequences)) != len(sequences):
        return None
    # Order: count descending, then sequence ascending (strict: no repeats).
    previous_count, previous_sequence = counts[0], sequences[0]
    for count, sequence in zip(counts, sequences):
        if count > previous_count or (count == previous_count and sequence < previous_sequence):
            return None
        previous_count, previous_sequence = count, sequence
    return sequences, counts


def _read_collapsed_table(path: str | os.PathLike) -> pd.DataFrame:
    """Validate and sort any collapsed table (columns ``sequence``, ``count``) with pandas."""
    try:
        table = pd.read_csv(path, sep="\t", dtype={"sequence": str}, keep_default_na=False)
    except pd.errors.EmptyDataError:
        raise ExomirInputError(
            "empty file",
            where=str(path),
            fix="re-run preprocessing; the file needs a header " "'sequence<TAB>count'",
        ) from None
    if list(table.columns) != ["sequence", "count"]:
        raise ExomirInputError(
            f"columns are {list(table.columns)}, expected ['sequence', 'count']",
            where=str(path),
            fix="give the collapsed table written by the preprocess stage",
        )
    if table.empty:  # every read was filtered in preprocessing: a valid, empty sample
        return table
    if not pd.api.types.is_integer_dtype(table["count"]) or (table["count"] <= 0).any():
        raise ExomirInputError(
            "counts must be positive integers",
            where=str(path),
            fix="give the collapsed table written by the preprocess stage",
        )
    table["sequence"] = table["sequence"].str.upper()
    bad = table.loc[~table["sequence"].str.fullmatch(r"[ACGTN]+"), "sequence"]
    if len(bad):
        raise ExomirInputError(
            f"sequences with characters other than ACGTN, e.g. {bad.iloc[0]!r}",
            where=str(path),
            fix="collapse DNA inserts (T, not U)",
        )
    if table["sequence"].duplicated().any():
        raise ExomirInputError(
            f"sequence {table.loc[table['sequence'].duplicated(), 'sequence'].iloc[0]} repeats",
            where=str(path),
            fix="collapse identical inserts into one row",
        )
    return table.sort_values(["count", "sequence"], ascending=[False, True], kind="mergesort")


def read_hairpins(path: str | os.PathLike) -> dict[str, str]:
    """Hairpin name -> DNA sequence from the prepared ``hairpin.fa``."""
    return {name: sequence.upper().replace("U", "T") for name, sequence in iter_fasta(path)}


def read_features(path: str | os.PathLike) -> dict[str, str]:
    """Mature name -> feature (count row) from the prepared ``mature.tsv``.

    Names with one identical mature sequence share one feature, their names
    ``/``-joined in name order (:func:`exomir.references.feature_name`). Uses the
    ``feature`` column, or groups the ``sequence`` column when a table has none.
    """
    return _features_of(read_tsv(path, dtype={"mature": str, "sequence": str, "feature": str}))


def _features_of(table: pd.DataFrame) -> dict[str, str]:
    """Mature name -> feature of a ``mature.tsv`` table read with text name/sequence/feature columns."""
    if "feature" in table.columns:
        return dict(zip(table["mature"], table["feature"]))
    names_by_sequence: dict[str, set[str]] = {}
    for name, sequence in zip(table["mature"], table["sequence"]):
        names_by_sequence.setdefault(sequence, set()).add(name)
    return {
        name: feature_name(names_by_sequence[sequence])
        for name, sequence in zip(table["mature"], table["sequence"])
    }


def read_arms(path: str | os.PathLike) -> dict[str, list[MatureArm]]:
    """Hairpin name -> mature arms on it, from the prepared ``mature.tsv``."""
    # one parse: the text columns read_features reads as text, and the hairpin
    table = read_tsv(path, dtype={"mature": str, "hairpin": str, "sequence": str, "feature": str})
    features = _features_of(table)
    arms: dict[str, list[MatureArm]] = {}
    for row in table.itertuples(index=False):
        arms.setdefault(row.hairpin, []).append(
            MatureArm(row.mature, row.hairpin, int(row.start), int(row.end), features[row.mature])
        )
    return arms


# ----------------------------------------------------------------------------- alignment

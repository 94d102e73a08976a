"""Count-matrix entry: a miRNA x sample matrix (as public studies deposit it) instead of FASTQ.

A matrix is a TSV or CSV (plain or .gz) whose first column (or ``counts.id_column``) holds the
miRNA names and whose other columns hold one sample's raw read counts each. Public matrices carry
quirks that are handled here, each with a clear message:

* empty or ``NA`` cells (GEO's usual "not detected") are read as 0, with a warning counting them;
* columns that are not samples of the sheet (annotations such as ``gene_id``, totals, normalised
  values) are refused with their names listed, unless listed in ``counts.drop_columns``;
* non-integer or negative values in a sample column are refused (DE needs raw counts);
* sample-sheet samples and matrix columns are matched by name; any missing or extra name is an
  error that lists them;
* older miRBase names are mapped to miRBase 22.1 with the marker catalogue's resolver
  (:mod:`exomir.markers.names`); names it cannot map keep their name and are listed in a table.
"""

from __future__ import annotations

import csv
import logging
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd

from exomir.errors import ExomirInputError
from exomir.io import open_text, write_tsv
from exomir.markers.names import MirbaseNames, parse_name, resolve_name
from exomir.references import sha256_of

log = logging.getLogger("exomir.countmatrix")

#: Cell texts read as "not detected" (0 reads).
MISSING_VALUES = frozenset({"", "na", "nan", "n/a", "null", "none", "-"})

#: HTSeq-count summary rows: read counters, not features (dropped with a warning).
HTSEQ_PREFIX = "__"

#: A species prefix and the miR/mir spelling of a name (``mmu-miR-1``, ``hsa-mir-21``).
_SPECIES_RE = re.compile(r"^([a-z]{3})-(miR|mir|let)-")

#: How an unnamed column (empty header cell) is written in the summary.
UNNAMED = "(unnamed)"

#: Columns of ``counts/name_resolution.tsv``.
NAME_COLUMNS = ["input_name", "mirbase_name", "status", "rule", "files"]

#: Columns of ``counts/import_summary.tsv``.
SUMMARY_COLUMNS = [
    "file", "sha256", "id_column", "samples", "mirnas", "na_cells", "absent_cells",
    "dropped_columns", "dropped_rows",
]  # fmt: skip


@dataclass(frozen=True)
class MatrixSettings:
    """How matrices are read (config section ``counts``)."""

    id_column: str = ""
    drop_columns: tuple[str, ...] = ()

    @classmethod
    def from_config(cls, section: dict) -> "MatrixSettings":
        """Settings from the ``counts`` config section."""
        return cls(str(section.get("id_column", "")), tuple(str(c) for c in section.get("drop_columns", [])))


@dataclass
class MatrixTable:
    """One matrix as read: miRNA names, sample columns (text cells) and what was dropped."""

    path: str
    id_column: str
    ids: list[str]
    cells: pd.DataFrame
    dropped_columns: list[str] = field(default_factory=list)


def matrix_paths(value: str | Sequence[str]) -> list[str]:
    """``counts.matrices`` as a list (one path may be given as a plain string)."""
    if isinstance(value, str):
        return [value] if value else []
    return [str(v) for v in value if str(v)]


def _delimiter(path: str, first_line: str) -> str:
    """',' for .csv files, tab for .tsv/.txt; otherwise the one found in the header line."""
    name = path.lower().removesuffix(".gz")
    if name.endswith(".csv"):
        return ","
    if name.endswith((".tsv", ".txt", ".tab")):
        return "\t"
    return "\t" if "\t" in first_line else ","


def read_rows(path: str | Path) -> list[list[str]]:
    """All rows of a TSV/CSV matrix as text (quotes removed, nothing guessed); blank lines skipped."""
    where = f"count matrix {path}"
    if not Path(path).is_file():
        raise ExomirInputError("file not found", where=where, fix="correct counts.matrices in the config")
    try:
        with open_text(path) as handle:
            text = handle.read()
    except (UnicodeDecodeError, OSError) as exc:
        raise ExomirInputError(f"cannot be read as text ({exc})", where=where,
                               fix="give a plain or gzipped UTF-8 TSV or CSV file") from exc
    lines = text.lstrip("\ufeff").splitlines()
    if not lines:
        raise ExomirInputError("is empty", where=where, fix="give a matrix with a header line")
    rows = [[cell.strip() for cell in row] for row in csv.reader(lines, delimiter=_delimiter(str(path), lines[0]))]
    rows = [row for row in rows if any(row)]
    width = len(rows[0])
    uneven = [no for no, row in enumerate(rows, start=1) if len(row) != width]
    if uneven:
        raise ExomirInputError(
            f"line(s) {', '.join(map(str, uneven[:10]))} have another number of cells than the header ({width})",
            where=where, fix="save the matrix with one header line and one cell per column in every row",
        )
    return rows


def _id_position(header: list[str], settings: MatrixSettings, where: str) -> int:
    """Index of the miRNA-name column: ``id_column`` when the file has it, else the first column."""
    repeated = sorted({name for name in header if header.count(name) > 1})
    if repeated:
        raise ExomirInputError(f"column name(s) {repeated} appear more than once", where=where,
                               fix="give every column of the matrix its own name")
    if settings.id_column and settings.id_column in header:
        return header.index(settings.id_column)
    return 0


def read_matrix(path: str | Path, settings: MatrixSettings) -> MatrixTable:
    """Read one matrix: its miRNA names, its remaining columns (text) and the dropped columns."""
    where = f"count matrix {path}"
    rows = read_rows(path)
    header, body = rows[0], rows[1:]
    if len(header) < 2 or not body:
        raise ExomirInputError("needs a miRNA column, at least one sample column and one row",
                               where=where, fix="give a miRNA x sample table with a header line")
    pos = _id_position(header, settings, where)
    ids = [row[pos] for row in body]
    _check_ids(ids, where)
    keep = [i for i, name in enumerate(header) if i != pos and name not in settings.drop_columns]
    dropped = [name for i, name in enumerate(header) if i != pos and name in settings.drop_columns]
    cells = pd.DataFrame([[row[i] for i in keep] for row in body], columns=[header[i] for i in keep], dtype=str)
    return MatrixTable(str(path), header[pos], ids, cells, dropped)


def _check_ids(ids: list[str], where: str) -> None:
    """Refuse empty or repeated miRNA names (a repeated row would be counted twice)."""
    empty = [no for no, name in enumerate(ids, start=2) if not name]
    if empty:
        raise ExomirInputError(f"line(s) {', '.join(map(str, empty[:10]))} have no miRNA name", where=where,
                               fix="fill in the miRNA name, or set counts.id_column to the column that holds the names")
    seen: dict[str, int] = {}
    for name in ids:
        seen[name] = seen.get(name, 0) + 1
    repeated = sorted(name for name, n in seen.items() if n > 1)
    if repeated:
        raise ExomirInputError(f"miRNA name(s) {repeated[:10]} appear in more than one row", where=where,
                               fix="give each miRNA one row (sum the rows if they are the same miRNA)")


def _column_kind(values: pd.Series) -> str:
    """'integer', 'non-integer numbers' or 'text': what a column holds, for the error messages."""
    kinds = {"integer"}
    for value in values:
        if value.lower() in MISSING_VALUES:
            continue
        try:
            number = float(value)
        except ValueError:
            return "text"
        if not math.isfinite(number) or number != int(number) or number < 0:
            kinds.add("non-integer numbers" if math.isfinite(number) and number >= 0 else "negative or infinite")
    return sorted(kinds - {"integer"})[0] if len(kinds) > 1 else "integer"


def _describe_column(name: str, values: pd.Series) -> str:
    """A column for an error message: its name, what it holds, and a hint for an unnamed one."""
    kind = _column_kind(values)
    text = f"{name!r} ({kind}"
    if kind == "text":
        text += f"; if it holds the miRNA names, set counts.id_column: {name}"
    if name == "":
        text += "; an unnamed column, such as R's row numbers: list it as \"\" under counts.drop_columns"
    return text + ")"


def check_columns(tables: Sequence[MatrixTable], samples: Sequence[str]) -> None:
    """Match sample-sheet samples and matrix columns by name; one error lists every mismatch."""
    problems: list[str] = []
    owner: dict[str, str] = {}
    for table in tables:
        extra = [c for c in table.cells.columns if c not in samples]
        if extra:
            described = ", ".join(_describe_column(c, table.cells[c]) for c in extra)
            problems.append(f"{table.path}: column(s) {described} are not samples of the sheet")
        for column in table.cells.columns:
            if column in owner and column in samples:
                problems.append(f"sample {column!r} has a column in both {owner[column]} and {table.path}")
            owner.setdefault(column, table.path)
    missing = [s for s in samples if s not in owner]
    if missing:
        found = sorted({c for t in tables for c in t.cells.columns})
        problems.append(f"sample(s) {missing} of the sheet have no column in the count matrices "
                        f"(columns: {', '.join(found[:20])}{' ...' if len(found) > 20 else ''})")
    if problems:
        raise ExomirInputError(
            "the sample sheet and the count matrices do not match:\n  - " + "\n  - ".join(problems),
            where="counts.matrices",
            fix="name every sample exactly as its matrix column; list columns that are not counts "
            "(gene IDs, totals, normalised values) under counts.drop_columns",
        )


def parse_counts(table: MatrixTable) -> tuple[pd.DataFrame, int]:
    """The sample columns as int64 counts (index: miRNA names) and the number of NA/empty cells.

    Missing cells become 0 (not detected); values such as ``12.0`` or ``1e+05`` are integers as
    R writes them; any other non-integer, negative or text value is refused with its column.
    """
    missing = table.cells.apply(lambda col: col.str.lower().isin(MISSING_VALUES))
    numbers = table.cells.mask(missing, "0").apply(pd.to_numeric, errors="coerce")
    bad = {}
    for column in numbers.columns:
        values = numbers[column]
        wrong = ~(np.isfinite(values) & (values >= 0) & (values == values.round()))
        if wrong.any():
            row = int(wrong.to_numpy().nonzero()[0][0])
            bad[column] = f"{column!r} (e.g. {table.cells[column].iloc[row]!r} for {table.ids[row]})"
    if bad:
        raise ExomirInputError(
            f"column(s) {', '.join(bad.values())} hold values that are not raw read counts "
            "(non-integer, negative or text)",
            where=f"count matrix {table.path}",
            fix="give raw integer counts: normalised values (CPM, RPM, TPM, log) cannot be tested with DESeq2; "
            "list columns that are not samples under counts.drop_columns",
        )
    counts = numbers.astype("int64")
    counts.index = pd.Index(table.ids, name="mirna")
    return counts, int(missing.to_numpy().sum())


def drop_summary_rows(counts: pd.DataFrame, where: str) -> tuple[pd.DataFrame, list[str]]:
    """Remove HTSeq-count summary rows (``__no_feature``, ``__ambiguous``...): counters, not miRNAs."""
    summary = [name for name in counts.index if name.startswith(HTSEQ_PREFIX)]
    if summary:
        log.warning("%s: %d summary row(s) dropped (%s): they count reads, they are not miRNAs",
                    where, len(summary), ", ".join(summary))
    return counts.drop(index=summary), summary


def join_matrices(parts: Sequence[pd.DataFrame], samples: Sequence[str]) -> tuple[pd.DataFrame, list[int]]:
    """One matrix of all samples (sheet order), miRNAs in order of first appearance.

    A miRNA absent from one file counts 0 in that file's samples (like an NA cell); the number of
    such cells is returned per file.
    """
    order = list(dict.fromkeys(name for part in parts for name in part.index))
    absent = [(len(order) - len(part)) * part.shape[1] for part in parts]
    joined = pd.concat([part.reindex(order, fill_value=0) for part in parts], axis=1)
    joined.index.name = "mirna"
    return joined[list(samples)].astype("int64"), absent


def resolve_row(name: str, mirbase: MirbaseNames) -> tuple[str, str, str]:
    """(miRBase 22.1 name, status, rule) of one matrix row name.

    A name in 22.1 is kept. An older name maps to the one mature miRNA it denoted: renamed
    families (miR-451 -> miR-451a), arm-less names (miR-21 -> miR-21-5p, the legacy arm), star
    names (miR-21* -> miR-21-3p). Names of another species, ambiguous names and names not in
    miRBase keep their text (status unresolved).
    """
    if name in mirbase.accession:
        return name, "exact", "miRBase 22.1 name"
    species = _SPECIES_RE.match(name)
    if species and species.group(1) != mirbase.prefix:
        return name, "unresolved", f"species prefix {species.group(1)!r} is not {mirbase.prefix!r}"
    if species and species.group(2) == "mir":
        return name, "unresolved", "a precursor (hairpin) name: the matrix must count mature miRNAs"
    res = resolve_name(name, mirbase)
    if len(res.legacy) == 1:
        parsed = parse_name(name)
        arm_less = parsed is not None and not parsed.arm and not parsed.star and len(res.mature) > 1
        return res.legacy[0], "resolved", (f"arm-less older name: the arm it denoted ({res.rule})" if arm_less
                                           else res.rule)
    if not res.found:
        return name, "unresolved", res.rule
    return name, "unresolved", f"ambiguous: {';'.join(res.legacy or res.mature)} ({res.rule})"


def resolve_names(counts: pd.DataFrame, mirbase: MirbaseNames) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The matrix under miRBase 22.1 names, and the table of every row that was not exact.

    Rows that map to the same 22.1 name (``miR-451`` and ``miR-451a`` in one file) are summed and
    reported as ``merged``; the order of first appearance is kept.
    """
    resolved = [resolve_row(name, mirbase) for name in counts.index]
    targets = [target for target, _, _ in resolved]
    merged = counts.groupby(pd.Index(targets, name="mirna"), sort=False).sum()
    shared = pd.Series(targets).value_counts()
    rows = []
    for name, (target, status, rule) in zip(counts.index, resolved):
        if shared[target] > 1:
            status = "merged"
            rule += f"; summed with the other row(s) named {target} after resolution"
        if status != "exact":
            rows.append({"input_name": name, "mirbase_name": target, "status": status, "rule": rule})
    table = pd.DataFrame(rows, columns=NAME_COLUMNS[:-1])
    unresolved = table[table["status"] == "unresolved"]
    if len(table):
        log.info("miRNA names: %d mapped to miRBase 22.1, %d merged, %d not resolved (kept as written)",
                 int((table["status"] == "resolved").sum()), int((table["status"] == "merged").sum()), len(unresolved))
    if len(unresolved):
        log.warning("%d miRNA name(s) could not be mapped to miRBase 22.1 (listed in counts/name_resolution.tsv): %s",
                    len(unresolved), ", ".join(unresolved["input_name"][:10]))
    return merged.astype("int64"), table


def load_tables(paths: Sequence[str], settings: MatrixSettings, samples: Sequence[str]) -> list[MatrixTable]:
    """Read every matrix and check its columns against the sample sheet (no counts parsed yet)."""
    if not paths:
        raise ExomirInputError("no count matrix is given", where="counts.matrices",
                               fix="list the matrix file(s) under counts.matrices")
    tables = [read_matrix(path, settings) for path in paths]
    check_columns(tables, samples)
    return tables


@dataclass
class ImportResult:
    """The imported matrix (22.1 names, sheet order), the name table and the per-file summary."""

    counts: pd.DataFrame
    names: pd.DataFrame
    summary: pd.DataFrame


def import_matrices(
    paths: Sequence[str], settings: MatrixSettings, samples: Sequence[str], mirbase: MirbaseNames
) -> ImportResult:
    """Read, check, join and rename the matrices; warn about every quirk that was handled."""
    tables = load_tables(paths, settings, samples)
    parts, records = [], []
    file_of: dict[str, list[str]] = {}
    for table in tables:
        counts, na_cells = parse_counts(table)
        counts, summary_rows = drop_summary_rows(counts, table.path)
        if na_cells:
            log.warning("%s: %d empty or NA cell(s) read as 0 (not detected)", table.path, na_cells)
        parts.append(counts)
        for name in counts.index:
            file_of.setdefault(name, []).append(Path(table.path).name)
        records.append({"file": table.path, "sha256": sha256_of(table.path), "id_column": table.id_column or UNNAMED,
                        "samples": counts.shape[1], "mirnas": counts.shape[0], "na_cells": na_cells,
                        "dropped_columns": ";".join(c or UNNAMED for c in table.dropped_columns), "dropped_rows": ";".join(summary_rows)})
    joined, absent = join_matrices(parts, samples)
    for record, n_absent in zip(records, absent):
        record["absent_cells"] = n_absent
        if n_absent:
            log.warning("%s: %d cell(s) of miRNAs absent from this file read as 0", record["file"], n_absent)
    renamed, names = resolve_names(joined, mirbase)
    names["files"] = [";".join(file_of[name]) for name in names["input_name"]]
    log.info("imported %d miRNAs x %d samples from %d matrix file(s)", *renamed.shape, len(tables))
    return ImportResult(renamed, names[NAME_COLUMNS], pd.DataFrame(records, columns=SUMMARY_COLUMNS))


def write_import(result: ImportResult, out_counts: str | Path, out_names: str | Path, out_summary: str | Path) -> None:
    """Write the matrix (the ``quantify/mature_counts.tsv`` layout), the name table and the summary."""
    write_tsv(result.counts.reset_index(), out_counts)
    write_tsv(result.names, out_names)
    write_tsv(result.summary, out_summary)


def check_matrices(paths: Sequence[str], settings: MatrixSettings, samples: Sequence[str]) -> None:
    """Everything that can be wrong with the matrices, checked before any job runs."""
    for table in load_tables(paths, settings, samples):
        parse_counts(table)


def count_matrix_section(results: str | Path, to_table: Callable[[str, pd.DataFrame], Any]) -> dict[str, Any] | None:
    """Report context of a count-matrix run (None for a FASTQ run): the files and the names.

    ``to_table(table_id, frame)`` builds the report's table objects (the report's ``Table``).
    """
    summary_path = Path(results) / "counts" / "import_summary.tsv"
    if not summary_path.exists():
        return None
    summary = pd.read_csv(summary_path, sep="\t", dtype=str, keep_default_na=False)
    names = pd.read_csv(Path(results) / "counts" / "name_resolution.tsv", sep="\t", dtype=str,
                        keep_default_na=False)
    # a 64-digit hash does not wrap in a table cell; the full one is in the TSV
    summary["sha256"] = summary["sha256"].str[:16] + "..."
    status = names["status"].value_counts()
    counts = pd.read_csv(Path(results) / "quantify" / "mature_counts.tsv", sep="\t", usecols=[0], dtype=str)
    return {
        "n_files": len(summary),
        "n_mirnas": len(counts),
        "na_cells": int(pd.to_numeric(summary["na_cells"]).sum()),
        "absent_cells": int(pd.to_numeric(summary["absent_cells"]).sum()),
        "names": {key: int(status.get(key, 0)) for key in ("resolved", "merged", "unresolved")},
        "files": to_table("counts-files-table", summary),
        "name_table": to_table("counts-names-table", names) if len(names) else None,
    }

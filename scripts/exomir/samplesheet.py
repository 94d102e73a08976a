"""Sample sheet loading and validation.

The sample sheet is read as text (``dtype=str``) so IDs such as ``007`` stay
as written, its row order is kept, and every problem is reported at once with
the row, the column, what is wrong and how to fix it, before any job starts.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

import jsonschema
import pandas as pd
import yaml

from exomir.errors import ExomirInputError

#: Run accessions that are downloaded from ENA instead of read from disk.
ACCESSION_RE = re.compile(r"^(SRR|ERR|DRR)[0-9]{5,12}$")

FASTQ_SUFFIXES = (".fastq", ".fq", ".fastq.gz", ".fq.gz")


def load_schema(path: str | Path) -> dict:
    """Load a JSON schema written as YAML."""
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def split_fastq_field(value: str) -> list[str]:
    """Split the ``fastq`` cell into its entries (paths or run accessions)."""
    return [part.strip() for part in value.split(";") if part.strip()]


def is_accession(entry: str) -> bool:
    """True when a ``fastq`` entry is an SRA/ENA/DDBJ run accession."""
    return bool(ACCESSION_RE.match(entry))


def _describe(error: jsonschema.ValidationError, schema: dict) -> tuple[str, str]:
    column = error.path[0] if error.path else None
    prop = schema["properties"].get(column, {})
    # The whole description: the allowed characters come after its first sentence.
    rule = " ".join(prop.get("description", "").split()) if prop else ""
    return (
        f"column '{column}' has an invalid value {error.instance!r}",
        f"use a value that follows the rule: {rule}" if rule else "correct the value",
    )


def validate_sample_sheet(df: pd.DataFrame, schema: dict, where: str) -> None:
    """Check every row against ``schema`` and the cross-row rules; raise one error listing all."""
    problems: list[str] = []
    required = schema.get("required", [])
    for col in required:
        if col not in df.columns:
            problems.append(
                f"required column '{col}' is missing; fix: add a '{col}' column "
                f"(required: {', '.join(required)})"
            )
    name_rule = re.compile(schema["propertyNames"]["pattern"])
    for col in df.columns:
        if not name_rule.match(col):
            problems.append(
                f"column name {col!r} is not allowed; fix: rename it to letters, digits and '_' "
                "starting with a letter (it may be used in the design formula)"
            )
    row_schema = {k: v for k, v in schema.items() if k not in ("required", "propertyNames")}
    validator = jsonschema.Draft202012Validator(row_schema)
    for idx, row in df.iterrows():
        sample = row.get("sample")
        label = f"row {idx + 2}" + (f" (sample {sample!r})" if sample else "")
        for col in required:
            if col in row.index and row[col] == "":
                problems.append(f"{label}: empty cell in required column '{col}'; fix: fill it in")
        record = {k: v for k, v in row.items() if v != "" and name_rule.match(k)}
        for error in sorted(validator.iter_errors(record), key=lambda e: str(e.path)):
            problem, fix = _describe(error, schema)
            problems.append(f"{label}: {problem}; fix: {fix}")
    if "sample" in df.columns:
        counts = df["sample"].value_counts()
        for sample in sorted(counts[counts > 1].index):
            problems.append(
                f"sample ID {sample!r} appears {counts[sample]} times; fix: give each sample one row "
                "and list several FASTQ files in its 'fastq' cell separated by ';'"
            )
    if problems:
        raise ExomirInputError(
            "invalid sample sheet:\n  - " + "\n  - ".join(problems),
            where=where,
            fix="edit the sample sheet (see config/README.md, 'Sample sheet').",
        )


def check_fastq_entries(df: pd.DataFrame, where: str, base: str | Path = ".") -> None:
    """Check that every FASTQ path exists, is a file and has a FASTQ suffix."""
    problems: list[str] = []
    base = Path(base)
    for _, row in df.iterrows():
        for entry in split_fastq_field(row["fastq"]):
            if is_accession(entry):
                continue
            path = base / entry
            if not entry.endswith(FASTQ_SUFFIXES):
                problems.append(
                    f"sample {row['sample']!r}: {entry!r} does not end in .fastq, .fq, .fastq.gz or .fq.gz; "
                    "fix: give raw FASTQ files (not BAM, FASTA or archives), or a run accession"
                )
            elif not path.exists():
                problems.append(
                    f"sample {row['sample']!r}: FASTQ file {entry!r} does not exist; "
                    "fix: correct the path (relative to the working directory) or copy the file there"
                )
            elif not path.is_file():
                problems.append(f"sample {row['sample']!r}: {entry!r} is not a regular file; fix: point to the FASTQ file")
    if problems:
        raise ExomirInputError(
            "missing or unusable FASTQ input:\n  - " + "\n  - ".join(problems),
            where=where,
            fix="correct the 'fastq' column of the sample sheet.",
        )


def read_sheet_literally(path: str | Path, where: str) -> pd.DataFrame:
    """Read a tab-separated sheet cell by cell: no quoting, no type guessing, every line a row.

    pandas' CSV reader treats ``"`` as a quote, so two ``description`` cells that start with
    ``"`` merged every row between them into one cell; splitting each line on tabs keeps quotes
    as written and makes the number of rows equal the number of non-blank lines.
    """
    raw = Path(path).read_bytes()
    if not raw.strip():
        raise ExomirInputError(
            "is empty (0 bytes or only blank lines)",
            where=where,
            fix="write a header line (sample, condition, fastq, tab-separated) and one row per sample",
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ExomirInputError(
            f"is not UTF-8 text (byte {exc.start})", where=where, fix="save it as UTF-8 text with one tab between columns"
        ) from exc
    lines = [(no, line.rstrip("\r")) for no, line in enumerate(text.split("\n"), start=1) if line.strip()]
    header = [cell.strip() for cell in lines[0][1].split("\t")]
    problems = _header_problems(header)
    rows = []
    for no, line in lines[1:]:
        cells = [cell.strip() for cell in line.split("\t")]
        if len(cells) != len(header):
            problems.append(
                f"line {no} has {len(cells)} tab-separated cells but the header has {len(header)}; "
                "fix: one tab between cells, no tab inside a cell, no trailing tab"
            )
        rows.append(cells)
    if problems:
        raise ExomirInputError(
            "cannot be read as a tab-separated table:\n  - " + "\n  - ".join(problems),
            where=where,
            fix="save it as UTF-8 text with one tab between columns (see config/README.md, 'Sample sheet')",
        )
    df = pd.DataFrame(rows, columns=header, dtype=str)
    if len(df) != len(lines) - 1:  # a cheap guard that no line was merged or dropped
        raise AssertionError(f"{where}: {len(df)} rows read from {len(lines) - 1} lines")
    return df


def _header_problems(header: list[str]) -> list[str]:
    """Empty or repeated column names (trailing tabs leave an empty last name)."""
    problems = []
    for pos, name in enumerate(header, start=1):
        if name == "":
            trailing = all(rest == "" for rest in header[pos - 1 :])
            problems.append(
                f"header column {pos} has no name"
                + (" (a trailing tab at the end of the header line)" if trailing else "")
                + "; fix: remove trailing tabs at line ends, or name the column"
            )
    for name in sorted({n for n in header if n and header.count(n) > 1}):
        problems.append(f"column name {name!r} appears {header.count(name)} times; fix: give each column one name")
    return problems


def load_sample_sheet(
    path: str | Path, schema_path: str | Path, check_files: bool = True, require_fastq: bool = True
) -> pd.DataFrame:
    """Read, validate and index the sample sheet; sample-sheet order is kept.

    Returns a DataFrame of strings indexed by sample ID (the ``sample`` column
    is kept too). Empty optional cells become empty strings. Cells are taken
    literally: quote characters are part of the value. ``require_fastq=False`` is the
    count-matrix entry (``counts.matrices``): no ``fastq`` column is needed and none is checked.
    """
    where = f"sample sheet {path}"
    if not Path(path).is_file():
        raise ExomirInputError("file not found", where=where, fix="set 'samples' in the config to your sample sheet")
    df = read_sheet_literally(path, where)
    if df.empty:
        raise ExomirInputError("has no sample rows", where=where, fix="add one row per sample")
    schema = load_schema(schema_path)
    if not require_fastq:
        schema["required"] = [column for column in schema["required"] if column != "fastq"]
    validate_sample_sheet(df, schema, where)
    if check_files and require_fastq:
        check_fastq_entries(df, where)
        check_inputs_unique(df, where)
    return df.set_index("sample", drop=False)


def check_inputs_unique(df: pd.DataFrame, where: str, base: str | Path = ".") -> None:
    """Refuse a FASTQ (path, content or accession) listed twice: it would be counted twice.

    Files are compared by resolved path, then files of equal size by SHA-256 (only
    those: sizes differ for almost every pair, so this costs nothing for a normal sheet).
    """
    owners: dict[str, list[tuple[str, str]]] = {}
    for _, row in df.iterrows():
        for entry in split_fastq_field(row["fastq"]):
            key = entry.upper() if is_accession(entry) else os.path.realpath(Path(base) / entry)
            owners.setdefault(key, []).append((row["sample"], entry))
    problems = [_twice(users, "is listed") for users in owners.values() if len(users) > 1]
    by_size: dict[int, list[str]] = {}
    for key in owners:
        if os.path.isfile(key):
            by_size.setdefault(os.path.getsize(key), []).append(key)
    by_digest: dict[str, list[tuple[str, str]]] = {}
    for keys in by_size.values():
        for key in keys if len(keys) > 1 else []:
            by_digest.setdefault(_sha256(key), []).append(owners[key][0])
    problems += [_twice(users, "has the same content (SHA-256)") for users in by_digest.values() if len(users) > 1]
    if problems:
        raise ExomirInputError(
            "the same input is given more than once (it would be counted twice):\n  - " + "\n  - ".join(problems),
            where=where,
            fix="list each FASTQ file or run under one sample only; remove the copy or correct the path",
        )


def _twice(users: list[tuple[str, str]], how: str) -> str:
    named = ", ".join(f"{entry!r} of sample {sample!r}" for sample, entry in users)
    return f"{named}: {how} {len(users)} times"


def _sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()

"""Sample sheet loading and validation.

The sample sheet is read as text (``dtype=str``) so IDs such as ``007`` stay
as written, its row order is kept, and every problem is reported at once with
the row, the column, what is wrong and how to fix it, before any job starts.
"""

from __future__ import annotations

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
    rule = prop.get("description", "").split(".")[0] if prop else ""
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


def load_sample_sheet(path: str | Path, schema_path: str | Path, check_files: bool = True) -> pd.DataFrame:
    """Read, validate and index the sample sheet; sample-sheet order is kept.

    Returns a DataFrame of strings indexed by sample ID (the ``sample`` column
    is kept too). Empty optional cells become empty strings.
    """
    where = f"sample sheet {path}"
    if not Path(path).is_file():
        raise ExomirInputError("file not found", where=where, fix="set 'samples' in the config to your sample sheet")
    try:
        df = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False, comment=None)
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise ExomirInputError(
            f"cannot be read as a tab-separated table ({exc})",
            where=where,
            fix="save it as UTF-8 text with one tab between columns",
        ) from exc
    if df.empty:
        raise ExomirInputError("has no sample rows", where=where, fix="add one row per sample")
    df.columns = [c.strip() for c in df.columns]
    df = df.apply(lambda col: col.str.strip().str.rstrip("\r"))
    validate_sample_sheet(df, load_schema(schema_path), where)
    if check_files:
        check_fastq_entries(df, where)
    return df.set_index("sample", drop=False)

"""Catalogue loading, JSON-Schema validation and resolution to miRBase mature names."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Sequence

import pandas as pd
import yaml

from exomir.errors import ExomirInputError
from exomir.io import write_tsv
from exomir.markers.names import MirbaseNames, _natural_key, resolve_name

log = logging.getLogger("exomir.markers")

# --------------------------------------------------------------------------------------------
# Catalogue loading and validation
# --------------------------------------------------------------------------------------------
MIRNA_COLUMNS = [
    "entry_id", "name_in_review", "mirna", "mirbase_names", "role", "function", "drug", "targets",
    "direction", "comparison", "context", "source", "review_refs", "notes", "cited_papers",
]  # fmt: skip


def _load_schema(path: str | Path) -> dict:
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def validate_table(df: pd.DataFrame, schema: dict, where: str) -> None:
    """Validate every row of a catalogue table against a row JSON Schema.

    Raises one :class:`ExomirInputError` listing up to 20 problems (line number, column, message).
    """
    import jsonschema

    validator = jsonschema.Draft202012Validator(schema)
    problems: list[str] = []
    required = schema.get("required", [])
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise ExomirInputError(
            f"missing required column(s) {', '.join(missing)}",
            where=where,
            fix=f"add the column(s); required are {', '.join(required)} (see resources/markers/schema/)",
        )
    for idx, row in enumerate(df.to_dict(orient="records")):
        record = {k: ("" if v is None else str(v)) for k, v in row.items()}
        for err in sorted(validator.iter_errors(record), key=lambda e: list(e.path)):
            column = ".".join(str(p) for p in err.path) or "(row)"
            problems.append(f"line {idx + 2}, column {column}: {err.message}")
    if problems:
        shown = "; ".join(problems[:20]) + (f"; ... {len(problems) - 20} more" if len(problems) > 20 else "")
        raise ExomirInputError(
            f"catalogue does not match its schema: {shown}",
            where=where,
            fix="correct the listed cells (allowed values are in resources/markers/schema/)",
        )


def read_catalogue(path: str | Path, schema_path: str | Path) -> pd.DataFrame:
    """Read one miRNA catalogue TSV (all cells as strings) and validate it against its schema."""
    path = Path(path)
    if not path.is_file():
        raise ExomirInputError("catalogue file not found", where=str(path), fix="check markers.catalogues")
    try:
        df = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False, comment=None)
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise ExomirInputError(
            f"cannot be read as a tab-separated table ({exc})",
            where=str(path),
            fix="save the catalogue as UTF-8 TSV with a header",
        ) from exc
    validate_table(df, _load_schema(schema_path), str(path))
    for column in MIRNA_COLUMNS:
        if column not in df.columns:
            df[column] = ""
    duplicated = df[df.duplicated(["mirna", "role"], keep=False)]
    if not duplicated.empty:
        pairs = sorted({f"{m} / {r}" for m, r in zip(duplicated["mirna"], duplicated["role"])})
        raise ExomirInputError(
            f"more than one row for (miRNA, role): {', '.join(pairs)}",
            where=str(path),
            fix="merge the statements into one row per (mirna, role)",
        )
    return df


def _check_curated(names: Sequence[str], mirbase: MirbaseNames, path: str | Path, line: int) -> None:
    unknown = [n for n in names if n not in mirbase.accession]
    if unknown:
        raise ExomirInputError(
            f"line {line}: mirbase_names {', '.join(unknown)} not in miRBase (prefix {mirbase.prefix})",
            where=str(path),
            fix="use miRBase 22.1 mature names, or leave mirbase_names empty to resolve automatically",
        )


def resolve_entries(df: pd.DataFrame, path: str | Path, mirbase: MirbaseNames) -> pd.DataFrame:
    """Fill ``mirbase_names`` (curated kept, else resolved) and add the resolution columns."""
    resolved_by, resolver_names, legacy, final = [], [], [], []
    for line, (mirna, curated) in enumerate(zip(df["mirna"], df["mirbase_names"]), start=2):
        res = resolve_name(mirna, mirbase)
        names = [n for n in curated.split(";") if n] if curated else list(res.mature)
        _check_curated(names, mirbase, path, line)
        if not names:
            log.warning(
                "%s line %d: %s does not resolve to a miRBase mature name (%s)", path, line, mirna, res.rule
            )
        if curated and sorted(names) != list(res.mature):
            log.warning(
                "%s line %d: curated mirbase_names for %s differ from the resolver (%s)",
                path,
                line,
                mirna,
                ";".join(res.mature),
            )
        resolved_by.append(("curated; " if curated else "") + res.rule)
        resolver_names.append(";".join(res.mature))
        legacy.append(";".join(n for n in res.legacy if n in names))
        final.append(";".join(sorted(names)))
    df["mirbase_names"] = final
    df["resolved_by"] = resolved_by
    df["resolver_names"] = resolver_names
    df["legacy_mature"] = legacy
    df["n_mature"] = [len([n for n in f.split(";") if n]) for f in final]
    return df


def load_catalogues(
    paths: Sequence[str | Path], schema_path: str | Path, mirbase: MirbaseNames
) -> pd.DataFrame:
    """Load, validate and resolve miRNA catalogues; one row per catalogue entry.

    Curated ``mirbase_names`` are kept (each must exist in miRBase); empty ones are filled by
    :func:`resolve_name` applied to the ``mirna`` column. Added columns: ``catalogue`` (file
    name), ``resolved_by``, ``resolver_names`` (what the resolver gives), ``legacy_mature``,
    ``n_mature``.
    """
    if not paths:
        raise ExomirInputError(
            "no catalogue given",
            where="config markers.catalogues",
            fix="list at least one catalogue TSV (the bundled one is resources/markers/mirnas.tsv)",
        )
    tables = []
    for path in paths:
        df = read_catalogue(path, schema_path)
        df.insert(0, "catalogue", Path(path).name)
        tables.append(resolve_entries(df, path, mirbase))
    out = pd.concat(tables, ignore_index=True)
    dup = out["entry_id"][out["entry_id"].duplicated()].unique()
    if len(dup):
        raise ExomirInputError(
            f"entry_id used more than once across catalogues: {', '.join(sorted(dup))}",
            where="config markers.catalogues",
            fix="give every row of every catalogue its own entry_id",
        )
    return out.sort_values(["mirna", "role", "entry_id"], key=_natural_key).reset_index(drop=True)



def resolve_catalogues(
    catalogue_paths: Sequence[str],
    mirna_schema: str,
    other_paths: Sequence[str],
    other_schema: str,
    mature_fasta: str,
    gff3: str,
    prefix: str,
    out_resolved: str,
    out_other: str,
) -> None:
    """Rule ``markers_catalogue``: validate all catalogues and write the resolved tables."""
    mirbase = MirbaseNames.from_files(mature_fasta, gff3, prefix)
    resolved = load_catalogues(catalogue_paths, mirna_schema, mirbase)
    n_unresolved = int((resolved["n_mature"] == 0).sum())
    log.info(
        "%d catalogue entries, %d unique mature names, %d unresolved",
        len(resolved),
        len({n for v in resolved["mirbase_names"] for n in v.split(";") if n}),
        n_unresolved,
    )
    write_tsv(resolved, out_resolved)
    others = []
    schema = _load_schema(other_schema)
    for path in other_paths:
        if not Path(path).is_file():
            raise ExomirInputError(
                "catalogue file not found", where=str(path), fix="check markers.other_catalogues"
            )
        df = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)
        validate_table(df, schema, str(path))
        df.insert(0, "catalogue", Path(path).name)
        others.append(df)
    other = (
        pd.concat(others, ignore_index=True) if others else pd.DataFrame(columns=["catalogue", "entry_id"])
    )
    write_tsv(other.fillna(""), out_other)


"""Breast-cancer exosome marker catalogue: name resolution, annotation, diagnostic performance.

The bundled catalogue (``resources/markers/``) is curated from Jia et al., "Exosome: emerging
biomarker in breast cancer", Oncotarget 2017; 8:41717-41733 (CC BY 3.0). This module

* resolves the miRNA names as the literature writes them (``miR-451``, ``miR-16``, ``let-7a-2``,
  ``miR-223*``, ``MIR21`` ...) to miRBase 22.1 mature names (:class:`MirbaseNames`,
  :func:`resolve_name`),
* validates catalogues against their JSON Schemas (:func:`load_catalogues`),
* annotates a differential-expression contrast with the catalogue and checks whether the
  observed direction agrees with the literature (:func:`annotate_contrast`),
* estimates the diagnostic performance of single markers (ROC AUC with a stratified bootstrap
  CI) and of a marker panel (nested, repeated cross-validation) (:func:`diagnostic_performance`).

Diagnostic figures computed on the cohort that also discovered the markers are optimistic:
every output says "exploratory, discovery cohort".
"""

from __future__ import annotations

import gzip
import logging
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd
import yaml

from exomir.errors import ExomirInputError
from exomir.io import atomic_path, read_tsv, write_tsv

log = logging.getLogger("exomir.markers")

#: Label carried by every diagnostic-performance output.
EXPLORATORY = "exploratory, discovery cohort"

ROLES = (
    "diagnosis/prognosis",
    "metastasis/invasion",
    "angiogenesis",
    "drug resistance",
    "immune modulation",
    "microenvironment/stem cells",
    "transformation",
    "therapy",
)
DIRECTIONS = ("up", "down", "not stated")
#: "not tested": enough reads, but the DE stage's prefilter left the miRNA out (no LFC).
CONCORDANCE = ("concordant", "discordant", "direction not stated", "not detected", "not tested")

# --------------------------------------------------------------------------------------------
# miRBase renames encoded by hand. miRBase's aliases.txt is not available offline, so only
# renames we are sure of are listed; each maps a retired name (without species prefix) to the
# miRBase 22.1 name it became. The test suite checks that every target exists in 22.1.
# --------------------------------------------------------------------------------------------
RENAMED: dict[str, str] = {
    # A second locus (miR-451b) was added, so the original gene became miR-451a.
    "miR-451": "miR-451a",
    # Same pattern: a paralogue was added and the original gained the letter "a".
    "miR-103": "miR-103a",
    "miR-378": "miR-378a",
    "miR-320": "miR-320a",
    "miR-146": "miR-146a",
    # miR-213 was recognised as the star strand of mir-181a-1 (MIMAT0000270).
    "miR-213": "miR-181a-3p",
}

#: Names withdrawn from miRBase (fragments of other RNA classes); resolved to nothing.
REMOVED: dict[str, str] = {
    "miR-720": "withdrawn from miRBase (tRNA fragment)",
    "miR-1274a": "withdrawn from miRBase (tRNA fragment)",
    "miR-1274b": "withdrawn from miRBase (tRNA fragment)",
}

#: Arm the legacy (pre-miRBase-18, arm-less) name denoted, where the rule in
#: :meth:`MirbaseNames.legacy_arm` (shared arm across loci, then oldest accession) would be
#: wrong. Keys are family names; values the mature name without species prefix.
LEGACY_ARM: dict[str, str] = {
    # miR-373* (MIMAT0000725, now 373-5p) got a lower accession than miR-373 (MIMAT0000726).
    "miR-373": "miR-373-3p",
}

_NAME_RE = re.compile(r"^(mir|let)-?(\d+[a-z]*)(?:-(\d+))?(?:-(5p|3p))?$")
_HGNC_RE = re.compile(r"^mir(let)?(\d+[a-z]*?)(\d*)(?:-(\d+))?$")
_MATURE_RE = re.compile(r"^([a-z]{3})-(miR|let)-(\d+[a-z]*)(?:-(\d+))?(?:-(5p|3p))?$")
_HAIRPIN_RE = re.compile(r"^([a-z]{3})-(mir|let)-(\d+[a-z]*)(?:-(\d+))?$")


@dataclass(frozen=True)
class ParsedName:
    """A miRNA name split into its parts (no species prefix)."""

    kind: str  # "miR" or "let"
    family: str  # e.g. "16", "7a", "451a"
    locus: str | None  # e.g. "1" for miR-16-1
    arm: str | None  # "5p" / "3p"
    star: bool

    @property
    def family_name(self) -> str:
        return f"{self.kind}-{self.family}"

    def __str__(self) -> str:
        text = self.family_name
        if self.locus:
            text += f"-{self.locus}"
        if self.arm:
            text += f"-{self.arm}"
        return text + ("*" if self.star else "")


def parse_name(name: str) -> ParsedName | None:
    """Parse a miRNA name as written in the literature; None if it is not a miRNA name.

    Accepts species prefixes (``hsa-``), any case (``miR``, ``mir``, ``MIR``), a missing hyphen
    (``miR181b``), HGNC gene symbols (``MIR21``, ``MIR16-1``, ``MIRLET7A1``), arms (``-5p``,
    ``-3p``) and legacy star names (``miR-223*``).
    """
    text = name.strip().replace("\u2010", "-").replace("\u2013", "-")
    star = text.endswith("*")
    if star:
        text = text[:-1].strip()
    text = re.sub(r"^[a-z]{3}-(?=(?:mir|let)-?\d)", "", text, flags=re.I)
    low = text.lower()
    match = _NAME_RE.match(low)
    if match is None and low.startswith("mir") and "-" not in low[:4]:
        # HGNC symbols: MIR181B1 -> miR-181b-1, MIRLET7A1 -> let-7a-1, MIR16-1 -> miR-16-1
        hgnc = _HGNC_RE.match(low)
        if hgnc:
            is_let, fam, trailing, dashed = hgnc.groups()
            locus = dashed or (trailing or None)
            return ParsedName("let" if is_let else "miR", fam, locus, None, star)
    if match is None:
        return None
    kind, fam, locus, arm = match.groups()
    return ParsedName("let" if kind == "let" else "miR", fam, locus, arm, star)


@dataclass(frozen=True)
class Resolution:
    """Result of resolving one name against miRBase."""

    query: str
    normalized: str
    mature: tuple[str, ...]
    legacy: tuple[str, ...]
    rule: str

    @property
    def found(self) -> bool:
        return bool(self.mature)


@dataclass
class MirbaseNames:
    """Mature and hairpin names of one species from miRBase (FASTA + GFF3).

    ``accession`` maps mature name -> MIMAT accession; ``hairpin_mature`` maps hairpin name
    (e.g. ``hsa-mir-16-1``) -> mature names derived from it.
    """

    prefix: str
    accession: dict[str, str]
    hairpin_mature: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def from_files(cls, mature_fasta: str | Path, gff3: str | Path, prefix: str = "hsa") -> "MirbaseNames":
        """Read mature names from the miRBase FASTA and hairpin links from the GFF3."""
        accession: dict[str, str] = {}
        opener = gzip.open if str(mature_fasta).endswith(".gz") else open
        with opener(mature_fasta, "rt") as handle:
            for line in handle:
                if line.startswith(">"):
                    fields = line[1:].split()
                    if fields and fields[0].startswith(prefix + "-"):
                        accession[fields[0]] = fields[1] if len(fields) > 1 else ""
        if not accession:
            raise ExomirInputError(
                f"no mature miRNA with prefix '{prefix}-' found",
                where=str(mature_fasta),
                fix="check markers.mirbase_mature and markers.mirbase_prefix",
            )
        hairpin_name: dict[str, str] = {}
        derived: list[tuple[str, str]] = []
        opener = gzip.open if str(gff3).endswith(".gz") else open
        with opener(gff3, "rt") as handle:
            for line in handle:
                if line.startswith("#") or not line.strip():
                    continue
                cols = line.rstrip("\n").split("\t")
                if len(cols) < 9:
                    continue
                attrs = dict(kv.split("=", 1) for kv in cols[8].split(";") if "=" in kv)
                if cols[2] == "miRNA_primary_transcript":
                    hairpin_name[attrs["ID"]] = attrs["Name"]
                elif cols[2] == "miRNA" and "Derives_from" in attrs:
                    derived.append((attrs["Name"], attrs["Derives_from"]))
        links: dict[str, list[str]] = {}
        for mature, hairpin_id in derived:
            hairpin = hairpin_name.get(hairpin_id)
            if hairpin is None or mature not in accession:
                continue
            links.setdefault(hairpin, [])
            if mature not in links[hairpin]:
                links[hairpin].append(mature)
        return cls(
            prefix=prefix, accession=accession, hairpin_mature={k: sorted(v) for k, v in links.items()}
        )

    # -- family helpers ---------------------------------------------------------------------
    def hairpins_of(self, parsed: ParsedName) -> list[str]:
        """Hairpins of the family (all loci), or of one locus when ``parsed.locus`` is set."""
        kind = "let" if parsed.kind == "let" else "mir"
        base = f"{self.prefix}-{kind}-{parsed.family}"
        if parsed.locus:
            return [h for h in (f"{base}-{parsed.locus}",) if h in self.hairpin_mature]
        return sorted(
            h for h in self.hairpin_mature if h == base or re.fullmatch(re.escape(base) + r"-\d+", h)
        )

    def matures_of(self, hairpins: Iterable[str]) -> list[str]:
        out: set[str] = set()
        for hairpin in hairpins:
            out.update(self.hairpin_mature.get(hairpin, []))
        return sorted(out)

    def legacy_arm(self, family: list[str], family_name: str) -> list[str]:
        """Mature name the arm-less legacy name denoted (e.g. miR-223 -> hsa-miR-223-3p).

        Rule: an explicit :data:`LEGACY_ARM` entry wins; otherwise prefer mature names that carry
        no locus number (the arm shared by all loci was the named miRNA, the locus-numbered
        ones were the star strands), then the oldest MIMAT accession (the first-described
        strand kept the plain name).
        """
        if len(family) <= 1:
            return list(family)
        if family_name in LEGACY_ARM:
            name = f"{self.prefix}-{LEGACY_ARM[family_name]}"
            return [name] if name in self.accession else []
        candidates = [m for m in family if (p := _MATURE_RE.match(m)) and p.group(4) is None] or list(family)
        return [min(candidates, key=lambda m: (self.accession.get(m, "~"), m))]


def resolve_name(name: str, mirbase: MirbaseNames) -> Resolution:
    """Resolve a literature miRNA name to miRBase mature names.

    * arm given (``miR-21-5p``): that mature; if the arm exists only per locus
      (``miR-16-3p``), all loci's mature names of that arm;
    * no arm (``miR-21``): both arms; all loci of multi-locus miRNAs (``miR-16`` -> 16-5p,
      16-1-3p, 16-2-3p);
    * locus (``miR-16-1``, ``let-7a-2``): the mature names of that hairpin;
    * star (``miR-223*``): the arm(s) other than the legacy arm;
    * renamed (``miR-451`` -> ``miR-451a``): through :data:`RENAMED`.

    ``legacy`` holds the single mature the arm-less historical name referred to (same as
    ``mature`` when the name is specific).
    """
    parsed = parse_name(name)
    if parsed is None:
        return Resolution(name, "", (), (), "not a miRNA name")
    rule_parts: list[str] = []
    family_key = parsed.family_name
    if family_key in REMOVED:
        return Resolution(name, str(parsed), (), (), REMOVED[family_key])
    if family_key in RENAMED:
        target = parse_name(RENAMED[family_key])
        assert target is not None
        rule_parts.append(f"renamed {family_key} -> {RENAMED[family_key]}")
        parsed = ParsedName(
            target.kind, target.family, parsed.locus or target.locus, parsed.arm or target.arm, parsed.star
        )
    prefix = mirbase.prefix
    hairpins = mirbase.hairpins_of(parsed)
    family_all = mirbase.matures_of(
        mirbase.hairpins_of(ParsedName(parsed.kind, parsed.family, None, None, False))
    )
    normalized = str(parsed)

    def done(mature: Sequence[str], legacy: Sequence[str], rule: str) -> Resolution:
        rule_parts.append(rule)
        return Resolution(
            name, normalized, tuple(sorted(mature)), tuple(sorted(legacy)), "; ".join(rule_parts)
        )

    if parsed.arm:
        exact = (
            f"{prefix}-{parsed.family_name}" + (f"-{parsed.locus}" if parsed.locus else "") + f"-{parsed.arm}"
        )
        if exact in mirbase.accession:
            return done([exact], [exact], "exact mature name")
        same_arm = [m for m in mirbase.matures_of(hairpins) if m.endswith("-" + parsed.arm)]
        if same_arm:
            return done(same_arm, same_arm, f"{parsed.arm} arm of {len(hairpins)} locus/loci")
        return done([], [], "arm not in miRBase")
    exact = f"{prefix}-{parsed.family_name}" + (f"-{parsed.locus}" if parsed.locus else "")
    if not parsed.star and exact in mirbase.accession and len(family_all) <= 1:
        return done([exact], [exact], "exact mature name (single mature)")
    if not hairpins:
        if exact in mirbase.accession:
            return done([exact], [exact], "exact mature name")
        return done([], [], "not in miRBase 22.1")
    matures = mirbase.matures_of(hairpins)
    legacy_family = mirbase.legacy_arm(family_all, parsed.family_name)
    if parsed.star:
        star_arms = [m for m in matures if m not in legacy_family]
        return done(star_arms, star_arms, "star strand (arm other than the legacy arm)")
    legacy = [m for m in matures if m in legacy_family] or legacy_family
    if parsed.locus:
        return done(matures, legacy, f"all mature names of hairpin {hairpins[0]}")
    rule = "both arms" if len(hairpins) == 1 else f"both arms, all {len(hairpins)} loci"
    if len(matures) == 1:
        rule = "single mature"
    return done(matures, legacy, rule)


def expand_review_name(text: str) -> list[str]:
    """Split a name as written in a review into single miRNA names.

    ``miR-221/222`` -> [miR-221, miR-222]; ``miR-127, -197, -222, and -223`` -> four names.
    """
    parts = re.split(r"\s*(?:,|/|\band\b)\s*", text.strip())
    names: list[str] = []
    stem = ""
    for part in (p.strip() for p in parts):
        if not part:
            continue
        parsed = parse_name(part)
        if parsed is not None:
            stem = parsed.kind
            names.append(str(parsed))
        elif stem and re.fullmatch(r"-?\d+[a-z]*(-\d+)?(-[35]p)?", part):
            names.append(f"{stem}-{part.lstrip('-')}")
        else:
            names.append(part)
    return names


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
        resolved_by, resolver_names, legacy, final = [], [], [], []
        for line, (mirna, curated) in enumerate(zip(df["mirna"], df["mirbase_names"]), start=2):
            res = resolve_name(mirna, mirbase)
            names = [n for n in curated.split(";") if n] if curated else list(res.mature)
            unknown = [n for n in names if n not in mirbase.accession]
            if unknown:
                raise ExomirInputError(
                    f"line {line}: mirbase_names {', '.join(unknown)} not in miRBase (prefix {mirbase.prefix})",
                    where=str(path),
                    fix="use miRBase 22.1 mature names, or leave mirbase_names empty to resolve automatically",
                )
            if not names:
                log.warning(
                    "%s line %d: %s does not resolve to a miRBase mature name (%s)",
                    path,
                    line,
                    mirna,
                    res.rule,
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
        tables.append(df)
    out = pd.concat(tables, ignore_index=True)
    dup = out["entry_id"][out["entry_id"].duplicated()].unique()
    if len(dup):
        raise ExomirInputError(
            f"entry_id used more than once across catalogues: {', '.join(sorted(dup))}",
            where="config markers.catalogues",
            fix="give every row of every catalogue its own entry_id",
        )
    return out.sort_values(["mirna", "role", "entry_id"], key=_natural_key).reset_index(drop=True)


def _natural_key(series: pd.Series) -> pd.Series:
    """Sort key putting miR-9 before miR-10 (numbers compared as numbers)."""

    def key(text: str) -> str:
        return re.sub(r"\d+", lambda m: f"{int(m.group()):08d}", str(text))

    return series.map(key)


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


# --------------------------------------------------------------------------------------------
# Contrast groups and annotation
# --------------------------------------------------------------------------------------------
def contrast_orientation(level: str, reference: str, case_levels: Sequence[str]) -> int:
    """+1 when ``level`` is the cancer group, -1 when ``reference`` is, 0 when unknown.

    Literature directions ("up in cancer") are mapped to the contrast's log2 fold change
    (level vs reference) by this sign.
    """
    cases = {c.lower() for c in case_levels}
    level_case, ref_case = level.lower() in cases, reference.lower() in cases
    if level_case and not ref_case:
        return 1
    if ref_case and not level_case:
        return -1
    return 0


def contrast_samples(
    samples_tsv: str | Path, contrast: Mapping[str, str], available: Sequence[str]
) -> tuple[list[str], list[str]]:
    """Level and reference samples of a contrast, in sample-sheet order.

    Read from the DE stage's ``samples.tsv`` (``sample``, design columns, ``used``): a sample
    counts when ``used`` is "yes", its ``contrast['factor']`` value is the level or the
    reference, and it is a column of the expression matrix (``available``).
    """
    df = pd.read_csv(samples_tsv, sep="\t", dtype=str, keep_default_na=False)
    factor = contrast["factor"]
    for column in ("sample", factor):
        if column not in df.columns:
            raise ExomirInputError(
                f"column '{column}' missing (needed for contrast '{contrast['name']}')",
                where=str(samples_tsv),
                fix="check diffexp.contrasts[].factor against the sample sheet and re-run the diffexp stage",
            )
    used = df["used"].str.strip().str.lower().isin(["yes", "true", "1"]) if "used" in df.columns else True
    avail = set(available)
    df = df[used & df["sample"].isin(avail)]
    level = df.loc[df[factor] == contrast["level"], "sample"].tolist()
    reference = df.loc[df[factor] == contrast["reference"], "sample"].tolist()
    if not level or not reference:
        raise ExomirInputError(
            f"contrast '{contrast['name']}' has {len(level)} '{contrast['level']}' and {len(reference)} "
            f"'{contrast['reference']}' samples among the used samples",
            where=str(samples_tsv),
            fix="check diffexp.contrasts (factor, level, reference) against the sample sheet",
        )
    return level, reference


def find_contrast(contrasts: Sequence[Mapping[str, str]], name: str) -> dict[str, str]:
    """The contrast called ``name`` from config ``diffexp.contrasts``."""
    for contrast in contrasts:
        if contrast.get("name") == name:
            missing = [k for k in ("factor", "level", "reference") if not contrast.get(k)]
            if missing:
                raise ExomirInputError(
                    f"contrast '{name}' lacks {', '.join(missing)}",
                    where="config diffexp.contrasts",
                    fix="give name, factor, level, reference",
                )
            return {k: str(contrast[k]) for k in ("name", "factor", "level", "reference")}
    raise ExomirInputError(
        f"no contrast named '{name}'",
        where="config diffexp.contrasts",
        fix="add the contrast or remove it from the requested outputs",
    )


def _sign(value: float) -> int:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value == 0:
        return 0
    return 1 if value > 0 else -1


def concordance(direction: str, detected: bool, lfc: float, orientation: int) -> tuple[str, str]:
    """Concordance of an observed log2 fold change with a literature direction.

    Returns (concordance, expected sign text). ``orientation`` is +1 when the contrast's level
    is the cancer group, -1 when the reference is, 0 when unknown (then no direction can be
    compared: "direction not stated"). A detected miRNA without a log2 fold change (left out
    by the DE prefilter) is "not tested".
    """
    if not detected:
        return "not detected", ""
    if lfc is None or math.isnan(lfc):
        return "not tested", ""
    if direction not in ("up", "down") or orientation == 0:
        return "direction not stated", ""
    expected = (1 if direction == "up" else -1) * orientation
    observed = _sign(lfc)
    text = "positive" if expected > 0 else "negative"
    if observed == 0:
        return "direction not stated", text
    return ("concordant" if observed == expected else "discordant"), text


def detected_mirnas(
    counts: pd.DataFrame, level: Sequence[str], reference: Sequence[str], min_count: int, min_fraction: float
) -> set[str]:
    """miRNAs with >= min_count reads in >= min_fraction of the samples of either group."""
    out: set[str] = set()
    for group in (level, reference):
        cols = [s for s in group if s in counts.columns]
        if not cols:
            continue
        frac = (counts[cols] >= min_count).mean(axis=1)
        out.update(counts.index[frac >= min_fraction - 1e-12])
    return out


def annotate_contrast(
    resolved: pd.DataFrame,
    results: pd.DataFrame,
    counts: pd.DataFrame,
    contrast: Mapping[str, str],
    level_samples: Sequence[str],
    reference_samples: Sequence[str],
    case_levels: Sequence[str],
    alpha: float,
    min_count: int,
    min_fraction: float,
) -> pd.DataFrame:
    """One row per (catalogue entry, resolved mature name) with DE results and concordance.

    ``detected`` requires both enough reads (:func:`detected_mirnas`) and a DE result (non-NA
    log2 fold change). Entries that resolve to no mature name get one row with empty ``mature``.
    """
    orientation = contrast_orientation(contrast["level"], contrast["reference"], case_levels)
    if orientation == 0:
        log.warning(
            "contrast %s: not exactly one of '%s' and '%s' is in markers.case_levels %s; "
            "literature directions are not compared (concordance 'direction not stated')",
            contrast["name"],
            contrast["level"],
            contrast["reference"],
            list(case_levels),
        )
    det = detected_mirnas(counts, level_samples, reference_samples, min_count, min_fraction)
    res = results.set_index("mirna")
    lvl, ref = contrast["level"], contrast["reference"]
    mean_cols = [c for c in (f"mean_norm_{lvl}", f"mean_norm_{ref}") if c in res.columns]
    rows = []
    keep = [
        "catalogue",
        "entry_id",
        "name_in_review",
        "mirna",
        "role",
        "function",
        "drug",
        "targets",
        "direction",
        "comparison",
        "context",
        "source",
        "review_refs",
        "cited_papers",
        "notes",
        "legacy_mature",
    ]
    for entry in resolved.to_dict(orient="records"):
        names = [n for n in entry["mirbase_names"].split(";") if n] or [""]
        legacy = set(entry["legacy_mature"].split(";"))
        for mature in names:
            row = {k: entry.get(k, "") for k in keep}
            row["mature"] = mature
            row["legacy_arm"] = "yes" if mature and mature in legacy else "no"
            in_res = mature in res.index
            lfc = float(res.at[mature, "log2FoldChange"]) if in_res else float("nan")
            detected = bool(mature) and mature in det
            tested = detected and not math.isnan(lfc)
            row["detected"] = "yes" if detected else "no"
            row["tested"] = "yes" if tested else "no"
            for col in [
                "baseMean",
                "log2FoldChange",
                "log2FoldChange_shrunk",
                "lfcSE",
                "stat",
                "pvalue",
                "padj",
                *mean_cols,
            ]:
                row[col] = float(res.at[mature, col]) if in_res and col in res.columns else float("nan")
            padj = row["padj"]
            row["significant"] = "yes" if tested and not math.isnan(padj) and padj < alpha else "no"
            row["concordance"], row["expected_lfc_sign"] = concordance(
                entry["direction"], detected, lfc, orientation
            )
            rows.append(row)
    out = pd.DataFrame(rows)
    out.insert(0, "contrast", contrast["name"])
    out["orientation"] = {
        1: f"{lvl} is the cancer group",
        -1: f"{ref} is the cancer group",
        0: "unknown: neither level is in markers.case_levels",
    }[orientation]
    out = out.drop(columns=["legacy_mature"])
    out = out.sort_values(["mirna", "role", "entry_id", "mature"], key=_natural_key).reset_index(drop=True)
    return out


# --------------------------------------------------------------------------------------------
# Diagnostic performance
# --------------------------------------------------------------------------------------------
def auc_score(positive: np.ndarray, negative: np.ndarray) -> float:
    """ROC AUC = P(score of a positive > score of a negative) + 0.5 P(tie) (Mann-Whitney)."""
    pos = np.asarray(positive, float)[:, None]
    neg = np.asarray(negative, float)[None, :]
    return float(((pos > neg).sum() + 0.5 * (pos == neg).sum()) / (pos.size * neg.size))


def bootstrap_auc_ci(
    positive: np.ndarray, negative: np.ndarray, n_boot: int, seed: int, level: float = 0.95
) -> tuple[float, float]:
    """Percentile CI of the AUC from a bootstrap stratified by group (each group resampled)."""
    rng = np.random.default_rng(seed)
    pos = np.asarray(positive, float)
    neg = np.asarray(negative, float)
    ip = rng.integers(0, pos.size, size=(n_boot, pos.size))
    ineg = rng.integers(0, neg.size, size=(n_boot, neg.size))
    bp = pos[ip][:, :, None]
    bn = neg[ineg][:, None, :]
    aucs = ((bp > bn).sum(axis=(1, 2)) + 0.5 * (bp == bn).sum(axis=(1, 2))) / (pos.size * neg.size)
    tail = (1 - level) / 2
    return float(np.quantile(aucs, tail)), float(np.quantile(aucs, 1 - tail))


def roc_curve_points(positive: np.ndarray, negative: np.ndarray) -> pd.DataFrame:
    """ROC curve (fpr, tpr, threshold): a point per distinct score, highest threshold first."""
    scores = np.concatenate([positive, negative])
    labels = np.concatenate([np.ones(len(positive)), np.zeros(len(negative))])
    rows = [(0.0, 0.0, float("inf"))]
    for thr in sorted(set(scores.tolist()), reverse=True):
        pred = scores >= thr
        rows.append(
            (
                float((pred & (labels == 0)).sum() / len(negative)),
                float((pred & (labels == 1)).sum() / len(positive)),
                float(thr),
            )
        )
    return pd.DataFrame(rows, columns=["fpr", "tpr", "threshold"])


def single_marker_auc(
    vst: pd.DataFrame,
    features: Sequence[str],
    level: Sequence[str],
    reference: Sequence[str],
    n_boot: int,
    seed: int,
) -> pd.DataFrame:
    """AUC of each feature for separating level (positive) from reference samples on VST values.

    ``auc`` uses "higher in level" as the rule; ``auc_best_direction`` = max(auc, 1 - auc)
    picks the direction after looking at the data and is therefore optimistic.
    """
    rows = []
    for feature in features:
        pos = vst.loc[feature, list(level)].to_numpy(float)
        neg = vst.loc[feature, list(reference)].to_numpy(float)
        auc = auc_score(pos, neg)
        lo, hi = bootstrap_auc_ci(pos, neg, n_boot, seed)
        best = max(auc, 1 - auc)
        rows.append(
            {
                "mature": feature,
                "auc": auc,
                "auc_ci_low": lo,
                "auc_ci_high": hi,
                "higher_in": "level" if auc >= 0.5 else "reference",
                "auc_best_direction": best,
                "auc_best_ci_low": lo if auc >= 0.5 else 1 - hi,
                "auc_best_ci_high": hi if auc >= 0.5 else 1 - lo,
                "n_level": len(pos),
                "n_reference": len(neg),
            }
        )
    out = pd.DataFrame(
        rows,
        columns=[
            "mature",
            "auc",
            "auc_ci_low",
            "auc_ci_high",
            "higher_in",
            "auc_best_direction",
            "auc_best_ci_low",
            "auc_best_ci_high",
            "n_level",
            "n_reference",
        ],
    )
    out = out.sort_values(["auc_best_direction", "mature"], ascending=[False, True], kind="mergesort")
    return out.reset_index(drop=True)


@dataclass
class PanelResult:
    """Nested cross-validated panel performance."""

    auc_per_repeat: list[float]
    oof_score: np.ndarray  # out-of-fold probability per sample, averaged over repeats
    labels: np.ndarray
    selection_frequency: dict[str, float]
    mean_coefficient: dict[str, float]
    n_splits: int
    n_repeats: int
    max_features: int


def nested_cv_panel(
    X: np.ndarray,
    y: np.ndarray,
    feature_names: Sequence[str],
    max_features: int,
    n_splits: int,
    n_repeats: int,
    seed: int,
    c_grid: Sequence[float] = (0.01, 0.1, 1.0, 10.0),
) -> PanelResult:
    """Repeated stratified k-fold CV of an L2 logistic-regression panel, fully nested.

    Inside every outer training fold: univariate selection of ``max_features`` features
    (ANOVA F), standardisation and the regularisation strength C (chosen by an inner
    stratified k-fold on the training fold only). The outer test fold is never seen by any
    of these steps, so the out-of-fold AUC carries no selection or scaling leak.
    """
    from sklearn.feature_selection import SelectKBest, f_classif
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV, StratifiedKFold
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    X = np.asarray(X, float)
    y = np.asarray(y, int)
    k = min(max_features, X.shape[1])
    oof = np.zeros((n_repeats, len(y)))
    aucs: list[float] = []
    chosen = np.zeros(X.shape[1])
    coef_sum = np.zeros(X.shape[1])
    n_fits = 0
    for rep in range(n_repeats):
        outer = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=seed + rep)
        for train, test in outer.split(X, y):
            inner_splits = max(2, min(n_splits, int(np.bincount(y[train]).min())))
            pipe = Pipeline(
                [
                    ("select", SelectKBest(f_classif, k=k)),
                    ("scale", StandardScaler()),
                    ("model", LogisticRegression(l1_ratio=0, solver="liblinear", max_iter=5000)),
                ]
            )
            search = GridSearchCV(
                pipe,
                {"model__C": list(c_grid)},
                scoring="roc_auc",
                cv=StratifiedKFold(n_splits=inner_splits, shuffle=True, random_state=seed + 1000 + rep),
            )
            search.fit(X[train], y[train])
            oof[rep, test] = search.predict_proba(X[test])[:, 1]
            best = search.best_estimator_
            mask = best.named_steps["select"].get_support()
            chosen[mask] += 1
            coef_sum[mask] += best.named_steps["model"].coef_[0]
            n_fits += 1
        pos, neg = oof[rep, y == 1], oof[rep, y == 0]
        aucs.append(auc_score(pos, neg))
    return PanelResult(
        auc_per_repeat=aucs,
        oof_score=oof.mean(axis=0),
        labels=y,
        selection_frequency={f: float(chosen[i] / n_fits) for i, f in enumerate(feature_names)},
        mean_coefficient={
            f: float(coef_sum[i] / chosen[i]) if chosen[i] else 0.0 for i, f in enumerate(feature_names)
        },
        n_splits=n_splits,
        n_repeats=n_repeats,
        max_features=k,
    )


def _svg_setup():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams["svg.hashsalt"] = "exomir-markers"
    plt.rcParams["svg.fonttype"] = "none"
    return plt


def _save_svg(fig, path: str) -> None:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="svg", metadata={"Date": None, "Creator": "exomir"}, bbox_inches="tight")


def plot_dotplot(dots: pd.DataFrame, contrast: Mapping[str, str], alpha: float, path: str) -> None:
    """Catalogue dot-plot: LFC per detected catalogue miRNA; filled = significant; colour = literature."""
    plt = _svg_setup()
    height = max(2.5, 0.22 * len(dots) + 1.2)
    fig, ax = plt.subplots(figsize=(7, height))
    colours = {
        "expected positive": "#b2182b",
        "expected negative": "#2166ac",
        "direction not stated": "#7f7f7f",
        "conflicting": "#984ea3",
    }
    ypos = np.arange(len(dots))[::-1]
    for (_, row), yy in zip(dots.iterrows(), ypos):
        col = colours.get(row["literature"], "#7f7f7f")
        sig = row["significant"] == "yes"
        size = 20 + 15 * min(8.0, row["neg_log10_padj"] if not math.isnan(row["neg_log10_padj"]) else 0.0)
        ax.scatter(
            [row["log2FoldChange"]],
            [yy],
            s=size,
            facecolors=col if sig else "white",
            edgecolors=col,
            linewidths=1.2,
        )
    ax.axvline(0, color="black", lw=0.6)
    ax.set_yticks(ypos)
    ax.set_yticklabels([f"{m} ({r})" for m, r in zip(dots["mature"], dots["roles"])], fontsize=7)
    ax.set_xlabel(f"log2 fold change, {contrast['level']} vs {contrast['reference']}")
    ax.set_title(
        f"Jia et al. 2017 catalogue miRNAs, contrast {contrast['name']}\n"
        f"filled: padj < {alpha}; size: -log10 padj; colour: literature direction ({EXPLORATORY})",
        fontsize=8,
    )
    for label, col in colours.items():
        ax.scatter([], [], color=col, label=label, s=25)
    ax.legend(fontsize=7, loc="lower right", frameon=False)
    if dots.empty:
        ax.text(0.5, 0.5, "no catalogue miRNA detected", transform=ax.transAxes, ha="center")
    _save_svg(fig, path)
    plt.close(fig)


def plot_roc(roc: pd.DataFrame, labels: Mapping[str, str], contrast: Mapping[str, str], path: str) -> None:
    """ROC curves of the best single markers and the cross-validated panel."""
    plt = _svg_setup()
    fig, ax = plt.subplots(figsize=(5, 5))
    for curve, points in roc.groupby("curve", sort=False):
        ax.step(
            points["fpr"],
            points["tpr"],
            where="post",
            lw=2 if curve == "panel (nested CV)" else 1.2,
            label=labels.get(curve, curve),
        )
    ax.plot([0, 1], [0, 1], color="grey", lw=0.6, ls="--")
    ax.set_xlabel("1 - specificity")
    ax.set_ylabel("sensitivity")
    ax.set_title(f"ROC, {contrast['level']} vs {contrast['reference']} ({EXPLORATORY})", fontsize=8)
    ax.legend(fontsize=7, loc="lower right", frameon=False)
    if roc.empty:
        ax.text(0.5, 0.5, "not enough samples or markers", transform=ax.transAxes, ha="center")
    _save_svg(fig, path)
    plt.close(fig)


def dotplot_table(annotation: pd.DataFrame) -> pd.DataFrame:
    """One row per detected catalogue mature miRNA (entries merged) for the dot-plot and report."""
    det = annotation[annotation["tested"] == "yes"]
    rows = []
    for mature, group in det.groupby("mature", sort=False):
        expected = {e for e in group["expected_lfc_sign"] if e}
        literature = (
            "direction not stated"
            if not expected
            else "conflicting" if len(expected) > 1 else f"expected {expected.pop()}"
        )
        concord = sorted(set(group["concordance"]) - {"direction not stated"})
        first = group.iloc[0]
        padj = float(first["padj"])
        rows.append(
            {
                "mature": mature,
                "mirna": ";".join(dict.fromkeys(group["mirna"])),
                "roles": ";".join(dict.fromkeys(group["role"])),
                "entry_ids": ";".join(group["entry_id"]),
                "log2FoldChange": float(first["log2FoldChange"]),
                "log2FoldChange_shrunk": float(first["log2FoldChange_shrunk"]),
                "padj": padj,
                "neg_log10_padj": (
                    -math.log10(padj) if padj > 0 else (float("nan") if math.isnan(padj) else 300.0)
                ),
                "significant": first["significant"],
                "literature": literature,
                "concordance": ";".join(concord) if concord else "direction not stated",
            }
        )
    cols = [
        "mature",
        "mirna",
        "roles",
        "entry_ids",
        "log2FoldChange",
        "log2FoldChange_shrunk",
        "padj",
        "neg_log10_padj",
        "significant",
        "literature",
        "concordance",
    ]
    out = pd.DataFrame(rows, columns=cols)
    return out.sort_values(
        ["log2FoldChange", "mature"], ascending=[False, True], kind="mergesort"
    ).reset_index(drop=True)


def annotate_and_score(
    resolved_tsv: str,
    results_tsv: str,
    vst_tsv: str,
    counts_tsv: str,
    samples_tsv: str,
    contrasts: Sequence[Mapping[str, str]],
    contrast_name: str,
    case_levels: Sequence[str],
    alpha: float,
    min_count: int,
    min_fraction: float,
    n_boot: int,
    seed: int,
    panel_max_features: int,
    cv_folds: int,
    cv_repeats: int,
    roc_top: int,
    out_annotation: str,
    out_dotplot_tsv: str,
    out_dotplot_svg: str,
    out_auc: str,
    out_panel: str,
    out_panel_summary: str,
    out_roc_tsv: str,
    out_roc_svg: str,
) -> None:
    """Rule ``markers_contrast``: annotation, dot-plot, single-marker AUCs and the panel."""
    resolved = pd.read_csv(resolved_tsv, sep="\t", dtype=str, keep_default_na=False)
    results = read_tsv(results_tsv)
    for col in ("mirna", "log2FoldChange", "padj"):
        if col not in results.columns:
            raise ExomirInputError(
                f"column '{col}' missing", where=results_tsv, fix="re-run the diffexp stage"
            )
    counts = read_tsv(counts_tsv, index_col=0)
    vst = read_tsv(vst_tsv, index_col=0)
    contrast = find_contrast(contrasts, contrast_name)
    level, reference = contrast_samples(samples_tsv, contrast, list(vst.columns))
    annotation = annotate_contrast(
        resolved, results, counts, contrast, level, reference, case_levels, alpha, min_count, min_fraction
    )
    write_tsv(annotation, out_annotation)
    dots = dotplot_table(annotation)
    write_tsv(dots, out_dotplot_tsv)
    plot_dotplot(dots, contrast, alpha, out_dotplot_svg)
    log.info(
        "contrast %s: %d catalogue rows, %d detected mature miRNAs; concordance %s",
        contrast["name"],
        len(annotation),
        len(dots),
        annotation["concordance"].value_counts().to_dict(),
    )

    features = [m for m in dots["mature"] if m in vst.index]
    features = sorted(features, key=lambda m: _natural_key(pd.Series([m]))[0])
    auc = single_marker_auc(vst, features, level, reference, n_boot, seed)
    roles = dict(zip(dots["mature"], dots["roles"]))
    auc.insert(1, "roles", [roles.get(m, "") for m in auc["mature"]])
    auc.insert(0, "contrast", contrast["name"])
    auc["level"], auc["reference"] = contrast["level"], contrast["reference"]
    auc["bootstrap"] = f"{n_boot} stratified resamples, seed {seed}, percentile 95% CI"
    auc["analysis"] = EXPLORATORY
    write_tsv(auc, out_auc)

    roc_parts = []
    labels: dict[str, str] = {}
    for _, row in auc.head(roc_top).iterrows():
        sign = 1.0 if row["higher_in"] == "level" else -1.0
        pts = roc_curve_points(
            sign * vst.loc[row["mature"], level].to_numpy(float),
            sign * vst.loc[row["mature"], reference].to_numpy(float),
        )
        pts.insert(0, "curve", row["mature"])
        roc_parts.append(pts)
        labels[row["mature"]] = (
            f"{row['mature']} (AUC {row['auc_best_direction']:.2f}, direction chosen on data)"
        )

    min_group = min(len(level), len(reference))
    n_splits = min(cv_folds, min_group)
    summary = {
        "contrast": contrast["name"],
        "level": contrast["level"],
        "reference": contrast["reference"],
        "n_level": len(level),
        "n_reference": len(reference),
        "n_candidate_features": len(features),
        "max_features": min(panel_max_features, len(features)),
        "cv_folds": n_splits,
        "cv_repeats": cv_repeats,
        "seed": seed,
        "method": "L2 logistic regression; per outer fold: ANOVA-F selection, standardisation and C chosen "
        "by inner stratified CV on the training fold only (nested)",
        "cv_auc_mean": float("nan"),
        "cv_auc_sd": float("nan"),
        "cv_auc_min": float("nan"),
        "cv_auc_max": float("nan"),
        "status": "",
        "analysis": EXPLORATORY,
    }
    panel_rows = []
    if len(features) < 1 or n_splits < 2 or min_group < 3:
        summary["status"] = (
            f"not computed: needs >= 1 detected catalogue miRNA and >= 3 samples per group "
            f"(have {len(features)} miRNAs, {len(level)}/{len(reference)} samples)"
        )
    else:
        X = vst.loc[features, level + reference].to_numpy(float).T
        y = np.array([1] * len(level) + [0] * len(reference))
        panel = nested_cv_panel(X, y, features, panel_max_features, n_splits, cv_repeats, seed)
        arr = np.array(panel.auc_per_repeat)
        summary.update(
            cv_auc_mean=float(arr.mean()),
            cv_auc_sd=float(arr.std(ddof=1)) if len(arr) > 1 else 0.0,
            cv_auc_min=float(arr.min()),
            cv_auc_max=float(arr.max()),
            status="computed",
        )
        for f in features:
            panel_rows.append(
                {
                    "contrast": contrast["name"],
                    "mature": f,
                    "roles": roles.get(f, ""),
                    "selection_frequency": panel.selection_frequency[f],
                    "mean_standardized_coefficient": panel.mean_coefficient[f],
                    "analysis": EXPLORATORY,
                }
            )
        pts = roc_curve_points(panel.oof_score[y == 1], panel.oof_score[y == 0])
        pts.insert(0, "curve", "panel (nested CV)")
        roc_parts.insert(0, pts)
        labels["panel (nested CV)"] = f"panel, out-of-fold (mean CV AUC {arr.mean():.2f})"
    panel_df = pd.DataFrame(
        panel_rows,
        columns=[
            "contrast",
            "mature",
            "roles",
            "selection_frequency",
            "mean_standardized_coefficient",
            "analysis",
        ],
    )
    if not panel_df.empty:
        panel_df = panel_df.sort_values(
            ["selection_frequency", "mature"], ascending=[False, True], kind="mergesort"
        )
    write_tsv(panel_df, out_panel)
    write_tsv(pd.DataFrame([summary]), out_panel_summary)
    roc = (
        pd.concat(roc_parts, ignore_index=True)
        if roc_parts
        else pd.DataFrame(columns=["curve", "fpr", "tpr", "threshold"])
    )
    roc["analysis"] = EXPLORATORY
    write_tsv(roc, out_roc_tsv)
    plot_roc(roc, labels, contrast, out_roc_svg)

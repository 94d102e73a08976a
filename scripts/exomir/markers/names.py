"""miRNA name resolution: literature names (``miR-451``, ``MIR21``, ``miR-223*``) to miRBase 22.1."""

from __future__ import annotations

import gzip
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import pandas as pd

from exomir.errors import ExomirInputError

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


def _open_text(path: str | Path):
    return gzip.open(path, "rt") if str(path).endswith(".gz") else open(path, "rt")


def _read_mature_accessions(mature_fasta: str | Path, prefix: str) -> dict[str, str]:
    """Mature name -> MIMAT accession of every ``prefix-`` record of the miRBase mature FASTA."""
    accession: dict[str, str] = {}
    with _open_text(mature_fasta) as handle:
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
    return accession


def _read_hairpin_links(gff3: str | Path, accession: Mapping[str, str]) -> dict[str, list[str]]:
    """Hairpin name -> mature names derived from it (GFF3 ``Derives_from``), in file order."""
    hairpin_name: dict[str, str] = {}
    derived: list[tuple[str, str]] = []
    with _open_text(gff3) as handle:
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
    return links


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
        accession = _read_mature_accessions(mature_fasta, prefix)
        links = _read_hairpin_links(gff3, accession)
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
    mature, legacy, rule = _match_parsed(parsed, mirbase)
    rule_parts.append(rule)
    return Resolution(name, str(parsed), tuple(sorted(mature)), tuple(sorted(legacy)), "; ".join(rule_parts))


def _match_parsed(parsed: ParsedName, mirbase: MirbaseNames) -> tuple[list[str], list[str], str]:
    """(mature names, legacy names, rule) of a parsed, already-renamed name (rules: :func:`resolve_name`)."""
    prefix = mirbase.prefix
    hairpins = mirbase.hairpins_of(parsed)
    family_all = mirbase.matures_of(
        mirbase.hairpins_of(ParsedName(parsed.kind, parsed.family, None, None, False))
    )
    locus = f"-{parsed.locus}" if parsed.locus else ""
    if parsed.arm:
        exact = f"{prefix}-{parsed.family_name}{locus}-{parsed.arm}"
        if exact in mirbase.accession:
            return [exact], [exact], "exact mature name"
        same_arm = [m for m in mirbase.matures_of(hairpins) if m.endswith("-" + parsed.arm)]
        if same_arm:
            return same_arm, same_arm, f"{parsed.arm} arm of {len(hairpins)} locus/loci"
        return [], [], "arm not in miRBase"
    exact = f"{prefix}-{parsed.family_name}{locus}"
    if not parsed.star and exact in mirbase.accession and len(family_all) <= 1:
        return [exact], [exact], "exact mature name (single mature)"
    if not hairpins:
        if exact in mirbase.accession:
            return [exact], [exact], "exact mature name"
        return [], [], "not in miRBase 22.1"
    matures = mirbase.matures_of(hairpins)
    legacy_family = mirbase.legacy_arm(family_all, parsed.family_name)
    if parsed.star:
        star_arms = [m for m in matures if m not in legacy_family]
        return star_arms, star_arms, "star strand (arm other than the legacy arm)"
    legacy = [m for m in matures if m in legacy_family] or legacy_family
    if parsed.locus:
        return matures, legacy, f"all mature names of hairpin {hairpins[0]}"
    rule = "both arms" if len(hairpins) == 1 else f"both arms, all {len(hairpins)} loci"
    if len(matures) == 1:
        rule = "single mature"
    return matures, legacy, rule


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



def _natural_key(series: pd.Series) -> pd.Series:
    """Sort key putting miR-9 before miR-10 (numbers compared as numbers)."""

    def key(text: str) -> str:
        return re.sub(r"\d+", lambda m: f"{int(m.group()):08d}", str(text))

    return series.map(key)


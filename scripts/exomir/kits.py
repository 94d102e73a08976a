"""Small RNA-seq kit presets and 3' adapter auto-detection.

A kit preset says how to turn a read into an insert: which 3' adapter to cut,
how many nt to clip from either end, and where a UMI sits. Presets live in
``resources/kits/kits.yaml`` (sources in ``resources/kits/README.md``).

Adapter detection looks at the first reads of a sample and asks, for each read,
which kit's adapter probe (a 12-nt prefix of the adapter) starts *first* in the
read. Counting only the leftmost probe matters: 101-nt reads of a TruSeq library
read through the TruSeq adapter into the index and the legacy Illumina sequence,
and QIAseq reads continue into ``AGATCGGAAG`` (the NEBNext adapter start); the
adapter that was ligated to the insert is always the first one. A read whose
3' end is a prefix (>= ``min_partial`` nt) of a probe also counts, because in
short reads (36 nt) the adapter is often cut off by the end of the read.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections import Counter
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import yaml

from exomir import bundled
from exomir.errors import ExomirInputError
from exomir.io import atomic_open, open_text

LOG = logging.getLogger("exomir.kits")

#: Default location of the presets: bundled with the package (see exomir.bundled).
KITS_YAML = bundled.data_root() / "resources" / "kits" / "kits.yaml"

#: Length of the adapter prefix searched by detection.
PROBE_LENGTH = 12

#: Columns of ``{sample}.adapter_detection.tsv``.
DETECTION_COLUMNS = [
    "sample",
    "family",
    "kits",
    "probe",
    "reads_scanned",
    "reads_with_probe",
    "reads_leftmost",
    "fraction",
    "rank",
    "decision",
]


@dataclasses.dataclass(frozen=True)
class UmiLayout:
    """Read layout of a UMI kit: insert + ``before`` + UMI (``length`` nt) + ``after``."""

    before: str
    length: int
    after: str

    def cutadapt_adapter(self) -> str:
        """The 3' adapter that covers adapter, UMI (as N wildcards) and the following sequence."""
        return self.before + "N" * self.length + self.after


@dataclasses.dataclass(frozen=True)
class Kit:
    """One library kit preset."""

    name: str
    description: str
    adapter: str
    probe: str
    clip_5p: int
    clip_3p: int
    umi: UmiLayout | None
    family: str
    source: str
    notes: str = ""


def _check_dna(seq: str, what: str, where: str) -> str:
    seq = str(seq).strip().upper()
    if not seq or set(seq) - set("ACGTN"):
        raise ExomirInputError(
            f"{what} {seq!r} is not a DNA sequence (A, C, G, T, N)",
            where=where,
            fix="give the 3' adapter as it appears in read 1, for example TGGAATTCTCGGGTGCCAAGG",
        )
    return seq


def load_kits(path: str | os.PathLike = KITS_YAML) -> dict[str, Kit]:
    """Read the kit presets; ``custom`` is returned with an empty adapter."""
    with open(path, encoding="utf-8") as handle:
        raw = yaml.safe_load(handle)
    kits: dict[str, Kit] = {}
    for name, entry in raw.items():
        umi = entry.get("umi")
        kits[name] = Kit(
            name=name,
            description=entry["description"],
            adapter=entry.get("adapter") or "",
            probe=entry.get("probe") or "",
            clip_5p=int(entry.get("clip_5p") or 0),
            clip_3p=int(entry.get("clip_3p") or 0),
            umi=None if not umi else UmiLayout(umi["before"], int(umi["length"]), umi["after"]),
            family=entry.get("family") or name,
            source=entry.get("source", ""),
            notes=entry.get("notes") or "",
        )
    return kits


def custom_kit(adapter: str, clip_5p: int = 0, clip_3p: int = 0) -> Kit:
    """A preset built from ``preprocess.adapter`` / ``clip_5p`` / ``clip_3p``."""
    adapter = _check_dna(adapter, "preprocess.adapter", "config preprocess")
    if clip_5p < 0 or clip_3p < 0:
        raise ExomirInputError(
            "clip_5p and clip_3p must be >= 0", where="config preprocess", fix="use 0 for no clipping"
        )
    return Kit(
        name="custom",
        description="User-defined adapter",
        adapter=adapter,
        probe=adapter[:PROBE_LENGTH],
        clip_5p=int(clip_5p),
        clip_3p=int(clip_3p),
        umi=None,
        family="custom",
        source="user configuration",
    )


def get_kit(
    name: str,
    *,
    adapter: str | None = None,
    clip_5p: int | None = None,
    clip_3p: int | None = None,
    kits: Mapping[str, Kit] | None = None,
) -> Kit:
    """Return the preset ``name`` (``custom`` is built from ``adapter`` and the clips)."""
    kits = load_kits() if kits is None else kits
    if name == "custom":
        if not adapter:
            raise ExomirInputError(
                "kit is 'custom' but no adapter is given",
                where="config preprocess",
                fix="set preprocess.adapter to the 3' adapter sequence, or choose a kit preset",
            )
        return custom_kit(adapter, clip_5p or 0, clip_3p or 0)
    if name not in kits:
        raise ExomirInputError(
            f"unknown kit {name!r}",
            where="config preprocess.kit",
            fix=f"use 'auto', 'custom' or one of: {', '.join(k for k in kits if k != 'custom')}",
        )
    return kits[name]


# --------------------------------------------------------------------------------------
# Detection
# --------------------------------------------------------------------------------------


@dataclasses.dataclass
class Detection:
    """Result of adapter detection on the first reads of one sample."""

    sample: str
    reads_scanned: int
    rows: list[dict]  # one per adapter family, best first
    best_family: str | None
    best_kit: str | None
    fraction: float
    second_fraction: float
    confidence: str  # high, low or none
    message: str

    @property
    def ratio(self) -> float:
        """Best over second-best leftmost fraction (inf when nothing else was seen)."""
        if self.second_fraction == 0:
            return float("inf") if self.fraction > 0 else 0.0
        return self.fraction / self.second_fraction


def _families(kits: Iterable[Kit]) -> dict[str, tuple[str, list[str]]]:
    """family -> (probe, kit names in preset order); ``custom`` only when it has a probe."""
    families: dict[str, tuple[str, list[str]]] = {}
    for kit in kits:
        if not kit.probe:
            continue
        probe, names = families.setdefault(kit.family, (kit.probe, []))
        if probe != kit.probe:
            raise ValueError(f"kits of family {kit.family} have different probes")
        names.append(kit.name)
    return families


#: 4N hint: in libraries without random ends, abundant miRNAs make the commonest first
#: and last 4-mer of inserts >= 5 % of inserts (5.1-51.8 % in the 9 real read sets of
#: tests/data/reads); 4 random nt give about 1/256 = 0.4 %. Below this share at both ends,
#: detection suggests NEXTflex.
FOUR_N_MAX_SHARE = 0.025

#: Inserts (>= 15 nt) needed before the 4N hint is computed.
FOUR_N_MIN_INSERTS = 500


def end_kmer_shares(inserts: Sequence[str], k: int = 4, min_length: int = 15) -> tuple[float, float] | None:
    """Share of inserts carrying the commonest first and last ``k``-mer (inserts >= ``min_length``)."""
    long_inserts = [s for s in inserts if len(s) >= min_length]
    if len(long_inserts) < FOUR_N_MIN_INSERTS:
        return None
    first = Counter(s[:k] for s in long_inserts).most_common(1)[0][1]
    last = Counter(s[-k:] for s in long_inserts).most_common(1)[0][1]
    return first / len(long_inserts), last / len(long_inserts)


def read_sequences(paths: Sequence[str | os.PathLike], n_reads: int) -> list[str]:
    """The sequence lines of the first ``n_reads`` records over ``paths`` in order."""
    seqs: list[str] = []
    for path in paths:
        with open_text(path) as handle:
            for i, line in enumerate(handle):
                if i % 4 == 1:
                    seqs.append(line.rstrip("\r\n").upper())
                    if len(seqs) >= n_reads:
                        return seqs
    return seqs


def count_probes(
    seqs: Iterable[str],
    probes: Mapping[str, str],
    min_partial: int = 8,
    inserts: dict[str, list[str]] | None = None,
) -> tuple[dict[str, int], dict[str, int], int]:
    """Count, per family, reads containing its probe and reads where it is the leftmost.

    A probe is found when it occurs anywhere in the read, or when the read ends
    with at least ``min_partial`` nt of its start. Ties at the same position go to
    the longer match, then to the family listed first.
    Returns (reads_with_probe, reads_leftmost, number_of_reads). When ``inserts``
    is given, the insert before each leftmost full probe match is appended to
    ``inserts[family]``.
    """
    anywhere = {family: 0 for family in probes}
    leftmost = {family: 0 for family in probes}
    n = 0
    items = list(probes.items())
    for seq in seqs:
        n += 1
        best: tuple[int, int, int] | None = None  # (position, -match length, order)
        best_family = None
        for order, (family, probe) in enumerate(items):
            pos = seq.find(probe)
            length = len(probe)
            if pos < 0:
                pos = -1
                # 3' end of the read holds only the start of the adapter
                for k in range(min(len(probe) - 1, len(seq)), min_partial - 1, -1):
                    if seq.endswith(probe[:k]):
                        pos, length = len(seq) - k, k
                        break
            if pos < 0:
                continue
            anywhere[family] += 1
            key = (pos, -length, order)
            if best is None or key < best:
                best, best_family = key, family
        if best_family is not None:
            leftmost[best_family] += 1
            if inserts is not None and best[1] == -len(probes[best_family]):
                inserts.setdefault(best_family, []).append(seq[: best[0]])
    return anywhere, leftmost, n


def _ranked_rows(
    sample: str, families: Mapping[str, tuple[str, list[str]]], anywhere: Counter, leftmost: Counter, n: int
) -> list[dict]:
    """Detection table rows, families ranked by leftmost hits (ties: preset order)."""
    order = {family: i for i, family in enumerate(families)}
    ranked = sorted(families, key=lambda f: (-leftmost[f], order[f]))
    rows = []
    for rank, family in enumerate(ranked, start=1):
        probe, names = families[family]
        rows.append(
            {
                "sample": sample,
                "family": family,
                "kits": ",".join(names),
                "probe": probe,
                "reads_scanned": n,
                "reads_with_probe": anywhere[family],
                "reads_leftmost": leftmost[family],
                "fraction": leftmost[family] / n if n else 0.0,
                "rank": rank,
                "decision": "",
            }
        )
    return rows


def _confidence(fraction: float, second: float, n: int, min_fraction: float, min_ratio: float) -> str:
    """``high``, ``low`` or ``none`` (see :func:`detect_adapter`)."""
    if n == 0 or fraction < min_fraction:
        return "none"
    if (second == 0 and fraction > 0) or fraction >= min_ratio * second:
        return "high"
    return "low"


def _detected_message(
    family: str, families: Mapping[str, tuple[str, list[str]]], inserts: Sequence[str],
    fraction: float, second: float, n: int, confidence: str,
) -> str:
    """Log message for a detected family: kits sharing the adapter, a NEXTflex (4N) hint."""
    probe, names = families[family]
    message = (
        f"detected kit {names[0]} ({fraction:.1%} of {n} reads start their adapter with "
        f"{probe}; second best {second:.1%}; confidence {confidence})"
    )
    if len(names) > 1:
        message += (
            f"; kits {', '.join(names)} share this adapter and cannot be told apart by "
            f"adapter detection: set preprocess.kit if the library is not {names[0]}"
        )
    shares = end_kmer_shares(list(inserts))
    if "nextflex" in names and shares is not None and max(shares) < FOUR_N_MAX_SHARE:
        message += (
            f"; the commonest first and last 4 nt of the inserts cover only {shares[0]:.1%} and "
            f"{shares[1]:.1%} of them (random 4-nt ends?): this looks like a NEXTflex (4N) "
            "library: consider preprocess.kit: nextflex"
        )
    return message


def detect_adapter(
    sample: str,
    fastqs: Sequence[str | os.PathLike],
    *,
    n_reads: int = 10000,
    min_fraction: float = 0.1,
    min_ratio: float = 3.0,
    min_partial: int = 8,
    extra: Kit | None = None,
    kits: Mapping[str, Kit] | None = None,
) -> Detection:
    """Detect the library kit of ``sample`` from its first ``n_reads`` reads.

    The family with the most leftmost probe hits wins. Confidence is ``high``
    when its fraction of reads is >= ``min_fraction`` and >= ``min_ratio`` times
    the second family; ``low`` when only the fraction threshold is met; ``none``
    otherwise. ``extra`` (a custom kit) is added as its own candidate.
    """
    kits = load_kits() if kits is None else kits
    candidates = [k for k in kits.values() if k.name != "custom"]
    if extra is not None and extra.probe:
        candidates.append(extra)
    families = _families(candidates)
    seqs = read_sequences(fastqs, n_reads)
    probes = {family: probe for family, (probe, _) in families.items()}
    inserts: dict[str, list[str]] = {}
    anywhere, leftmost, n = count_probes(seqs, probes, min_partial=min_partial, inserts=inserts)
    rows = _ranked_rows(sample, families, anywhere, leftmost, n)
    fraction = rows[0]["fraction"] if rows else 0.0
    second = rows[1]["fraction"] if len(rows) > 1 else 0.0
    confidence = _confidence(fraction, second, n, min_fraction, min_ratio)
    best_family = rows[0]["family"] if rows and confidence != "none" else None
    best_kit = families[best_family][1][0] if best_family else None
    if best_family:
        message = _detected_message(
            best_family, families, inserts.get(best_family, []), fraction, second, n, confidence
        )
    else:
        message = (
            f"no known adapter found: best {rows[0]['kits'] if rows else '-'} in "
            f"{fraction:.1%} of {n} reads (< {min_fraction:.0%})"
        )
    for row in rows:
        if row["family"] == best_family:
            row["decision"] = f"detected ({confidence} confidence)"
    return Detection(sample, n, rows, best_family, best_kit, fraction, second, confidence, message)


def resolve_kit(
    configured: str,
    detection: Detection,
    *,
    adapter: str | None = None,
    clip_5p: int | None = None,
    clip_3p: int | None = None,
    kits: Mapping[str, Kit] | None = None,
) -> tuple[Kit, str]:
    """Choose the kit to trim with and explain the choice.

    ``auto`` uses the detected kit (an error when nothing was detected). A
    configured kit is always used; when the data point to another adapter
    family a warning is logged and returned, suggesting the detected kit.
    """
    kits = load_kits() if kits is None else kits
    if configured == "auto":
        if detection.best_kit is None:
            raise ExomirInputError(
                f"preprocess.kit is 'auto' but {detection.message}",
                where=f"sample {detection.sample}",
                fix="set preprocess.kit to the library kit (or 'custom' with preprocess.adapter); "
                "see the adapter_detection.tsv table for what was searched",
            )
        kit = get_kit(detection.best_kit, kits=kits)
        note = f"kit auto: using {kit.name}: {detection.message}"
        if detection.confidence == "low":
            LOG.warning("%s: low-confidence detection; check the detection table", detection.sample)
        return kit, note
    kit = get_kit(configured, adapter=adapter, clip_5p=clip_5p, clip_3p=clip_3p, kits=kits)
    best_probe = detection.rows[0]["probe"] if detection.rows else None
    agrees = detection.best_family == kit.family or best_probe == kit.probe
    if detection.best_family is not None and not agrees:
        note = (
            f"WARNING: preprocess.kit is {kit.name} (adapter {kit.adapter}) but the reads of "
            f"sample {detection.sample} point to kit {detection.best_kit}: {detection.message}. "
            f"Check the library kit; consider preprocess.kit: {detection.best_kit}"
        )
        LOG.warning(note)
        return kit, note
    return kit, f"kit {kit.name} configured; {detection.message}"


def write_detection(detection: Detection, chosen: Kit, note: str, path: str | os.PathLike) -> None:
    """Write the detection table of one sample.

    The table has one row per adapter family (best first) and a last row with
    family ``chosen`` holding the kit used for trimming and the note (including
    any WARNING) in ``decision``.
    """
    with atomic_open(path, "wt") as handle:
        handle.write("\t".join(DETECTION_COLUMNS) + "\n")
        for row in detection.rows:
            values = dict(row, fraction=f"{row['fraction']:.4f}")
            handle.write("\t".join(str(values[c]) for c in DETECTION_COLUMNS) + "\n")
        summary = {
            "sample": detection.sample,
            "family": "chosen",
            "kits": chosen.name,
            "probe": chosen.probe,
            "reads_scanned": detection.reads_scanned,
            "reads_with_probe": "",
            "reads_leftmost": "",
            "fraction": "",
            "rank": "",
            "decision": note.replace("\t", " ").replace("\n", " "),
        }
        handle.write("\t".join(str(summary[c]) for c in DETECTION_COLUMNS) + "\n")


def detect_sample_kit(
    sample: str,
    fastqs: Sequence[str | os.PathLike],
    out_tsv: str | os.PathLike,
    *,
    kit: str = "auto",
    adapter: str | None = None,
    clip_5p: int | None = None,
    clip_3p: int | None = None,
    n_reads: int = 10000,
    min_fraction: float = 0.1,
    min_ratio: float = 3.0,
    min_partial: int = 8,
) -> tuple[Kit, Detection]:
    """Check the FASTQs, detect the adapter, choose the kit, write the detection table.

    The first step of rule ``trim_and_collapse`` (its own job before issue 21: one Python
    start per sample less).
    """
    from exomir.fastq_check import check_sample_fastqs

    check_sample_fastqs([str(f) for f in fastqs], sample, n_reads)
    kits = load_kits()
    extra = get_kit("custom", adapter=adapter, clip_5p=clip_5p, clip_3p=clip_3p) if kit == "custom" else None
    detection = detect_adapter(
        sample,
        fastqs,
        n_reads=n_reads,
        min_fraction=min_fraction,
        min_ratio=min_ratio,
        min_partial=min_partial,
        extra=extra,
        kits=kits,
    )
    chosen, note = resolve_kit(kit, detection, adapter=adapter, clip_5p=clip_5p, clip_3p=clip_3p, kits=kits)
    LOG.info("sample %s: %s", sample, note)
    write_detection(detection, chosen, note, out_tsv)
    return chosen, detection


def chosen_kit(
    detection_tsv: str | os.PathLike,
    *,
    adapter: str | None = None,
    clip_5p: int | None = None,
    clip_3p: int | None = None,
) -> Kit:
    """The kit written to the ``chosen`` row of a detection table."""
    with open_text(detection_tsv) as handle:
        header = handle.readline().rstrip("\n").split("\t")
        for line in handle:
            row = dict(zip(header, line.rstrip("\n").split("\t")))
            if row["family"] == "chosen":
                return get_kit(row["kits"], adapter=adapter, clip_5p=clip_5p, clip_3p=clip_3p)
    raise ExomirInputError(
        "adapter detection table has no 'chosen' row",
        where=str(detection_tsv),
        fix="delete the file and re-run the workflow",
    )

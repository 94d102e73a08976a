"""Deterministic simulator of plasma-exosome small RNA-seq cohorts with known truth.

The simulator writes raw single-end FASTQ files in the Illumina TruSeq small RNA
layout (insert, then the 3' adapter read-through) for a two-group cohort, plus
the ground truth needed to score every stage of the workflow: which molecule
each read came from, how many reads each mature miRNA received per sample, which
miRNAs were planted as differentially expressed and by how much.

Same arguments, same bytes: every random draw comes from a numpy ``PCG64``
generator seeded with ``(seed, sample number, chunk number)`` and gzip output
carries no timestamp.

Abundance model
---------------
Baseline miRNA abundances are the mean CPM of the 100 healthy plasma-exosome
runs of GSE71008 (Yuan et al. 2016), bundled as
``resources/profiles/plasma_exosome_healthy_gse71008.tsv`` (see its README).
Two documented simulation choices are applied on top (``DOMINANT_CAP`` and
``BASELINE_OVERRIDES_CPM``): that profile gives ~71% of all reads to
miR-101-3p and ~0 CPM to hallmark plasma miRNAs (miR-451a, miR-16-5p, miR-21-5p),
so the simulator caps the dominant miRNA and sets explicit baselines for the
hemolysis reporters and for the review markers it plants. Per sample, each
miRNA's expected abundance is multiplied by its planted fold change (split
symmetrically between the groups), a mild batch factor and a gamma factor with
the miRNA's biological dispersion; reads are then drawn multinomially, which
gives gamma-Poisson (negative binomial) counts.

Read layout
-----------
``insert + TGGAATTCTCGGGTGCCAAGGAACTCCAGTCAC`` (the TruSeq small RNA 3' adapter
and RNA PCR primer continuation, 34 nt) then uniformly random bases up to
``READ_LENGTH`` (50 nt). Inserts are never longer than 45 nt, so at least 5 nt of
adapter are always present. Qualities are Phred+33, NovaSeq-style binned
(``#``=2, ``,``=11, ``:``=25, ``F``=37), lower toward the 3' end and on
erroneous bases; substitution errors occur with probability 0.1% at the first
base rising to 0.5% at the last.

Read names (the truth of every read)
------------------------------------
``@{sample}.{i} {class}|{name}|{variant}`` with ``i`` counting from 1 and

* ``class`` one of ``mirna, hairpin, trna, rrna, yrna, snrna, pirna, dimer,
  short, random`` (``yrna`` and ``pirna`` only when a library FASTA exists);
* ``name``: the mature miRNA (miRBase 22.1, e.g. ``hsa-miR-21-5p``) for
  ``mirna``; the hairpin (``hsa-mir-21``) for ``hairpin``; the library feature
  (``tRNA-Gly-GCC-1-1``, ``RNA5-8S``...) for library classes; ``adapter`` for
  ``dimer``; ``random`` for ``short`` and ``random``;
* ``variant``:

  - ``mirna``: ``canonical`` or comma-joined miRTop-like tags in this order:
    ``iso_5p:{-1|+1}`` (start moved 1 nt upstream (-1, longer) or downstream
    (+1, shorter) on the hairpin), ``iso_3p:{-2|-1|+1|+2}`` (end moved; +
    longer), ``iso_add3p:{bases}`` (non-templated 3' addition, ``A``, ``T``,
    ``AA`` or ``TT``; never equal to the templated next base),
    ``iso_snv_seed`` (substitution at insert position 2-7, 1-based) or
    ``iso_snv`` (substitution elsewhere);
  - ``hairpin`` and library classes: ``{start}-{end}``, 1-based inclusive
    coordinates of the insert on the hairpin or feature;
  - ``dimer``, ``short``, ``random``: ``len{L}``, the insert length;

  followed by ``,seqerr`` when a sequencing error (substitution or ``N``) falls
  inside the insert (errors in the adapter part are not tagged), e.g.
  ``canonical,seqerr`` or ``iso_5p:-1,iso_3p:+2,iso_add3p:AA,iso_snv,seqerr``.

Classes
-------
``dimer``: insert of 0-5 nt (adapter dimers). ``short``: random insert of
6-15 nt. ``random``: random 18-35 nt insert (unmappable). ``hairpin``: 18-26 nt
windows of expressed hairpins overlapping any annotated mature miRNA by fewer
than 10 nt (loop and unannotated arm). ``trna``: 5' halves (30-35 nt), 5' tRFs
(16-22 nt), 3' CCA tRFs (18-24 nt) and internal fragments. ``rrna``,
``snrna``: uniform windows (16-45 and 16-40 nt).
"""

from __future__ import annotations

import argparse
import dataclasses
import gzip
import logging
import math
import sys
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from exomir.errors import ExomirInputError
from exomir.io import atomic_path, iter_fasta, write_tsv

log = logging.getLogger("exomir.simulate")

#: Project root (``scripts/exomir/simulate.py`` -> root); resources live under it.
PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_RESOURCES = PROJECT_ROOT / "resources"

READ_LENGTH = 50
#: TruSeq small RNA 3' adapter (RA3) continued into the RNA PCR primer up to the index.
ADAPTER = "TGGAATTCTCGGGTGCCAAGGAACTCCAGTCAC"
MAX_INSERT = 45
BASES = np.frombuffer(b"ACGT", dtype=np.uint8)

CLASSES = ("mirna", "hairpin", "trna", "rrna", "yrna", "snrna", "pirna", "dimer", "short", "random")
LIBRARY_CLASSES = ("trna", "rrna", "yrna", "snrna", "pirna")

#: Mean fraction of all reads per class (Dirichlet-jittered per sample). A class whose
#: library FASTA is missing gets 0 and its share goes to the other classes.
CLASS_FRACTIONS = {
    "mirna": 0.42,
    "hairpin": 0.015,
    "trna": 0.20,
    "rrna": 0.11,
    "yrna": 0.05,
    "snrna": 0.05,
    "pirna": 0.005,
    "dimer": 0.03,
    "short": 0.03,
    "random": 0.09,
}
CLASS_CONCENTRATION = 300.0

#: Maximal share of miRNA reads of any one miRNA. GSE71008's bundled profile gives
#: miR-101-3p ~71% of reads, which would leave too few reads for everything else.
DOMINANT_CAP = 0.12

#: Baselines (CPM among miRNA reads, controls) set explicitly because the bundled
#: profile has them at ~0 CPM although they are abundant in plasma (hemolysis
#: reporters) or because they are planted review markers that must be detectable
#: at ~40,000 reads. These are simulation choices, not measurements.
BASELINE_OVERRIDES_CPM = {
    "hsa-miR-451a": 4000.0,
    "hsa-miR-486-5p": 1500.0,
    "hsa-miR-16-5p": 2000.0,
    "hsa-miR-92a-3p": 1500.0,
    "hsa-miR-23a-3p": 800.0,
    "hsa-miR-21-5p": 2500.0,
    "hsa-miR-1246": 800.0,
    "hsa-miR-122-5p": 800.0,
    "hsa-miR-223-3p": 2000.0,
    "hsa-miR-155-5p": 1500.0,
    "hsa-miR-105-5p": 800.0,
    "hsa-miR-373-3p": 400.0,
    "hsa-miR-939-5p": 800.0,
}

#: Biological dispersion (gamma CV^2) = profile cv2 clipped to this range; planted
#: and overridden miRNAs use ``PLANTED_DISPERSION``.
DISPERSION_RANGE = (0.05, 0.6)
PLANTED_DISPERSION = 0.12

#: Planted differential expression, breast_cancer vs control (log2 fold change).
#: ``review`` is the direction Jia et al. 2017 (Oncotarget 8:41717) state for
#: breast-cancer exosomes: "up", "down", "not stated", or "" for non-review miRNAs.
PLANTED = (
    # mirna, log2fc, review direction
    ("hsa-miR-21-5p", 2.0, "up"),  # higher in patients' plasma exosomes [126]
    ("hsa-miR-1246", 2.5, "up"),  # same study [126]
    ("hsa-miR-373-3p", 3.0, "up"),  # upregulated in TNBC / ER-PR negative [128]
    ("hsa-miR-101-3p", -1.5, "down"),  # decreased in lymph-node positive [128]
    ("hsa-miR-210-3p", 1.5, "up"),  # circulating level tracks tumour presence
    ("hsa-miR-939-5p", 2.0, "up"),  # highly expressed in basal-like tumours [127]
    ("hsa-miR-105-5p", 2.5, "up"),  # secreted by metastatic breast cancer cells [47]
    ("hsa-miR-122-5p", 2.0, "up"),  # cancer-secreted, premetastatic niche [48]
    ("hsa-miR-9-5p", 2.5, "up"),  # tumour-secreted, upregulated in BC lines [49]
    ("hsa-miR-223-3p", 1.5, "not stated"),  # macrophage-delivered [55]
    ("hsa-miR-155-5p", -2.0, "not stated"),  # named with drug resistance
    ("hsa-miR-626", 2.0, ""),
    ("hsa-miR-3680-3p", -2.0, ""),
    ("hsa-miR-590-3p", -1.5, ""),
    ("hsa-miR-1285-5p", -2.5, ""),
    ("hsa-miR-183-3p", 2.0, ""),
    ("hsa-miR-324-3p", -1.5, ""),
    ("hsa-miR-483-5p", 3.0, ""),
    ("hsa-miR-330-5p", -2.0, ""),
    ("hsa-miR-200c-3p", 1.5, ""),
)

#: Red-blood-cell miRNAs multiplied in the hemolysed sample (before normalisation).
HEMOLYSIS_FACTORS = {
    "hsa-miR-451a": 50.0,
    "hsa-miR-486-5p": 10.0,
    "hsa-miR-16-5p": 8.0,
    "hsa-miR-92a-3p": 5.0,
}

#: Batch effect: batch B miRNAs get a log-normal factor (sd on the log2 scale) and
#: a different rRNA share.
BATCH_LOG2_SD = 0.25
BATCH_B_RRNA_FACTOR = 1.3

# isomiR model (probabilities before removing invalid combinations)
ISO_5P = {-1: 0.04, 0: 0.89, 1: 0.07}
ISO_3P = {-2: 0.08, -1: 0.20, 0: 0.50, 1: 0.15, 2: 0.07}
ISO_ADD = {"": 0.85, "A": 0.06, "T": 0.05, "AA": 0.02, "TT": 0.02}
SNV_RATE = 0.01
N_RATE = 0.001  # reads carrying one N

#: Relative weight of tRNA families (5' halves of these dominate plasma libraries);
#: other tRNAs weigh 1.
TRNA_WEIGHTS = {
    "tRNA-Gly-GCC-1-1": 12.0,
    "tRNA-Gly-GCC-2-1": 10.0,
    "tRNA-Glu-CTC-1-1": 10.0,
    "tRNA-Glu-TTC-1-1": 4.0,
    "tRNA-Val-CAC-1-1": 6.0,
    "tRNA-Val-AAC-1-1": 4.0,
    "tRNA-Lys-CTT-1-1": 4.0,
    "tRNA-Gly-CCC-1-1": 4.0,
    "tRNA-Asp-GTC-1-1": 2.0,
}
TRNA_FRAGMENT_WEIGHTS = {"5p_half": 0.55, "5p_tRF": 0.15, "3p_tRF": 0.20, "i_tRF": 0.10}


@dataclasses.dataclass(frozen=True)
class SampleSpec:
    """One simulated sample."""

    sample: str
    condition: str
    batch: str
    reads: int
    hemolysed: bool = False
    description: str = ""


@dataclasses.dataclass
class TemplateSet:
    """Insert templates of one class: padded DNA bytes, lengths and truth labels."""

    seqs: np.ndarray  # (n, MAX_TEMPLATE) uint8
    lengths: np.ndarray  # (n,) int
    labels: list[str]  # "class|name|variant" without seqerr
    weights: np.ndarray  # (n,) float, sampling weights within the class
    owner: np.ndarray | None = None  # mirna: index of the mature miRNA


MAX_TEMPLATE = 64


# --------------------------------------------------------------------------- inputs


def read_fasta(path: str | Path) -> dict[str, str]:
    """Read a (gzipped) FASTA; keys are the first header word, values DNA upper case."""
    path = Path(path)
    if not path.exists():
        raise ExomirInputError("file not found", where=str(path), fix="check the resources directory")
    return {name: sequence.upper().replace("U", "T") for name, sequence in iter_fasta(path)}


def load_profile(resources: Path) -> pd.DataFrame:
    """Bundled healthy plasma-exosome profile (mirna, mean_cpm, cv2, ...)."""
    path = resources / "profiles" / "plasma_exosome_healthy_gse71008.tsv"
    if not path.exists():
        raise ExomirInputError("profile table not found", where=str(path), fix="restore resources/profiles")
    return pd.read_csv(path, sep="\t")


@dataclasses.dataclass
class MirnaUniverse:
    """Mature miRNAs that can be simulated, with hairpin context and baselines."""

    names: list[str]
    hairpin: list[str]
    start: np.ndarray  # 0-based start of the mature on the hairpin
    end: np.ndarray  # exclusive end
    baseline: np.ndarray  # expected fraction among miRNA reads in controls, sums to 1
    dispersion: np.ndarray
    hairpin_seqs: dict[str, str]
    mature_spans: dict[str, list[tuple[int, int]]]


def _first_hairpins(
    names: Sequence[str], mature: dict[str, str], hairpins: dict[str, str]
) -> dict[str, tuple[str, int]]:
    """Every simulated mature -> (first hairpin in file order that contains it, 0-based position)."""
    first_hp: dict[str, tuple[str, int]] = {}
    for m_name in names:
        m_seq = mature[m_name]
        for hp_name, hp in hairpins.items():
            pos = hp.find(m_seq)
            if pos >= 0:
                first_hp[m_name] = (hp_name, pos)
                break
    return first_hp


def _mature_spans(
    first_hp: dict[str, tuple[str, int]], mature: dict[str, str], hairpins: dict[str, str]
) -> dict[str, list[tuple[int, int]]]:
    """All annotated matures on the hairpins used, to keep hairpin-class reads off them."""
    mature_spans: dict[str, list[tuple[int, int]]] = {}
    for hp_name in sorted({v[0] for v in first_hp.values()}):
        hp = hairpins[hp_name]
        mature_spans[hp_name] = [
            (pos, pos + len(m_seq)) for m_seq in set(mature.values()) if (pos := hp.find(m_seq)) >= 0
        ]
    return mature_spans


def _baseline_fractions(kept: Sequence[str], weights: dict[str, float]) -> np.ndarray:
    """Baseline share of each miRNA: overrides fixed, the dominant capped, the rest by profile."""
    raw = np.array([weights[n] for n in kept], dtype=float)
    fixed = np.zeros(len(kept), dtype=bool)
    frac = np.zeros(len(kept))
    for i, n in enumerate(kept):
        if n in BASELINE_OVERRIDES_CPM:
            frac[i] = BASELINE_OVERRIDES_CPM[n] / 1e6
            fixed[i] = True
    free_total = raw[~fixed].sum()
    share = raw / free_total
    dominant = (~fixed) & (share > DOMINANT_CAP)
    frac[dominant] = DOMINANT_CAP
    fixed |= dominant
    rest = ~fixed
    frac[rest] = raw[rest] / raw[rest].sum() * (1.0 - frac[fixed].sum())
    return frac


def _dispersions(kept: Sequence[str], cv2: dict[str, float]) -> np.ndarray:
    """Biological dispersion: fixed for planted and overridden miRNAs, else the profile's CV², clipped."""
    planted = {p[0] for p in PLANTED}
    return np.array(
        [
            (
                PLANTED_DISPERSION
                if (n in planted or n in BASELINE_OVERRIDES_CPM)
                else float(np.clip(cv2.get(n, DISPERSION_RANGE[1]), *DISPERSION_RANGE))
            )
            for n in kept
        ]
    )


def build_universe(resources: Path) -> MirnaUniverse:
    """Combine the profile, the overrides and miRBase 22.1 into the simulated miRNAs."""
    mature = read_fasta(resources / "mirbase" / "22.1" / "mature_hsa.fa.gz")
    hairpins = read_fasta(resources / "mirbase" / "22.1" / "hairpin_hsa.fa.gz")
    profile = load_profile(resources)
    weights = dict(zip(profile["mirna"], profile["mean_cpm"].astype(float)))
    cv2 = dict(zip(profile["mirna"], profile["cv2"].astype(float)))
    for name in list(BASELINE_OVERRIDES_CPM) + [p[0] for p in PLANTED]:
        weights.setdefault(name, 0.0)
    names = sorted(n for n in weights if n in mature)
    missing = sorted(set(weights) - set(mature))
    if missing:
        log.info("profile miRNAs not in miRBase 22.1 skipped: %s", ", ".join(missing))
    first_hp = _first_hairpins(names, mature, hairpins)
    kept = [n for n in names if n in first_hp]
    frac = _baseline_fractions(kept, weights)
    disp = _dispersions(kept, cv2)
    keep = frac > 0
    kept = [n for n, k in zip(kept, keep) if k]
    return MirnaUniverse(
        names=kept,
        hairpin=[first_hp[n][0] for n in kept],
        start=np.array([first_hp[n][1] for n in kept]),
        end=np.array([first_hp[n][1] + len(mature[n]) for n in kept]),
        baseline=frac[keep] / frac[keep].sum(),
        dispersion=disp[keep],
        hairpin_seqs=hairpins,
        mature_spans=_mature_spans(first_hp, mature, hairpins),
    )


# --------------------------------------------------------------------------- templates


def _pack(seqs: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    arr = np.zeros((len(seqs), MAX_TEMPLATE), dtype=np.uint8)
    lengths = np.zeros(len(seqs), dtype=np.int64)
    for i, s in enumerate(seqs):
        b = s.encode()
        arr[i, : len(b)] = np.frombuffer(b, dtype=np.uint8)
        lengths[i] = len(b)
    return arr, lengths


def mirna_templates(universe: MirnaUniverse) -> tuple[TemplateSet, list[np.ndarray]]:
    """All isomiR templates of every simulated miRNA and their within-miRNA probabilities."""
    seqs: list[str] = []
    labels: list[str] = []
    owner: list[int] = []
    probs: list[float] = []
    ranges: list[np.ndarray] = []
    for i, name in enumerate(universe.names):
        hp = universe.hairpin_seqs[universe.hairpin[i]]
        st, en = int(universe.start[i]), int(universe.end[i])
        first = len(seqs)
        local_p = []
        for s5, p5 in ISO_5P.items():
            for s3, p3 in ISO_3P.items():
                a, b = st + s5, en + s3
                if a < 0 or b > len(hp) or b - a < 16:
                    continue
                for add, pa in ISO_ADD.items():
                    if add and b < len(hp) and hp[b] == add[0]:
                        continue  # indistinguishable from a templated extension
                    tags = []
                    if s5:
                        tags.append(f"iso_5p:{s5:+d}")
                    if s3:
                        tags.append(f"iso_3p:{s3:+d}")
                    if add:
                        tags.append(f"iso_add3p:{add}")
                    seqs.append(hp[a:b] + add)
                    labels.append(f"mirna|{name}|{','.join(tags) if tags else 'canonical'}")
                    owner.append(i)
                    local_p.append(p5 * p3 * pa)
        p = np.array(local_p)
        probs.extend(p / p.sum())
        ranges.append(np.arange(first, len(seqs)))
    arr, lengths = _pack(seqs)
    return (
        TemplateSet(arr, lengths, labels, np.array(probs), np.array(owner)),
        ranges,
    )


def hairpin_templates(universe: MirnaUniverse) -> TemplateSet:
    """Loop / unannotated-arm windows (18-26 nt) of the simulated miRNAs' hairpins.

    A hairpin's weight is the summed baseline of its simulated miRNAs, split evenly
    over its windows.
    """
    hp_weight: dict[str, float] = {}
    for name, w in zip(universe.hairpin, universe.baseline):
        hp_weight[name] = hp_weight.get(name, 0.0) + float(w)
    seqs, labels, weights = [], [], []
    for hp_name in sorted(hp_weight):
        hp = universe.hairpin_seqs[hp_name]
        spans = universe.mature_spans.get(hp_name, [])
        windows = []
        for length in range(18, 27):
            for a in range(0, len(hp) - length + 1):
                b = a + length
                overlap = max((min(b, e) - max(a, s) for s, e in spans), default=0)
                if overlap < 10:
                    windows.append((a, b))
        for a, b in windows:
            seqs.append(hp[a:b])
            labels.append(f"hairpin|{hp_name}|{a + 1}-{b}")
            weights.append(hp_weight[hp_name] / len(windows))
    arr, lengths = _pack(seqs)
    return TemplateSet(arr, lengths, labels, np.array(weights))


def library_templates(cls: str, library: dict[str, str]) -> TemplateSet:
    """Fragment templates of one RNA-class library (feature names after ``class|``)."""
    seqs, labels, weights = [], [], []
    for header in sorted(library):
        seq = library[header]
        feature = header.split("|", 1)[1] if "|" in header else header
        windows: list[tuple[int, int, float]] = []
        n = len(seq)
        if cls == "trna":
            fw = TRNA_WEIGHTS.get(feature, 1.0)
            groups = {
                "5p_half": [(0, L) for L in range(30, 36)],
                "5p_tRF": [(0, L) for L in range(16, 23)],
                "3p_tRF": [(n - L, n) for L in range(18, 25)],
                "i_tRF": [(a, a + L) for L in range(16, 31, 2) for a in range(3, n - L - 3, 3)],
            }
            for g, wins in groups.items():
                for a, b in wins:
                    windows.append((a, b, fw * TRNA_FRAGMENT_WEIGHTS[g] / len(wins)))
        else:
            lmax = 45 if cls == "rrna" else 40
            wins = [(a, a + L) for L in range(16, lmax + 1) for a in range(0, n - L + 1)]
            for a, b in wins:
                windows.append((a, b, n / len(wins)))  # longer features give more fragments
        for a, b, w in windows:
            seqs.append(seq[a:b])
            labels.append(f"{cls}|{feature}|{a + 1}-{b}")
            weights.append(w)
    arr, lengths = _pack(seqs)
    return TemplateSet(arr, lengths, labels, np.array(weights))


def load_libraries(resources: Path) -> dict[str, dict[str, str]]:
    """RNA-class FASTA libraries present under ``resources/rna_classes``."""
    libs = {}
    for cls in LIBRARY_CLASSES:
        path = resources / "rna_classes" / f"{cls}.fa"
        if path.exists():
            libs[cls] = read_fasta(path)
    return libs


# --------------------------------------------------------------------------- cohort


def default_cohort(n_per_group: int = 6, reads: int = 40_000, seed: int = 1) -> list[SampleSpec]:
    """BC01..BCnn (breast_cancer) then HC01..HCnn (control); batches A/B balanced.

    Read numbers vary by up to +-10% around ``reads`` (deterministic); the
    control at position ``n_per_group - 1`` (HC05 for 6 per group) is hemolysed.
    """
    rng = np.random.Generator(np.random.PCG64([seed, 999]))
    jitter = rng.uniform(0.9, 1.1, size=2 * n_per_group)
    specs = []
    half = (n_per_group + 1) // 2
    for g, (prefix, condition) in enumerate((("BC", "breast_cancer"), ("HC", "control"))):
        for k in range(n_per_group):
            idx = g * n_per_group + k
            sample = f"{prefix}{k + 1:02d}"
            hemolysed = condition == "control" and k == n_per_group - 2
            desc = (
                "breast cancer patient plasma exosomes (simulated)"
                if g == 0
                else ("healthy control plasma exosomes (simulated)")
            )
            if hemolysed:
                desc = "healthy control plasma exosomes (simulated), hemolysed: excess red-blood-cell miRNAs"
            specs.append(
                SampleSpec(
                    sample=sample,
                    condition=condition,
                    batch="A" if k < half else "B",
                    reads=int(round(reads * jitter[idx])),
                    hemolysed=hemolysed,
                    description=desc,
                )
            )
    return specs


@dataclasses.dataclass
class Model:
    """Everything needed to draw reads, built once per cohort."""

    universe: MirnaUniverse
    mirna: TemplateSet
    mirna_ranges: list[np.ndarray]
    others: dict[str, TemplateSet]
    class_fractions: dict[str, float]
    planted_lfc: np.ndarray  # per universe miRNA
    batch_log2: np.ndarray  # per universe miRNA, applied to batch B


def build_model(resources: Path = DEFAULT_RESOURCES, seed: int = 1) -> Model:
    """Load resources and precompute every template table."""
    resources = Path(resources)
    universe = build_universe(resources)
    mirna, ranges = mirna_templates(universe)
    others: dict[str, TemplateSet] = {"hairpin": hairpin_templates(universe)}
    libs = load_libraries(resources)
    for cls, lib in libs.items():
        others[cls] = library_templates(cls, lib)
    fractions = {c: (CLASS_FRACTIONS[c] if (c not in LIBRARY_CLASSES or c in libs) else 0.0) for c in CLASSES}
    total = sum(fractions.values())
    fractions = {c: v / total for c, v in fractions.items()}
    index = {n: i for i, n in enumerate(universe.names)}
    lfc = np.zeros(len(universe.names))
    for name, value, _ in PLANTED:
        if name not in index:
            raise ExomirInputError(
                f"planted miRNA {name} cannot be simulated", where="exomir.simulate.PLANTED"
            )
        lfc[index[name]] = value
    rng = np.random.Generator(np.random.PCG64([seed, 777]))
    batch = rng.normal(0.0, BATCH_LOG2_SD, size=len(universe.names))
    return Model(universe, mirna, ranges, others, fractions, lfc, batch)


def sample_mirna_proportions(model: Model, spec: SampleSpec, rng: np.random.Generator) -> np.ndarray:
    """Expected miRNA proportions of one sample (fold change, batch, hemolysis, gamma)."""
    u = model.universe
    sign = 0.5 if spec.condition == "breast_cancer" else -0.5
    log2 = sign * model.planted_lfc
    if spec.batch == "B":
        log2 = log2 + model.batch_log2
    mu = u.baseline * np.exp2(log2)
    if spec.hemolysed:
        for name, factor in HEMOLYSIS_FACTORS.items():
            if name in u.names:
                mu[u.names.index(name)] *= factor
    shape = 1.0 / u.dispersion
    gamma = rng.gamma(shape, 1.0 / shape)
    w = mu * gamma
    return w / w.sum()


def sample_class_fractions(model: Model, spec: SampleSpec, rng: np.random.Generator) -> dict[str, float]:
    """Per-sample library composition (Dirichlet around ``CLASS_FRACTIONS``)."""
    base = dict(model.class_fractions)
    if spec.batch == "B":
        base["rrna"] *= BATCH_B_RRNA_FACTOR
    names = [c for c in CLASSES if base[c] > 0]
    alpha = np.array([base[c] for c in names])
    alpha = alpha / alpha.sum() * CLASS_CONCENTRATION
    frac = rng.dirichlet(alpha)
    out = {c: 0.0 for c in CLASSES}
    out.update(dict(zip(names, frac)))
    return out


# --------------------------------------------------------------------------- reads

_QUAL_BINS = np.frombuffer(b"#,:F", dtype=np.uint8)  # Q2, Q11, Q25, Q37


def _quality_tables() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per read-quality level and cycle: P(Q37 bin), P(Q37 or Q25 bin); error rate per cycle.

    The underlying score is normal with mean 37.5 - 3.5 (cycle/49)^2 + level shift
    and sd 1.8; it falls in the Q37 bin above 33 and in the Q25 bin above 22.
    """
    from math import erf, sqrt

    x = np.arange(READ_LENGTH) / (READ_LENGTH - 1)
    top, mid = [], []
    for shift in (-1.5, 0.0, 1.0):
        mean = 37.5 - 3.5 * x**2 + shift
        cdf = np.vectorize(lambda z: 0.5 * (1 + erf(z / sqrt(2))))
        top.append(1 - cdf((33 - mean) / 1.8))
        mid.append(1 - cdf((22 - mean) / 1.8))
    perr = 0.001 + 0.004 * x**2
    return np.array(top, dtype=np.float32), np.array(mid, dtype=np.float32), perr


_P_TOP, _P_MID, _P_ERROR = _quality_tables()
#: the same probabilities as thresholds on uniform random bytes (0-255)
_T_TOP = np.minimum(np.round(_P_TOP * 256), 255).astype(np.uint8)
_T_MID = np.minimum(np.round(_P_MID * 256), 255).astype(np.uint8)


def _random_bytes(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    """Uniform random uint8 array (fast path for large matrices)."""
    return np.frombuffer(rng.bytes(shape[0] * shape[1]), dtype=np.uint8).reshape(shape).copy()


def _tail_table() -> np.ndarray:
    """Row L: zeros for the first L cycles, then the adapter, then zeros."""
    table = np.zeros((MAX_TEMPLATE + 1, READ_LENGTH), dtype=np.uint8)
    adapter = np.frombuffer(ADAPTER.encode(), dtype=np.uint8)
    for L in range(MAX_TEMPLATE + 1):
        part = adapter[: max(0, READ_LENGTH - L)]
        table[L, L : L + len(part)] = part
    return table


_TAIL_TABLE = _tail_table()


def _random_inserts(rng: np.random.Generator, lengths: np.ndarray) -> np.ndarray:
    arr = np.zeros((len(lengths), MAX_TEMPLATE), dtype=np.uint8)
    if len(lengths):
        arr[:, :] = BASES[_random_bytes(rng, arr.shape) & 3]
        arr[np.arange(MAX_TEMPLATE)[None, :] >= lengths[:, None]] = 0
    return arr


#: One class's share of a chunk: inserts, lengths, labels, owning miRNA (-1: none),
#: and whether a biological SNV may be planted (miRNA inserts only).
_ClassDraw = tuple[np.ndarray, np.ndarray, list[str], np.ndarray, np.ndarray]


def _draw_mirna_inserts(model: Model, proportions: np.ndarray, k: int, rng: np.random.Generator) -> _ClassDraw:
    """``k`` miRNA inserts: reads per miRNA (multinomial), then an isomiR template per read."""
    per = rng.multinomial(k, proportions)
    idx = []
    for m in np.nonzero(per)[0]:
        rng_idx = model.mirna_ranges[m]
        idx.append(rng.choice(rng_idx, size=per[m], p=model.mirna.weights[rng_idx]))
    t = np.concatenate(idx)
    labels = [model.mirna.labels[i] for i in t]
    return model.mirna.seqs[t], model.mirna.lengths[t], labels, model.mirna.owner[t], np.ones(k, dtype=bool)


def _draw_template_inserts(templates: TemplateSet, k: int, rng: np.random.Generator) -> _ClassDraw:
    """``k`` inserts of a hairpin or library class, drawn by template weight."""
    w = templates.weights / templates.weights.sum()
    t = rng.choice(len(w), size=k, p=w)
    labels = [templates.labels[i] for i in t]
    return templates.seqs[t], templates.lengths[t], labels, np.full(k, -1), np.zeros(k, dtype=bool)


def _draw_random_inserts(cls: str, k: int, rng: np.random.Generator) -> _ClassDraw:
    """``k`` random inserts of class ``dimer`` (0-5 nt), ``short`` (6-15) or ``random`` (18-35)."""
    if cls == "dimer":
        L = np.where(rng.random(k) < 0.85, 0, rng.integers(1, 6, size=k))
        name = "adapter"
    elif cls == "short":
        L = rng.integers(6, 16, size=k)
        name = "random"
    else:
        L = rng.integers(18, 36, size=k)
        name = "random"
    labels = [f"{cls}|{name}|len{x}" for x in L]
    return _random_inserts(rng, L), L, labels, np.full(k, -1), np.zeros(k, dtype=bool)


def _draw_inserts(
    model: Model, proportions: np.ndarray, class_frac: dict[str, float], n: int, rng: np.random.Generator
) -> _ClassDraw:
    """``n`` inserts over all classes (multinomial class counts), returned in random order."""
    classes = [c for c in CLASSES if class_frac[c] > 0]
    p = np.array([class_frac[c] for c in classes])
    counts = rng.multinomial(n, p / p.sum())
    parts: list[_ClassDraw] = []
    for cls, k in zip(classes, counts):
        if k == 0:
            continue
        if cls == "mirna":
            parts.append(_draw_mirna_inserts(model, proportions, k, rng))
        elif cls in model.others:
            parts.append(_draw_template_inserts(model.others[cls], k, rng))
        else:
            parts.append(_draw_random_inserts(cls, k, rng))
    ins = np.concatenate([part[0] for part in parts])
    L = np.concatenate([part[1] for part in parts]).astype(np.int64)
    labels = [x for part in parts for x in part[2]]
    owner = np.concatenate([part[3] for part in parts])
    can_snv = np.concatenate([part[4] for part in parts])
    order = rng.permutation(n)
    return ins[order], L[order], [labels[i] for i in order], owner[order], can_snv[order]


def _plant_snvs(
    ins: np.ndarray, L: np.ndarray, labels: list[str], can_snv: np.ndarray, rng: np.random.Generator
) -> None:
    """Biological SNVs on miRNA inserts (in place), tagged ``iso_snv_seed`` or ``iso_snv``."""
    rows = np.nonzero(can_snv & (rng.random(len(L)) < SNV_RATE))[0]
    pos = (rng.random(len(rows)) * L[rows]).astype(np.int64)
    old_code = np.searchsorted(BASES, ins[rows, pos])
    ins[rows, pos] = BASES[(old_code + rng.integers(1, 4, size=len(rows))) % 4]
    for r, p_ in zip(rows, pos):
        tag = "iso_snv_seed" if 1 <= p_ <= 6 else "iso_snv"
        head, var = labels[r].rsplit("|", 1)
        labels[r] = f"{head}|{tag}" if var == "canonical" else f"{head}|{var},{tag}"


def _assemble_reads(ins: np.ndarray, L: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Insert + adapter, then random bases after the adapter for very short inserts."""
    col = np.arange(READ_LENGTH)[None, :]
    in_insert = col < L[:, None]
    reads = np.where(in_insert, ins[:, :READ_LENGTH], _TAIL_TABLE[L])
    short_rows = np.nonzero(L + len(ADAPTER) < READ_LENGTH)[0]
    if short_rows.size:
        fill = BASES[_random_bytes(rng, (short_rows.size, READ_LENGTH)) & 3]
        sub = reads[short_rows]
        beyond = col >= (L[short_rows] + len(ADAPTER))[:, None]
        sub[beyond] = fill[beyond]
        reads[short_rows] = sub
    return reads


def _draw_qualities(n: int, rng: np.random.Generator) -> np.ndarray:
    """Binned qualities: three read-quality levels, lower toward the 3' end."""
    level = rng.integers(0, len(_P_TOP), size=n)
    u = _random_bytes(rng, (n, READ_LENGTH))
    qual = np.empty((n, READ_LENGTH), dtype=np.uint8)
    for lv in range(len(_P_TOP)):
        rows = np.nonzero(level == lv)[0]
        ul = u[rows]
        q = np.full(ul.shape, _QUAL_BINS[1], dtype=np.uint8)
        q[ul < _T_MID[lv]] = _QUAL_BINS[2]
        q[ul < _T_TOP[lv]] = _QUAL_BINS[3]
        qual[rows] = q
    return qual


def _add_sequencing_errors(
    reads: np.ndarray, qual: np.ndarray, L: np.ndarray, labels: list[str], rng: np.random.Generator
) -> None:
    """Substitutions (0.1% at the first base rising to 0.5% at the last) and a few Ns, in place.

    A read whose insert is hit gets ``,seqerr`` on its label.
    """
    n = len(reads)
    er_parts, ec_parts = [], []
    for j, pj in enumerate(_P_ERROR):
        k = rng.binomial(n, pj)
        er_parts.append(rng.integers(0, n, size=k))
        ec_parts.append(np.full(k, j))
    flat = np.unique(np.concatenate(er_parts) * READ_LENGTH + np.concatenate(ec_parts))
    er, ec = flat // READ_LENGTH, flat % READ_LENGTH
    codes = np.searchsorted(BASES, reads[er, ec])
    reads[er, ec] = BASES[(codes + rng.integers(1, 4, size=len(er))) % 4]
    qual[er, ec] = np.where(rng.random(len(er)) < 0.7, _QUAL_BINS[1], _QUAL_BINS[2])
    nrows = np.nonzero(rng.random(n) < N_RATE)[0]
    ncols = rng.integers(0, READ_LENGTH, size=len(nrows))
    reads[nrows, ncols] = ord("N")
    qual[nrows, ncols] = _QUAL_BINS[0]
    hit_rows = np.concatenate([er[ec < L[er]], nrows[ncols < L[nrows]]])
    for r in np.unique(hit_rows):
        labels[r] += ",seqerr"


def draw_chunk(
    model: Model,
    proportions: np.ndarray,
    class_frac: dict[str, float],
    n: int,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, list[str], np.ndarray]:
    """Draw ``n`` reads: (sequence matrix, quality matrix, labels, mirna index or -1).

    Reads are returned in random order; labels already include ``,seqerr``. The
    steps draw from ``rng`` in a fixed order, so the same seed gives the same reads.
    """
    ins, L, labels, owner, can_snv = _draw_inserts(model, proportions, class_frac, n, rng)
    _plant_snvs(ins, L, labels, can_snv, rng)
    reads = _assemble_reads(ins, L, rng)
    qual = _draw_qualities(n, rng)
    _add_sequencing_errors(reads, qual, L, labels, rng)
    return reads, qual, labels, owner


def _format_chunk(sample: str, first: int, reads: np.ndarray, qual: np.ndarray, labels: list[str]) -> bytes:
    seq_b = reads.tobytes()
    qual_b = qual.tobytes()
    L = READ_LENGTH
    out = []
    for i, label in enumerate(labels):
        a = i * L
        out.append(
            b"@%s.%d %s\n%s\n+\n%s\n"
            % (sample.encode(), first + i, label.encode(), seq_b[a : a + L], qual_b[a : a + L])
        )
    return b"".join(out)


@dataclasses.dataclass
class SampleTruth:
    """Truth of one simulated sample."""

    spec: SampleSpec
    mirna_counts: np.ndarray  # reads per universe miRNA (all variants)
    class_counts: dict[str, int]


def simulate_sample(
    model: Model,
    spec: SampleSpec,
    out_fastq: str | Path,
    seed: int,
    sample_number: int,
    chunk_size: int = 250_000,
    compresslevel: int = 4,
) -> SampleTruth:
    """Write one gzipped FASTQ and return its truth; memory is bounded by ``chunk_size``."""
    rng0 = np.random.Generator(np.random.PCG64([seed, sample_number, 0]))
    proportions = sample_mirna_proportions(model, spec, rng0)
    class_frac = sample_class_fractions(model, spec, rng0)
    mirna_counts = np.zeros(len(model.universe.names), dtype=np.int64)
    class_counts = {c: 0 for c in CLASSES}
    written = 0
    chunk = 0
    with atomic_path(out_fastq) as tmp:
        with open(tmp, "wb") as raw:
            sink = (
                gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=compresslevel)
                if compresslevel > 0
                else raw
            )
            try:
                while written < spec.reads:
                    chunk += 1
                    n = min(chunk_size, spec.reads - written)
                    rng = np.random.Generator(np.random.PCG64([seed, sample_number, chunk]))
                    reads, qual, labels, owner = draw_chunk(model, proportions, class_frac, n, rng)
                    mirna_counts += np.bincount(owner[owner >= 0], minlength=len(mirna_counts))
                    for label in labels:
                        class_counts[label[: label.index("|")]] += 1
                    sink.write(_format_chunk(spec.sample, written + 1, reads, qual, labels))
                    written += n
            finally:
                if sink is not raw:
                    sink.close()
        tmp.chmod(0o644)
    return SampleTruth(spec, mirna_counts, class_counts)


def simulate_cohort(
    out_dir: str | Path,
    specs: Sequence[SampleSpec],
    seed: int = 1,
    resources: str | Path = DEFAULT_RESOURCES,
    fastq_prefix: str | None = None,
    chunk_size: int = 250_000,
    compresslevel: int = 4,
) -> None:
    """Simulate ``specs`` into ``out_dir``: FASTQs, samples.tsv and the truth tables.

    ``fastq_prefix`` is written before ``{sample}.fastq.gz`` in the ``fastq`` column
    of samples.tsv (default: ``out_dir`` as given).
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if len({s.sample for s in specs}) != len(specs):
        raise ExomirInputError("duplicate sample ids", where="simulate_cohort", fix="give unique ids")
    model = build_model(Path(resources), seed)
    truths = []
    for k, spec in enumerate(specs, start=1):
        log.info("simulating %s (%d reads)", spec.sample, spec.reads)
        truths.append(
            simulate_sample(
                model, spec, out / fastq_name(spec.sample, compresslevel), seed, k, chunk_size, compresslevel
            )
        )
    prefix = str(out) if fastq_prefix is None else fastq_prefix
    write_truth(out, model, truths, prefix, compresslevel)
    for path in out.glob("*.tsv"):
        path.chmod(0o644)


def fastq_name(sample: str, compresslevel: int) -> str:
    """``{sample}.fastq.gz``, or ``{sample}.fastq`` when compression is off (level 0)."""
    return f"{sample}.fastq.gz" if compresslevel > 0 else f"{sample}.fastq"


def _samples_table(truths: Sequence[SampleTruth], fastq_prefix: str, compresslevel: int) -> pd.DataFrame:
    """samples.tsv: the sample sheet of the simulated cohort."""
    return pd.DataFrame(
        {
            "sample": [t.spec.sample for t in truths],
            "condition": [t.spec.condition for t in truths],
            "batch": [t.spec.batch for t in truths],
            "fastq": [
                f"{fastq_prefix.rstrip('/')}/{fastq_name(t.spec.sample, compresslevel)}" for t in truths
            ],
            "description": [t.spec.description for t in truths],
        }
    )


def _planted_truth(model: Model, truths: Sequence[SampleTruth], counts: pd.DataFrame) -> pd.DataFrame:
    """truth.tsv: planted fold changes and the realised ones.

    The realised fold change is the mean per-sample share of miRNA reads, cancer vs control.
    """
    u = model.universe
    share = counts / counts.sum(axis=0)
    cond = {t.spec.sample: t.spec.condition for t in truths}
    bc = [s for s in counts.columns if cond[s] == "breast_cancer"]
    hc = [s for s in counts.columns if cond[s] == "control"]
    rows = []
    index = {n: i for i, n in enumerate(u.names)}
    for name, lfc, review in PLANTED:
        realised = np.nan
        if bc and hc:
            realised = math.log2((share.loc[name, bc].mean() + 1e-12) / (share.loc[name, hc].mean() + 1e-12))
        rows.append(
            {
                "mirna": name,
                "log2fc": lfc,
                "direction": "up" if lfc > 0 else "down",
                "review_marker": "yes" if review else "no",
                "review_direction": review if review else "NA",
                "baseline_cpm": u.baseline[index[name]] * 1e6,
                "realised_log2fc": realised,
            }
        )
    return pd.DataFrame(rows).sort_values("mirna").reset_index(drop=True)


def _sample_truth(model: Model, truths: Sequence[SampleTruth]) -> pd.DataFrame:
    """truth_samples.tsv: reads per class and the hemolysis ratio (miR-451a / miR-23a-3p) per sample."""
    index = {n: i for i, n in enumerate(model.universe.names)}
    srows = []
    for t in truths:
        total = sum(t.class_counts.values())
        c451 = int(t.mirna_counts[index["hsa-miR-451a"]]) if "hsa-miR-451a" in index else 0
        c23 = int(t.mirna_counts[index["hsa-miR-23a-3p"]]) if "hsa-miR-23a-3p" in index else 0
        row = {
            "sample": t.spec.sample,
            "condition": t.spec.condition,
            "batch": t.spec.batch,
            "hemolysed": "yes" if t.spec.hemolysed else "no",
            "reads": total,
            "mir451a_reads": c451,
            "mir23a_reads": c23,
            "mir451a_mir23a_ratio": c451 / c23 if c23 else np.nan,
        }
        for c in CLASSES:
            row[f"{c}_reads"] = t.class_counts[c]
        srows.append(row)
    return pd.DataFrame(srows)


def write_truth(
    out: Path, model: Model, truths: Sequence[SampleTruth], fastq_prefix: str, compresslevel: int = 6
) -> None:
    """samples.tsv, truth.tsv, truth_counts.tsv and truth_samples.tsv."""
    write_tsv(_samples_table(truths, fastq_prefix, compresslevel), out / "samples.tsv")
    counts = pd.DataFrame({t.spec.sample: t.mirna_counts for t in truths}, index=model.universe.names)
    counts.index.name = "mirna"
    counts = counts.sort_index()
    write_tsv(counts.reset_index(), out / "truth_counts.tsv")
    write_tsv(_planted_truth(model, truths, counts), out / "truth.tsv")
    write_tsv(_sample_truth(model, truths), out / "truth_samples.tsv")


# --------------------------------------------------------------------------- CLI


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m exomir.simulate",
        description="Simulate a plasma-exosome small RNA-seq cohort (FASTQ + truth tables).",
    )
    parser.add_argument("--out-dir", required=True, help="output directory")
    parser.add_argument("--reads", type=int, default=40_000, help="mean reads per sample (default 40000)")
    parser.add_argument("--n-per-group", type=int, default=6, help="samples per condition (default 6)")
    parser.add_argument("--samples", default=None, help="comma-separated subset of sample ids to simulate")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument("--resources", default=str(DEFAULT_RESOURCES), help="resources directory")
    parser.add_argument("--fastq-prefix", default=None, help="path prefix written in samples.tsv")
    parser.add_argument(
        "--chunk-size", type=int, default=250_000, help="reads generated at once (bounds memory)"
    )
    parser.add_argument(
        "--compresslevel", type=int, default=4, help="gzip level 1-9; 0 writes plain .fastq (default 4)"
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if args.reads < 1 or args.n_per_group < 2:
        raise ExomirInputError("need --reads >= 1 and --n-per-group >= 2", where="command line")
    specs = default_cohort(args.n_per_group, args.reads, args.seed)
    if args.samples:
        wanted = args.samples.split(",")
        unknown = sorted(set(wanted) - {s.sample for s in specs})
        if unknown:
            raise ExomirInputError(
                f"unknown sample ids {unknown}", where="--samples", fix="use BC01.. / HC01.."
            )
        specs = [s for s in specs if s.sample in wanted]
    simulate_cohort(
        args.out_dir,
        specs,
        seed=args.seed,
        resources=args.resources,
        fastq_prefix=args.fastq_prefix,
        chunk_size=args.chunk_size,
        compresslevel=args.compresslevel,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

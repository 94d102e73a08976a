"""Measure the accuracy of exomir's miRNA quantification on the simulated demo cohort.

Not a test: it prints the figures. ``tests/test_quantify.py`` imports its
functions to score the committed demo subset (``tests/data/quantify/demo_subset``)
with exact expected values. Run from the project root::

    .venv/bin/python tests/accuracy/measure_demo_accuracy.py            # all 12 demo samples
    .venv/bin/python tests/accuracy/measure_demo_accuracy.py BC01 HC01  # some samples
    .venv/bin/python tests/accuracy/measure_demo_accuracy.py --label-literal  # last-base SNVs as labelled
    .venv/bin/python tests/accuracy/measure_demo_accuracy.py --make-release-guard  # fixture of test_quantify

What is run (the workflow's own functions, default settings): the bundled
miRBase 22.1 ``hsa`` references (:func:`exomir.references.prepare_references`,
``bowtie-build``); trimming and collapsing with the TruSeq preset
(:func:`exomir.preprocess.trim_and_collapse`, ``TrimSettings()`` = config
defaults); :func:`exomir.quantify.quantify_sample` and
:func:`exomir.quantify.build_matrices`. To know which insert each read became,
cutadapt is run a second time with the same command line
(:func:`exomir.preprocess.cutadapt_command`) but keeping the read names; the
inserts of that run are checked to collapse to exactly the workflow's table.

Truth of a read (its name ``@{sample}.{i} {class}|{name}|{variant}``, see
``exomir.simulate``), scored against the insert actually sequenced
----------------------------------------------------------------------
* Mature feature: the read's mature name mapped to its quantification feature
  (names with one identical sequence form one feature ``a/b``, see
  :mod:`exomir.quantify`); truth counts are merged the same way.
* The error-free molecule is rebuilt from the label: the simulator's template
  (first miRBase 22.1 hairpin in file order that contains the mature), start
  and end moved by ``iso_5p``/``iso_3p``, then the ``iso_add3p`` bases. The
  observed insert is compared with it:

  - ``iso_5p``: the label's 5' shift is not 0;
  - templated end and addition: the insert's bases past the templated end are
    the addition; leading addition bases equal to the next hairpin bases are
    templated (indistinguishable, iso_3p by convention);
    ``iso_3p`` = the templated end differs from the mature end,
    ``iso_add3p`` = an addition remains;
  - a substitution in the insert's LAST base (no addition after it) is scored
    as a 1-nt non-templated addition (iso_3p -1 + iso_add3p 1), not as an
    SNV: the read is the same either way, both explanations need one edit,
    and the miRTop reference tool (mirtop, whose ``tune`` step calls a
    mismatch in the last read base an addition) and TUT-tailing analyses
    name it an addition. ``--label-literal`` scores it as the label says
    (an SNV), for comparison;
  - ``iso_snv`` (any miRTop SNV class): the insert differs from the hairpin in
    its templated part. This covers the label's ``iso_snv*`` AND substitutions
    from sequencing errors (``seqerr``): such a read does carry an SNV in its
    sequence. A labelled ``iso_snv*`` that the simulator placed inside the
    added bases changes the addition, not the templated part, so it is no SNV.

Figures (over miRNA-class reads whose insert passed preprocessing)
-------------------------------------------------------------------
* correct mature: reads counted (status ``mature``) to their true feature /
  all such reads; also the precision of the mature counts: reads counted to
  their true feature / all reads counted to any feature (any class);
* per isomiR type (``iso_5p``, ``iso_3p``, ``iso_add3p``, ``iso_snv``):
  precision and recall per read; a read not counted as ``mature`` is called
  without types;
* Spearman correlation per sample of ``mature_counts.tsv`` with the (merged)
  truth counts of the same reads' labels (all reads of the sample, whether or
  not they passed preprocessing), over the features with a true or a counted
  read in that sample (both-zero rows would only add ties). Also, over the
  features with a true read only (blind to reads of other RNA classes counted
  to a miRNA, e.g. tRNA fragments whose sequence is miRBase hsa-miR-4448), and,
  to show that cause, over the features with a true or a counted read when
  only the counted reads of the miRNA class are kept.
"""

from __future__ import annotations

import dataclasses
import gzip
import logging
import os
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

import pandas as pd
import yaml
from scipy.stats import spearmanr

ROOT = Path(__file__).resolve().parents[2]
# The package and the tests' shared helpers, when run as a script.
for _path in (ROOT / "scripts", ROOT / "tests"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from exomir.adapter_recovery import cut_map  # noqa: E402
from exomir.kits import get_kit  # noqa: E402
from exomir.preprocess import TrimSettings, cutadapt_command, find_executable  # noqa: E402
from exomir.quantify import (  # noqa: E402
    QuantifySettings,
    build_matrices,
    read_features,
)
from exomir.references import bundled_paths, prepare_references, read_fasta  # noqa: E402
from exomir.qc import prepare_rna_class_fasta  # noqa: E402
from support import quantify_into, trim_into  # noqa: E402

DEMO = ROOT / "resources" / "demo"
#: sample -> (label, insert) of the reads whose insert the adapter-error recovery cut (trim_sample)
RECOVERED: dict[str, list[tuple[str, str | None]]] = {}
TYPES = ("iso_5p", "iso_3p", "iso_add3p", "iso_snv")
#: RNA-class libraries of the default config (``qc.rna_classes``), in priority order: (name, FASTA).
#: ``EXOMIR_ACCURACY_NO_RELEASE=1`` runs without them (no release), to count released true reads.
RNA_CLASSES = tuple(
    (entry["name"], entry["fasta"])
    for entry in yaml.safe_load((ROOT / "config" / "config.yaml").read_text())["qc"]["rna_classes"]
    if not os.environ.get("EXOMIR_ACCURACY_NO_RELEASE")
)


# ----------------------------------------------------------------------------- setup


def prepare_hsa(workdir: Path) -> dict:
    """Bundled miRBase 22.1 hsa references and their bowtie index under ``workdir``."""
    workdir.mkdir(parents=True, exist_ok=True)
    paths = bundled_paths("hsa", ROOT / "resources")
    prepare_references(
        mature_fasta=paths["mature"],
        hairpin_fasta=paths["hairpin"],
        gff3=paths["gff3"],
        species="hsa",
        out_hairpin=str(workdir / "hairpin.fa"),
        out_mature=str(workdir / "mature.tsv"),
        out_checksums=str(workdir / "checksums.tsv"),
    )
    (workdir / "bowtie").mkdir(exist_ok=True)
    subprocess.run(
        ["bowtie-build", "-q", str(workdir / "hairpin.fa"), str(workdir / "bowtie" / "hairpin")],
        check=True,
    )
    return {
        "hairpin": str(workdir / "hairpin.fa"),
        "mature": str(workdir / "mature.tsv"),
        "index": str(workdir / "bowtie" / "hairpin"),
        "rna_class_indexes": prepare_rna_class_indexes(workdir / "rna_classes"),
    }


def prepare_rna_class_indexes(workdir: Path) -> list[tuple[str, str]]:
    """The default config's RNA-class libraries, prepared and indexed as the QC stage does.

    Returns (class name, bowtie index prefix) pairs in priority order, the
    ``rna_class_indexes`` argument of :func:`exomir.quantify.quantify_sample`.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    class_indexes = []
    for name, source in RNA_CLASSES:
        fasta = workdir / f"{name}.fa"
        prepare_rna_class_fasta(ROOT / source, fasta, name)
        prefix = workdir / name
        subprocess.run(["bowtie-build", "-q", str(fasta), str(prefix)], check=True)
        class_indexes.append((name, str(prefix)))
    return class_indexes


def trim_sample(
    sample: str, fastq: str | Path, workdir: Path
) -> tuple[str, list[tuple[str, str | None]]]:
    """Trim + collapse as the workflow does; return (collapsed path, [(label, insert or None)]).

    ``insert`` is None for reads that did not pass preprocessing (N, length window).
    """
    kit = get_kit("truseq")
    settings = TrimSettings()
    out = workdir / "preprocess"
    out.mkdir(parents=True, exist_ok=True)
    collapsed = out / f"{sample}.collapsed.tsv.gz"
    trim_into(out, sample, [fastq], kit, settings, threads=1)
    # Same cutadapt command, but the read names (the truth) are kept.
    command = cutadapt_command(
        kit,
        dataclasses.replace(settings, cutadapt=find_executable(settings.cutadapt)),
        str(fastq),
        str(out / f"{sample}.named.json"),
        1,
    )
    at = command.index("--rename")
    del command[at : at + 2]
    fasta = subprocess.run(command, check=True, capture_output=True, text=True).stdout.split("\n")
    insert_of: dict[str, str] = {}
    for header, sequence in zip(fasta[0::2], fasta[1::2]):
        insert_of[header[1:].split(" ", 1)[0]] = sequence
    # the workflow's adapter-error recovery, applied to the named inserts (same cuts)
    cuts = cut_map(
        Counter(seq.encode() for seq in insert_of.values()),
        kit.adapter,
        settings.min_length,
        settings.max_length,
        settings.min_overlap,
        settings.recovery,
    )
    recovered_ids = set()
    for read_id, sequence in insert_of.items():
        kept = cuts.get(sequence.encode())
        if kept is not None:
            insert_of[read_id] = kept.decode()
            recovered_ids.add(read_id)
    RECOVERED[sample] = []
    reads: list[tuple[str, str | None]] = []
    with gzip.open(fastq, "rt") as handle:
        for i, line in enumerate(handle):
            if i % 4 == 0:
                read_id, label = line[1:].rstrip("\n").split(" ", 1)
                insert = insert_of.get(read_id)
                if insert is not None and not (
                    settings.min_length <= len(insert) <= settings.max_length
                ):
                    insert = None
                reads.append((label, insert))
                if read_id in recovered_ids:
                    RECOVERED[sample].append((label, insert))
    table = pd.read_csv(collapsed, sep="\t", keep_default_na=False)
    expected = Counter(insert for _label, insert in reads if insert is not None)
    if dict(zip(table["sequence"], table["count"])) != dict(expected):
        raise RuntimeError(f"{sample}: named cutadapt run does not reproduce the collapsed table")
    return str(collapsed), reads


# ----------------------------------------------------------------------------- truth


class DemoTruth:
    """Rebuilds the true feature and isomiR types of demo reads (see the module docstring)."""

    def __init__(self, mature_tsv: str, label_literal: bool = False) -> None:
        self.label_literal = label_literal
        base = ROOT / "resources" / "mirbase" / "22.1"
        self.mature = {r.name: r.sequence for r in read_fasta(base / "mature_hsa.fa.gz", "hsa")}
        self.hairpins = [
            (r.name, r.sequence) for r in read_fasta(base / "hairpin_hsa.fa.gz", "hsa")
        ]
        self.feature = read_features(mature_tsv)
        self._templates: dict[str, list[tuple[str, int]]] = {}

    def templates(self, name: str) -> list[tuple[str, int]]:
        """(hairpin sequence, 0-based mature start) of every locus of ``name``.

        The simulator's template (first hairpin in file order that contains the
        mature sequence) comes first.
        """
        if name not in self._templates:
            sequence = self.mature[name]
            self._templates[name] = [
                (hairpin, at)
                for _n, hairpin in self.hairpins
                for at in range(len(hairpin))
                if hairpin.startswith(sequence, at)
            ]
        return self._templates[name]

    def types(self, name: str, variant: str, insert: str) -> set[str]:
        """isomiR types of ``insert``, a read of mature ``name`` with label ``variant``.

        The insert is compared with every locus of the mature; the locus that
        explains it with the fewest edits (SNVs + added bases) wins, the
        simulator's template on a tie: a templated base on another locus of
        the same mature cannot be told from an addition on the template.
        """
        shift5 = shift3 = 0
        for tag in variant.split(","):
            if tag.startswith("iso_5p:"):
                shift5 = int(tag.split(":")[1])
            elif tag.startswith("iso_3p:"):
                shift3 = int(tag.split(":")[1])
        best: tuple[int, set[str]] | None = None
        for hairpin, mature_start in self.templates(name):
            mature_end = mature_start + len(self.mature[name])  # exclusive
            start, end = mature_start + shift5, mature_end + shift3
            if start < 0:
                continue
            templated = min(end - start, len(insert), len(hairpin) - start)
            end = start + templated
            added = insert[templated:]
            while added and end < len(hairpin) and hairpin[end] == added[0]:
                end, added = end + 1, added[1:]
                templated += 1
            if (
                not self.label_literal
                and not added
                and templated
                and insert[templated - 1] != hairpin[start + templated - 1]
            ):
                # a substitution in the read's last base is a 1-nt addition (miRTop convention)
                templated, end, added = templated - 1, end - 1, insert[templated - 1 :]
            snvs = sum(insert[i] != hairpin[start + i] for i in range(templated))
            present = (shift5 != 0, end != mature_end, bool(added), snvs > 0)
            edits = snvs + len(added)
            if best is None or edits < best[0]:
                best = (edits, {t for t, p in zip(TYPES, present) if p})
        assert best is not None
        return best[1]


# ----------------------------------------------------------------------------- scoring


def called_types(isomir_type: str) -> set[str]:
    """Coarse types (``TYPES``) of an ``isomir_type`` value of the assignments."""
    if isomir_type in ("", "canonical"):
        return set()
    return {
        "iso_snv" if t.startswith("iso_snv") else t.split(":")[0] for t in isomir_type.split(";")
    }


def quantify_samples(
    samples: dict[str, tuple[str, list[tuple[str, str | None]]]],
    ref: dict,
    workdir: Path,
    settings: QuantifySettings = QuantifySettings(),
) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """Quantify each sample, build the matrices; return (assignments by sample, mature counts)."""
    out = workdir / "quantify"
    assignments, stats = {}, []
    for sample, (collapsed, _reads) in samples.items():
        quantify_into(out, sample, collapsed, ref, settings, rna_class_indexes=ref["rna_class_indexes"])
        assignments[sample] = pd.read_csv(
            out / f"{sample}.assignments.tsv.gz", sep="\t", keep_default_na=False
        )
        stats.append(str(out / f"{sample}.stats.tsv"))
    names = list(samples)
    build_matrices(
        samples=names,
        assignments=[str(out / f"{s}.assignments.tsv.gz") for s in names],
        stats=stats,
        mature_tsv=ref["mature"],
        hairpin_fa=ref["hairpin"],
        out_mature=str(out / "mature_counts.tsv"),
        out_hairpin=str(out / "hairpin_counts.tsv"),
        out_mature_rpm=str(out / "mature_rpm.tsv"),
        out_hairpin_rpm=str(out / "hairpin_rpm.tsv"),
        out_isomirs=str(out / "isomirs.tsv"),
        out_mapping_stats=str(out / "mapping_stats.tsv"),
    )
    counts = pd.read_csv(out / "mature_counts.tsv", sep="\t", index_col="mirna")
    return assignments, counts


@dataclasses.dataclass
class Accuracy:
    """Read-level figures of a set of samples (see the module docstring)."""

    mirna_reads: int = 0  # miRNA-class reads whose insert passed preprocessing
    correct: int = 0
    counted: int = 0  # reads (any class) counted to a mature feature
    not_aligned: int = 0  # miRNA-class reads whose insert has no hairpin assignment (or was released)
    types: dict[str, list[int]] = dataclasses.field(
        default_factory=lambda: {t: [0, 0, 0] for t in TYPES}  # tp, fp, fn
    )
    spearman: dict[str, float] = dataclasses.field(default_factory=dict)
    spearman_true_rows: dict[str, float] = dataclasses.field(default_factory=dict)
    spearman_mirna_reads: dict[str, float] = dataclasses.field(default_factory=dict)

    @property
    def correct_fraction(self) -> float:
        return self.correct / self.mirna_reads

    @property
    def count_precision(self) -> float:
        return self.correct / self.counted

    def precision_recall(self, type_: str) -> tuple[float, float]:
        tp, fp, fn = self.types[type_]
        return tp / (tp + fp), tp / (tp + fn)


def score(
    samples: dict[str, tuple[str, list[tuple[str, str | None]]]],
    assignments: dict[str, pd.DataFrame],
    counts: pd.DataFrame,
    truth: DemoTruth,
) -> Accuracy:
    """Score assignments and mature counts of ``samples`` against the read labels."""
    acc = Accuracy()
    for sample, (_collapsed, reads) in samples.items():
        table = assignments[sample].set_index("sequence")
        status = table["status"].to_dict()
        mature = table["mature"].to_dict()
        isomir = table["isomir_type"].to_dict()
        true_counts: Counter = Counter()
        mirna_read_counts: Counter = Counter()  # counted reads of the miRNA class only
        for label, insert in reads:
            cls, name, variant = label.split("|")
            feature = truth.feature.get(name, name) if cls == "mirna" else None
            if feature is not None:
                true_counts[feature] += 1
            if insert is None:
                continue
            is_counted = status.get(insert) == "mature"
            acc.counted += is_counted
            if feature is None:
                continue
            acc.mirna_reads += 1
            acc.not_aligned += insert not in status
            if is_counted:
                mirna_read_counts[mature[insert]] += 1
            acc.correct += is_counted and mature[insert] == feature
            expected = truth.types(name, variant.replace(",seqerr", ""), insert)
            called = called_types(isomir[insert]) if is_counted else set()
            for t in TYPES:
                acc.types[t][0] += t in called and t in expected
                acc.types[t][1] += t in called and t not in expected
                acc.types[t][2] += t not in called and t in expected
        observed = counts[sample]
        true_series = pd.Series(true_counts, dtype="int64").reindex(observed.index, fill_value=0)
        missing = sorted(set(true_counts) - set(observed.index))
        if missing:
            raise RuntimeError(f"true features missing from mature_counts.tsv: {missing[:5]}")
        rows = (true_series > 0) | (observed > 0)
        acc.spearman[sample] = float(spearmanr(true_series[rows], observed[rows]).statistic)
        rows = true_series > 0
        acc.spearman_true_rows[sample] = float(
            spearmanr(true_series[rows], observed[rows]).statistic
        )
        of_mirnas = pd.Series(mirna_read_counts, dtype="int64").reindex(
            observed.index, fill_value=0
        )
        rows = (true_series > 0) | (of_mirnas > 0)
        acc.spearman_mirna_reads[sample] = float(
            spearmanr(true_series[rows], of_mirnas[rows]).statistic
        )
    return acc


def check_truth_counts(samples: dict[str, tuple[str, list[tuple[str, str | None]]]]) -> None:
    """Raise unless the miRNA reads named in the FASTQ files match ``truth_counts.tsv``."""
    table = pd.read_csv(DEMO / "truth_counts.tsv", sep="\t", index_col="mirna")
    for sample, (_collapsed, reads) in samples.items():
        named = Counter(
            label.split("|")[1] for label, _insert in reads if label.startswith("mirna|")
        )
        expected = table[sample]
        if named != Counter(expected[expected > 0].to_dict()):
            raise RuntimeError(f"{sample}: read names disagree with truth_counts.tsv")


def report(acc: Accuracy) -> str:
    """The figures as printable text."""
    lines = [
        f"miRNA reads passing preprocessing: {acc.mirna_reads}",
        f"correct mature: {acc.correct}/{acc.mirna_reads} = {acc.correct_fraction:.4%}",
        f"miRNA reads without a hairpin assignment (unaligned or released to an RNA class): {acc.not_aligned}",
        f"mature-count precision: {acc.correct}/{acc.counted} = {acc.count_precision:.4%}",
    ]
    for t in TYPES:
        tp, fp, fn = acc.types[t]
        p, r = acc.precision_recall(t)
        lines.append(f"{t}: TP {tp} FP {fp} FN {fn}  precision {p:.4f} recall {r:.4f}")
    for title, values in (
        ("features with a true or a counted read", acc.spearman),
        ("features with a true read", acc.spearman_true_rows),
        ("features with a true or counted read, miRNA-class reads only", acc.spearman_mirna_reads),
    ):
        lines.append(
            f"Spearman per sample over {title}: "
            + ", ".join(f"{s} {v:.4f}" for s, v in values.items())
            + f"  (range {min(values.values()):.4f}-{max(values.values()):.4f})"
        )
    return "\n".join(lines)


SUBSET_DIR = ROOT / "tests" / "data" / "quantify" / "demo_subset"
SUBSET_SAMPLES = ("BC01", "HC01")
SUBSET_EVERY = 27


def make_subset(out_dir: Path = SUBSET_DIR) -> None:
    """Write the committed fixture: every 27th read (reads 27, 54, ...) of BC01 and HC01."""
    from exomir.io import atomic_open

    out_dir.mkdir(parents=True, exist_ok=True)
    for sample in SUBSET_SAMPLES:
        with gzip.open(DEMO / f"{sample}.fastq.gz", "rt") as handle:
            lines = handle.readlines()
        records = [lines[i : i + 4] for i in range(0, len(lines), 4)]
        with atomic_open(out_dir / f"{sample}.fastq.gz", "wt") as out:
            for record in records[SUBSET_EVERY - 1 :: SUBSET_EVERY]:
                out.writelines(record)


GUARD_DIR = ROOT / "tests" / "data" / "quantify" / "release_guard"
#: Inserts of the release guard fixture, by demo sample: the true miRNA reads that the plain release
#: rule (fewer edits wins) released to a miRBase look-alike (exact in tRNA-His-GTG, 28S, MT-TF; one
#: edit on the hairpin), and one tRNA-Pro-AGG 5' fragment (background, 1 mismatch from
#: hsa-miR-4448) that must still be released. The fixture holds every read of the sample whose
#: insert is one of these or one edit from one (their miRNA "parents").
GUARD_SEEDS: dict[str, tuple[str, ...]] = {
    "BC01": ("AATCCGAGTCACGGCACC", "GGCTCGTTGGTCTAGGGGTA"),
    "BC06": ("GAATCCGAGTCACGGCACCA",),
    "HC02": ("CTCCGGGACGGCTGGGA",),
    "HC04": ("GAATCCGAGTCACGGCAC",),
    "HC06": ("GGGCTCACATCACCCCATA",),
}


def make_release_guard(out_dir: Path = GUARD_DIR) -> None:
    """Write the release guard fixture (:data:`GUARD_SEEDS`): the demo reads, unchanged, in file order."""
    from exomir.io import atomic_open
    from exomir.quantify.release import one_edit_neighbours

    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="exomir_guard_") as tmp:
        for sample, seeds in GUARD_SEEDS.items():
            wanted = set(seeds).union(*(one_edit_neighbours(seed) for seed in seeds))
            _collapsed, reads = trim_sample(sample, DEMO / f"{sample}.fastq.gz", Path(tmp))
            with gzip.open(DEMO / f"{sample}.fastq.gz", "rt") as handle:
                lines = handle.readlines()
            with atomic_open(out_dir / f"{sample}.fastq.gz", "wt") as out:
                for i, (_label, insert) in enumerate(reads):
                    if insert in wanted:
                        out.writelines(lines[4 * i : 4 * i + 4])


def main(argv: list[str]) -> None:
    logging.basicConfig(level=logging.WARNING)
    if argv == ["--make-subset"]:
        make_subset()
        return
    if argv == ["--make-release-guard"]:
        make_release_guard()
        return
    literal = "--label-literal" in argv
    argv = [a for a in argv if a != "--label-literal"]
    sheet = pd.read_csv(DEMO / "samples.tsv", sep="\t", dtype=str)
    wanted = argv or list(sheet["sample"])
    with tempfile.TemporaryDirectory(prefix="exomir_demo_accuracy_") as tmp:
        workdir = Path(tmp)
        ref = prepare_hsa(workdir / "ref")
        samples = {s: trim_sample(s, DEMO / f"{s}.fastq.gz", workdir) for s in wanted}
        check_truth_counts(samples)
        assignments, counts = quantify_samples(samples, ref, workdir)
        truth = DemoTruth(ref["mature"], label_literal=literal)
        print(report(score(samples, assignments, counts, truth)))
        print(recovery_report(assignments, truth))


def recovery_report(assignments: dict[str, pd.DataFrame], truth: DemoTruth) -> str:
    """Reads the adapter-error recovery cut, by true class; miRNA reads counted to their true miRNA."""
    by_class: Counter = Counter()
    correct = 0
    for sample, reads in RECOVERED.items():
        table = assignments[sample].set_index("sequence")
        for label, insert in reads:
            cls, name, _variant = label.split("|")
            by_class[cls] += 1
            if cls == "mirna" and insert in table.index:
                row = table.loc[insert]
                correct += row["status"] == "mature" and row["mature"] == truth.feature.get(name, name)
    mirna = by_class.get("mirna", 0)
    return (
        "adapter-error recovery: reads cut by true class "
        + (", ".join(f"{c} {n}" for c, n in sorted(by_class.items())) or "none")
        + f"; miRNA reads cut and then counted to their true miRNA: {correct}/{mirna}"
    )


if __name__ == "__main__":
    main(sys.argv[1:])

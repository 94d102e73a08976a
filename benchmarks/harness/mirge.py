"""miRge3.0 (PyPI ``mirge3==0.1.4``) as a peer, run on the same FASTQ as exomir.

It lives in a benchmark-only venv the harness creates under ``--work`` (``python -m venv`` +
``pip install mirge3==0.1.4 pandas==2.0.3 numpy==1.26.4``): it needs other versions of pandas and
numpy than exomir's venv. Its ``-shh`` (quiet) option is not used: with it miRge3 0.1.4 never
records the cutadapt version and stops.
Its library is built (untimed) from the files exomir itself uses, so both tools know the same
sequences:

* ``human_mirna_miRBase``: the species' mature miRNAs of the bundled miRBase 22.1 (DNA), one
  record per distinct sequence, names of identical sequences ``/``-joined (exomir's convention,
  so no merges file is needed);
* ``human_hairpin_miRBase``: exomir's hairpin reference (``results/references/hsa/hairpin.fa``);
* tRNA (mature and primary), snoRNA, rRNA and "other ncRNA" (snRNA): exomir's RNA-class
  libraries of ``config/config.yaml``; mRNA: the artefact library (no mRNA set is bundled).

miRge3 checks ``samtools --version`` by parsing its output; a wrapper directory passed with
``-psam`` holds a ``samtools`` that prints only the first two lines of the version and runs the
real samtools otherwise.
"""

from __future__ import annotations

import csv
import gzip
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from harness.common import PROJECT, THREADS, load_config, run_quiet

VERSION = "0.1.4"
ORGANISM = "human"
#: miRge3 0.1.4 (2023) fails on pandas 3 (dtype coercion in its alignment table) and pandas 2.0
#: needs numpy 1: both pinned to the last releases it works with
PINS = [f"mirge3=={VERSION}", "pandas==2.0.3", "numpy==1.26.4"]
#: miRge3 index name suffix -> exomir RNA-class library name (config qc.rna_classes)
CLASS_LIBRARIES = {"mature_trna": "trna", "pre_trna": "trna", "snorna": "snorna", "rrna": "rrna",
                   "ncrna_others": "snrna", "mrna": "artifact"}
SAMTOOLS_WRAPPER = """#!/bin/sh
# miRge3 parses `samtools --version`: give it the first two lines only
if [ "$1" = "--version" ]; then {samtools} --version | head -n 2; exit 0; fi
exec {samtools} "$@"
"""


@dataclass
class Mirge:
    """A ready miRge3: its executable, library and samtools wrapper directory."""

    executable: Path
    library: Path
    samtools_dir: Path
    bin_dir: Path


def ensure_venv(folder: Path) -> Path:
    """The venv with miRge3 (created and installed from PyPI on first use)."""
    executable = folder / "bin" / "miRge3.0"
    if not executable.exists():
        print(f"installing mirge3=={VERSION} into {folder}", flush=True)
        run_quiet([sys.executable, "-m", "venv", "--clear", str(folder)])
        run_quiet([str(folder / "bin" / "python"), "-m", "pip", "install", "-q", *PINS])
    return executable


def _read_fasta(path: Path) -> list[tuple[str, str]]:
    """(first word of the name, sequence) records of a plain or gzipped FASTA."""
    opener = gzip.open if path.suffix == ".gz" else open
    records: list[tuple[str, str]] = []
    with opener(path, "rt") as handle:
        for line in handle:
            line = line.strip()
            if line.startswith(">"):
                records.append((line[1:].split()[0], ""))
            elif line and records:
                records[-1] = (records[-1][0], records[-1][1] + line)
    return records


def _write_fasta(path: Path, records: list[tuple[str, str]]) -> None:
    path.write_text("".join(f">{name}\n{seq}\n" for name, seq in records))


def mature_records(species: str) -> list[tuple[str, str]]:
    """The species' mature miRNAs as DNA, one record per distinct sequence (names ``/``-joined)."""
    names: dict[str, list[str]] = {}
    for name, seq in _read_fasta(PROJECT / "resources" / "mirbase" / "22.1" / f"mature_{species}.fa.gz"):
        if name.startswith(species + "-"):
            names.setdefault(seq.upper().replace("U", "T"), []).append(name)
    return sorted(("/".join(sorted(group)), seq) for seq, group in names.items())


def build_library(library: Path, hairpin_fa: Path) -> None:
    """miRge3's ``human`` library (FASTA + bowtie indexes) from exomir's references (untimed)."""
    config = load_config()
    classes = {entry["name"]: PROJECT / entry["fasta"] for entry in config["qc"]["rna_classes"]}
    root = library / ORGANISM
    shutil.rmtree(library, ignore_errors=True)
    for sub in ("fasta.Libs", "index.Libs", "annotation.Libs"):
        (root / sub).mkdir(parents=True)
    sources = {"mirna_miRBase": mature_records(config["species"]), "hairpin_miRBase": _read_fasta(hairpin_fa)}
    sources.update({suffix: _read_fasta(classes[name]) for suffix, name in CLASS_LIBRARIES.items()})
    for suffix, records in sources.items():
        fasta = root / "fasta.Libs" / f"{ORGANISM}_{suffix}.fa"
        _write_fasta(fasta, [(name, seq.upper().replace("U", "T")) for name, seq in records])
        run_quiet(["bowtie-build", "--threads", str(THREADS), str(fasta), str(root / "index.Libs" / f"{ORGANISM}_{suffix}")])


def prepare(work: Path, hairpin_fa: Path) -> Mirge:
    """The venv, library and samtools wrapper under ``work/mirge3`` (library rebuilt every run)."""
    folder = work / "mirge3"
    executable = ensure_venv(folder / "venv")
    build_library(folder / "library", hairpin_fa)
    wrapper_dir = folder / "samtools_wrapper"
    wrapper_dir.mkdir(parents=True, exist_ok=True)
    wrapper = wrapper_dir / "samtools"
    wrapper.write_text(SAMTOOLS_WRAPPER.format(samtools=shutil.which("samtools")))
    wrapper.chmod(0o755)
    return Mirge(executable, folder / "library", wrapper_dir, executable.parent)


def command(mirge: Mirge, fastq: Path, out_dir: Path) -> str:
    """miRge3 on one FASTQ with the TruSeq small-RNA adapter and 2 threads (its other defaults)."""
    return (
        f"export PATH={mirge.bin_dir}:$PATH; {mirge.executable} -s {fastq} -lib {mirge.library} -on {ORGANISM} "
        f"-db miRBase -a illumina -cpu {THREADS} -o {out_dir.parent} -onam {out_dir.name} "
        f"-psam {mirge.samtools_dir}"
    )


def counts(out_dir: Path) -> dict[str, int]:
    """miRge3's miRNA counts of the (one) sample: ``miR.Counts.csv``, second column."""
    with open(out_dir / "miR.Counts.csv", newline="") as handle:
        rows = list(csv.reader(handle))
    return {row[0]: int(float(row[1])) for row in rows[1:] if float(row[1]) > 0}

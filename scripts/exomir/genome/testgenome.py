"""Leave-out test genome for genome mode: random + low-complexity sequence with real human
hairpins (miRBase 22.1), RNA-class decoys and random inverted repeats; reads from all of them.

The miRBase annotation handed to exomir lacks ``n_left_out`` of the inserted hairpins; a good
novel-miRNA caller finds those (with the right mature arm) and calls little else. Fixed seed:
same arguments, same files.
"""

from __future__ import annotations

import argparse
import gzip
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from exomir.genome.novel import read_fasta_dict, revcomp

BASES = np.array(list("ACGT"))
ADAPTER = "TGGAATTCTCGGGTGCCAAGG"  # TruSeq small RNA 3' adapter (resources/kits/kits.yaml)


# Same shape as the settings dataclasses of the stages (e.g. NovelSettings): different data.
@dataclass(frozen=True)
class LeaveOutSpec:
    """Size of the test genome and of the simulated libraries."""

    n_hairpins: int = 60
    n_left_out: int = 30
    n_inverted_repeats: int = 40
    n_chromosomes: int = 2
    spacer: int = 1500
    samples: int = 2
    background_reads: int = 400
    seed: int = 22


def hairpin_arms(resources: Path) -> pd.DataFrame:
    """hsa hairpins with a located 5p and 3p mature (DNA): name, hairpin, 5p/3p seq + offset."""
    hairpins = {n: s.upper().replace("U", "T") for n, s in read_fasta_dict(resources / "mirbase/22.1/hairpin_hsa.fa.gz").items()}
    mature = {n: s.upper().replace("U", "T") for n, s in read_fasta_dict(resources / "mirbase/22.1/mature_hsa.fa.gz").items()}
    rows = []
    for name in sorted(hairpins):
        hp = hairpins[name]
        stem = name.replace("hsa-mir-", "hsa-miR-").replace("hsa-let-", "hsa-let-")
        base = "-".join(stem.split("-")[:3])
        arms = {}
        for arm in ("5p", "3p"):
            for mname in (f"{base}-{arm}",):
                seq = mature.get(mname)
                if seq and hp.count(seq) == 1:
                    arms[arm] = (mname, seq, hp.index(seq))
        if len(arms) == 2 and arms["5p"][2] + len(arms["5p"][1]) < arms["3p"][2]:
            rows.append({"hairpin": name, "sequence": hp, **{f"{a}_{k}": v for a in arms for k, v in zip(("name", "seq", "offset"), arms[a])}})
    return pd.DataFrame(rows)


def unique_kmers(candidates: pd.DataFrame, all_hairpins: dict[str, str], k: int = 16) -> list[bool]:
    """True where a hairpin shares no k-mer (either strand) with any other hsa hairpin."""
    owners: dict[str, set[str]] = {}
    for name, seq in all_hairpins.items():
        for s in (seq, revcomp(seq)):
            for p in range(len(s) - k + 1):
                owners.setdefault(s[p : p + k], set()).add(name)
    flags = []
    for name, seq in zip(candidates["hairpin"], candidates["sequence"]):
        flags.append(all(owners[seq[p : p + k]] == {name} for p in range(len(seq) - k + 1)))
    return flags


def random_seq(rng: np.random.Generator, n: int) -> str:
    """Uniform random DNA."""
    return "".join(BASES[rng.integers(0, 4, n)])


def low_complexity(rng: np.random.Generator, n: int) -> str:
    """A simple repeat: (CA)n, poly-A, telomeric (TTAGGG)n or (AT)n."""
    unit = ["CA", "A", "TTAGGG", "AT", "GGC"][int(rng.integers(0, 5))]
    return (unit * n)[:n]


def inverted_repeat(rng: np.random.Generator) -> str:
    """Random arm + loop + reverse-complement arm with 0-2 mismatches (a hairpin-like decoy)."""
    arm = random_seq(rng, int(rng.integers(22, 30)))
    other = list(revcomp(arm))
    for p in rng.choice(len(other), int(rng.integers(0, 3)), replace=False):
        other[p] = BASES[(list(BASES).index(other[p]) + 1) % 4]
    return random_seq(rng, 10) + arm + random_seq(rng, int(rng.integers(6, 14))) + "".join(other) + random_seq(rng, 10)


def elements(rng: np.random.Generator, resources: Path, spec: LeaveOutSpec) -> list[dict]:
    """Elements to insert: hairpins (left-out flagged), decoys, inverted repeats (shuffled)."""
    arms = hairpin_arms(resources)
    all_hp = {n: s.upper().replace("U", "T") for n, s in read_fasta_dict(resources / "mirbase/22.1/hairpin_hsa.fa.gz").items()}
    arms = arms[unique_kmers(arms, all_hp)].reset_index(drop=True)
    chosen = arms.iloc[sorted(rng.choice(len(arms), spec.n_hairpins, replace=False))]
    left = set(rng.choice(chosen["hairpin"].to_numpy(), spec.n_left_out, replace=False))
    items = []
    for row in chosen.itertuples(index=False):
        arm = "5p" if rng.random() < 0.5 else "3p"
        items.append({"kind": "hairpin", "name": row.hairpin, "seq": row.sequence, "left_out": row.hairpin in left,
                      "arm": arm, "row": row})
    for cls in ("trna", "snrna", "rrna"):
        lib = read_fasta_dict(str(resources / "rna_classes" / f"{cls}.fa"))
        for name in sorted(lib)[: {"trna": 12, "snrna": 6, "rrna": 2}[cls]]:
            seq = lib[name].upper().replace("U", "T")[:600]
            items.append({"kind": cls, "name": name, "seq": seq, "left_out": False, "arm": "", "row": None})
    for i in range(spec.n_inverted_repeats):
        items.append({"kind": "inverted_repeat", "name": f"ir{i + 1}", "seq": inverted_repeat(rng), "left_out": False,
                      "arm": "", "row": None})
    order = rng.permutation(len(items))
    return [items[i] for i in order]


def build_genome(rng: np.random.Generator, items: list[dict], spec: LeaveOutSpec) -> tuple[dict[str, str], list[dict]]:
    """Chromosomes with the elements placed (random strand) between random/low-complexity spacers."""
    chroms: dict[str, list[str]] = {f"chr{i + 1}": [] for i in range(spec.n_chromosomes)}
    lengths = dict.fromkeys(chroms, 0)
    placed = []
    for n, item in enumerate(items):
        chrom = f"chr{n % spec.n_chromosomes + 1}"
        spacer = random_seq(rng, spec.spacer)
        if rng.random() < 0.3:
            spacer = spacer[:500] + low_complexity(rng, 300) + spacer[800:]
        strand = "+" if rng.random() < 0.5 else "-"
        chroms[chrom].append(spacer)
        lengths[chrom] += len(spacer)
        seq = item["seq"] if strand == "+" else revcomp(item["seq"])
        placed.append({**item, "chrom": chrom, "strand": strand, "start": lengths[chrom] + 1,
                       "end": lengths[chrom] + len(seq)})
        chroms[chrom].append(seq)
        lengths[chrom] += len(seq)
    for chrom in chroms:
        chroms[chrom].append(random_seq(rng, spec.spacer))
    return {c: "".join(parts) for c, parts in chroms.items()}, placed


def hairpin_reads(rng: np.random.Generator, item: dict) -> list[str]:
    """Mature (dominant arm) + star reads with isomiR-like 5'/3' variation, a few loop reads."""
    row, hp = item["row"], item["seq"]
    other = "3p" if item["arm"] == "5p" else "5p"
    reads = []
    for arm, n in ((item["arm"], int(rng.integers(40, 400))), (other, 0)):
        if arm == other:
            n = max(int(len(reads) * rng.uniform(0.05, 0.25)), 1)
        # row fields: hairpin, sequence, 5p_name, 5p_seq, 5p_offset, 3p_name, 3p_seq, 3p_offset
        off, seq = (row[4], row[3]) if arm == "5p" else (row[7], row[6])
        for _ in range(n):
            s, e = off, off + len(seq)
            u = rng.random()
            if u < 0.15:
                e -= 1
            elif u < 0.25:
                e += 1
            elif u < 0.30:
                s += 1
            read = hp[s:min(e, len(hp))]
            if rng.random() < 0.05:
                read += "A"
            reads.append(read)
    for _ in range(max(len(reads) // 50, 1)):
        s = int(rng.integers(0, len(hp) - 20))
        reads.append(hp[s : s + int(rng.integers(18, 24))])
    return reads


def decoy_reads(rng: np.random.Generator, item: dict) -> list[str]:
    """tRNA 5' halves and 3' CCA fragments; random degradation fragments of other decoys."""
    seq = item["seq"]
    if item["kind"] == "trna":
        n5, n3 = int(rng.integers(20, 150)), int(rng.integers(10, 60))
        return [seq[: int(rng.integers(30, 35))] for _ in range(n5)] + [seq[-18:] + "CCA"] * n3
    out = []
    for _ in range(int(rng.integers(15, 60))):
        length = int(rng.integers(18, 29))
        s = int(rng.integers(0, max(len(seq) - length, 1)))
        out.append(seq[s : s + length])
    return out


def sample_reads(rng: np.random.Generator, placed: list[dict], genome: dict[str, str], spec: LeaveOutSpec) -> list[str]:
    """All inserts of one library (elements + random genomic background)."""
    reads = []
    for item in placed:
        reads += hairpin_reads(rng, item) if item["kind"] == "hairpin" else decoy_reads(rng, item)
    chroms = sorted(genome)
    for _ in range(spec.background_reads):
        chrom = chroms[int(rng.integers(0, len(chroms)))]
        length = int(rng.integers(18, 30))
        s = int(rng.integers(0, len(genome[chrom]) - length))
        read = genome[chrom][s : s + length]
        reads.append(read if rng.random() < 0.5 else revcomp(read))
    return [r for r in reads if len(r) >= 16]


def write_fastq(path: Path, reads: list[str], rng: np.random.Generator) -> None:
    """Reads = insert + TruSeq adapter + random tail; constant high quality."""
    with gzip.GzipFile(path, "wb", mtime=0) as handle:
        for i, insert in enumerate(reads):
            seq = (insert + ADAPTER + random_seq(rng, 30))[:50]
            handle.write(f"@r{i + 1}\n{seq}\n+\n{'I' * len(seq)}\n".encode())


def filter_fasta(src: Path, dest: Path, drop: set[str]) -> None:
    """Copy a miRBase FASTA without the records named in ``drop``."""
    keep = True
    with gzip.open(src, "rt") as inp, open(dest, "w") as out:
        for line in inp:
            if line.startswith(">"):
                keep = line[1:].split()[0] not in drop
            if keep:
                out.write(line)


def truth_table(placed: list[dict]) -> pd.DataFrame:
    """Inserted elements with genomic coordinates and, for hairpins, the dominant mature arm."""
    rows = []
    for item in placed:
        row = {k: item[k] for k in ("kind", "name", "chrom", "strand", "start", "end", "left_out", "arm")}
        row["mature_sequence"] = ""
        if item["kind"] == "hairpin":
            row["mature_sequence"] = item["row"][3] if item["arm"] == "5p" else item["row"][6]
        rows.append(row)
    return pd.DataFrame(rows).sort_values(["chrom", "start"]).reset_index(drop=True)


def make_test_genome(resources: Path, outdir: Path, spec: LeaveOutSpec) -> pd.DataFrame:
    """Write genome.fa, reduced miRBase FASTAs, FASTQs, samples.tsv and truth.tsv in ``outdir``."""
    rng = np.random.default_rng(spec.seed)
    outdir.mkdir(parents=True, exist_ok=True)
    placed_items = elements(rng, resources, spec)
    genome, placed = build_genome(rng, placed_items, spec)
    with open(outdir / "genome.fa", "w") as handle:
        for chrom in sorted(genome):
            seq = genome[chrom]
            handle.write(f">{chrom}\n" + "\n".join(seq[p : p + 80] for p in range(0, len(seq), 80)) + "\n")
    truth = truth_table(placed)
    left = truth[truth["left_out"]]
    drop_mature = {n for item in placed if item["left_out"] for n in (item["row"][2], item["row"][5])}
    filter_fasta(resources / "mirbase/22.1/hairpin_hsa.fa.gz", outdir / "hairpin.fa", set(left["name"]))
    filter_fasta(resources / "mirbase/22.1/mature_hsa.fa.gz", outdir / "mature.fa", drop_mature)
    lines = ["sample\tcondition\tfastq"]
    for i in range(spec.samples):
        name = f"G{i + 1:02d}"
        write_fastq(outdir / f"{name}.fastq.gz", sample_reads(rng, placed, genome, spec), rng)
        lines.append(f"{name}\t{'case' if i % 2 == 0 else 'control'}\t{outdir.name}/{name}.fastq.gz")
    (outdir / "samples.tsv").write_text("\n".join(lines) + "\n")
    truth.to_csv(outdir / "truth.tsv", sep="\t", index=False, lineterminator="\n")
    return truth


def evaluate(candidates: pd.DataFrame, truth: pd.DataFrame) -> dict:
    """Sensitivity (left-out hairpins found with the right mature arm) and precision of the calls."""
    calls = candidates[candidates["call"] == "novel"]
    left = truth[truth["left_out"]]
    hit_any, right_arm = set(), set()
    true_calls = 0
    for call in calls.itertuples(index=False):
        match = left[(left["chrom"] == call.chrom) & (left["start"] <= call.mature_end) & (left["end"] >= call.mature_start)]
        if len(match):
            true_calls += 1
            name = match.iloc[0]["name"]
            hit_any.add(name)
            mature = match.iloc[0]["mature_sequence"]
            if call.mature_sequence[2:14] in mature or mature[2:14] in call.mature_sequence:
                right_arm.add(name)
    return {"left_out": len(left), "calls": len(calls), "true_calls": true_calls,
            "found_any_arm": len(hit_any), "found_right_arm": len(right_arm),
            "sensitivity": round(len(right_arm) / max(len(left), 1), 4),
            "precision": round(true_calls / max(len(calls), 1), 4)}


def main(argv: list[str] | None = None) -> int:
    """CLI: python -m exomir.genome.testgenome OUTDIR [--hairpins N --left-out N --samples N]."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("outdir", type=Path)
    parser.add_argument("--resources", type=Path, default=Path(__file__).resolve().parents[3] / "resources")
    parser.add_argument("--hairpins", type=int, default=60)
    parser.add_argument("--left-out", type=int, default=30)
    parser.add_argument("--inverted-repeats", type=int, default=40)
    parser.add_argument("--samples", type=int, default=2)
    parser.add_argument("--seed", type=int, default=22)
    args = parser.parse_args(argv)
    spec = LeaveOutSpec(n_hairpins=args.hairpins, n_left_out=args.left_out, n_inverted_repeats=args.inverted_repeats,
                          samples=args.samples, seed=args.seed)
    make_test_genome(args.resources, args.outdir, spec)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

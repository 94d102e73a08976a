"""Regenerate the exRNA QC test fixtures (run from the project root; deterministic).

Synthetic data, designed by hand so every expected number in tests/test_qc.py can be
derived on paper:

* ``sample_a``: stage files of one sample (preprocess stats, collapsed reads, quantify
  stats, unmapped collapsed FASTA) and three tiny RNA-class libraries (random sequences,
  seed 7) built so that priority, the 1-mismatch limit and the sense-only rule are tested.
* ``cohort/``: per-sample composition tables and a mature count matrix of 11 samples, each
  built to pass or to trip one flag rule.
"""

from __future__ import annotations

import gzip
import random
from pathlib import Path

HERE = Path(__file__).parent
rng = random.Random(7)


def rand_seq(n: int) -> str:
    return "".join(rng.choice("ACGT") for _ in range(n))


def mutate(seq: str, positions: list[int]) -> str:
    out = list(seq)
    for pos in positions:
        out[pos] = {"A": "C", "C": "G", "G": "T", "T": "A"}[out[pos]]
    return "".join(out)


def revcomp(seq: str) -> str:
    return seq[::-1].translate(str.maketrans("ACGT", "TGCA"))


def write_gz(path: Path, text: str) -> None:
    with open(path, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as gz:
        gz.write(text.encode())


def sample_a() -> None:
    out = HERE / "sample_a"
    (out / "classes").mkdir(parents=True, exist_ok=True)
    t1, r1, p2 = rand_seq(60), rand_seq(60), rand_seq(30)
    p1 = t1[10:40]  # piRNA entry overlapping the tRNA: priority decides
    (out / "classes" / "trna.fa").write_text(f">trna|tRNA-Fix-AAA-1\n{t1}\n")
    # RNA alphabet and lower case on purpose: the prepare step converts
    (out / "classes" / "rrna.fa").write_text(f">rrna|RNA5-8SN-fix\n{r1.lower().replace('t', 'u')}\n")
    (out / "classes" / "pirna.fa").write_text(f">pirna|piR-fix-1\n{p1}\n>pirna|piR-fix-2\n{p2}\n")
    spike39 = "TCACCGGGTGTAAATCAGCTTG"
    spike54 = "TACCCGTAATCTTCATAATCCGAG"
    unmapped = [  # (sequence, count, expected class)
        (t1[0:22], 50, "trna"),
        (spike39, 40, "spikein"),
        (r1[5:30], 30, "rrna"),
        (mutate(t1[10:32], [11]), 20, "trna"),  # 1 mismatch
        (p2[0:24], 9, "pirna"),
        (t1[10:30], 7, "trna"),  # also in piRNA p1; tRNA comes first
        (revcomp(r1[20:42]), 6, "unmapped"),  # antisense: --norc
        (mutate(spike39[:21], [4]), 5, "spikein"),  # 3' truncated, 1 mismatch
        (mutate(r1[5:27], [3, 15]), 4, "unmapped"),  # 2 mismatches
        (rand_seq(22), 3, "unmapped"),
    ]
    fasta = "".join(f">u{rank}_x{count}\n{seq}\n" for rank, (seq, count, _) in enumerate(unmapped, start=1))
    write_gz(out / "unmapped.fa.gz", fasta)
    mirna_reads = [("TGAGGTAGTAGGTTGTATAGTT", 400), ("AACCCGTAGATCCGAACTTGTG", 228), (spike54, 12)]
    collapsed = sorted(mirna_reads + [(s, c) for s, c, _ in unmapped], key=lambda x: (-x[1], x[0]))
    write_gz(out / "collapsed.tsv.gz", "sequence\tcount\n" + "".join(f"{s}\t{c}\n" for s, c in collapsed))
    (out / "preprocess_stats.tsv").write_text(
        "sample\tkit\tadapter\traw_reads\treads_with_adapter\tadapter_dimers\ttoo_short\ttoo_long\t"
        "other_filtered\tumi_reads\tumi_deduplicated_reads\tpassing_reads\tunique_sequences\n"
        "sample_a\ttruseq\tTGGAATTCTCGG\t1000\t980\t100\t50\t20\t16\t0\t0\t814\t13\n"
    )
    (out / "quantify_stats.tsv").write_text(
        "sample\tinput_reads\tunique_sequences\taligned_reads\tmature_reads\thairpin_only_reads\t"
        "ambiguous_reads\tunmapped_reads\tmirnas_detected\n"
        "sample_a\t814\t13\t640\t600\t30\t10\t174\t2\n"
    )


# name: mature counts of (451a, 23a-3p, 486-5p, 16-5p, 92a-3p), filler counts, and the
# non-mature composition rows (hairpin_only, ambiguous, trna, rrna, unmapped,
# adapter_dimer, too_short, too_long, other_filtered)
BASE_FILLERS = [70] * 30
COHORT = {
    "good_a": ((300, 30, 300, 150, 120), BASE_FILLERS, (100, 50, 800, 300, 750, 500, 300, 150, 50)),
    "good_b": ((300, 40, 300, 150, 120), [70] * 29 + [60], (100, 50, 800, 300, 750, 500, 300, 150, 50)),
    "good_c": ((300, 25, 300, 150, 120), [70] * 29 + [75], (100, 50, 800, 300, 750, 500, 300, 150, 50)),
    "low_annotated": ((70, 7, 70, 35, 28), [16] * 29 + [26], (20, 10, 100, 50, 100, 100, 10, 10, 0)),
    "low_fraction": ((300, 30, 300, 150, 120), BASE_FILLERS, (100, 50, 800, 300, 5000, 500, 300, 150, 50)),
    "low_mirna": ((40, 4, 40, 20, 16), [9] * 29 + [19], (10, 0, 5000, 500, 500, 500, 300, 150, 50)),
    "few_detected": ((300, 30, 300, 150, 120), [525, 525, 525, 525] + [0] * 26, (100, 50, 800, 300, 750, 500, 300, 150, 50)),
    "dimers": ((300, 30, 300, 150, 120), BASE_FILLERS, (100, 50, 800, 300, 750, 15000, 300, 150, 50)),
    "too_short": ((300, 30, 300, 150, 120), BASE_FILLERS, (100, 50, 800, 300, 750, 500, 4000, 150, 50)),
    "hemolysed": ((3000, 10, 300, 150, 120), BASE_FILLERS, (100, 50, 800, 300, 750, 500, 300, 150, 50)),
    "warn_mirna": ((100, 10, 100, 50, 40), [23] * 29 + [33], (50, 0, 2000, 500, 450, 500, 300, 150, 50)),
}
MARKERS = ["hsa-miR-451a", "hsa-miR-23a-3p", "hsa-miR-486-5p", "hsa-miR-16-5p", "hsa-miR-92a-3p"]


def cohort() -> None:
    out = HERE / "cohort"
    out.mkdir(exist_ok=True)
    fillers = [f"hsa-miR-9{i:03d}" for i in range(1, 31)]
    counts: dict[str, dict[str, int]] = {}
    for sample, (markers, filler_counts, rest) in COHORT.items():
        assert len(filler_counts) == 30
        counts[sample] = dict(zip(MARKERS + fillers, list(markers) + filler_counts))
        mature = sum(markers) + sum(filler_counts)
        hairpin, ambiguous, trna, rrna, unmapped, dimer, short, long_, lowq = rest
        rows = [
            ("mirna_mature", "mirna", mature),
            ("mirna_hairpin_only", "mirna", hairpin),
            ("mirna_ambiguous", "mirna", ambiguous),
            ("spikein", "spikein", 0),
            ("trna", "other_rna", trna),
            ("rrna", "other_rna", rrna),
            ("unmapped", "unmapped", unmapped),
            ("adapter_dimer", "filtered", dimer),
            ("too_short", "filtered", short),
            ("too_long", "filtered", long_),
            ("other_filtered", "filtered", lowq),
            ("no_umi", "filtered", 0),
            ("umi_duplicate", "filtered", 0),
        ]
        raw = sum(r[2] for r in rows)
        passing = raw - dimer - short - long_ - lowq
        lines = ["sample\tclass\tgroup\treads\tfraction_of_raw\tfraction_of_passing"]
        for name, group, reads in rows:
            of_passing = "" if group == "filtered" else f"{reads / passing:.6g}"
            lines.append(f"{sample}\t{name}\t{group}\t{reads}\t{reads / raw:.6g}\t{of_passing}")
        (out / f"{sample}.composition.tsv").write_text("\n".join(lines) + "\n")
        (out / f"{sample}.spikeins.tsv").write_text(
            "sample\tspikein\treads\treads_counted_as_mirna\tper_million_passing\n"
        )
    names = sorted(MARKERS + fillers + ["hsa-miR-9999"])  # one miRNA never detected
    samples = list(COHORT)
    lines = ["mirna\t" + "\t".join(samples)]
    for name in names:
        lines.append(name + "\t" + "\t".join(str(counts[s].get(name, 0)) for s in samples))
    (out / "mature_counts.tsv").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    sample_a()
    cohort()

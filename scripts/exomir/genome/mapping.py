"""Map the sequences no miRNA hairpin explained to a genome with bowtie 1.

Input is ``quantify/{sample}.unmapped.fa.gz`` (collapsed FASTA ``>u{rank}_x{count}``): it still
holds the RNA-class reads (tRNA, rRNA, ...), which the read composition assigns first and the
novel-miRNA step reports as known; the composition's genome rows count only what no class took. bowtie
runs with ``-v {mismatches} -a --best --strata -k {max_loci + 1}``: every best-stratum locus up to
one more than ``max_loci`` is reported, so a sequence with more than ``max_loci`` loci is counted
as multi-mapping but its loci are not kept for novel-miRNA discovery (as miRDeep2 discards reads
mapping to more than 5 loci).
"""

from __future__ import annotations

import subprocess
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from exomir.errors import ExomirInputError
from exomir.io import atomic_open, open_text, write_tsv

HIT_COLUMNS = ["sequence", "count", "chrom", "strand", "start", "end", "mismatches", "n_loci"]
#: one row per genome-mapped sequence; ``n_loci`` > max_loci means "more than max_loci" (-k cap)
LOCI_COLUMNS = ["sequence", "count", "n_loci"]
STAT_COLUMNS = [
    "sample",
    "input_sequences",
    "input_reads",
    "genome_reads",
    "genome_unique_reads",
    "genome_multi_reads",
    "genome_excess_loci_reads",
    "genome_unmapped_reads",
]


@dataclass(frozen=True)
class GenomeMapSettings:
    """bowtie settings of the genome mapping."""

    mismatches: int = 0
    max_loci: int = 5
    threads: int = 1


def read_collapsed_fasta(path: str | Path) -> dict[str, int]:
    """Sequence -> read count from a collapsed FASTA (``>name_x{count}``)."""
    counts: dict[str, int] = {}
    name = None
    with open_text(path) as handle:
        for line in handle:
            line = line.strip()
            if line.startswith(">"):
                name = line[1:]
                continue
            if not line:
                continue
            try:
                count = int(name.rsplit("_x", 1)[1])
            except (AttributeError, IndexError, ValueError):
                raise ExomirInputError(
                    f"FASTA record {name!r} has no read count (_x<count>)",
                    where=str(path),
                    fix="use the collapsed FASTA written by quantify_sample",
                ) from None
            counts[line] = counts.get(line, 0) + count
    return counts


def run_bowtie(reads_fa: Path, index_prefix: str, settings: GenomeMapSettings) -> list[str]:
    """bowtie 1 output lines (default format) of ``reads_fa`` against the genome index."""
    cmd = [
        "bowtie", "-f", "-v", str(settings.mismatches), "-a", "--best", "--strata",
        "-k", str(settings.max_loci + 1), "-p", str(settings.threads), "--no-unal",
        index_prefix, str(reads_fa),
    ]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise ExomirInputError(
            f"bowtie failed on the genome index: {proc.stderr.strip()[-500:]}",
            where=index_prefix,
            fix="check genome.bowtie_index / genome.fasta (a bowtie 1 .ebwt index)",
        )
    return proc.stdout.splitlines()


def parse_hits(lines: list[str], seqs: list[str], counts: dict[str, int]) -> pd.DataFrame:
    """Hits table (HIT_COLUMNS) from bowtie lines; read names are indices into ``seqs``."""
    loci: dict[int, list[tuple]] = defaultdict(list)
    for line in lines:
        name, strand, chrom, pos, _seq, _qual, _other, *rest = line.split("\t") + [""]
        idx = int(name[1:])
        seq = seqs[idx]
        mm = len([x for x in rest[0].split(",") if x]) if rest else 0
        start = int(pos) + 1
        loci[idx].append((seq, counts[seq], chrom, strand, start, start + len(seq) - 1, mm))
    rows = []
    for idx in sorted(loci):
        n_loci = len(loci[idx])
        for hit in sorted(loci[idx], key=lambda h: (h[2], h[4], h[3])):
            rows.append((*hit, n_loci))
    return pd.DataFrame(rows, columns=HIT_COLUMNS)


def mapping_stats(sample: str, counts: dict[str, int], hits: pd.DataFrame, max_loci: int) -> dict:
    """One row of per-sample genome mapping statistics (reads, not sequences)."""
    per_seq = hits.drop_duplicates("sequence").set_index("sequence")["n_loci"]
    reads = pd.Series(counts)
    mapped = reads.reindex(per_seq.index)
    return {
        "sample": sample,
        "input_sequences": len(counts),
        "input_reads": int(reads.sum()) if len(reads) else 0,
        "genome_reads": int(mapped.sum()),
        "genome_unique_reads": int(mapped[per_seq == 1].sum()),
        "genome_multi_reads": int(mapped[per_seq > 1].sum()),
        "genome_excess_loci_reads": int(mapped[per_seq > max_loci].sum()),
        "genome_unmapped_reads": int(reads.sum() - mapped.sum()) if len(reads) else 0,
    }


def map_sample(
    sample: str,
    unmapped_fa: str | Path,
    index_prefix: str,
    out_hits: str | Path,
    out_stats: str | Path,
    settings: GenomeMapSettings,
    out_loci: str | Path | None = None,
) -> None:
    """Map one sample's unexplained sequences; write its hits (kept loci) and statistics.

    ``out_loci`` (optional) lists every mapped sequence with its number of loci, including the
    sequences beyond ``max_loci`` that the hits leave out: the read composition splits the
    reads no RNA class explained into genome-unique, genome-multi and unmapped from it.
    """
    counts = read_collapsed_fasta(unmapped_fa)
    seqs = sorted(counts)  # deterministic read names, independent of the input order
    with atomic_open(str(out_hits) + ".reads.fa") as handle:
        for i, seq in enumerate(seqs):
            handle.write(f">s{i}\n{seq}\n")
    reads_fa = Path(str(out_hits) + ".reads.fa")
    try:
        hits = parse_hits(run_bowtie(reads_fa, index_prefix, settings), seqs, counts)
    finally:
        reads_fa.unlink(missing_ok=True)
    write_tsv(pd.DataFrame([mapping_stats(sample, counts, hits, settings.max_loci)], columns=STAT_COLUMNS), out_stats)
    kept = hits[hits["n_loci"] <= settings.max_loci]
    with atomic_open(out_hits) as handle:
        kept.to_csv(handle, sep="\t", index=False, lineterminator="\n")
    if out_loci is not None:
        with atomic_open(out_loci) as handle:
            hits.drop_duplicates("sequence")[LOCI_COLUMNS].to_csv(handle, sep="\t", index=False, lineterminator="\n")


def cohort_stats(stats_files: list[str], quantify_stats: list[str], out: str | Path) -> pd.DataFrame:
    """Cohort genome mapping table, with the hairpin share of the genome-mapped reads.

    ``hairpin_reads`` = reads aligned to miRBase hairpins (quantify ``aligned_reads``);
    genome-mapped reads in total = those (hairpins are genomic) + ``genome_reads`` of the rest
    (which still include the RNA-class reads). exceRpt's transcriptome/genome ratio, with every
    annotated RNA as the transcriptome, is ``transcriptome_genome_ratio`` of
    ``qc/sample_flags.tsv`` (computed from the read composition, where the classes are disjoint).
    """
    genome = pd.concat([pd.read_csv(f, sep="\t", dtype={"sample": str}) for f in stats_files])
    quant = pd.concat([pd.read_csv(f, sep="\t", dtype={"sample": str}) for f in quantify_stats])
    table = genome.merge(quant[["sample", "aligned_reads"]], on="sample", how="left", sort=False)
    table = table.rename(columns={"aligned_reads": "hairpin_reads"})
    table["genome_total_reads"] = table["hairpin_reads"] + table["genome_reads"]
    total = table["hairpin_reads"] + table["input_reads"]
    table["genome_fraction"] = (table["genome_total_reads"] / total.where(total > 0)).round(4)
    ratio = table["hairpin_reads"] / table["genome_total_reads"].where(table["genome_total_reads"] > 0)
    table["hairpin_genome_ratio"] = ratio.round(4)
    write_tsv(table, out)
    return table

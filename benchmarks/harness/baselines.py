"""Baselines run on the same trimmed reads as exomir: the minimal "align every read" count and
nf-core/smrnaseq's actual ``mirna_quant`` steps."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

from harness.common import PROJECT, THREADS, load_config, run_quiet

#: per-hairpin alignment counts from bowtie's default output (column 3 = reference)
BASELINE = (
    "bowtie -f --norc -a --best --strata -v {mm} -p {threads} -x {index} {fasta} "
    "| awk -F '\\t' '{{n[$3]++}} END {{for (h in n) print h \"\\t\" n[h]}}' "
    "| LC_ALL=C sort > {out}"
)


#: one pass over exomir's FASTQ output (4-line records, no UMIs): the window's reads as FASTA named
#: ">r" (minimal baseline) and as FASTQ (nf-core baseline; the records unchanged)
LENGTH_WINDOW_FASTA_FASTQ = (
    "awk -v lo={lo} -v hi={hi} -v fq={dst_fq} 'NR % 4 == 1 {{name = $0}} NR % 4 == 2 {{seq = $0}} "
    "NR % 4 == 3 {{plus = $0}} NR % 4 == 0 && length(seq) >= lo && length(seq) <= hi "
    "{{print \">r\"; print seq; print name > fq; print seq > fq; print plus > fq; print $0 > fq}}' "
    "{src} > {dst}"
)

#: nf-core/smrnaseq's miRNA quantification (subworkflow mirna_quant): modules/local/bowtie_map_mirna.nf
#: (BOWTIE_MAP_SEQ) on the mature index with every trimmed read, then on the hairpin index with the
#: reads unmapped to mature; then BAM_SORT_STATS_SAMTOOLS on each BAM (sort, index, stats with the
#: reference FASTA, flagstat, idxstats). nf-core reads its input as ``-q <(zcat reads.fastq.gz)``;
#: here the first input is plain FASTQ (no decompression: favours the baseline), the hairpin pass
#: reads the gzipped unmapped reads of the mature pass exactly as nf-core does.
NFCORE_MAP = (
    "bowtie -x {index} -q {reads} -p {threads} -t -k 50 --best --strata -e 99999 --chunkmbs 2048 "
    "--un {name}_unmapped.fq -S > {name}.sam 2> {name}.bowtie.log\n"
    "samtools view -bS {name}.sam > {name}.bam\n"
    "if [ ! -f {name}_unmapped.fq ]; then touch {name}_unmapped.fq; fi\n"
    "gzip {name}_unmapped.fq\n"
)
NFCORE_STATS = (
    "samtools sort -@ {threads} -T {name}.sort -o {name}.sorted.bam {name}.bam\n"
    "samtools index -@ {threads_1} {name}.sorted.bam\n"
    "samtools stats --threads {threads} --reference {fasta} {name}.sorted.bam > {name}.stats\n"
    "samtools flagstat --threads {threads} {name}.sorted.bam > {name}.flagstat\n"
    "samtools idxstats --threads {threads_1} {name}.sorted.bam > {name}.idxstats\n"
)


def nfcore_script(folder: Path, reads_fastq: Path, ref: Path) -> str:
    """The whole nf-core miRNA quantification of one sample as one bash script (run in ``folder``)."""
    threads = dict(threads=THREADS, threads_1=max(1, THREADS - 1))
    return (
        f"set -euo pipefail\ncd {folder}\n"
        + NFCORE_MAP.format(index=ref / "bowtie" / "mature", reads=reads_fastq, name="mature", **threads)
        + NFCORE_MAP.format(index=ref / "bowtie" / "hairpin", reads="<(zcat mature_unmapped.fq.gz)", name="hairpin",
                            **threads)
        + NFCORE_STATS.format(name="mature", fasta=ref / "mature.fa", **threads)
        + NFCORE_STATS.format(name="hairpin", fasta=ref / "hairpin.fa", **threads)
    )


def nfcore_reference(folder: Path, hairpin_fa: Path) -> Path:
    """nf-core's two references in ``folder`` (untimed): ``mature.fa`` (miRBase 22.1 mature sequences
    bundled with the project, species of the config only, first word of the name, U -> T), ``hairpin.fa``
    (a copy of exomir's hairpin reference, DNA), each with its bowtie index ``bowtie/{mature,hairpin}``
    and a samtools ``.fai`` (for ``samtools stats --reference``)."""
    species = load_config().get("species", "hsa")
    shutil.rmtree(folder, ignore_errors=True)
    (folder / "bowtie").mkdir(parents=True)
    records, keep = [], False
    with gzip.open(PROJECT / "resources" / "mirbase" / "22.1" / f"mature_{species}.fa.gz", "rt") as handle:
        for line in handle:
            line = line.strip()
            if line.startswith(">"):
                name = line[1:].split()[0]
                keep = name.startswith(species + "-")
                if keep:
                    records.append(f">{name}")
            elif keep and line:
                records.append(line.upper().replace("U", "T"))
    (folder / "mature.fa").write_text("\n".join(records) + "\n")
    shutil.copyfile(hairpin_fa, folder / "hairpin.fa")
    for name in ("mature", "hairpin"):
        run_quiet(["bowtie-build", "--threads", str(THREADS), str(folder / f"{name}.fa"), str(folder / "bowtie" / name)])
        run_quiet(["samtools", "faidx", str(folder / f"{name}.fa")])
    return folder


def nfcore_summary(folder: Path) -> dict:
    """Reads aligned by the nf-core baseline's two bowtie runs (their logs) and BAM records (idxstats)."""
    out = {}
    for name in ("mature", "hairpin"):
        log = (folder / f"{name}.bowtie.log").read_text()
        aligned = [line for line in log.splitlines() if line.startswith("# reads with at least one")]
        if aligned:
            out[f"nfcore_{name}_reads_aligned"] = int(aligned[0].split(":")[1].split()[0])
        idx = [line.split("\t") for line in (folder / f"{name}.idxstats").read_text().splitlines()]
        out[f"nfcore_{name}_alignments"] = sum(int(row[2]) for row in idx)
    return out


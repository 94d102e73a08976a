"""Rule genome_novel: see exomir.genome.novel.discover."""

from pathlib import Path

from exomir.genome.novel import NovelSettings, discover, pool_hits
from exomir.genome.section import write_section, write_stacks
from exomir.logutil import log_to

with log_to(snakemake.log[0]):
    known = {"miRBase_hairpin": snakemake.input.hairpin}
    known.update({Path(p).stem: p for p in snakemake.input.rna_classes})
    table = discover(
        hit_files=list(snakemake.input.hits),
        samples=list(snakemake.params.samples),
        genome_fasta=snakemake.input.fasta,
        known=known,
        out_candidates=snakemake.output.candidates,
        out_counts=snakemake.output.counts,
        settings=NovelSettings(min_score=snakemake.params.min_score),
    )
    hits = pool_hits(list(snakemake.input.hits), list(snakemake.params.samples))
    write_section(table, hits, snakemake.output.section)
    write_stacks(table, hits, snakemake.output.stacks)

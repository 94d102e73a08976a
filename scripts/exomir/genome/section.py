"""Genome-mode outputs for humans: a self-contained HTML section and MultiQC custom content."""

from __future__ import annotations

import html
import json

import pandas as pd

from exomir.io import atomic_open


def stack_lines(row: pd.Series, hits: pd.DataFrame | None = None) -> list[str]:
    """Text drawing of a candidate: precursor, dot-bracket, mature/star marks (miRDeep2 style)."""
    seq, structure = row["precursor_sequence"], row["structure"]
    lines = [seq, structure]
    for label, sub in (("mature", row["mature_sequence"]), ("star", row["star_sequence"])):
        if isinstance(sub, str) and sub and sub in seq:
            p = seq.index(sub)
            lines.append("." * p + sub + "." * (len(seq) - p - len(sub)) + f"  {label}")
    return lines


def draw_stacks(row: pd.Series, hits: pd.DataFrame) -> list[str]:
    """Read stacks aligned under the precursor: one line per distinct read, with its count."""
    seq = row["precursor_sequence"]
    lines = []
    sub = hits[(hits["chrom"] == row["chrom"]) & (hits["strand"] == row["strand"])
               & (hits["start"] >= row["start"]) & (hits["end"] <= row["end"])]
    for read, total in sub.groupby("sequence")["total"].sum().sort_values(ascending=False).head(25).items():
        if read in seq:
            p = seq.index(read)
            lines.append("." * p + read + "." * (len(seq) - p - len(read)) + f"  x{int(total)}")
    return lines


def candidate_drawing(row: pd.Series, hits: pd.DataFrame) -> list[str]:
    """Precursor, dot-bracket, mature/star marks, then the read stacks under them."""
    return stack_lines(row) + draw_stacks(row, hits)


def novel_rows(table: pd.DataFrame) -> pd.DataFrame:
    """The ``call == novel`` rows of the candidate table (empty table when none were evaluated)."""
    return table[table["call"] == "novel"] if len(table) else table


def write_stacks(table: pd.DataFrame, hits: pd.DataFrame, out_json: str) -> None:
    """JSON ``{candidate id: drawing lines}`` of the novel candidates, for the biomarker report."""
    drawings = {row["id"]: candidate_drawing(row, hits) for _, row in novel_rows(table).iterrows()}
    with atomic_open(out_json) as handle:
        json.dump(drawings, handle, indent=1, sort_keys=True)
        handle.write("\n")


def write_section(table: pd.DataFrame, hits: pd.DataFrame, out_html: str) -> None:
    """Self-contained HTML fragment (no scripts, no external files) the report can embed."""
    novel = novel_rows(table)
    parts = ["<section id='novel-mirnas'><h2>Novel miRNA candidates (genome mode)</h2>",
             f"<p>{len(novel)} novel candidates at the score cutoff; {len(table)} loci evaluated. "
             "Candidates overlapping miRBase hairpins or RNA-class libraries are not counted as novel "
             "(see results/genome/novel_candidates.tsv).</p>"]
    for _, row in novel.iterrows():
        lines = candidate_drawing(row, hits)
        parts.append(f"<h3>{html.escape(row['id'])} {html.escape(str(row['chrom']))}:{row['start']}-{row['end']} "
                     f"({row['strand']}) score {row['score']}</h3>")
        parts.append("<pre style='font-family:monospace;font-size:11px'>" + html.escape("\n".join(lines)) + "</pre>")
    parts.append("</section>\n")
    with atomic_open(out_html) as handle:
        handle.write("\n".join(parts))


def write_multiqc(stats: pd.DataFrame, out_tsv: str) -> None:
    """MultiQC custom-content table of the genome mapping statistics."""
    header = ("# id: 'exomir_genome'\n# section_name: 'Genome mapping (exomir genome mode)'\n"
              "# description: 'Reads not aligned to miRBase hairpins (RNA-class reads included), mapped to the genome "
              "with bowtie 1 (multi = more than one best locus); hairpin/genome = miRBase-hairpin reads / "
              "genome-mapped reads; the exceRpt transcriptome/genome ratio is in the exRNA QC flags.'\n"
              "# plot_type: 'table'\n")
    cols = ["sample", "input_reads", "genome_reads", "genome_unique_reads", "genome_multi_reads",
            "genome_unmapped_reads", "genome_fraction", "hairpin_genome_ratio"]
    with atomic_open(out_tsv) as handle:
        handle.write(header)
        stats[cols].rename(columns={"sample": "Sample"}).to_csv(handle, sep="\t", index=False, lineterminator="\n")

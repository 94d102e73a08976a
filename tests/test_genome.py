"""Genome mode: unit tests of the folding/duplex helpers and the leave-out workflow test."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from support import ROOT, default_config, make_workdir, run_snakemake

from exomir.genome.mapping import mapping_stats, parse_hits
from exomir.genome.novel import (
    NovelSettings,
    evaluate_window,
    oriented,
    pair_table,
    partner_near,
    score_components,
)
from exomir.genome.testgenome import LeaveOutSpec, evaluate, make_test_genome


def test_pair_table_and_partner_extrapolation():
    partners = pair_table("((..))")
    assert partners == [5, 4, -1, -1, 1, 0]
    # position 2 is unpaired: its neighbour 1 pairs with 4, so 2 would pair with 3 (antiparallel)
    assert partner_near(partners, 2) == 3
    assert partner_near([-1, -1, -1], 1) is None


def test_score_components_exact():
    comps = score_components(-0.35, True, 5, True, 1.0, 1000, 0.0)
    assert comps == {"score_structure": 2.0, "score_mfe": 2.0, "score_star": 2.0,
                     "score_five_prime": 2.0, "score_reads": 1.5, "score_outside": 0.0}
    comps = score_components(-0.2, False, 0, False, 0.5, 10, 0.5)
    assert sum(comps.values()) == pytest.approx(0 + 0 + 0 + 1.0 + 0.5 - 1.5)


def test_parse_hits_counts_multimapping():
    seqs = ["AAAACCCCGGGGTTTTAC", "ACGTACGTACGTACGTAA"]
    counts = {seqs[0]: 7, seqs[1]: 3}
    lines = [
        "s0\t+\tchr1\t99\tAAAACCCCGGGGTTTTAC\tIIII\t0\t",
        "s1\t-\tchr1\t9\tTTACGTACGTACGTACGT\tIIII\t1\t",
        "s1\t+\tchr2\t19\tACGTACGTACGTACGTAA\tIIII\t1\t",
    ]
    hits = parse_hits(lines, seqs, counts)
    assert hits[["chrom", "strand", "start", "end", "n_loci"]].values.tolist() == [
        ["chr1", "+", 100, 117, 1], ["chr1", "-", 10, 27, 2], ["chr2", "+", 20, 37, 2]]
    stats = mapping_stats("S1", {**counts, "GGGGGGGGGGGGGGGGGG": 5}, hits, max_loci=1)
    assert (stats["input_reads"], stats["genome_reads"], stats["genome_unique_reads"],
            stats["genome_multi_reads"], stats["genome_excess_loci_reads"], stats["genome_unmapped_reads"]) == (15, 10, 7, 3, 3, 5)


def test_real_hairpin_scores_high_and_star_found():
    # hsa-mir-21 stem-loop (miRBase 22.1, DNA) with the 5p mature and its star (3p) reads.
    hp = "TGTCGGGTAGCTTATCAGACTGATGTTGACTGTTGAATCTCATGGCAACACCAGTCGATGGGCTGTCTGACA"
    mature, star = "TAGCTTATCAGACTGATGTTGA", "CAACACCAGTCGATGGGCTGT"
    m0, s0 = hp.index(mature) + 1, hp.index(star) + 1
    reads = pd.DataFrame({"sequence": [mature, star], "chrom": "c", "strand": "+",
                          "start": [m0, s0], "end": [m0 + len(mature) - 1, s0 + len(star) - 1], "total": [100, 10]})
    result = evaluate_window(oriented(reads), hp, 1, (m0, m0 + len(mature) - 1), NovelSettings())
    assert result["in_stem"] and result["overhang_ok"]
    # the 2-nt-overhang rule on the MFE fold puts the star 5' end 1 nt from miRBase's (47 vs 46)
    assert result["star"][0] == s0 + 1
    assert result["score"] >= NovelSettings().min_score


@pytest.mark.workflow
def test_genome_mode_leave_out(tmp_path):
    """Leave-out: 60 real hairpins inserted, 30 removed from the annotation; decoys and repeats."""
    truth = make_test_genome(ROOT / "resources", tmp_path / "tg", LeaveOutSpec())
    config = default_config()
    config["references"].update(mature_fasta="tg/mature.fa", hairpin_fasta="tg/hairpin.fa")
    config["genome"]["fasta"] = "tg/genome.fa"
    config["preprocess"]["kit"] = "truseq"
    config["diffexp"].update(design="~ condition", contrasts=[])
    make_workdir(tmp_path, config, samples_tsv=(tmp_path / "tg" / "samples.tsv").read_text())
    targets = ["results/genome/mapping_stats.tsv", "results/genome/novel_candidates.tsv",
               "results/genome/novel_counts.tsv", "results/genome/novel_section.html",
               "results/genome/multiqc/genome_mapping_mqc.tsv", "results/quantify/mature_counts.tsv"]
    run_snakemake(tmp_path, *targets)
    res = tmp_path / "results" / "genome"
    stats = pd.read_csv(res / "mapping_stats.tsv", sep="\t", dtype={"sample": str})
    assert stats["sample"].tolist() == ["G01", "G02"]
    assert (stats["genome_unique_reads"] + stats["genome_multi_reads"] == stats["genome_reads"]).all()
    assert (stats["genome_reads"] + stats["genome_unmapped_reads"] == stats["input_reads"]).all()
    assert stats["transcriptome_genome_ratio"].between(0, 1).all()
    cands = pd.read_csv(res / "novel_candidates.tsv", sep="\t")
    scores = evaluate(cands, truth)
    assert scores["sensitivity"] >= 0.85 and scores["precision"] >= 0.75, scores
    assert set(cands["call"]) >= {"novel", "known_trna"}
    counts = pd.read_csv(res / "novel_counts.tsv", sep="\t")
    assert counts["novel"].tolist() == cands.loc[cands["call"] == "novel", "id"].tolist()
    mature = pd.read_csv(tmp_path / "results" / "quantify" / "mature_counts.tsv", sep="\t")
    assert not mature["mirna"].str.startswith("novel").any()
    html = (res / "novel_section.html").read_text()
    assert all(i in html for i in counts["novel"]) and "<script" not in html
    assert (res / "multiqc" / "genome_mapping_mqc.tsv").read_text().startswith("# id: 'exomir_genome'")


@pytest.mark.workflow
def test_without_genome_no_genome_rule_is_planned(tmp_path):
    """Default config (genome.fasta empty): the dry-run DAG holds no genome rule."""
    make_workdir(tmp_path, default_config())
    proc = run_snakemake(tmp_path, "--dry-run", "--quiet", "rules")
    # (tmp_path itself contains "genome", so look for the rule names only)
    planned = re.findall(r"\bgenome_(?:index|faidx|map_sample|cohort_stats|novel)\b", proc.stdout + proc.stderr)
    assert planned == []
    assert "quantify_sample" in proc.stdout + proc.stderr

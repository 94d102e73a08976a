"""Genome mode: unit tests of the folding/duplex helpers and the leave-out workflow test."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
from support import ROOT, default_config, make_workdir, run_snakemake
from test_qc import (
    COHORT,
    COHORT_SAMPLES,
    SAMPLE_A,
    SPIKEINS,
    TEST_HEMOLYSIS,
    TEST_THRESHOLDS,
    build_index,
    needs_bowtie,
    run_cohort,
)

from exomir.errors import ExomirInputError
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
from exomir.io import read_tsv
from exomir.multiqc_content import GENOME_COMPOSITION_NOTE
from exomir.qc import check_rna_class_names, sample_composition, summarize_qc


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


# ---------------------------------------------------------------- genome rows of the QC stage

# Unmapped sequences of tests/data/qc/sample_a (see test_qc): u1 is tRNA (50 reads), u7 antisense
# rRNA (6), u9 2-mismatch rRNA (4), u10 random (3); only u7, u9 and u10 are left after the classes.
U1, U7, U9 = "GCTAAAGACAATTACATAACAT", "AGCAAGTAAAGGCGTATGCATC", "GGGATAAGTAAGTGTTATGCAT"


def genome_composition(tmp_path: Path, loci_rows: str) -> pd.Series:
    """sample_a's composition (classes trna, rrna, pirna; spike-ins) with a genome loci table."""
    loci = tmp_path / "sample_a.loci.tsv"
    loci.write_text("sequence\tcount\tn_loci\n" + loci_rows)
    sample_composition(
        sample="sample_a",
        preprocess_stats=SAMPLE_A / "preprocess_stats.tsv",
        quantify_stats=SAMPLE_A / "quantify_stats.tsv",
        unmapped_fasta=SAMPLE_A / "unmapped.fa.gz",
        collapsed_tsv=SAMPLE_A / "collapsed.tsv.gz",
        rna_class_indexes=[(name, build_index(tmp_path, name)) for name in ("trna", "rrna", "pirna")],
        out_composition=tmp_path / "composition.tsv",
        out_spikeins=tmp_path / "spikeins.tsv",
        spikein_fasta=SPIKEINS,
        genome_loci=loci,
    )
    return read_tsv(tmp_path / "composition.tsv").set_index("class")


@needs_bowtie
def test_composition_splits_the_unexplained_reads_by_genome_loci(tmp_path):
    # u1 maps to the genome too but stays tRNA (classes first); u7 one locus, u9 two; u10 none
    table = genome_composition(tmp_path, f"{U1}\t50\t1\n{U7}\t6\t1\n{U9}\t4\t2\n")
    reads = table["reads"]
    assert list(reads.index[4:10]) == ["trna", "rrna", "pirna", "genome_unique", "genome_multi", "unmapped"]
    assert (reads["trna"], reads["genome_unique"], reads["genome_multi"], reads["unmapped"]) == (77, 6, 4, 3)
    assert reads.sum() == 1000
    assert table.loc["genome_multi", "group"] == "genome"
    assert table.loc["genome_unique", "fraction_of_passing"] == pytest.approx(6 / 814)


def test_genome_rows_are_reserved_class_names():
    with pytest.raises(ExomirInputError, match="reserved composition row"):
        check_rna_class_names(["trna", "genome_multi"])


@needs_bowtie
def test_genome_loci_of_other_reads_are_an_error(tmp_path):
    with pytest.raises(ExomirInputError, match="not in the unmapped FASTA with the same count"):
        genome_composition(tmp_path, f"{U7}\t7\t1\n")  # u7 has 6 reads in this sample


def run_genome_cohort(tmp_path: Path, splits: dict[str, tuple[int, int]], **threshold_changes) -> pd.DataFrame:
    """The QC cohort of test_qc in genome mode: ``splits`` moves (unique, multi) unmapped reads of a
    sample to the genome rows (every sample gets the rows: genome mode is cohort-wide)."""
    paths = []
    for sample in COHORT_SAMPLES:
        table = read_tsv(COHORT / f"{sample}.composition.tsv", dtype={"sample": str})
        unique, multi = splits.get(sample, (0, 0))
        at = table.index[table["class"] == "unmapped"][0]
        table.loc[at, "reads"] -= unique + multi
        rows = pd.DataFrame({"sample": sample, "class": ["genome_unique", "genome_multi"], "group": "genome",
                             "reads": [unique, multi], "fraction_of_raw": 0.0, "fraction_of_passing": 0.0})
        table = pd.concat([table.iloc[:at], rows, table.iloc[at:]], ignore_index=True)
        paths.append(tmp_path / f"{sample}.composition.tsv")
        table.to_csv(paths[-1], sep="\t", index=False)
    summarize_qc(
        samples=COHORT_SAMPLES, composition_paths=paths,
        spikein_paths=[COHORT / f"{s}.spikeins.tsv" for s in COHORT_SAMPLES],
        mature_counts_path=COHORT / "mature_counts.tsv", species="hsa",
        out_composition=tmp_path / "composition.tsv", out_hemolysis=tmp_path / "hemolysis.tsv",
        out_spikeins=tmp_path / "spikeins.tsv", out_flags=tmp_path / "sample_flags.tsv",
        multiqc_dir=tmp_path / "multiqc", thresholds={**TEST_THRESHOLDS, **threshold_changes},
        hemolysis=TEST_HEMOLYSIS, mirna_min_reads=5,
    )
    return read_tsv(tmp_path / "sample_flags.tsv", keep_default_na=False).set_index("sample")


def test_flags_use_the_transcriptome_genome_ratio_in_genome_mode(tmp_path):
    # low_fraction: 4250 annotated of 9250 passing (0.459 fails the proxy rule without a genome);
    # 3000 + 1000 of its 5000 unmapped reads map to the genome: 4250 / 8250 = 0.515 passes.
    flags = run_genome_cohort(tmp_path, {"low_fraction": (3000, 1000), "good_a": (600, 100)})
    low = flags.loc["low_fraction"]
    assert (int(low["genome_reads"]), int(low["genome_multi_reads"])) == (4000, 1000)
    assert float(low["transcriptome_genome_ratio"]) == pytest.approx(4250 / 8250, rel=1e-5)
    assert float(low["genome_mapped_fraction"]) == pytest.approx(8250 / 9250, rel=1e-5)
    assert low["status"] == "pass" and low["reasons"] == ""
    assert float(flags.loc["good_a", "transcriptome_genome_ratio"]) == pytest.approx(4250 / 4950, rel=1e-5)
    # no genome-mapped read: ratio 1 (annotated reads only); the proxy rule is never applied
    assert float(flags.loc["good_b", "transcriptome_genome_ratio"]) == 1.0
    assert "low_annotated_fraction" not in ";".join(flags["reasons"])
    # all 5000 map: 4250 / 9250 fails the exceRpt rule; the same threshold key (null) disables it
    low = run_genome_cohort(tmp_path, {"low_fraction": (4500, 500)}).loc["low_fraction"]
    assert low["reasons"] == "low_transcriptome_genome_ratio (fail: 0.459 <= 0.5)"
    off = run_genome_cohort(tmp_path, {"low_fraction": (4500, 500)}, annotated_fraction_fail=None)
    assert off.loc["low_fraction", "status"] == "pass"


def test_multiqc_genome_columns_only_in_genome_mode(tmp_path):
    run_genome_cohort(tmp_path, {"good_a": (600, 100)})
    general = json.loads((tmp_path / "multiqc" / "exomir_qc_general_mqc.json").read_text())
    assert general["data"]["good_a"]["transcriptome_genome_ratio"] == pytest.approx(4250 / 4950, rel=1e-5)
    assert general["data"]["good_a"]["genome_percent"] == pytest.approx(99.0)
    bar = json.loads((tmp_path / "multiqc" / "exomir_qc_composition_mqc.json").read_text())
    assert bar["data"]["good_a"]["genome_unique"] == 600 and GENOME_COMPOSITION_NOTE in bar["description"]
    table = json.loads((tmp_path / "multiqc" / "exomir_qc_flags_mqc.json").read_text())
    assert table["data"]["good_a"]["genome_multi_reads"] == 100
    # without a genome (test_qc's cohort) none of this appears
    plain = tmp_path / "plain"
    run_cohort(plain)
    text = "".join(path.read_text() for path in sorted((plain / "multiqc").glob("*.json")))
    assert "genome" not in text and "genome" not in (plain / "sample_flags.tsv").read_text()


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
               "results/genome/multiqc/genome_mapping_mqc.tsv", "results/quantify/mature_counts.tsv",
               "results/report/exomir_report.html", "results/report/multiqc_report.html"]
    run_snakemake(tmp_path, *targets)
    res = tmp_path / "results" / "genome"
    stats = pd.read_csv(res / "mapping_stats.tsv", sep="\t", dtype={"sample": str})
    assert stats["sample"].tolist() == ["G01", "G02"]
    assert (stats["genome_unique_reads"] + stats["genome_multi_reads"] == stats["genome_reads"]).all()
    assert (stats["genome_reads"] + stats["genome_unmapped_reads"] == stats["input_reads"]).all()
    assert stats["hairpin_genome_ratio"].between(0, 1).all()
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
    check_genome_qc(tmp_path / "results", stats)
    check_genome_reports(tmp_path / "results", cands[cands["call"] == "novel"], counts)


def check_genome_qc(results: Path, stats: pd.DataFrame) -> None:
    """Genome rows in the composition, exceRpt's ratio in the flags, both consistent."""
    wide = read_tsv(results / "qc" / "composition.tsv", dtype={"sample": str}).set_index("sample")
    reads = wide[[c for c in wide.columns if c != "raw_reads" and not c.endswith("_fraction")]]
    assert (reads.sum(axis=1) == wide["raw_reads"]).all()
    assert (wide["genome_unique"] > 0).all() and (wide["genome_multi"] > 0).all()
    # the composition's genome rows are the genome-mapped reads that no RNA class took
    assert (wide["genome_unique"] + wide["genome_multi"] <= stats.set_index("sample")["genome_reads"]).all()
    flags = read_tsv(results / "qc" / "sample_flags.tsv", dtype={"sample": str}).set_index("sample")
    annotated = flags["annotated_reads"]
    expected = annotated / (annotated + wide["genome_unique"] + wide["genome_multi"])
    assert flags["transcriptome_genome_ratio"].to_numpy() == pytest.approx(expected.to_numpy())
    assert (flags["genome_multi_reads"] == wide["genome_multi"]).all()
    # miRTrace-style RNA types: genome-mapped but unannotated is still "unknown"
    types = read_tsv(results / "qc" / "rna_types.tsv", dtype={"sample": str}).set_index("sample")
    assert (types["unknown"] == wide["genome_unique"] + wide["genome_multi"] + wide["unmapped"]).all()
    general = json.loads((results / "qc" / "multiqc" / "exomir_qc_general_mqc.json").read_text())
    assert set(general["headers"]) >= {"genome_percent", "transcriptome_genome_ratio"}


def check_genome_reports(results: Path, novel: pd.DataFrame, counts: pd.DataFrame) -> None:
    """MultiQC has the genome sections; the biomarker report has the novel-miRNA section."""
    mqc = (results / "report" / "multiqc_report.html").read_text(encoding="utf-8")
    assert "mqc-module-section-exomir_genome" in mqc and "Tx/genome" in mqc
    html = (results / "report" / "exomir_report.html").read_text(encoding="utf-8")
    section = html[html.index('<section id="novel-mirnas">'):]
    section = section[: section.index("</section>")]
    assert f'<span id="n-novel">{len(novel)}</span>' in section
    assert 'id="novel-candidates-table"' in section and 'id="novel-counts-table"' in section
    top = novel.sort_values("score", ascending=False).iloc[0]
    drawing = section[section.index(f'<h4 id="{top["id"]}">'):]
    drawing = drawing[: drawing.index("</pre>")]
    # precursor, dot-bracket, mature marked under it, then read stacks with counts
    assert top["precursor_sequence"] in drawing and top["structure"] in drawing
    assert drawing.count(top["mature_sequence"]) >= 2 and "  mature" in drawing
    assert re.search(r"  x\d+", drawing)
    assert all(f">{i}<" in section for i in counts["novel"])


@pytest.mark.workflow
def test_without_genome_no_genome_rule_is_planned(tmp_path):
    """Default config (genome.fasta empty): the dry-run DAG holds no genome rule."""
    make_workdir(tmp_path, default_config())
    proc = run_snakemake(tmp_path, "--dry-run", "--quiet", "rules")
    # (tmp_path itself contains "genome", so look for the rule names only)
    planned = re.findall(r"\bgenome_(?:index|faidx|map_sample|cohort_stats|novel)\b", proc.stdout + proc.stderr)
    assert planned == []
    assert "quantify_sample" in proc.stdout + proc.stderr


def test_novel_report_context(tmp_path):
    from exomir.genome.report_section import REPORT_COLUMNS, novel_report

    assert novel_report(tmp_path) is None  # genome mode did not run: the partial renders nothing
    genome = tmp_path / "genome"
    genome.mkdir()
    rows = pd.DataFrame([
        {**dict.fromkeys(REPORT_COLUMNS, ""), "id": "novel_c1_100_p", "chrom": "c1", "start": 90, "end": 170,
         "strand": "+", "arm": "5p", "score": 8.5, "call": "novel"},
        {**dict.fromkeys(REPORT_COLUMNS, ""), "id": "novel_c2_5_m", "chrom": "c2", "start": 1, "end": 80,
         "strand": "-", "arm": "3p", "score": 6.0, "call": "known_trna"},
    ])
    rows.to_csv(genome / "novel_candidates.tsv", sep="\t", index=False)
    (genome / "novel_counts.tsv").write_text("novel\tS1\tS2\nnovel_c1_100_p\t12\t0\n")
    (genome / "novel_stacks.json").write_text(json.dumps({"novel_c1_100_p": ["ACGU", "(..)", "ACG.  x12"]}))
    ctx = novel_report(tmp_path)
    assert (ctx["n_evaluated"], ctx["n_novel"]) == (2, 1)
    assert ctx["calls"] == [("known_trna", 1), ("novel", 1)]
    assert ctx["drawings"] == [{"id": "novel_c1_100_p", "title": "c1:90-170 (+), 5p mature, score 8.5",
                                "text": "ACGU\n(..)\nACG.  x12"}]
    assert ctx["counts"].columns == ["novel", "S1", "S2"] and ctx["counts"].rows[0][1][0] == "12"
    assert ctx["candidates"].columns == REPORT_COLUMNS

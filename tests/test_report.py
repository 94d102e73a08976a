"""Reports: MultiQC custom content, MultiQC on a fixture, and the standalone biomarker report.

The fixture (tests/data/report/, see its README) is a small synthetic results/ tree in the
formats of docs/architecture.md: 8 samples (BC01-03 cancer, BN01-02 benign, HD01-03 healthy;
BN02 fails QC, HD03 warns), contrasts cancer_vs_healthy and benign_vs_healthy, alpha 0.1.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
import yaml

from exomir import multiqc_content as mc
from exomir.errors import ExomirInputError
from exomir.report import Table, build_context, fmt, render_report, write_report
from support import HANG_TIMEOUT

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "data" / "report"
RESULTS = FIXTURE / "results_tree"  # a results/ tree (named so .gitignore keeps it)
TEMPLATES = ROOT / "workflow" / "report"
MULTIQC_CONFIG = TEMPLATES / "multiqc_config.yaml"
SAMPLES = ["BC01", "BC02", "BC03", "BN01", "BN02", "HD01", "HD02", "HD03"]
CONTRASTS = ["cancer_vs_healthy", "benign_vs_healthy"]


def sheet_records(path: Path = FIXTURE / "samples.tsv") -> list[dict]:
    return pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False).to_dict("records")


def fixture_config() -> dict:
    return yaml.safe_load((FIXTURE / "config.yaml").read_text())


def per_sample(pattern: str, results: Path = RESULTS) -> dict[str, Path]:
    return {s: results / pattern.format(sample=s) for s in SAMPLES}


# ----------------------------------------------------------------------------- HTML helpers


class _ById(HTMLParser):
    """Collect the text of every element with an id, and every element's attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.text: dict[str, str] = {}
        self.elements: list[tuple[str, dict[str, str]]] = []
        self._open: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.elements.append((tag, attrs))
        if tag in ("meta", "input", "br", "img", "link", "hr"):
            return
        self._open.append((tag, attrs.get("id")))
        if attrs.get("id"):
            self.text.setdefault(attrs["id"], "")

    def handle_endtag(self, tag):
        while self._open:
            open_tag, _ = self._open.pop()
            if open_tag == tag:
                break

    def handle_data(self, data):
        for _, element_id in self._open:
            if element_id:
                self.text[element_id] += data


def parse(html: str) -> _ById:
    parser = _ById()
    parser.feed(html)
    return parser


def embedded_data(html: str) -> dict:
    match = re.search(r'<script type="application/json" id="exomir-data">(.*?)</script>', html, re.S)
    assert match, "embedded JSON data block missing"
    return json.loads(match.group(1))


def table_rows(html: str, table_id: str) -> list[str]:
    match = re.search(rf'<table id="{re.escape(table_id)}".*?<tbody>(.*?)</tbody>', html, re.S)
    assert match, f"table {table_id} missing"
    return re.findall(r"<tr[ >].*?</tr>", match.group(1), re.S)


@pytest.fixture(scope="module")
def report_html(tmp_path_factory) -> str:
    out = tmp_path_factory.mktemp("report") / "exomir_report.html"
    write_report(out, RESULTS, sheet_records(), CONTRASTS, TEMPLATES, fixture_config(),
                 command="snakemake --cores 2 --configfile config/config.yaml")
    return out.read_text(encoding="utf-8")


# ----------------------------------------------------------------------------- MultiQC content


def test_general_stats_reads_come_from_the_stats_tables():
    content = mc.general_stats(SAMPLES, per_sample("preprocess/{sample}.stats.tsv"),
                               per_sample("quantify/{sample}.stats.tsv"))
    assert content["plot_type"] == "generalstats"
    assert content["data"]["BC01"] == {"trimmed_reads": 82623, "mirna_reads": 43829}
    assert content["data"]["HD03"] == {"trimmed_reads": 421654, "mirna_reads": 295075}
    assert list(content["data"]) == SAMPLES


def test_read_lengths_are_percent_of_reads():
    content = mc.read_lengths(SAMPLES, per_sample("preprocess/{sample}.lengths.tsv"))
    bc01 = content["data"]["BC01"]
    assert bc01[22] == pytest.approx(100 * 26900 / 82600, abs=1e-6)
    assert content["data"]["HD03"][22] == pytest.approx(100 * 137950 / 421650, abs=1e-6)
    assert sum(bc01.values()) == pytest.approx(100, abs=1e-4)
    assert min(bc01) == 6 and max(bc01) == 40


def test_mirna_detection_counts_by_threshold():
    content = mc.mirna_detection(SAMPLES, RESULTS / "quantify" / "mature_counts.tsv")
    assert content["data"]["BC01"][1] == 26
    assert content["data"]["BC02"][1] == 27
    assert content["data"]["BC03"][100] == 13
    assert content["data"]["BC01"][100] == 11
    # at >= 1 read the curve equals mirnas_detected of the quantify stats
    for sample in SAMPLES:
        stats = pd.read_csv(RESULTS / "quantify" / f"{sample}.stats.tsv", sep="\t")
        assert content["data"][sample][1] == int(stats["mirnas_detected"].iloc[0])


def test_top_mirnas_rows_add_up_to_the_sample_total():
    content = mc.top_mirnas(SAMPLES, RESULTS / "quantify" / "mature_counts.tsv", n=5)
    names = list(content["categories"])
    assert len(names) == 6 and names[0] == "hsa-miR-451a" and names[-1] == "other miRNAs"
    assert content["data"]["HD03"]["hsa-miR-451a"] == 269902
    assert sum(content["data"]["BC01"].values()) == 43829
    assert sum(content["data"]["HD03"].values()) == 295075


def test_de_summary_counts_per_contrast():
    content = mc.de_summary(
        CONTRASTS,
        {c: RESULTS / "diffexp" / c / "results.tsv" for c in CONTRASTS},
        {c: RESULTS / "markers" / c / "annotation.tsv" for c in CONTRASTS},
        alpha=0.1,
    )
    assert content["data"]["cancer_vs_healthy"] == {
        "tested": 24, "significant": 3, "up": 2, "down": 1,
        "catalogue_entries": 8, "catalogue_detected": 6, "concordant": 4, "discordant": 1,
    }
    assert content["data"]["benign_vs_healthy"]["significant"] == 0
    assert content["data"]["benign_vs_healthy"]["concordant"] == 2
    assert content["headers"]["significant"]["title"] == "padj < 0.1"


def test_de_summary_without_annotation_has_no_catalogue_columns():
    results = {"cancer_vs_healthy": RESULTS / "diffexp" / "cancer_vs_healthy" / "results.tsv"}
    content = mc.de_summary(["cancer_vs_healthy"], results, alpha=0.001)
    assert content["data"]["cancer_vs_healthy"] == {"tested": 24, "significant": 1, "up": 1, "down": 0}
    assert "concordant" not in content["headers"]


def test_missing_column_is_a_clear_error(tmp_path):
    bad = tmp_path / "BC01.lengths.tsv"
    bad.write_text("len\treads\n22\t5\n")
    with pytest.raises(ExomirInputError, match=r"BC01\.lengths\.tsv.*missing column\(s\) length"):
        mc.read_lengths(["BC01"], {"BC01": bad})


def _write_content(outdir: Path, contrasts=CONTRASTS) -> list[Path]:
    return mc.write_multiqc_content(
        outdir, SAMPLES,
        per_sample("preprocess/{sample}.stats.tsv"),
        per_sample("preprocess/{sample}.lengths.tsv"),
        per_sample("quantify/{sample}.stats.tsv"),
        RESULTS / "quantify" / "mature_counts.tsv",
        contrasts,
        {c: RESULTS / "diffexp" / c / "results.tsv" for c in contrasts},
        {c: RESULTS / "markers" / c / "annotation.tsv" for c in contrasts},
        alpha=0.1,
    )


def test_content_files_are_deterministic_and_named_for_multiqc(tmp_path):
    first = _write_content(tmp_path / "a")
    second = _write_content(tmp_path / "b")
    assert [p.name for p in first] == list(mc.CONTENT_FILES)
    for a, b in zip(first, second):
        assert a.read_bytes() == b.read_bytes()
        assert re.search(r"_mqc\.yaml$", a.name)
        assert yaml.safe_load(a.read_text())["id"] == a.name[: -len("_mqc.yaml")]


def test_no_contrast_gives_a_note_instead_of_a_table(tmp_path):
    paths = _write_content(tmp_path, contrasts=[])
    summary = yaml.safe_load(paths[-1].read_text())
    assert summary["plot_type"] == "html" and "No contrast" in summary["description"]


# ----------------------------------------------------------------------------- MultiQC run


@pytest.fixture(scope="module")
def multiqc_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("multiqc")
    content = _write_content(tmp / "content")
    files = sorted((RESULTS / "qc" / "fastqc").glob("*/*_fastqc.zip"))
    files += sorted((RESULTS / "preprocess").glob("*.cutadapt.log")) + sorted((RESULTS / "quantify").glob("*.bowtie.log"))
    files += sorted((RESULTS / "qc" / "multiqc").glob("*_mqc.json")) + content
    cmd = [sys.executable, "-m", "multiqc", "--force", "--no-ansi", "--config", str(MULTIQC_CONFIG),
           "--outdir", str(tmp / "out"), "--filename", "multiqc_report.html", "--data-dir", *map(str, files)]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp, timeout=HANG_TIMEOUT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return tmp, proc.stdout + proc.stderr


def test_multiqc_collapses_sample_names_and_keeps_numbers(multiqc_run):
    tmp, _ = multiqc_run
    stats = pd.read_csv(tmp / "out" / "multiqc_report_data" / "multiqc_general_stats.txt", sep="\t",
                        index_col=0, dtype={"Sample": str})
    assert sorted(stats.index) == sorted(SAMPLES)  # BC01_fastqc, BC01.cutadapt.log, BC01.bowtie.log -> BC01
    trimmed = [c for c in stats.columns if c.endswith("exomir-trimmed_reads")]
    mirna = [c for c in stats.columns if c.endswith("exomir-mirna_reads")]
    assert len(trimmed) == 1 and len(mirna) == 1
    assert stats.loc["BC01", trimmed[0]] == 82623
    assert stats.loc["HD03", mirna[0]] == 295075
    status = [c for c in stats.columns if c.endswith("qc_status")]
    assert status and stats.loc["BN02", status[0]] == "fail"


def test_multiqc_sections_follow_the_pipeline(multiqc_run):
    tmp, log = multiqc_run
    html = (tmp / "out" / "multiqc_report.html").read_text(encoding="utf-8")
    order = re.findall(r'id="mqc-module-section-([^"]+)"', html)
    expected = ["fastqc", "cutadapt", "exomir_read_lengths", "bowtie1", "exomir_read_assignment", "exomir_mirna_detection",
                "exomir_top_mirnas", "exomir_qc_composition", "exomir_qc_hemolysis", "exomir_qc_flags",
                "exomir_de_summary"]
    assert [s for s in order if s in expected] == expected
    assert "Insert length after trimming" in html
    assert "Loading config settings from" in log and "multiqc_config.yaml" in log
    assert str(tmp) not in html  # no analysis paths of this machine in the report


def test_multiqc_config_is_offline_and_path_free():
    config = yaml.safe_load(MULTIQC_CONFIG.read_text())
    assert config["no_version_check"] is True and config["ai_summary"] is False
    assert config["show_analysis_paths"] is False and config["show_analysis_time"] is False
    assert {"cutadapt", "bowtie1"} <= set(config["use_filename_as_sample_name"])


# ----------------------------------------------------------------------------- biomarker report


def test_report_sections_and_cohort_numbers(report_html):
    doc = parse(report_html)
    for section in ("cohort", "qc", "c-cancer_vs_healthy", "c-benign_vs_healthy", "methods"):
        assert section in doc.text, section
    assert doc.text["n-samples"] == "8"
    assert doc.text["n-used"] == "7"
    flags = pd.read_csv(RESULTS / "qc" / "sample_flags.tsv", sep="\t")
    counts = flags["status"].value_counts()
    assert doc.text["n-pass"] == f"{counts['pass']} pass" == "6 pass"
    assert doc.text["n-warn"] == "1 warn"
    assert doc.text["n-fail"] == "1 fail"
    assert len(table_rows(report_html, "samples-table")) == 8
    assert len(table_rows(report_html, "flags-table")) == 8


def test_report_contrast_numbers_match_the_results_table(report_html):
    data = embedded_data(report_html)
    for contrast, n_sig, n_up, n_down in (("cancer_vs_healthy", 3, 2, 1), ("benign_vs_healthy", 0, 0, 0)):
        res = pd.read_csv(RESULTS / "diffexp" / contrast / "results.tsv", sep="\t")
        assert int((res["padj"] < 0.1).sum()) == n_sig
        section = re.search(rf'<section id="c-{contrast}".*?</section>', report_html, re.S).group(0)
        assert re.search(rf'<span class="n-sig">{n_sig}</span> of <span class="n-tested">24</span>', section)
        assert f'<span class="n-up">{n_up}</span>' in section and f'<span class="n-down">{n_down}</span>' in section
        rows = table_rows(report_html, f"results-{contrast}")
        assert len(rows) == len(res) == 27
        assert sum('data-sig="1"' in r for r in rows) == n_sig
        points = data["contrasts"][f"c-{contrast}"]["points"]
        assert [p["m"] for p in points] == list(res["mirna"])
        assert sum(p["sig"] for p in points) == n_sig
    top = table_rows(report_html, "results-cancer_vs_healthy")[0]
    assert "hsa-miR-1246" in top and "2.62e-16" in top


def test_report_catalogue_and_roc_views(report_html):
    section = re.search(r'<section id="c-cancer_vs_healthy".*?</section>', report_html, re.S).group(0)
    assert "concordant: <b>4</b>" in section and "discordant: <b>1</b>" in section
    assert "not detected: <b>2</b>" in section and "direction not stated: <b>1</b>" in section
    rows = table_rows(report_html, "catalogue-cancer_vs_healthy")
    assert len(rows) == 8
    mir145 = next(r for r in rows if "hsa-miR-145-5p" in r)
    assert "down" in mir145 and 'class="fail">discordant' in mir145 and "Fixture et al. 2012" in mir145
    assert "exploratory" in section.lower()
    data = embedded_data(report_html)["contrasts"]["c-cancer_vs_healthy"]
    assert "panel (nested CV)" in data["roc"] and data["auc"]["panel (nested CV)"]["auc"] == 0.75
    assert data["auc"]["hsa-miR-1246"] == {"auc": 1.0, "label": "hsa-miR-1246: AUC 1, higher in cancer"}
    assert len(table_rows(report_html, "auc-cancer_vs_healthy")) == 6


def test_roc_legend_agrees_with_the_auc_table(report_html):
    """Issue 20.3: the legend's AUC and direction are the table's, for every curve and both contrasts."""
    for name, level, reference in (("cancer_vs_healthy", "cancer", "healthy"), ("benign_vs_healthy", "benign", "healthy")):
        data = embedded_data(report_html)["contrasts"][f"c-{name}"]
        auc = pd.read_csv(FIXTURE / "results_tree" / "markers" / name / "auc.tsv", sep="\t")
        header = re.search(rf'<table id="auc-{name}".*?<thead>(.*?)</thead>', report_html, re.S).group(1)
        columns = [re.sub(r"<.*?>", "", c) for c in re.findall(r"<th[^>]*>(.*?)</th>", header)]
        assert columns[:5] == ["mature", "roles", "AUC", "AUC 95% CI", "higher in"]
        for row in table_rows(report_html, f"auc-{name}"):
            cells = [re.sub(r"<.*?>", "", c) for c in re.findall(r"<td[^>]*>(.*?)</td>", row)]
            mature, shown_auc, group = cells[0], cells[2], cells[4]
            assert data["auc"][mature]["label"] == f"{mature}: AUC {shown_auc}, higher in {group}"
            source = auc.set_index("mature").loc[mature]
            assert group == (level if source["higher_in"] == "level" else reference)
            assert float(shown_auc) == pytest.approx(max(source["auc"], 1 - source["auc"]), abs=5e-3)


def test_report_summary_overview_validation_and_meta(report_html):
    doc = parse(report_html)
    findings = doc.text["findings"]
    assert findings.index("Cohort: 8 samples") < findings.index("cancer_vs_healthy (cancer vs healthy)")
    assert "Independent validation of the locked panel (hsa-miR-21-5p;hsa-miR-1246): AUC" in findings
    assert "pooled direction agrees with the literature for hsa-miR-21-5p, hsa-miR-1246" in findings
    assert report_html.index('id="summary"') < report_html.index('id="cohort"') < report_html.index('id="overview"')
    data = embedded_data(report_html)
    assert len(data["overview"]["pca"]["points"]) == 8 and len(data["overview"]["distances"]["values"]) == 8
    strips = data["contrasts"]["c-cancer_vs_healthy"]["strips"]
    assert [s["why"] for s in strips][:1] == ["catalogue marker"] and "top DE" in {s["why"] for s in strips}
    assert all([g["name"] for g in s["groups"]] == ["cancer", "healthy"] for s in strips)
    assert len(strips[0]["groups"][0]["values"]) == 3
    metrics = pd.read_csv(FIXTURE / "results_tree" / "validation" / "metrics.tsv", sep="\t").iloc[0]
    assert f"{float(metrics['auc']):.3g}" in doc.text["val-auc"]
    assert len(table_rows(report_html, "meta-table")) == 4
    assert 'id="forest-plot" src="data:image/svg+xml;base64,' in report_html


def test_report_methods(report_html):
    doc = parse(report_html)
    assert doc.text["command"] == "snakemake --cores 2 --configfile config/config.yaml"
    assert "alpha: 0.1" in doc.text["config"]
    rows = table_rows(report_html, "checksums-table")
    assert len(rows) == 4 and "mature_hsa.fa.gz" in rows[0] and "hairpin_fa" in rows[3]
    assert "miRBase 22.1 bundled with exomir" in doc.text["reference-note"]
    assert "cutadapt (from the trimming logs)" in report_html and "5.2" in doc.text["versions-table"]
    links = [a.get("href") for tag, a in doc.elements if tag == "a"]
    assert "multiqc_report.html" in links
    # self-contained: no external resource of any kind
    for tag, attrs in doc.elements:
        for key in ("src", "href"):
            value = attrs.get(key) or ""
            assert not re.match(r"^(https?:)?//", value), (tag, value)


def test_report_is_deterministic(tmp_path):
    a, b = tmp_path / "a.html", tmp_path / "b.html"
    for out in (a, b):
        write_report(out, RESULTS, sheet_records(), CONTRASTS, TEMPLATES, fixture_config(), command="x")
    assert a.read_bytes() == b.read_bytes()


def _copy_fixture(tmp_path: Path) -> Path:
    results = tmp_path / "results"
    shutil.copytree(RESULTS, results)
    return results


def test_report_handles_missing_optional_parts(tmp_path):
    results = _copy_fixture(tmp_path)
    for path in ("qc/spikeins.tsv", "qc/hemolysis.tsv", "qc/composition.tsv", "diffexp/samples.tsv",
                 "references", "markers/cancer_vs_healthy/roc.tsv", "markers/cancer_vs_healthy/panel.tsv",
                 "markers/cancer_vs_healthy/panel_summary.tsv"):
        target = results / path
        shutil.rmtree(target) if target.is_dir() else target.unlink()
    samples = [{k: v for k, v in r.items() if k not in ("batch", "description")} for r in sheet_records()]
    config = fixture_config()
    config["diffexp"]["contrasts"] = config["diffexp"]["contrasts"][:1]
    context, data = build_context(results, samples, ["cancer_vs_healthy"], config)
    html = render_report(context, data, TEMPLATES)
    doc = parse(html)
    assert "c-cancer_vs_healthy" in doc.text and "c-benign_vs_healthy" not in doc.text
    assert "n-used" not in doc.text
    assert "No reference checksums found" in html
    assert "Spike-ins" not in html and 'class="plot roc"' not in html
    assert context["cohort"]["covariates"] == []


def test_report_without_contrasts_or_markers(tmp_path):
    results = _copy_fixture(tmp_path)
    shutil.rmtree(results / "markers")
    config = fixture_config()
    config["diffexp"]["contrasts"] = []
    html = render_report(*build_context(results, sheet_records(), [], config), TEMPLATES)
    assert "no contrast is configured (diffexp.contrasts is empty)" in html
    config["diffexp"]["enabled"] = False
    html = render_report(*build_context(results, sheet_records(), [], config), TEMPLATES)
    assert "differential expression is switched off (diffexp.enabled: false)" in html
    html = render_report(*build_context(results, sheet_records(), ["benign_vs_healthy"], config), TEMPLATES)
    assert "No catalogue annotation found" in html
    # the contrast levels come from the mean_norm_ columns when the config does not list the contrast
    assert "Contrast benign_vs_healthy: benign versus healthy" in html


def test_report_missing_results_is_a_clear_error(tmp_path):
    results = _copy_fixture(tmp_path)
    (results / "diffexp" / "cancer_vs_healthy" / "results.tsv").unlink()
    with pytest.raises(ExomirInputError, match="no results for contrast 'cancer_vs_healthy'"):
        build_context(results, sheet_records(), ["cancer_vs_healthy"], fixture_config())


EVIL_CONDITION = '<script>alert("cond")</script>'
EVIL_DESCRIPTION = "</script><img src=x onerror=alert(1)> & 'quotes'"


def test_user_strings_are_escaped(tmp_path):
    results = _copy_fixture(tmp_path)
    # the cancer group gets a hostile name everywhere it appears: sheet, config, results columns
    res_path = results / "diffexp" / "cancer_vs_healthy" / "results.tsv"
    res = pd.read_csv(res_path, sep="\t")
    res = res.rename(columns={"mean_norm_cancer": f"mean_norm_{EVIL_CONDITION}"})
    res.to_csv(res_path, sep="\t", index=False)
    samples = sheet_records()
    for row in samples:
        if row["condition"] == "cancer":
            row["condition"] = EVIL_CONDITION
        row["description"] = EVIL_DESCRIPTION
    samples[0]["sample"] = "<b>BC01</b>"
    config = fixture_config()
    config["diffexp"]["contrasts"][0]["level"] = EVIL_CONDITION
    config["report"]["title"] = "<script>alert('title')</script>"
    html = render_report(*build_context(results, samples, CONTRASTS, config, command="snakemake '</script>'"),
                         TEMPLATES)
    assert "<script>alert" not in html
    assert "<img src=x" not in html and "<b>BC01</b>" not in html
    assert len(re.findall(r"<script[\s>]", html)) == 2  # the JSON data block and the report's own JS
    assert "&lt;script&gt;alert(&#34;cond&#34;)&lt;/script&gt;" in html
    assert "&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt; &amp; &#39;quotes&#39;" in html
    # the JSON block is still valid and gives the original strings back
    data = embedded_data(html)
    assert data["contrasts"]["c-cancer_vs_healthy"]["level"] == EVIL_CONDITION
    block = re.search(r'id="exomir-data">(.*?)</script>', html, re.S).group(1)
    assert "</" not in block and "<" not in block


@pytest.mark.parametrize(
    ("value", "kind", "text"),
    [(1234567, "auto", "1,234,567"), (0.000123, "p", "1.23e-04"), (0.0456, "p", "0.046"), (float("nan"), "auto", "NA"),
     ("", "auto", ""), (2.345678, "auto", "2.35"), (53.04, "pct", "53.0%"), (True, "auto", "yes")],
)
def test_fmt(value, kind, text):
    assert fmt(value, kind) == text


MINI_SNAKEFILE = """
import sys
from pathlib import Path

import pandas as pd


configfile: "config.yaml"


ROOT = Path({root!r})
sys.path.insert(0, str(ROOT / "scripts"))
# what workflow/rules/common.smk and common_qc.smk provide to the report rules
SAMPLE_SHEET = pd.read_csv(
    config["samples"], sep="\\t", dtype=str, keep_default_na=False
).set_index("sample", drop=False)
SAMPLES = list(SAMPLE_SHEET.index)
SPECIES = config["species"]
REF = f"results/references/{{SPECIES}}"
CONTRASTS = [c["name"] for c in config["diffexp"]["contrasts"]]
QC_MULTIQC_FILES = sorted(str(p) for p in Path("results/qc/multiqc").glob("*_mqc.json"))
CONFIG_DIGEST = "fixture"
DIFFEXP_SAMPLES_TSV = ["results/diffexp/samples.tsv"]
GENOME_MULTIQC_FILES = []  # genome mode off
GENOME_REPORT_FILES = []
COUNTS_MODE = False  # FASTQ input, not a count matrix
VALIDATION_OUTPUTS = []  # no validation.model
META_OUTPUTS = []  # no meta_analysis.cohorts


include: str(ROOT / "workflow" / "rules" / "common_report.smk")
include: str(ROOT / "workflow" / "rules" / "report.smk")
include: str(ROOT / "workflow" / "rules" / "provenance.smk")
"""


@pytest.mark.workflow
def test_report_rules_run_in_snakemake(tmp_path):
    """The three report rules on the fixture: outputs, command in the methods, rerun is a no-op."""
    shutil.copytree(RESULTS, tmp_path / "results")
    shutil.copy(FIXTURE / "samples.tsv", tmp_path / "samples.tsv")
    config = fixture_config()
    config["samples"] = "samples.tsv"
    config["report"] = {"title": "mini workflow", "multiqc_top_mirnas": 5, "multiqc_config": ""}
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    (tmp_path / "Snakefile").write_text(MINI_SNAKEFILE.format(root=str(ROOT)))
    env = {k: v for k, v in os.environ.items() if k != "EXOMIR_COMMAND"}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    targets = ["results/report/multiqc_report.html", "results/report/exomir_report.html"]
    cmd = [sys.executable, "-m", "snakemake", "--cores", "1", *targets]
    proc = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=HANG_TIMEOUT)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    html = (tmp_path / "results" / "report" / "exomir_report.html").read_text(encoding="utf-8")
    assert parse(html).text["command"] == "snakemake --cores 1 " + " ".join(targets)
    assert "<title>mini workflow</title>" in html
    top = yaml.safe_load((tmp_path / "results" / "report" / "multiqc" / "exomir_top_mirnas_mqc.yaml").read_text())
    assert len(top["categories"]) == 6
    mqc = (tmp_path / "results" / "report" / "multiqc_report.html").read_text(encoding="utf-8")
    assert 'id="mqc-module-section-fastqc"' in mqc and 'id="mqc-module-section-exomir_de_summary"' in mqc
    # another command line (a dry run) does not make the report outdated
    dry = subprocess.run([*cmd, "--dry-run"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=HANG_TIMEOUT)
    assert dry.returncode == 0 and "Nothing to be done" in dry.stdout + dry.stderr


def test_headers_are_spaced_words():
    from exomir.report import header

    assert header("raw_reads") == "raw reads" and header("log2FoldChange") == "log2FoldChange"


def test_seed_and_ids_printed_as_written_and_booleans_as_yes_no(tmp_path):
    from exomir.report import _read_text_table

    path = tmp_path / "summary.tsv"
    path.write_text("seed\tsample\tcv_auc_mean\tflagged\n20170329\t007\t0.75\tTrue\n", encoding="utf-8")
    df = _read_text_table(path)
    table = Table.from_frame("t", df)
    texts = [cell[0] for cell in table.rows[0]]
    assert texts == ["20170329", "007", "0.75", "yes"]


def test_artefact_flag_is_shown_prominently(tmp_path):
    results = _copy_fixture(tmp_path)
    config = fixture_config()
    name = config["diffexp"]["contrasts"][0]["name"]
    path = results / "markers" / name / "annotation.tsv"
    ann = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)
    first = ann["mature"].iloc[0]
    ann["other_class_share"] = ["0.3"] + ["0.0"] * (len(ann) - 1)
    ann["other_classes"] = ["snRNA:RNU2-1"] + [""] * (len(ann) - 1)
    ann["non_mirna_origin"] = ["U2 snRNA (RNU2-1) fragment"] + [""] * (len(ann) - 1)
    ann["artefact_flag"] = ["yes"] + ["no"] * (len(ann) - 1)
    ann.to_csv(path, sep="\t", index=False)
    html = render_report(*build_context(results, sheet_records(), [name], config), TEMPLATES)
    assert "Possible non-miRNA origin" in html
    assert f"{first}: 30.0% of its reads are also explained by snRNA:RNU2-1" in html
    assert "known non-miRNA origin: U2 snRNA (RNU2-1) fragment" in html

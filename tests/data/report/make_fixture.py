"""Write the small synthetic ``results/`` tree the report tests read.

Run from the project root: ``.venv/bin/python tests/data/report/make_fixture.py``.
Every number is synthetic (fixed seed) but the files follow the formats of
docs/architecture.md, and the tables agree with each other (read counts in the
logs, stats tables, count matrix and DE results), so the report tests can check
that the HTML shows the same numbers as the tables.
"""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results_tree"
SEED = 20170101

SAMPLES = [
    # sample, condition, batch, description
    ("BC01", "cancer", "run1", "plasma exosomes, stage II"),
    ("BC02", "cancer", "run1", "plasma exosomes, stage I"),
    ("BC03", "cancer", "run2", "plasma exosomes, stage III"),
    ("BN01", "benign", "run1", "fibroadenoma"),
    ("BN02", "benign", "run2", "fibroadenoma"),
    ("HD01", "healthy", "run1", "healthy donor"),
    ("HD02", "healthy", "run2", "healthy donor"),
    ("HD03", "healthy", "run2", "healthy donor, slightly hemolysed"),
]
CONTRASTS = {"cancer_vs_healthy": ("cancer", "healthy"), "benign_vs_healthy": ("benign", "healthy")}
MIRNAS = sorted(
    [
        "hsa-let-7a-5p", "hsa-let-7b-5p", "hsa-miR-10b-5p", "hsa-miR-122-5p", "hsa-miR-1246",
        "hsa-miR-125b-5p", "hsa-miR-142-3p", "hsa-miR-145-5p", "hsa-miR-150-5p", "hsa-miR-155-5p",
        "hsa-miR-16-5p", "hsa-miR-191-5p", "hsa-miR-195-5p", "hsa-miR-200c-3p", "hsa-miR-21-5p",
        "hsa-miR-223-3p", "hsa-miR-23a-3p", "hsa-miR-26a-5p", "hsa-miR-30d-5p", "hsa-miR-320a-3p",
        "hsa-miR-34a-5p", "hsa-miR-373-3p", "hsa-miR-375-3p", "hsa-miR-451a", "hsa-miR-486-5p",
        "hsa-miR-92a-3p", "hsa-miR-9-5p", "hsa-miR-105-5p",
    ]
)
# (catalogue miRNA, resolved mature name or "", role, direction, citation); fictitious fixture rows.
CATALOGUE = [
    ("miR-21", "hsa-miR-21-5p", "diagnostic", "up", "Fixture et al. 2015"),
    ("miR-1246", "hsa-miR-1246", "diagnostic", "up", "Fixture et al. 2016"),
    ("miR-10b", "hsa-miR-10b-5p", "metastasis", "up", "Fixture et al. 2014"),
    ("miR-373", "hsa-miR-373-3p", "prognostic", "up", "Fixture et al. 2013"),
    ("miR-145", "hsa-miR-145-5p", "diagnostic", "down", "Fixture et al. 2012"),
    ("miR-122", "hsa-miR-122-5p", "metastasis", "", "Fixture et al. 2015"),
    ("miR-105", "hsa-miR-105-5p", "metastasis", "up", "Fixture et al. 2014"),
    ("miR-9999", "", "diagnostic", "up", "Fixture et al. 2017"),
]
LENGTHS = list(range(6, 41))


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def tsv(df: pd.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(path, sep="\t", index=False, float_format="%.6g", lineterminator="\n")


def bh(p: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (NaN kept)."""
    out = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    q = p[ok]
    order = np.argsort(q)
    ranked = q[order] * len(q) / (np.arange(len(q)) + 1)
    ranked = np.minimum.accumulate(ranked[::-1])[::-1]
    adj = np.empty_like(q)
    adj[order] = np.minimum(ranked, 1)
    out[ok] = adj
    return out


def cutadapt_log(sample: str, raw: int, with_adapter: int, short: int, long: int, passing: int) -> str:
    pct = lambda n: f"{100 * n / raw:.1f}%"  # noqa: E731
    return (
        "This is cutadapt 5.2 with Python 3.11.7\n"
        f"Command line parameters: -a TGGAATTCTCGGGTGCCAAGG -m 18 -M 30 -o {sample}.trimmed.fastq.gz {sample}.fastq.gz\n"
        "Processing single-end reads on 1 core ...\n\n=== Summary ===\n\n"
        f"Total reads processed:{raw:>27,}\n"
        f"Reads with adapters:{with_adapter:>29,} ({pct(with_adapter)})\n\n"
        "== Read fate breakdown ==\n"
        f"Reads that were too short:{short:>23,} ({pct(short)})\n"
        f"Reads that were too long:{long:>24,} ({pct(long)})\n"
        f"Reads written (passing filters):{passing:>17,} ({pct(passing)})\n\n"
        f"Total basepairs processed:{raw * 50:>16,} bp\n"
        f"Total written (filtered):{passing * 22:>17,} bp ({100 * passing * 22 / (raw * 50):.1f}%)\n\n"
        "=== Adapter 1 ===\n\n"
        f"Sequence: TGGAATTCTCGGGTGCCAAGG; Type: regular 3'; Length: 21; Trimmed: {with_adapter} times\n"
    )


def bowtie_log(unique: int, aligned: int) -> str:
    failed = unique - aligned
    return (
        f"# reads processed: {unique}\n"
        f"# reads with at least one alignment: {aligned} ({100 * aligned / unique:.2f}%)\n"
        f"# reads that failed to align: {failed} ({100 * failed / unique:.2f}%)\n"
        f"Reported {aligned} alignments\n"
    )


def fastqc_zip(sample: str, raw_reads: int) -> None:
    """A FastQC zip holding only fastqc_data.txt (what MultiQC reads), from the real FastQC 0.11.9
    output of a synthetic 2,000-read FASTQ (fastqc_data_BC01.txt), renamed and rescaled."""
    text = (HERE / "fastqc_data_BC01.txt").read_text()
    text = text.replace("Filename\tBC01", f"Filename\t{sample}").replace(
        "Total Sequences\t2000", f"Total Sequences\t{raw_reads}")
    path = RESULTS / "qc" / "fastqc" / sample / f"{sample}_fastqc.zip"
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        # the folder entry comes first, as in FastQC's own zips (MultiQC relies on it)
        folder = zipfile.ZipInfo(f"{sample}_fastqc/", date_time=(2020, 1, 1, 0, 0, 0))
        archive.writestr(folder, b"")
        info = zipfile.ZipInfo(f"{sample}_fastqc/fastqc_data.txt", date_time=(2020, 1, 1, 0, 0, 0))
        archive.writestr(info, text)


def main() -> None:
    rng = np.random.default_rng(SEED)
    names = [s[0] for s in SAMPLES]
    cond = {s[0]: s[1] for s in SAMPLES}
    write(
        HERE / "samples.tsv",
        "sample\tcondition\tbatch\tdescription\tfastq\n"
        + "".join(f"{s}\t{c}\t{b}\t{d}\traw/{s}.fastq.gz\n" for s, c, b, d in SAMPLES),
    )
    # counts: base expression per miRNA, condition effects for a few
    base = rng.lognormal(mean=5.0, sigma=2.0, size=len(MIRNAS))
    base[MIRNAS.index("hsa-miR-451a")] = 40000
    base[MIRNAS.index("hsa-miR-16-5p")] = 12000
    base[MIRNAS.index("hsa-miR-9-5p")] = 0.3
    base[MIRNAS.index("hsa-miR-105-5p")] = 0.0
    effect = {"hsa-miR-21-5p": 2.0, "hsa-miR-1246": 2.5, "hsa-miR-10b-5p": 1.6, "hsa-miR-145-5p": 1.2,
              "hsa-miR-155-5p": -1.8, "hsa-miR-375-3p": -2.2}
    counts = {}
    for s in names:
        mu = base.copy()
        if cond[s] == "cancer":
            for m, lfc in effect.items():
                mu[MIRNAS.index(m)] *= 2.0**lfc
        if s == "HD03":
            mu[MIRNAS.index("hsa-miR-451a")] *= 6
        counts[s] = rng.poisson(mu * rng.uniform(0.6, 1.4))
    mat = pd.DataFrame({"mirna": MIRNAS, **counts})
    tsv(mat, RESULTS / "quantify" / "mature_counts.tsv")

    stats_rows, qstats_rows, flags, comp, hemo, spike = [], [], [], [], [], []
    for i, s in enumerate(names):
        mature = int(mat[s].sum())
        passing = int(mature / rng.uniform(0.35, 0.7))
        hairpin_only = int(passing * 0.04)
        ambiguous = int(passing * 0.01)
        aligned = mature + hairpin_only + ambiguous
        unique = int(passing * 0.08)
        uniq_aligned = int(unique * 0.3)
        dimers = int(passing * 0.05)
        short = int(passing * 0.2)
        long = int(passing * 0.03)
        raw = passing + dimers + short + long + 17 * (i + 1)
        with_adapter = raw - 11 * (i + 1)
        stats_rows.append(dict(sample=s, kit="illumina_truseq_small", adapter="TGGAATTCTCGGGTGCCAAGG", raw_reads=raw,
                               reads_with_adapter=with_adapter, adapter_dimers=dimers, too_short=short, too_long=long,
                               other_filtered=raw - passing - dimers - short - long, umi_reads=0,
                               umi_deduplicated_reads=0, passing_reads=passing, unique_sequences=unique))
        write(RESULTS / "preprocess" / f"{s}.cutadapt.log",
              cutadapt_log(s, raw, with_adapter, dimers + short, long, passing))
        tsv(pd.DataFrame([stats_rows[-1]]), RESULTS / "preprocess" / f"{s}.stats.tsv")
        fastqc_zip(s, raw)
        peak = rng.normal(22, 1.2, size=passing // 50)
        lens = np.clip(np.round(peak), 6, 40).astype(int)
        lc = pd.Series(lens).value_counts().reindex(LENGTHS, fill_value=0)
        tsv(pd.DataFrame({"length": LENGTHS, "reads": (lc.values * 50).astype(int)}),
            RESULTS / "preprocess" / f"{s}.lengths.tsv")
        detected = int((mat[s] > 0).sum())
        qstats_rows.append(dict(sample=s, input_reads=passing, unique_sequences=unique, aligned_reads=aligned,
                                mature_reads=mature, hairpin_only_reads=hairpin_only, ambiguous_reads=ambiguous,
                                unmapped_reads=passing - aligned, mirnas_detected=detected))
        tsv(pd.DataFrame([qstats_rows[-1]]), RESULTS / "quantify" / f"{s}.stats.tsv")
        write(RESULTS / "quantify" / f"{s}.bowtie.log", bowtie_log(unique, uniq_aligned))
        marker = int(counts[s][MIRNAS.index("hsa-miR-451a")])
        reference = int(counts[s][MIRNAS.index("hsa-miR-23a-3p")])
        ratio = (marker + 1) / (reference + 1)
        hemo.append(dict(sample=s, marker="hsa-miR-451a", reference="hsa-miR-23a-3p", marker_reads=marker,
                         reference_reads=reference, ratio=ratio, log2_ratio=float(np.log2(ratio)),
                         ratio_above_threshold=ratio > 128, ratio_outlier=s == "HD03",
                         outlier_limit_log2_ratio=7.9, rbc_share=marker / mature, rbc_share_outlier=False))
        # composition in the wide format of qc/composition.tsv (qc.composition_wide)
        other = passing - aligned
        parts = {"adapter_dimer": dimers, "too_short": short, "too_long": long,
                 "low_quality": raw - passing - dimers - short - long, "mirna_mature": mature,
                 "mirna_hairpin_only": hairpin_only, "mirna_ambiguous": ambiguous, "rRNA": int(other * 0.3),
                 "tRNA": int(other * 0.25), "snoRNA": int(other * 0.05), "spikein": 100 + 7 * i}
        parts["unmapped"] = raw - sum(parts.values())
        comp.append({"sample": s, "raw_reads": raw, **parts, **{f"{k}_fraction": v / raw for k, v in parts.items()}})
        status, reasons = "pass", ""
        if s == "HD03":
            status, reasons = "warn", "hemolysis_outlier (warn: log2 ratio 9.2 > cohort limit 7.9)"
        if s == "BN02":
            status, reasons = "fail", ("low_mature_mirna_reads (fail: 79198 < 100000);"
                                       "few_mirnas_detected (warn: 25 < 50)")
        flags.append(dict(sample=s, status=status, reasons=reasons, use_in_de=status != "fail", raw_reads=raw,
                          passing_reads=passing, annotated_reads=aligned + parts["rRNA"] + parts["tRNA"]
                          + parts["snoRNA"], annotated_fraction=0.9, mirna_reads=aligned,
                          mature_mirna_reads=mature, mirna_fraction=aligned / passing,
                          adapter_dimer_fraction=dimers / raw, too_short_fraction=short / raw,
                          mirnas_detected=detected, hemolysis_ratio=ratio, hemolysis_ratio_outlier=s == "HD03",
                          rbc_share=marker / mature, rbc_share_outlier=False))
        spike.append(dict(sample=s, spikein="UniSp2", reads=100 + 7 * i, reads_counted_as_mirna=0,
                          per_million_passing=1e6 * (100 + 7 * i) / passing))
    tsv(pd.DataFrame(qstats_rows), RESULTS / "quantify" / "mapping_stats.tsv")
    tsv(pd.DataFrame(flags), RESULTS / "qc" / "sample_flags.tsv")
    tsv(pd.DataFrame(comp), RESULTS / "qc" / "composition.tsv")
    tsv(pd.DataFrame(hemo), RESULTS / "qc" / "hemolysis.tsv")
    tsv(pd.DataFrame(spike), RESULTS / "qc" / "spikeins.tsv")
    # the qc stage's MultiQC content, written by its own function so the fixture has the real format
    from exomir.multiqc_content import write_qc_content

    write_qc_content(RESULTS / "qc" / "multiqc", pd.DataFrame(comp), pd.DataFrame(flags),
                          pd.DataFrame(hemo).set_index("sample"), 10)

    used = [s for s in names if s != "BN02"]
    status = {f["sample"]: (f["status"], f["reasons"]) for f in flags}
    tsv(pd.DataFrame({"sample": names, "condition": [cond[s] for s in names],
                      "batch": [b for _, _, b, _ in SAMPLES],
                      "qc_status": [status[s][0] for s in names], "qc_reasons": [status[s][1] for s in names],
                      "used": ["yes" if s in used else "no" for s in names],
                      "note": ["" if s in used else f"excluded: QC status fail ({status[s][1]})" for s in names]}),
        RESULTS / "diffexp" / "samples.tsv")
    sf = mat[used].sum() / mat[used].sum().mean()
    norm = mat[used] / sf
    for contrast, (level, ref) in CONTRASTS.items():
        a = [s for s in used if cond[s] == level]
        b = [s for s in used if cond[s] == ref]
        ma = norm[a].mean(axis=1)
        mb = norm[b].mean(axis=1)
        base_mean = norm[a + b].mean(axis=1)
        lfc = np.log2((ma + 0.5) / (mb + 0.5))
        se = 0.3 + 2.0 / np.sqrt(base_mean + 1)
        stat = lfc / se
        from scipy.stats import norm as normal

        pval = 2 * normal.sf(np.abs(stat))
        zero = base_mean.values == 0
        lfc[zero] = np.nan
        se[zero] = np.nan
        stat[zero] = np.nan
        pval = np.where(zero, np.nan, pval)
        filt = base_mean.values < 5
        padj = bh(np.where(filt, np.nan, pval))
        res = pd.DataFrame({"mirna": MIRNAS, "baseMean": base_mean.values, "log2FoldChange": lfc.values,
                            "lfcSE": se.values, "stat": stat.values, "pvalue": pval, "padj": padj,
                            "log2FoldChange_shrunk": (lfc * base_mean / (base_mean + 20)).values,
                            f"mean_norm_{level}": ma.values, f"mean_norm_{ref}": mb.values})
        res["note"] = np.where(np.isnan(padj) & ~np.isnan(pval), "low mean count: removed by independent filtering", "")
        res = res.sort_values(["padj", "pvalue", "mirna"], na_position="last", kind="mergesort")
        res = res[res["baseMean"] > 0]  # like diffexp: only miRNAs passing the prefilter are tested
        tsv(res, RESULTS / "diffexp" / contrast / "results.tsv")
        by = res.set_index("mirna")
        ann = []
        for k, (cat, mature, role, direction, cite) in enumerate(CATALOGUE, start=1):
            row = dict(contrast=contrast, catalogue="fixture", entry_id=f"FIX-M{k:02d}", name_in_review=cat,
                       mirna=cat, role=role, function=f"fixture function of {cat}", drug="", targets="",
                       direction=direction or "not stated",
                       comparison="patients vs healthy donors" if direction else "",
                       context="patient plasma exosomes", review_refs=str(k), cited_papers=cite, mature=mature,
                       legacy_arm="no")
            detected = bool(mature) and mature in by.index
            r = by.loc[mature] if detected else None
            for col in ("baseMean", "log2FoldChange", "log2FoldChange_shrunk", "lfcSE", "stat", "pvalue", "padj",
                        f"mean_norm_{level}", f"mean_norm_{ref}"):
                row[col] = r[col] if detected else np.nan
            row["detected"] = "yes" if detected else "no"
            row["significant"] = "yes" if detected and r["padj"] < 0.1 else "no"
            if not detected:
                conc, sign = "not detected", ""
            elif not direction:
                conc, sign = "direction not stated", ""
            else:
                obs = "up" if r["log2FoldChange"] > 0 else "down"
                conc = "concordant" if obs == direction else "discordant"
                sign = "positive" if direction == "up" else "negative"
            row["concordance"], row["expected_lfc_sign"] = conc, sign
            row["orientation"] = f"{level} is the cancer group"
            ann.append(row)
        tsv(pd.DataFrame(ann), RESULTS / "markers" / contrast / "annotation.tsv")
        # single-marker AUCs and ROC curves on the normalised counts (exploratory), in the markers formats
        y = np.array([1] * len(a) + [0] * len(b))
        aucs, rocs = [], []
        for cat, mature, role, *_ in CATALOGUE:
            if not mature or mature not in by.index:
                continue
            x = norm.loc[MIRNAS.index(mature), a + b].to_numpy(dtype=float)
            pos, neg = x[y == 1], x[y == 0]
            auc = float(np.mean([(p > n) + 0.5 * (p == n) for p in pos for n in neg]))
            best = max(auc, 1 - auc)
            aucs.append(dict(contrast=contrast, mature=mature, roles=role, auc=auc, auc_ci_low=max(0, auc - 0.3),
                             auc_ci_high=min(1, auc + 0.3), higher_in="level" if auc >= 0.5 else "reference",
                             auc_best_direction=best, auc_best_ci_low=max(0, best - 0.3),
                             auc_best_ci_high=min(1, best + 0.3), n_level=len(a), n_reference=len(b), level=level,
                             reference=ref, bootstrap="200 stratified resamples, seed 1, percentile 95% CI",
                             analysis="exploratory"))
            score = x if auc >= 0.5 else -x
            rocs.append(dict(curve=mature, fpr=0.0, tpr=0.0, threshold=np.inf, analysis="exploratory"))
            for t in np.unique(score)[::-1]:
                rocs.append(dict(curve=mature, fpr=float(np.mean(score[y == 0] >= t)),
                                 tpr=float(np.mean(score[y == 1] >= t)), threshold=float(t), analysis="exploratory"))
        aucs.sort(key=lambda r: (-r["auc_best_direction"], r["mature"]))
        tsv(pd.DataFrame(aucs), RESULTS / "markers" / contrast / "auc.tsv")
        panel = [dict(contrast=contrast, mature=r["mature"], roles=r["roles"], selection_frequency=f,
                      mean_standardized_coefficient=c, analysis="exploratory")
                 for r, f, c in zip(aucs[:3], (1.0, 0.67, 0.33), (0.9, 0.4, -0.2))]
        tsv(pd.DataFrame(panel), RESULTS / "markers" / contrast / "panel.tsv")
        tsv(pd.DataFrame([dict(contrast=contrast, level=level, reference=ref, n_level=len(a), n_reference=len(b),
                               n_candidate_features=len(aucs), max_features=3, cv_folds=2, cv_repeats=5, seed=1,
                               method="L2 logistic regression (fixture)", cv_auc_mean=0.75, cv_auc_sd=0.1,
                               cv_auc_min=0.6, cv_auc_max=0.9, status="computed", analysis="exploratory")]),
            RESULTS / "markers" / contrast / "panel_summary.tsv")
        panel_roc = [dict(curve="panel (nested CV)", fpr=f, tpr=t, threshold=th, analysis="exploratory")
                     for f, t, th in ((0, 0, np.inf), (0, 0.5, 0.8), (0.5, 1, 0.4), (1, 1, 0.1))]
        tsv(pd.DataFrame(panel_roc + rocs), RESULTS / "markers" / contrast / "roc.tsv")
    ref = RESULTS / "references" / "hsa"
    # format of references.prepare_references: role, file, sha256 (of fixture stand-in names)
    rows = [dict(role=role, file=fn, sha256=hashlib.sha256(fn.encode()).hexdigest())
            for role, fn in (("mature_fasta", "mature_hsa.fa.gz"), ("hairpin_fasta", "hairpin_hsa.fa.gz"),
                             ("gff3", "hsa.gff3.gz"), ("hairpin_fa", "hairpin.fa"))]
    tsv(pd.DataFrame(rows), ref / "checksums.tsv")


if __name__ == "__main__":
    main()

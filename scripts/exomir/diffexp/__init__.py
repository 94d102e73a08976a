"""Differential expression of mature miRNAs with pyDESeq2 (the DESeq2 model in Python).

The stage has two steps:

* :func:`run_cohort` (rule ``diffexp_fit``): chooses the samples (QC exclusion),
  checks the design and every contrast before any computation, fits the model
  once (size factors, dispersions, coefficients, Cook's refit), and from that one
  fit writes the cohort tables (samples, size factors, normalized counts, VST,
  PCA, sample distances, dispersions), the plots, and every contrast's
  ``results.tsv`` (Wald test, Cook's filter, independent filtering,
  Benjamini-Hochberg, apeGLM-like shrinkage, hemolysis sensitivity).
* :func:`run_contrast` (rule ``diffexp_contrast``): the contrast's plots and its
  top-miRNA table, from ``results.tsv`` and the VST.

One fit per design (issue 19): the cohort fit's baseline of each factor is the
reference of the first contrast on it, so that contrast is a model coefficient
(as ``lfcShrink(type="apeglm", coef=...)`` needs in R). A contrast with another
reference is tested with its contrast vector on the same fit (R's
``results(contrast=...)``), and shrunk on the same fit re-expressed with its
reference as baseline (a change of coordinates, ``b' = T b``: size factors,
dispersions and fitted means do not change, so nothing is refitted). The VST uses
the fit's trend (R ``varianceStabilizingTransformation(blind = FALSE)``). A
second fit is made only for a second design: the hemolysis check
(:mod:`exomir.diffexp.hemolysis`) fits the design with and without the
hemolysis covariate.

Defaults follow R DESeq2 1.38 rather than pyDESeq2 0.5.4 where the two differ:
``alpha`` is 0.1 (pyDESeq2's ``DeseqStats`` defaults to 0.05). Parity with R is
measured in ``tests/test_diffexp_parity.py`` on real count matrices.

Only additive designs of sample-sheet columns are supported (``~ batch +
condition``); every design variable is categorical (sample-sheet values are
text), and a factor's baseline is the first contrast's reference, else
``reference_levels[factor]`` if set, else the alphabetically first level (R's
default for factors). The only continuous term is exomir's own hemolysis
covariate.
"""

from __future__ import annotations

import json
import logging
import re
import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import pandas as pd

from exomir.errors import ExomirInputError
from exomir.io import atomic_open, read_tsv, write_tsv

LOG = logging.getLogger("exomir.diffexp")

#: Contrast names become directory names and Snakemake wildcards.
CONTRAST_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
#: A design term is a sample-sheet column name (same rule as the sheet schema).
TERM_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
#: Number of most variable miRNAs used for the PCA, as R DESeq2's plotPCA(ntop=500).
PCA_TOP = 500
#: Principal components written to pca.tsv.
PCA_COMPONENTS = 5


@dataclass(frozen=True)
class Contrast:
    """One comparison: ``level`` versus ``reference`` of the sample-sheet column ``factor``."""

    name: str
    factor: str
    level: str
    reference: str


@dataclass(frozen=True)
class DiffexpSettings:
    """The ``diffexp`` config section, typed (see ``config/README.md``)."""

    design: str = "~ condition"
    contrasts: tuple[Contrast, ...] = ()
    reference_levels: dict[str, str] = field(default_factory=dict)
    alpha: float = 0.1
    prefilter: bool = False
    min_count: int = 10
    min_samples: int | None = None
    fit_type: str = "parametric"
    cooks_filter: bool = True
    independent_filter: bool = True
    shrink: bool = True
    n_cpus: int = 1
    top_n: int = 30
    hemolysis_covariate: bool = False
    hemolysis_check: bool = True

    @classmethod
    def from_config(cls, section: dict[str, Any]) -> "DiffexpSettings":
        """Build settings from the (schema-validated) ``diffexp`` config dict."""
        contrasts = tuple(parse_contrast(raw) for raw in section.get("contrasts", []) or [])
        defaults = cls()
        return cls(
            design=str(section.get("design", defaults.design)),
            contrasts=contrasts,
            reference_levels={str(k): str(v) for k, v in (section.get("reference_levels") or {}).items()},
            alpha=float(section.get("alpha", defaults.alpha)),
            prefilter=bool(section.get("prefilter", defaults.prefilter)),
            min_count=int(section.get("min_count", defaults.min_count)),
            min_samples=None if section.get("min_samples") is None else int(section["min_samples"]),
            fit_type=str(section.get("fit_type", defaults.fit_type)),
            cooks_filter=bool(section.get("cooks_filter", defaults.cooks_filter)),
            independent_filter=bool(section.get("independent_filter", defaults.independent_filter)),
            shrink=bool(section.get("shrink", defaults.shrink)),
            n_cpus=int(section.get("n_cpus", defaults.n_cpus)),
            top_n=int(section.get("top_n", defaults.top_n)),
            hemolysis_covariate=bool(section.get("hemolysis_covariate", defaults.hemolysis_covariate)),
            hemolysis_check=bool(section.get("hemolysis_check", defaults.hemolysis_check)),
        )

    def contrast(self, name: str) -> Contrast:
        """The contrast called ``name``."""
        for contrast in self.contrasts:
            if contrast.name == name:
                return contrast
        raise ExomirInputError(
            f"contrast {name!r} is not defined",
            where="config diffexp.contrasts",
            fix=f"use one of: {', '.join(c.name for c in self.contrasts) or '(none defined)'}",
        )


def parse_contrast(raw: dict[str, Any]) -> Contrast:
    """Turn one ``diffexp.contrasts`` entry into a :class:`Contrast`, checking its fields."""
    where = "config diffexp.contrasts"
    missing = [key for key in ("name", "factor", "level", "reference") if not str(raw.get(key, "")).strip()]
    if missing:
        raise ExomirInputError(
            f"contrast {raw!r} lacks {', '.join(missing)}",
            where=where,
            fix="give each contrast name, factor, level and reference",
        )
    contrast = Contrast(*(str(raw[key]).strip() for key in ("name", "factor", "level", "reference")))
    if not CONTRAST_NAME_RE.match(contrast.name):
        raise ExomirInputError(
            f"contrast name {contrast.name!r} is not usable as a folder name",
            where=where,
            fix="use letters, digits, '_', '-' and '.', starting with a letter or digit",
        )
    if contrast.level == contrast.reference:
        raise ExomirInputError(
            f"contrast {contrast.name!r} compares level {contrast.level!r} with itself",
            where=where,
            fix="set 'reference' to the baseline level (for example the healthy controls)",
        )
    return contrast


def design_terms(design: str) -> list[str]:
    """Column names of an additive design formula ``~ a + b`` (in formula order)."""
    where = "config diffexp.design"
    text = design.strip()
    if not text.startswith("~"):
        raise ExomirInputError(
            f"design {design!r} does not start with '~'",
            where=where,
            fix="write it as in R DESeq2, for example '~ batch + condition'",
        )
    terms = [term.strip() for term in text[1:].split("+")]
    bad = [term for term in terms if not TERM_RE.match(term)]
    if bad or not terms:
        raise ExomirInputError(
            f"design {design!r} has unsupported terms {bad}",
            where=where,
            fix="use an additive design of sample-sheet columns ('~ batch + condition'); "
            "interactions, transformations and intercept removal are not supported",
        )
    if len(set(terms)) != len(terms):
        raise ExomirInputError(f"design {design!r} repeats a term", where=where, fix="list each column once")
    return terms


# --------------------------------------------------------------------------- inputs


def read_counts(path: str | Path) -> pd.DataFrame:
    """Read ``quantify/mature_counts.tsv`` as a miRNA x sample integer matrix."""
    where = f"count matrix {path}"
    table = read_tsv(path, dtype={0: str})
    if table.shape[1] < 2:
        raise ExomirInputError("has no sample columns", where=where, fix="rerun the quantify stage")
    table = table.set_index(table.columns[0])
    if table.index.has_duplicates:
        dup = table.index[table.index.duplicated()][0]
        raise ExomirInputError(f"miRNA {dup!r} appears twice", where=where, fix="give each miRNA one row")
    values = table.to_numpy()
    if table.isna().any().any() or not np.issubdtype(values.dtype, np.number):
        raise ExomirInputError("has empty or non-numeric cells", where=where, fix="counts must be integers")
    if (values < 0).any() or (np.round(values) != values).any():
        raise ExomirInputError(
            "has negative or non-integer counts",
            where=where,
            fix="DESeq2 needs raw read counts, not RPM or normalized values",
        )
    return table.astype(np.int64)


def read_sample_sheet(path: str | Path) -> pd.DataFrame:
    """Read the sample sheet as text, indexed by sample (order kept)."""
    sheet = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)
    sheet.columns = [c.strip() for c in sheet.columns]
    sheet = sheet.apply(lambda col: col.str.strip())
    return sheet.set_index("sample", drop=False)


def read_sample_flags(path: str | Path) -> pd.DataFrame:
    """Read ``qc/sample_flags.tsv`` (sample, status, reasons, ...), indexed by sample."""
    flags = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)
    for column in ("sample", "status", "reasons"):
        if column not in flags.columns:
            raise ExomirInputError(
                f"column {column!r} is missing", where=f"QC flags {path}", fix="rerun the qc stage"
            )
    return flags.set_index("sample", drop=False)


def select_samples(
    sheet: pd.DataFrame,
    count_samples: Iterable[str],
    flags: pd.DataFrame | None,
    exclude_failed: bool,
    design: str,
) -> pd.DataFrame:
    """Decide for each sample whether it enters the model, and say why not.

    Returns one row per sample-sheet sample (sheet order) with columns
    ``sample``, ``condition`` and ``batch`` (when in the sheet), the design
    columns, ``qc_status``, ``qc_reasons``, ``used``
    (``yes``/``no``) and ``note``.
    """
    terms = design_terms(design)
    count_samples = list(count_samples)
    missing = [s for s in sheet.index if s not in count_samples]
    if missing:
        raise ExomirInputError(
            f"samples {missing} of the sample sheet have no column in the count matrix",
            where="quantify/mature_counts.tsv",
            fix="rerun the quantify stage after changing the sample sheet",
        )
    absent_terms = [t for t in terms if t not in sheet.columns]
    if absent_terms:
        raise ExomirInputError(
            f"design factor(s) {absent_terms} are not columns of the sample sheet "
            f"(columns: {', '.join(sheet.columns)})",
            where="config diffexp.design",
            fix="add the column to the sample sheet or remove the term from the design",
        )
    # condition and batch are shown (PCA colours) even when not in the design.
    shown = [c for c in ("condition", "batch") if c in sheet.columns and c not in terms] + terms
    rows = []
    for sample in sheet.index:
        status, reasons = "pass", ""
        if flags is not None:
            if sample not in flags.index:
                raise ExomirInputError(
                    f"sample {sample!r} has no row", where="qc/sample_flags.tsv", fix="rerun the qc stage"
                )
            status, reasons = flags.loc[sample, "status"], flags.loc[sample, "reasons"]
        used, note = "yes", ""
        empty = [t for t in terms if sheet.loc[sample, t] == ""]
        if empty:
            raise ExomirInputError(
                f"sample {sample!r} has no value for design factor(s) {empty}",
                where="sample sheet",
                fix="fill in the value, or drop the sample from the sample sheet",
            )
        if status == "fail":
            if exclude_failed:
                used, note = "no", f"excluded: QC status fail ({reasons})"
            else:
                note = f"kept despite QC status fail ({reasons}); qc.exclude_failed_from_de is false"
        rows.append({"sample": sample, **{t: sheet.loc[sample, t] for t in shown},
                     "qc_status": status, "qc_reasons": reasons, "used": used, "note": note})
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- checks


def factor_levels(values: pd.Series, reference: str | None) -> list[str]:
    """Levels of a factor, reference first, then the others alphabetically (R's default order)."""
    levels = sorted(set(values))
    if reference is not None and reference in levels:
        levels.remove(reference)
        levels.insert(0, reference)
    return levels


def fit_baselines(settings: DiffexpSettings) -> dict[str, str]:
    """Baseline level per factor of the cohort fit: the first contrast's reference, else ``reference_levels``.

    With the first contrast's reference as baseline, that contrast is a
    coefficient of the one cohort fit (shrinkage needs a coefficient).
    """
    baselines = dict(settings.reference_levels)
    for contrast in reversed(settings.contrasts):
        baselines[contrast.factor] = contrast.reference
    return baselines


def model_metadata(
    samples: pd.DataFrame,
    design: str,
    reference_levels: dict[str, str],
    contrast: Contrast | None = None,
    covariates: dict[str, pd.Series] | None = None,
) -> pd.DataFrame:
    """Design columns of the used samples: categoricals (reference level first) and numeric covariates.

    With ``contrast``, its reference becomes the baseline of its factor, so the
    contrast is the model coefficient ``factor[T.level]``. ``covariates`` holds
    continuous design terms by name (sample-indexed), e.g. the hemolysis score.
    """
    covariates = covariates or {}
    used = samples[samples["used"] == "yes"].set_index("sample")
    meta = pd.DataFrame(index=used.index)
    for term in design_terms(design):
        if term in covariates:
            meta[term] = covariates[term].reindex(used.index).astype(float)
            continue
        reference = reference_levels.get(term)
        if contrast is not None and term == contrast.factor:
            reference = contrast.reference
        meta[term] = pd.Categorical(used[term], categories=factor_levels(used[term], reference))
    return meta


def design_matrix(meta: pd.DataFrame, design: str) -> pd.DataFrame:
    """Treatment-coded model matrix: intercept, one column per non-reference level, numeric terms as is."""
    columns = {"Intercept": np.ones(len(meta))}
    for term in design_terms(design):
        if not isinstance(meta[term].dtype, pd.CategoricalDtype):
            columns[term] = meta[term].to_numpy(dtype=float)
            continue
        for level in meta[term].cat.categories[1:]:
            columns[f"{term}[T.{level}]"] = (meta[term] == level).to_numpy(dtype=float)
    return pd.DataFrame(columns, index=meta.index)


def _check_samples_left(samples: pd.DataFrame) -> None:
    """At least 2 samples must be left after QC exclusion."""
    used = samples[samples["used"] == "yes"]
    excluded = samples.loc[samples["used"] == "no", "sample"].tolist()
    if len(used) < 2:
        raise ExomirInputError(
            f"only {len(used)} sample(s) left for differential expression after QC exclusion "
            f"(excluded: {', '.join(excluded) or 'none'})",
            where="qc/sample_flags.tsv",
            fix="sequence more samples, or set qc.exclude_failed_from_de: false to keep failing samples",
        )


def _check_reference_levels(used: pd.DataFrame, settings: DiffexpSettings, terms: list[str]) -> None:
    """Each ``reference_levels`` entry names a design factor and a level with used samples."""
    where = "config diffexp.reference_levels"
    for factor, level in settings.reference_levels.items():
        if factor not in terms:
            raise ExomirInputError(
                f"reference_levels names factor {factor!r}, which is not in the design {settings.design!r}",
                where=where,
                fix=f"use one of the design factors: {', '.join(terms)}",
            )
        if level not in set(used[factor]):
            raise ExomirInputError(
                f"reference level {level!r} of factor {factor!r} has no used sample "
                f"(levels present: {', '.join(sorted(set(used[factor])))})",
                where=where,
                fix="correct the level name (case matters) or check QC exclusions in diffexp/samples.tsv",
            )


def _check_contrast(samples: pd.DataFrame, settings: DiffexpSettings, terms: list[str], contrast: Contrast) -> None:
    """The contrast's factor is a design column and both its levels have >= 2 used samples."""
    label = f"config diffexp.contrasts ({contrast.name})"
    if contrast.factor not in samples.columns or contrast.factor not in terms:
        raise ExomirInputError(
            f"factor {contrast.factor!r} is not in the design {settings.design!r}"
            + ("" if contrast.factor in samples.columns else " nor in the sample sheet"),
            where=label,
            fix=f"use a design factor ({', '.join(terms)}) or add the column to the sample sheet and design",
        )
    present = samples.loc[samples["used"] == "yes", contrast.factor].value_counts()
    for role, level in (("level", contrast.level), ("reference", contrast.reference)):
        n = int(present.get(level, 0))
        if n == 0:
            raise ExomirInputError(
                f"{role} {level!r} of factor {contrast.factor!r} has no used sample "
                f"(levels present: {', '.join(sorted(present.index))})",
                where=label,
                fix="correct the level name (case matters) or check QC exclusions in diffexp/samples.tsv",
            )
        if n < 2:
            raise ExomirInputError(
                f"{role} {level!r} of factor {contrast.factor!r} has only {n} used sample; "
                "at least 2 are needed to estimate variability",
                where=label,
                fix="add replicates, or keep QC-failed samples (qc.exclude_failed_from_de: false)",
            )


def design_rank_problem(meta: pd.DataFrame, design: str) -> str:
    """Why the model matrix of ``design`` cannot be fitted (empty when it can).

    The matrix must have full column rank and leave residual degrees of
    freedom for the dispersions.
    """
    matrix = design_matrix(meta, design)
    rank = int(np.linalg.matrix_rank(matrix.to_numpy()))
    if rank < matrix.shape[1]:
        return (f"the design {design!r} is not full rank ({matrix.shape[1]} coefficients, rank {rank}): "
                "some factors are confounded (for example every batch holds a single condition)")
    if len(meta) <= matrix.shape[1]:
        return (f"{len(meta)} samples for {matrix.shape[1]} coefficients leave no residual degrees of "
                "freedom to estimate dispersions")
    return ""


def check_design(samples: pd.DataFrame, settings: DiffexpSettings) -> None:
    """Raise :class:`ExomirInputError` for every design problem, before any fitting.

    Checks: at least 2 samples left after QC exclusion; reference levels and
    contrast factors are design columns with existing levels; each contrast
    level has at least 2 used samples; the model matrix has full column rank
    and leaves residual degrees of freedom for the dispersions.
    """
    _check_samples_left(samples)
    terms = design_terms(settings.design)
    _check_reference_levels(samples[samples["used"] == "yes"], settings, terms)
    for contrast in settings.contrasts:
        _check_contrast(samples, settings, terms, contrast)
    problem = design_rank_problem(model_metadata(samples, settings.design, settings.reference_levels),
                                  settings.design)
    if problem:
        raise ExomirInputError(
            problem,
            where="config diffexp.design",
            fix="remove the confounded factor from the design (e.g. '~ condition'), or add replicates; "
            "a confounded factor's effect cannot be separated from the condition",
        )


def min_samples_for(samples: pd.DataFrame, settings: DiffexpSettings) -> int:
    """Samples that must reach ``min_count``: the setting, else the smallest contrast group.

    The default follows the DESeq2 vignette (``smallestGroupSize``); without
    contrasts it is the smallest level of the last design factor.
    """
    if settings.min_samples is not None:
        return settings.min_samples
    used = samples[samples["used"] == "yes"]
    sizes = []
    for contrast in settings.contrasts:
        counts = used[contrast.factor].value_counts()
        sizes += [int(counts.get(contrast.level, 0)), int(counts.get(contrast.reference, 0))]
    if not sizes:
        sizes = used[design_terms(settings.design)[-1]].value_counts().tolist()
    return max(1, min(sizes))


def prefilter(counts: pd.DataFrame, min_count: int, min_samples: int) -> pd.Series:
    """Boolean mask of miRNAs with >= ``min_count`` reads in >= ``min_samples`` samples."""
    return (counts >= min_count).sum(axis=1) >= min_samples


# --------------------------------------------------------------------------- model


def fit_model(counts: pd.DataFrame, meta: pd.DataFrame, settings: DiffexpSettings, design: str | None = None):
    """Fit the DESeq2 model (R trend, :mod:`exomir.diffexp.model`) on a miRNA x sample matrix."""
    from exomir.diffexp.model import fit_dataset

    design = design or settings.design
    dds = fit_dataset(counts.T.loc[meta.index], meta, design, settings.fit_type, settings.n_cpus)
    LOG.info(
        "fitted %d miRNAs x %d samples, design %s; dispersion trend: %s; Cook's outliers replaced in %d miRNAs",
        dds.n_vars, dds.n_obs, design, dds.uns["disp_function_type"], int(dds.var["replaced"].sum()),
    )
    return dds


@dataclass
class Fit:
    """One fitted design: the pyDESeq2 dataset and what the contrasts need around it.

    ``counts`` holds every miRNA (used samples), ``kept`` the rows that were
    fitted (all, unless the optional prefilter is on).
    """

    dds: Any
    meta: pd.DataFrame
    design: str
    counts: pd.DataFrame
    kept: pd.Index

    @property
    def size_factors(self) -> pd.Series:
        """Size factor per used sample."""
        return pd.Series(np.asarray(self.dds.obs["size_factors"], dtype=float), index=self.meta.index)

    def normalized(self) -> pd.DataFrame:
        """Normalized counts of every miRNA (used samples)."""
        return self.counts / self.size_factors


def fit_design(
    counts: pd.DataFrame,
    samples: pd.DataFrame,
    settings: DiffexpSettings,
    keep: pd.Series | None = None,
    design: str | None = None,
    covariates: dict[str, pd.Series] | None = None,
) -> Fit:
    """Fit ``design`` (default: the configured one) once on the used samples and the ``keep`` rows."""
    design = design or settings.design
    meta = model_metadata(samples, design, fit_baselines(settings), covariates=covariates)
    keep = pd.Series(True, index=counts.index) if keep is None else keep.reindex(counts.index, fill_value=False)
    kept = counts.index[keep.to_numpy(dtype=bool)]
    dds = fit_model(counts.loc[kept, meta.index], meta, settings, design)
    return Fit(dds, meta, design, counts[meta.index], kept)


def variance_stabilize(fit: Fit) -> pd.DataFrame:
    """VST of the fitted rows from the fit's size factors and trend (R ``blind = FALSE``), miRNA x sample."""
    from exomir.diffexp.vst import variance_stabilized

    return variance_stabilized(fit.normalized().loc[fit.kept], fit.dds.uns["exomir_trend"])


def pca(vst: pd.DataFrame, n_top: int = PCA_TOP) -> tuple[pd.DataFrame, pd.Series]:
    """PCA of the ``n_top`` most variable miRNAs (centred, not scaled), as R's plotPCA.

    Signs are fixed so each component's largest absolute loading is positive.
    Returns (sample x PC scores, percent variance explained per PC).
    """
    variances = vst.var(axis=1, ddof=1)
    order = sorted(vst.index, key=lambda m: (-variances[m], m))[:n_top]
    data = vst.loc[order].T.to_numpy()
    centred = data - data.mean(axis=0)
    u, s, vt = np.linalg.svd(centred, full_matrices=False)
    n = min(PCA_COMPONENTS, len(s))
    for i in range(n):
        if vt[i, np.argmax(np.abs(vt[i]))] < 0:
            u[:, i], vt[i] = -u[:, i], -vt[i]
    names = [f"PC{i + 1}" for i in range(n)]
    scores = pd.DataFrame(u[:, :n] * s[:n], index=vst.columns, columns=names)
    total = (s**2).sum()
    percent = pd.Series(100 * s[:n] ** 2 / total if total > 0 else np.zeros(n), index=names)
    return scores, percent


def sample_distances(vst: pd.DataFrame) -> pd.DataFrame:
    """Euclidean distances between samples on the VST scale (DESeq2 vignette).

    One sample's row at a time: the samples x samples x miRNAs difference array of a single
    broadcast needs 84 GB at 2,000 samples (issue 21.4); each row sums the same contiguous
    differences in the same order, so the values are bit-identical."""
    data = vst.T.to_numpy()
    rows = np.empty((len(data), len(data)))
    for i, sample in enumerate(data):
        rows[i] = np.sqrt(((data - sample) ** 2).sum(axis=1))
    return pd.DataFrame(rows, index=vst.columns, columns=vst.columns)


def cluster_order(distances: pd.DataFrame) -> list[str]:
    """Sample order from average-linkage clustering of a distance matrix (deterministic)."""
    from scipy.cluster.hierarchy import leaves_list, linkage
    from scipy.spatial.distance import squareform

    if len(distances) < 3:
        return list(distances.index)
    condensed = squareform(distances.to_numpy(), checks=False)
    return [distances.index[i] for i in leaves_list(linkage(condensed, method="average"))]


# --------------------------------------------------------------------------- cohort step


def prepare(
    counts_tsv: str | Path,
    sample_sheet: str | Path,
    flags_tsv: str | Path | None,
    exclude_failed: bool,
    settings: DiffexpSettings,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series]:
    """Read inputs, choose samples and check the design; nothing is fitted yet.

    Returns (all counts, samples table, prefilter mask).
    """
    counts = read_counts(counts_tsv)
    sheet = read_sample_sheet(sample_sheet)
    flags = read_sample_flags(flags_tsv) if flags_tsv else None
    samples = select_samples(sheet, counts.columns, flags, exclude_failed, settings.design)
    check_design(samples, settings)
    used = samples.loc[samples["used"] == "yes", "sample"].tolist()
    min_samples = min_samples_for(samples, settings)
    keep = prefilter(counts[used], settings.min_count, min_samples)
    if not settings.prefilter:  # default: R's independent filtering alone decides (issue 19)
        keep = (counts[used].sum(axis=1) >= 0)
    LOG.info(
        "%d of %d samples used; %d of %d miRNAs kept (prefilter %s: >= %d reads in >= %d samples)",
        len(used), len(samples), int(keep.sum()), len(keep), "on" if settings.prefilter else "off",
        settings.min_count, min_samples,
    )
    if keep.sum() < 2:
        raise ExomirInputError(
            f"only {int(keep.sum())} miRNA(s) pass the prefilter (>= {settings.min_count} reads "
            f"in >= {min_samples} samples)",
            where=str(counts_tsv),
            fix="lower diffexp.min_count / diffexp.min_samples, or check the quantify results",
        )
    return counts, samples, keep


def run_cohort(
    counts_tsv: str | Path,
    sample_sheet: str | Path,
    flags_tsv: str | Path | None,
    exclude_failed: bool,
    settings: DiffexpSettings,
    outdir: str | Path,
    hemolysis_tsv: str | Path | None = None,
) -> None:
    """Rule ``diffexp_fit``: one fit, then the cohort tables and every contrast's ``results.tsv``.

    Writes under ``outdir`` (``results/diffexp``) samples.tsv, size_factors.tsv,
    normalized_counts.tsv, vst.tsv, pca.tsv, pca_variance.tsv,
    sample_distances.tsv, dispersions.tsv, pca.svg, sample_distances.svg,
    dispersion.svg and ``{contrast}/results.tsv``. ``hemolysis_tsv``
    (``qc/hemolysis.tsv``) gives the hemolysis scores; without it the
    hemolysis covariate cannot be used and the check is not assessed.
    """
    from exomir.diffexp.hemolysis import hemolysis_fits, read_hemolysis_scores

    out = Path(outdir)
    counts, samples, keep = prepare(counts_tsv, sample_sheet, flags_tsv, exclude_failed, settings)
    scores = read_hemolysis_scores(hemolysis_tsv, samples) if hemolysis_tsv else None
    fits = hemolysis_fits(counts, samples, keep, settings, scores)
    write_tsv(samples, out / "samples.tsv")
    write_cohort_tables(fits.main, samples, settings, out)
    for contrast in settings.contrasts:
        write_tsv(fits.contrast_table(contrast, settings), out / contrast.name / "results.tsv")


def write_cohort_tables(fit: Fit, samples: pd.DataFrame, settings: DiffexpSettings, out: Path) -> None:
    """Size factors, normalized counts, VST, PCA, distances, dispersions and their plots of ``fit``."""
    sf_table = samples[["sample"]].copy()
    sf_table["size_factor"] = sf_table["sample"].map(fit.size_factors)
    write_tsv(sf_table[sf_table["sample"].isin(fit.meta.index)], out / "size_factors.tsv")
    # Every miRNA is normalized (the markers stage looks up unfiltered ones too).
    write_tsv(_with_name(fit.normalized(), "mirna"), out / "normalized_counts.tsv")
    vst = variance_stabilize(fit)
    write_tsv(_with_name(vst, "mirna"), out / "vst.tsv")
    write_vst_parameters(fit, out / "vst_parameters.json")
    scores, percent = pca(vst)
    shown = [c for c in samples.columns if c not in ("sample", "qc_status", "qc_reasons", "used", "note")]
    annotation = samples.set_index("sample").loc[fit.meta.index, shown].astype(str)
    pca_table = pd.concat([annotation, scores], axis=1).rename_axis("sample").reset_index()
    write_tsv(pca_table, out / "pca.tsv")
    write_tsv(percent.rename("percent_variance").rename_axis("component").reset_index(), out / "pca_variance.tsv")
    distances = sample_distances(vst)
    write_tsv(_with_name(distances, "sample"), out / "sample_distances.tsv")
    disp = dispersion_table(fit.dds)
    write_tsv(_with_name(disp, "mirna"), out / "dispersions.tsv")
    cohort_plots(vst, scores, percent, annotation, distances, disp, settings, fit.dds.uns["disp_function_type"], out)


def write_vst_parameters(fit: Fit, path: Path) -> None:
    """``vst_parameters.json``: the size-factor reference (log geometric means) and the VST
    constants of the cohort fit, so a locked marker panel transforms new samples exactly as
    ``vst.tsv`` (:mod:`exomir.markers.panel`). ``size_factor_logmeans`` is null when the size
    factors had to be fitted iteratively (every miRNA has a zero somewhere)."""
    from exomir.diffexp.vst import vst_parameters

    dds = fit.dds
    logmeans = None
    if dds.logmeans is not None:
        keep = np.asarray(dds.filtered_genes, dtype=bool)
        names = fit.kept[keep]
        logmeans = dict(zip(names, (float(x) for x in np.asarray(dds.logmeans)[keep])))
    params = {
        "size_factor_logmeans": logmeans,
        "vst": vst_parameters(fit.normalized().loc[fit.kept], dds.uns["exomir_trend"]),
    }
    with atomic_open(path, "wt") as handle:
        json.dump(params, handle, indent=1, sort_keys=True)
        handle.write("\n")


def dispersion_table(dds) -> pd.DataFrame:
    """baseMean and gene-wise, fitted and final dispersions of the fitted rows, with the outlier flag."""
    return pd.DataFrame(
        {
            "baseMean": dds.var["_normed_means"],
            "dispersion_genewise": dds.var["genewise_dispersions"],
            "dispersion_fitted": dds.var["fitted_dispersions"],
            "dispersion_final": dds.var["dispersions"],
            "dispersion_outlier": dds.var["_outlier_genes"].map({True: "yes", False: "no"}),
        }
    )


def cohort_plots(
    vst: pd.DataFrame, scores: pd.DataFrame, percent: pd.Series, annotation: pd.DataFrame,
    distances: pd.DataFrame, disp: pd.DataFrame, settings: DiffexpSettings, trend_kind: str, out: Path,
) -> None:
    """pca.svg, sample_distances.svg and dispersion.svg."""
    from exomir import plots

    terms = design_terms(settings.design)
    color_by = "condition" if "condition" in annotation.columns else terms[-1]
    shape_by = "batch" if "batch" in annotation.columns and color_by != "batch" else None
    plots.pca_plot(scores, percent, annotation, color_by, shape_by, out / "pca.svg",
                   title=f"PCA of VST counts (top {min(PCA_TOP, len(vst))} variable miRNAs)")
    order = cluster_order(distances)
    plots.distance_heatmap(distances.loc[order, order], annotation.loc[order, color_by], out / "sample_distances.svg",
                           title="Euclidean distances between samples (VST)")
    plots.dispersion_plot(disp, out / "dispersion.svg", title=f"Dispersion estimates ({trend_kind} trend)")


def _with_name(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    return frame.rename_axis(name).reset_index()


# --------------------------------------------------------------------------- contrast step


#: ``filter`` column values: why a row has no p value or no adjusted p value.
FILTER_REASONS = {
    "all_zero": "no read in any used sample",
    "prefilter": "removed by the optional prefilter (diffexp.prefilter)",
    "cooks_outlier": "Cook's distance outlier: p value set to NA (R results(cooksCutoff))",
    "independent_filtering": "low mean count: removed by independent filtering",
}


def contrast_vector(dds, contrast: Contrast) -> np.ndarray:
    """Coefficient weights of ``level - reference`` in the fitted model's design matrix."""
    columns = list(dds.obsm["design_matrix"].columns)
    vector = np.zeros(len(columns))
    for level, sign in ((contrast.level, 1.0), (contrast.reference, -1.0)):
        name = f"{contrast.factor}[T.{level}]"
        if name in columns:
            vector[columns.index(name)] += sign
    return vector


def wald_table(dds, contrast: Contrast, settings: DiffexpSettings) -> pd.DataFrame:
    """baseMean, log2FoldChange, lfcSE, stat, pvalue (R's Wald test) and Cook's flags of the fit."""
    from exomir.diffexp.rstats import wald_test

    nonzero = dds.var["non_zero"].to_numpy(dtype=bool)
    table = pd.DataFrame(np.nan, index=dds.var_names, columns=["log2FoldChange", "lfcSE", "stat", "pvalue"])
    table.insert(0, "baseMean", np.asarray(dds.var["_normed_means"], dtype=float))
    wald = wald_test(
        dds.obsm["design_matrix"].to_numpy(dtype=float),
        np.asarray(dds.obs["size_factors"], dtype=float),
        dds.varm["LFC"].to_numpy(dtype=float)[nonzero],
        dds.var["dispersions"].to_numpy(dtype=float)[nonzero],
        contrast_vector(dds, contrast),
    )
    for column, values in zip(["log2FoldChange", "lfcSE", "stat", "pvalue"], [wald.log2_fold_change, wald.lfc_se, wald.stat, wald.pvalue]):
        table.loc[nonzero, column] = values
    cooks = np.asarray(dds.cooks_outlier(), dtype=bool) if settings.cooks_filter else np.zeros(len(table), bool)
    table["cooks"] = cooks & nonzero
    table.loc[table["cooks"], "pvalue"] = np.nan
    return table


def adjust(table: pd.DataFrame, settings: DiffexpSettings) -> pd.Series:
    """padj as R's results(): independent filtering on baseMean (or plain BH when off)."""
    from exomir.diffexp.rstats import bh, independent_filtering

    if not settings.independent_filter:
        return pd.Series(bh(table["pvalue"].to_numpy()), index=table.index)
    result = independent_filtering(table["baseMean"].to_numpy(), table["pvalue"].to_numpy(), settings.alpha)
    LOG.info("independent filtering: mean-count threshold %.4g (quantile %.3f), %d rejections",
             result.threshold, result.theta, result.rejections)
    return pd.Series(result.padj, index=table.index)


def coefficients_for(fit: Fit, contrast: Contrast) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Design matrix and natural-log coefficients of ``fit`` with ``contrast.reference`` as baseline.

    When the fit already has that baseline they are the fit's own. Otherwise
    the same fit is re-expressed: the new matrix ``X'`` spans the same columns
    as the fitted ``X``, so ``X = X' T`` and the coefficients become ``T b``
    (fitted means, dispersions and Cook's distances are unchanged; no refit).
    """
    current = fit.dds.obsm["design_matrix"]
    lfc = fit.dds.varm["LFC"]
    if fit.meta[contrast.factor].cat.categories[0] == contrast.reference:
        return current, lfc
    meta = fit.meta.copy()
    levels = factor_levels(meta[contrast.factor].astype(str), contrast.reference)
    meta[contrast.factor] = pd.Categorical(meta[contrast.factor].astype(str), categories=levels)
    new = design_matrix(meta, fit.design).loc[current.index]
    transform, *_ = np.linalg.lstsq(new.to_numpy(), current.to_numpy(dtype=float), rcond=None)
    values = np.asarray(lfc, dtype=float) @ transform.T
    return new, pd.DataFrame(values, index=lfc.index, columns=new.columns)


def shrunk_lfc(fit: Fit, contrast: Contrast, settings: DiffexpSettings) -> pd.Series:
    """pyDESeq2's apeGLM-like shrunken log2 fold change of the contrast (NA if off), from the one fit."""
    from pydeseq2.ds import DeseqStats
    from threadpoolctl import threadpool_limits

    if not settings.shrink:
        return pd.Series(np.nan, index=fit.dds.var_names)
    design, lfc = coefficients_for(fit, contrast)
    coefficient = f"{contrast.factor}[T.{contrast.level}]"
    unit = (np.asarray(design.columns) == coefficient).astype(float)
    # one BLAS thread, as for the fit (exomir.diffexp.model.fit_dataset): one small optimisation per gene
    with warnings.catch_warnings(record=True) as caught, threadpool_limits(limits=1):
        warnings.simplefilter("always")
        stats = DeseqStats(fit.dds, contrast=unit, alpha=settings.alpha, n_cpus=settings.n_cpus, quiet=True)
        stats.design_matrix, stats.LFC = design, lfc.copy()
        stats.run_wald_test()
        stats.lfc_shrink(coeff=coefficient)
    for warning in caught:
        LOG.warning("pyDESeq2 %s: %s", contrast.name, warning.message)
    return stats.LFC[coefficient] / np.log(2)


def filter_column(table: pd.DataFrame, all_rows: pd.Index, kept: pd.Index, zero: pd.Index) -> pd.Series:
    """Why each row has NA statistics (empty when tested and adjusted)."""
    reason = pd.Series("", index=all_rows, dtype=object)
    reason[table.reindex(all_rows)["padj"].isna()] = "independent_filtering"
    reason[table["cooks"].reindex(all_rows, fill_value=False).to_numpy(dtype=bool)] = "cooks_outlier"
    reason[~all_rows.isin(kept)] = "prefilter"
    reason[all_rows.isin(zero)] = "all_zero"
    return reason


def tested_statistics(fit: Fit, contrast: Contrast, settings: DiffexpSettings) -> pd.DataFrame:
    """Wald test, Cook's flags and padj of ``contrast`` on the fitted rows of ``fit``."""
    tested = wald_table(fit.dds, contrast, settings)
    tested["padj"] = adjust(tested, settings)
    return tested


def contrast_table(fit: Fit, contrast: Contrast, settings: DiffexpSettings) -> pd.DataFrame:
    """The results table of ``contrast`` from ``fit`` (see :func:`contrast_results`)."""
    tested = tested_statistics(fit, contrast, settings)
    tested["log2FoldChange_shrunk"] = shrunk_lfc(fit, contrast, settings)
    tested.loc[~fit.dds.var["non_zero"].to_numpy(dtype=bool), "log2FoldChange_shrunk"] = np.nan
    counts = fit.counts
    zero = counts.index[(counts == 0).all(axis=1)]
    table = tested.reindex(counts.index)
    table["filter"] = filter_column(tested, counts.index, fit.kept, zero)
    normalized = fit.normalized()
    for level in (contrast.level, contrast.reference):
        table[f"mean_norm_{level}"] = normalized[fit.meta.index[fit.meta[contrast.factor] == level]].mean(axis=1)
    table.loc[table["filter"] == "prefilter", "baseMean"] = normalized.mean(axis=1)
    table["note"] = table["filter"].map(lambda r: FILTER_REASONS.get(r, ""))
    table = table.drop(columns="cooks").rename_axis("mirna").reset_index()
    table = table.sort_values(["padj", "pvalue", "mirna"], na_position="last", kind="mergesort").reset_index(drop=True)
    LOG.info("%s: %d of %d miRNAs with padj < %g", contrast.name, int((table["padj"] < settings.alpha).sum()),
             len(table), settings.alpha)
    return table


def contrast_results(
    counts: pd.DataFrame, samples: pd.DataFrame, settings: DiffexpSettings, contrast: Contrast,
    keep: pd.Series | None = None,
) -> pd.DataFrame:
    """Fit the model and return the results table of ``contrast`` (one contrast, no hemolysis check).

    Every row of ``counts`` is in the table; rows outside ``keep`` (the optional
    prefilter) or without reads have NA statistics, and ``filter`` says why
    (see :data:`FILTER_REASONS`). Rows are sorted by padj, pvalue, mirna with
    missing values last.
    """
    single = replace(settings, contrasts=(contrast,))
    return contrast_table(fit_design(counts, samples, single, keep), contrast, single)


def run_contrast(
    results_tsv: str | Path,
    samples_tsv: str | Path,
    vst_tsv: str | Path,
    settings: DiffexpSettings,
    contrast_name: str,
    outdir: str | Path,
) -> None:
    """Rule ``diffexp_contrast``: ``top_mirnas.tsv`` and the plots of one contrast.

    Reads the contrast's ``results.tsv`` (written by :func:`run_cohort` from the
    cohort fit), the cohort's ``samples.tsv`` and ``vst.tsv``.
    """
    from exomir import plots

    out = Path(outdir)
    contrast = settings.contrast(contrast_name)
    table = read_tsv(results_tsv)
    samples = pd.read_csv(samples_tsv, sep="\t", dtype=str, keep_default_na=False)
    vst = read_tsv(vst_tsv, index_col=0)
    label = f"{contrast.level} vs {contrast.reference}"
    plots.ma_plot(table, settings.alpha, out / "ma.svg", title=f"MA plot: {label}")
    plots.volcano_plot(table, settings.alpha, out / "volcano.svg", title=f"Volcano plot: {label}")

    meta = model_metadata(samples, settings.design, settings.reference_levels, contrast)
    members = meta.index[meta[contrast.factor].isin([contrast.level, contrast.reference])]
    members = sorted(members, key=lambda s: (meta.loc[s, contrast.factor] != contrast.level, list(meta.index).index(s)))
    top = table[table["padj"].notna()].head(settings.top_n)["mirna"].tolist()
    scaled = vst.loc[top, members]
    scaled = scaled.sub(scaled.mean(axis=1), axis=0)
    write_tsv(_with_name(scaled, "mirna"), out / "top_mirnas.tsv")
    plots.expression_heatmap(
        scaled, meta.loc[members, contrast.factor].astype(str), out / "heatmap_top.svg",
        title=f"Top {len(top)} miRNAs by padj: {label} (VST, centred per miRNA)",
    )


def check_sample_sheet_design(sheet: pd.DataFrame, section: dict[str, Any]) -> list[str]:
    """Check design and contrasts against the sample sheet at workflow start.

    Raises :class:`ExomirInputError` for what can be known before any job
    runs (unknown factors or levels, fewer than 2 samples per level, a design
    that is not full rank); QC exclusions are checked again before fitting.
    Returns warnings (for example sample-sheet conditions no contrast uses).
    """
    settings = DiffexpSettings.from_config(section)
    if not settings.contrasts:
        return ["no contrasts in diffexp.contrasts: differential expression and marker annotation are skipped"]
    samples = select_samples(sheet, list(sheet.index), None, False, settings.design)
    check_design(samples, settings)
    warnings = []
    for factor in sorted({c.factor for c in settings.contrasts}):
        compared = {lvl for c in settings.contrasts if c.factor == factor for lvl in (c.level, c.reference)}
        unused = sorted(set(sheet[factor]) - compared)
        if unused:
            warnings.append(
                f"{factor} level(s) {', '.join(unused)} of the sample sheet are in no contrast: those samples "
                "still inform normalisation and dispersions; add a contrast to test them"
            )
    return warnings


#: Short text for the report: which fold change is which (shown next to the results tables).
LFC_NOTE = (
    "log2FoldChange is the maximum-likelihood log2 fold change, unshrunken: it is the value "
    "R DESeq2's results() reports and the one the Wald test (pvalue, padj) is computed on. "
    "log2FoldChange_shrunk is the same effect shrunken towards 0 (apeGLM-like prior, pyDESeq2 "
    "lfc_shrink): miRNAs with few reads or noisy counts get smaller, more cautious values. Rank "
    "and plot effect sizes with the shrunken value; judge significance with padj. Rows with NA "
    "statistics were not tested: the filter column says why (all_zero, prefilter, "
    "cooks_outlier, independent_filtering)."
)

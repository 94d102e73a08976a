"""Breast-cancer exosome marker catalogue: name resolution, annotation, diagnostic performance.

The bundled catalogue (``resources/markers/``) is curated from Jia et al., "Exosome: emerging
biomarker in breast cancer", Oncotarget 2017; 8:41717-41733 (CC BY 3.0). The subpackage has one
module per concern:

* :mod:`exomir.markers.names`: resolves the miRNA names as the literature writes them
  (``miR-451``, ``miR-16``, ``let-7a-2``, ``miR-223*``, ``MIR21`` ...) to miRBase 22.1 mature
  names (:class:`MirbaseNames`, :func:`resolve_name`);
* :mod:`exomir.markers.catalogue`: validates catalogues against their JSON Schemas
  (:func:`load_catalogues`) and writes the resolved table (rule ``markers_catalogue``);
* :mod:`exomir.markers.concordance`: annotates a differential-expression contrast with the
  catalogue and checks whether the observed direction agrees with the literature
  (:func:`annotate_contrast`);
* :mod:`exomir.markers.diagnostics`: diagnostic performance of single markers (ROC AUC with a
  stratified bootstrap CI) and of a marker panel (nested, repeated cross-validation);
* :mod:`exomir.markers.plotting`: dot-plot table and the SVG figures;
* :mod:`exomir.markers.contrast`: rule ``markers_contrast``, the steps above for one contrast.

Diagnostic figures computed on the cohort that also discovered the markers are optimistic:
every output says "exploratory, discovery cohort".
"""

from __future__ import annotations

import importlib
from typing import Any

from exomir.markers.catalogue import (
    MIRNA_COLUMNS,
    load_catalogues,
    read_catalogue,
    resolve_catalogues,
    validate_table,
)
from exomir.markers.concordance import (
    CONCORDANCE,
    DIRECTIONS,
    EXPLORATORY,
    ROLES,
    annotate_contrast,
    concordance,
    contrast_orientation,
    contrast_samples,
    detected_mirnas,
    find_contrast,
)
from exomir.markers.names import (
    LEGACY_ARM,
    MirbaseNames,
    ParsedName,
    REMOVED,
    RENAMED,
    Resolution,
    expand_review_name,
    parse_name,
    resolve_name,
)

# The diagnostics, plotting and contrast names are imported from their submodule on first use
# (PEP 562): the Snakefile's start-up code needs only the name resolution, and the diagnostics
# pull in scipy.stats and scikit-learn, about 0.8 CPU s of every Snakemake start and every rule
# script (issue 21). concordance (module and function) stays eager: importing the submodule later
# would rebind the package attribute ``concordance`` from the function to the module.
_SUBMODULE = {
    "annotate_and_score": "contrast",
    "PanelResult": "diagnostics",
    "auc_score": "diagnostics",
    "bootstrap_auc_ci": "diagnostics",
    "nested_cv_panel": "diagnostics",
    "roc_curve_points": "diagnostics",
    "single_marker_auc": "diagnostics",
    "dotplot_table": "plotting",
    "plot_dotplot": "plotting",
    "plot_roc": "plotting",
}


def __getattr__(name: str) -> Any:
    """Import ``name`` from its submodule on first use."""
    try:
        module = _SUBMODULE[name]
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_SUBMODULE])


__all__ = [
    "CONCORDANCE", "DIRECTIONS", "EXPLORATORY", "LEGACY_ARM", "MIRNA_COLUMNS", "REMOVED", "RENAMED", "ROLES",
    "MirbaseNames", "PanelResult", "ParsedName", "Resolution", "annotate_and_score", "annotate_contrast",
    "auc_score", "bootstrap_auc_ci", "concordance", "contrast_orientation", "contrast_samples",
    "detected_mirnas", "dotplot_table", "expand_review_name", "find_contrast", "load_catalogues",
    "nested_cv_panel", "parse_name", "plot_dotplot", "plot_roc", "read_catalogue", "resolve_catalogues",
    "resolve_name", "roc_curve_points", "single_marker_auc", "validate_table",
]  # fmt: skip

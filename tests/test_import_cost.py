"""What the Snakefile's start-up code imports: no statistics or machine-learning libraries.

Every Snakemake start (and every SLURM job, which re-reads the Snakefile) imports these modules;
scipy.stats and scikit-learn there cost about 0.8 CPU s each time (issue 21). Checked by the set of
loaded modules, not by a time.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"

#: The exomir modules imported by workflow/rules/common*.smk at parse time.
STARTUP_MODULES = [
    "exomir.bundled", "exomir.countmatrix", "exomir.diffexp", "exomir.errors", "exomir.samplesheet",
    "exomir.wildcards", "exomir.qc", "exomir.references", "exomir.multiqc_content",
]  # fmt: skip
HEAVY = ("scipy.stats", "scipy.special", "sklearn", "matplotlib", "pysam", "pydeseq2")


def _loaded_after(modules: list[str]) -> set[str]:
    code = (
        "import json, sys\n"
        f"sys.path.insert(0, {str(SCRIPTS)!r})\n"
        f"for name in {modules!r}: __import__(name)\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return set(json.loads(out))


def test_startup_modules_import_no_heavy_library():
    loaded = _loaded_after(STARTUP_MODULES)
    heavy = sorted(m for m in loaded if m in HEAVY or m.startswith(HEAVY))
    assert heavy == []


def test_startup_modules_match_the_rules():
    rules = Path(__file__).resolve().parents[1] / "workflow" / "rules"
    text = "\n".join(p.read_text() for p in rules.glob("*.smk"))
    for name in STARTUP_MODULES:
        assert f"from {name} import" in text, name


@pytest.mark.parametrize("module", ["exomir.markers"])
def test_lazy_names_all_resolve(module):
    package = __import__(module, fromlist=["__all__"])
    for name in package.__all__:
        assert getattr(package, name) is not None, name
    from exomir.markers import concordance

    assert callable(concordance) and not hasattr(concordance, "__file__")

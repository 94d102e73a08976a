"""The pinned conda envs must name the versions this test suite actually runs with."""

from __future__ import annotations

import re
from importlib import metadata
from pathlib import Path

import pytest
import yaml

from exomir.provenance import COMMAND_TOOLS, command_version

ENVS = Path(__file__).resolve().parents[1] / "workflow" / "envs"

# conda package name -> how to read the version this test run uses
PYTHON_DISTS = {
    "pandas": "pandas",
    "numpy": "numpy",
    "scipy": "scipy",
    "pysam": "pysam",
    "pyyaml": "PyYAML",
    "jsonschema": "jsonschema",
    "matplotlib-base": "matplotlib",
    "scikit-learn": "scikit-learn",
    "statsmodels": "statsmodels",
    "cutadapt": "cutadapt",
    "pydeseq2": "pydeseq2",
    "multiqc": "multiqc",
    "jinja2": "Jinja2",
    "viennarna": "ViennaRNA",
}


def _pins() -> list[tuple[str, str, str]]:
    pins = []
    for env in sorted(ENVS.glob("*.yaml")):
        spec = yaml.safe_load(env.read_text())
        for dep in spec["dependencies"]:
            if isinstance(dep, str) and "=" in dep:
                name, version = dep.split("=", 1)
                pins.append((env.name, name, version))
    return pins


def test_every_dependency_is_pinned():
    for env in sorted(ENVS.glob("*.yaml")):
        spec = yaml.safe_load(env.read_text())
        assert spec["channels"][:2] == ["conda-forge", "bioconda"], env.name
        for dep in spec["dependencies"]:
            assert isinstance(dep, str) and re.fullmatch(r"[a-z0-9-]+=[0-9][0-9.]*", dep), (env.name, dep)


@pytest.mark.parametrize("env,name,version", _pins(), ids=lambda x: str(x))
def test_pin_matches_tested_version(env, name, version):
    if name == "python":
        import sys

        assert f"{sys.version_info.major}.{sys.version_info.minor}" == version
    elif name in PYTHON_DISTS:
        assert metadata.version(PYTHON_DISTS[name]) == version, f"{env}: {name}"
    elif name in COMMAND_TOOLS:
        # the same version reading as the provenance table of every run
        found = command_version(*COMMAND_TOOLS[name])
        assert found.startswith(version), f"{env}: {name} pinned {version}, tests ran {found}"
    else:
        pytest.fail(f"{env}: no version check known for {name}")

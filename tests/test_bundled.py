"""exomir.bundled: bundled files found next to the package, users' paths left alone."""

from __future__ import annotations

import pytest

from exomir import bundled
from exomir.errors import ExomirInputError
from support import ROOT


def test_bundled_values_resolve_next_to_the_package_and_own_paths_stay(tmp_path, monkeypatch):
    config = {"a": ["bundled:rna_classes/trna.fa", "my/own.fa"], "b": {"c": "bundled:kits/kits.yaml"}, "n": 3}
    assert bundled.resolve_config(config, base=ROOT) == {
        "a": ["resources/rna_classes/trna.fa", "my/own.fa"],
        "b": {"c": "resources/kits/kits.yaml"},
        "n": 3,
    }
    outside = bundled.resolve_config(config, base=tmp_path)
    assert outside["a"] == [str(ROOT / "resources" / "rna_classes" / "trna.fa"), "my/own.fa"]


def test_missing_bundled_file_names_it():
    with pytest.raises(ExomirInputError, match="bundled resource not found"):
        bundled.resolve("bundled:kits/no_such.yaml")


def test_workflow_files_are_reachable():
    assert bundled.workflow_path("schemas/config.schema.yaml").is_file()
    assert bundled.workflow_path("Snakefile").resolve() == ROOT / "workflow" / "Snakefile"

"""The config and sample-sheet schemas: complete, strict, and the shipped config passes them."""

from __future__ import annotations

import copy

import jsonschema
import pytest
import yaml

from support import ROOT

SCHEMAS = ROOT / "workflow" / "schemas"


def _load(name):
    return yaml.safe_load((SCHEMAS / name).read_text())


def _walk(schema, path="config"):
    """Yield (path, property schema) for every property at every depth."""
    for name, prop in schema.get("properties", {}).items():
        yield f"{path}.{name}", prop
        yield from _walk(prop, f"{path}.{name}")
        if isinstance(prop.get("items"), dict):
            yield from _walk(prop["items"], f"{path}.{name}[]")


@pytest.mark.parametrize("name", ["config.schema.yaml", "samples.schema.yaml"])
def test_every_property_has_description_and_default(name):
    schema = _load(name)
    jsonschema.Draft202012Validator.check_schema(schema)
    missing = [p for p, prop in _walk(schema) if "description" not in prop or "default" not in prop]
    assert not missing, missing


def test_objects_reject_unknown_keys():
    schema = _load("config.schema.yaml")
    open_objects = [
        path
        for path, prop in _walk(schema)
        if prop.get("type") == "object" and prop.get("properties") and prop.get("additionalProperties") is not False
    ]
    assert schema["additionalProperties"] is False
    assert not open_objects, open_objects


def test_shipped_config_is_valid_and_documented():
    schema = _load("config.schema.yaml")
    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    jsonschema.validate(config, schema)
    readme = (ROOT / "config" / "README.md").read_text()
    for path, _ in _walk(schema):
        key = path.removeprefix("config.").replace("[]", "")
        leaf = key.split(".")[-1]
        assert leaf in readme, f"{key} is not documented in config/README.md"


def test_unknown_top_level_and_nested_keys_rejected():
    schema = _load("config.schema.yaml")
    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    for mutate in (lambda c: c.update(extra=1), lambda c: c["quantify"].update(mismatch=1)):
        bad = copy.deepcopy(config)
        mutate(bad)
        with pytest.raises(jsonschema.ValidationError, match="Additional properties are not allowed"):
            jsonschema.validate(bad, schema)

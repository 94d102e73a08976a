"""Files bundled with exomir: found next to the package, never in the working directory.

The bundled data (``resources/``: references, kit presets, RNA-class libraries, marker
catalogue; ``workflow/``: schemas, report templates) live in the repository. The package reaches
them through ``exomir/_data/``, which is a pair of symlinks in a clone and real package data in an
installed wheel, so the same ``importlib.resources`` lookup works in both (and inside a Snakemake
module: the lookup depends on where the package is, not on the working directory).

In the config, a value that means "the bundled file" says so: ``bundled:<path under resources/>``
(for example ``bundled:rna_classes/trna.fa``). Any other value is the user's own path and stays
relative to their project (the working directory).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

from exomir.errors import ExomirInputError

#: Prefix of a config value that names a bundled file.
BUNDLED_PREFIX = "bundled:"


def data_root() -> Path:
    """Directory holding the bundled ``resources/`` and ``workflow/`` trees.

    pip installs exomir unpacked (never as a zip), so the resource root is a real directory.
    """
    return Path(str(resources.files("exomir") / "_data"))


def _existing(path: Path, what: str) -> Path:
    if not path.exists():
        raise ExomirInputError(
            f"bundled {what} not found",
            where=str(path),
            fix="reinstall exomir (pip install exomir) or restore the file from the repository",
        )
    return path


def resource_path(relative: str) -> Path:
    """Path of a bundled file under ``resources/``, e.g. ``kits/kits.yaml``."""
    return _existing(data_root() / "resources" / relative, "resource")


def workflow_path(relative: str) -> Path:
    """Path of a workflow file, e.g. ``schemas/config.schema.yaml`` or ``Snakefile``."""
    return _existing(data_root() / "workflow" / relative, "workflow file")


def is_bundled(value: str) -> bool:
    """True when a config value names a bundled file (``bundled:...``)."""
    return str(value).startswith(BUNDLED_PREFIX)


def resolve(value: str) -> str:
    """A config path with ``bundled:<relative>`` replaced by the bundled file's path.

    Other values (the user's own files) are returned unchanged, so they stay relative to the
    project directory.
    """
    if not is_bundled(value):
        return value
    return str(resource_path(str(value)[len(BUNDLED_PREFIX) :]))


def resolve_config(node: Any, base: Path | None = None) -> Any:
    """The config with every ``bundled:...`` string replaced by the bundled file's path.

    The path is written relative to ``base`` (the working directory) when the file lies inside it,
    so a run from a clone sees the same ``resources/...`` paths as before; elsewhere (a Snakemake
    module, an installed package) it is absolute. Lists and mappings are walked; other values are
    returned unchanged.
    """
    base = Path.cwd() if base is None else base
    if isinstance(node, dict):
        return {key: resolve_config(value, base) for key, value in node.items()}
    if isinstance(node, list):
        return [resolve_config(value, base) for value in node]
    if isinstance(node, str) and is_bundled(node):
        path = Path(resolve(node)).resolve()
        try:
            return str(path.relative_to(base.resolve()))
        except ValueError:
            return str(path)
    return node

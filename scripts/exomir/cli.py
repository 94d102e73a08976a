"""The ``exomir`` console command of an installed package.

``exomir run [snakemake options]`` runs the workflow bundled with the package (its Snakefile under
``exomir/_data/workflow``) in the current directory, which is the user's project: their
``config/config.yaml`` and sample sheet, results written there. ``exomir --version`` prints the
version. In a clone, the ``./exomir`` launcher (which also installs what is missing) stays the
entry point.
"""

from __future__ import annotations

import subprocess
import sys
from typing import Sequence

from exomir import __version__, bundled

USAGE = """usage: exomir run [snakemake options]   run the bundled workflow in this directory
       exomir --version                  print the exomir version"""


def main(argv: Sequence[str] | None = None) -> int:
    """Dispatch ``exomir`` sub-commands; returns the exit status."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] in (["--version"], ["version"]):
        print(f"exomir {__version__}")
        return 0
    if args[:1] == ["run"]:
        snakefile = bundled.workflow_path("Snakefile")
        cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(snakefile), *args[1:]]
        return subprocess.call(cmd)
    print(USAGE, file=sys.stderr)
    return 2


if __name__ == "__main__":  # pragma: no cover - exercised through the console script
    sys.exit(main())

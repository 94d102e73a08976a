"""Regenerate the bundled demo cohort in ``resources/demo`` (deterministic).

Run from the project root::

    .venv/bin/python scripts/make_demo.py

Same code and resources give byte-identical FASTQ files and truth tables.
"""

import logging
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
from exomir.simulate import default_cohort, simulate_cohort  # noqa: E402

#: Settings of the committed demo; changing any of them changes every byte.
DEMO_SEED = 20170607
DEMO_READS = 40_000
DEMO_PER_GROUP = 6


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    specs = default_cohort(DEMO_PER_GROUP, DEMO_READS, DEMO_SEED)
    simulate_cohort(
        ROOT / "resources" / "demo",
        specs,
        seed=DEMO_SEED,
        resources=ROOT / "resources",
        fastq_prefix="resources/demo",
        compresslevel=9,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

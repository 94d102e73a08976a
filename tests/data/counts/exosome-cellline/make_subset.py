"""Build the count-matrix entry's test matrices (run once, by hand).

Usage: python make_subset.py DIR_WITH_EXOSOMEPURITY_CSVS OUT_DIR

Reads the four raw-count CSVs of WangHYLab/exosomePurity
``testdata/01cancer_healthy_cellline_derived_count_exosomes/`` and writes the same four files with
300 of their 2,652 miRNA rows. Kept lines are copied byte for byte (R's quoting, the healthy file's
unnamed row-number column and its ``gene_id`` column stay as deposited), so the files keep the
quirks the count-matrix reader must handle. The rows: every miRBase name of the bundled marker
catalogue (resources/markers/mirnas.tsv) and of the hemolysis QC, then the most abundant miRNAs
over all 56 runs (ties by name), in the files' own row order.
"""

import csv
import sys
from pathlib import Path

FILES = [
    "cancer_cellline_derived_exosomes1.csv",
    "cancer_cellline_derived_exosomes2.csv",
    "cancer_cellline_derived_exosomes3.csv",
    "healthy_cellline_derived_exosomes.csv",
]
N_ROWS = 300
HEMOLYSIS = ["hsa-miR-451a", "hsa-miR-23a-3p", "hsa-miR-486-5p", "hsa-miR-16-5p", "hsa-miR-92a-3p"]
CATALOGUE = Path(__file__).resolve().parents[4] / "resources" / "markers" / "mirnas.tsv"


def read(path: Path) -> tuple[str, list[tuple[str, int, str]]]:
    """Header line and (miRNA, total count, original line) of every row."""
    lines = path.read_text().splitlines(keepends=True)
    rows = []
    for line in lines[1:]:
        cells = next(csv.reader([line]))
        name_at = 1 if "gene_id" in lines[0] else 0
        rows.append((cells[name_at], sum(int(c) for c in cells[name_at + 1 :]), line))
    return lines[0], rows


def main(source: Path, out: Path) -> None:
    tables = {name: read(source / name) for name in FILES}
    totals: dict[str, int] = {}
    for _, rows in tables.values():
        for name, total, _ in rows:
            totals[name] = totals.get(name, 0) + total
    with open(CATALOGUE, encoding="utf-8") as handle:
        wanted = {n for row in csv.DictReader(handle, delimiter="\t") for n in row["mirbase_names"].split(";") if n}
    wanted |= set(HEMOLYSIS)
    wanted &= set(totals)
    for name in sorted(totals, key=lambda n: (-totals[n], n)):
        if len(wanted) >= N_ROWS:
            break
        wanted.add(name)
    out.mkdir(parents=True, exist_ok=True)
    for name, (header, rows) in tables.items():
        with open(out / name, "w", newline="") as handle:
            handle.write(header + "".join(line for mirna, _, line in rows if mirna in wanted))


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))

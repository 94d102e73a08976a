"""Rule provenance: see exomir.provenance.write_provenance."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parents[1] / "scripts"))
from exomir.logutil import log_to  # noqa: E402
from exomir.provenance import write_provenance  # noqa: E402

with log_to(snakemake.log[0]):
    write_provenance(
        versions_tsv=snakemake.output.versions,
        config_yaml=snakemake.output.config,
        config=dict(snakemake.config),
    )

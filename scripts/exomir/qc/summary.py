"""Cohort QC: composition matrix, hemolysis, spike-ins, flags and the QC MultiQC content."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Mapping, Sequence

import pandas as pd

from exomir.io import read_tsv, write_tsv
from exomir.multiqc_content import write_qc_content
from exomir.qc.composition import composition_wide, read_compositions, sample_metrics
from exomir.qc.flags import Thresholds, sample_flags
from exomir.qc.hemolysis import hemolysis_table
from exomir.qc.inputs import read_mature_counts
from exomir.qc.mirtrace import complexity_curve, rna_type_summary
from exomir.qc.spikeins import SPIKEIN_COLUMNS

log = logging.getLogger("exomir.qc")


def summarize_qc(
    samples: Sequence[str],
    composition_paths: Sequence[str | Path],
    spikein_paths: Sequence[str | Path],
    mature_counts_path: str | Path,
    species: str,
    out_composition: str | Path,
    out_hemolysis: str | Path,
    out_spikeins: str | Path,
    out_flags: str | Path,
    multiqc_dir: str | Path,
    thresholds: Mapping[str, object],
    hemolysis: Mapping[str, object],
    mirna_min_reads: int = 10,
    exclude_failed_from_de: bool = True,
    out_rna_types: str | Path | None = None,
    out_complexity: str | Path | None = None,
) -> pd.DataFrame:
    """Cohort QC: composition matrix, hemolysis, spike-ins, flags and MultiQC content.

    ``hemolysis`` holds the keyword arguments of :func:`hemolysis_table` (the
    ``qc.hemolysis`` config section). Returns the flags table.
    """
    samples = list(samples)
    hemolysis = dict(hemolysis)
    limits = Thresholds.from_config({**thresholds, "hemolysis_severity": hemolysis.pop("severity", "warn")})
    composition = read_compositions(composition_paths, samples)
    wide = composition_wide(composition, samples)
    write_tsv(wide, out_composition)

    counts = read_mature_counts(mature_counts_path, samples)
    hemo = hemolysis_table(counts, species, **hemolysis)
    write_tsv(hemo.reset_index(), out_hemolysis)

    spikes = [read_tsv(path, dtype={"sample": str, "spikein": str}) for path in spikein_paths]
    spike_table = pd.concat(spikes, ignore_index=True) if spikes else pd.DataFrame(columns=SPIKEIN_COLUMNS)
    write_tsv(spike_table[SPIKEIN_COLUMNS], out_spikeins)

    metrics = sample_metrics(composition, samples)
    detected = (counts >= mirna_min_reads).sum(axis=0)
    flags = sample_flags(
        metrics,
        hemo,
        detected,
        limits,
        exclude_failed_from_de,
        hemolysis_ratio_threshold=hemolysis.get("ratio_threshold", 128.0),
        rbc_share_max=hemolysis.get("rbc_share_max"),
    )
    write_tsv(flags, out_flags)
    rna_types = rna_type_summary(composition)
    curve = complexity_curve(counts, samples)
    if out_rna_types and out_complexity:  # miRTrace-style tables (issue 18)
        write_tsv(rna_types, out_rna_types)
        write_tsv(curve, out_complexity)
    write_qc_content(multiqc_dir, wide, flags, hemo, mirna_min_reads, rna_types, curve)
    for row in flags.itertuples():
        log.info("%s: %s %s", row.sample, row.status, row.reasons)
    return flags


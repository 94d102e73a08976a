"""Public runs by accession: resolve through the ENA portal API and download verified FASTQ.

A sample sheet ``fastq`` entry such as ``SRR5581502`` is a run accession
(SRA, ENA and DDBJ runs are mirrored by all three archives). For each run,
the ENA file report gives the archive-generated FASTQ files with their MD5
and size; the file is fetched over HTTPS with :func:`exomir.download.fetch_verified`
into a cache outside ``results/`` and described in a JSON sidecar (accession,
library metadata, URL, MD5, SHA-256, download date, warnings). The cohort
table ``results/downloads/accessions.tsv`` collects the sidecars for the
methods section of the report.

Reference: ENA Portal API, ``/filereport`` endpoint with ``result=read_run``
(https://www.ebi.ac.uk/ena/portal/api/); field names as listed by its
``returnFields`` endpoint.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import re
import shutil
import urllib.parse
from pathlib import Path
from typing import Any, Collection, Iterable, Sequence

from exomir.download import fetch_verified, file_digests, get_text
from exomir.errors import ExomirInputError
from exomir.io import atomic_open

log = logging.getLogger("exomir.ena")

#: A run accession of SRA (SRR), ENA (ERR) or DDBJ (DRR); same rule as
#: ``exomir.samplesheet.ACCESSION_RE`` (the archives issue 6 to 9 digits).
RUN_ACCESSION = re.compile(r"^(SRR|ERR|DRR)[0-9]{5,12}$")

#: The real ENA portal API (default of ``download.ena_api_url``).
ENA_PORTAL_API = "https://www.ebi.ac.uk/ena/portal/api"

#: File-report fields that describe the library; ``accessions.tsv`` copies them as they are.
LIBRARY_FIELDS: tuple[str, ...] = (
    "instrument_model",
    "library_layout",
    "library_strategy",
    "library_source",
    "library_selection",
    "read_count",
)

#: File-report fields requested for every run (ENA ``read_run`` field names).
FILEREPORT_FIELDS: tuple[str, ...] = (
    "run_accession",
    "experiment_accession",
    "sample_accession",
    "secondary_sample_accession",
    "study_accession",
    "secondary_study_accession",
    "sample_alias",
    "sample_title",
    "scientific_name",
    "tax_id",
    "instrument_platform",
    *LIBRARY_FIELDS,
    "base_count",
    "first_public",
    "fastq_ftp",
    "fastq_md5",
    "fastq_bytes",
)

#: Hosts ENA serves FASTQ files from; a file report naming another host is warned about.
ENA_FILE_HOSTS = frozenset({"ftp.sra.ebi.ac.uk", "ftp.ebi.ac.uk"})

#: A file-report location: ``host/path`` (ENA gives no scheme), optionally with one.
_LOCATION = re.compile(r"^(?:[a-z]+://)?([A-Za-z0-9][A-Za-z0-9.-]*)(?::[0-9]+)?/\S+$")

#: Library strategies of small-RNA libraries in the INSDC vocabulary.
SMALL_RNA_STRATEGIES = frozenset({"mirna-seq", "ncrna-seq"})

#: Columns of ``results/downloads/accessions.tsv`` (one row per run).
ACCESSION_TABLE_COLUMNS: tuple[str, ...] = (
    "sample",
    "accession",
    "study_accession",
    "secondary_study_accession",
    "experiment_accession",
    "sample_accession",
    "sample_alias",
    "scientific_name",
    *LIBRARY_FIELDS,
    "read_used",
    "url",
    "bytes",
    "md5",
    "sha256",
    "download_date",
    "warnings",
)


def is_run_accession(entry: str) -> bool:
    """True if a sample-sheet ``fastq`` entry is a run accession (``SRR…``, ``ERR…``, ``DRR…``)."""
    return RUN_ACCESSION.match(entry.strip()) is not None


def filereport_url(accession: str, api_url: str = ENA_PORTAL_API) -> str:
    """URL of the ENA file report (TSV) of one run with :data:`FILEREPORT_FIELDS`."""
    query = urllib.parse.urlencode(
        {
            "accession": accession,
            "result": "read_run",
            "fields": ",".join(FILEREPORT_FIELDS),
            "format": "tsv",
        },
        safe=",",
    )
    return f"{api_url.rstrip('/')}/filereport?{query}"


def fetch_filereport(
    accession: str,
    api_url: str = ENA_PORTAL_API,
    *,
    retries: int = 3,
    timeout: float = 60,
    backoff: float = 2.0,
) -> dict[str, str]:
    """Ask the ENA portal API for the file report of one run; return its row as a dict.

    Raises:
        ExomirInputError: malformed accession, unknown run, or an API error.
    """
    if not is_run_accession(accession):
        raise ExomirInputError(
            f"{accession!r} is not a run accession",
            where="sample sheet",
            fix="use run accessions (SRR…, ERR…, DRR…), one per sequencing run; "
            "study (PRJNA…, SRP…, GSE…) or sample (SRS…, GSM…) accessions must be expanded to their runs",
        )
    url = filereport_url(accession, api_url)
    status, body = get_text(url, retries=retries, timeout=timeout, backoff=backoff)
    if status != 200:
        detail = " ".join(body.split())[:300]
        if status == 204:
            raise _unknown_run(accession, url, f"HTTP {status} {detail}".strip())
        raise ExomirInputError(
            f"the ENA portal API answered HTTP {status} for run {accession}: {detail or '(no message)'}",
            where=url,
            fix="check download.ena_api_url and the accession; try again later if ENA is under maintenance",
        )
    stripped = body.lstrip()
    if stripped[:15].lower().startswith(("<!doctype", "<html")):
        raise ExomirInputError(
            f"the ENA portal API answered with an HTML page instead of a file report for run {accession}",
            where=url,
            fix="check download.ena_api_url (it must be the portal API base, e.g. " + ENA_PORTAL_API + ")",
        )
    rows = list(csv.DictReader(io.StringIO(body), delimiter="\t"))
    rows = [row for row in rows if (row.get("run_accession") or "").strip() == accession]
    if not rows:
        raise _unknown_run(accession, url, "empty file report")
    return {key: (value or "").strip() for key, value in rows[0].items() if key is not None}


def _unknown_run(accession: str, url: str, detail: str) -> ExomirInputError:
    return ExomirInputError(
        f"ENA knows no public run {accession} ({detail})",
        where=url,
        fix="check the accession for typos; runs that are embargoed or not yet mirrored from SRA/DDBJ "
        "cannot be downloaded: fetch them another way and give the FASTQ path instead",
    )


def choose_fastq(
    report: dict[str, str], scheme: str = "https", file_hosts: Collection[str] = ENA_FILE_HOSTS
) -> tuple[dict[str, Any], list[str]]:
    """Pick the FASTQ to analyse from a file report; return ``(file, warnings)``.

    ``file`` has ``url``, ``md5``, ``bytes`` (int or None) and ``read_used``
    (``single`` or ``1``); a file on a host not in ``file_hosts`` is warned about. Paired-end runs contribute read 1 only: a small-RNA
    insert is shorter than one read, so read 2 adds nothing but the reverse
    complement of the same insert.

    Raises:
        ExomirInputError: ENA has no FASTQ for the run, or which file is read 1
            cannot be told.
    """
    accession = report["run_accession"]
    paths = _split(report.get("fastq_ftp", ""))
    md5s = _split(report.get("fastq_md5", ""))
    sizes = _split(report.get("fastq_bytes", ""))
    if not paths:
        raise ExomirInputError(
            f"ENA provides no FASTQ file for run {accession} (only submitted or SRA-format files)",
            where=f"run {accession}",
            fix="convert the run with sra-tools (fasterq-dump) and give the FASTQ path in the sample sheet instead",
        )
    if len(md5s) != len(paths):
        raise ExomirInputError(
            f"the ENA file report of run {accession} lists {len(paths)} FASTQ file(s) but {len(md5s)} MD5(s)",
            where=f"run {accession}",
            fix="the archive record is incomplete: try again later or download the run another way",
        )
    if len(sizes) != len(paths):
        sizes = [""] * len(paths)
    names = [path.rsplit("/", 1)[-1] for path in paths]
    layout = report.get("library_layout", "").upper()
    index, read_used, warnings = _pick_read1(accession, names)
    if layout == "PAIRED" and read_used == "single":
        warnings.append(
            f"library_layout is PAIRED but ENA provides one FASTQ ({names[index]}); it is analysed as single-end"
        )
    warnings += check_location(paths[index], accession, file_hosts)
    file = {
        "url": _with_scheme(paths[index], scheme),
        "md5": md5s[index].lower(),
        "bytes": int(sizes[index]) if sizes[index].isdigit() else None,
        "read_used": read_used,
    }
    return file, warnings


def _pick_read1(accession: str, names: list[str]) -> tuple[int, str, list[str]]:
    """Index of the file to analyse, ``single`` or ``1``, and a warning for paired runs."""
    if f"{accession}_1.fastq.gz" in names:
        index = names.index(f"{accession}_1.fastq.gz")
        note = f"paired-end run: only read 1 ({names[index]}) is analysed; small-RNA inserts are shorter than one read"
        return index, "1", [note]
    if f"{accession}.fastq.gz" in names:
        return names.index(f"{accession}.fastq.gz"), "single", []
    if len(names) == 1:
        return 0, "single", []
    raise ExomirInputError(
        f"cannot tell which of the FASTQ files of run {accession} is read 1: {', '.join(names)}",
        where=f"run {accession}",
        fix="download the file you want and give its path in the sample sheet instead of the accession",
    )


def check_location(location: str, accession: str, file_hosts: Collection[str] = ENA_FILE_HOSTS) -> list[str]:
    """Refuse a file-report location that is not ``host/path``; warn about unexpected hosts.

    A report entry such as ``/etc/passwd`` used to become ``https:///etc/passwd`` and fail
    as a network error ("no host given") with advice to check the network.
    """
    match = _LOCATION.match(location)
    if not match or "/../" in f"{location}/":
        raise ExomirInputError(
            f"the ENA file report of run {accession} gives the FASTQ location {location!r}, "
            "which is not a host/path address (like ftp.sra.ebi.ac.uk/vol1/...)",
            where=f"run {accession}",
            fix="the archive record (or the ENA server set in download.ena_api_url) is wrong: "
            "check download.ena_api_url, or download the run another way and give its FASTQ path",
        )
    host = match.group(1).lower()
    if host in {h.lower() for h in file_hosts}:
        return []
    return [
        f"the FASTQ is served from {host}, not from the expected hosts ({', '.join(sorted(file_hosts))}, "
        "download.file_hosts); it is used because its MD5 is checked: check download.ena_api_url"
    ]


def library_warnings(report: dict[str, str]) -> list[str]:
    """Warnings for runs that do not look like small-RNA libraries.

    Small-RNA runs are submitted as ``miRNA-Seq`` or ``ncRNA-Seq``, or as
    ``RNA-Seq`` with library selection ``size fractionation``; the library
    source must be ``TRANSCRIPTOMIC``. Anything else is analysed but flagged,
    because a whole-transcriptome or genomic library gives few miRNA reads.
    """
    warnings = []
    strategy = report.get("library_strategy", "")
    selection = report.get("library_selection", "")
    source = report.get("library_source", "")
    size_selected_rna = strategy.lower() == "rna-seq" and selection.lower() == "size fractionation"
    if strategy.lower() not in SMALL_RNA_STRATEGIES and not size_selected_rna:
        warnings.append(
            f"library_strategy is {strategy or 'not given'!r} (selection {selection or 'not given'!r}), "
            "not miRNA-Seq/ncRNA-Seq: check that this run is a small-RNA library"
        )
    if source.upper() != "TRANSCRIPTOMIC":
        warnings.append(
            f"library_source is {source or 'not given'!r}, not TRANSCRIPTOMIC: check that this run is an RNA library"
        )
    return warnings


def download_run(
    accession: str,
    out_fastq: str | os.PathLike,
    out_json: str | os.PathLike,
    *,
    api_url: str = ENA_PORTAL_API,
    scheme: str = "https",
    retries: int = 3,
    timeout: float = 60,
    backoff: float = 2.0,
    min_rate: float = 0,
    file_hosts: Collection[str] = ENA_FILE_HOSTS,
) -> dict[str, Any]:
    """Resolve ``accession`` at ENA, download its FASTQ verified, write the JSON sidecar.

    Reuse, cheapest first:

    1. FASTQ and sidecar present, FASTQ matching the sidecar's MD5: no network
       request at all.
    2. Otherwise the ENA file report is fetched (one small request) and a
       verified copy kept in ``{cache}/.verified/`` (a hard link, no extra
       disk) or a FASTQ already at ``out_fastq`` that matches ENA's MD5 is
       used. This keeps the cache when Snakemake deletes the outputs of a job
       it reruns (e.g. after a workflow update).
    3. Otherwise the file is downloaded.

    Returns:
        The metadata written to ``out_json``.
    """
    out_fastq, out_json = Path(out_fastq), Path(out_json)
    cached = _cached_metadata(accession, out_fastq, out_json)
    if cached is not None:
        log.info("run %s: reusing %s (md5 %s verified)", accession, out_fastq, cached["md5"])
        return cached
    report = fetch_filereport(accession, api_url, retries=retries, timeout=timeout, backoff=backoff)
    file, warnings = _checked_fastq(accession, report, scheme, file_hosts)
    kept_fastq, kept_json = _store_paths(out_fastq, accession, file["md5"])
    record = _from_store(kept_fastq, kept_json, out_fastq, file)
    if record is None:
        record = fetch_verified(
            file["url"],
            out_fastq,
            md5=file["md5"],
            retries=retries,
            timeout=timeout,
            expect="fastq",
            backoff=backoff,
            expected_bytes=file["bytes"],
            min_rate=min_rate,
        )
    metadata = _run_metadata(accession, filereport_url(accession, api_url), report, file, record, warnings)
    for path in (out_json, kept_json):
        _write_json(metadata, path)
    _keep(out_fastq, kept_fastq)
    log.info("run %s: %d bytes from %s, md5 %s", accession, record["bytes"], record["url"], record["md5"])
    return metadata


def _checked_fastq(
    accession: str, report: dict[str, str], scheme: str, file_hosts: Collection[str]
) -> tuple[dict[str, Any], list[str]]:
    """The FASTQ to fetch from a file report, and the warnings about its host and library (logged)."""
    file, warnings = choose_fastq(report, scheme, file_hosts)
    warnings += library_warnings(report)
    for warning in warnings:
        log.warning("run %s: %s", accession, warning)
    return file, warnings


def _write_json(metadata: dict[str, Any], path: Path) -> None:
    """Write a sidecar atomically, keys sorted, so the same run gives the same bytes."""
    with atomic_open(path, "wt") as handle:
        json.dump(metadata, handle, indent=2, sort_keys=True)
        handle.write("\n")


def _run_metadata(
    accession: str,
    report_url: str,
    report: dict[str, str],
    file: dict[str, Any],
    record: dict[str, Any],
    warnings: list[str],
) -> dict[str, Any]:
    """The JSON sidecar of one run: where the file came from (after redirects), checksums, report."""
    return {
        "accession": accession,
        "source": "ENA",
        "filereport_url": report_url,
        "url": record["url"],
        "requested_url": record.get("requested_url", file["url"]),
        "bytes": record["bytes"],
        "md5": record["md5"],
        "sha256": record["sha256"],
        "download_date": record["date"],
        "read_used": file["read_used"],
        "warnings": warnings,
        "filereport": {field: report.get(field, "") for field in FILEREPORT_FIELDS},
    }


def _store_paths(out_fastq: Path, accession: str, md5: str) -> tuple[Path, Path]:
    """Where the verified copy of one run version (accession + MD5) is kept."""
    store = out_fastq.parent / ".verified"
    return store / f"{accession}.{md5}.fastq.gz", store / f"{accession}.{md5}.json"


def _from_store(kept_fastq: Path, kept_json: Path, out_fastq: Path, file: dict[str, Any]) -> dict[str, Any] | None:
    """Put a kept verified copy at ``out_fastq``; return its download record, or None."""
    if not (kept_fastq.is_file() and kept_json.is_file()):
        return None
    md5, sha256, size = file_digests(kept_fastq)
    if md5 != file["md5"] or (file["bytes"] is not None and size != file["bytes"]):
        log.warning("kept copy %s is damaged; downloading again", kept_fastq)
        kept_fastq.unlink(missing_ok=True)
        return None
    try:
        earlier = json.loads(kept_json.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if earlier.get("md5") != md5:
        return None
    _link_or_copy(kept_fastq, out_fastq)
    log.info("reusing the verified copy downloaded on %s from %s", earlier["download_date"], earlier["url"])
    return {"url": earlier["url"], "bytes": size, "md5": md5, "sha256": sha256, "date": earlier["download_date"]}


def _keep(out_fastq: Path, kept_fastq: Path) -> None:
    """Hard-link the verified download into the store (skipped where hard links are impossible)."""
    accession = kept_fastq.name.split(".", 1)[0]
    for older in kept_fastq.parent.glob(f"{accession}.*"):
        # An earlier version of the run (ENA re-generated the FASTQ): free its space.
        if older.name not in (kept_fastq.name, kept_fastq.name.replace(".fastq.gz", ".json")):
            older.unlink(missing_ok=True)
    if kept_fastq.is_file() and os.path.samefile(kept_fastq, out_fastq):
        return
    kept_fastq.parent.mkdir(parents=True, exist_ok=True)
    tmp = kept_fastq.with_name(f".{kept_fastq.name}.tmp")
    tmp.unlink(missing_ok=True)
    try:
        os.link(out_fastq, tmp)
        os.replace(tmp, kept_fastq)
    except OSError as exc:
        # A copy would double the disk used by the cache: do without the store.
        tmp.unlink(missing_ok=True)
        log.info(
            "cannot hard-link %s into %s (%s); the cache will not survive a rerun", out_fastq, kept_fastq.parent, exc
        )


def _link_or_copy(source: Path, dest: Path) -> None:
    """Atomically place ``source`` at ``dest`` as a hard link, or a copy if linking fails."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.link.tmp")
    tmp.unlink(missing_ok=True)
    try:
        os.link(source, tmp)
    except OSError:
        shutil.copyfile(source, tmp)
    os.replace(tmp, dest)


def _cached_metadata(accession: str, out_fastq: Path, out_json: Path) -> dict[str, Any] | None:
    """Sidecar of a complete, verified earlier download of ``accession``, else None."""
    if not (out_fastq.is_file() and out_json.is_file()):
        return None
    try:
        metadata = json.loads(out_json.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(metadata, dict) or metadata.get("accession") != accession or "md5" not in metadata:
        return None
    md5, _, size = file_digests(out_fastq)
    if md5 != metadata["md5"] or size != metadata.get("bytes"):
        log.warning("run %s: cached %s does not match its sidecar; downloading again", accession, out_fastq)
        return None
    return metadata


def write_accession_table(
    samples: Sequence[str],
    accessions: Sequence[str],
    metadata_jsons: Sequence[str | os.PathLike],
    out_tsv: str | os.PathLike,
) -> None:
    """Write the cohort table of downloaded runs (sample-sheet order), one row per run.

    ``samples``, ``accessions`` and ``metadata_jsons`` are parallel lists.
    """
    if not (len(samples) == len(accessions) == len(metadata_jsons)):
        raise ValueError("samples, accessions and metadata_jsons must have the same length")
    with atomic_open(out_tsv, "wt") as handle:
        handle.write("\t".join(ACCESSION_TABLE_COLUMNS) + "\n")
        for sample, accession, path in zip(samples, accessions, metadata_jsons):
            metadata = json.loads(Path(path).read_text(encoding="utf-8"))
            if metadata.get("accession") != accession:
                raise ExomirInputError(
                    f"metadata file describes run {metadata.get('accession')!r}, expected {accession}",
                    where=str(path),
                    fix="delete the file and its FASTQ from the download cache and run again",
                )
            report = metadata.get("filereport", {})
            row = {column: report.get(column, "") for column in ACCESSION_TABLE_COLUMNS}
            row.update(
                sample=sample,
                accession=accession,
                read_used=metadata["read_used"],
                url=metadata["url"],
                bytes=str(metadata["bytes"]),
                md5=metadata["md5"],
                sha256=metadata["sha256"],
                download_date=metadata["download_date"],
                warnings="; ".join(metadata.get("warnings", [])),
            )
            handle.write("\t".join(_clean(row[column]) for column in ACCESSION_TABLE_COLUMNS) + "\n")


def sheet_accessions(fastq_entries: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """``(sample, accession)`` pairs from ``(sample, fastq column)`` pairs, in order.

    The ``fastq`` column holds ``;``-separated entries; entries that are run
    accessions are returned, paths are skipped.
    """
    pairs = []
    for sample, column in fastq_entries:
        for entry in str(column).split(";"):
            entry = entry.strip()
            if entry and is_run_accession(entry):
                pairs.append((sample, entry))
    return pairs


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(";") if part.strip()] if value else []


def _with_scheme(path: str, scheme: str) -> str:
    """ENA gives ``ftp.sra.ebi.ac.uk/vol1/...`` without a scheme; the same path is served over HTTPS."""
    if "://" in path:
        path = path.split("://", 1)[1]
    return f"{scheme}://{path}"


def _clean(value: Any) -> str:
    """A table cell: no tabs or newlines."""
    return " ".join(str(value).split())

"""A local stand-in for the ENA portal API and its FASTQ file server, for tests.

It listens on 127.0.0.1 on a free port, answers ``/ena/portal/api/filereport``
like ENA (TSV with the requested fields, ``;``-joined FASTQ paths without a
scheme, MD5s and sizes) and serves registered files under ``/vol1/fastq/``.
Files can misbehave on purpose: a status code, an HTML page, a truncated body,
or failures before the first success. Every request is counted so tests can
assert how often a file was fetched.

The server is bounded: each connection times out after a minute and
after ``max_requests`` requests it answers 500 to everything, so a runaway
retry loop cannot hang a test.
"""

from __future__ import annotations

import collections
import csv
import hashlib
import io
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from exomir.ena import FILEREPORT_FIELDS

API_PATH = "/ena/portal/api"

#: read_run fields this fake ENA knows: the ones exomir asks for (one list, in the package).
KNOWN_FIELDS = FILEREPORT_FIELDS


@dataclass
class ServedFile:
    """A file the server hands out, and how it misbehaves."""

    body: bytes
    content_type: str = "application/octet-stream"
    status: int = 200
    truncate_to: int | None = None  # serve only this many bytes (Content-Length matches)
    fail_first: int = 0  # answer 503 to the first N requests
    redirect_to: str | None = None  # answer 302 with this Location (a path on this server)
    trickle: float = 0.0  # seconds between bytes: a server that sends one byte at a time
    send_length: bool = True  # False: no Content-Length header (size unknown to the client)
    served: int = field(default=0)


class ENAServer:
    """Fake ENA: ``with ENAServer() as ena: ena.add_run(...); ena.api_url ...``."""

    def __init__(self, max_requests: int = 300) -> None:
        self.files: dict[str, ServedFile] = {}
        self.runs: dict[str, dict[str, str]] = {}
        self.requests: collections.Counter[str] = collections.Counter()
        self.max_requests = max_requests
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------
    def start(self) -> "ENAServer":
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._thread.join(timeout=5)
            self._httpd = None

    def __enter__(self) -> "ENAServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- addresses -------------------------------------------------------------
    @property
    def host(self) -> str:
        """``127.0.0.1:PORT``: what ENA's ``ftp.sra.ebi.ac.uk`` is to the real archive."""
        assert self._httpd is not None, "server not started"
        return f"127.0.0.1:{self._httpd.server_address[1]}"

    @property
    def url(self) -> str:
        return f"http://{self.host}"

    @property
    def api_url(self) -> str:
        return self.url + API_PATH

    # -- content ---------------------------------------------------------------
    def add_file(self, path: str, body: bytes, **behaviour) -> str:
        """Serve ``body`` at ``path``; return the full URL."""
        self.files[path] = ServedFile(body=body, **behaviour)
        return self.url + path

    def add_run(
        self,
        accession: str,
        files: dict[str, bytes],
        *,
        layout: str = "SINGLE",
        strategy: str = "miRNA-Seq",
        source: str = "TRANSCRIPTOMIC",
        selection: str = "size fractionation",
        report_md5: dict[str, str] | None = None,
        behaviour: dict[str, dict] | None = None,
        **report_fields: str,
    ) -> None:
        """Register a run: ``files`` maps file names (``SRR…_1.fastq.gz``) to content.

        ``report_md5`` overrides the MD5 the file report announces for a file;
        ``behaviour`` gives :class:`ServedFile` options per file name.
        """
        behaviour = behaviour or {}
        report_md5 = report_md5 or {}
        paths, md5s, sizes = [], [], []
        for name, body in files.items():
            path = f"/vol1/fastq/{accession[:6]}/{accession}/{name}"
            self.add_file(path, body, **behaviour.get(name, {}))
            paths.append(self.host + path)
            md5s.append(report_md5.get(name, hashlib.md5(body).hexdigest()))
            sizes.append(str(len(body)))
        row = {name: "" for name in KNOWN_FIELDS}
        row.update(
            run_accession=accession,
            experiment_accession="SRX" + accession[3:],
            sample_accession="SAMN" + accession[3:],
            secondary_sample_accession="SRS" + accession[3:],
            study_accession="PRJNA000001",
            secondary_study_accession="SRP000001",
            sample_alias=f"plasma exosome {accession}",
            scientific_name="Homo sapiens",
            tax_id="9606",
            instrument_platform="ILLUMINA",
            instrument_model="Illumina HiSeq 2500",
            library_layout=layout,
            library_strategy=strategy,
            library_source=source,
            library_selection=selection,
            read_count="4",
            base_count="200",
            first_public="2017-05-01",
            fastq_ftp=";".join(paths),
            fastq_md5=";".join(md5s),
            fastq_bytes=";".join(sizes),
        )
        row.update(report_fields)
        self.runs[accession] = row

    def count(self, prefix: str) -> int:
        """Number of requests whose path starts with ``prefix``."""
        with self._lock:
            return sum(n for path, n in self.requests.items() if path.startswith(prefix))

    def file_requests(self, accession: str) -> int:
        return self.count(f"/vol1/fastq/{accession[:6]}/{accession}/")

    def report_requests(self) -> int:
        return self.count(API_PATH + "/filereport")


def _make_handler(server: ENAServer) -> type[BaseHTTPRequestHandler]:
    """The request handler class of one fake ENA (the standard library wants a class)."""
    return type("Handler", (_FakeENAHandler,), {"ena": server})


class _FakeENAHandler(BaseHTTPRequestHandler):
    """Answers file reports and serves the registered files of ``ena``, counting every request."""

    ena: ENAServer
    # Bounds a connection a client left open; generous, because on a loaded machine a client
    # may be descheduled for seconds between connecting and sending its request.
    timeout = 60
    protocol_version = "HTTP/1.0"

    def log_message(self, format, *args):  # quiet
        pass

    def do_GET(self) -> None:
        server = self.ena
        parts = urllib.parse.urlsplit(self.path)
        with server._lock:
            server.requests[parts.path] += 1
            total = sum(server.requests.values())
        if total > server.max_requests:
            return self._send(500, b"request limit of the test server reached", "text/plain")
        if parts.path == API_PATH + "/filereport":
            return self._filereport(urllib.parse.parse_qs(parts.query))
        served = server.files.get(parts.path)
        if served is None:
            return self._send(404, b"<!DOCTYPE html><html><body>404 Not Found</body></html>", "text/html")
        return self._serve(served)

    def _serve(self, served: ServedFile) -> None:
        """A registered file, misbehaving as it was told to."""
        with self.ena._lock:
            served.served += 1
            attempt = served.served
        if attempt <= served.fail_first:
            return self._send(503, b"Service Unavailable", "text/plain")
        if served.redirect_to is not None:
            self.send_response(302)
            self.send_header("Location", served.redirect_to)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        body = served.body if served.truncate_to is None else served.body[: served.truncate_to]
        return self._send(served.status, body, served.content_type, served.trickle, served.send_length)

    def _filereport(self, query: dict[str, list[str]]) -> None:
        accession = query.get("accession", [""])[0]
        fields = query.get("fields", ["run_accession,fastq_ftp,fastq_md5,fastq_bytes"])[0].split(",")
        if query.get("result", [""])[0] != "read_run":
            return self._send(400, b'{"message":"result must be read_run in this test server"}', "application/json")
        unknown = [name for name in fields if name not in KNOWN_FIELDS]
        if unknown:
            message = f'{{"message":"Invalid fieldName(s) supplied: {",".join(unknown)}"}}'
            return self._send(400, message.encode(), "application/json")
        row = self.ena.runs.get(accession)
        if row is None:
            return self._send(204, b"", "text/plain")
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter="\t", lineterminator="\n")
        writer.writerow(fields)
        writer.writerow([row[name] for name in fields])
        return self._send(200, buffer.getvalue().encode(), "text/plain")

    def _send(
        self, status: int, body: bytes, content_type: str, trickle: float = 0.0, send_length: bool = True
    ) -> None:
        self.send_response(status)
        if status != 204:
            self.send_header("Content-Type", content_type)
            if send_length:
                self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if status == 204:
            return
        if not trickle:
            self.wfile.write(body)
            return
        try:
            for offset in range(len(body)):
                self.wfile.write(body[offset : offset + 1])
                self.wfile.flush()
                time.sleep(trickle)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up: expected
            pass


def fixture_bytes(name: str) -> bytes:
    """Bytes of a committed fixture in ``tests/data/ena/``."""
    return (Path(__file__).resolve().parent / "data" / "ena" / name).read_bytes()

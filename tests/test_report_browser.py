"""End-to-end test of the biomarker report in headless Chromium.

Chromium is driven over the Chrome DevTools Protocol with a minimal WebSocket client from
the standard library (no selenium, no npm). The report is opened from file://, and the test
checks that there are no console errors, that the results table sorts and filters with real
mouse and keyboard input, that hovering a volcano point shows its values, and takes a
screenshot (saved under the pytest tmp dir).

Skips only when Chromium is missing outside CI; in CI (``CI`` set) a missing Chromium fails.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import socket
import struct
import subprocess
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import pandas as pd
import pytest
import yaml

from exomir.report import write_report
from support import LOCAL_SERVER_TIMEOUT

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "data" / "report"
CONTRASTS = ["cancer_vs_healthy", "benign_vs_healthy"]
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-extensions", "--mute-audio", "--hide-scrollbars", "--window-size=1280,900"]

pytestmark = pytest.mark.browser


def chromium_binary() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


# Deadlines end a hung browser, not a slow one: each wait returns as soon as its condition holds,
# and a loaded 2-core machine runs ~20x slower than a quiet one (issue 16.5).
BROWSER_WAIT = 600


class DevTools:
    """A minimal Chrome DevTools Protocol client over a WebSocket (RFC 6455, text frames)."""

    def __init__(self, ws_url: str, timeout: float = LOCAL_SERVER_TIMEOUT):
        url = urlparse(ws_url)
        self.sock = socket.create_connection((url.hostname, url.port), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        request = (f"GET {url.path} HTTP/1.1\r\nHost: {url.hostname}:{url.port}\r\nUpgrade: websocket\r\n"
                   f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n")
        self.sock.sendall(request.encode())
        response = b""
        while b"\r\n\r\n" not in response:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError("DevTools closed the connection during the handshake")
            response += chunk
        header, self.buffer = response.split(b"\r\n\r\n", 1)
        if b" 101 " not in header.split(b"\r\n")[0]:
            raise ConnectionError(f"WebSocket handshake refused: {header[:200]!r}")
        self.next_id = 0
        self.events: list[dict] = []

    def _send_frame(self, payload: bytes, opcode: int = 0x1) -> None:
        mask = os.urandom(4)
        length = len(payload)
        head = bytearray([0x80 | opcode])
        if length < 126:
            head.append(0x80 | length)
        elif length < 1 << 16:
            head.append(0x80 | 126)
            head += struct.pack(">H", length)
        else:
            head.append(0x80 | 127)
            head += struct.pack(">Q", length)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(bytes(head) + mask + masked)

    def _read(self, n: int) -> bytes:
        while len(self.buffer) < n:
            chunk = self.sock.recv(1 << 16)
            if not chunk:
                raise ConnectionError("DevTools connection closed")
            self.buffer += chunk
        out, self.buffer = self.buffer[:n], self.buffer[n:]
        return out

    def _receive(self) -> dict:
        message = b""
        while True:
            first, second = self._read(2)
            opcode, length = first & 0x0F, second & 0x7F
            if length == 126:
                length = struct.unpack(">H", self._read(2))[0]
            elif length == 127:
                length = struct.unpack(">Q", self._read(8))[0]
            mask = self._read(4) if second & 0x80 else None
            payload = self._read(length)
            if mask:
                payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
            if opcode == 0x8:
                raise ConnectionError("DevTools closed the WebSocket")
            if opcode == 0x9:
                self._send_frame(payload, opcode=0xA)
                continue
            message += payload
            if first & 0x80:
                return json.loads(message)

    def call(self, method: str, **params) -> dict:
        self.next_id += 1
        call_id = self.next_id
        self._send_frame(json.dumps({"id": call_id, "method": method, "params": params}).encode())
        while True:
            message = self._receive()
            if message.get("id") == call_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            self.events.append(message)

    def js(self, expression: str):
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"JS error in {expression!r}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def center(self, selector: str) -> tuple[float, float]:
        """Scroll the element into view, let the scroll settle (two frames), return its centre."""
        return tuple(self.js(f"""(async () => {{ const e = document.querySelector({json.dumps(selector)});
            e.scrollIntoView({{block: 'center'}});
            for (let i = 0; i < 2; i++) await new Promise(r => requestAnimationFrame(r));
            const r = e.getBoundingClientRect(); return [r.left + r.width / 2, r.top + r.height / 2]; }})()"""))

    def click(self, selector: str) -> None:
        """A real mouse click (move, press, release) in the middle of the element."""
        x, y = self.center(selector)
        self.call("Input.dispatchMouseEvent", type="mouseMoved", x=x, y=y)
        for kind in ("mousePressed", "mouseReleased"):
            self.call("Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left", clickCount=1)

    def hover(self, selector: str) -> None:
        x, y = self.center(selector)
        self.call("Input.dispatchMouseEvent", type="mouseMoved", x=x, y=y)

    def wait_for(self, expression: str, timeout: float = BROWSER_WAIT):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            value = self.js(expression)
            if value:
                return value
            time.sleep(0.1)
        raise TimeoutError(f"timed out waiting for {expression}")

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    binary = chromium_binary()
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium is required in CI for the report browser test (apt-get install chromium)")
        pytest.skip("Chromium not installed (apt-get install chromium)")
    profile = tmp_path_factory.mktemp("chromium-profile")
    proc = subprocess.Popen(
        [binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--remote-debugging-address=127.0.0.1",
         "--remote-debugging-port=0", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    port_file = profile / "DevToolsActivePort"
    try:
        end = time.monotonic() + BROWSER_WAIT
        while not (port_file.exists() and port_file.read_text().strip()):
            if proc.poll() is not None or time.monotonic() > end:
                pytest.fail(f"Chromium did not start (exit code {proc.poll()})")
            time.sleep(0.1)
        port = int(port_file.read_text().split()[0])
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=LOCAL_SERVER_TIMEOUT) as response:
            targets = json.load(response)
        page = next(t for t in targets if t.get("type") == "page")
        devtools = DevTools(page["webSocketDebuggerUrl"])
        yield devtools
        devtools.close()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)


@pytest.fixture(scope="module")
def report_page(browser, tmp_path_factory):
    out = tmp_path_factory.mktemp("browser-report") / "exomir_report.html"
    samples = pd.read_csv(FIXTURE / "samples.tsv", sep="\t", dtype=str, keep_default_na=False).to_dict("records")
    config = yaml.safe_load((FIXTURE / "config.yaml").read_text())
    write_report(out, FIXTURE / "results_tree", samples, CONTRASTS, ROOT / "workflow" / "report", config,
                 command="snakemake --cores 2")
    for domain in ("Runtime", "Log", "Page"):
        browser.call(f"{domain}.enable")
    browser.call("Emulation.setDeviceMetricsOverride", width=1280, height=900, deviceScaleFactor=1, mobile=False)
    browser.events.clear()
    browser.call("Page.navigate", url=out.as_uri())
    # the report's JS sets data-exomir-ready when tables and plots are set up
    browser.wait_for(f"document.URL === {json.dumps(out.as_uri())} && document.documentElement !== null"
                     " && document.documentElement.getAttribute('data-exomir-ready') === '1'")
    return browser, out


def console_errors(events: list[dict]) -> list[str]:
    errors = []
    for event in events:
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.exceptionThrown":
            errors.append(json.dumps(params.get("exceptionDetails", {}))[:500])
        elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            errors.append(json.dumps(params.get("args", []))[:500])
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
            errors.append(params["entry"].get("text", "")[:500])
    return errors


RESULTS_TABLE = "#results-cancer_vs_healthy"


def header(browser: DevTools, table: str, column: str) -> str:
    """CSS selector of the header cell of ``column``."""
    names = browser.js(f"Array.from(document.querySelectorAll('{table} thead th')).map(c => c.textContent)")
    return f"{table} thead th:nth-child({names.index(column) + 1})"


def column_values(browser: DevTools, table: str, column: str) -> list[str]:
    return browser.js(f"""(() => {{ const t = document.querySelector({json.dumps(table)});
        const i = Array.from(t.tHead.rows[0].cells).findIndex(c => c.textContent === {json.dumps(column)});
        return Array.from(t.tBodies[0].rows).filter(r => !r.hidden).map(r => r.cells[i].getAttribute('data-v')); }})()""")


def test_report_loads_without_console_errors(report_page):
    browser, _ = report_page
    assert browser.js("document.querySelectorAll('.plot svg circle.pt').length") > 0
    # volcano and MA of both contrasts, one ROC per contrast
    assert browser.js("document.querySelectorAll('.plot.volcano svg.chart, .plot.ma svg.chart, .plot.roc svg.chart').length") == 6
    assert console_errors(browser.events) == []


def test_new_plots_are_drawn(report_page):
    """Issue 20.3: PCA, sample distances, strip plots, validation ROC; forest plot inlined."""
    browser, _ = report_page
    assert browser.js("document.querySelectorAll('.plot.pca circle.pca-pt').length") == 8
    assert browser.js("document.querySelectorAll('.plot.distances rect.dist-cell').length") == 64
    n_strips = browser.js("document.querySelectorAll('.plot.strip svg.strip-chart').length")
    assert n_strips == browser.js("document.querySelectorAll('.plot.strip').length") and n_strips >= 4
    # every sample of the two groups is a point of each strip plot of cancer_vs_healthy (3 + 3)
    counts = browser.js("""Array.from(document.querySelectorAll('.plot.strip[data-contrast="c-cancer_vs_healthy"]'))
        .map(d => d.querySelectorAll('circle.strip-pt').length)""")
    assert set(counts) == {6}
    assert browser.js("document.querySelectorAll('.plot.valroc path.roc-line').length") == 1
    assert browser.js("document.getElementById('forest-plot').naturalWidth") > 100
    browser.hover('.plot.pca circle[data-sample="BC01"]')
    text = browser.wait_for("!document.getElementById('tooltip').hidden && document.getElementById('tooltip').textContent")
    assert "BC01" in text and "condition cancer" in text
    assert console_errors(browser.events) == []


def test_roc_legend_matches_the_auc_table(report_page):
    """Every legend entry states the AUC and the group of the table row of its miRNA; coinciding curves differ."""
    browser, _ = report_page
    for contrast in ("cancer_vs_healthy", "benign_vs_healthy"):
        legend = browser.js(f"""Array.from(document.querySelectorAll('.plot.roc[data-contrast="c-{contrast}"] .roc-legend-item'))
            .map(e => [e.getAttribute('data-feature'), e.textContent])""")
        rows = browser.js(f"""(() => {{ const t = document.getElementById('auc-{contrast}');
            const h = Array.from(t.tHead.rows[0].cells).map(c => c.textContent);
            return Array.from(t.tBodies[0].rows).map(r => [r.cells[h.indexOf('mature')].textContent,
                r.cells[h.indexOf('AUC')].textContent, r.cells[h.indexOf('higher in')].textContent]); }})()""")
        by_mirna = {m: (a, g) for m, a, g in rows}
        markers = [(f, t) for f, t in legend if f != "panel (nested CV)"]
        assert markers, contrast
        for feature, text in markers:
            shown, group = by_mirna[feature]
            assert text == f"{feature}: AUC {shown}, higher in {group}"
        dashes = browser.js(f"""Array.from(document.querySelectorAll('.plot.roc[data-contrast="c-{contrast}"] path.roc-line'))
            .map(p => p.getAttribute('stroke-dasharray') + '|' + p.getAttribute('d'))""")
        assert len(set(dashes)) == len(dashes)  # no two curves drawn identically


def test_results_table_sorts_with_the_mouse(report_page):
    browser, _ = report_page
    table = RESULTS_TABLE
    res = pd.read_csv(FIXTURE / "results_tree" / "diffexp" / "cancer_vs_healthy" / "results.tsv", sep="\t")
    base_header = header(browser, table, "baseMean")
    browser.click(base_header)
    ascending = [float(v) for v in column_values(browser, table, "baseMean")]
    assert ascending == sorted(res["baseMean"].tolist())
    browser.click(base_header)
    descending = [float(v) for v in column_values(browser, table, "baseMean")]
    assert descending == sorted(res["baseMean"].tolist(), reverse=True)
    assert browser.js(f"document.querySelector('{base_header}').getAttribute('aria-sort')") == "descending"
    # padj has missing values: they stay last in both directions
    padj_header = header(browser, table, "padj")
    browser.click(padj_header)
    padj = column_values(browser, table, "padj")
    n_na = int(res["padj"].isna().sum())
    assert n_na == 3 and padj[-n_na:] == [""] * n_na
    assert [float(v) for v in padj[:-n_na]] == sorted(res["padj"].dropna().tolist())
    browser.click(padj_header)
    padj = column_values(browser, table, "padj")
    assert padj[-n_na:] == [""] * n_na
    assert [float(v) for v in padj[:-n_na]] == sorted(res["padj"].dropna().tolist(), reverse=True)


def test_results_table_filters_with_the_keyboard(report_page):
    browser, _ = report_page
    table = RESULTS_TABLE
    filter_box = 'input.filter[data-table="results-cancer_vs_healthy"]'
    count = '.count[data-table="results-cancer_vs_healthy"]'
    browser.click(filter_box)
    browser.call("Input.insertText", text="let-7")
    names = column_values(browser, table, "mirna")
    assert sorted(names) == ["hsa-let-7a-5p", "hsa-let-7b-5p"]
    assert browser.js(f"document.querySelector('{count}').textContent") == "2 of 27 rows"
    # clear the filter with the keyboard: select all, delete
    browser.click(filter_box)
    browser.js(f"document.querySelector('{filter_box}').select()")
    browser.call("Input.dispatchKeyEvent", type="keyDown", key="Backspace", code="Backspace",
                 windowsVirtualKeyCode=8, nativeVirtualKeyCode=8)
    browser.call("Input.dispatchKeyEvent", type="keyUp", key="Backspace", code="Backspace",
                 windowsVirtualKeyCode=8, nativeVirtualKeyCode=8)
    assert len(column_values(browser, table, "mirna")) == 27
    # significant only: exactly the padj < alpha rows
    browser.click('input.sigonly[data-table="results-cancer_vs_healthy"]')
    assert sorted(column_values(browser, table, "mirna")) == ["hsa-miR-1246", "hsa-miR-145-5p", "hsa-miR-155-5p"]
    assert browser.js(f"document.querySelector('{count}').textContent") == "3 of 27 rows"
    browser.click('input.sigonly[data-table="results-cancer_vs_healthy"]')
    assert len(column_values(browser, table, "mirna")) == 27


def test_volcano_hover_shows_mirna_values(report_page):
    browser, _ = report_page
    point = '.volcano[data-contrast="c-cancer_vs_healthy"] circle[data-mirna="hsa-miR-1246"]'
    browser.hover(point)
    text = browser.wait_for("!document.getElementById('tooltip').hidden && document.getElementById('tooltip').textContent")
    assert "hsa-miR-1246" in text and "log2FC 2.77" in text and "padj 2.62e-16" in text


def _screenshot(browser: DevTools, selector: str, path: Path) -> bytes:
    browser.js(f"document.querySelector({json.dumps(selector)}).scrollIntoView()")
    browser.js("window.scrollBy(0, -120)")  # the sticky header covers the top of the page
    browser.js("new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
    png = base64.b64decode(browser.call("Page.captureScreenshot", format="png")["data"])
    path.write_bytes(png)
    return png


@pytest.mark.parametrize("selector", ["#summary", "#overview", ".strips", ".plot.roc", "#validation", "#meta"])
def test_section_screenshots(report_page, selector):
    """Screenshots of the new sections (saved next to the report for a human to look at)."""
    browser, out = report_page
    png = _screenshot(browser, selector, out.parent / f"section_{selector.strip('#.').replace('.', '_')}.png")
    assert len(png) > 20_000
    assert console_errors(browser.events) == []


def test_screenshot(report_page, tmp_path_factory):
    browser, out = report_page
    browser.js("window.scrollTo(0, 0)")
    png = _screenshot(browser, "#c-cancer_vs_healthy", out.parent / "exomir_report.png")
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    assert (width, height) == (1280, 900)
    assert len(png) > 20_000  # a blank page compresses to a few kB
    assert console_errors(browser.events) == []

"""The run report in headless Chromium: it loads cleanly, shows the gallery, filters work.

Chromium is driven over the DevTools protocol (a small client on `websockets`' sync API),
which reports console messages, uncaught exceptions, failed loads and every network
request, and lets the tests run JS in the page (select a filter, count visible cards).
The Makefile's `test` target installs Debian's chromium; without it these tests skip.
"""

from __future__ import annotations

import base64
import io
import json
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageStat
from websockets.sync.client import ClientConnection, connect

from graphs.report import build_report

VIEWPORT = (1280, 900)
TIMEOUT_S = 30.0


def chromium_binary() -> str | None:
    candidates = [os.environ.get("CHROMIUM"), "chromium", "chromium-browser", "google-chrome"]
    return next((shutil.which(c) for c in candidates if c and shutil.which(c)), None)


class DevTools:
    """One page over the DevTools protocol; events are kept as they arrive."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.events: list[dict[str, Any]] = []
        self.session: str | None = None
        self._next_id = 0

    def call(self, method: str, params: dict[str, Any] | None = None, *, page: bool = True) -> Any:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if page and self.session:
            message["sessionId"] = self.session
        self.ws.send(json.dumps(message))
        deadline = time.monotonic() + TIMEOUT_S
        while True:
            reply = json.loads(self.ws.recv(timeout=max(0.1, deadline - time.monotonic())))
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for(self, method: str) -> dict[str, Any]:
        deadline = time.monotonic() + TIMEOUT_S
        while not any(e.get("method") == method for e in self.events):
            self.events.append(
                json.loads(self.ws.recv(timeout=max(0.1, deadline - time.monotonic())))
            )
        return next(e for e in self.events if e.get("method") == method)

    def evaluate(self, expression: str) -> Any:
        result = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        if "exceptionDetails" in result:
            raise AssertionError(f"JS failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    def problems(self) -> list[str]:
        """Console errors and warnings, uncaught exceptions and browser-logged errors."""
        found = []
        for event in self.events:
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.consoleAPICalled" and params.get("type") in {
                "error",
                "warning",
                "assert",
            }:
                found.append(f"console.{params['type']}: {params.get('args')}")
            elif method == "Runtime.exceptionThrown":
                found.append(f"exception: {params.get('exceptionDetails')}")
            elif method == "Log.entryAdded" and params["entry"].get("level") in {
                "error",
                "warning",
            }:
                found.append(f"log {params['entry']['level']}: {params['entry'].get('text')}")
        return found

    def request_urls(self) -> list[str]:
        return [
            e["params"]["request"]["url"]
            for e in self.events
            if e.get("method") == "Network.requestWillBeSent"
        ]


@pytest.fixture(scope="module")
def report_file(report_run_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_report(report_run_dir, tmp_path_factory.mktemp("browser") / "report.html")


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClientConnection]:
    """Headless Chromium in its own process group (killed afterwards), connected over CDP."""
    binary = chromium_binary()
    if binary is None:
        pytest.skip("chromium not found: install it (apt-get install chromium) or set CHROMIUM")
    profile = tmp_path_factory.mktemp("chromium-profile")
    command = [
        binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-extensions", "--hide-scrollbars", "--mute-audio", f"--user-data-dir={profile}",
        "--remote-debugging-port=0", "about:blank",
    ]  # fmt: skip
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    try:
        port_file = profile / "DevToolsActivePort"  # Chromium writes "port\n/devtools/browser/id"
        deadline = time.monotonic() + TIMEOUT_S
        while not (port_file.exists() and len(port_file.read_text().split()) == 2):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"chromium did not start (exit code {process.poll()}): {command}")
            time.sleep(0.05)
        port, path = port_file.read_text().split()
        with connect(f"ws://127.0.0.1:{port}{path}", max_size=None, open_timeout=TIMEOUT_S) as ws:
            yield ws
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


@pytest.fixture(scope="module")
def page(browser: ClientConnection, report_file: Path) -> DevTools:
    """The report loaded in a fresh tab at a fixed viewport, with every event recorded."""
    tools = DevTools(browser)
    target = tools.call("Target.createTarget", {"url": "about:blank"}, page=False)
    attached = tools.call(
        "Target.attachToTarget", {"targetId": target["targetId"], "flatten": True}, page=False
    )
    tools.session = attached["sessionId"]
    for domain in ("Runtime", "Log", "Page", "Network"):
        tools.call(f"{domain}.enable")
    width, height = VIEWPORT
    tools.call(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
    )
    tools.call("Page.navigate", {"url": report_file.as_uri()})
    tools.wait_for("Page.loadEventFired")
    return tools


def test_page_loads_without_console_errors_or_network(page: DevTools) -> None:
    assert page.evaluate("document.readyState") == "complete"
    assert page.problems() == []
    outside = [u for u in page.request_urls() if not u.startswith(("file:", "data:", "about:"))]
    assert outside == [], "the page must be self-contained"


def test_gallery_cards_and_thumbnails_render(page: DevTools, report_file: Path) -> None:
    expected = report_file.read_text(encoding="utf-8").count('class="sample-card ')
    assert expected > 10
    assert (
        page.evaluate("document.querySelectorAll('.sample-card:not([hidden])').length") == expected
    )
    assert (
        page.evaluate("document.getElementById('gallery-count').textContent") == f"{expected} shown"
    )
    thumb = page.evaluate(
        "(() => { const t = document.querySelector('.sample-card .thumb');"
        " const r = t.getBoundingClientRect();"
        " return [getComputedStyle(t).backgroundImage.includes('data:image/jpeg;base64,'),"
        " r.width, r.height]; })()"
    )
    assert thumb[0] is True
    assert thumb[1] > 40 and thumb[2] > 30
    assert page.evaluate("document.querySelectorAll('svg.chart').length") >= 4


def select(page: DevTools, element_id: str, value: str) -> int:
    """Choose `value` in a filter as a user would (change event); returns visible cards."""
    return page.evaluate(
        f"(() => {{ const s = document.getElementById({json.dumps(element_id)});"
        f" s.value = {json.dumps(value)}; s.dispatchEvent(new Event('change'));"
        " return document.querySelectorAll('.sample-card:not([hidden])').length; })()"
    )


def visible(page: DevTools, attribute: str) -> list[str]:
    return page.evaluate(
        f"Array.from(document.querySelectorAll('.sample-card:not([hidden])'), c => c.dataset.{attribute})"
    )


def test_filters_by_verdict_reason_task_and_iteration(page: DevTools) -> None:
    total = page.evaluate("document.querySelectorAll('.sample-card').length")
    rejected = page.evaluate(
        "document.querySelectorAll('.sample-card[data-verdict=rejected]').length"
    )
    assert 0 < rejected < total
    assert select(page, "filter-verdict", "rejected") == rejected
    assert set(visible(page, "verdict")) == {"rejected"}
    assert page.evaluate("document.getElementById('gallery-count').textContent") == (
        f"{rejected} of {total} shown"
    )
    assert select(page, "filter-verdict", "reason:program_error") >= 1
    assert set(visible(page, "reason")) == {"program_error"}
    assert select(page, "filter-verdict", "accepted") == total - rejected
    assert select(page, "filter-iteration", "1") > 0
    assert set(visible(page, "iteration")) == {"1"} and set(visible(page, "verdict")) == {
        "accepted"
    }
    task = visible(page, "task")[0]
    shown = select(page, "filter-task", task)
    assert shown >= 1 and set(visible(page, "task")) == {task}
    assert page.evaluate("document.getElementById('gallery-empty').hidden") is True
    select(page, "filter-verdict", "rejected")
    assert select(page, "filter-band", "easy") == 0  # rejected samples are never scored
    assert page.evaluate("document.getElementById('gallery-empty').hidden") is False
    page.evaluate("document.getElementById('filter-reset').click()")
    assert len(visible(page, "task")) == total
    assert page.problems() == []


def test_program_opens_on_click(page: DevTools) -> None:
    opened = page.evaluate(
        "(() => { const d = document.querySelector('.sample-card details.program');"
        " d.querySelector('summary').click();"
        " return [d.open, d.querySelector('pre').getBoundingClientRect().height]; })()"
    )
    assert opened[0] is True and opened[1] > 20


def test_screenshot_is_a_full_non_blank_page(page: DevTools, tmp_path: Path) -> None:
    shot = page.call("Page.captureScreenshot", {"format": "png"})
    image = Image.open(io.BytesIO(base64.b64decode(shot["data"]))).convert("RGB")
    assert image.size == VIEWPORT
    stats = ImageStat.Stat(image.convert("L"))
    assert stats.stddev[0] > 20, "the screenshot is (nearly) one colour"
    assert len(image.getcolors(maxcolors=1 << 20) or []) > 200
    image.save(tmp_path / "report.png")


PANELS = {
    "heldout-per-task": "#heldout .multiples",
    "confidence-histograms": "#confidence .multiples",
    "calibration": "#calibration",
    "curriculum-quotas": "#quotas .multiples",
}


@pytest.mark.parametrize("name", list(PANELS))
def test_each_new_panel_renders_visibly(page: DevTools, name: str, tmp_path: Path) -> None:
    """Scroll the panel into view and photograph just its box: drawn, not blank, not clipped."""
    selector = json.dumps(PANELS[name])
    box = page.evaluate(
        f"(() => {{ const e = document.querySelector({selector}); e.scrollIntoView();"
        " const r = e.getBoundingClientRect();"
        " return [r.x + window.scrollX, r.y + window.scrollY, r.width, r.height,"
        " e.querySelectorAll('svg.chart').length,"
        " Array.from(e.querySelectorAll('svg.chart'), s => s.getBoundingClientRect().width)]; })()"
    )
    x, y, width, height, charts, widths = box
    assert charts >= 1 and min(widths) > 150  # every chart is laid out at a readable size
    assert width > 300 and height > 120
    shot = page.call(
        "Page.captureScreenshot",
        {"format": "png", "captureBeyondViewport": True,
         "clip": {"x": x, "y": y, "width": width, "height": min(height, 2000), "scale": 1}},
    )  # fmt: skip
    image = Image.open(io.BytesIO(base64.b64decode(shot["data"]))).convert("RGB")
    assert ImageStat.Stat(image.convert("L")).stddev[0] > 10, f"{name} is (nearly) blank"
    assert len(image.getcolors(maxcolors=1 << 20) or []) > 50
    shots = os.environ.get("REPORT_SCREENSHOTS")  # set it to keep the images for a look
    image.save(Path(shots) / f"{name}.png" if shots else tmp_path / f"{name}.png")
    assert page.problems() == []

"""Browser test: headless Chromium opens the index and every report it links, offline.

It records, over the DevTools protocol, console errors, uncaught exceptions, failed
requests and any request that would leave the machine (network access is disabled with
``--host-resolver-rules``), checks that every figure decoded, and saves a screenshot of
each page. Under CI (``CI=true``) a missing browser fails the test; elsewhere it skips
with the command that installs one.
"""

import base64
import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from collections_lab.reporting.batch import run_batch

websocket = pytest.importorskip("websocket", reason="pip install websocket-client")

FIXTURES = Path(__file__).parent / "fixtures" / "notebooks"
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
INSTALL_HINT = "install it with: sudo apt-get install -y chromium (Debian/Ubuntu)"

pytestmark = pytest.mark.browser


def _browser() -> str | None:
    if os.environ.get("CHROMIUM"):
        return os.environ["CHROMIUM"]
    return next((shutil.which(b) for b in BROWSERS if shutil.which(b)), None)


def _require_browser() -> str:
    path = _browser()
    if path is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"headless Chromium is required under CI but was not found; {INSTALL_HINT}")
        pytest.skip(f"headless Chromium not found; {INSTALL_HINT}")
    return path


@pytest.fixture(scope="module")
def browser_path():
    return _require_browser()


def test_missing_browser_fails_under_ci_and_skips_elsewhere(monkeypatch):
    monkeypatch.delenv("CHROMIUM", raising=False)
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="required under CI"):
        _require_browser()
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match="apt-get install -y chromium"):
        _require_browser()


class DevTools:
    """A minimal Chrome DevTools Protocol client for one page (websocket-client)."""

    def __init__(self, browser: str, profile: Path):
        args = [
            browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
            "--no-first-run", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--disable-extensions", "--disable-dev-shm-usage",
            "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
            f"--user-data-dir={profile}", "--remote-debugging-port=0",
            "--window-size=1280,900", "about:blank",
        ]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        port_file = profile / "DevToolsActivePort"
        deadline = time.time() + 30
        while not (port_file.exists() and len(port_file.read_text().split()) >= 2):
            if self.proc.poll() is not None or time.time() > deadline:
                err = self.proc.stderr.read().decode(errors="replace")[-2000:] if self.proc.poll() is not None else ""
                self.close()
                raise RuntimeError(f"Chromium did not start: {err}")
            time.sleep(0.1)
        port, path = port_file.read_text().split()[:2]
        self.ws = websocket.create_connection(f"ws://127.0.0.1:{port}{path}", timeout=30,
                                              suppress_origin=True)
        self.next_id = 0
        self.events: list[dict] = []
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=target,
                                 flatten=True)["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.call(f"{domain}.enable", session=True)

    def call(self, method: str, session: bool = False, **params) -> dict:
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params}
        if session:
            message["sessionId"] = self.session
        self.ws.send(json.dumps(message))
        while True:
            reply = json.loads(self.ws.recv())
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for(self, event: str, timeout: float = 30) -> None:
        deadline = time.time() + timeout
        start = len(self.events)
        while time.time() < deadline:
            if any(e.get("method") == event for e in self.events[start:]):
                return
            self.ws.settimeout(max(0.1, deadline - time.time()))
            self.events.append(json.loads(self.ws.recv()))
        raise TimeoutError(f"no {event} within {timeout} s")

    def visit(self, url: str) -> list[str]:
        """Open ``url``; returns the problems seen while it loaded (console, network)."""
        first = len(self.events)
        self.call("Page.navigate", session=True, url=url)
        self.wait_for("Page.loadEventFired")
        time.sleep(0.3)  # let late console messages arrive
        self.call("Runtime.evaluate", session=True, expression="1")  # drain events
        problems = []
        for event in self.events[first:]:
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.exceptionThrown":
                problems.append(f"exception: {params['exceptionDetails'].get('text')}")
            elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                problems.append(f"console.error: {params.get('args')}")
            elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
                problems.append(f"log error: {params['entry'].get('text')} {params['entry'].get('url', '')}")
            elif method == "Network.loadingFailed":
                problems.append(f"failed request: {params.get('errorText')} ({params.get('type')})")
            elif method == "Network.requestWillBeSent":
                request_url = params["request"]["url"]
                if not request_url.startswith(("file:", "data:", "about:")):
                    problems.append(f"network request: {request_url}")
        return problems

    def evaluate(self, expression: str):
        result = self.call("Runtime.evaluate", session=True, expression=expression,
                           returnByValue=True)
        return result["result"].get("value")

    def screenshot(self, path: Path) -> Path:
        data = self.call("Page.captureScreenshot", session=True, format="png",
                         captureBeyondViewport=True)["data"]
        path.write_bytes(base64.b64decode(data))
        return path

    def close(self) -> None:
        try:
            if getattr(self, "ws", None):
                self.ws.close()
        finally:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


@pytest.fixture(scope="module")
def tools(browser_path, tmp_path_factory):
    client = DevTools(browser_path, tmp_path_factory.mktemp("profile"))
    yield client
    client.close()


def test_the_check_sees_what_a_stock_page_would_do(tools, tmp_path):
    # Guard against a checker that always passes: a page loading a CDN script, logging a
    # console error and throwing must be caught.
    page = tmp_path / "bad.html"
    page.write_text(
        '<html><head><script src="https://cdnjs.cloudflare.com/ajax/libs/require.js/2.1.10/'
        'require.min.js"></script></head><body><script>console.error("boom");'
        "throw new Error('bad');</script></body></html>"
    )
    problems = " | ".join(tools.visit(page.as_uri()))
    assert "network request: https://cdnjs.cloudflare.com" in problems
    assert "failed request" in problems
    assert "console.error" in problems and "exception" in problems


def test_index_and_reports_render_offline_without_errors(tools, tmp_path):
    batch = tmp_path / "batch.yml"
    batch.write_text(
        f"notebooks_dir: {FIXTURES}\nreports_dir: reports\nreports:\n"
        "  - notebook: fixture_report\n"
        "    parameters: {customer: '<script>alert(1)</script>', lang: es}\n"
        "  - notebook: fixture_report\n    report: broken\n    parameters: {fail: true}\n"
    )
    result = run_batch(batch)
    assert [r.status for r in result.runs] == ["ok", "failed"]
    reports = tmp_path / "reports"
    shots = tmp_path / "screenshots"
    shots.mkdir()

    assert tools.visit((reports / "index.html").as_uri()) == []
    tools.screenshot(shots / "index.png")
    links = tools.evaluate(
        "Array.from(document.querySelectorAll('a[href$=\".html\"]')).map(a => a.href)")
    assert links == [(reports / "fixture_report" / "fixture_report.html").as_uri()]
    for link in links:
        assert tools.visit(link) == [], link
        assert tools.evaluate("document.querySelectorAll('img').length") == 1
        assert tools.evaluate(
            "Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)")
        text = tools.evaluate("document.body.innerText")
        assert "Resumen ejecutivo" in text and "<script>alert(1)</script>" in text
        assert tools.evaluate("document.scripts.length") == 0
        tools.screenshot(shots / (Path(link).stem + ".png"))
    for png in shots.iterdir():
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5_000
    if os.environ.get("COLLECTIONS_LAB_SCREENSHOTS"):  # keep them for a human to look at
        shutil.copytree(shots, os.environ["COLLECTIONS_LAB_SCREENSHOTS"], dirs_exist_ok=True)

"""Headless Chromium for the report tests: find it, drive it over the DevTools protocol.

Used by ``test_reporting_browser.py`` and ``test_reporting_notebooks.py``. A missing
browser fails under CI (``CI=true``) and skips elsewhere, with the install command.
"""

import base64
import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
INSTALL_HINT = "install it with: sudo apt-get install -y chromium (Debian/Ubuntu)"


def find_browser() -> str | None:
    if os.environ.get("CHROMIUM"):
        return os.environ["CHROMIUM"]
    return next((shutil.which(b) for b in BROWSERS if shutil.which(b)), None)


def require_browser() -> str:
    path = find_browser()
    if path is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"headless Chromium is required under CI but was not found; {INSTALL_HINT}")
        pytest.skip(f"headless Chromium not found; {INSTALL_HINT}")
    return path


def open_browser(profile: Path) -> "DevTools":
    """Start headless Chromium (or skip/fail, see :func:`require_browser`)."""
    pytest.importorskip("websocket", reason="pip install websocket-client")
    return DevTools(require_browser(), profile)


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
        import websocket

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

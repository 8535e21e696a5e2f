"""Browser test: headless Chromium opens the index and every report it links, offline.

It records, over the DevTools protocol, console errors, uncaught exceptions, failed
requests and any request that would leave the machine (network access is disabled with
``--host-resolver-rules``), checks that every figure decoded, and saves a screenshot of
each page. Under CI (``CI=true``) a missing browser fails the test; elsewhere it skips
with the command that installs one.
"""

import os
import shutil
from pathlib import Path

import browser_tools
import pytest

from collections_lab.reporting.batch import run_batch

FIXTURES = Path(__file__).parent / "fixtures" / "notebooks"

pytestmark = pytest.mark.browser


def test_missing_browser_fails_under_ci_and_skips_elsewhere(monkeypatch):
    monkeypatch.delenv("CHROMIUM", raising=False)
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="required under CI"):
        browser_tools.require_browser()
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match="apt-get install -y chromium"):
        browser_tools.require_browser()


@pytest.fixture(scope="module")
def tools(tmp_path_factory):
    client = browser_tools.open_browser(tmp_path_factory.mktemp("profile"))
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

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


#: A reports directory already holding the sample's pages in ``en/`` and ``es/`` (as the
#: test builds them): the checks then run in seconds, e.g. while editing a page.
SAMPLE_PAGES_ENV = "COLLECTIONS_LAB_SAMPLE_PAGES"
NOTEBOOKS = Path(__file__).parent.parent / "notebooks"


@pytest.fixture(scope="module")
def sample_pages(tmp_path_factory):
    """The five reports on the bundled sample, in English and in Spanish."""
    given = os.environ.get(SAMPLE_PAGES_ENV)
    if given:
        return {lang: Path(given) / lang for lang in ("en", "es")}
    out = tmp_path_factory.mktemp("sample-pages")
    for lang in ("en", "es"):
        batch = out / f"batch-{lang}.yml"
        batch.write_text(
            f"notebooks_dir: {NOTEBOOKS}\nreports_dir: {lang}\njobs: 2\nlang: {lang}\n"
            f"parameters: {{lang: {lang}}}\nreports: [01_portfolio_health, 02_time_to_payment,"
            " 03_experiment_design, 04_experiment_readout, 05_strategy_lab]\n")
        result = run_batch(batch)
        assert [r.status for r in result.runs] == ["ok"] * 5, [r.error for r in result.runs]
    return {lang: out / lang for lang in ("en", "es")}


def _arm_names() -> set[str]:
    """Strategy names of the sample's strategies file and the running experiment's id
    (experiment.json): names their author chose, shown as they are (like customer ids),
    so neither "code" nor catalogue text on the page."""
    import json

    import yaml

    from collections_lab.reporting.paths import sample_data_dir

    path = sample_data_dir() / "strategies.yml"
    doc = yaml.safe_load(path.read_text()) or {}
    experiment = json.loads((sample_data_dir() / "experiment.json").read_text())
    return ({str(s["name"]) for s in doc.get("strategies", [])} | {"business_as_usual"}
            | {str(experiment["experiment_id"])})


@pytest.mark.slow
def test_every_sample_page_follows_the_page_grammar(tools, sample_pages):
    # DESIGN.md "The page grammar": every page of the sample, in both languages, fits a
    # 1,280 px window, opens with a decision box and KPI tiles, has a table of contents
    # and a link back to the index, shows no code-like text, no chart axis with an offset
    # or a power-of-ten multiplier, and (es) no English catalogue text. All problems are
    # listed at once, page by page.
    import page_checks

    english = page_checks.english_only_strings()
    assert len(english) > 50  # the check has something to look for
    allowed = _arm_names()
    problems = []
    for lang, folder in sample_pages.items():
        pages = sorted(folder.glob("*/*.html"))
        assert len(pages) == 5, pages
        assert tools.visit((folder / "index.html").as_uri()) == []
        problems += [f"{lang} index: {p}" for p in page_checks.too_wide(tools)]
        for page in pages:
            assert tools.visit(page.as_uri()) == [], page
            text = page_checks.visible_text(tools)
            found = (page_checks.too_wide(tools) + page_checks.grammar(tools)
                     + page_checks.code_like(text, allowed)
                     + page_checks.figure_multipliers(page.with_suffix(".ipynb")))
            if lang == "es":
                found += page_checks.english_in_spanish(text, english, allowed)
            problems += [f"{lang} {page.stem}: {p}" for p in found]
    assert problems == [], "\n".join(problems)


def test_the_page_checks_catch_what_they_look_for(tools, tmp_path):
    # Guard against checks that always pass: a page breaking every rule is caught.
    import page_checks

    page = tmp_path / "bad.html"
    page.write_text(
        "<html><body><table style='width:1500px'><tr><td>segment=medium</td>"
        "<td>tone[firm]:count[3]</td><td>paid_by_due_d</td><td>Executive summary</td>"
        "</tr></table></body></html>")
    assert tools.visit(page.as_uri()) == []
    assert page_checks.too_wide(tools)
    assert len(page_checks.grammar(tools)) == 4
    text = page_checks.visible_text(tools)
    assert len(page_checks.code_like(text)) == 3
    assert page_checks.english_in_spanish(text, ["Executive summary"])
    # a name from the strategies file is not catalogue text; the same word elsewhere is
    named = "Arm friendly-1-none sent a friendly email"
    assert page_checks.english_in_spanish(named, ["friendly"], {"friendly-1-none"})
    assert not page_checks.english_in_spanish("Brazo friendly-1-none", ["friendly"],
                                              {"friendly-1-none"})

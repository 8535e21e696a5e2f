"""Batch files: parsed strictly, every report run, the batch failing if one failed."""

from pathlib import Path

import pytest

from collections_lab.reporting.batch import load_batch, run_batch
from collections_lab.reporting.runner import ReportError

ROOT = Path(__file__).parents[1]
FIXTURES = Path(__file__).parent / "fixtures" / "notebooks"


def test_weekly_batch_lists_the_five_reports():
    batch = load_batch(ROOT / "reports" / "weekly.yml")
    assert [e.report for e in batch.entries] == [
        "01_portfolio_health", "02_time_to_payment", "03_experiment_design",
        "04_experiment_readout", "05_strategy_lab",
    ]
    assert batch.notebooks_dir == (ROOT / "notebooks").resolve()
    assert batch.reports_dir == (ROOT / "reports").resolve()
    assert all(e.parameters["lang"] == "en" for e in batch.entries)


@pytest.mark.parametrize(
    "text, message",
    [
        ("reports: []", "non-empty list"),
        ("reprots: [a]", "unknown keys \\['reprots'\\]"),
        ("reports: [{notebook: a, params: {}}]", "reports\\[1\\]: unknown keys \\['params'\\]"),
        ("reports: [a, a]", "used twice: \\['a'\\]"),
        ("reports: [{report: x}]", "reports\\[1\\]: expected a notebook"),
        ("reports: [a\n", "not valid YAML"),
        ("lang: fr\nreports: [a]", "lang: 'fr' is not a report language"),
    ],
)
def test_bad_batch_files_name_the_problem(tmp_path, text, message):
    path = tmp_path / "b.yml"
    path.write_text(text)
    with pytest.raises(ReportError, match=message):
        load_batch(path)


def test_batch_runs_all_and_fails_if_any_failed(tmp_path):
    path = tmp_path / "batch.yml"
    path.write_text(
        f"notebooks_dir: {FIXTURES}\nreports_dir: out\nlang: es\n"
        "parameters: {as_of: 2025-02-28}\n"
        "reports:\n"
        "  - fixture_report_with_typo_missing\n"
        "  - minimal_report\n"
        "  - {notebook: minimal_report, report: minimal_es, parameters: {lang: es}}\n"
    )
    seen = []
    result = run_batch(path, on_result=seen.append)
    assert [r.status for r in result.runs] == ["failed", "ok", "ok"]
    assert not result.ok and len(seen) == 3
    assert (tmp_path / "out" / "minimal_es" / "minimal_es.html").exists()
    assert result.runs[1].parameters == {"as_of": "2025-02-28"}  # YAML date -> ISO text
    assert '<html lang="es">' in (tmp_path / "out" / "minimal_es" / "minimal_es.html").read_text()
    # the batch's lang sets the index's labels and <html lang>
    index = (tmp_path / "out" / "index.html").read_text()
    assert '<html lang="es">' in index and "<th>Informe</th>" in index
    assert '<span class="failed">fallido</span>' in index and "Historial de ejecuciones" in index
    frame = result.to_frame()
    assert list(frame["report"]) == ["fixture_report_with_typo_missing", "minimal_report",
                                     "minimal_es"]
    with pytest.raises(ReportError, match="no report named"):
        run_batch(path, only=["nope"])


def test_index_language_defaults_to_english_and_follows_the_latest_batch():
    from collections_lab.reporting.index import index_language, render_index

    runs = [{"report": "a", "status": "ok", "html": "a/a.html", "duration_s": 1.5}]
    page = render_index(runs)
    assert '<html lang="en">' in page and "<th>Report</th>" in page and "1.5 s" in page
    runs.append({**runs[0], "index_lang": "es"})
    assert index_language(runs) == "es"
    page = render_index(runs)
    assert '<html lang="es">' in page and "1,5 s" in page and "Informes de cobranza" in page
    runs.append({**runs[0], "index_lang": None})  # a single report run keeps the language
    assert index_language(runs) == "es"
    assert '<html lang="en">' in render_index(runs, lang="en")


def test_sigterm_stops_a_parallel_batch_within_5_s_and_starts_nothing_queued(tmp_path):
    import json
    import os
    import signal
    import subprocess
    import sys
    import time

    path = tmp_path / "batch.yml"
    path.write_text(
        f"notebooks_dir: {FIXTURES}\nreports_dir: out\njobs: 2\n"
        "reports:\n"
        "  - {notebook: fixture_report, report: one, parameters: {sleep: 60}}\n"
        "  - {notebook: fixture_report, report: two, parameters: {sleep: 60}}\n"
        "  - {notebook: minimal_report, report: three}\n")
    proc = subprocess.Popen([sys.executable, "-m", "collections_lab.cli", "run-batch",
                             str(path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=os.environ.copy())
    out = tmp_path / "out"
    deadline = time.monotonic() + 90
    while len(list(out.glob("*/.*.running-*"))) < 2:
        assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read()
        time.sleep(0.3)
    time.sleep(1.5)
    proc.send_signal(signal.SIGTERM)
    sent = time.monotonic()
    _, err = proc.communicate(timeout=60)
    assert time.monotonic() - sent < 5.0, err
    assert proc.returncode == 143, err
    assert "Task exception was never retrieved" not in err and "Traceback" not in err, err
    assert "not started: three" in err
    time.sleep(3)  # nothing queued starts later either
    runs = json.loads((out / "runs.json").read_text())["runs"]
    assert sorted((r["report"], r["error_kind"]) for r in runs) == [
        ("one", "terminated"), ("two", "terminated")]
    assert not (out / "three").exists()
    assert not [p for p in out.rglob("*") if ".running-" in p.name or p.name.endswith(".tmp")]

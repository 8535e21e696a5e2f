"""Runner tests: real papermill runs of small fixture notebooks (a kernel start each).

One good run is shared by the module; each failure test copies its reports directory and
checks that the failure leaves the published report untouched and says what went wrong.
"""

import errno
import hashlib
import json
import shutil
from pathlib import Path

import pytest

from collections_lab.reporting.export import check_static
from collections_lab.reporting.runner import find_notebook, notebook_title, run_report

FIXTURES = Path(__file__).parent / "fixtures" / "notebooks"
XSS = "<script>alert(1)</script>"


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    reports = tmp_path_factory.mktemp("reports")
    result = run_report("fixture_report", {"customer": XSS, "lang": "en"},
                        notebooks_dir=FIXTURES, reports_dir=reports, timeout=60)
    assert result.ok, result.error
    return reports, result


def test_good_run_publishes_html_without_code_with_summary_and_figure(good):
    reports, result = good
    page = (reports / result.html).read_text()
    body = page.split("<main>", 1)[1]
    assert result.html == "fixture_report/fixture_report.html"
    assert (reports / "fixture_report" / "fixture_report.ipynb").exists()
    # no code: neither the source nor code-cell input areas nor prompts
    assert "import matplotlib" not in page and "show_summary(" not in page
    assert 'class="highlight' not in body and "jp-InputPrompt" not in body
    assert "Executive summary" in body
    assert body.count("<img") == 1 and 'src="data:image/png;base64,' in body
    assert 'alt="&lt;script&gt;alert(1)&lt;/script&gt;"' in body  # alt = the axes title
    # the warning went to stderr: counted, kept in the notebook, left out of the page
    assert "a warning that stays out" not in page
    assert result.n_stderr_outputs == 1
    assert check_static(page) == []
    assert result.html_bytes == len(page.encode()) < 60_000
    assert result.title == "Fixture report"
    assert result.as_of == "2025-06-30"  # recorded by the notebook via report_record


def test_data_derived_text_is_escaped(good):
    reports, result = good
    page = (reports / result.html).read_text()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert XSS not in page


def test_index_lists_the_report(good):
    reports, _ = good
    index = (reports / "index.html").read_text()
    assert 'href="fixture_report/fixture_report.html"' in index
    assert 'href="fixture_report/fixture_report.ipynb"' in index  # the executed notebook
    assert "Fixture report" in index and "2025-06-30" in index
    assert "customer=&lt;script&gt;" in index and XSS not in index
    assert '<span class="ok">ok</span>' in index
    assert check_static(index) == []
    runs = json.loads((reports / "runs.json").read_text())["runs"]
    assert runs[-1]["status"] == "ok" and runs[-1]["duration_s"] > 0


FAILURES = [
    pytest.param({"fail": True}, "error", "ValueError: boom", True, id="raises"),
    pytest.param({"sleep": 30}, "timeout", "timeout", True, id="timeout"),
    pytest.param({"crash": True}, "dead_kernel", "kernel died", True, id="dead-kernel"),
    pytest.param({"cusomer": "x"}, "bad_request", "did you mean 'customer'", False,
                 id="unknown-parameter"),
    pytest.param({"data": "no/such/file.csv"}, "bad_request", "file not found", False,
                 id="missing-data"),
]


@pytest.mark.parametrize("params, kind, message, kept_notebook", FAILURES)
def test_failure_keeps_last_good_report(good, tmp_path, params, kind, message,
                                        kept_notebook):
    reports = tmp_path / "reports"
    shutil.copytree(good[0], reports)
    html = reports / "fixture_report" / "fixture_report.html"
    ipynb = html.with_suffix(".ipynb")
    before = (_sha(html), _sha(ipynb))

    result = run_report("fixture_report", params, notebooks_dir=FIXTURES,
                        reports_dir=reports, timeout=2)

    assert result.status == "failed" and result.error_kind == kind
    assert message in result.error
    assert (_sha(html), _sha(ipynb)) == before
    failed = reports / "fixture_report" / "fixture_report.failed.ipynb"
    assert failed.exists() == kept_notebook
    assert not list(reports.rglob("*.running-*")) and not list(reports.rglob("*.tmp"))
    index = (reports / "index.html").read_text()
    assert '<span class="failed">failed</span>' in index
    assert 'href="fixture_report/fixture_report.html"' in index  # last good still linked
    assert "showing the last good report" in index
    runs = json.loads((reports / "runs.json").read_text())["runs"]
    assert [r["status"] for r in runs[-2:]] == ["ok", "failed"]
    assert message in runs[-1]["error"]


def test_rerun_is_idempotent_and_ignores_foreign_kernelspecs(tmp_path, monkeypatch):
    # A python3 kernelspec from "another environment" must not be used.
    spec = tmp_path / "jupyter" / "kernels" / "python3"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps(
        {"argv": ["/nonexistent/python", "-m", "ipykernel_launcher", "-f", "{connection_file}"],
         "display_name": "Other env", "language": "python"}))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    reports = tmp_path / "reports"
    files = []
    for _ in range(2):
        result = run_report("minimal_report", {"as_of": "2025-01-31"}, notebooks_dir=FIXTURES,
                            reports_dir=reports, timeout=30)
        assert result.ok, result.error
        files.append(sorted(p.relative_to(reports).as_posix() for p in reports.rglob("*")))
    assert files[0] == files[1]
    assert "minimal_report/minimal_report.html" in files[0]
    index = (reports / "index.html").read_text()
    main_table = index.split("<h2>Run history</h2>")[0]
    assert main_table.count('href="minimal_report/minimal_report.html"') == 1
    assert "2025-01-31" in main_table  # as-of taken from the parameter


def test_missing_notebook_is_reported_clearly(tmp_path):
    result = run_report("05_strategy_lab", {}, notebooks_dir=FIXTURES, reports_dir=tmp_path)
    assert result.status == "failed"
    assert "notebook '05_strategy_lab' not found" in result.error
    assert "fixture_report" in result.error  # lists what is available
    with pytest.raises(Exception, match="did you mean|Did you mean"):
        find_notebook("fixture_reprt", FIXTURES)


def test_bad_report_name_and_unreadable_notebook_are_refused(tmp_path):
    result = run_report("minimal_report", {}, report="../escape", notebooks_dir=FIXTURES,
                        reports_dir=tmp_path / "reports")
    assert result.status == "failed" and "report name '../escape'" in result.error
    assert not (tmp_path / "escape").exists()
    (tmp_path / "broken.ipynb").write_text("{not json")
    result = run_report(tmp_path / "broken.ipynb", {}, reports_dir=tmp_path / "reports")
    assert result.status == "failed" and result.error_kind == "bad_request"
    assert "broken" in (tmp_path / "reports" / "index.html").read_text()


def test_title_from_metadata_then_heading():
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("intro\n\n## The **cash** report")]
    assert notebook_title(nb) == "The cash report"
    nb.metadata["collections_lab"] = {"title": {"en": "Cash", "es": "Caja"}}
    assert notebook_title(nb, "es") == "Caja"


def test_report_kernels_draw_inline_whatever_the_schedulers_backend(monkeypatch):
    from collections_lab.reporting.runner import kernel_manager_class

    monkeypatch.setenv("MPLBACKEND", "Agg")
    manager = kernel_manager_class()(kernel_name="python3")
    assert manager.kernel_spec.env["MPLBACKEND"] == "module://matplotlib_inline.backend_inline"


def test_sigterm_records_failure_cleans_up_and_keeps_last_good(good, tmp_path):
    # Airflow stops a timed-out task with SIGTERM: the run must end like Ctrl-C would.
    import os
    import signal
    import subprocess
    import sys
    import time

    reports = tmp_path / "reports"
    shutil.copytree(good[0], reports)
    html = reports / "fixture_report" / "fixture_report.html"
    before = (_sha(html), _sha(html.with_suffix(".ipynb")))
    proc = subprocess.Popen(
        [sys.executable, "-m", "collections_lab.cli", "report", "fixture_report",
         "-p", "sleep", "60", "--notebooks", str(FIXTURES), "--reports-dir", str(reports)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=os.environ.copy())
    deadline = time.monotonic() + 60
    while not list((reports / "fixture_report").glob(".*.running-*")):
        assert proc.poll() is None and time.monotonic() < deadline, "the run never started"
        time.sleep(0.2)
    time.sleep(1.5)  # the kernel is now inside time.sleep(60)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 143, err
    assert "SIGTERM" in err
    assert (_sha(html), _sha(html.with_suffix(".ipynb"))) == before
    leftovers = [p.name for p in reports.rglob("*") if ".running-" in p.name
                 or p.name.endswith(".tmp")]
    assert leftovers == []
    runs = json.loads((reports / "runs.json").read_text())["runs"]
    assert runs[-1]["status"] == "failed" and runs[-1]["error_kind"] == "terminated"
    assert (reports / "fixture_report" / "fixture_report.failed.ipynb").exists()
    assert "showing the last good report" in (reports / "index.html").read_text()


def test_failure_in_the_middle_of_publishing_leaves_the_old_pair(good, tmp_path, monkeypatch):
    # The notebook is renamed before the HTML: if the HTML rename fails, the new
    # notebook must not stay beside the old page.
    from collections_lab.reporting import runner

    reports = tmp_path / "reports"
    shutil.copytree(good[0], reports)
    html = reports / "fixture_report" / "fixture_report.html"
    before = (_sha(html), _sha(html.with_suffix(".ipynb")))
    real = runner._replace

    def failing(src, dst):
        if str(dst).endswith(".html"):
            raise OSError(errno.ENOSPC, "No space left on device", str(dst))
        return real(src, dst)

    monkeypatch.setattr(runner, "_replace", failing)
    result = run_report("fixture_report", {"customer": "Other Ltd"}, notebooks_dir=FIXTURES,
                        reports_dir=reports, timeout=60)
    assert result.status == "failed" and result.error_kind == "unwritable"
    assert result.error == f"cannot write the report: No space left on device ({html})"
    assert (_sha(html), _sha(html.with_suffix(".ipynb"))) == before
    assert (reports / "fixture_report" / "fixture_report.failed.ipynb").exists()
    assert not [p for p in reports.rglob("*") if p.name.endswith(".tmp")
                or ".running-" in p.name]


def test_files_the_notebook_hands_over_are_published_and_linked(tmp_path):
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    params = nbformat.v4.new_code_cell("rows = 3")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Hand-over"),
        params,
        nbformat.v4.new_code_cell(
            "from collections_lab.reporting.notebook import report_file, show_file_link\n"
            "path = report_file('out.csv')\n"
            "path.write_text('a\\n' + '\\n'.join(map(str, range(rows))) + '\\n')\n"
            "show_file_link(path, 'the rows')"),
    ]
    folder = tmp_path / "nbs"
    folder.mkdir()
    nbformat.write(nb, folder / "handover.ipynb")
    reports = tmp_path / "reports"
    result = run_report("handover", {"rows": 2}, notebooks_dir=folder, reports_dir=reports,
                        timeout=60)
    assert result.ok, result.error
    assert (reports / "handover" / "out.csv").read_text() == "a\n0\n1\n"
    assert result.files == {"out.csv": "handover/out.csv"}
    assert '<a href="out.csv">out.csv</a>' in (reports / result.html).read_text()
    assert 'href="handover/out.csv"' in (reports / "index.html").read_text()
    # a failed run keeps the published file as it was
    failed = run_report("handover", {"rows": "x"}, notebooks_dir=folder, reports_dir=reports,
                        timeout=60)
    assert not failed.ok
    assert (reports / "handover" / "out.csv").read_text() == "a\n0\n1\n"
    assert not [p for p in reports.rglob("*") if p.name.endswith(".tmp")]

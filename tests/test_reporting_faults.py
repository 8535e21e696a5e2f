"""Runner faults (issue 14): no secrets echoed on published pages, unwritable reports,
stale files of killed runs, stops and bad input ending in one line and a recorded run.

Most cases fail before a kernel starts; three need a real kernel (marked in their names).
"""

import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from collections_lab.cli import main
from collections_lab.data.loading import load_portfolio
from collections_lab.data.mapping import ColumnMapping, MappingError
from collections_lab.reporting.runner import clean_stale_files, run_report

ROOT = Path(__file__).parents[1]
FIXTURES = Path(__file__).parent / "fixtures" / "notebooks"
NOTEBOOKS = ROOT / "notebooks"
SAMPLE = ROOT / "data" / "sample"
SHADOW = "\n".join(["root:$6$Zx9secretHASH:20228:0:99999:7:::",
                    "daemon:*:20228:0:99999:7:::", "postgres:!:20593::::::"]) + "\n"


def _published(reports: Path) -> str:
    """Everything a reader of the reports directory's pages sees."""
    return (reports / "index.html").read_text() + (reports / "runs.json").read_text()


# --- 8. errors on published pages name the problem, never contents or listings ---------

def test_a_mapping_that_is_not_yaml_is_refused_before_it_is_read(tmp_path, capsys):
    code = main(["report", "01_portfolio_health", "-p", "mapping", "/etc/shadow",
                 "--notebooks", str(NOTEBOOKS), "--reports-dir", str(tmp_path)])
    assert code == 1
    err = capsys.readouterr().err
    assert "parameter 'mapping' must be a preset name or a YAML mapping file" in err
    run = json.loads((tmp_path / "runs.json").read_text())["runs"][-1]
    assert run["status"] == "failed" and run["error_kind"] == "bad_request"


def test_a_yaml_file_that_is_not_a_mapping_is_described_not_copied(tmp_path):
    fake = tmp_path / "shadow.yml"
    fake.write_text(SHADOW)
    with pytest.raises(MappingError) as caught:
        ColumnMapping.coerce(str(fake))
    text = str(caught.value).removeprefix(str(fake))
    assert "(3 that do not look like mapping keys: is this a mapping file?)" in text
    assert "root" not in text and "secretHASH" not in text and "daemon" not in text
    # an honest typo is still named
    typo = tmp_path / "typo.yml"
    typo.write_text("separtor: ';'\n")
    with pytest.raises(MappingError, match=r"unknown key\(s\) \['separtor'\]"):
        ColumnMapping.coerce(str(typo))
    # a file YAML cannot parse: position and problem, not the offending line
    broken = tmp_path / "broken.yml"
    broken.write_text("a: b\n  secret: [unclosed\n")
    with pytest.raises(MappingError) as caught:
        ColumnMapping.coerce(str(broken))
    assert "not valid YAML at line" in str(caught.value) and "unclosed" not in str(caught.value)


def test_a_data_file_that_is_not_data_is_refused_before_it_is_read(tmp_path, capsys):
    fake = tmp_path / "shadow"
    fake.write_text(SHADOW)
    mapping = tmp_path / "m.yml"
    mapping.write_text("absent: [payments]\n")  # would read it as a flat export
    code = main(["report", "01_portfolio_health", "-p", "data", str(fake), "-p", "mapping",
                 str(mapping), "--notebooks", str(NOTEBOOKS), "--reports-dir",
                 str(tmp_path / "reports")])
    err = capsys.readouterr().err
    assert code == 1 and f"parameter 'data': {fake} is not a data file" in err
    assert "secretHASH" not in _published(tmp_path / "reports") and "root:" not in err


def _secret_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "etc"
    folder.mkdir()
    for name in ("shadow", "id_rsa", "passwd", "payments_2026-05.csv"):
        (folder / name).write_text("x\n")
    return folder


def test_a_folder_without_tables_lists_table_files_only(tmp_path):
    folder = _secret_dir(tmp_path)
    with pytest.raises(Exception) as caught:
        load_portfolio(folder)
    text = str(caught.value)
    assert "table files found: payments_2026-05.csv (and 3 other files not named here)" in text
    assert "shadow" not in text and "id_rsa" not in text and "passwd" not in text


def test_kernel_data_folder_listing_never_reaches_index_or_run_log(tmp_path):
    folder = _secret_dir(tmp_path)
    (tmp_path / "work").mkdir()
    reports = tmp_path / "reports"
    result = run_report("01_portfolio_health", {"data": "../etc"}, notebooks_dir=NOTEBOOKS,
                        reports_dir=reports, base_dir=tmp_path / "work", timeout=120)
    assert result.status == "failed" and "no file for table" in result.error
    page = _published(reports)
    assert "other files not named here" in page
    for secret in ("shadow", "id_rsa", "passwd"):
        assert secret not in page
    assert str(folder.resolve()) in page  # the problem is named: which folder


def test_published_errors_are_capped():
    from collections_lab.reporting.runner import MAX_ERROR_CHARS, public_error

    text = public_error("line\n" * 1000)
    assert len(text) < MAX_ERROR_CHARS + 60 and text.endswith("has it all)")


# --- 10. read-only or full reports directory --------------------------------------------

def test_reports_dir_that_is_a_file_fails_in_one_line(tmp_path, capsys):
    blocker = tmp_path / "reports"
    blocker.write_text("not a directory")
    code = main(["report", "minimal_report", "--notebooks", str(FIXTURES),
                 "--reports-dir", str(blocker)])
    err = capsys.readouterr().err
    assert code == 1 and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err
    assert f"cannot write reports to {blocker}" in err
    assert "the run could not be recorded" in err


def test_full_disk_stops_a_batch_before_it_runs_with_one_line(tmp_path, monkeypatch, capsys):
    from collections_lab.data import files

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(files.tempfile, "mkstemp", full)
    path = tmp_path / "batch.yml"
    path.write_text(f"notebooks_dir: {FIXTURES}\nreports_dir: out\n"
                    "reports: [minimal_report, {notebook: minimal_report, report: b}]\n")
    assert main(["run-batch", str(path)]) == 1
    err = capsys.readouterr().err
    assert err == (f"collections-lab: cannot write reports to {tmp_path / 'out'}: "
                   "No space left on device\n")


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EROFS])
def test_full_or_read_only_disk_fails_a_single_report_without_raising(tmp_path, monkeypatch,
                                                                     code):
    from collections_lab.data import files

    def refuse(*args, **kwargs):
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(files.tempfile, "mkstemp", refuse)
    result = run_report("minimal_report", {}, notebooks_dir=FIXTURES, reports_dir=tmp_path)
    assert result.status == "failed" and result.error_kind == "unwritable"
    assert result.error.startswith(f"cannot write reports to {tmp_path}: {os.strerror(code)}")
    assert "the run could not be recorded" in result.error
    assert not list(tmp_path.rglob("*.html"))


def test_unwritable_report_folder_is_recorded_and_index_not_ok(tmp_path):
    reports = tmp_path / "reports"
    reports.mkdir()
    good = {"report": "minimal_report", "status": "ok", "html": "minimal_report/x.html",
            "started_at": "2026-01-01T00:00:00+00:00", "duration_s": 1.0}
    (reports / "runs.json").write_text(json.dumps({"version": 1, "runs": [good]}))
    (reports / "minimal_report").write_text("a file where the report folder should be")
    result = run_report("minimal_report", {}, notebooks_dir=FIXTURES, reports_dir=reports)
    assert result.status == "failed" and result.error_kind == "unwritable"
    assert result.error.startswith(f"cannot write reports to {reports / 'minimal_report'}")
    runs = json.loads((reports / "runs.json").read_text())["runs"]
    assert runs[-1]["status"] == "failed"
    index = (reports / "index.html").read_text().split("<h2>")[0]
    assert '<span class="failed">failed</span>' in index
    assert '<span class="ok">' not in index


# --- 11. stale files of killed runs --------------------------------------------------------

def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_stale_files_of_dead_processes_are_removed_live_ones_kept(tmp_path):
    dead, live = _dead_pid(), os.getpid()
    out = tmp_path / "r1"
    out.mkdir()
    stale = [out / f".r1.running-{dead}.ipynb", tmp_path / f".index.html.pid{dead}-ab12.tmp",
             out / f".r1.html.previous-{dead}.tmp", tmp_path / f".write-check-{dead}"]
    for path in stale:
        path.write_text("x")
    (out / f".r1.staging-{dead}.tmp").mkdir()
    (out / f".r1.staging-{dead}.tmp" / "assignments.csv").write_text("x")
    kept = [out / f".r1.running-{live}.ipynb", out / "r1.html", tmp_path / ".lock",
            out / "r1.failed.ipynb"]
    for path in kept:
        path.write_text("x")
    removed = clean_stale_files(tmp_path)
    assert len(removed) == 5
    assert all(p.exists() for p in kept)
    assert not any(p.exists() for p in stale) and not (out / f".r1.staging-{dead}.tmp").exists()


def test_kernel_kill_9_leftovers_are_cleaned_by_the_next_run(tmp_path):
    reports = tmp_path / "reports"
    proc = subprocess.Popen([sys.executable, "-m", "collections_lab.cli", "report",
                             "fixture_report", "-p", "sleep", "60", "--notebooks", str(FIXTURES),
                             "--reports-dir", str(reports)], env=os.environ.copy(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 90
    while not list(reports.glob("*/.*.running-*")):
        assert proc.poll() is None and time.monotonic() < deadline
        time.sleep(0.3)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    left = [p.name for p in (reports / "fixture_report").iterdir()]
    assert any(".running-" in n for n in left) and any(".staging-" in n for n in left)
    # the next run of any report (here one that fails at once) cleans up
    run_report("no_such_notebook", {}, notebooks_dir=FIXTURES, reports_dir=reports)
    assert list((reports / "fixture_report").iterdir()) == []


# --- 12. clear messages, failed runs recorded ----------------------------------------------

def test_an_impossible_as_of_is_one_line_and_a_recorded_run(tmp_path, capsys):
    code = main(["report", "minimal_report", "-p", "as_of", "2025-02-30", "--notebooks",
                 str(FIXTURES), "--reports-dir", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 1 and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert "as_of" in err and "2025-02-30" in err
    run = json.loads((tmp_path / "runs.json").read_text())["runs"][-1]
    assert run["status"] == "failed" and "2025-02-30" in run["error"]


def test_an_impossible_date_in_a_batch_file_is_a_recorded_failed_run(tmp_path, capsys):
    path = tmp_path / "b.yml"
    path.write_text(f"notebooks_dir: {FIXTURES}\nreports_dir: out\n"
                    "parameters: {as_of: 2025-02-30}\nreports: [minimal_report]\n")
    assert main(["run-batch", str(path)]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and "2025-02-30" in err
    run = json.loads((tmp_path / "out" / "runs.json").read_text())["runs"][-1]
    assert run["status"] == "failed" and run["error_kind"] == "bad_request"


def test_an_unexpected_error_is_one_line_unless_debugging(tmp_path, capsys, monkeypatch):
    import collections_lab.reporting.batch as batch

    def broken(*args, **kwargs):
        raise RuntimeError("something\nunexpected")

    monkeypatch.setattr(batch, "load_batch", broken)
    assert main(["run-batch", str(tmp_path / "b.yml")]) == 1
    err = capsys.readouterr().err
    assert err.strip() == ("collections-lab: RuntimeError: something unexpected "
                           "(set COLLECTIONS_LAB_DEBUG=1 for the traceback)")
    monkeypatch.setenv("COLLECTIONS_LAB_DEBUG", "1")
    with pytest.raises(RuntimeError):
        main(["run-batch", str(tmp_path / "b.yml")])


def test_kernel_header_only_invoices_is_a_recorded_failed_run_in_one_line(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(SAMPLE, data)
    header = (data / "invoices.csv").read_text().splitlines()[0]
    (data / "invoices.csv").write_text(header + "\n")
    proc = subprocess.run([sys.executable, "-m", "collections_lab.cli", "report",
                           "01_portfolio_health", "-p", "data", str(data), "--notebooks",
                           str(NOTEBOOKS), "--reports-dir", str(tmp_path / "reports")],
                          capture_output=True, text=True, env=os.environ.copy(), timeout=300)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert proc.stderr.startswith("FAILED  01_portfolio_health")
    run = json.loads((tmp_path / "reports" / "runs.json").read_text())["runs"][-1]
    assert run["status"] == "failed" and run["error"]

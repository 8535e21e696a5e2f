"""The collections-lab command: exit codes and messages (one small kernel run)."""

import subprocess
import sys
import types
from pathlib import Path

from collections_lab.cli import main

FIXTURES = Path(__file__).parent / "fixtures" / "notebooks"


def test_list_shows_notebooks_and_parameters(capsys):
    assert main(["list", "--notebooks", str(FIXTURES)]) == 0
    out = capsys.readouterr().out
    assert "fixture_report  —  Fixture report" in out
    assert 'customer="Acme Ltd"' in out and "pseudonymise=False" in out


def test_report_unknown_parameter_exits_1_with_message(tmp_path, capsys):
    code = main(["report", "minimal_report", "-p", "lnag", "es", "--notebooks", str(FIXTURES),
                 "--reports-dir", str(tmp_path)])
    assert code == 1
    assert "unknown parameter 'lnag' (did you mean 'lang'?)" in capsys.readouterr().err
    assert "failed" in (tmp_path / "index.html").read_text()


def test_report_ok_exits_0(tmp_path, capsys):
    code = main(["report", "minimal_report", "-p", "as_of", "2025-05-31", "--report", "mini",
                 "--notebooks", str(FIXTURES), "--reports-dir", str(tmp_path)])
    assert code == 0, capsys.readouterr().err
    assert "mini/mini.html" in capsys.readouterr().out
    assert (tmp_path / "mini" / "mini.html").exists()


def test_run_batch_missing_file_exits_1(tmp_path, capsys):
    assert main(["run-batch", str(tmp_path / "none.yml")]) == 1
    assert "batch file not found" in capsys.readouterr().err


def test_sample_data_calls_write_sample_lazily(tmp_path, monkeypatch, capsys):
    calls = []
    fake = types.ModuleType("collections_lab.model.sample_data")
    fake.write_sample = lambda out, **kw: calls.append((out, kw)) or [out / "invoices.csv"]
    monkeypatch.setitem(sys.modules, "collections_lab.model.sample_data", fake)
    assert main(["sample-data", "--out", str(tmp_path), "--seed", "7"]) == 0
    assert calls == [(tmp_path, {"seed": 7})]


def test_console_script_is_installed():
    exe = Path(sys.executable).parent / "collections-lab"
    out = subprocess.run([str(exe), "--help"], capture_output=True, text=True, check=True)
    assert "run-batch" in out.stdout and "sample-data" in out.stdout

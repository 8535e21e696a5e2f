"""When the simulator shows a progress bar: for people watching, never in reports or logs."""

import sys

import pytest

from collections_lab.model.simulation import BLOCK, REPORT_ENV, _progress

LONG = 10 * BLOCK + 1


@pytest.fixture
def quiet_stderr(monkeypatch):
    """A non-terminal stderr and no Jupyter kernel: a cron job or a CI log."""
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False, raising=False)
    monkeypatch.delitem(sys.modules, "ipykernel", raising=False)
    monkeypatch.delenv(REPORT_ENV, raising=False)


def test_off_by_default_in_a_non_interactive_run(quiet_stderr):
    assert _progress(None, LONG) is None


def test_on_for_a_long_run_in_a_terminal(quiet_stderr, monkeypatch):
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    bar = _progress(None, LONG)
    assert bar is not None and bar.total == LONG
    bar.close()
    assert _progress(None, LONG - 2) is None  # short runs never show one


def test_on_in_jupyterlab_but_not_in_a_report_kernel(quiet_stderr, monkeypatch):
    monkeypatch.setitem(sys.modules, "ipykernel", object())
    bar = _progress(None, LONG)
    assert bar is not None
    bar.close()
    monkeypatch.setenv(REPORT_ENV, "1")
    assert _progress(None, LONG) is None


def test_explicit_choice_wins(quiet_stderr):
    bar = _progress(True, 10)
    assert bar is not None
    bar.close()
    assert _progress(False, LONG) is None


def test_report_kernels_are_marked_as_reports():
    from collections_lab.reporting.runner import _kernel_manager_class

    manager = _kernel_manager_class()()
    assert manager.kernel_spec.env[REPORT_ENV] == "1"

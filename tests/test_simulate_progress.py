"""When the simulator shows a progress bar: for people watching, never in reports or logs."""

import sys

import pytest

from collections_lab.model.simulation import BLOCK, REPORT_ENV, progress_bar

LONG = 10 * BLOCK + 1


@pytest.fixture
def quiet_stderr(monkeypatch):
    """A non-terminal stderr and no Jupyter kernel: a cron job or a CI log."""
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False, raising=False)
    monkeypatch.delitem(sys.modules, "ipykernel", raising=False)
    monkeypatch.delenv(REPORT_ENV, raising=False)


def test_off_by_default_in_a_non_interactive_run(quiet_stderr):
    assert progress_bar(None, LONG) is None


def test_on_for_a_long_run_in_a_terminal(quiet_stderr, monkeypatch):
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    bar = progress_bar(None, LONG)
    assert bar is not None and bar.total == LONG
    bar.close()
    assert progress_bar(None, LONG - 2) is None  # short runs never show one


def test_on_in_jupyterlab_but_not_in_a_report_kernel(quiet_stderr, monkeypatch):
    monkeypatch.setitem(sys.modules, "ipykernel", object())
    bar = progress_bar(None, LONG)
    assert bar is not None
    bar.close()
    monkeypatch.setenv(REPORT_ENV, "1")
    assert progress_bar(None, LONG) is None


def test_explicit_choice_wins(quiet_stderr):
    bar = progress_bar(True, 10)
    assert bar is not None
    bar.close()
    assert progress_bar(False, LONG) is None


def test_report_kernels_are_marked_as_reports():
    from collections_lab.reporting.runner import kernel_manager_class

    manager = kernel_manager_class()()
    assert manager.kernel_spec.env[REPORT_ENV] == "1"

"""`collections-lab check` says which reports an export can feed (issue 20)."""

from pathlib import Path

import pytest

from collections_lab.cli import main
from collections_lab.data.drafting import draft_mapping
from collections_lab.reporting.check import check_data

EXPORTS = Path(__file__).parent / "fixtures" / "exports"
SAMPLE = Path(__file__).parents[1] / "data" / "sample"


def _draft(tmp_path, name):
    return draft_mapping(EXPORTS / name).write(tmp_path / "mapping.yml")


def test_sample_can_feed_every_report():
    check = check_data(SAMPLE)
    assert all(check.can_run.values())
    text = "\n".join(check.lines())
    assert "Currencies: COP" in text and "assignments: 2,000 read" in text


def test_flat_export_names_what_each_report_needs(tmp_path):
    check = check_data(EXPORTS / "flat_settled" / "export.csv", _draft(tmp_path, "flat_settled/export.csv"))
    assert check.can_run == {"01_portfolio_health": True, "02_time_to_payment": True,
                             "03_experiment_design": False, "04_experiment_readout": False,
                             "05_strategy_lab": False}
    assert check.need("03_experiment_design") == "at least 20 customers (has 12)"
    assert "the design report writes them" in check.need("04_experiment_readout")
    assert "al menos 20 clientes (hay 12)" in check.need("03_experiment_design", "es")
    text = "\n".join(check.lines())
    assert "payments: 60 read, 60 used, 0 rejected, derived from export.csv" in text
    assert "Settled 60, open 0" in text


def test_cli_check_and_draft(tmp_path, capsys):
    out = tmp_path / "m.yml"
    assert main(["mapping", "draft", str(EXPORTS / "es_cartera" / "cartera.csv"),
                 "--out", str(out)]) == 0
    assert out.exists()
    assert main(["check", str(EXPORTS / "es_cartera" / "cartera.csv"),
                 "-p", "mapping", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "03_experiment_design     can run" in printed
    assert "04_experiment_readout    cannot run" in printed


def test_cli_check_exit_1_when_nothing_can_run(tmp_path, capsys):
    bad = tmp_path / "export.csv"
    bad.write_text("a,b\n1,2\n")
    assert main(["check", str(bad)]) == 1
    printed = capsys.readouterr().out
    assert "Cannot load" in printed
    with pytest.raises(SystemExit, match="unknown parameter"):
        main(["check", str(bad), "-p", "mapin", "x.yml"])


@pytest.mark.parametrize("name", ["flat_settled/export.csv", "es_cartera/cartera.csv"])
def test_every_report_the_check_calls_runnable_runs(name, tmp_path):
    """What `check` promises holds: each report it says can run renders on that export
    with the drafted mapping and no edit (the two fixtures differ: 12 customers with no
    segments, 37 customers with Spanish segment names)."""
    from collections_lab.reporting.runner import run_report

    mapping = _draft(tmp_path, name)
    check = check_data(EXPORTS / name, mapping)
    runnable = [r for r, ok in check.can_run.items() if ok]
    assert "01_portfolio_health" in runnable and "04_experiment_readout" not in runnable
    for report in runnable:
        run = run_report(report, {"data": str(EXPORTS / name), "mapping": str(mapping),
                                  "lang": "en"}, reports_dir=tmp_path / "reports")
        assert run.ok, (report, run.error)

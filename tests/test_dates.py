"""One date parser for every entry point (issue 13), and the date traps of issues 14 and 17.

Each trap is a test asserting the message: ambiguous and impossible dates are refused
naming the parameter, and an ``as_of`` after the data's end is refused unless asked for.
"""

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import collections_lab as cl
from collections_lab.cli import main
from collections_lab.data.dates import (
    AS_OF_GRACE_DAYS,
    DateError,
    allow_future_in_session,
    data_end,
    parse_date,
    resolve_as_of,
)
from collections_lab.reporting.batch import load_batch
from collections_lab.reporting.parameters import ParameterError, check_parameters, parse_value
from collections_lab.reporting.store import read_runs

D = pd.Timestamp
FIXTURES = Path(__file__).parent / "fixtures" / "notebooks"


def small_portfolio() -> cl.Portfolio:
    """Two EUR invoices; the data's last date is the payment of 2026-05-31."""
    inv = pd.DataFrame({"invoice_id": ["a", "b"], "customer_id": ["c", "c"],
                        "issue_date": pd.to_datetime(["2026-04-01", "2026-05-02"]),
                        "due_date": pd.to_datetime(["2026-05-01", "2026-06-01"]),
                        "amount": [100.0, 300.0], "currency": ["EUR", "EUR"]})
    pay = pd.DataFrame({"invoice_id": ["a"], "paid_at": pd.to_datetime(["2026-05-31"]),
                        "amount": [100.0]})
    return cl.Portfolio(pd.DataFrame({"customer_id": ["c"]}), inv, payments=pay)


# -- the parser --------------------------------------------------------------------------
@pytest.mark.parametrize("value", [
    "2026-05-31", " 2026-05-31 ", "2026-05-31 00:00:00", "2026-05-31T17:45:00",
    D("2026-05-31 17:45"), dt.date(2026, 5, 31), dt.datetime(2026, 5, 31, 8),
    np.datetime64("2026-05-31"), D("2026-05-31 10:00", tz="UTC"),
])
def test_iso_text_and_date_objects_give_midnight(value):
    assert parse_date(value, "as_of") == D("2026-05-31")


def test_an_explicit_order_reads_day_first_or_month_first():
    assert parse_date("01/05/2026", "x", dayfirst=True) == D("2026-05-01")
    assert parse_date("01/05/2026", "x", dayfirst=False) == D("2026-01-05")
    assert parse_date("1.5.2026", "x", dayfirst=True) == D("2026-05-01")
    assert parse_date("31-05-2026", "x", dayfirst=True) == D("2026-05-31")
    assert parse_date("31 May 2026", "x", format="%d %B %Y") == D("2026-05-31")
    with pytest.raises(DateError, match=r"x: '05/31/2026' is not a date \(there is no month 31"):
        parse_date("05/31/2026", "x", dayfirst=True)
    with pytest.raises(DateError, match="does not match the format '%d/%m/%Y'"):
        parse_date("2026-05-31", "x", format="%d/%m/%Y")


@pytest.mark.parametrize("value, message", [
    ("01/05/2026", r"as_of: '01/05/2026' is ambiguous \(1 May or 5 January 2026\); write it "
                   r"as YYYY-MM-DD \(2026-05-01 or 2026-01-05\)"),
    ("1.5.2026", r"as_of: '1.5.2026' is ambiguous \(1 May or 5 January 2026\)"),
    ("31/05/2026", r"as_of: '31/05/2026' is not written YYYY-MM-DD; read day-first it is "
                   r"2026-05-31: write 2026-05-31"),
    ("05/31/2026", r"read month-first it is 2026-05-31"),
    ("2026/05/31", r"as_of: '2026/05/31' is not written YYYY-MM-DD; write 2026-05-31"),
    ("2025-02-30", r"as_of: '2025-02-30' is not a date \(February has 28 days in 2025\); "
                   r"write it as YYYY-MM-DD"),
    ("2024-02-30", r"February has 29 days in 2024"),
    ("2026-04-31", r"April has 30 days"),
    ("2025-31-01", r"there is no month 31; YYYY-MM-DD puts the month second"),
    ("2025-13-45", r"there is no month 13\)"),
    ("2025-00-10", r"there is no month 0"),
    ("2025-01-00", r"there is no day 0"),
    ("31/31/2026", r"neither 31 nor 31 can be a month"),
    ("last tuesday", r"as_of: 'last tuesday' is not a date; write it as an ISO date"),
    (20260531, r"as_of: 20260531 is a number, not a date; .*did you mean '2026-05-31'"),
    (None, r"as_of: a date is required"),
    ("", r"as_of: a date is required"),
    (pd.NaT, r"as_of: the date is missing"),
    ([2026, 5, 31], r"as_of: \[2026, 5, 31\] \(list\) is not a date"),
])
def test_ambiguous_impossible_and_odd_values_are_refused_naming_the_parameter(value, message):
    with pytest.raises(DateError, match=message):
        parse_date(value, "as_of")


def test_date_error_is_a_value_error_and_optional_accepts_none():
    assert issubclass(DateError, ValueError)
    assert parse_date(None, "as_of", optional=True) is None
    assert parse_date("  ", "as_of", optional=True) is None


# -- the one default and the data's end -------------------------------------------------
def test_default_as_of_is_the_data_end_everywhere():
    p = small_portfolio()
    rem = pd.DataFrame({"reminder_id": ["r"], "invoice_id": ["b"],
                        "sent_at": pd.to_datetime(["2026-06-03"])})
    p.reminders = rem
    assert data_end(p.invoices, p.payments, rem) == D("2026-06-03")
    assert p.last_date == D("2026-06-03")
    assert resolve_as_of(p) == D("2026-06-03")
    # the frame-level function uses the same default (reminders count too)
    frame = cl.payment_times(p.invoices, p.payments, reminders=rem)
    assert frame.attrs["as_of"] == D("2026-06-03")
    assert p.payment_times().attrs["as_of"] == D("2026-06-03")


def test_as_of_after_the_data_end_is_refused_unless_asked_for():
    p = small_portfolio()
    limit = (D("2026-05-31") + pd.Timedelta(days=AS_OF_GRACE_DAYS)).date()
    message = (rf"as_of: 2030-01-01 is after the data's last date 2026-05-31: nothing is "
               rf"known after it .*use a date up to {limit}, or pass allow_future=True")
    with pytest.raises(DateError, match=message):
        resolve_as_of(p, "2030-01-01")
    with pytest.raises(DateError, match=message):
        p.payment_times(as_of="2030-01-01")
    assert resolve_as_of(p, "2030-01-01", allow_future=True) == D("2030-01-01")
    assert p.payment_times(as_of="2030-01-01", allow_future=True).attrs["as_of"] == D(
        "2030-01-01")
    with cl.allow_future_as_of():
        assert resolve_as_of(p, "2030-01-01") == D("2030-01-01")
    # within the grace (an export or month end some days after the last event): accepted
    assert resolve_as_of(p, str(limit)) == D(str(limit))


def test_a_declared_observation_date_has_no_grace_and_a_simulation_no_end():
    sim = cl.simulate(20, cl.example_strategies()["nudge_then_firm"], seed=1,
                      start="2025-01-01", end="2025-02-28")
    snap = sim.snapshot("2025-03-31")
    assert snap.observed_until == D("2025-03-31")
    with pytest.raises(DateError, match="after the date the data were exported 2025-03-31.*"
                                        "up to 2025-03-31"):
        snap.payment_times(as_of="2025-04-01")
    # the full simulated record holds every outcome: any later as_of is fine
    assert sim.portfolio.payment_times(as_of="2030-01-01").attrs["as_of"] == D("2030-01-01")


# -- the traps of issue 17: the public API ----------------------------------------------
@pytest.mark.parametrize("as_of, message", [
    ("01/05/2026", r"as_of: '01/05/2026' is ambiguous"),
    ("1.5.2026", r"as_of: '1.5.2026' is ambiguous"),
    ("31/05/2026", r"as_of: '31/05/2026' is not written YYYY-MM-DD; .* write 2026-05-31"),
    ("2030-01-01", r"as_of: 2030-01-01 is after the data's last date 2026-05-31"),
])
def test_aging_refuses_guessed_and_future_dates(as_of, message):
    with pytest.raises(DateError, match=message):
        cl.aging(small_portfolio(), as_of=as_of)


def test_kpis_accept_iso_and_an_explicit_future():
    p = small_portfolio()
    table = cl.aging(p, as_of="2026-05-31").to_frame()
    assert table.loc[table["bucket"] == "current", "amount"].item() == 300.0
    later = cl.aging(p, as_of="2030-01-01", allow_future=True).to_frame()
    assert later.loc[later["bucket"] == "90+", "amount"].item() == 300.0
    with pytest.raises(DateError, match=r"end: 2030-01-01 is after the data's last date"):
        cl.cei(p, "2026-04-30", "2030-01-01")
    with pytest.raises(DateError, match=r"start: '30/04/2026' is not written YYYY-MM-DD"):
        cl.cei(p, "30/04/2026", "2026-05-31")
    with pytest.raises(DateError, match=r"as_of: 2030-01-01 is after"):
        cl.kpi_report(p, "2030-01-01")
    assert set(cl.kpi_report(p, "2030-01-01", allow_future=True)) == {
        "snapshot", "aging", "at_risk", "trends"}


def test_simulate_start_in_the_wrong_order_is_a_clear_error():
    strategy = cl.example_strategies()["nudge_then_firm"]
    with pytest.raises(DateError, match=r"start: '2025-31-01' is not a date \(there is no "
                                        r"month 31; YYYY-MM-DD puts the month second\)"):
        cl.simulate(10, strategy, seed=1, start="2025-31-01", end="2025-06-30")
    with pytest.raises(DateError, match=r"end: '30/06/2025' is not written YYYY-MM-DD"):
        cl.simulate(10, strategy, seed=1, start="2025-01-01", end="30/06/2025")
    sim = cl.simulate(10, strategy, seed=1, start="2025-01-01", end="2025-01-31")
    with pytest.raises(DateError, match=r"as_of: '31/03/2025'"):
        sim.snapshot("31/03/2025")


def test_payment_times_error_carries_the_date_message():
    p = small_portfolio()
    with pytest.raises(cl.PaymentTimesError, match=r"as_of: '2026-02-30' is not a date"):
        cl.payment_times(p.invoices, p.payments, as_of="2026-02-30")


def test_report_loader_refuses_a_future_as_of_on_the_sample():
    from collections_lab.reporting.notebook import load_report_data

    with pytest.raises(DateError, match=r"as_of: 2030-01-01 is after the data's last date "
                                        r".*; in a report: -p allow_future true"):
        load_report_data(as_of="2030-01-01", show=False)
    try:
        p = load_report_data(as_of="2030-01-01", show=False, allow_future=True)
        # the report's later calls take the same as_of again: allowed for the session
        assert cl.aging(p, as_of="2030-01-01").as_of == D("2030-01-01")
    finally:
        allow_future_in_session(False)
    with pytest.raises(DateError, match="after the data's last date"):
        cl.aging(p, as_of="2030-01-01")


def test_every_report_notebook_declares_allow_future_and_passes_it_on():
    from collections_lab.reporting.runner import declared_parameters, find_notebook

    for name in ("01_portfolio_health", "02_time_to_payment", "03_experiment_design",
                 "04_experiment_readout", "05_strategy_lab"):
        notebook = find_notebook(name)
        assert declared_parameters(notebook)["allow_future"]["default"] == "False"
        assert "allow_future=allow_future" in notebook.read_text()


# -- mapping files -----------------------------------------------------------------------
def test_mapping_export_date_is_parsed_and_bounds_as_of(tmp_path):
    from collections_lab.data.mapping import ColumnMapping, MappingError

    with pytest.raises(MappingError, match=r"export_date must be an ISO date: '2025-02-30' is "
                                           r"not a date \(February has 28 days in 2025\)"):
        ColumnMapping.from_dict({"export_date": "2025-02-30"})
    # in a YAML file an impossible date is text for the parser, not a YAML crash
    (tmp_path / "map.yml").write_text("export_date: 2025-02-30\n")
    with pytest.raises(MappingError, match=r"February has 28 days in 2025"):
        ColumnMapping.from_yaml(tmp_path / "map.yml")
    small_portfolio().save(tmp_path / "data")
    p = cl.load_portfolio(tmp_path / "data", mapping={"export_date": "2026-06-05"})
    assert p.observed_until == D("2026-06-05")
    assert resolve_as_of(p, "2026-06-05") == D("2026-06-05")  # the export date itself
    with pytest.raises(DateError, match=r"after the date the data were exported 2026-06-05.*"
                                        r"up to 2026-06-05"):  # a declared date: no grace
        cl.aging(p, as_of="2026-06-06")


# -- report parameters and the CLI (issue 14 item 12) -----------------------------------
def test_parameters_keep_dates_as_text_and_check_them():
    assert parse_value("2025-02-30") == "2025-02-30"  # YAML no longer raises on it
    assert parse_value("2025-06-30") == "2025-06-30"
    declared = {"as_of": {}, "assigned_at": {}}
    with pytest.raises(ParameterError, match=r"n.ipynb: parameter as_of: '2025-02-30' is not "
                                             r"a date \(February has 28 days in 2025\)"):
        check_parameters({"as_of": "2025-02-30"}, declared, "n.ipynb")
    with pytest.raises(ParameterError, match=r"parameter as_of: '01/05/2026' is ambiguous"):
        check_parameters({"as_of": "01/05/2026"}, declared, "n.ipynb")
    with pytest.raises(ParameterError, match=r"parameter assigned_at: '2026-13-01'"):
        check_parameters({"assigned_at": "2026-13-01"}, declared, "n.ipynb")
    assert check_parameters({"as_of": dt.date(2026, 5, 31), "assigned_at": None}, declared,
                            "n.ipynb") == {"as_of": "2026-05-31", "assigned_at": None}


def test_batch_file_with_an_impossible_date_loads_and_names_it(tmp_path):
    batch = tmp_path / "weekly.yml"
    batch.write_text("parameters:\n  as_of: 2025-02-30\nreports:\n  - minimal_report\n")
    entry = load_batch(batch).entries[0]
    assert entry.parameters["as_of"] == "2025-02-30"


def test_cli_impossible_as_of_is_a_clear_message_and_a_recorded_failed_run(tmp_path, capsys):
    code = main(["report", "minimal_report", "-p", "as_of", "2025-02-30", "--notebooks",
                 str(FIXTURES), "--reports-dir", str(tmp_path)])
    assert code == 1
    err = capsys.readouterr().err
    assert ("minimal_report.ipynb: parameter as_of: '2025-02-30' is not a date (February has "
            "28 days in 2025); write it as YYYY-MM-DD") in err
    assert "Traceback" not in err
    last = read_runs(tmp_path)[-1]
    assert last["status"] == "failed" and "February has 28 days" in last["error"]
    assert "failed" in (tmp_path / "index.html").read_text()


def test_other_date_arguments_name_themselves():
    from collections_lab.experiments.metrics import MetricConfig
    from collections_lab.experiments.synthetic import synthetic_payment_times

    with pytest.raises(DateError, match=r"MetricConfig.experiment_end: '31/12/2025' is not "
                                        r"written YYYY-MM-DD"):
        MetricConfig(experiment_end="31/12/2025")
    with pytest.raises(DateError, match=r"start: '2025-31-01' is not a date"):
        synthetic_payment_times(50, seed=1, start="2025-31-01")
    experiment = cl.Experiment("e", {"a": cl.example_strategies()["nudge_then_firm"],
                                     "b": cl.example_strategies()["one_friendly_after_due"]},
                               stratify_by=None)
    customers = pd.DataFrame({"customer_id": ["c1", "c2"]})
    with pytest.raises(DateError, match=r"assigned_at: '02/03/2026' is ambiguous"):
        cl.assign(customers, experiment, "02/03/2026")
    assert (cl.assign(customers, experiment, "2026-03-02")["assigned_at"]
            == D("2026-03-02")).all()

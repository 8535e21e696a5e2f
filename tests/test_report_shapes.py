"""Every report on any valid portfolio (issue 16): a property test over portfolio shapes.

Hypothesis draws a shape (:mod:`portfolio_shapes`): a small simulated portfolio with one
segment or none, one currency, nothing open or everything open, no reminders, no
discounts, no experiment, a handful of customers, in any combination, or one of the real
flat-export fixtures. All five report notebooks run on it through the runner, as the CLI
runs them, in English or Spanish, and each must succeed and render a static page that opens with its decision
box. A report the data cannot feed says what the data lacks in that box (the data
check's words); a section that cannot be computed says why in a sentence; no page shows
a traceback, an exception name or a ``NaN`` cell.

Running five notebooks costs about 30-60 s per portfolio, so the suite runs a few
derandomized examples (the shapes most likely to break, then one drawn); the ``slow``
variant (``--runslow``) draws many more.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st
from portfolio_shapes import (
    FLAT_EXPORTS,
    FlatExport,
    Shape,
    lab_parameters,
    report_parameters,
    shapes,
    write_portfolio,
)

from collections_lab.reporting.export import check_static
from collections_lab.reporting.runner import run_report

ROOT = Path(__file__).parents[1]
NOTEBOOKS = ROOT / "notebooks"
REPORTS = ("01_portfolio_health", "02_time_to_payment", "03_experiment_design",
           "04_experiment_readout", "05_strategy_lab")
#: Fewer simulations than the defaults (the same code runs; each page is still complete).
SMALL = {"03_experiment_design": {"n_simulations": 2, "simulation_sizes": [100]},
         "05_strategy_lab": {"n_simulations": 2}}
#: How a page the data cannot feed opens its decision box.
CANNOT = {"en": "This report cannot be made from this data: it needs ",
          "es": "Este informe no se puede generar con estos datos: necesita "}
#: What a page must never show: a Python traceback or exception, a raw NaN.
TRACE = re.compile(r"Traceback|\b\w+(?:Error|Exception)\b|ReportCannotRun|<td>(?:NaN|nan)</td>")


def _visible(page: str) -> str:
    page = re.sub(r'src="data:image/png;base64,[^"]*"', 'src=""', page)
    return re.sub(r"<style.*?</style>", "", page, flags=re.S)


def _run_all(shape, folder: Path, lang: str = "en") -> dict[str, str]:
    """Run the five reports on ``shape``; returns each published page. Asserts each run
    succeeded and its page renders."""
    params = report_parameters(shape, folder / "data")
    pages = {}
    for report in REPORTS:
        extra = lab_parameters(shape) if report == "05_strategy_lab" else {}
        result = run_report(report, {**params, "lang": lang, **SMALL.get(report, {}), **extra},
                            notebooks_dir=NOTEBOOKS, reports_dir=folder / "reports",
                            timeout=300)
        assert result.ok, f"{shape}: {report}: {result.error}"
        page = (folder / "reports" / result.html).read_text(encoding="utf-8")
        assert check_static(page) == [], (shape, report)
        body = _visible(page.split("<main>", 1)[1])
        assert 'class="cl-decision"' in body, f"{shape}: {report} has no decision box"
        found = TRACE.search(body)
        assert found is None, f"{shape}: {report} shows {found.group(0)!r}"
        pages[report] = body
    return pages


def _check_shape(shape, lang: str, tmp_path_factory) -> None:
    folder = tmp_path_factory.mktemp("shape")
    pages = _run_all(shape, folder, lang)
    runs = json.loads((folder / "reports" / "runs.json").read_text())["runs"]
    stopped = {r["report"]: r["page"]["facts"]["cannot_run"] for r in runs
               if (r.get("page") or {}).get("facts", {}).get("cannot_run")}
    for report in stopped:  # said in the decision box, in words
        decision = pages[report].split('class="cl-do">', 1)[1].split("</p>", 1)[0]
        assert decision.startswith(CANNOT[lang]), (shape, report, decision)
    if isinstance(shape, Shape) and not shape.experiment:
        assert stopped.get("04_experiment_readout") == "assignments"
    if isinstance(shape, Shape) and shape.customers < 10:
        assert "03_experiment_design" in stopped


#: The shapes the issue lists, three portfolios between them: the suite's examples.
EXAMPLES = (
    FlatExport("flat_settled"),  # one segment, one currency, nothing open, no reminders
    Shape(customers=6, segments="none", one_currency=True, settled="everything_open",
          reminders=False, discounts=False, experiment=False),
    Shape(segments="one", one_currency=True, settled="nothing_open", discounts=False),
)


@settings(deadline=None, database=None, phases=[Phase.explicit],
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@example(shape=EXAMPLES[0], lang="es")
@example(shape=EXAMPLES[1], lang="en")
@example(shape=EXAMPLES[2], lang="en")
@given(shape=shapes(), lang=st.sampled_from(["en", "es"]))
def test_every_report_renders_on_the_issues_shapes(shape, lang, tmp_path_factory):
    _check_shape(shape, lang, tmp_path_factory)


@pytest.mark.slow
@settings(max_examples=25, deadline=None, derandomize=True, database=None,
          phases=[Phase.generate],
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(shape=shapes(), lang=st.sampled_from(["en", "es"]))
def test_every_report_renders_on_any_shape(shape, lang, tmp_path_factory):
    _check_shape(shape, lang, tmp_path_factory)


def test_a_report_the_data_cannot_feed_publishes_a_page_saying_why(tmp_path):
    """Issue 16: the readout on a flat export with no experiment failed with
    ExperimentDataError and published nothing. Now the run succeeds: its page opens with
    the data check's need in the decision box, in the report's language, and ends there
    (no traceback, no section computed on data it does not have)."""
    data, mapping = FLAT_EXPORTS["flat_settled"]
    result = run_report("04_experiment_readout",
                        {"data": str(data), "mapping": str(mapping), "lang": "es"},
                        notebooks_dir=NOTEBOOKS, reports_dir=tmp_path, timeout=300)
    assert result.ok, result.error
    assert result.page["facts"] == {"cannot_run": "assignments"}
    assert result.page["decision"].startswith(
        "Este informe no se puede generar con estos datos: necesita asignaciones de un "
        "experimento; el informe de diseño las escribe")
    body = _visible((tmp_path / result.html).read_text(encoding="utf-8").split("<main>", 1)[1])
    assert 'class="cl-do">Este informe no se puede generar' in body
    assert TRACE.search(body) is None and "<h2" not in body  # no section after the stop
    executed = json.loads((tmp_path / result.ipynb).read_text(encoding="utf-8"))
    outputs = [o for c in executed["cells"] for o in c.get("outputs", [])]
    assert all(o["output_type"] != "error" for o in outputs)


def test_the_flat_exports_are_the_fixtures():
    assert all(data.exists() and mapping.exists() for data, mapping in FLAT_EXPORTS.values())


def test_with_nothing_open_the_decisions_say_so(tmp_path):
    """Issue 16: on a portfolio with every invoice settled, page 01 said "Call the 0
    customers on the call list first" and page 02 "Plan on – coming in over the next four
    weeks"; each now says there is nothing to call about or to expect, and why."""
    from collections_lab.analytics.health import portfolio_health
    from collections_lab.data.loading import load_portfolio
    from collections_lab.reporting.page import health_page, payment_page
    from collections_lab.survival.report import time_to_payment_report

    portfolio = load_portfolio(write_portfolio(
        Shape(customers=20, settled="nothing_open", one_currency=True), tmp_path)["data"])
    health = portfolio_health(portfolio, churn=False)
    assert health_page(health, "en").decision.action.startswith(
        "Nobody to call: no customer has an invoice overdue enough for the call list; ")
    report = time_to_payment_report(portfolio)
    assert payment_page(report, portfolio, "es").decision.action == (
        "No hay facturas abiertas en esta fecha, así que no se espera cobro de facturas "
        "abiertas; los tiempos de pago de abajo vienen del historial saldado.")


def test_the_check_asks_the_strategy_lab_for_the_paid_history_it_calibrates_on(tmp_path):
    """Found by the full-size shapes run: 20 customers with 119 paid invoices passed the
    data check for the strategy lab (10 paid invoices asked), then its calibration failed
    (150 needed). The check now asks for the calibration's minimum, so the page says it."""
    from collections_lab.data.loading import load_portfolio
    from collections_lab.lab.calibrate import MIN_PAID_INVOICES
    from collections_lab.reporting.check import check_portfolio

    shape = Shape(customers=20, segments="one", one_currency=True, settled="nothing_open",
                  reminders=False, discounts=False, seed=354)
    check = check_portfolio(load_portfolio(write_portfolio(shape, tmp_path)["data"]))
    assert check.needs["05_strategy_lab"] == ("paid_invoices",
                                               {"min": MIN_PAID_INVOICES, "has": 118})
    assert check.can_run["01_portfolio_health"] and check.can_run["02_time_to_payment"]
    assert check.need("05_strategy_lab") == "at least 150 paid invoices (has 118)"

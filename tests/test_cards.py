"""Every public result object shows a short card in a notebook (issue 17).

Built on ``cl.load_sample()``: each object's ``_repr_html_()`` is under 20 KB, starts with
its headline (the log-rank's chi-square and p, the readout's decision, the portfolio's
size and dates ...), folds the rest in ``<details>`` and truncates long tables to
pandas' ``display.max_rows``. ``summary()`` returns a str that renders in a notebook.
"""

import html
import re
import warnings

import pandas as pd
import pytest

import collections_lab as cl
from collections_lab.experiments.decision import recommend as decision_recommend
from collections_lab.i18n import Summary
from collections_lab.reporting.tables import result_html

LIMIT = 20_000
HEAD = '<div class="cl-card"><p class="cl-headline">'


@pytest.fixture(scope="module")
def sample():
    return cl.load_sample()


@pytest.fixture(scope="module")
def results(sample):
    """One of every public result object, on the sample (small settings)."""
    warnings.simplefilter("ignore")
    p = sample
    control = p.experiment["control"]
    times = p.payment_times()
    post = times[times["issue_date"] >= times.attrs["start"]]
    out = {"Portfolio": p, "LoadReport": p.load_report}
    out["SurvivalCurves"] = cl.kaplan_meier(post, by="arm")
    out["LogRankResult"] = cl.logrank(post, by="arm")
    out["CoxResult"] = cl.fit_cox(post, ["arm"], reference={"arm": control})
    out["PHCheck"] = cl.check_proportional_hazards(out["CoxResult"])
    out["AFTResult"] = cl.fit_aft(post, ["arm"], reference={"arm": control})
    out["RMSTResult"] = cl.rmst(post, 60, by="arm")
    out["RMSTDifference"] = cl.rmst_difference(post, 60, by="arm", reference=control)
    out["CumulativeIncidence"] = cl.cumulative_incidence(post, by="arm")
    out["CureFraction"] = cl.cure_fraction(post)
    out["KPITable"] = cl.kpi_snapshot(p, "2026-05-31")
    out["Aging"] = cl.aging(p, "2026-05-31")
    out["Discipline"] = cl.payment_discipline(p, "2026-05-31")
    out["Tiers"] = cl.payer_tiers(out["Discipline"])
    out["PortfolioHealth"] = cl.portfolio_health(p, churn=False)
    out["Alerts"] = cl.behaviour_alerts(p, "2026-05-31")
    readout = cl.analyse_experiment(p, segments=False)
    out["ExperimentReadout"] = readout
    out["SRMResult"] = readout.srm
    out["Decision"] = decision_recommend(readout)
    out["ExperimentDesign"] = cl.design_experiment(p)
    out["TimeToPaymentReport"] = cl.time_to_payment_report(p)
    sim = cl.simulate(300, p.strategies["nudge_then_firm"], seed=1, start="2025-01-01",
                      end="2025-04-30", progress=False)
    out["SimulationResult"] = sim
    out["Truth"] = sim.truth
    twin = cl.Twin.from_simulation(sim, currency="EUR")
    comparison = cl.compare_strategies(
        twin, {"current": p.strategies["nudge_then_firm"],
               "quiet": p.strategies["no_reminders"]},
        reference="current", replicates=2, n_jobs=1, progress=False)
    out["StrategyComparison"] = comparison
    out["Twin"] = twin
    out["Strategy"] = p.strategies["discount_2_10_net_30"]
    out["Experiment"] = cl.sample_experiment()
    run = cl.RunResult("01_portfolio_health", "01.ipynb", "ok", duration_s=12.5,
                       html="01.html", parameters={"lang": "es"})
    out["RunResult"] = run
    out["BatchResult"] = cl.BatchResult([run, cl.RunResult("02_time_to_payment", "02.ipynb",
                                                          "failed", error="no data")])
    s = p.strategies
    space = [s["nudge_then_firm"], s["no_reminders"]]
    rec = cl.recommend(twin, s["nudge_then_firm"], space=space, replicates=2,
                       screen_replicates=1, sensitivity_replicates=0, n_jobs=1,
                       progress=False)
    out["Recommendation"] = rec
    out["Regret"] = cl.regret(rec, twin, space, replicates=2)
    proposal = cl.experiment_from_recommendation(rec, twin, icc=0.05, replicates=1)
    out["ExperimentProposal"] = proposal
    calibration = cl.Calibration(nodes=4, maxiter=30).fit(sim.snapshot("2025-06-30"))
    out["Calibration"] = calibration
    check = cl.check_twin(calibration, replicates=1)
    out["TwinCheck"] = check
    out["LabReport"] = cl.lab.report.LabReport(calibration, check, comparison, rec,
                                               proposal, "EUR")
    return out


def _text(page: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))).strip()


def test_every_card_is_short_and_starts_with_its_headline(results):
    too_long, headless = {}, {}
    for name, obj in results.items():
        page = obj._repr_html_()
        if len(page.encode()) >= LIMIT:
            too_long[name] = len(page.encode())
        headline = obj.headline()
        first = page[len(HEAD):page.index("</p>")] if page.startswith(HEAD) else ""
        if not headline or headline not in html.unescape(re.sub(r"<[^>]+>", "", first)):
            headless[name] = page[:120]
    assert too_long == {}
    assert headless == {}


def test_headlines_say_what_matters(results, sample):
    logrank = results["LogRankResult"].headline()
    assert "chi²" in logrank and "p < 0.0001" in logrank and "0.0000" not in logrank
    assert results["ExperimentReadout"].headline().startswith("Recommendation:")
    portfolio = results["Portfolio"].headline()
    assert "2,000 customers" in portfolio and "2025-01-01 to 2026-04-" in portfolio
    assert "COP, EUR, MXN, USD" in portfolio and "control friendly-1-none" in portfolio
    assert "rejected" in portfolio  # the load report's counts
    assert results["LabReport"].headline() == str(results["Recommendation"].summary())


def test_readout_card_is_a_compact_arm_by_metric_table(results):
    readout = results["ExperimentReadout"]
    table = readout.arm_metric_table()
    assert list(table.index) == [a for a in readout.arms if a != readout.control]
    assert len(table.columns) == readout.effects["metric"].nunique()
    page = readout._repr_html_()
    assert page.index("<details>") > page.index("<table")  # the table open, the rest folded


def test_long_tables_follow_pandas_display_max_rows(results):
    km = results["SurvivalCurves"]
    assert len(km.to_frame()) > 100
    rows = len(km.to_frame())
    with pd.option_context("display.max_rows", 60, "display.min_rows", 10):
        assert f"first 10 of {rows:,} rows" in _text(km._repr_html_())
    with pd.option_context("display.max_rows", 60, "display.min_rows", 25):
        assert f"first 25 of {rows:,} rows" in _text(km._repr_html_())
    with pd.option_context("display.max_rows", rows):
        assert "first" not in _text(km._repr_html_())


def test_reports_still_show_full_tables(results):
    """A report kernel's renderer (result_html) is not the card: every table, titled."""
    logrank = results["LogRankResult"]
    page = result_html(logrank, max_rows=None)
    assert 'class="cl-card"' not in page and "<table" in page


def test_summary_is_a_rich_string_everywhere(results):
    for name, obj in results.items():
        summary = getattr(obj, "summary", None)
        if not callable(summary):
            continue
        text = summary()
        assert isinstance(text, Summary) and isinstance(text, str), name
        assert text._repr_html_().startswith('<div class="cl-summary-text">'), name


def test_print_is_the_card_as_text(results):
    text = str(results["LogRankResult"])
    assert text.startswith("Log-rank test: chi²")
    assert len(repr(results["Portfolio"])) < 500 and len(repr(results["SimulationResult"])) < 500


def test_every_summary_method_returns_a_rich_summary():
    """Statically: every class of the package with a summary() is a ResultMixin, whose
    summary() is wrapped to return a Summary (a str that renders in a notebook)."""
    import importlib
    import inspect
    import pkgutil

    from collections_lab.i18n import ResultMixin

    plain, unwrapped = [], []
    for module in pkgutil.walk_packages(cl.__path__, "collections_lab."):
        mod = importlib.import_module(module.name)
        for name, obj in vars(mod).items():
            if not (inspect.isclass(obj) and obj.__module__ == mod.__name__
                    and "summary" in obj.__dict__):
                continue
            if not issubclass(obj, ResultMixin):
                plain.append(f"{mod.__name__}.{name}")
            elif not getattr(obj.__dict__["summary"], "_returns_summary", False):
                unwrapped.append(f"{mod.__name__}.{name}")
    assert plain == [] and unwrapped == []


SETTINGS = ["BehaviourModel", "ColumnMapping", "Constraints", "Discount", "Economics",
            "InstallmentOffer", "MetricConfig", "Reminder", "SequentialPlan",
            "StrategySpace", "TableMapping", "TableReport", "ValidationIssue"]


def test_settings_objects_have_a_card_saying_what_was_changed():
    """Settings objects (behaviour model, economics, reminders, mappings...) show which
    settings differ from their defaults, headline first, not a 2-KB dataclass repr."""
    for name in SETTINGS:
        assert hasattr(getattr(cl, name), "_repr_html_"), name
    card = cl.BehaviourModel()._repr_html_()
    assert card.startswith('<div class="cl-card"><p class="cl-headline"><strong>BehaviourModel')
    assert "0 of " in card and len(card.encode()) < 20_000
    changed = cl.Reminder(day=3)._repr_html_()
    assert re.search(r"[1-9]\d* of \d+ settings differ", changed)
    assert "<details>" in changed
    with cl.options(lang="es"):
        assert "parámetros difieren" in cl.Economics()._repr_html_()


def test_payment_date_predictor_card_says_what_it_was_fitted_on(sample):
    model = cl.PaymentDatePredictor(by="segment")
    assert "not fitted yet" in model._repr_html_()
    card = model.fit(sample.payment_times())._repr_html_()
    assert "4 group(s) fitted" in card and len(card.encode()) < 20_000
    unpaid = sample.payment_times()
    public = unpaid["segment"] == "public"
    unpaid.loc[public, "outcome_code"], unpaid.loc[public, "outcome"] = 0, "open"
    with pytest.warns(cl.SurvivalWarning):
        noted = cl.PaymentDatePredictor(by="segment").fit(unpaid)._repr_html_()
    assert "have no payments" in noted  # the fit's cautions are on the card

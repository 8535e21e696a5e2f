"""The assignment file of the experiment-design report (no kernel: package calls only)."""

from pathlib import Path

import pandas as pd
import pytest

from collections_lab.data.loading import load_portfolio
from collections_lab.data.schema import TABLES
from collections_lab.experiments.workflow import (
    assign_experiment,
    load_experiment,
    portfolio_in_currency,
)
from collections_lab.model.strategies import StrategyError
from collections_lab.reporting.strategies import arms_table

SAMPLE = Path(__file__).parents[1] / "data" / "sample"
ARMS = ["one_friendly_after_due", "nudge_then_firm", "discount_2_10_net_30"]


@pytest.fixture(scope="module")
def portfolio():
    return load_portfolio(SAMPLE)


def test_writes_the_schema_table_and_is_identical_on_rerun(portfolio, tmp_path):
    first = assign_experiment(portfolio, ARMS, location=SAMPLE, experiment_id="tone-2026",
                              assigned_at="2026-06-01", path=tmp_path / "a.csv")
    text = (tmp_path / "a.csv").read_text()
    again = assign_experiment(portfolio, ARMS, location=SAMPLE, experiment_id="tone-2026",
                              assigned_at="2026-06-01", path=tmp_path / "b.csv")
    assert (tmp_path / "b.csv").read_text() == text  # deterministic, byte for byte
    table = pd.read_csv(tmp_path / "a.csv", dtype=str)
    assert list(table.columns) == TABLES["assignments"].column_names
    assert len(table) == len(portfolio.customers) == table["customer_id"].nunique()
    assert set(table["customer_id"]) == set(portfolio.customers["customer_id"])  # real ids
    assert (table["assigned_at"] == "2026-06-01").all()
    assert (table["experiment_id"] == "tone-2026").all()
    assert first.path == tmp_path / "a.csv" and again.summary() == first.summary()
    # no temporary file left beside it
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.csv", "b.csv"]


def test_counts_follow_weights_within_each_segment(portfolio):
    plan = assign_experiment(portfolio, ARMS, weights=[2, 1, 1], location=SAMPLE,
                             assigned_at="2026-06-01")
    counts = plan.counts().set_index("arm")
    n = len(portfolio.customers)
    assert counts["customers"].sum() == n
    assert counts.loc[ARMS[0], "planned_share"] == 0.5
    by_segment = plan.by_segment()
    sizes = portfolio.customers["segment"].value_counts()
    for segment, row in by_segment.iterrows():
        # stratified dealing: each segment's split is the weights to within one customer
        expected = sizes[segment] * pd.Series([0.5, 0.25, 0.25], index=ARMS)
        assert (row[ARMS] - expected).abs().max() <= 1.0
    # the report's renderer labels the columns and shows shares as percentages
    from collections_lab.i18n import table_html

    page = table_html(plan.counts(), "es")
    assert "<th>Brazo</th>" in page and "<th>Proporción prevista</th>" in page
    assert "<td>50,0 %</td>" in page
    # the segment table's columns are arm names, shown as the strategies file spells them
    assert f"<th>{ARMS[0]}</th>" in table_html(plan.by_segment(), "es")
    assert "estratificado por segmento" in plan.summary("es")


def test_salt_changes_the_assignment_and_stratification_is_optional(portfolio):
    base = assign_experiment(portfolio, ARMS[:2], location=SAMPLE, assigned_at="2026-06-01")
    salted = assign_experiment(portfolio, ARMS[:2], location=SAMPLE, assigned_at="2026-06-01",
                               salt="other")
    assert (base.assignments["arm"] != salted.assignments["arm"]).mean() > 0.3
    simple = assign_experiment(portfolio, ARMS[:2], location=SAMPLE, stratify_by=None,
                               assigned_at="2026-06-01")
    assert simple.experiment.stratify_by is None
    assert abs(simple.counts()["share"].iloc[0] - 0.5) < 0.05


def test_default_date_is_the_day_after_the_data_and_preview_hides_ids(portfolio):
    plan = assign_experiment(portfolio, ARMS[:2], location=SAMPLE)
    assert plan.assigned_at == pd.Timestamp("2026-06-01")  # export date 2026-05-31
    assert plan.experiment.experiment_id == "design-2026-06-01"
    preview = plan.preview(3, pseudonymise=True)
    assert not preview["customer_id"].isin(portfolio.customers["customer_id"]).any()
    assert plan.assignments["customer_id"].isin(portfolio.customers["customer_id"]).all()
    assert "real customer ids" in plan.file_note("en")


def test_bad_arms_and_weights_are_named(portfolio):
    with pytest.raises(StrategyError, match=r"\['no_such_arm'\].*available"):
        assign_experiment(portfolio, ["one_friendly_after_due", "no_such_arm"],
                          location=SAMPLE)
    with pytest.raises(ValueError, match="at least two different arms"):
        assign_experiment(portfolio, ["nudge_then_firm"], location=SAMPLE)
    with pytest.raises(ValueError, match="one weight per arm"):
        assign_experiment(portfolio, ARMS, weights=[1, 2], location=SAMPLE)


def test_strategies_file_defines_the_arms(portfolio, tmp_path):
    yml = tmp_path / "mine.yml"
    yml.write_text("strategies:\n- name: call_first\n  description: Phone on day 1.\n"
                   "  reminders:\n  - {day: 1, tone: friendly, channel: phone}\n"
                   "- name: wait\n  description: Nothing.\n  reminders: []\n"
                   "- name: firm-3-none\n  description: Three firm emails.\n"
                   "  reminders:\n  - {day: 3, tone: firm, channel: email}\n")
    plan = assign_experiment(portfolio, ["wait", "call_first"], strategies=yml)
    assert plan.experiment.arms["call_first"].description == "Phone on day 1."
    # the readout's arms take their descriptions from the given file as well
    experiment = load_experiment(SAMPLE, portfolio, strategies=yml)
    table = arms_table(experiment)
    assert list(table["arm"]) == experiment.arm_names
    described = table.set_index("arm")["what it does"]
    # from mine.yml, in business words (the file's own English text is not shown)
    assert described["firm-3-none"] == "reminder 1: firm email 3 days after due"
    assert (described.drop("firm-3-none") == "–").all()  # not in mine.yml: name only
    spanish = arms_table(experiment, "es").set_index("brazo")["qué hace"]
    assert spanish["firm-3-none"] == ("recordatorio 1: correo en tono firme 3 días después "
                                      "del vencimiento")


def test_currency_restricts_customers_and_assignments(portfolio):
    eur = portfolio_in_currency(portfolio, "EUR")
    assert set(eur.invoices["currency"]) == {"EUR"}
    assert eur.assignments["customer_id"].isin(eur.customers["customer_id"]).all()
    assert 0 < len(eur.assignments) < len(portfolio.assignments)
    assert portfolio_in_currency(portfolio, None) is portfolio
    with pytest.raises(ValueError, match="no invoice in 'XXX'"):
        portfolio_in_currency(portfolio, "XXX")


def test_report_tables_are_labelled_in_the_report_language():
    from collections_lab.experiments.workflow import labelled

    baseline = pd.DataFrame({"quantity": ["invoices", "design_effect"],
                             "value": [7705.0, 2.783456], "unlabelled": ["x", "y"]})
    es = labelled(baseline, "es", 3)
    assert list(es.columns) == ["magnitud", "valor", "unlabelled"]  # nothing dropped
    assert list(es["magnitud"]) == ["facturas", "efecto de diseño"]
    assert es["valor"].tolist() == ["7.705", "2,78"]  # in the locale, at its precision
    assert list(labelled(baseline, "en").columns)[:2] == ["quantity", "value"]
    assert baseline["value"].iloc[1] == 2.783456  # the caller's frame is untouched

"""The strategy lab's tables as the report page shows them (page 05): business words, not
the lab's codes, and no wider than the page.

The lab's results (:mod:`collections_lab.lab`) carry codes: prior parameters
(``channel_effect[sms]``), metric names (``paid_by_due_15``), names of generated
strategies (``d+3,+14,+28 friendly sms plan@2``). Here they become catalogue words in the
report's language (:func:`~collections_lab.lab.priors.prior_label`,
:func:`~collections_lab.lab.recommend.strategy_name_label`, the ``column.<metric>``
labels); each page table shows the columns a reader needs, the whole table folded below
it. Segment values are translated by the table renderer.

Example
-------
>>> import pandas as pd
>>> frame = pd.DataFrame({"segment": ["small"], "metric": ["paid_by_due_15"],
...                       "relies_on_priors": ["channel_effect[sms], installment_accept_payer"],
...                       "recommended": ["d+3 friendly sms"]})
>>> labelled_codes(frame, "es").iloc[0].tolist()[1:3]
['Pagadas al vencimiento + 15', 'respuesta a recordatorios por sms; aceptación de planes de pago por clientes que pagarían de todos modos']
"""

from __future__ import annotations

import html
import re

import pandas as pd

from .. import i18n
from ..analytics.kpis import bucket_label
from ..lab.priors import prior_label
from ..lab.recommend import strategy_name_label

#: Columns holding strategy names (generated names are put in words).
STRATEGY_COLUMNS = ("current", "recommended", "control", "treatment", "best", "strategy",
                    "pick", "pick_unchanged_prior")
#: Columns holding metric codes (shown with their column label).
METRIC_COLUMNS = ("metric",)
#: Metrics that are shares of invoices (their values shown as percentages).
SHARE_METRICS = ("paid_by_due", "paid_by_due_15", "paid_by_due_30")
#: Aging bucket codes of the lab's aging table.
AGING_BUCKETS = ("current", "1-30", "31-60", "61-90", "90+")

#: What the page shows of each lab table (the whole table is folded below it).
RECOMMENDATION_COLUMNS = ["segment", "current", "recommended", "gain", "gain_low",
                          "gain_high", "churn_change", "paid_by_due_15_change", "dso_change",
                          "pick_changes_with_priors"]
PROPOSAL_COLUMNS = ["segment", "control", "treatment", "metric", "control_value",
                    "treatment_value", "predicted_effect", "customers_available",
                    "customers_per_arm", "weeks", "feasible"]


def labelled_codes(frame: pd.DataFrame, lang: str = "en") -> pd.DataFrame:
    """A copy of a lab table with its codes in words: strategy names, metric names,
    prior parameters (``parameter``, ``relies_on_priors``) and "(by segment)"."""
    out = frame.copy()
    for col in STRATEGY_COLUMNS:
        if col in out:
            out[col] = [i18n.t("lab.by_segment", lang) if v == "(by segment)"
                        else strategy_name_label(v, lang) if isinstance(v, str) else v
                        for v in out[col]]
    for col in METRIC_COLUMNS:
        if col in out:
            out[col] = [i18n.column_label(v, lang) if isinstance(v, str) else v
                        for v in out[col]]
    if "parameter" in out:
        out["parameter"] = [prior_label(v, lang) for v in out["parameter"]]
    if "relies_on_priors" in out:
        out["relies_on_priors"] = [
            "; ".join(prior_label(n, lang) for n in str(v).split(", ") if n)
            if isinstance(v, str) else v for v in out["relies_on_priors"]]
    if "bucket" in out:  # aging buckets in words (current -> "al día")
        out["bucket"] = [bucket_label(b, lang) if b in AGING_BUCKETS else b
                         for b in out["bucket"]]
    for col in ("simulated_invoices", "weeks"):  # means over replicates: whole numbers
        if col in out:
            out[col] = out[col].astype(float).round()
    share_metric = "metric" in frame and frame["metric"].isin(SHARE_METRICS).all()
    if share_metric and {"observed", "simulated"} <= set(out.columns):  # the twin's rates
        out = out.rename(columns={"observed": "observed_share",
                                  "simulated": "simulated_share"})
    if share_metric:  # shares as percentages, their differences in points
        for col in ("control_value", "treatment_value"):
            if col in out:
                out[col] = [i18n.format_pct(v, 1, lang) for v in out[col]]
    for col in ("difference", "predicted_effect", "churn_change", "paid_by_due_15_change"):
        if col in out and (col not in ("difference", "predicted_effect") or share_metric
                           or col == "difference" and "observed_share" in out):
            out[col] = [_points(v, lang) for v in out[col]]
    if "note" in out:
        out["note"] = [calibration_note(v, lang) for v in out["note"]]
    if "source" in out:
        out["source"] = [i18n.value_label(v, "source", lang) for v in out["source"]]
    for col in ("segments", "pick_changes_in"):  # lists of segments
        if col in out:
            out[col] = [", ".join(str(i18n.value_label(s, "segment", lang))
                                  for s in str(v).split(", ") if s)
                        if isinstance(v, str) else v for v in out[col]]
    return out


def calibration_note(note, lang: str = "en"):
    """Why the calibration kept a parameter at its prior, in ``lang`` (the calibration
    writes its reasons in English; the catalogue has each of them).

    >>> calibration_note("reminder channel never used", "es")
    'canal de recordatorio nunca usado'
    >>> calibration_note("only 12 invoices received a reminder stating a payment deadline "
    ...                  "(need 200)", "es")[:40]
    'solo 12 facturas recibieron un recordato'
    """
    if not isinstance(note, str) or not note:
        return note
    if i18n.has(note):
        return i18n.t(note, lang)
    if note.startswith("no reminder in the history stated a payment deadline"):
        return i18n.t("calib.no_deadlines", lang)
    moved = re.match(r"not identified: at a bound \(moved ([\d.]+) ", note)
    if moved:
        return i18n.t("calib.at_bound", lang, moved=i18n.format_number(
            float(moved.group(1)), 1, lang))
    few = re.match(r"only (\d+) invoices received a reminder stating a payment deadline "
                   r"\(need (\d+)\)", note)
    if few:
        return i18n.t("calib.few_deadlines", lang, n=few.group(1), need=few.group(2))
    return note


def show_calibration(calibration, lang: str = "en", title: str | None = None) -> None:
    """The calibration's parameters in an appendix: each named in words, its estimate or
    prior, and why a prior was kept, in the report's language."""
    from .notebook import display_html
    from .page import details_html, full_table_html

    frame = calibration.to_frame()
    frame = frame.reset_index() if frame.index.name == "parameter" else frame
    title = title or i18n.t("pg.appendix", lang)
    heading = i18n.t(calibration.title, lang)
    body = f"<strong>{html.escape(heading)}</strong>" + full_table_html(
        labelled_codes(frame, lang), lang, max_columns=8)
    display_html(details_html(title, body), title)


def _points(value, lang: str) -> str:
    """A difference of two shares in percentage points (``+2.3 pp``)."""
    if value is None or pd.isna(value):
        return i18n.MISSING
    return f"{'+' if value > 0 else '−' if value < 0 else ''}" \
           f"{i18n.format_number(abs(value) * 100, 1, lang)} pp"


def _show(frame: pd.DataFrame, columns, title: str, lang: str, currency=None) -> None:
    from .notebook import display_html
    from .page import details_html, full_table_html
    from .tables import table_html

    key = frame[[c for c in columns if c in frame.columns]]
    body = table_html(key, lang, max_rows=None, title=title, currency=currency)
    if key.shape[1] < frame.shape[1]:
        body += details_html(i18n.t("pg.full_table", lang).format(n=frame.shape[1]),
                             full_table_html(frame, lang, currency))
    display_html(body, title)


def show_recommendation(rec, lang: str = "en") -> None:
    """The recommendation per segment (gain, changes, whether the pick rests on priors),
    then how each pick moves when a prior it rests on is halved or doubled."""
    from .notebook import display_html
    from .tables import table_html

    _show(labelled_codes(rec.table, lang), RECOMMENDATION_COLUMNS,
          i18n.t(rec.title, lang), lang, rec.currency)
    sens = rec.sensitivity_summary()
    if len(sens):
        title = i18n.t("Sensitivity of the picks to the priors they rest on (each halved and "
                       "doubled)", lang)
        display_html(table_html(labelled_codes(sens, lang), lang, max_rows=None, title=title,
                                currency=rec.currency), title)


def show_twin_check(check, lang: str = "en") -> None:
    """The twin's rates and aging beside history, metric names in words."""
    from .notebook import display_html
    from .tables import table_html

    with i18n.options(lang=lang):
        tables = check.report_tables()
    body = "".join(table_html(labelled_codes(frame, lang), lang, max_rows=None,
                              title=i18n.t(title, lang)) for title, frame in tables)
    display_html(body, i18n.t(check.title, lang))


def show_proposal(proposal, lang: str = "en") -> None:
    """The experiment per segment that would test the recommendation: arms, predicted
    values, customers needed and available, weeks; the whole table folded below."""
    _show(labelled_codes(proposal.table, lang), PROPOSAL_COLUMNS,
          i18n.t(proposal.title, lang), lang)


__all__ = ["calibration_note", "labelled_codes", "show_calibration", "show_proposal",
           "show_recommendation", "show_twin_check"]

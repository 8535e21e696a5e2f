"""The page grammar every report follows, defined once (see DESIGN.md, "The page grammar").

A report page opens with (1) its title line: the data date and how old the data is when
the report runs; (2) a decision box: what to do, how sure we are, what is at stake in
money; (3) three to six KPI tiles with the change against the previous period. The
evidence follows in a few sections; statistical detail goes in collapsible appendices
(``<details>``, no script needed); :func:`~collections_lab.reporting.export.export_html`
adds the table of contents and the link back to the index from the page's sections.

Notebooks only fill the grammar: ``show_page_top(*health_page(health, lang), as_of, lang)``.
The fillers (``health_page``, ``payment_page``, ``design_page``, ``readout_page``,
``lab_page``) read existing analysis results: no statistics are computed here.

Example:
    >>> top = page_top_html(Decision("Call the 20 customers on the call list.",
    ...                              "The list ranks by overdue amount.",
    ...                              "EUR 0.8M overdue."),
    ...                     [Tile("Open receivables", "EUR 1.6M", "+3.0%")],
    ...                     "2026-05-31", "en", today="2026-12-06")
    >>> "6 months before this run" in top, 'class="cl-decision"' in top
    (True, True)
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field

import pandas as pd

from .. import i18n


@dataclass
class Decision:
    """The decision box: what to do, how sure we are, what is at stake (in money)."""

    action: str
    confidence: str = ""
    stake: str = ""


@dataclass
class Tile:
    """One KPI tile: a label, a formatted value and the change against the previous
    period (formatted, e.g. ``"+3.2%"``); ``good`` colours the change (None: neutral)."""

    label: str
    value: str
    change: str | None = None
    period: str | None = None
    good: bool | None = None


@dataclass
class PageTop:
    """What a page opens with; ``facts`` go to the index (see :func:`show_page_top`)."""

    decision: Decision
    tiles: list[Tile] = field(default_factory=list)
    facts: dict = field(default_factory=dict)


def _e(text) -> str:
    return html.escape("" if text is None else str(text))


def _day(value) -> pd.Timestamp:
    return pd.Timestamp(value).normalize()


def freshness(as_of, lang: str = "en", today=None) -> str:
    """The title line: data date and how long before this run it ends.

    >>> freshness("2026-05-31", "en", today="2026-12-06")
    'Data to 2026-05-31 · 6 months before this run (2026-12-06)'
    >>> freshness("2026-05-31", "es", today="2026-06-01")
    'Datos hasta el 2026-05-31 · 1 día antes de esta ejecución (2026-06-01)'
    """
    from babel.dates import format_timedelta

    as_of = _day(as_of)
    today = _day(today if today is not None else pd.Timestamp.now())
    head = i18n.t("pg.data_to", lang).format(date=as_of.date().isoformat())
    age = today - as_of
    if age.days <= 0:
        tail = i18n.t("pg.current", lang).format(today=today.date().isoformat())
    else:
        text = format_timedelta(age.to_pytimedelta(), granularity="day", threshold=1.5,
                                locale=lang)
        tail = i18n.t("pg.before_run", lang).format(age=text, today=today.date().isoformat())
    return f"{head} · {tail}"


def compact_number(amount: float, lang: str = "en") -> str:
    """An amount short enough for a tile or a table cell, without its currency: ``12.5B``
    (en), ``12,5 mil M`` (es).

    CLDR's short forms (babel) in the report's locale; Spanish counts in millions up to
    a billón (10^12), so a figure of four digits or more before the unit is written whole
    and grouped (``6.357 M``, not babel's ``6356,6 M``), and thousands of millions stay in
    millions (``12.542 M``, not CLDR's ``12,5 mil M``): one tile row showed both forms.

    >>> compact_number(6_356_627_450, "es"), compact_number(818_609, "es")
    ('6.357 M', '818,6 mil')
    >>> compact_number(12_542_460_000, "es"), compact_number(2.5e12, "es")
    ('12.542 M', '2,5 B')
    >>> compact_number(12_542_460_000), compact_number(815.5, "es")
    ('12.5B', '816')
    """
    import math
    import re

    from babel.numbers import format_compact_decimal

    if amount is None or pd.isna(amount):
        return "–"
    if abs(amount) < 1000:
        return i18n.format_number(amount, 0, lang)
    locale = i18n.resolve(lang)[1]  # the report locale: es_MX writes 21.9 M, es_CO 21,9 M
    if str(locale).startswith("es") and 1e9 <= abs(amount) < 1e12:
        return i18n.format_number(amount / 1e6, 0, lang, locale) + " M"
    text = format_compact_decimal(amount, locale=locale, fraction_digits=1).replace("\xa0", " ")
    number = re.match(r"-?[0-9][0-9.,]*", text)
    decimal = i18n.format_number(1.5, 1, lang, locale)[1]
    whole = number.group(0).lstrip("-").split(decimal)[0] if number else ""
    if len(whole) >= 4:  # babel leaves four digits ungrouped: write them whole, grouped
        shown = float(number.group(0).replace(decimal, "."))
        unit = 10 ** round(math.log10(abs(amount / shown)))
        text = i18n.format_number(amount / unit, 0, lang, locale) + text[number.end():]
    return text


def compact_money(amount: float, currency: str, lang: str = "en") -> str:
    """An amount with its currency, short enough for a tile: ``COP 12.5B``, ``EUR 1.6M``
    (:func:`compact_number`).

    >>> compact_money(12_542_460_000, "COP"), compact_money(815.5, "EUR", "es")
    ('COP 12.5B', 'EUR 816')
    >>> compact_money(6_356_627_450, "COP", "es"), compact_money(818_609, "EUR", "es")
    ('COP 6.357 M', 'EUR 818,6 mil')
    """
    if amount is None or pd.isna(amount):
        return "–"
    return f"{currency} {compact_number(amount, lang)}"


def change(now: float, before: float, lang: str = "en", points: bool = False) -> str | None:
    """The change from ``before`` to ``now``: relative (``+3.2%``), or in percentage
    points for shares (``points=True``: ``+1.5 pp``); None when it cannot be computed.

    >>> change(110, 100), change(0.25, 0.2, points=True), change(1, 0)
    ('+10.0%', '+5.0 pp', None)
    """
    if now is None or before is None or pd.isna(now) or pd.isna(before):
        return None
    if points:
        delta = (now - before) * 100
        return f"{'+' if delta >= 0 else '−'}{i18n.format_number(abs(delta), 1, lang)} pp"
    if before == 0:
        return None
    rel = now / before - 1
    return f"{'+' if rel >= 0 else '−'}{i18n.format_pct(abs(rel), 1, lang)}"


def format_p(p: float, lang: str = "en") -> str:
    """A p-value as people read it: ``< 0.001`` below a thousandth, else 3 decimals.

    >>> format_p(0.00001), format_p(0.0312, "es")
    ('< 0.001', '= 0,031')
    """
    if p is None or pd.isna(p):
        return "–"
    if p < 0.001:
        return f"< {i18n.format_number(0.001, 3, lang)}"
    return f"= {i18n.format_number(p, 3, lang)}"


def decision_html(decision: Decision, lang: str = "en") -> str:
    parts = [f'<div class="cl-decision" lang="{_e(lang)}">'
             f'<p class="cl-decision-title">{_e(i18n.t("pg.decision", lang))}</p>'
             f'<p class="cl-do">{_e(decision.action)}</p>']
    if decision.confidence:
        parts.append(f'<p><b>{_e(i18n.t("pg.sure", lang))}:</b> {_e(decision.confidence)}</p>')
    if decision.stake:
        parts.append(f'<p><b>{_e(i18n.t("pg.stake", lang))}:</b> {_e(decision.stake)}</p>')
    return "".join(parts) + "</div>"


def tiles_html(tiles: list[Tile], lang: str = "en") -> str:
    cells = []
    for tile in tiles[:6]:
        delta = ""
        if tile.change:
            tone = {True: " good", False: " bad"}.get(tile.good, "")
            text = (i18n.t("pg.vs_prev", lang).format(period=tile.period) + ":\n" + tile.change
                    if tile.period else tile.change)
            delta = f'<div class="cl-tile-change{tone}">{_e(text)}</div>'
        cells.append(f'<div class="cl-tile"><div class="cl-tile-label">{_e(tile.label)}</div>'
                     f'<div class="cl-tile-value">{_e(tile.value)}</div>{delta}</div>')
    return f'<div class="cl-tiles">{"".join(cells)}</div>'


#: Marker after the page top: export_html puts the table of contents there.
TOC_MARK = "<!--cl-toc-->"


def page_top_html(decision: Decision, tiles: list[Tile], as_of, lang: str = "en",
                  today=None) -> str:
    """The HTML a page opens with: freshness line, decision box, KPI tiles."""
    fresh = f'<p class="cl-fresh">{_e(freshness(as_of, lang, today))}</p>' if as_of else ""
    return (f'<section class="cl-page-top">{fresh}{decision_html(decision, lang)}'
            f"{tiles_html(tiles, lang)}</section>{TOC_MARK}")


def show_page_top(top: PageTop, as_of, lang: str = "en") -> None:
    """Display the page top and record its decision and facts for the index."""
    from .notebook import METADATA_KEY, display_html

    i18n.check_language(lang)
    plain = " | ".join([freshness(as_of, lang) if as_of else "", top.decision.action,
                        top.decision.confidence, top.decision.stake]
                       + [f"{t.label}: {t.value}" for t in top.tiles])
    record = {"page": {"decision": top.decision.action, "facts": top.facts}}
    display_html(page_top_html(top.decision, top.tiles, as_of, lang), plain, {METADATA_KEY: record})


def details_html(title: str, body_html: str) -> str:
    """A collapsible appendix block (``<details>``: opens without any script)."""
    return (f'<details class="cl-appendix"><summary>{_e(title)}</summary>'
            f"{body_html}</details>")


def _as_html(item, lang: str) -> str:
    from .tables import result_html, table_html

    if isinstance(item, (pd.DataFrame, pd.Series)):
        return table_html(item, lang, max_rows=None)
    if isinstance(item, str):
        return f"<p>{_e(item)}</p>"
    if hasattr(item, "to_frame"):
        return result_html(item, lang, max_rows=None)
    raise TypeError(f"show_appendix cannot show a {type(item).__name__}")


def show_appendix(items, lang: str = "en", title: str | dict | None = None) -> None:
    """Display tables or results folded in a ``<details>`` appendix (all rows shown)."""
    from .notebook import display_html

    if isinstance(title, dict):
        title = title.get(lang) or title.get("en")
    title = title or i18n.t("pg.appendix", lang)
    items = [i for i in (items if isinstance(items, (list, tuple)) else [items]) if i is not None]
    body = "".join(_as_html(i, lang) for i in items)
    display_html(details_html(title, body), title)


def show_capped(frame: pd.DataFrame, lang: str = "en", n: int = 10,
                title: str | dict | None = None) -> None:
    """Show the first ``n`` rows with "top n of m"; the full table folded below it."""
    from .notebook import display_html
    from .tables import table_html

    if frame is None:
        return
    if isinstance(title, dict):
        title = title.get(lang) or title.get("en")
    if len(frame) <= n:
        display_html(table_html(frame, lang, max_rows=None), str(len(frame)))
        return
    note = i18n.t("pg.top_n", lang).format(n=n, m=len(frame))
    label = f"{title} ({note})" if title else note
    body = (f'<p class="cl-cap">{_e(label)}</p>' + table_html(frame.head(n), lang, max_rows=None)
            + details_html(f"{title or ''} — {len(frame)}".strip(" —"),
                           table_html(frame, lang, max_rows=None)))
    display_html(body, label)


def show_segments(readout, lang: str = "en") -> None:
    """Page 04's segment table: the rows with an estimate, then one sentence for the
    segment × arm rows the data cannot estimate yet (how many, and why), and the whole
    table folded below. A page of dashes said nothing about why they were there.
    """
    from .notebook import display_html
    from .tables import table_html

    seg = readout.segments
    if seg is None or seg.empty:
        return
    from ..experiments.metric_registry import METRIC_REGISTRY
    from ..experiments.workflow import labelled

    d = readout.config.due_plus_days
    seg = seg.reset_index(drop=True)
    points = seg["metric"].map(lambda m: METRIC_REGISTRY[m].kind == "share").astype(bool)
    shares = ["effect", "ci_low", "ci_high"]  # shares in points, as the page's chart shows
    seg.loc[points, shares] = (seg.loc[points, shares] * 100).round(1)
    shown = labelled(seg, lang, due_plus_days=d)
    if points.all():
        shown = shown.rename(columns={i18n.t(f"xt_{c}", lang): i18n.t(f"xt_{c}", lang) + " (pp)"
                                      for c in shares if i18n.has(f"xt_{c}")})
    known = seg["effect"].notna().to_numpy()
    body = (table_html(shown[known].reset_index(drop=True), lang, max_rows=None)
            if known.any() else "")
    missing = int((~known).sum())
    if missing:
        note = i18n.t("pg.segments_missing", lang).format(
            k=i18n.format_number(missing, 0, lang), n=i18n.format_number(len(seg), 0, lang),
            d=d)
        body += (f'<p class="cl-cap">{_e(note)}</p>'
                 + details_html(i18n.t("pg.segments_all", lang).format(
                     n=i18n.format_number(len(seg), 0, lang)),
                     table_html(shown, lang, max_rows=None)))
    display_html(body, f"{int(known.sum())} / {len(seg)}")


# ---------------------------------------------------------------------------------------
# Fillers: one per report, from the analysis results it already has (no new statistics).


def _money_list(values: dict, lang: str) -> str:
    return ", ".join(compact_money(v, c, lang) for c, v in values.items())


def _month_label(day, lang: str) -> str:
    return i18n.format_month(pd.Timestamp(day).date(), lang)


def health_page(health, lang: str = "en") -> PageTop:
    """Decision and tiles of the portfolio-health report (01), per currency."""
    snap = health.kpis["snapshot"].frame.set_index("currency")
    aging = health.kpis["aging"].frame
    over90 = aging[aging["bucket"] == "90+"].groupby("currency")["amount"].sum()
    trends = health.kpis["trends"].frame
    month = pd.Timestamp(health.as_of).to_period("M").start_time
    prev = trends[trends["month"] < month].sort_values("month").groupby("currency").tail(1)
    prev = prev.set_index("currency")
    period = _month_label(prev["month"].iloc[0], lang) if len(prev) else None

    if {"receivables", "amount_current"} <= set(prev.columns):  # overdue = not yet due
        prev = prev.assign(overdue=prev["receivables"] - prev["amount_current"])

    def before(cur, col):
        return prev[col].get(cur) if col in prev else None

    def per_currency(label, col, points=False, money=True):
        # one line per currency (amounts are never added across currencies)
        values, changes = [], []
        for cur, row in snap.iterrows():
            v = row[col] if col in row else over90.get(cur)
            values.append(compact_money(v, cur, lang) if money
                          else f"{cur} {i18n.format_number(v, 0, lang)}")
            c = change(v, before(cur, "amount_90+" if col == "over90" else col), lang,
                       points=points)
            changes.append(f"{cur} {c}" if c else f"{cur} –")
        shown = changes if any(not c.endswith("–") for c in changes) else None
        return Tile(label, "\n".join(values), "\n".join(shown) if shown else None, period)

    tiles = [per_currency(i18n.t("pg.open", lang), "receivables"),
             per_currency(i18n.t("pg.overdue", lang), "overdue"),
             per_currency(i18n.t("pg.over90", lang), "over90"),
             per_currency(i18n.t("pg.dso", lang), "dso", money=False)]
    n_call, n_alerts = len(health.call.frame), len(health.alerts.frame)
    tiles.append(Tile(i18n.t("pg.call", lang), i18n.format_number(n_call, 0, lang)))
    tiles.append(Tile(i18n.t("pg.alerts", lang), i18n.format_number(n_alerts, 0, lang)))
    decision = Decision(  # an empty call list (nothing open or overdue) is said so
        i18n.t("pg.h_call" if n_call else "pg.h_call_none", lang).format(n=n_call, a=n_alerts),
        i18n.t("pg.s_call", lang),
        i18n.t("pg.k_call", lang).format(overdue=_money_list(snap["overdue"].to_dict(), lang),
                                         over90=_money_list(over90.to_dict(), lang)))
    def floats(series):
        return {str(k): round(float(v), 2) for k, v in series.items() if pd.notna(v)}

    facts = {"open": floats(snap["receivables"]), "overdue": floats(snap["overdue"]),
             "over90": floats(over90), "dso": floats(snap["dso"]),
             "dso_before": floats(prev["dso"]) if "dso" in prev else {},
             "month_before": period}
    return PageTop(decision, tiles, facts)


def cash_next_weeks(cash: pd.DataFrame, weeks: int = 4) -> dict:
    """Expected cash per currency in the first ``weeks`` weeks of a cash forecast."""
    if cash is None or cash.empty:
        return {}
    first = cash[cash["week"] <= cash["week"].min() + weeks - 1]
    return {k: float(v) for k, v in first.groupby("currency")["expected_amount"].sum().items()}


def payment_page(report, portfolio=None, lang: str = "en") -> PageTop:
    """Decision and tiles of the time-to-payment report (02): cash in the next 4 weeks."""
    cash4 = cash_next_weeks(report.cash)
    tiles = [Tile(i18n.t("pg.cash4w", lang), "\n".join(
        compact_money(v, c, lang) for c, v in cash4.items()) or "–")]
    open_ = {}
    if portfolio is not None:
        # the figures every page shares, one computation (analytics.figures)
        from ..analytics.figures import shared_figures

        snap = shared_figures(portfolio, report.as_of).frame.set_index("currency")
        open_ = snap["receivables"].to_dict()
        for label, col in (("pg.open", "receivables"), ("pg.overdue", "overdue")):
            tiles.append(Tile(i18n.t(label, lang), "\n".join(
                compact_money(v, c, lang) for c, v in snap[col].items())))
        tiles.append(Tile(i18n.t("pg.dso", lang), "\n".join(
            f"{c} {i18n.format_number(v, 0, lang)}" for c, v in snap["dso"].items())))
    decision = Decision(
        i18n.t("pg.h_cash", lang).format(cash=_money_list(cash4, lang)) if cash4
        else i18n.t("pg.h_cash_none", lang),  # nothing open: no forecast to plan on
        i18n.t("pg.s_cash", lang),
        i18n.t("pg.k_cash", lang).format(open=_money_list(open_, lang) or "–") if open_ else "")
    return PageTop(decision, tiles, {"cash_4w": cash4})


def design_page(design, plan=None, portfolio=None, as_of=None, lang: str = "en",
                running=None, notes=None) -> PageTop:
    """Decision and tiles of the design report (03): customers per arm and weeks.

    ``portfolio`` holds the customers the new test may assign; ``running``
    (:func:`~collections_lab.experiments.workflow.outside_running_experiment`) the
    experiment already running on the others; ``notes`` (e.g. an arm the strategy lab
    predicts to lose money) are added to what is at stake."""
    plans = design.plans
    rows = plans[plans["metric"] == "paid_by_due_d"]
    d = design.config.due_plus_days
    if rows.empty:
        why = design.summary(lang) or "–"  # e.g. every change asked for passes 100%
        return PageTop(Decision(i18n.t("pg.unavailable", lang).format(why=why)))
    row = rows.iloc[len(rows) // 2]
    arms = len(design.weights)
    # equal arms: one size per arm; unequal: the total, with control and the smallest arm
    c = int(row["customers_per_arm"] if design.equal_arms else row["customers_total"])
    n = int(row["invoices_per_arm"] if design.equal_arms else row["invoices_total"])
    total = c * arms if design.equal_arms else c
    weeks = row.get("weeks")
    w = i18n.format_number(weeks, 0, lang) if pd.notna(weeks) else "–"
    mde = i18n.format_number(row["effect"] * 100, 0, lang)
    have = len(portfolio.customers) if portfolio is not None else None
    busy = running is not None and not running.included and have == 0
    fmt = {"c": i18n.format_number(c, 0, lang), "n": i18n.format_number(n, 0, lang),
           "w": w, "mde": mde}
    if not design.equal_arms:
        fmt.update(cc=i18n.format_number(row["customers_control"], 0, lang),
                   ct=i18n.format_number(row["customers_treatment"], 0, lang))
    suffix = "" if design.equal_arms else "_unequal"
    if busy:
        action = i18n.t("xd_busy", lang).format(
            n=i18n.format_number(running.customers, 0, lang), id=running.experiment_id)
    elif have is not None and total > have:
        action = i18n.t("pg.h_design_small" + suffix, lang).format(
            have=i18n.format_number(have, 0, lang), **fmt)
    else:
        action = i18n.t("pg.h_design" + suffix, lang).format(**fmt)
    base = design.baseline.set_index("quantity")["value"]
    tiles = [Tile(i18n.t("pg.per_arm" if design.equal_arms else "pg.customers_needed", lang),
                  i18n.format_number(c, 0, lang)),
             Tile(i18n.t("pg.weeks", lang), w),
             Tile(i18n.t("pg.paid_on_time", lang).format(d=d),
                  i18n.format_pct(float(base.get("p_paid_by_due_d", float("nan"))), 0, lang))]
    if have is not None:  # beside a running experiment: the customers free to assign
        label = ("column.customers_available" if running is not None and not running.included
                 else "pg.customers")
        tiles.append(Tile(i18n.t(label, lang), i18n.format_number(have, 0, lang)))
    stake = ""
    if portfolio is not None and len(portfolio.invoices):
        # the last 90 days' sales, as page 01 measures them (analytics.kpis)
        from ..analytics.kpis import kpi_snapshot
        from ..data.dates import resolve_as_of

        sales = kpi_snapshot(portfolio, resolve_as_of(portfolio, as_of)).frame
        sales = sales.set_index("currency")["sales_period"]
        stake = i18n.t("pg.k_design", lang).format(
            mde=mde, inv=_money_list(sales.to_dict(), lang),
            gain=_money_list((sales * row["effect"]).to_dict(), lang))
    if running is not None and not busy:  # busy: the action already says it
        stake = " ".join(x for x in [stake, running.summary(lang)] if x)
    stake = " ".join([stake, *(notes or [])]).strip()
    each = i18n.t("pg.s_design_each", lang) if arms > 2 else ""
    decision = Decision(action, i18n.t("pg.s_design", lang).format(
        power=i18n.format_pct(design.power, 0, lang), each=each,
        alpha=i18n.format_pct(float(row["alpha"]), None, lang)), stake)
    facts = {"customers_per_arm" if design.equal_arms else "customers_total": c,
             "weeks": None if pd.isna(weeks) else float(weeks)}
    if busy:  # the index lists it beside the readout's "keep running"
        facts["decision"] = "wait_for_running"
    return PageTop(decision, tiles, facts)


def readout_page(readout, recommendation, lang: str = "en") -> PageTop:
    """Decision and tiles of the readout (04), from :func:`experiments.decision.recommend`."""
    rec = recommendation
    if rec.decision == "adopt":
        action = i18n.t("pg.h_adopt", lang).format(arm=rec.arm, control=rec.control)
    elif rec.decision == "keep_running":
        until = (i18n.t("pg.until", lang).format(date=rec.until.date().isoformat())
                 if rec.until is not None else "")
        action = i18n.t("pg.h_keep_running", lang).format(until=until)
    elif rec.decision == "check_assignment":
        action = i18n.t("pg.h_check", lang)
    else:
        action = i18n.t("pg.h_keep_control", lang).format(control=rec.control)
    sure = []
    if rec.information_fraction is not None:
        sure.append(i18n.t("pg.s_info", lang).format(
            info=i18n.format_pct(rec.information_fraction, 0, lang)))
    if rec.decision == "keep_running":
        sure.append(i18n.t("pg.s_not_yet", lang))
    elif rec.net_value_p_holm is not None:
        sure.append(i18n.t("pg.s_p", lang).format(p=format_p(rec.net_value_p_holm, lang)))
    sure = " ".join(sure) or rec.summary(lang)
    if rec.net_value is not None:
        x, lo, hi = (i18n.format_number(v * 100, 2, lang) for v in rec.net_value)
        churn = (i18n.format_number(rec.churn[0] * 100, 1, lang) + " pp"
                 if rec.churn is not None else "–")
        stake = i18n.t("pg.k_net", lang).format(arm=rec.arm, x=x, lo=lo, hi=hi, c=churn)
        if rec.churn is not None and rec.churn[1] > 0:
            stake += " " + i18n.t("pg.k_churn_flag", lang).format(arm=rec.arm)
    else:
        stake = i18n.t("pg.k_none", lang)
    counts = readout.srm.table
    tiles = [Tile(i18n.t("pg.arms", lang), i18n.format_number(len(readout.arms), 0, lang))]
    if "customers" in counts and "segment" in counts:
        n = int(counts.loc[counts["segment"] == "all", "customers"].sum())
        tiles.append(Tile(i18n.t("pg.customers", lang), i18n.format_number(n, 0, lang)))
    if rec.information_fraction is not None:
        tiles.append(Tile(i18n.t("pg.info", lang),
                          i18n.format_pct(rec.information_fraction, 0, lang)))
    if rec.net_value is not None:
        tiles.append(Tile(i18n.t("pg.leader_net", lang),
                          i18n.format_number(rec.net_value[0] * 100, 2, lang)))
    if rec.churn is not None:
        tiles.append(Tile(i18n.t("pg.churn_change", lang),
                          i18n.format_number(rec.churn[0] * 100, 1, lang) + " pp"))
    facts = {"decision": rec.decision, "arm": rec.arm, "control": rec.control,
             "until": None if rec.until is None else rec.until.date().isoformat()}
    return PageTop(Decision(action, sure, stake), tiles, facts)


def lab_page(lab, lang: str = "en", fx: dict | None = None) -> PageTop:
    """Decision and tiles of the strategy lab (05), from its recommendation table;
    ``fx`` (units per USD) are the rates its amounts were converted at, for the index."""
    rec = lab.recommendation
    table = rec.table.set_index("segment")
    cur = rec.currency
    total = table.loc["all"] if "all" in table.index else None
    changed = table.drop(index="all", errors="ignore")
    changed = changed[changed["recommended"] != changed["current"]] if "current" in changed \
        else changed
    if total is None or not (total["gain"] > 0):
        decision = Decision(i18n.t("pg.h_lab_none", lang))
        tiles = []
    else:
        gain = compact_money(total["gain"], cur, lang)
        decision = Decision(
            i18n.t("pg.h_lab", lang).format(gain=gain),
            i18n.t("pg.s_lab", lang).format(reps=rec.replicates,
                                            lo=compact_money(total["gain_low"], cur, lang),
                                            hi=compact_money(total["gain_high"], cur, lang)),
            i18n.t("pg.k_lab", lang).format(
                gain=gain, churn=change(total.get("churn_change", 0) or 0, 0, lang,
                                        points=True) or "–"))
        tiles = [Tile(i18n.t("pg.gain", lang), compact_money(total["gain"], cur, lang)),
                 Tile(i18n.t("pg.churn_change", lang),
                      change(total.get("churn_change", 0) or 0, 0, lang, points=True) or "–")]
    tiles.append(Tile(i18n.t("pg.segments", lang), i18n.format_number(len(changed), 0, lang)))
    from .story import losing_strategies

    return PageTop(decision, tiles, {"gain": None if total is None else float(total["gain"]),
                                     "currency": cur,
                                     "fx": {str(k): float(v) for k, v in (fx or {}).items()},
                                     **losing_strategies(lab.comparison)})


def full_table_html(frame: pd.DataFrame, lang: str = "en", currency: str | None = None,
                    max_columns: int = 8) -> str:
    """A whole wide table for an appendix, within the page's width: its columns in parts of
    at most ``max_columns``, each part repeating the first column (what the row is).

    >>> frame = pd.DataFrame({"strategy": ["a"], **{f"c{i}": [i] for i in range(10)}})
    >>> full_table_html(frame).count("<table>")
    2
    """
    from .tables import table_html

    if frame.shape[1] <= max_columns:
        return table_html(frame, lang, max_rows=None, currency=currency)
    first, rest = frame.iloc[:, :1], frame.iloc[:, 1:]
    step = max_columns - 1
    return "".join(table_html(pd.concat([first, rest.iloc[:, i:i + step]], axis=1), lang,
                              max_rows=None, currency=currency)
                   for i in range(0, rest.shape[1], step))


def show_key_columns(result, columns, lang: str = "en", title: str | dict | None = None) -> None:
    """Show the ``columns`` a reader needs of a wide result table (those present), with
    the whole table folded in an appendix below it; money in the result's currency."""
    from .notebook import display_html
    from .tables import table_html

    frame = result.to_frame() if hasattr(result, "to_frame") else result
    currency = getattr(result, "currency", None)
    currency = currency if isinstance(currency, str) else None
    if isinstance(title, dict):
        title = title.get(lang) or title.get("en")
    title = title or getattr(result, "title", None)
    if isinstance(title, str):
        title = i18n.t(title, lang)
    key = frame[[c for c in columns if c in frame.columns]]
    body = table_html(key, lang, max_rows=None, title=title, currency=currency)
    body += details_html(i18n.t("pg.full_table", lang).format(n=len(frame.columns)),
                         full_table_html(frame, lang, currency))
    display_html(body, str(title or ""))

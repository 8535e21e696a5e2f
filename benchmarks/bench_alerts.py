"""Behaviour-change alerts against simulated truth: figures, trade-off curve, ablations; an
oracle's upper bounds (``--oracle``), first alert vs a re-armed chart (``--rearm``) and a
change-point scan matched to the distress ramp (``--ramp``). The last three use the
simulator's and the detector's private helpers on purpose: they measure, they ship nothing.

Detector: one CUSUM over lateness, order size and part payments (``AlertParams``).
Run by hand (not in CI): ``.venv/bin/python benchmarks/bench_alerts.py``. Simulates
``nudge_then_firm`` portfolios with the default behaviour model (distress ramps up over
150 days), 2025-01-01..2026-06-30, alerts as of 2026-08-31. The defaults of
``AlertParams`` were tuned on seed 3; seeds 11, 12 and 21 are held out. Prints markdown
for ``benchmarks/RESULTS.md``. ``--speed`` also times ``behaviour_alerts`` on 50,000
customers.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from collections_lab.analytics.alerts import (
    AlertParams,
    _amount_reports,
    _baselines,
    _chart,
    _first_alerts,
    _inputs,
    _lateness_scale,
    _partial_reports,
    _reports,
    _run,
    _score,
    _truth_frame,
    alert_tradeoff,
    behaviour_alerts,
    evaluate_alerts,
    observations,
)
from collections_lab.model.behaviour import BehaviourModel
from collections_lab.model.simulation import _escalation_day, _prepare, simulate
from collections_lab.model.strategies import example_strategies

START, END, AS_OF = "2025-01-01", "2026-06-30", "2026-08-31"
THRESHOLDS = (3, 5, 7, 8, 9, 10, 11, 12, 14)
BANDS = (0, 3, 5, 10, 20, 1000)  # nats
AMOUNT_SD = 0.35  # simulate.invoice_inputs: log amount = log typical + 0.35·N(0, 1) + shift
COLS = ["precision", "recall", "median_lead_days", "n_alerts", "n_true_alerts",
        "n_positives", "n_eligible", "n_with_event", "share_alert_before_event"]


def sim_of(seed: int, n: int = 5000):
    return simulate(n, example_strategies()["nudge_then_firm"], seed=seed, start=START,
                    end=END)


def markdown(frame: pd.DataFrame) -> str:
    head = "| " + " | ".join(map(str, frame.columns)) + " |"
    sep = "|" + "|".join("---:" for _ in frame.columns) + "|"
    def cell(v):
        if isinstance(v, float):
            return f"{v:.0f}" if v == int(v) and abs(v) >= 10 else f"{v:.2f}"
        return str(v)

    body = ["| " + " | ".join(cell(v) for v in row) + " |"
            for row in frame.itertuples(index=False)]
    return "\n".join([head, sep, *body])


def figures(seeds) -> None:
    rows, curves, triggers = [], [], []
    variants = {
        "default (episodes >= 60 days old)": dict(),
        "all episodes started by as_of": dict(min_episode_days=0),
        "episodes >= 120 days old": dict(min_episode_days=120),
        "episodes >= 60 days, >= 3 invoices after start": dict(min_post_invoices=3),
    }
    ablations = {
        "lateness only (previous chart, h = 5)": dict(amount_weight=0, partial_weight=0,
                                                      h=5.0),
        "no order-size signal": dict(amount_weight=0),
        "no part-payment signal": dict(partial_weight=0),
        "no open-invoice evidence (report only when paid / at cap)": dict(checkpoints_days=()),
        "one symptom is enough (no persistence)": dict(min_late_invoices=1),
    }
    for seed in seeds:
        sim = sim_of(seed)
        alerts = behaviour_alerts(sim.portfolio, as_of=AS_OF)
        triggers.append(alerts.frame["trigger"].value_counts().rename(seed))
        for label, kw in variants.items():
            ev = evaluate_alerts(alerts, sim.truth, sim.portfolio, **kw)
            rows.append({"seed": seed, "evaluation": label,
                         **ev.to_frame().iloc[0][COLS].to_dict()})
        for label, kw in ablations.items():
            a = behaviour_alerts(sim.portfolio, as_of=AS_OF, **kw)
            ev = evaluate_alerts(a, sim.truth, sim.portfolio)
            rows.append({"seed": seed, "evaluation": f"ablation: {label}",
                         **ev.to_frame().iloc[0][COLS].to_dict()})
        curve = alert_tradeoff(sim.portfolio, sim.truth, as_of=AS_OF, thresholds=THRESHOLDS)
        curves.append(curve.assign(seed=seed))
    table = pd.DataFrame(rows)
    print(f"## Figures at the default h = {AlertParams().h:g}\n")
    print(markdown(table[["seed", "evaluation", "precision", "recall", "median_lead_days",
                          "n_alerts", "n_positives", "n_eligible"]]))
    print("\n## Trade-off over h\n")
    wide = pd.concat(curves).pivot_table(index="h", columns="seed",
                                         values=["precision", "recall", "median_lead_days"])
    wide.columns = [f"{m} s{s}" for m, s in wide.columns]
    print(markdown(wide.reset_index()))
    print("\n## Signal whose report raised the alert (counts)\n")
    print(markdown(pd.concat(triggers, axis=1).fillna(0).astype(int).reset_index()))


# -- oracle: the evidence the simulated portfolios hold --------------------------------
def _invoice_truth(sim, seed, as_of):
    """Each issued invoice with the simulator's hazard multiplier, curve and baseline."""
    strategy = example_strategies()["nudge_then_firm"]
    setup, _, _ = _prepare(sim.customers, strategy, None, START, END, seed, 1.0, None, None)
    x = setup.invoice_inputs(0, len(setup.c))
    tr = setup.traits
    ids = setup.customers["customer_id"].to_numpy()
    pot = pd.DataFrame({"customer_id": ids[x["c"]], "issue_date": x["issue"],
                        "mult": x["mult"], "never_p": x["never_p"], "seg": x["seg"], "terms": x["terms"],
                        "taker": x["taker"], "severity": x["severity"],
                        "log_typical_usd": np.log(tr["typical_usd"][x["c"]]),
                        "fx": tr["fx"][x["c"]]})
    truth_start = sim.truth.customers.set_index("customer_id")["distress_start"]
    check = pd.Series(tr["distress_start"], index=ids)
    assert check.equals(truth_start.reindex(ids)), "oracle traits differ from the truth"
    inv = sim.invoices.merge(pot, on=["customer_id", "issue_date"], how="left",
                             validate="one_to_one")
    assert inv["mult"].notna().all(), "an issued invoice has no simulated inputs"
    pay = sim.payments.groupby("invoice_id").agg(first_at=("paid_at", "min"),
                                                 last_at=("paid_at", "max"),
                                                 n_pay=("paid_at", "size"))
    inv = inv.join(pay, on="invoice_id")
    as_of = pd.Timestamp(as_of)
    h = BehaviourModel().horizon_days
    inv["esc"] = [_escalation_day(strategy, int(t), h) for t in inv["terms"]]
    inv["age"] = (as_of - inv["issue_date"]).dt.days
    escalated = inv["escalated_at"].notna() & (inv["escalated_at"] <= as_of)
    paid = inv["escalated_at"].isna() & (inv["last_at"] <= as_of)
    inv["event"] = paid
    inv["t"] = np.where(paid, (inv["last_at"] - inv["issue_date"]).dt.days.fillna(-1),
                        -1).astype(np.int64)
    # not paid by day k (index into the cumulative hazard): escalated, or open at as_of
    inv["k"] = np.where(escalated, inv["esc"] - 1,
                        np.minimum(inv["age"], np.minimum(inv["esc"] - 1, h - 1)))
    inv["k_window"] = np.minimum(inv["age"], np.minimum(inv["esc"] - 1, h - 1))
    # part payments: known for invoices paid in the ordinary way by as_of (split only if
    # the story lasted 2+ days), and for open ones whose first part arrived by as_of
    inv["part_seen"] = (paid & (inv["t"] >= 2)) | (~paid & ~escalated
                                                  & (inv["first_at"] <= as_of))
    inv["part"] = inv["n_pay"].fillna(0) >= 2
    groups = inv[["seg", "terms", "taker"]].drop_duplicates().reset_index(drop=True)
    curves = np.vstack([setup.curves.cumulative(0, int(g.seg), int(g.terms), bool(g.taker))
                        for g in groups.itertuples()])
    inv["g"] = inv.merge(groups.reset_index(), on=["seg", "terms", "taker"],
                         how="left")["index"].to_numpy()
    return inv, curves


def _log_p_day(m, G, lam):
    """log P(pay on day t) = −m·G(t−1) + log(1 − exp(−m·λ_t))."""
    return -m * G + np.log(-np.expm1(-m * lam))


def _episode_rows(hyp: pd.DataFrame, inv: pd.DataFrame, as_of) -> pd.DataFrame:
    """Invoices of each hypothesised episode: issued from its start up to ``as_of``."""
    x = hyp.merge(inv, on="customer_id")
    return x.loc[(x["issue_date"] >= x["start"]) & (x["issue_date"] <= pd.Timestamp(as_of))]


def _evidence(x: pd.DataFrame, curves: np.ndarray, never_pay_shift: bool,
              expected: bool) -> pd.DataFrame:
    """Per invoice of an episode: realised log-likelihood ratio (nats) of each symptom,
    episode vs none, and with ``expected`` its expectation under the episode (the KL
    divergence; lateness over the invoice's observation window)."""
    model = BehaviourModel()
    sev = np.clip(((x["issue_date"] - x["start"]).dt.days + 1) / model.distress_ramp_days,
                  0, 1).to_numpy()
    positive = x["positive"].to_numpy()
    if positive.any():  # the hypothesised severity of a true episode is the simulator's
        assert np.allclose(sev[positive], x["severity"].to_numpy()[positive])
    beta = model.distress_frailty_shift * sev
    mult = x["mult"].to_numpy()
    # the simulator's multiplier includes the episode for true positives only
    m1 = np.where(positive, mult, mult * np.exp(beta))
    m0 = m1 * np.exp(-beta)
    # never paid without escalation: q0 without the episode, q1 with it
    never_p = x["never_p"].to_numpy()
    shift = model.distress_never_pay_shift * sev ** 2
    logit_q0 = np.log(never_p / (1 - never_p)) - np.where(positive, shift, 0.0)
    q0 = 1 / (1 + np.exp(-logit_q0))
    q1 = 1 / (1 + np.exp(-(logit_q0 + shift))) if never_pay_shift else q0
    g = x["g"].to_numpy()
    G = curves[g]  # cumulative hazard by day since issue
    day_lam = np.diff(curves, axis=1, prepend=0.0)
    t = np.clip(x["t"].to_numpy(), 0, curves.shape[1] - 1)
    k = x["k"].to_numpy(dtype=np.int64)
    g_prev = np.where(t > 0, curves[g, np.maximum(t - 1, 0)], 0.0)
    lam_t = day_lam[g, t]

    def unpaid(q, m, cum):  # not paid by a day: never to be paid, or not yet
        return q + (1 - q) * np.exp(-m * cum)

    llr_paid = (np.log1p(-q1) + _log_p_day(m1, g_prev, lam_t)
                - np.log1p(-q0) - _log_p_day(m0, g_prev, lam_t))
    llr_unpaid = np.log(unpaid(q1, m1, curves[g, k]) / unpaid(q0, m0, curves[g, k]))
    out = pd.DataFrame({"hyp": x["hyp"].to_numpy(),
                        "llr_late": np.where(x["event"].to_numpy(), llr_paid, llr_unpaid)})
    # order size, known at issue: log amount ~ N(own typical + shift, 0.35²)
    delta = model.distress_amount_shift * sev
    z = np.log(x["amount"].to_numpy() / x["fx"].to_numpy()) - x["log_typical_usd"].to_numpy()
    out["llr_amount"] = (z ** 2 - (z - delta) ** 2) / (2 * AMOUNT_SD ** 2)
    # part payments: Bernoulli split share p0 -> p0 + 0.35·severity
    p0 = model.split_payment_share
    p1 = p0 + model.distress_split_share * sev
    seen = x["part_seen"].to_numpy()
    yes, no = np.log(p1 / p0), np.log((1 - p1) / (1 - p0))
    out["llr_part"] = np.where(seen, np.where(x["part"].to_numpy(), yes, no), 0.0)
    out["llr"] = out[["llr_late", "llr_amount", "llr_part"]].sum(axis=1)
    if expected:
        kw = x["k_window"].to_numpy(dtype=np.int64)
        G_prev = np.concatenate([np.zeros((len(x), 1)), G[:, :-1]], axis=1)
        lam = G - G_prev
        lp1 = np.log1p(-q1)[:, None] + _log_p_day(m1[:, None], G_prev, lam)
        lp0 = np.log1p(-q0)[:, None] + _log_p_day(m0[:, None], G_prev, lam)
        within = np.arange(G.shape[1])[None, :] <= kw[:, None]
        rows = np.arange(len(x))
        c1, c0 = unpaid(q1, m1, G[rows, kw]), unpaid(q0, m0, G[rows, kw])
        out["kl_late"] = (np.where(within, np.exp(lp1) * (lp1 - lp0), 0.0).sum(axis=1)
                          + c1 * np.log(c1 / c0))
        out["kl_amount"] = delta ** 2 / (2 * AMOUNT_SD ** 2)
        out["kl_part"] = np.where(seen, p1 * yes + (1 - p1) * no, 0.0)
        out["kl"] = out[["kl_late", "kl_amount", "kl_part"]].sum(axis=1)
    out["n_after"] = 1
    return out


def oracle(sim, seed: int, as_of=AS_OF, pseudo_draws: int = 5, scan_days: int = 30,
           never_pay_shift: bool = False, rng_seed: int = 0) -> dict:
    """Upper bounds on what any detector could reach on this simulated portfolio.

    Scores each judged customer (as :func:`evaluate_alerts` judges them) by the
    log-likelihood ratio, in nats, of "distress episode from start s" against "no
    episode" over the invoices observable by ``as_of``, using the simulator's own model
    of the three symptoms it injects (the detector's signals): log-hazard −2·severity
    (lateness; the likelihood keeps the never-paid share of invoices, so an unpaid
    invoice is slow or never to be paid), log amount −0.7·severity around the customer's
    own typical amount (SD 0.35; order size) and split-payment share 0.06 + 0.35·severity
    (part payments); each customer's own baseline (frailty, typical amount, curves) is
    known. ``never_pay_shift=True`` adds the rise of the never-paid share as a fourth
    symptom (churn is never used).

    * ``known``: the start is known: true for positives; each negative is scored against
      ``pseudo_draws`` episodes drawn as the simulator draws starts (weight 1/draws).
      The Neyman–Pearson test: no detector that must find the start can beat it.
    * ``scan``: the start is unknown: the maximum LLR over starts every ``scan_days``
      days (a GLR change-point statistic with the true ramp and effect sizes).

    Returns per-customer frames (columns llr, the symptoms' llr_*, n_after and, for the
    positives of ``known``, expected evidence kl, kl_late, kl_amount, kl_part).
    """
    inv, curves = _invoice_truth(sim, seed, as_of)
    p = AlertParams()
    obs = observations(sim.portfolio, as_of, p)
    tc = _truth_frame(sim.truth, sim.portfolio, obs, p, 1, 60)
    judged = tc.loc[tc["eligible"]]
    pos = judged.index[judged["positive"]]
    neg = judged.index[~judged["positive"]]
    rng = np.random.default_rng(rng_seed)
    first = pd.Timestamp(START) + pd.Timedelta(days=60)
    span = max(1, (pd.Timestamp(END) - pd.Timestamp(START)).days - 90)
    hyp = [pd.DataFrame({"customer_id": pos, "start": judged.loc[pos, "distress_start"],
                         "weight": 1.0, "positive": True})]
    for _ in range(pseudo_draws):
        starts = first + pd.to_timedelta(rng.integers(0, span, len(neg)), unit="D")
        hyp.append(pd.DataFrame({"customer_id": neg, "start": starts,
                                 "weight": 1.0 / pseudo_draws, "positive": False}))
    known = pd.concat(hyp, ignore_index=True)
    known["hyp"] = np.arange(len(known))
    rows = _episode_rows(known, inv, as_of)
    score = pd.concat([
        _evidence(rows.loc[rows["positive"]], curves, never_pay_shift, expected=True),
        _evidence(rows.loc[~rows["positive"]], curves, never_pay_shift, expected=False),
    ]).groupby("hyp").sum()
    known = known.join(score, on="hyp").fillna({c: 0.0 for c in score.columns})
    grid = pd.date_range(first, first + pd.Timedelta(days=span), freq=f"{scan_days}D")
    scan = pd.DataFrame({"customer_id": np.repeat(judged.index.to_numpy(), len(grid)),
                         "start": np.tile(grid, len(judged))})
    scan["positive"] = scan["customer_id"].isin(pos).to_numpy()
    scan["hyp"] = np.arange(len(scan))
    # a scan cannot use the true severity of a positive's episode: the null multiplier
    # of its invoices is recovered from the truth (its own baseline), then treated as a
    # negative's under every candidate start
    rows = _episode_rows(scan, _null_baseline(inv), as_of).assign(positive=False)
    llr = _evidence(rows, curves, never_pay_shift, expected=False).groupby("hyp")["llr"].sum()
    scan["llr"] = llr.reindex(scan["hyp"]).fillna(0.0).to_numpy()
    best = scan.groupby("customer_id").agg(llr=("llr", "max"), positive=("positive", "first"))
    best["weight"] = 1.0
    return {"known": known, "scan": best.reset_index()}


def _null_baseline(inv: pd.DataFrame) -> pd.DataFrame:
    """Invoices with the episode taken out of the simulator's inputs (the customer's own
    baseline: hazard multiplier and never-pay probability without distress)."""
    model = BehaviourModel()
    sev = inv["severity"].to_numpy()
    out = inv.copy()
    out["mult"] = inv["mult"] * np.exp(-model.distress_frailty_shift * sev)
    logit_q = (np.log(inv["never_p"] / (1 - inv["never_p"]))
               - model.distress_never_pay_shift * sev ** 2)
    out["never_p"] = 1 / (1 + np.exp(-logit_q))
    return out


def tradeoff(hyp: pd.DataFrame) -> pd.DataFrame:
    """Precision and recall of the oracle at every threshold on its LLR (nats)."""
    h = hyp.sort_values("llr", ascending=False)
    tp = h["positive"].cumsum().to_numpy()
    fp = (h["weight"] * ~h["positive"]).cumsum().to_numpy()
    n_pos = int(hyp["positive"].sum())
    return pd.DataFrame({"threshold": h["llr"].to_numpy(), "precision": tp / (tp + fp),
                         "recall": tp / n_pos})


def best_recall(curve: pd.DataFrame, precision: float) -> tuple[float, float, float]:
    """Highest recall with precision >= ``precision``: (recall, its precision, threshold)."""
    ok = curve.loc[curve["precision"] >= precision]
    if ok.empty:
        return float("nan"), float("nan"), float("nan")
    row = ok.loc[ok["recall"].idxmax()]
    return float(row["recall"]), float(row["precision"]), float(row["threshold"])

def oracle_report(seeds, n: int = 5000) -> None:
    """Print the oracle's figures per seed (markdown, for RESULTS.md)."""
    rows, dist, bands = [], [], []
    for seed in seeds:
        sim = sim_of(seed, n)
        for label, npay in (("three symptoms", False), ("+ never-pay shift", True)):
            res = oracle(sim, seed, never_pay_shift=npay)
            for kind in ("known", "scan"):
                curve = tradeoff(res[kind])
                r7, p7, t7 = best_recall(curve, 0.7)
                r8, p8, t8 = best_recall(curve, 0.8)
                rows.append({"seed": seed, "oracle": f"{label}, start {kind}",
                             "recall @ prec >= 0.7": r7, "(its precision)": p7,
                             "threshold (nats)": t7, "recall @ prec >= 0.8": r8,
                             "(its precision) ": p8})
            if not npay:
                k = res["known"].loc[res["known"]["positive"]]
                ev = evaluate_alerts(behaviour_alerts(sim.portfolio, as_of=AS_OF), sim.truth,
                                     sim.portfolio)
                caught = ev.detail.set_index("customer_id")["true_alert"]
                k = k.assign(caught=caught.reindex(k["customer_id"]).to_numpy(dtype=bool),
                             band=pd.cut(k["kl"], BANDS))
                bands.append(k.groupby("band", observed=False).agg(
                    positives=("kl", "size"), cusum_recall=("caught", "mean"),
                    median_invoices_after_start=("n_after", "median")).reset_index().assign(
                    seed=seed))
                dist.append({"seed": seed, "positives": len(k),
                             "median evidence (nats)": k["kl"].median(),
                             "share < 3 nats": (k["kl"] < 3).mean(),
                             "share < 5 nats": (k["kl"] < 5).mean(),
                             "lateness": k["kl_late"].sum() / k["kl"].sum(),
                             "order size": k["kl_amount"].sum() / k["kl"].sum(),
                             "part payments": k["kl_part"].sum() / k["kl"].sum(),
                             "median invoices after start": k["n_after"].median()})
    print("## Oracle: recall at precision >= 0.7 / 0.8\n")
    print(markdown(pd.DataFrame(rows)))
    print("\n## Expected evidence per positive (three symptoms, start known)\n")
    print(markdown(pd.DataFrame(dist)))
    print(f"\n## Recall of the CUSUM (h = {AlertParams().h:g}) by the positive's expected "
          "evidence (nats)\n")
    table = pd.concat(bands).assign(band=lambda f: f["band"].astype(str))
    print(markdown(table[["seed", "band", "positives", "cusum_recall",
                          "median_invoices_after_start"]]))


# -- re-armed chart: several alerts per customer (measured, not adopted) ----------------
def rearmed_alerts(chart: pd.DataFrame, h: float, min_late: int,
                   max_alerts: int = 10) -> pd.DataFrame:
    """Alerts with the chart re-armed after each one: the CUSUM restarts from 0 at the
    report after an alert (its persistence count too), so a customer can have several
    alerts over time, each with its own change point and evidence (``alert_number``)."""
    rounds = []
    sub = chart
    for number in range(1, max_alerts + 1):
        if sub.empty:
            break
        sub = _chart(sub.reset_index(drop=True))
        hit = (sub["S"].to_numpy() > h) & (sub["n_late"].to_numpy() >= min_late)
        if not hit.any():
            break
        first = pd.Series(np.flatnonzero(hit)).groupby(
            sub["customer_id"].to_numpy()[hit], sort=False).first()
        rounds.append(_first_alerts(sub, h, min_late).assign(alert_number=number))
        cut = first.reindex(sub["customer_id"]).to_numpy()
        sub = sub.loc[np.arange(len(sub)) > np.nan_to_num(cut, nan=np.inf)]
    return pd.concat(rounds, ignore_index=True) if rounds else pd.DataFrame(
        columns=["customer_id", "alert_date", "alert_number"])


def per_alert_scores(tc: pd.DataFrame, alerts: pd.DataFrame) -> dict:
    """Precision counted per alert (true: a positive's alert on or after its distress
    start), per customer (the customer's first alert, as ``evaluate_alerts``), recall
    (positives with at least one true alert) and the median lead of the first true one."""
    d = tc.loc[tc["eligible"]]
    a = alerts.merge(d[["positive", "distress_start", "event_at"]], left_on="customer_id",
                     right_index=True)
    true = a["positive"] & (a["alert_date"] >= a["distress_start"])
    caught = a.loc[true].groupby("customer_id")["alert_date"].min()
    event, start = d["event_at"].reindex(caught.index), d["distress_start"].reindex(caught.index)
    lead = (event - caught).dt.days[event.notna() & (event >= start)]
    falsely = a.loc[~true, "customer_id"].nunique()
    return {"precision per alert": float(true.mean()) if len(a) else float("nan"),
            "false-alarm customers": falsely, "recall": len(caught) / int(d["positive"].sum()),
            "median lead": float(lead.median()) if len(lead) else float("nan"),
            "alerts": len(a), "alerts per caught positive":
                float(true.sum() / max(len(caught), 1))}


def rearm_report(seeds, n: int = 5000, thresholds=(5, 6, 7, 8, 9, 10)) -> None:
    """First alert only (the product) against a chart re-armed after each alert."""
    p = AlertParams()
    rows = []
    for seed in seeds:
        sim = sim_of(seed, n)
        pt, payments = _inputs(sim.portfolio, AS_OF, None)
        obs = observations(pt, AS_OF, p)
        chart = _run(obs, p, pt, payments)
        tc = _truth_frame(sim.truth, sim.portfolio, obs, p, 1, 60)
        for h in thresholds:
            for label, alerts in (("first alert", _first_alerts(chart, h, p.min_late_invoices)),
                                  ("re-armed", rearmed_alerts(chart, h, p.min_late_invoices))):
                rows.append({"seed": seed, "h": h, "chart": label,
                             **per_alert_scores(tc, alerts)})
    print("## First alert only vs re-armed chart\n")
    print(markdown(pd.DataFrame(rows)))


# -- a change-point scan matched to the ramp (measured, not adopted) --------------------
def ramp_reports(sim, p: AlertParams) -> pd.DataFrame:
    """The detector's own reports (the CUSUM's inputs) with their raw scores: lateness
    Δz (the reference k taken out), the order-size z, the part-payment indicator and
    the baseline share p0; plus each invoice's issue date."""
    pt, payments = _inputs(sim.portfolio, AS_OF, None)
    obs = observations(pt, AS_OF, p)
    scale = _lateness_scale(p)
    mon, _ = _baselines(obs, p, scale)
    late = _reports(mon, p, scale).assign(signal="lateness", p0=np.nan)
    late["first"] = ~late.duplicated("invoice_id")
    late["raw"] = late["dz"] + np.where(late["first"], p.k, 0.0)
    monitored = pd.unique(mon["customer_id"])
    amount = _amount_reports(pt, monitored, p)
    amount = amount.assign(raw=amount["dz"] / p.amount_weight + p.amount_k, first=True,
                           p0=np.nan)
    part = _partial_reports(pt, payments, monitored, p, obs.attrs["as_of"])
    part = part.assign(raw=part["late"].astype(float), first=True, p0=part["before"])
    cols = ["customer_id", "invoice_id", "date", "signal", "raw", "first", "late", "p0"]
    r = pd.concat([late[cols], amount[cols], part[cols]], ignore_index=True)
    r["issue"] = pt.set_index("invoice_id")["issue_date"].reindex(r["invoice_id"]).to_numpy()
    return r.sort_values(["customer_id", "date", "issue"], kind="stable", ignore_index=True)


def ramp_chart(r: pd.DataFrame, a_late: float = 1.5, a_amount: float = 2.0,
               part_shift: float = 0.35, step_days: int = 30, ramp_days: int = 150):
    """GLR statistic over candidate starts s every ``step_days``: for each report, the
    largest Σ over the customer's reports of invoices issued from s of the Gaussian
    log-likelihood ratio of a mean shift a·severity (severity ramping 0→1 over
    ``ramp_days`` from s) in the lateness and order-size z, and the Bernoulli ratio of a
    part-payment share p0 + part_shift·severity; with the symptom count at that start.
    Amplitudes: order size 0.7 / 0.35 = 2 SDs and part payments +0.35 from the
    simulator; lateness 1.5 SDs (no closed form on the detector's scale)."""
    keys = r["customer_id"].to_numpy()
    issue = r["issue"].to_numpy()
    signal = r["signal"].to_numpy()
    raw, first, late = r["raw"].to_numpy(), r["first"].to_numpy(), r["late"].to_numpy()
    p0 = np.nan_to_num(r["p0"].to_numpy(), nan=0.05)
    grid = pd.date_range(pd.Timestamp(START) + pd.Timedelta(days=30), AS_OF,
                         freq=f"{step_days}D").to_numpy()
    best = np.full(len(r), -np.inf)
    best_late = np.zeros(len(r))
    for s in grid:
        after = issue >= s
        sev = np.clip(((issue - s) / np.timedelta64(1, "D") + 1) / ramp_days, 0, 1)
        a_l, a_a = a_late * sev, a_amount * sev
        p1 = np.minimum(p0 + part_shift * sev, 0.99)
        inc = np.select([signal == "lateness", signal == "amount"],
                        [a_l * raw - np.where(first, a_l ** 2 / 2, 0.0),
                         a_a * raw - a_a ** 2 / 2],
                        np.where(raw == 1, np.log(p1 / p0), np.log((1 - p1) / (1 - p0))))
        total = pd.Series(np.where(after, inc, 0.0)).groupby(keys, sort=False).cumsum()
        count = pd.Series(np.where(after, late, 0)).groupby(keys, sort=False).cumsum()
        better = total.to_numpy() > best
        best = np.where(better, total.to_numpy(), best)
        best_late = np.where(better, count.to_numpy(), best_late)
    return r.assign(S=np.maximum(best, 0.0), n_late=best_late)


def first_hits(chart: pd.DataFrame, h: float, min_late: int) -> pd.DataFrame:
    """Each customer's first report with S > h and enough symptoms (dates only)."""
    hit = (chart["S"].to_numpy() > h) & (chart["n_late"].to_numpy() >= min_late)
    rows = chart.loc[hit].drop_duplicates("customer_id", keep="first")
    return pd.DataFrame({"customer_id": rows["customer_id"].to_numpy(),
                         "alert_date": rows["date"].to_numpy()})


def ramp_report(seeds, n: int = 5000) -> None:
    """Best recall at precision >= 0.7 / 0.8 over thresholds: CUSUM vs the ramp scan."""
    p = AlertParams()
    rows = []
    for seed in seeds:
        sim = sim_of(seed, n)
        pt, payments = _inputs(sim.portfolio, AS_OF, None)
        obs = observations(pt, AS_OF, p)
        tc = _truth_frame(sim.truth, sim.portfolio, obs, p, 1, 60)
        charts = {"CUSUM (default)": (_run(obs, p, pt, payments), np.arange(6, 14, 0.5)),
                  "ramp-matched GLR scan": (ramp_chart(ramp_reports(sim, p)),
                                            np.arange(2, 14, 0.5))}
        for label, (chart, hs) in charts.items():
            curve = pd.DataFrame([{"h": h, **_score(tc, first_hits(
                chart, h, p.min_late_invoices))} for h in hs])
            for floor in (0.7, 0.8):
                ok = curve.loc[curve["precision"] >= floor]
                best = ok.loc[ok["recall"].idxmax()]
                rows.append({"seed": seed, "detector": label, "precision floor": floor,
                             "h": best["h"], "precision": best["precision"],
                             "recall": best["recall"], "median lead": best["median_lead_days"]})
    print("## CUSUM vs a change-point scan matched to the 150-day ramp\n")
    print(markdown(pd.DataFrame(rows)))


def speed() -> None:
    sim = simulate(50_000, example_strategies()["nudge_then_firm"], seed=1,
                   start="2023-11-01", end="2026-03-31")
    pt = sim.portfolio.payment_times(as_of="2026-03-31")
    t0, c0 = time.perf_counter(), time.process_time()
    res = behaviour_alerts(pt, as_of="2026-03-31", params=AlertParams(),
                           payments=sim.portfolio.payments)
    print(f"behaviour_alerts on {len(pt):,} invoices / 50,000 customers (payment times "
          f"and payments given): {time.perf_counter() - t0:.2f} s wall, "
          f"{time.process_time() - c0:.2f} s CPU, {len(res.frame)} alerts")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", default="3,11,12,21")
    parser.add_argument("--speed", action="store_true")
    parser.add_argument("--oracle", action="store_true",
                        help="only the oracle's upper bounds (seeds from --seeds)")
    parser.add_argument("--rearm", action="store_true",
                        help="only first-alert vs re-armed chart (seeds from --seeds)")
    parser.add_argument("--ramp", action="store_true",
                        help="only CUSUM vs a ramp-matched change-point scan")
    parser.add_argument("--customers", type=int, default=5000)
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    if args.oracle:
        oracle_report(seeds, args.customers)
        raise SystemExit
    if args.rearm:
        rearm_report(seeds, args.customers)
        raise SystemExit
    if args.ramp:
        ramp_report(seeds, args.customers)
        raise SystemExit
    figures(seeds)
    if args.speed:
        speed()

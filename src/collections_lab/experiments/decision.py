"""What to do after an experiment readout: adopt an arm, keep the control, or keep running.

:func:`recommend` turns an :class:`~collections_lab.experiments.readout.ExperimentReadout`
into one decision with its reason and uncertainty, in English or Spanish, for the top of
the readout report. The rules, in order:

1. **Sample ratio mismatch** (:attr:`SRMResult.mismatch`): no decision. The effects are
   not trustworthy until the assignment and the data pipeline are checked.
2. **The sequential plan says continue** (the weekly looks have not crossed the
   alpha-spending boundary and the planned payment events are not reached): keep running
   until the planned events are expected, extrapolated from the events per day seen so
   far. Stopping earlier on an uncorrected 95% interval would overstate the evidence.
3. Otherwise (the boundary was crossed, the final look was reached, or there is no
   sequential plan) **adopt** the treatment arm with the highest net value among those
   whose net value beats the control's (95% interval above zero and Holm-adjusted p below
   alpha across arms) without a clear churn increase (churn interval above
   ``max_churn_increase``) and within every non-inferiority margin of ``guardrails``
   (e.g. churn, escalation: the interval's harmful end inside the margin); if none
   qualifies, **keep the control**, saying why (the best arm's interval includes zero, it
   raises churn, it is not shown to respect a guardrail, or net value is not estimable).

Net value is the readout's ``net_value`` metric (cash in present value minus discount,
reminder and churn costs, per unit invoiced), shown per 100 invoiced; churn in
percentage points of customers.

Example
-------
>>> from collections_lab.experiments.synthetic import synthetic_payment_times
>>> from collections_lab.experiments.readout import analyze_experiment
>>> frame = synthetic_payment_times(1500, seed=4, arm_hr={"control": 1.0, "treatment": 1.3})
>>> rec = recommend(analyze_experiment(frame, start="2025-03-01", segments=False))
>>> rec.decision in DECISIONS
True
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..i18n import ResultMixin, format_number, format_pct, resolve, t
from .metric_registry import get_metric

#: The possible decisions, in the order the rules are checked.
DECISIONS = ("check_assignment", "keep_running", "adopt", "keep_control")


@dataclass
class Recommendation(ResultMixin):
    """One decision from a readout (see the module docstring for the rules).

    ``decision`` is one of :data:`DECISIONS`; ``arm`` the arm adopted (``adopt``) or the
    best arm discussed (``keep_control`` / ``keep_running``), else None. Net value and
    churn are the readout's effects versus control for that arm (net value per unit
    invoiced, churn as a share of customers) with their 95% interval; ``until`` the date
    the planned payment events are expected (``keep_running``).
    """

    decision: str
    control: str
    arm: str | None = None
    reason: str = ""  # machine-readable reason: srm, sequential, gain, no_gain, churn, ...
    net_value: tuple[float, float, float] | None = None
    net_value_p_holm: float | None = None
    churn: tuple[float, float, float] | None = None
    until: pd.Timestamp | None = None
    information_fraction: float | None = None
    z: float | None = None
    boundary: float | None = None
    stop_look: int | None = None
    srm_p_value: float | None = None
    #: The guardrail that ruled the best arm out: (metric, effect, ci_low, ci_high, margin).
    guardrail: tuple | None = None
    #: Arms compared with control (the Holm family) and the readout's significance level.
    comparisons: int | None = None
    alpha: float = 0.05
    title = "Recommendation"

    def to_frame(self) -> pd.DataFrame:
        row = {"decision": self.decision, "arm": self.arm, "control": self.control,
               "reason": self.reason}
        for name, triple in (("net_value", self.net_value), ("churn", self.churn)):
            row.update(dict(zip((name, f"{name}_ci_low", f"{name}_ci_high"),
                                triple or (np.nan,) * 3, strict=True)))
        row.update({"net_value_p_holm": self.net_value_p_holm, "until": self.until,
                    "information_fraction": self.information_fraction})
        return pd.DataFrame([row])

    def report_html(self) -> str:
        """The decision as a report shows it: one bold paragraph."""
        return f'<p class="cl-recommendation"><b>{html.escape(self.summary())}</b></p>'

    def summary(self, lang: str | None = None) -> str:
        """The recommendation, its reason and uncertainty, in one or two sentences."""
        lang, _ = resolve(lang)
        def num(x, scale=100.0, decimals=2):
            return format_number(x * scale, decimals, lang)

        if self.decision == "check_assignment":
            return t("rec_check_assignment", lang).format(
                p=format_number(self.srm_p_value, 4, lang))
        if self.decision == "keep_running":
            until = (t("rec_until", lang).format(date=self.until.date().isoformat())
                     if self.until is not None else t("rec_until_unknown", lang))
            leader = ""
            if self.arm is not None and self.net_value is not None:
                x, lo, hi = self.net_value
                leader = t("rec_leader", lang).format(arm=self.arm, x=num(x), lo=num(lo),
                                                      hi=num(hi), churn=self._churn_text(lang))
            info = format_pct(self.information_fraction or 0.0, 0, lang)
            return t("rec_keep_running", lang).format(
                until=until, info=info, leader=leader,
                z=format_number(abs(self.z), 2, lang) if self.z is not None else "–",
                b=format_number(self.boundary, 2, lang) if self.boundary is not None else "–")
        if self.decision == "adopt":
            x, lo, hi = self.net_value
            why = ""
            if self.reason == "sequential_stop":
                why = t("rec_why_stop", lang).format(k=self.stop_look)
            elif self.reason == "sequential_final":
                why = t("rec_why_final", lang)
            return t("rec_adopt", lang).format(
                arm=self.arm, control=self.control, x=num(x), lo=num(lo), hi=num(hi),
                p=format_number(self.net_value_p_holm, 3, lang), why=why,
                churn=self._churn_text(lang))
        if self.reason == "guardrail":
            x, lo, hi = self.net_value
            metric, c, clo, chi, m = self.guardrail
            pct = metric not in ("hazard_ratio", "median_days", "rmst_days")
            scale = 100.0 if pct else 1.0
            reason = t("rec_reason_guardrail", lang).format(
                arm=self.arm, x=num(x), lo=num(lo), hi=num(hi), metric=t(f"xp_metric_{metric}", lang),
                m=num(m, scale), c=num(c, scale), clo=num(clo, scale), chi=num(chi, scale))
        elif self.reason == "churn":
            x, lo, hi = self.net_value
            c, clo, chi = self.churn
            reason = t("rec_reason_churn", lang).format(
                arm=self.arm, x=num(x), lo=num(lo), hi=num(hi), c=num(c, decimals=1),
                clo=num(clo, decimals=1), chi=num(chi, decimals=1))
        elif self.net_value is not None:
            x, lo, hi = self.net_value
            # an interval above zero yet no adoption: the adjustment for the other arms
            # decided, and the sentence must say so (it read as a contradiction)
            key = ("rec_reason_no_gain_holm" if lo > 0 and (self.comparisons or 1) > 1
                   else "rec_reason_no_gain")
            reason = t(key, lang).format(
                arm=self.arm, x=num(x), lo=num(lo), hi=num(hi), k=self.comparisons,
                p=format_number(self.net_value_p_holm, 3, lang),
                alpha=format_pct(self.alpha, None, lang))
        else:
            reason = t("rec_reason_no_metric", lang)
        return t("rec_keep_control", lang).format(control=self.control, reason=reason)

    def _churn_text(self, lang: str) -> str:
        if self.churn is None:
            return t("rec_churn_unknown", lang)
        c, clo, chi = (format_number(v * 100, 1, lang) for v in self.churn)
        return t("rec_churn", lang).format(c=c, clo=clo, chi=chi)


def _triple(row) -> tuple[float, float, float] | None:
    if row is None or not np.isfinite(row["effect"]):
        return None
    return float(row["effect"]), float(row["ci_low"]), float(row["ci_high"])


def _tested(row) -> tuple[float, float, float] | None:
    """The effect triple when the readout could test it (it has a p-value), else None.

    Churn of 100 % in both arms (every customer gone by the data's end) has an interval of
    zero width around a zero effect: "churn 0.0 points (95% CI 0.0 to 0.0)" stated a
    certainty the data does not have.
    """
    if row is None or pd.isna(row.get("p_value", np.nan)):
        return None
    return _triple(row)


def _until(looks: pd.DataFrame) -> pd.Timestamp | None:
    """When the planned events should be reached, at the pace of events seen so far."""
    seen = looks[looks["information_fraction"] > 0]
    if len(seen) < 2:
        return None
    first, last = seen.iloc[0], seen.iloc[-1]
    try:
        day0, day1 = pd.Timestamp(first["label"]), pd.Timestamp(last["label"])
    except (ValueError, TypeError):
        return None  # looks labelled by number, not by date
    days = (day1 - day0).days
    rate = (last["events"] - first["events"]) / days if days > 0 else 0.0
    if rate <= 0:
        return None
    planned = last["events"] / last["information_fraction"]
    return day1 + pd.Timedelta(days=math.ceil((planned - last["events"]) / rate))


def recommend(readout, max_churn_increase: float = 0.0, metric: str = "net_value",
              guardrails: dict[str, float] | None = None) -> Recommendation:
    """The decision a readout supports: adopt an arm, keep the control, or keep running.

    Args:
        readout: an :class:`~collections_lab.experiments.readout.ExperimentReadout`.
        max_churn_increase: churn increase (share of customers, e.g. 0.005) an adopted
            arm may have at the lower end of its 95% interval; 0 = any clear increase
            rules the arm out.
        metric: the value metric the decision maximises (default ``net_value``).
        guardrails: non-inferiority margins, ``{metric: margin}`` in the metric's units
            (e.g. ``{"churn": 0.01, "escalation_rate": 0.005}``: at most one point more
            churn, half a point more escalation). An arm is adopted only if, for each, the
            95% interval's end on the harmful side stays within the margin (it is *shown*
            not to be worse by more than that, not merely "not clearly worse"); a guardrail
            not estimable yet fails. Otherwise the decision is ``keep_control`` with reason
            ``guardrail``.

    Returns:
        :class:`Recommendation`; its ``summary(lang)`` is the sentence for the report.
    """
    control = readout.control
    if readout.srm.mismatch:
        return Recommendation("check_assignment", control, reason="srm",
                              srm_p_value=float(readout.srm.p_value))
    effects = readout.effects
    arms = [a for a in readout.arms if a != control]

    def row(arm, name):
        rows = effects[(effects["arm"] == arm) & (effects["metric"] == name)]
        return rows.iloc[0] if len(rows) else None

    values = {a: row(a, metric) for a in arms}
    values = {a: r for a, r in values.items() if r is not None and np.isfinite(r["effect"])}
    best = max(values, key=lambda a: values[a]["effect"]) if values else None

    def details(arm):
        if arm is None:
            return {}
        r = values[arm]
        p = r.get("p_holm", r["p_value"])
        return {"arm": arm, "net_value": _triple(r),
                "net_value_p_holm": float(p) if pd.notna(p) else None,
                "churn": _tested(row(arm, "churn")), "comparisons": len(arms),
                "alpha": float(readout.alpha)}

    seq = readout.sequential
    if seq is not None and seq.decision == "continue":
        tested = seq.looks.dropna(subset=["z"])
        last = tested.iloc[-1] if len(tested) else None
        return Recommendation(
            "keep_running", control, reason="sequential", until=_until(seq.looks),
            information_fraction=float(seq.looks["information_fraction"].max()),
            z=None if last is None else float(last["z"]),
            boundary=None if last is None else float(last["boundary"]), **details(best))
    reason = {None: "fixed_sample", "stop_efficacy": "sequential_stop",
              "final_no_effect": "sequential_final"}[None if seq is None else seq.decision]
    stop_look = None if seq is None else seq.stop_look

    def churn_harm(arm):
        churn = _tested(row(arm, "churn"))
        return churn is not None and churn[1] > max_churn_increase

    def gains(arm):
        r = values[arm]
        p = r.get("p_holm", r["p_value"])
        return r["ci_low"] > 0 and pd.notna(p) and p < readout.alpha

    def broken_guardrail(arm):
        """The first guardrail the arm is not shown to respect, as a tuple, else None."""
        for name, margin in (guardrails or {}).items():
            r = row(arm, name)
            if r is None or not np.isfinite(r["effect"]):
                return (name, np.nan, np.nan, np.nan, margin)
            lo, hi = float(r["ci_low"]), float(r["ci_high"])
            spec = get_metric(name)
            if spec.is_ratio:  # the hazard ratio: margin on HR - 1
                lo, hi = lo - 1, hi - 1
            harmful_end = -lo if spec.higher_is_better else hi
            if not harmful_end < margin:
                effect = float(r["effect"]) - (1 if spec.is_ratio else 0)
                return (name, effect, lo, hi, margin)
        return None

    winners = [a for a in values if gains(a) and not churn_harm(a) and not broken_guardrail(a)]
    if winners:
        arm = max(winners, key=lambda a: values[a]["effect"])
        return Recommendation("adopt", control, reason=reason, stop_look=stop_look,
                              **details(arm))
    if best is None:
        return Recommendation("keep_control", control, reason="no_metric")
    if gains(best) and churn_harm(best):
        return Recommendation("keep_control", control, reason="churn", **details(best))
    if gains(best) and broken_guardrail(best):
        return Recommendation("keep_control", control, reason="guardrail",
                              guardrail=broken_guardrail(best), **details(best))
    return Recommendation("keep_control", control, reason="no_gain", **details(best))

"""Group-sequential analysis: Lan–DeMets alpha spending for scheduled weekly readouts.

A weekly report that tests the experiment every week looks at the data repeatedly; testing
each look at 5% inflates the false-positive rate well above 5%. Alpha spending fixes it:
the total alpha is spent over the looks according to a spending function of the
**information fraction** (here: payment events observed / events planned), and each look
gets a boundary that the |z| statistic must cross to stop.

Boundaries are computed by recursive numerical integration of the joint distribution of
the z statistics at the looks (Armitage–McPherson–Rowe, as in Jennison & Turnbull 2000,
ch. 19). We write it here because no well-kept Python package for group-sequential
boundaries is installed (R's ``gsDesign`` / ``ldbounds`` are the references; tests check
published values).

Example
-------
>>> b = lan_demets_boundaries([0.2, 0.4, 0.6, 0.8, 1.0])
>>> [round(float(x), 2) for x in b]
[4.88, 3.36, 2.68, 2.29, 2.03]
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import optimize, stats
from scipy.special import ndtr

from ..i18n import ResultMixin, format_number, resolve


def obrien_fleming_spending(t, alpha: float = 0.05) -> np.ndarray:
    """Lan–DeMets O'Brien–Fleming-type spending, two-sided and symmetric.

    Each side spends ``α/2`` as ``2 - 2 Φ(z_{1-α/4} / √t)`` — the convention of R's
    ``ldbounds`` and ``gsDesign::sfLDOF`` (whose published boundaries the tests check); the
    two-sided total is twice that.
    """
    t = np.clip(np.asarray(t, dtype=float), 1e-12, 1.0)
    one_side = 2.0 - 2.0 * stats.norm.cdf(stats.norm.ppf(1 - alpha / 4) / np.sqrt(t))
    return 2.0 * one_side


def pocock_spending(t, alpha: float = 0.05) -> np.ndarray:
    """Lan–DeMets Pocock-type spending: ``α log(1 + (e - 1) t)``."""
    t = np.clip(np.asarray(t, dtype=float), 0.0, 1.0)
    return alpha * np.log1p((np.e - 1) * t)


#: Boundaries are capped here (two-sided p about 1e-17): looks with almost no information.
MAX_BOUNDARY = 8.5

SPENDING = {"obrien_fleming": obrien_fleming_spending, "pocock": pocock_spending}


def lan_demets_boundaries(fractions, alpha: float = 0.05, spending: str = "obrien_fleming",
                          grid: int = 401) -> np.ndarray:
    """Two-sided efficacy boundaries (|z| scale) at increasing information ``fractions``.

    Parameters
    ----------
    fractions
        Information fractions of the looks so far, strictly increasing in (0, 1]. A
        fraction of 1 spends all remaining alpha.
    alpha
        Overall two-sided type-I error.
    spending
        ``"obrien_fleming"`` (conservative early, the usual choice) or ``"pocock"``.
    grid
        Points of the integration grid per look (Simpson's rule).

    >>> [round(float(x), 3) for x in lan_demets_boundaries([0.5, 1.0])]
    [2.963, 1.969]
    """
    t = np.asarray(fractions, dtype=float)
    if t.ndim != 1 or len(t) == 0:
        raise ValueError("fractions must be a non-empty list of information fractions")
    if np.any(t <= 0) or np.any(t > 1 + 1e-9) or np.any(np.diff(t) <= 0):
        raise ValueError(f"information fractions must increase within (0, 1], got {t.tolist()}")
    if spending not in SPENDING:
        raise ValueError(f"spending must be one of {list(SPENDING)}")
    spent = SPENDING[spending](t, alpha)
    increments = np.diff(np.concatenate(([0.0], spent)))
    bounds = np.empty(len(t))
    # an almost-zero first increment (tiny information) would give an infinite boundary
    bounds[0] = min(stats.norm.isf(max(increments[0], 1e-300) / 2), MAX_BOUNDARY)
    if grid % 2 == 0:
        grid += 1
    simpson = np.ones(grid)
    simpson[1:-1:2], simpson[2:-1:2] = 4.0, 2.0
    simpson /= 3.0
    # density of Z_1 on the continuation region (-b1, b1)
    z = np.linspace(-bounds[0], bounds[0], grid)
    dens = np.exp(-0.5 * z * z) / np.sqrt(2 * np.pi)
    for k in range(1, len(t)):
        dt = t[k] - t[k - 1]
        s_prev = z * np.sqrt(t[k - 1])  # score scale
        weights = dens * simpson * (z[1] - z[0])

        def exit_prob(b, s_prev=s_prev, weights=weights, dt=dt, k=k):
            upper = ndtr((s_prev - b * np.sqrt(t[k])) / np.sqrt(dt))
            lower = ndtr((-b * np.sqrt(t[k]) - s_prev) / np.sqrt(dt))
            return float(weights @ (upper + lower))

        target = max(increments[k], 1e-15)
        bounds[k] = optimize.brentq(lambda b, target=target: exit_prob(b) - target, 0.0, 40.0,
                                    xtol=1e-10)
        z_new = np.linspace(-bounds[k], bounds[k], grid)
        arg = (z_new[:, None] * np.sqrt(t[k]) - s_prev[None, :]) / np.sqrt(dt)
        kernel = np.exp(-0.5 * arg * arg) * (np.sqrt(t[k] / dt) / np.sqrt(2 * np.pi))
        dens = kernel @ weights
        z = z_new
    return bounds


@dataclass
class SequentialResult(ResultMixin):
    """Looks of a group-sequential test, their boundaries and the decision."""

    looks: pd.DataFrame
    metric: str
    alpha: float
    spending: str
    decision: str  # "stop_efficacy", "continue", "final_no_effect"
    stop_look: int | None = None
    notes: list[str] = field(default_factory=list)
    title = "Sequential analysis (Lan–DeMets alpha spending)"

    def to_frame(self) -> pd.DataFrame:
        return self.looks

    @property
    def can_stop(self) -> bool:
        return self.decision in ("stop_efficacy", "final_no_effect")

    def summary(self, lang: str | None = None) -> str:
        lang, _ = resolve(lang)
        from ..i18n import t

        tested = self.looks.dropna(subset=["z"])
        if tested.empty:
            return t("seq_continue", lang).format(k=0, info="0%", z="–", b="–")
        row = tested.iloc[-1] if self.stop_look is None else self.looks.loc[self.stop_look]
        fmt = {"k": int(row["look"]), "z": format_number(abs(row["z"]), 2, lang),
               "b": format_number(row["boundary"], 2, lang),
               "info": f"{format_number(100 * row['information_fraction'], 0, lang)}%"}
        key = {"stop_efficacy": "seq_stop_efficacy", "continue": "seq_continue",
               "final_no_effect": "seq_final"}[self.decision]
        return t(key, lang).format(**fmt)


def group_sequential_test(z_values, events, planned_events: float, alpha: float = 0.05,
                          spending: str = "obrien_fleming", metric: str = "",
                          look_labels=None) -> SequentialResult:
    """Apply alpha spending to the z statistics observed at successive looks.

    Parameters
    ----------
    z_values
        z statistic of the primary metric at each look so far (NaN = not estimable yet;
        such a look spends no alpha).
    events
        Payment events observed at each look (the information measure).
    planned_events
        Events expected at the final analysis (from the design). Once reached, the look is
        final and spends what is left of alpha.
    """
    z_values = np.asarray(z_values, dtype=float)
    events = np.asarray(events, dtype=float)
    if len(z_values) != len(events):
        raise ValueError("z_values and events need one entry per look")
    if planned_events <= 0:
        raise ValueError("planned_events must be > 0")
    frac = np.minimum(events / planned_events, 1.0)
    labels = list(look_labels) if look_labels is not None else list(range(1, len(z_values) + 1))
    tested = np.isfinite(z_values) & (frac > 0)
    # a look must add information to count; repeated fractions are merged into the later one
    idx = np.flatnonzero(tested)
    keep = []
    for i in idx:
        if keep and frac[i] <= frac[keep[-1]] + 1e-12:
            continue
        keep.append(i)
    bounds = np.full(len(z_values), np.nan)
    if keep:
        bounds[keep] = lan_demets_boundaries(frac[keep], alpha, spending)
    looks = pd.DataFrame({
        "look": range(1, len(z_values) + 1),
        "label": labels,
        "events": events,
        "information_fraction": frac,
        "z": z_values,
        "boundary": bounds,
        "nominal_p": 2 * stats.norm.sf(bounds),
    })
    looks["crossed"] = np.abs(looks["z"]) >= looks["boundary"]
    crossed = looks.index[looks["crossed"].fillna(False).astype(bool)]
    if len(crossed):
        decision, stop = "stop_efficacy", int(looks.loc[crossed[0], "look"])
    elif keep and frac[keep[-1]] >= 1.0 - 1e-12:
        decision, stop = "final_no_effect", None
    else:
        decision, stop = "continue", None
    return SequentialResult(looks.set_index("look", drop=False), metric, alpha, spending,
                            decision, stop)


def naive_repeated_test(z_values, alpha: float = 0.05) -> bool:
    """Whether any look's |z| exceeds the fixed-sample critical value (the naive peek)."""
    z = np.asarray(z_values, dtype=float)
    return bool(np.any(np.abs(z[np.isfinite(z)]) >= stats.norm.isf(alpha / 2)))

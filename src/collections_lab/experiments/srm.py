"""Sample-ratio-mismatch (SRM) check: are the arms the sizes the assignment intended?

A mismatch (say 52/48 where 50/50 was planned) means the assignment or the data pipeline
is broken — customers lost or duplicated in one arm — and every effect estimate is
suspect. The check is a chi-square goodness-of-fit test of customer counts per arm,
overall and within each segment; the readout warns loudly when p < ``threshold``.

Example
-------
>>> import pandas as pd
>>> a = pd.DataFrame({"customer_id": range(1000), "arm": ["a"] * 560 + ["b"] * 440})
>>> r = srm_check(a, weights={"a": 0.5, "b": 0.5})
>>> r.mismatch
True
"""

from __future__ import annotations

import html
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from ..i18n import ResultMixin, p_text, resolve, tables_html


@dataclass
class SRMResult(ResultMixin):
    """Observed versus expected customers per arm, overall and by segment."""

    table: pd.DataFrame
    p_value: float
    segment_p_values: dict
    threshold: float = 0.001
    #: ``"assignments"`` (the randomised units) or ``"data"`` (customers seen in the
    #: analysed invoices); the warning names the second.
    population: str = "assignments"
    title = "Sample ratio check"

    @property
    def mismatched_segments(self) -> list[str]:
        return [s for s, p in self.segment_p_values.items() if p < self.threshold]

    @property
    def mismatch(self) -> bool:
        return self.p_value < self.threshold or bool(self.mismatched_segments)

    def to_frame(self) -> pd.DataFrame:
        return self.table

    def report_html(self) -> str:
        """The table as a report shows it, preceded by a red warning box when the split
        is off."""
        box = ""
        if self.mismatch:
            box = ('<div style="border:3px solid #c00;background:#fee;padding:8px;'
                   f'font-weight:bold">{html.escape(self.summary())}</div>')
        return box + tables_html(self)

    def summary(self, lang: str | None = None) -> str:
        lang, _ = resolve(lang)
        from ..i18n import t

        p = p_text(self.p_value, lang)
        if not self.mismatch:
            return t("srm_ok", lang).format(p=p)
        where = ""
        if self.mismatched_segments:
            where = t("srm_in_segment", lang).format(segments=", ".join(self.mismatched_segments))
        if self.population == "data":
            where += t("srm_in_data", lang)
        return t("srm_warning", lang).format(p=p, where=where)


def _chi2(counts: np.ndarray, shares: np.ndarray) -> float:
    total = counts.sum()
    if total == 0:
        return 1.0
    return float(stats.chisquare(counts, shares * total).pvalue)


def srm_check(assignments: pd.DataFrame, weights: dict[str, float] | None = None,
              segment_col: str | None = "segment", threshold: float = 0.001,
              population: str = "assignments") -> SRMResult:
    """Chi-square test of customers per arm against the planned ``weights``.

    Args:
        assignments: One row per customer with ``arm`` (and ``segment`` for the per-segment check),
            e.g. the assignments table joined to customers, or customers seen in the data.
        weights: Planned share per arm (any positive scale); default equal.
        threshold: p-value below which the mismatch is flagged (0.001 is the usual, strict, choice:
            SRM tests are run often and a true mismatch gives tiny p-values).
        population: ``"assignments"`` or ``"data"`` (``assignments`` holds the customers seen in the
            analysed data): only changes the wording of the warning.

    Example:
        >>> print(cl.srm_check(portfolio.assignments).summary())
        Arm sizes match the planned split (p = 0.9081).
    """
    if population not in ("assignments", "data"):
        raise ValueError("population must be 'assignments' or 'data'")
    if "arm" not in assignments:
        raise ValueError("srm_check needs an 'arm' column")
    per_customer = assignments.drop_duplicates("customer_id") if "customer_id" in assignments \
        else assignments
    arms = sorted(per_customer["arm"].astype(str).unique())
    if weights:
        unknown = sorted(set(arms) - set(weights))
        if unknown:
            raise ValueError(f"arm(s) {unknown} found in the data but not in the planned weights")
        arms = list(weights)
    w = np.array([(weights or {}).get(a, 1.0) for a in arms], dtype=float)
    shares = w / w.sum()
    counts = per_customer["arm"].astype(str).value_counts().reindex(arms, fill_value=0)
    rows = pd.DataFrame({"segment": "all", "arm": arms, "customers": counts.to_numpy(),
                         "expected": shares * counts.sum()})
    p_all = _chi2(counts.to_numpy(), shares)
    rows["p_value"] = p_all
    seg_p = {}
    tables = [rows]
    if segment_col and segment_col in per_customer:
        for seg, grp in per_customer.groupby(segment_col, sort=True):
            c = grp["arm"].astype(str).value_counts().reindex(arms, fill_value=0).to_numpy()
            seg_p[str(seg)] = _chi2(c, shares)
            tables.append(pd.DataFrame({"segment": str(seg), "arm": arms, "customers": c,
                                        "expected": shares * c.sum(), "p_value": seg_p[str(seg)]}))
    table = pd.concat(tables, ignore_index=True)
    table["share"] = table["customers"] / table.groupby("segment")["customers"].transform("sum")
    return SRMResult(table, p_all, seg_p, threshold, population)

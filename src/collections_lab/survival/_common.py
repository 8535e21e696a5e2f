"""Shared input checks and the whole-day life table behind every survival estimator.

Every estimator in :mod:`collections_lab.survival` accepts either the payment-times frame
(one row per invoice) or an aggregated counts frame (one row per group × day × outcome with
a count column, see :mod:`collections_lab.survival.aggregated`). Both are "weighted rows":
a row-level frame simply has weight 1 everywhere. Durations are whole days, so a life table
is a ``bincount`` and every estimator is exact on counts.

Bad input raises :class:`SurvivalInputError` naming the column, group or value at fault, so
an analyst never sees a stack trace from deep inside lifelines. Input that can be estimated
but must be read with care (a group with no payments, a category level with no invoices)
gives a :class:`SurvivalWarning` naming the group, and the same note is kept on the result
and shown by its ``summary()`` and ``_repr_html_`` (:class:`NotedResult`).
"""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..i18n import ResultMixin, t
from .influence import clustered_variance


class SurvivalInputError(ValueError):
    """Bad input to a survival estimator: the message says what is wrong and where.

    Example:
        >>> cl.kaplan_meier(pt, by="no_such_column")
        Traceback (most recent call last):
            ...
        collections_lab.survival._common.SurvivalInputError: kaplan_meier: missing column(s) ...
    """


class SurvivalWarning(UserWarning):
    """An estimate was computed but must be read with care; the message says which group and why.

    Example:
        >>> import warnings
        >>> unpaid = pt.assign(event=pt["event"] & (pt["arm"] == "control"))
        >>> with warnings.catch_warnings(record=True) as caught:
        ...     warnings.simplefilter("always")
        ...     _ = cl.kaplan_meier(unpaid, by="arm")
        >>> caught[0].category.__name__
        'SurvivalWarning'
    """


@dataclass(frozen=True)
class Note:
    """A caution attached to a result: a catalogue key and the fields of its sentence.

    A field named ``consequence`` holds a catalogue key too (translated with the note).
    """

    key: str
    fields: tuple = ()

    def text(self, lang: str | None = None) -> str:
        fields = dict(self.fields)
        if "consequence" in fields:
            fields["consequence"] = t(fields["consequence"], lang)
        return t(self.key, lang, **fields)

    @property
    def en(self) -> str:
        """The English text (warnings and logs)."""
        return self.text("en")


def caution(notes: list | None, key: str, **fields) -> Note:
    """Emit a :class:`SurvivalWarning` (English text) and append the :class:`Note` of
    catalogue ``key`` (with ``fields``) to ``notes``."""
    note = Note(key, tuple((name, str(value)) for name, value in fields.items()))
    en = note.en
    # point the warning at the caller's code, not at this package's internals
    here, frame, level = os.path.dirname(os.path.abspath(__file__)), sys._getframe(0), 1
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(here):
        frame, level = frame.f_back, level + 1
    warnings.warn(en, SurvivalWarning, stacklevel=level)
    if notes is not None and note not in notes:
        notes.append(note)
    return note


class NotedResult(ResultMixin):
    """Result mixin: shows the result's ``notes`` (cautions) under its table and in summaries.

    Subclasses are dataclasses with a ``notes: list`` field of :class:`Note`.
    """

    notes: list

    def notes_text(self, lang: str | None = None) -> str:
        """The notes as sentences ("" when there are none), to append to a summary."""
        head = t("note.head", lang)
        texts = self.note_texts(lang)
        return "".join(f" {head}{x}{'' if x.endswith('.') else '.'}" for x in texts)

    def headline(self, lang: str | None = None) -> str:
        """The summary without its notes (a card shows them under its table)."""
        text, tail = str(self.summary(lang=lang)), self.notes_text(lang)
        return text[:-len(tail)] if tail and text.endswith(tail) else text

    def note_texts(self, lang: str | None = None) -> list[str]:
        """The notes, one sentence each (shown under the result's tables)."""
        return [n.text(lang) for n in getattr(self, "notes", []) or []]


def groups_without_events(data: dict, before: int | None = None, cause: int | None = None) -> list[str]:
    """Groups of :func:`prepare_groups` output with no event (of ``cause``; any if None), or
    none on a day < ``before``."""
    out = []
    for g, d in data.items():
        hit = ((d.causes > 0) if cause is None else (d.causes == cause)) & (d.weights > 0)
        if before is not None:
            hit &= d.durations < before
        if not hit.any():
            out.append(g)
    return out


def note_groups_without_events(data: dict, where: str, consequence: str,
                               notes: list | None, before: int | None = None,
                               cause: int | None = None) -> list[str]:
    """The shared check for groups with no payments: warn naming them, keep the note; return them.

    ``consequence`` is the catalogue key saying what that does to this estimator's output
    (e.g. "no p-value").
    """
    empty = groups_without_events(data, before, cause)
    if empty:
        if before is None:
            caution(notes, "note.no_payments", where=where, groups=empty,
                    consequence=consequence)
        else:
            caution(notes, "note.no_payments_before", where=where, groups=empty, before=before,
                    consequence=consequence)
    return empty


def note_unused_levels(frame: pd.DataFrame, columns: Sequence[str], weights: np.ndarray, where: str,
                       notes: list | None) -> dict:
    """Warn about category levels with no invoices (they are left out of the estimates).

    A pandas ``Categorical`` keeps levels that no row uses (e.g. after filtering); a counts
    table can hold rows with count 0. Either way the level silently has no curve, test
    term or coefficient, so name it. Returns ``{column: [unused levels]}``.
    """
    out = {}
    used_rows = np.asarray(weights) > 0
    for col in columns:
        s = frame[col]
        levels = list(s.cat.categories) if isinstance(s.dtype, pd.CategoricalDtype) else pd.unique(s).tolist()
        used = set(pd.unique(s[used_rows]).tolist())
        unused = [lv for lv in levels if lv not in used]
        if unused:
            out[col] = unused
            caution(notes, "note.unused_levels", where=where, levels=unused, column=repr(col))
    return out


def as_list(by: str | Sequence[str] | None) -> list[str]:
    """``None`` -> ``[]``, ``"segment"`` -> ``["segment"]``, lists unchanged."""
    if by is None:
        return []
    if isinstance(by, str):
        return [by]
    return list(by)


def require_columns(frame: pd.DataFrame, columns: Sequence[str], where: str) -> None:
    """Raise if ``frame`` is not a non-empty DataFrame with all ``columns``."""
    if not isinstance(frame, pd.DataFrame):
        raise SurvivalInputError(f"{where}: expected a pandas DataFrame, got {type(frame).__name__}")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise SurvivalInputError(
            f"{where}: missing column(s) {missing}; the frame has {list(frame.columns)}"
        )
    if len(frame) == 0:
        raise SurvivalInputError(f"{where}: the frame is empty (no invoices)")


def whole_days(values: pd.Series, where: str, allow_negative: bool = False) -> np.ndarray:
    """Durations as int64 whole days; raise on NaN, fractions or negative values."""
    arr = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    bad = np.isnan(arr)
    if bad.any():
        raise SurvivalInputError(
            f"{where}: column {values.name!r} has {int(bad.sum())} missing/non-numeric value(s)"
        )
    if not np.all(arr == np.round(arr)):
        raise SurvivalInputError(
            f"{where}: column {values.name!r} must hold whole days (found e.g. "
            f"{arr[arr != np.round(arr)][0]}); round dates to midnight first"
        )
    if not allow_negative and (arr < 0).any():
        raise SurvivalInputError(
            f"{where}: column {values.name!r} has {int((arr < 0).sum())} negative duration(s)"
        )
    return arr.astype(np.int64)


def weights_of(frame: pd.DataFrame, weight_col: str | None, where: str) -> np.ndarray:
    """Frequency weights (counts) as float64; 1 per row when ``weight_col`` is None."""
    if weight_col is None:
        return np.ones(len(frame))
    if weight_col not in frame.columns:
        raise SurvivalInputError(f"{where}: weight column {weight_col!r} not in the frame")
    w = pd.to_numeric(frame[weight_col], errors="coerce").to_numpy(dtype=float)
    if np.isnan(w).any() or (w < 0).any() or not np.all(w == np.round(w)):
        raise SurvivalInputError(
            f"{where}: weight column {weight_col!r} must hold non-negative whole counts"
        )
    return w


def events_of(frame: pd.DataFrame, event_col: str, where: str) -> np.ndarray:
    """The event indicator as bool; raise on missing values or values other than 0/1."""
    ev = frame[event_col]
    if ev.isna().any():
        raise SurvivalInputError(f"{where}: column {event_col!r} has missing values")
    arr = ev.to_numpy()
    if arr.dtype != bool:
        num = pd.to_numeric(ev, errors="coerce").to_numpy(dtype=float)
        if np.isnan(num).any() or not np.isin(num, (0.0, 1.0)).all():
            raise SurvivalInputError(f"{where}: column {event_col!r} must be boolean or 0/1")
        arr = num == 1.0
    return arr


def group_labels(frame: pd.DataFrame, by: Sequence[str], where: str) -> pd.Series:
    """One readable label per row ("retail / A"); the whole frame is one group if ``by=[]``."""
    if not by:
        return pd.Series(["all"] * len(frame), index=frame.index, dtype=object)
    for col in by:
        if col not in frame.columns:
            raise SurvivalInputError(f"{where}: grouping column {col!r} not in the frame")
        if frame[col].isna().any():
            raise SurvivalInputError(
                f"{where}: grouping column {col!r} has {int(frame[col].isna().sum())} missing "
                "value(s); fill them (e.g. 'unknown') so no invoice is dropped silently"
            )
    if len(by) == 1:
        return frame[by[0]].astype(str)
    return frame[list(by)].astype(str).agg(" / ".join, axis=1)


def check_groups(labels: pd.Series, weights: np.ndarray, where: str, groups=None) -> list[str]:
    """The groups present, in sorted order; raise on a requested group with no invoices."""
    present = sorted(pd.unique(labels[weights > 0]).tolist())
    if groups is not None:
        empty = [g for g in groups if str(g) not in present]
        if empty:
            raise SurvivalInputError(
                f"{where}: group(s) {empty} have no invoices; groups present: {present}"
            )
        return [str(g) for g in groups]
    return present


@dataclass
class LifeTable:
    """Whole-day life table of one group: at each day, at risk, events by cause, censored.

    ``events`` has one column per cause (column 0 = the event of interest when there is a
    single cause). ``at_risk`` counts invoices still open at the start of the day (entered
    on or before it, leaving on or after it).
    """

    days: np.ndarray
    at_risk: np.ndarray
    events: np.ndarray  # shape (n_days, n_causes)
    censored: np.ndarray

    @property
    def d(self) -> np.ndarray:
        """All-cause events per day."""
        return self.events.sum(axis=1)

    @property
    def last_day(self) -> int:
        """The last day with an observation (event or censoring)."""
        seen = (self.events.sum(axis=1) + self.censored) > 0
        return int(self.days[seen][-1]) if seen.any() else int(self.days[0])

    def survival(self) -> np.ndarray:
        """Kaplan–Meier all-cause survival just after each day: prod(1 - d/n)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            h = np.where(self.at_risk > 0, self.d / self.at_risk, 0.0)
        return np.cumprod(1.0 - h)

    def greenwood_terms(self) -> np.ndarray:
        """Per-day Greenwood increments d / (n (n - d)); 0 where undefined."""
        n, d = self.at_risk, self.d
        with np.errstate(divide="ignore", invalid="ignore"):
            g = np.where((n > 0) & (n > d), d / (n * (n - d)), 0.0)
        return g


def life_table(
    durations: np.ndarray,
    causes: np.ndarray,
    weights: np.ndarray,
    n_causes: int = 1,
    entry: np.ndarray | None = None,
    lo: int | None = None,
    hi: int | None = None,
) -> LifeTable:
    """Build a :class:`LifeTable` from whole-day durations (``bincount``, exact on counts).

    ``causes``: 0 = censored, 1..n_causes = event type. ``entry``: day each invoice enters
    the risk set (delayed entry, e.g. on the days-relative-to-due axis); it is at risk on
    the entry day itself. ``lo``/``hi`` widen the day range (to share a grid across groups).
    """
    first = int(durations.min()) if entry is None else int(min(durations.min(), entry.min()))
    lo = first if lo is None else min(lo, first)
    hi = int(durations.max()) if hi is None else max(hi, int(durations.max()))
    size = hi - lo + 1
    idx = durations - lo
    exits = np.bincount(idx, weights=weights, minlength=size)
    if entry is None:
        entered_before = np.zeros(size)
        entered_before[0] = weights.sum()
        entries = entered_before
    else:
        entries = np.bincount(entry - lo, weights=weights, minlength=size)
    at_risk = np.cumsum(entries) - np.concatenate([[0.0], np.cumsum(exits)[:-1]])
    events = np.column_stack(
        [np.bincount(idx, weights=weights * (causes == k), minlength=size) for k in range(1, n_causes + 1)]
    )
    censored = np.bincount(idx, weights=weights * (causes == 0), minlength=size)
    return LifeTable(np.arange(lo, hi + 1), at_risk, events, censored)


def value_at(days: np.ndarray, values: np.ndarray, t: float, before: float = 1.0) -> float:
    """Step function value at day ``t`` (value after the last day <= t; ``before`` if none)."""
    pos = np.searchsorted(days, t, side="right") - 1
    return float(values[pos]) if pos >= 0 else before


@dataclass
class GroupData:
    """Arrays of one group, ready for a life table (weights are counts; 1 per row-level row)."""

    durations: np.ndarray
    causes: np.ndarray
    weights: np.ndarray
    entry: np.ndarray | None
    clusters: np.ndarray | None

    def table(self, n_causes: int = 1, lo: int | None = None, hi: int | None = None) -> LifeTable:
        return life_table(self.durations, self.causes, self.weights, n_causes, self.entry, lo, hi)


def prepare_groups(
    frame: pd.DataFrame,
    by,
    where: str,
    duration_col: str = "duration",
    event_col: str = "event",
    outcome_col: str | None = None,
    weight_col: str | None = None,
    axis: str = "issue",
    terms_col: str = "terms_days",
    cluster_col: str | None = None,
    groups=None,
    require_events: bool = True,
    notes: list | None = None,
) -> tuple[dict[str, GroupData], list[str]]:
    """Validate a (row or counts) frame and split it into :class:`GroupData` per group.

    ``axis="issue"`` measures days since issue; ``axis="due"`` measures days relative to
    the due date (duration - terms), each invoice entering the risk set on day -terms.
    With ``outcome_col`` the causes are its integer codes (0 = open / censored), else the
    boolean ``event_col`` (cause 1 = paid). Category levels of ``by`` with no invoices give a
    :class:`SurvivalWarning` and a note appended to ``notes``.
    """
    by = as_list(by)
    cols = [duration_col, outcome_col or event_col, *by]
    if axis == "due":
        cols.append(terms_col)
    elif axis != "issue":
        raise SurvivalInputError(f"{where}: axis must be 'issue' or 'due', got {axis!r}")
    if cluster_col:
        cols.append(cluster_col)
        if weight_col:
            raise SurvivalInputError(
                f"{where}: cluster-robust errors need row-level data (one row per invoice), "
                "not a counts table"
            )
    require_columns(frame, cols, where)
    dur = whole_days(frame[duration_col], where)
    if outcome_col:
        causes = whole_days(frame[outcome_col], where)
    else:
        causes = events_of(frame, event_col, where).astype(np.int64)
    w = weights_of(frame, weight_col, where)
    entry = None
    if axis == "due":
        terms = whole_days(frame[terms_col], where)
        dur = dur - terms
        entry = -terms
    if w.sum() == 0:
        raise SurvivalInputError(f"{where}: no invoices (all counts are zero)")
    if require_events and not ((causes > 0) & (w > 0)).any():
        raise SurvivalInputError(
            f"{where}: every invoice is censored (none paid / no event yet): "
            "curves and effects cannot be estimated; use a later as_of date"
        )
    labels = group_labels(frame, by, where).to_numpy()
    names = check_groups(pd.Series(labels), w, where, groups)
    if groups is None:
        note_unused_levels(frame, by, w, where, notes)
    clusters = frame[cluster_col].to_numpy() if cluster_col else None
    out = {}
    for g in names:
        m = (labels == g) & (w > 0)
        out[g] = GroupData(
            dur[m], causes[m], w[m], None if entry is None else entry[m],
            None if clusters is None else clusters[m],
        )
    return out, names


def cluster_variance(influence: np.ndarray, clusters: np.ndarray | None) -> np.ndarray:
    """Variance from per-invoice influence values; summed within clusters when given.

    ``influence`` has shape (n,) or (n, k); returns the (k,) variances. Without clusters it
    is ``sum(IF**2)``; with clusters ``G/(G-1) * sum_c (sum_{i in c} IF_i)**2``.
    """
    inf = influence.reshape(len(influence), -1)
    if clusters is None:
        return (inf**2).sum(axis=0)
    codes, _ = pd.factorize(clusters)
    g = codes.max() + 1
    sums = np.zeros((g, inf.shape[1]))
    np.add.at(sums, codes, inf)
    if g < 2:
        return (sums**2).sum(axis=0)
    # the engine's clustered variance (HC1 here, as R's robust variances with G/(G-1))
    return np.array([clustered_variance(sums[:, j])[0] for j in range(sums.shape[1])])


def _km_hazard_and_scale(table: LifeTable) -> tuple[np.ndarray, np.ndarray]:
    """Per-day hazard h = d/n and the influence scale 1/(n(1 - h)) (0 where undefined)."""
    n, d = table.at_risk, table.d
    with np.errstate(divide="ignore", invalid="ignore"):
        h = np.where(n > 0, d / n, 0.0)
        scale = np.where((n > 0) & (h < 1), 1.0 / (n * (1.0 - h)), 0.0)
    return h, scale


def km_log_influence(group: GroupData, table: LifeTable, days: np.ndarray) -> np.ndarray:
    """Per-invoice influence on log S(t) for each t in ``days`` (KM of cause >0 vs censored).

    IF_i(log S(t)) = -sum_{s<=t} (dN_i(s) - Y_i(s) h(s)) / (n(s) (1 - h(s))); its sum of
    squares equals Greenwood's formula exactly, its sum within customers gives the
    cluster-robust variance. Shape (n_invoices, len(days)).
    """
    h, scale = _km_hazard_and_scale(table)
    cum = np.cumsum(h * scale)  # sum_{s<=k} h/(n(1-h))
    lo = table.days[0]
    t_idx = np.asarray(days, dtype=np.int64) - lo
    exit_idx = group.durations - lo
    ent_idx = (group.entry - lo) if group.entry is not None else np.zeros_like(exit_idx)
    out = np.empty((len(exit_idx), len(t_idx)))
    for j, ti in enumerate(t_idx):
        ti_c = min(max(ti, -1), len(cum) - 1)
        upto = np.minimum(exit_idx, ti_c)
        comp = np.where(upto >= 0, cum[np.clip(upto, 0, None)], 0.0)
        before = np.where(ent_idx > 0, cum[np.clip(ent_idx - 1, 0, None)], 0.0)
        comp = np.where(upto >= ent_idx, comp - before, 0.0)
        jump = np.where((group.causes > 0) & (exit_idx <= ti_c), scale[exit_idx], 0.0)
        out[:, j] = -(jump - comp)
    return out


def km_log_cluster_variance(group: GroupData, table: LifeTable, days=None,
                            chunk_cells: int = 4_000_000) -> np.ndarray:
    """Cluster-robust Var(log S(t)) for each t in ``days`` (default: every day of ``table``).

    The same quantity as ``cluster_variance(km_log_influence(...), clusters)``, but the
    influence is summed within each customer first: IF_c(t) = -sum_{s<=t} (dN_c(s) -
    Y_c(s) h(s)) / (n(s)(1 - h(s))), with Y_c, dN_c the customer's invoices at risk and
    paid on day s. Memory is bounded by ``chunk_cells`` (customers x days per block), not
    invoices x days, so whole curves get clustered bands at portfolio scale. Pointwise.
    """
    if group.clusters is None:
        raise SurvivalInputError("km_log_cluster_variance: the group has no cluster column")
    h, scale = _km_hazard_and_scale(table)
    size, lo = len(table.days), int(table.days[0])
    codes, _ = pd.factorize(group.clusters)
    n_clusters = int(codes.max()) + 1
    exit_idx = group.durations - lo
    ent_idx = (group.entry - lo) if group.entry is not None else np.zeros_like(exit_idx)
    paid = group.causes > 0
    order = np.argsort(codes, kind="stable")
    per_block = max(1, chunk_cells // (size + 1))
    total = np.zeros(size)
    for first in range(0, n_clusters, per_block):
        m = min(per_block, n_clusters - first)
        lo_pos, hi_pos = np.searchsorted(codes[order], [first, first + m])
        rows = order[lo_pos:hi_pos]
        local = codes[rows] - first
        w = group.weights[rows]
        # invoices at risk on days entry..exit: +w at entry, -w the day after exit
        dy = (np.bincount(local * (size + 1) + ent_idx[rows], weights=w, minlength=m * (size + 1))
              - np.bincount(local * (size + 1) + exit_idx[rows] + 1, weights=w, minlength=m * (size + 1)))
        at_risk = np.cumsum(dy.reshape(m, size + 1)[:, :size], axis=1)
        ev = paid[rows]
        dn = np.bincount(local[ev] * size + exit_idx[rows][ev], weights=w[ev],
                         minlength=m * size).reshape(m, size)
        infl = -np.cumsum(scale * (dn - at_risk * h), axis=1)
        total += (infl**2).sum(axis=0)
    var = total * (n_clusters / (n_clusters - 1) if n_clusters > 1 else 1.0)
    if days is None:
        return var
    idx = np.asarray(days, dtype=np.int64) - lo
    return np.where(idx < 0, 0.0, var[np.clip(idx, 0, size - 1)])


#: Default customer column for cluster-robust variances (one customer, many invoices).
CLUSTER_DEFAULT = "customer_id"


def resolve_cluster(frame: pd.DataFrame, cluster_col, weight_col: str | None = None) -> str | None:
    """The cluster column to use: ``"auto"`` (every survival function's default) means
    ``customer_id`` on a row-level frame that has it, else none (a counts table or a
    frame without customers gets model-based variances); ``None`` asks for none; a name
    is used as given (and must be a column).

    >>> resolve_cluster(pd.DataFrame({"customer_id": ["C1"]}), "auto")
    'customer_id'
    >>> resolve_cluster(pd.DataFrame({"customer_id": ["C1"], "n": [3]}), "auto", "n") is None
    True
    """
    if isinstance(cluster_col, str) and cluster_col == "auto":
        return CLUSTER_DEFAULT if CLUSTER_DEFAULT in frame and not weight_col else None
    return cluster_col

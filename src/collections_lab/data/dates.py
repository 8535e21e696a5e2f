"""One date parser for every entry point, and the one default for ``as_of``.

Every date a person types -- an API argument (``aging(p, as_of="2026-05-31")``), a CLI
or notebook parameter (``-p as_of 2026-05-31``), a simulation's ``start``/``end`` or a
date in a mapping file -- goes through :func:`parse_date`. (Dates *inside* data files are
column values, read by :mod:`collections_lab.data.parsing` with their own evidence
rules.)

Rules:

- ISO dates ``YYYY-MM-DD`` (a time part such as ``2026-05-31 00:00:00`` is accepted and
  dropped), and ``datetime.date``/``datetime``/``Timestamp``/``numpy.datetime64`` objects.
- Anything else only with an explicit choice: ``dayfirst=True`` (``31/05/2026``,
  ``1.5.2026`` = 1 May) or ``dayfirst=False`` (``05/31/2026``), or a ``format``.
  Without one, ``01/05/2026`` is refused as ambiguous (1 May or 5 January?) and even
  ``31/05/2026`` is refused with its ISO spelling suggested: a report must not depend on
  a guess about which way round a date was typed.
- An impossible date (``2025-02-30``, month 13) is refused with the reason.
- Every message names the parameter: ``as_of: '2025-02-30' is not a date (February has
  28 days in 2025); write it as YYYY-MM-DD``.

**The default ``as_of``** is the data's last date (:func:`data_end`: the latest issue,
payment, reminder, escalation or write-off date, at midnight); :func:`resolve_as_of`
applies it. An ``as_of`` more than :data:`AS_OF_GRACE_DAYS` (31) days after that date --
or after a portfolio's declared ``observed_until`` (a mapping's ``export_date``) -- is
refused: nothing is known after the data end, so every open invoice would look overdue
and sales would be 0. Ask for it explicitly with ``allow_future=True`` where a function
offers it (a report: ``-p allow_future true``), or around any call::

    with allow_future_as_of():
        aging(portfolio, "2030-01-01")

>>> parse_date("2026-05-31", "as_of")
Timestamp('2026-05-31 00:00:00')
>>> parse_date("1.5.2026", "as_of", dayfirst=True)
Timestamp('2026-05-01 00:00:00')
>>> parse_date("01/05/2026", "as_of")
Traceback (most recent call last):
...
collections_lab.data.dates.DateError: as_of: '01/05/2026' is ambiguous (1 May or 5 January 2026); write it as YYYY-MM-DD (2026-05-01 or 2026-01-05), or read it with parse_date(..., dayfirst=True or False)
>>> parse_date("2025-02-30", "as_of")
Traceback (most recent call last):
...
collections_lab.data.dates.DateError: as_of: '2025-02-30' is not a date (February has 28 days in 2025); write it as YYYY-MM-DD
"""

from __future__ import annotations

import calendar
import contextvars
import datetime as dt
import functools
import inspect
import re
from contextlib import contextmanager

import numpy as np
import pandas as pd
import yaml

__all__ = [
    "DateError",
    "allow_future_as_of",
    "allow_future_in_session",
    "AS_OF_GRACE_DAYS",
    "accepts_allow_future",
    "check_as_of",
    "check_not_after_data",
    "data_end",
    "future_allowed",
    "load_yaml",
    "parse_date",
    "resolve_as_of",
]

_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})"
                  r"(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$")
_YEAR_FIRST = re.compile(r"^(\d{4})[/.](\d{1,2})[/.](\d{1,2})$")
_YEAR_LAST = re.compile(r"^(\d{1,2})([/.\-])(\d{1,2})\2(\d{4})$")
_MONTHS = calendar.month_name

_FUTURE_ALLOWED: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "collections_lab_future_as_of", default=False)


class DatesAsText(yaml.SafeLoader):
    """YAML's safe loader that keeps dates as text, so ``as_of: 2025-02-30`` reaches the
    date parser (and its message naming the parameter) instead of failing inside YAML."""


DatesAsText.yaml_implicit_resolvers = {
    key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_yaml(text: str):
    """Parse YAML text with :class:`DatesAsText`: dates stay strings, for
    :func:`parse_date` (mapping files, batch files, CLI parameters).

    >>> load_yaml("as_of: 2025-02-30")
    {'as_of': '2025-02-30'}
    """
    return yaml.load(text, Loader=DatesAsText)  # noqa: S506  (a SafeLoader subclass)


class DateError(ValueError):
    """A date argument or parameter is missing, ambiguous or impossible; the message says
    which parameter, why, and how to write it.

    Example:
        >>> cl.parse_date("2025-31-01", "start")
        Traceback (most recent call last):
            ...
        collections_lab.data.dates.DateError: start: '2025-31-01' is not a date (there is no ...
    """


def _label(name: str | None) -> str:
    return f"{name}: " if name else ""


def _build(year: int, month: int, day: int, text: str, name: str | None) -> pd.Timestamp:
    """The Timestamp of year-month-day, or a DateError saying why there is no such day."""
    if not 1 <= month <= 12:
        why = f"there is no month {month}"
        if 1 <= day <= 12:
            why += "; YYYY-MM-DD puts the month second"
    elif day < 1:
        why = f"there is no day {day}"
    else:
        last = calendar.monthrange(year, month)[1]
        if day <= last:
            return pd.Timestamp(year, month, day)
        why = (f"{_MONTHS[month]} has {last} days in {year}" if month == 2
               else f"{_MONTHS[month]} has {last} days")
    raise DateError(f"{_label(name)}{text!r} is not a date ({why}); write it as YYYY-MM-DD")


def _day_month_year(text, a, b, year, name, dayfirst):
    """Parse ``a/b/year`` with day and month in the order ``dayfirst`` says (or refuse)."""
    if dayfirst is True:
        return _build(year, b, a, text, name)
    if dayfirst is False:
        return _build(year, a, b, text, name)
    readings = []
    for day, month in ((a, b), (b, a)):
        try:
            readings.append(_build(year, month, day, text, None))
        except DateError:
            pass
    label = _label(name)
    if not readings:
        raise DateError(f"{label}{text!r} is not a date (neither {a} nor {b} can be a month "
                        "with the other as its day); write it as YYYY-MM-DD")
    if len(readings) == 1 or a == b:
        iso = readings[0].date().isoformat()
        order = ("it can only be" if a == b else "read day-first it is" if a > 12
                 else "read month-first it is")
        raise DateError(f"{label}{text!r} is not written YYYY-MM-DD; {order} {iso}: "
                        f"write {iso}")
    first, second = readings

    def words(ts):
        return f"{ts.day} {_MONTHS[ts.month]}"

    raise DateError(
        f"{label}{text!r} is ambiguous ({words(first)} or {words(second)} {year}); write it "
        f"as YYYY-MM-DD ({first.date().isoformat()} or {second.date().isoformat()}), or "
        "read it with parse_date(..., dayfirst=True or False)")


def parse_date(value, name: str | None = "date", *, dayfirst: bool | None = None,
               format: str | None = None, optional: bool = False):  # noqa: A002
    """The date ``value`` as a midnight :class:`pandas.Timestamp` (see the module rules).

    ``name`` is the parameter the value came from, used in every message. ``dayfirst``
    (True/False) is the explicit choice for ``D/M/YYYY`` or ``M/D/YYYY`` text (``/``,
    ``.`` or ``-`` between the parts); ``format`` a :func:`datetime.strptime` format.
    ``optional=True`` returns None for None or an empty string (else they are refused).
    Raises :class:`DateError` (a ValueError).

    Example:
        >>> parse_date(pd.Timestamp("2026-05-31 17:30"), "as_of")
        Timestamp('2026-05-31 00:00:00')
        >>> parse_date("05/31/2026", "start", dayfirst=False).date()
        datetime.date(2026, 5, 31)
        >>> parse_date("31-05-2026", "end", format="%d-%m-%Y").date()
        datetime.date(2026, 5, 31)
        >>> parse_date(None, "as_of", optional=True) is None
        True
    """
    label = _label(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        if optional:
            return None
        raise DateError(f"{label}a date is required (YYYY-MM-DD), got {value!r}")
    if isinstance(value, bool | int | float | np.integer | np.floating):
        hint = ""
        if isinstance(value, int | np.integer) and 10_000_101 <= value <= 99_991_231:
            text = str(int(value))
            hint = f" (did you mean '{text[:4]}-{text[4:6]}-{text[6:]}'?)"
        raise DateError(f"{label}{value!r} is a number, not a date; write it as "
                        f"YYYY-MM-DD{hint}")
    if isinstance(value, pd.Timestamp | dt.date | np.datetime64):
        ts = pd.Timestamp(value)
        if pd.isna(ts):
            raise DateError(f"{label}the date is missing (NaT)")
        if ts.tz is not None:
            ts = ts.tz_localize(None)
        return ts.normalize()
    if not isinstance(value, str):
        raise DateError(f"{label}{value!r} ({type(value).__name__}) is not a date; "
                        "write it as YYYY-MM-DD")
    text = value.strip()
    if format is not None:
        try:
            return pd.Timestamp(dt.datetime.strptime(text, format)).normalize()
        except ValueError as exc:
            raise DateError(f"{label}{value!r} does not match the format {format!r} "
                            f"({exc})") from None
    match = _ISO.match(text)
    if match:
        year, month, day = (int(g) for g in match.groups())
        return _build(year, month, day, value, name)
    match = _YEAR_FIRST.match(text)
    if match:
        year, month, day = (int(g) for g in match.groups())
        iso = _build(year, month, day, value, name).date().isoformat()
        raise DateError(f"{label}{value!r} is not written YYYY-MM-DD; write {iso}")
    match = _YEAR_LAST.match(text)
    if match:
        a, _, b, year = match.groups()
        return _day_month_year(value, int(a), int(b), int(year), name, dayfirst)
    raise DateError(f"{label}{value!r} is not a date; write it as an ISO date YYYY-MM-DD "
                    "(e.g. 2026-05-31)")


def data_end(invoices: pd.DataFrame, payments: pd.DataFrame | None = None,
             reminders: pd.DataFrame | None = None) -> pd.Timestamp:
    """The data's last date: the latest issue, escalation, write-off, payment or reminder.

    This is the documented default ``as_of`` everywhere (at midnight). Due dates do not
    count: they are promises, not events.

    >>> inv = pd.DataFrame({"issue_date": pd.to_datetime(["2026-05-02"]),
    ...                     "written_off_at": [pd.NaT]})
    >>> pay = pd.DataFrame({"paid_at": pd.to_datetime(["2026-05-31"])})
    >>> data_end(inv, pay)
    Timestamp('2026-05-31 00:00:00')
    """
    columns = [(invoices, "issue_date"), (invoices, "escalated_at"),
               (invoices, "written_off_at"), (payments, "paid_at"), (reminders, "sent_at")]
    dates = [frame[col].max() for frame, col in columns
             if frame is not None and col in frame and len(frame)]
    dates = [d for d in dates if pd.notna(d)]
    if not dates:
        raise DateError("the data hold no dates: give as_of explicitly (YYYY-MM-DD)")
    return pd.Timestamp(max(dates)).normalize()


_SESSION = {"future_allowed": False}


def future_allowed() -> bool:
    """Whether an ``as_of`` after the data's end is allowed here (see
    :func:`allow_future_as_of` and :func:`allow_future_in_session`)."""
    return _FUTURE_ALLOWED.get() or _SESSION["future_allowed"]


def allow_future_in_session(allowed: bool = True) -> None:
    """Allow (or refuse again) an ``as_of`` after the data's end for the rest of this
    Python session: what a report kernel run with ``-p allow_future true`` does, since a
    ``with`` block cannot span notebook cells."""
    _SESSION["future_allowed"] = bool(allowed)


@contextmanager
def allow_future_as_of(allowed: bool = True):
    """Allow (or, with False, refuse again) an ``as_of`` after the data's end inside the
    ``with`` block, for every function called in it.

    Example:
        >>> with allow_future_as_of():
        ...     future_allowed()
        True
        >>> future_allowed()
        False
    """
    token = _FUTURE_ALLOWED.set(bool(allowed))
    try:
        yield
    finally:
        _FUTURE_ALLOWED.reset(token)


def accepts_allow_future(func):
    """Give ``func`` a keyword ``allow_future`` (default None: refused unless inside
    :func:`allow_future_as_of`): True runs it inside ``allow_future_as_of()``, so every
    date check in the call allows an ``as_of`` after the data's end.

    >>> @accepts_allow_future
    ... def allowed():
    ...     return future_allowed()
    >>> allowed(), allowed(allow_future=True)
    (False, True)
    """
    @functools.wraps(func)
    def wrapper(*args, allow_future: bool | None = None, **kwargs):
        if allow_future is None:
            return func(*args, **kwargs)
        with allow_future_as_of(allow_future):
            return func(*args, **kwargs)

    signature = inspect.signature(func)
    extra = inspect.Parameter("allow_future", inspect.Parameter.KEYWORD_ONLY, default=None,
                              annotation="bool | None")
    params = list(signature.parameters.values())
    at = next((i for i, p in enumerate(params) if p.kind is p.VAR_KEYWORD), len(params))
    wrapper.__signature__ = signature.replace(parameters=params[:at] + [extra] + params[at:])
    return wrapper


#: An ``as_of`` up to this many days after the data's last date is accepted without
#: ``allow_future``: the last date is when something last happened, and an export (or a
#: month-end report) often comes some days later. Further out is refused. A portfolio
#: that declares when it was observed (``Portfolio.observed_until``) gets no grace.
AS_OF_GRACE_DAYS = 31


def check_not_after_data(as_of: pd.Timestamp, end: pd.Timestamp, name: str = "as_of",
                         allow_future: bool | None = None,
                         grace_days: int = AS_OF_GRACE_DAYS,
                         what: str = "the data's last date") -> pd.Timestamp:
    """``as_of`` itself, or a DateError when it is more than ``grace_days`` after the
    data's last date ``end`` and that was not asked for (``allow_future`` or
    :func:`allow_future_as_of`).

    >>> check_not_after_data(pd.Timestamp("2030-01-01"), pd.Timestamp("2026-05-31"))
    Traceback (most recent call last):
    ...
    collections_lab.data.dates.DateError: as_of: 2030-01-01 is after the data's last date 2026-05-31: nothing is known after it (every open invoice would look overdue and sales would be 0); use a date up to 2026-07-01, or pass allow_future=True (or call inside `with collections_lab.allow_future_as_of():`) if you mean it
    """
    allowed = future_allowed() if allow_future is None else allow_future
    if allowed or end is None or pd.Timestamp(end) >= pd.Timestamp.max.normalize():
        return as_of
    end = pd.Timestamp(end).normalize()
    limit = end + pd.Timedelta(days=grace_days)
    if as_of > limit:
        raise DateError(
            f"{_label(name)}{as_of.date().isoformat()} is after {what} "
            f"{end.date().isoformat()}: nothing is known after it (every open invoice would "
            f"look overdue and sales would be 0); use a date up to "
            f"{limit.date().isoformat()}, or pass allow_future=True (or call inside "
            "`with collections_lab.allow_future_as_of():`) if you mean it")
    return as_of


def resolve_as_of(portfolio, as_of=None, *, allow_future: bool | None = None,
                  name: str = "as_of", dayfirst: bool | None = None) -> pd.Timestamp:
    """The analysis date: ``as_of`` parsed by :func:`parse_date`, or by default the data's
    last date (``portfolio.last_date``, see :func:`data_end`), at midnight.

    ``portfolio`` is anything with a ``last_date`` (a Portfolio), or None when only
    ``as_of`` is to be parsed. An ``as_of`` more than :data:`AS_OF_GRACE_DAYS` days after
    the last date (or after ``portfolio.observed_until`` when set) raises
    :class:`DateError` unless ``allow_future=True`` (default None: refused, unless inside
    :func:`allow_future_as_of`).

    >>> resolve_as_of(None, "2025-06-30")
    Timestamp('2025-06-30 00:00:00')
    """
    ts = parse_date(as_of, name, dayfirst=dayfirst, optional=True)
    end = None if portfolio is None else getattr(portfolio, "last_date", None)
    if ts is None:
        if end is None:
            raise DateError(f"{_label(name)}a date is required (YYYY-MM-DD) when there is "
                            "no data to take the last date from")
        return pd.Timestamp(end).normalize()
    if portfolio is None:
        return ts
    return check_as_of(portfolio, ts, name, allow_future)


def check_as_of(portfolio, as_of: pd.Timestamp, name: str = "as_of",
                allow_future: bool | None = None) -> pd.Timestamp:
    """:func:`check_not_after_data` against ``portfolio.observed_until`` when set (no
    grace), else against ``portfolio.last_date`` (with :data:`AS_OF_GRACE_DAYS`)."""
    observed = getattr(portfolio, "observed_until", None)
    if observed is not None:
        return check_not_after_data(as_of, observed, name, allow_future, grace_days=0,
                                    what="the date the data were exported")
    return check_not_after_data(as_of, portfolio.last_date, name, allow_future)

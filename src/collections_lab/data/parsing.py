"""Reading cell values: text or typed columns into the schema's types, cell by cell.

Accounting exports write numbers as ``1.234.567,89`` or ``(12,50)``, dates as
``15/03/2025`` or ``2025-03-15 10:30``, booleans as ``sí`` / ``no``. Each function here
turns one column into its schema type (:mod:`collections_lab.data.schema`) and, for every cell
it cannot read, gives a message saying what the value was and what was expected; the
validation layer (:mod:`collections_lab.data.validation`) turns those into located issues.
Work is done once per distinct value where possible: exports repeat dates, currencies and
codes a great deal.

Example
-------
>>> import pandas as pd
>>> parse_amounts(pd.Series(["1.234,5", "(3,00)", "abc"]), ",").tolist()
[1234.5, -3.0, nan]
>>> format_label("%d/%m/%Y")
'DD/MM/YYYY'
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import numpy as np
import pandas as pd

from .mapping import ColumnMapping, normalise_name
from .schema import Column

#: Cell texts read as "no value" in date, amount, int and bool columns.
NA_TOKENS = frozenset({"", "nan", "none", "null", "nat", "n/a", "na", "#n/a", "-"})


def per_row(messages, n: int) -> list[str]:
    """``n`` messages: a single message repeated, or the given list."""
    if isinstance(messages, str):
        return [messages] * n
    return list(messages)


# ------------------------------------------------------------------------ cell texts
def _cell_text(value) -> str:
    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, float):
        if np.isnan(value):
            return ""
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, dt.datetime | dt.date | pd.Timestamp):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value).strip()


def _as_text(series: pd.Series, textual: bool = False) -> pd.Series:
    if textual:  # strip only the distinct values that need it (most need nothing)
        uniques = series.unique()
        changed = {v: v.strip() for v in uniques if v[:1].isspace() or v[-1:].isspace()}
        return series.where(~series.isin(changed.keys()), series.map(changed)) if changed else series
    if pd.api.types.is_datetime64_any_dtype(series):
        return series.dt.strftime("%Y-%m-%d").fillna("")
    if series.dtype == object and pd.api.types.infer_dtype(series, skipna=True) in ("string", "empty"):
        return _as_text(series.fillna(""), textual=True)  # str and None only: no per-cell work
    return series.map(_cell_text).astype(object)


def _missing(text: pd.Series, kind: str) -> pd.Series:
    if kind in ("id", "str", "category"):
        return text == ""
    uniques = text.unique()
    na = {v for v in uniques if len(v) <= 4 and v.casefold() in NA_TOKENS}
    return text.isin(na)


def _by_unique(text: pd.Series, func) -> pd.Series:
    """``text.map(func)`` computed once per distinct value (exports repeat values a lot)."""
    uniques = text.unique()
    return text.map(dict(zip(uniques, map(func, uniques), strict=True)))


# --------------------------------------------------------------------------- coercion
def coerce_column(series, col: Column, table: str, mapping: ColumnMapping, decimal: str,
            textual: bool, default, notes: list[str]):  # fmt: skip
    """One column in the schema's type: ``(values, bad_mask, messages)``.

    ``messages`` has one entry per bad row saying what is wrong with its value. Missing
    values of optional columns get the column's default; of required ones, a reject.
    ``textual`` says every cell is a ``str`` (CSV), ``default`` is the mapping's default
    for empty cells, ``notes`` collects what was decided on the user's behalf.
    """
    vmap = mapping.value_map(table, col.name)
    typed = _typed_fast_path(series, col)
    if typed is not None and not vmap:
        text = None
        values, bad, messages = typed
        missing = values.isna().to_numpy() if col.kind != "bool" else np.zeros(len(series), bool)
    else:
        text = _as_text(series, textual)
        if vmap:
            folded = _by_unique(text, normalise_name)
            hit = folded.isin(vmap.keys())
            text = text.where(~hit, folded.map(vmap).map(_cell_text))
        missing = _missing(text, col.kind).to_numpy()
        if default is not None and missing.any():
            text = text.where(~missing, _cell_text(default))
            notes.append(f"{col.name}: {int(missing.sum())} empty value(s) set to {default!r} "
                         f"(mapping)")  # fmt: skip
            missing = _missing(text, col.kind).to_numpy()
        values, bad, messages = _PARSERS[col.kind](text, col, decimal=decimal,
                                                   mapping=mapping, table=table,
                                                   notes=notes, missing=missing)  # fmt: skip
    # Missing values: defaults for optional columns, a reject for required ones.
    if missing.any():
        if not col.required or col.nullable:
            fill = col.default
            if col.kind in ("amount", "bool", "int", "date", "category", "str", "id"):
                if col.nullable and col.kind != "int":
                    fill = None
                values = _fill(values, missing, fill, col)
        else:
            bad = bad | missing
            messages = _merge_messages(bad, missing, messages,
                                       f"missing value ({col.name} is required)")
    return values, bad, messages


def _merge_messages(bad, missing, messages, missing_message: str) -> list[str]:
    """Messages for the rows in ``bad``: ``messages`` covered the rows bad before."""
    before = bad & ~missing
    old = iter(per_row(messages, int(before.sum())))
    out = []
    for is_missing in missing[bad]:
        out.append(missing_message if is_missing else next(old))
    return out


def _fill(values: pd.Series, missing: np.ndarray, fill, col: Column) -> pd.Series:
    values = values.copy()
    if col.kind == "date":
        values[missing] = pd.NaT if fill is None else pd.Timestamp(fill)
    elif col.kind == "bool":
        values = values.astype(object)
        values[missing] = bool(fill)
        values = values.astype(bool)
    elif col.kind == "amount":
        values[missing] = np.nan if fill is None else float(fill)
    elif col.kind == "int":
        values = values.astype("Int64")
        values[missing] = pd.NA if fill is None else int(fill)
    else:
        values = values.astype(object)
        values[missing] = fill
    return values


def _typed_fast_path(series: pd.Series, col: Column):
    """Columns already typed by Parquet / a database: check them without text parsing."""
    kind = col.kind
    dtype = series.dtype
    n = len(series)
    none = np.zeros(n, dtype=bool)
    if kind == "date" and pd.api.types.is_datetime64_any_dtype(dtype):
        values = series
        if getattr(values.dt, "tz", None) is not None:
            values = values.dt.tz_localize(None)
        return values.dt.normalize().astype("datetime64[ns]"), none, []
    if kind == "amount" and pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype):
        values = series.astype("float64")
        bad = ~np.isfinite(values.fillna(0).to_numpy())
        return values, bad, [f"{v!r} is not a finite number" for v in values[bad]]
    if kind == "bool" and pd.api.types.is_bool_dtype(dtype) and not series.isna().any():
        return series.astype(bool), none, []
    if kind == "int" and pd.api.types.is_integer_dtype(dtype):
        return series.astype("Int64"), none, []
    return None


def _parse_id(text, col, **_):
    return text.astype(object), np.zeros(len(text), dtype=bool), []


def _parse_category(text, col, mapping, table, **_):
    values = _by_unique(text, str.upper if col.name == "currency" else str.casefold)
    bad = (~values.isin(col.choices) & (text != "")).to_numpy()
    known = ", ".join(col.choices)
    messages = []
    for v in text[bad]:
        hint = "" if col.name == "currency" else (
            f"; map other words in the mapping, e.g. values: {{{col.name}: {{{v!r}: "
            f"{col.choices[0]!r}}}}}"
        )  # fmt: skip
        messages.append(f"unknown {col.name} {v!r} (known: {known}){hint}")
    return values.astype(object), bad, messages


def _parse_bool(text, col, mapping, **_):
    true, false = mapping.bool_words()
    folded = _by_unique(text, normalise_name)
    is_true = folded.isin(true)
    is_false = folded.isin(false)
    missing = _missing(text, "bool")
    bad = (~(is_true | is_false) & ~missing).to_numpy()
    messages = [f"cannot read {v!r} as true/false (use e.g. true/false, sí/no, 1/0)"
                for v in text[bad]]  # fmt: skip
    return is_true.astype(bool), bad, messages


_SPACES = r"[\s\u00a0\u202f$€£']"


def sniff_decimal(columns: list[pd.Series], separator: str | None, textual: bool,
                  notes: list[str]) -> str:  # fmt: skip
    """The decimal mark of amount columns: evidence from their values, else the separator's.

    A value such as ``1.234,5`` or ``12,50`` is evidence for a decimal comma, ``1,234.5``
    or ``12.5`` for a decimal point; ``1.234`` is ambiguous. Without evidence, a
    ``;``-separated file is taken to use decimal commas (as Spanish exports do).
    """
    default = "," if separator == ";" else "."
    texts = []
    for series in columns:
        if series.dtype == object:
            step = max(1, len(series) // 20_000)  # a sample is evidence enough
            texts.append(_as_text(series.iloc[::step], textual))
    if not texts:
        return default
    values = pd.concat(texts).str.replace(_SPACES, "", regex=True)
    values = values[values.str.contains(r"\d", regex=True)]
    comma = values.str.fullmatch(r"[+-]?\d*(?:\.\d{3})*,\d+") & ~values.str.fullmatch(
        r"[+-]?\d{1,3}(?:,\d{3})+"
    )
    dot = values.str.fullmatch(r"[+-]?\d*(?:,\d{3})*\.\d+(?:[eE][+-]?\d+)?") & ~values.str.fullmatch(
        r"[+-]?\d{1,3}(?:\.\d{3})+"
    )
    n_comma, n_dot = int(comma.sum()), int(dot.sum())
    decimal = "," if n_comma > n_dot else "." if n_dot > n_comma else default
    if decimal == "," or n_comma:
        notes.append(f"amounts read with decimal mark {decimal!r}"
                     f" ({n_comma} value(s) look decimal-comma, {n_dot} decimal-point)")  # fmt: skip
    return decimal


def parse_amounts(text: pd.Series, decimal: str = ".") -> pd.Series:
    """Numbers written as text (``"1.234,56"`` with ``decimal=","``) as float64, NaN if unreadable.

    Spaces, currency symbols and thousands separators in groups of three are accepted;
    ``(12,50)`` is read as -12.5, as accounting exports write negatives.

    >>> parse_amounts(pd.Series(["1.234,5", "(3,00)", "abc"]), ",").tolist()
    [1234.5, -3.0, nan]
    """
    thousands = "." if decimal == "," else ","
    d = re.escape(decimal)
    plain = text.str.fullmatch(rf"[+-]?\d+(?:{d}\d+)?").fillna(False).to_numpy(dtype=bool)
    if plain.all():  # the common case: one regex pass, then Python's exact float()
        return text.str.replace(decimal, ".", regex=False).astype(object).astype("float64")
    s = text.astype(str).str.replace(_SPACES, "", regex=True)
    neg = s.str.fullmatch(r"\(.*\)")
    s = s.where(~neg, "-" + s.str[1:-1])
    t = re.escape(thousands)
    exponent = r"(?:[eE][+-]?\d+)?" if decimal == "." else ""
    pattern = rf"[+-]?(?:\d{{1,3}}(?:{t}\d{{3}})+|\d+)?(?:{d}\d+)?{exponent}"
    ok = s.str.fullmatch(pattern) & s.str.contains(r"\d", regex=True)
    clean = s.str.replace(thousands, "", regex=False).str.replace(decimal, ".", regex=False)
    # astype goes through Python's float(), which round-trips every repr exactly;
    # pd.to_numeric's fast parser can be off by one ulp (0.30000000000000004 -> 0.3).
    return clean.where(ok, None).astype(object).astype("float64")


def _parse_amount(text, col, decimal, missing, **_):
    values = parse_amounts(text, decimal)
    bad = (values.isna().to_numpy() | ~np.isfinite(values.fillna(0).to_numpy())) & ~missing
    messages = [f"{v!r} is not a number (decimal mark {decimal!r})" for v in text[bad]]
    return values, bad, messages


def _parse_int(text, col, decimal, missing, **_):
    values = parse_amounts(text, ".")
    integral = values.notna() & (values == values.round())
    bad = ~integral.to_numpy() & ~missing
    messages = [f"{v!r} is not a whole number" for v in text[bad]]
    return values.where(integral).round().astype("Int64"), bad, messages


# ------------------------------------------------------------------------------ dates
_TIME_SUFFIX = (r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*(?:[AaPp]\.?[Mm]\.?)?\s*"
                r"(?:Z|[+-]\d{2}:?\d{2})?)$")  # fmt: skip
ISO_FORMATS = ("%Y-%m-%d", "%Y/%m/%d")
DAY_FIRST_FORMATS = ("%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%d/%m/%y", "%d-%m-%y")
MONTH_FIRST_FORMATS = ("%m/%d/%Y", "%m-%d-%Y", "%m/%d/%y")


def format_label(fmt: str) -> str:
    """``"%d/%m/%Y"`` as users write it: ``"DD/MM/YYYY"``."""
    for code, label in (("%d", "DD"), ("%m", "MM"), ("%Y", "YYYY"), ("%y", "YY")):
        fmt = fmt.replace(code, label)
    return fmt


def _parse_with(uniques: pd.Series, fmt: str) -> pd.Series:
    return pd.to_datetime(uniques, format=fmt, errors="coerce")


def _parse_date(text, col, mapping, table, notes, missing, **_):
    date_part = _by_unique(text, lambda v: re.sub(_TIME_SUFFIX, "", v))
    uniques = pd.Series(date_part[~missing].unique(), dtype=object)
    explicit = mapping.formats_for(table)
    parsed = pd.Series(pd.NaT, index=uniques.index, dtype="datetime64[ns]")
    chosen: str | None = None
    results: dict[str, pd.Series] = {}
    if explicit:
        for fmt in explicit:
            todo = parsed.isna()
            parsed[todo] = _parse_with(uniques[todo], fmt)
        expected = " or ".join(format_label(f) for f in explicit)
    else:
        dayfirst = True if mapping.dayfirst is None else mapping.dayfirst
        order = ISO_FORMATS + ((DAY_FIRST_FORMATS + MONTH_FIRST_FORMATS) if dayfirst
                               else (MONTH_FIRST_FORMATS + DAY_FIRST_FORMATS))  # fmt: skip
        best, best_count = order[0], -1
        for fmt in order:
            results[fmt] = _parse_with(uniques, fmt)
            count = int(results[fmt].notna().sum())
            if count > best_count:
                best, best_count = fmt, count
        chosen = best
        parsed = results[best]
        expected = format_label(best)
        if best not in ISO_FORMATS and len(uniques):
            ambiguous = mapping.dayfirst is None and _ambiguous(uniques, results, best)
            notes.append(f"{col.name}: dates read as {expected}"
                         + (" (ambiguous day/month order: set dayfirst or date_formats in "
                            "the mapping to change)" if ambiguous else ""))  # fmt: skip
    lookup = dict(zip(uniques, parsed, strict=True))
    values = pd.to_datetime(date_part.map(lookup), errors="coerce").astype("datetime64[ns]")
    values = values.dt.normalize()
    bad = values.isna().to_numpy() & ~missing
    readable = {fmt: set(uniques[res.notna()]) for fmt, res in results.items()
                if fmt != chosen} if chosen is not None else {}  # fmt: skip
    messages = []
    for v in date_part[bad]:
        other = next((fmt for fmt, ok in readable.items() if v in ok), None)
        if other:
            messages.append(
                f"date {v!r} is written as {format_label(other)} while the column uses "
                f"{expected} (mixed date formats; list both in the mapping's date_formats "
                f"to accept them)"
            )
        else:
            messages.append(f"cannot read {v!r} as a date (expected {expected})")
    return values, bad, messages


def _ambiguous(uniques, results, best) -> bool:
    """True when the day-first and month-first readings of the column both work."""
    swapped = best.replace("%d", "\0").replace("%m", "%d").replace("\0", "%m")
    return swapped in results and results[swapped].notna().sum() == results[best].notna().sum()


_PARSERS = {
    "id": _parse_id,
    "str": _parse_id,
    "category": _parse_category,
    "bool": _parse_bool,
    "amount": _parse_amount,
    "int": _parse_int,
    "date": _parse_date,
}

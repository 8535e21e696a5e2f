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
import weakref
from decimal import Decimal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .mapping import ColumnMapping, normalise_name
from .schema import CURRENCIES, CURRENCY_DECIMALS, Column

#: Cell texts read as "no value" in date, amount, int and bool columns.
NA_TOKENS = frozenset({"", "nan", "none", "null", "nat", "n/a", "na", "#n/a", "-"})


_NA_PATTERN = "(?i)(?:" + "|".join(re.escape(t) for t in sorted(NA_TOKENS)) + ")"


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


#: The dtype of text read from CSV files: pyarrow strings with NumPy semantics (masks are
#: plain bool arrays), parsed by pyarrow's vectorised kernels without a Python object
#: per cell; text columns become ``object`` when a table is final (:func:`to_object`).
TEXT_DTYPE = pd.StringDtype("pyarrow", na_value=np.nan)


def is_arrow_text(series) -> bool:
    """True for a Series of :data:`TEXT_DTYPE` (what the CSV reader returns)."""
    dtype = getattr(series, "dtype", None)
    return isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow"


def release_arrow_memory(collect: bool = False) -> None:
    """Hand buffers pyarrow freed back to the system (its pool keeps them otherwise).

    ``collect`` first frees what only reference cycles keep alive (pandas' views and
    caches can hold a table's text after its last use; the cycle collector would free
    it only later, after the next table was read).
    """
    import gc

    import pyarrow as pa

    if collect:
        gc.collect()
    pa.default_memory_pool().release_unused()


def to_object(series: pd.Series, repeats: bool | None = None) -> pd.Series:
    """A column as Python objects; text from pyarrow with one object per distinct value.

    Sharing one object per distinct value saves memory where values repeat (a customer id
    in the invoices) and costs time where they do not (invoice ids): ``repeats`` says
    which, or (None) a sample of the column decides.
    """
    if not is_arrow_text(series):
        return series.astype(object)
    import pyarrow as pa

    if repeats is None:
        head = series.iloc[:10_000]
        repeats = head.nunique() < 0.8 * len(head)
    values = pa.array(series.array).to_pandas(deduplicate_objects=repeats)
    return pd.Series(values.to_numpy(dtype=object), index=series.index, name=series.name)


def cells_as_text(series: pd.Series, textual: bool = False) -> pd.Series:
    if is_arrow_text(series):
        series = series.fillna("") if series.hasnans else series
        return _strip_arrow(series)
    if textual:  # strip only the distinct values that need it (most need nothing)
        uniques = series.unique()
        changed = {v: v.strip() for v in uniques if v[:1].isspace() or v[-1:].isspace()}
        return series.where(~series.isin(changed.keys()), series.map(changed)) if changed else series
    if pd.api.types.is_datetime64_any_dtype(series):
        return series.dt.strftime("%Y-%m-%d").fillna("")
    if series.dtype == object and pd.api.types.infer_dtype(series, skipna=True) in ("string", "empty"):
        return cells_as_text(series.fillna(""), textual=True)  # str and None only: no per-cell work
    return series.map(_cell_text).astype(object)


def _strip_arrow(series: pd.Series) -> pd.Series:
    """Pyarrow text without surrounding spaces: the same Series when no value has any
    (so what was worked out for it, e.g. :func:`factorize_text`, serves again)."""
    arr = pa.array(series.array)
    if not _maybe_padded(arr):
        return series
    stripped = pc.utf8_trim_whitespace(arr)
    if pc.all(pc.equal(pc.binary_length(stripped), pc.binary_length(arr))).as_py() is not False:
        return series
    return pd.Series(series.array.__class__(stripped), index=series.index, name=series.name)


def _maybe_padded(arr) -> bool:
    """Whether a value of pyarrow text may start or end with a space: only the first and
    last byte of each value are looked at (a control, space or non-ASCII byte there says
    "maybe", and the caller trims; plain text says no without copying anything)."""
    chunks = arr.chunks if isinstance(arr, pa.ChunkedArray) else [arr]
    for chunk in chunks:
        if not len(chunk):
            continue
        if not (pa.types.is_string(chunk.type) or pa.types.is_large_string(chunk.type)):
            return True
        _, offsets, data = chunk.buffers()[:3]
        width = np.int64 if pa.types.is_large_string(chunk.type) else np.int32
        bounds = np.frombuffer(offsets, dtype=width)[chunk.offset:chunk.offset + len(chunk) + 1]
        starts, ends = bounds[:-1], bounds[1:]
        filled = ends > starts
        if not filled.any():
            continue
        text = np.frombuffer(data, dtype=np.uint8)
        edges = np.concatenate([text[starts[filled]], text[ends[filled] - 1]])
        if ((edges <= 0x20) | (edges >= 0x7F)).any():
            return True
    return False


#: The last few columns factorized (a column is factorized by several checks in turn).
_FACTORIZED: list[tuple[weakref.ref, np.ndarray, object]] = []


def factorize_text(text: pd.Series):
    """``pd.factorize(text)``, remembered for the last few pyarrow text columns: the NA
    check, the parser and the own-file check each need it. Treat the codes as read-only.

    >>> codes, uniques = factorize_text(pd.Series(["b", "a", "b"]))
    >>> codes.tolist(), list(uniques)
    ([0, 1, 0], ['b', 'a'])
    """
    if not is_arrow_text(text):
        return pd.factorize(text)
    array = text.array
    for ref, codes, uniques in _FACTORIZED:
        if ref() is array:
            return codes, uniques
    codes, uniques = pd.factorize(text)
    _FACTORIZED.insert(0, (weakref.ref(array), codes, uniques))
    del _FACTORIZED[4:]
    return codes, uniques


def missing_cells(text: pd.Series, kind: str) -> pd.Series:
    """Which cells of a text column count as missing for a column of ``kind``."""
    if kind in ("id", "str", "category"):
        return text == ""
    if is_arrow_text(text):  # one RE2 pass (per distinct value when they repeat)
        if _repetitive(text):  # decided per distinct value (factorized once, remembered)
            return pd.Series(fullmatch_text(text, _NA_PATTERN), index=text.index)
        # NA tokens are at most 4 characters: longer values (most amounts and dates)
        # need no regex at all.
        short = np.asarray(pc.less_equal(pc.utf8_length(pa.array(text.array)), 4)
                           .fill_null(True), dtype=bool)  # fmt: skip
        found = np.zeros(len(text), dtype=bool)
        if short.all():
            found = fullmatch_text(text, _NA_PATTERN)
        elif short.any():
            found[short] = fullmatch_text(text[short], _NA_PATTERN)
        return pd.Series(found, index=text.index)
    na = {v for v in text.unique() if len(v) <= 4 and v.casefold() in NA_TOKENS}
    return text.isin(na)


def fullmatch_text(text: pd.Series, pattern: str) -> np.ndarray:
    """``text.str.fullmatch(pattern)`` as a bool array (missing cells: False).

    On pyarrow text whose values repeat (dates, codes, empty columns) the regex runs once
    per distinct value; on mostly distinct values (ids, amounts) once per cell.

    >>> fullmatch_text(pd.Series(["2025-01-02", "x", "2025-01-02"]), r"\\d{4}-\\d{2}-\\d{2}")
    array([ True, False,  True])
    """
    if _repetitive(text):
        codes, uniques = factorize_text(text)
        hits = np.append(pd.Series(uniques).str.fullmatch(pattern).to_numpy(dtype=bool), False)
        return hits[codes]
    return text.str.fullmatch(pattern).fillna(False).to_numpy(dtype=bool)


def _repetitive(text: pd.Series) -> bool:
    """Pyarrow text whose values repeat a lot (dates, codes, flags): worth factorizing."""
    return is_arrow_text(text) and len(text) > 10_000 and text.iloc[:10_000].nunique() < 2_000


def _by_unique(text: pd.Series, func) -> pd.Series:
    """``text.map(func)`` computed once per distinct value (exports repeat values a lot)."""
    if is_arrow_text(text):
        codes, uniques = factorize_text(text)
        mapped = np.empty(len(uniques), dtype=object)
        mapped[:] = [func(v) for v in uniques]
        return pd.Series(mapped[codes], index=text.index)
    uniques = text.unique()
    return text.map(dict(zip(uniques, map(func, uniques), strict=True)))


# --------------------------------------------------------------------------- coercion
def coerce_column(series, col: Column, table: str, mapping: ColumnMapping, decimal: str,
            textual: bool, default, notes: list[str], currency=None):  # fmt: skip
    """One column in the schema's type: ``(values, bad_mask, messages)``.

    ``messages`` has one entry per bad row saying what is wrong with its value. Missing
    values of optional columns get the column's default; of required ones, a reject.
    ``textual`` says every cell is a ``str`` (CSV), ``default`` is the mapping's default
    for empty cells, ``notes`` collects what was decided on the user's behalf;
    ``currency`` (codes per row, or one code) lets an amount such as ``410.514`` be read
    by its currency's minor units when nothing else in the column decides it.
    """
    vmap = mapping.value_map(table, col.name)
    typed = _typed_fast_path(series, col)
    if typed is not None and not vmap:
        text = None
        values, bad, messages = typed
        missing = values.isna().to_numpy() if col.kind != "bool" else np.zeros(len(series), bool)
    else:
        text = cells_as_text(series, textual)
        if vmap:
            folded = _by_unique(text, normalise_name)
            hit = folded.isin(vmap.keys())
            text = text.where(~hit, folded.map(vmap).map(_cell_text))
        missing = missing_cells(text, col.kind).to_numpy()
        if default is not None and missing.any():
            text = text.where(~missing, _cell_text(default))
            notes.append(f"{col.name}: {int(missing.sum())} empty value(s) set to {default!r} "
                         f"(mapping)")  # fmt: skip
            missing = missing_cells(text, col.kind).to_numpy()
        values, bad, messages = _PARSERS[col.kind](text, col, decimal=decimal,
                                                   mapping=mapping, table=table,
                                                   notes=notes, missing=missing,
                                                   currency=currency)  # fmt: skip
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


_NUMERIC_ID = re.compile(r"0*(\d+?)(?:\.0+)?")


def normalise_id(value: str) -> str:
    """A numeric id without leading zeros or a spreadsheet's ``.0``; other ids unchanged.

    >>> [normalise_id(v) for v in ("0200744019", "200744019.0", "INV-007", "0")]
    ['200744019', '200744019', 'INV-007', '0']
    """
    match = _NUMERIC_ID.fullmatch(value)
    return match.group(1) if match else value


def _arrow_text(values: pd.Series) -> pa.Array:
    """The column as a pyarrow string array (no copy when it already is one)."""
    return pa.array(values if is_arrow_text(values) else values.to_numpy(dtype=object),
                    type=pa.string())  # fmt: skip


def odd_id_mask(values: pd.Series) -> np.ndarray:
    """Ids written with a leading zero or a trailing ``.0`` (one pyarrow regex pass).

    >>> odd_id_mask(pd.Series(["0200744019", "200744019", "7.0", "A01"])).tolist()
    [True, False, True, False]
    """
    found = pc.match_substring_regex(_arrow_text(values), r"^(?:0\d+(?:\.0+)?|\d+\.0+)$")
    return np.asarray(found.fill_null(False), dtype=bool)


def _parse_id(text, col, mapping=None, notes=None, **_):
    values = text if is_arrow_text(text) else text.astype(object)
    if col.kind == "id" and notes is not None:
        # Only ids with a leading zero or a trailing .0 can have another form (vectorised,
        # on pyarrow text in RE2: a million distinct invoice ids must stay cheap).
        odd = pd.unique(values[odd_id_mask(values)])
        forms = dict(zip(odd, map(normalise_id, odd), strict=True))
        if mapping is not None and mapping.normalise_ids:
            if forms:
                values = values.map(lambda v: forms.get(v, v)).astype(object)
                notes.append(f"{col.name}: {len(forms)} id(s) written with leading zeros or "
                             f"a trailing '.0' normalised (mapping: normalise_ids)")  # fmt: skip
        elif forms:
            plain = set(pd.unique(values[values.isin(set(forms.values())).to_numpy(dtype=bool)]))
            groups: dict[str, list[str]] = {f: [f] for f in plain}
            for raw, form in forms.items():
                groups.setdefault(form, []).append(raw)
            clashes = [g for g in groups.values() if len(g) > 1]
            if clashes:
                example = " and ".join(repr(v) for v in sorted(clashes[0])[:2])
                notes.append(f"{col.name}: {len(clashes)} id(s) appear in forms that differ "
                             f"only by leading zeros or a trailing '.0' (e.g. {example}); read "
                             f"as different ids. If they are the same, set normalise_ids: "
                             f"true in the mapping")  # fmt: skip
    return values, np.zeros(len(text), dtype=bool), []


def _in_by_unique(text: pd.Series, values: pd.Series, allowed) -> np.ndarray:
    """``values.isin(allowed)`` as a bool array, where ``values`` were computed from
    ``text`` per distinct value (:func:`_by_unique`): on pyarrow text, decided once per
    distinct value too."""
    if not is_arrow_text(text):
        return values.isin(allowed).to_numpy(dtype=bool)
    allowed = set(allowed)
    codes, uniques = factorize_text(text)
    mapped = values.to_numpy(dtype=object)
    row = np.full(len(uniques) + 1, -1)
    row[codes] = np.arange(len(codes))  # a row of each distinct value (all alike)
    hits = np.array([i >= 0 and mapped[i] in allowed for i in row], dtype=bool)
    return hits[codes]  # code -1 (no value): the False at the end


def _parse_category(text, col, mapping, table, **_):
    values = _by_unique(text, str.upper if col.name == "currency" else str.casefold)
    bad = ~_in_by_unique(text, values, col.choices) & (text != "").to_numpy()
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
    is_true = pd.Series(_in_by_unique(text, folded, true), index=text.index)
    is_false = pd.Series(_in_by_unique(text, folded, false), index=text.index)
    missing = missing_cells(text, "bool")
    bad = (~(is_true | is_false) & ~missing).to_numpy()
    messages = [f"cannot read {v!r} as true/false (use e.g. true/false, sí/no, 1/0)"
                for v in text[bad]]  # fmt: skip
    return is_true.astype(bool), bad, messages


#: Spaces (with the no-break ones written out: pyarrow's RE2 knows no ``\\u``) and symbols.
_SPACES = "[\\s\u00a0\u202f$€£']"


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
        if series.dtype == object or is_arrow_text(series):
            step = max(1, len(series) // 20_000)  # a sample is evidence enough
            texts.append(cells_as_text(series.iloc[::step], textual))
    if not texts:
        return default
    values = pd.concat(texts).str.replace(_SPACES, "", regex=True)
    values = values[values.str.contains(r"\d", regex=True)]
    ambiguous = values.str.fullmatch(_AMBIGUOUS.pattern)
    comma = values.str.fullmatch(_EVIDENCE[","].pattern) & ~ambiguous
    dot = values.str.fullmatch(_EVIDENCE["."].pattern) & ~ambiguous
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
    plain = fullmatch_text(text, rf"[+-]?\d+(?:{d}\d+)?")
    if plain.all():  # the common case: one regex pass, then an exact conversion
        if is_arrow_text(text):  # pyarrow's cast rounds correctly, as float() does
            import pyarrow as pa
            import pyarrow.compute as pc

            dotted = pa.array(text.array)
            if decimal != ".":
                dotted = pc.replace_substring(dotted, decimal, ".")
            numbers = pc.cast(dotted, pa.float64()).to_numpy(zero_copy_only=False)
            if not numbers.flags.writeable:  # a view of pyarrow's buffer: frames edit it
                numbers = numbers.copy()
            return pd.Series(numbers, index=text.index)
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


#: One group of three digits after a single ``.`` or ``,`` (``410.514``, ``1,250``): the
#: value reads differently under the two decimal marks.
_AMBIGUOUS = re.compile(r"[+-]?\d{1,3}[.,]\d{3}")
_AMBIGUOUS_RE2 = "^[\\s\u00a0\u202f$€£']*[+-]?\\d{1,3}[.,]\\d{3}[\\s\u00a0\u202f$€£']*$"
_EVIDENCE = {  # spellings that show which mark is the decimal one
    ",": re.compile(r"[+-]?(?:\d*(?:\.\d{3})*,\d+|\d{1,3}(?:\.\d{3}){2,}|\d{4,},\d{3})"),
    ".": re.compile(r"[+-]?(?:\d*(?:,\d{3})*\.\d+|\d{1,3}(?:,\d{3}){2,}|\d{4,}\.\d{3})"
                    r"(?:[eE][+-]?\d+)?"),
}


def decimal_evidence(uniques) -> dict[str, str | None]:
    """An example value showing each decimal mark (``None`` when nothing shows it).

    ``1.234,5``, ``12,50`` and ``1.234.567`` show a decimal comma; ``1,234.5``, ``12.5``
    and ``1,234,567`` a decimal point; ``410.514`` and ``7`` show nothing.

    >>> decimal_evidence(["410.514", "1.250.000", "7"])
    {',': '1.250.000', '.': None}
    """
    values = pd.Series(list(uniques), dtype=object)
    stripped = values.str.replace(_SPACES, "", regex=True)
    plain = ~stripped.str.fullmatch(_AMBIGUOUS.pattern).fillna(False).to_numpy(dtype=bool)
    found: dict[str, str | None] = {}
    for mark, pattern in _EVIDENCE.items():
        hit = plain & stripped.str.fullmatch(pattern.pattern).fillna(False).to_numpy(dtype=bool)
        found[mark] = values[hit].iloc[0] if hit.any() else None
    return found


def _parse_amount(text, col, decimal, missing, mapping=None, notes=None, currency=None, **_):
    values = parse_amounts(text, decimal)
    bad = (values.isna().to_numpy() | ~np.isfinite(values.fillna(0).to_numpy())) & ~missing
    messages = {i: f"{v!r} is not a number (decimal mark {decimal!r})"
                for i, v in zip(np.flatnonzero(bad), text[bad], strict=True)}  # fmt: skip
    if mapping is None or mapping.decimal is None:
        values, bad = _settle_ambiguous(text, col, values, bad, messages, notes, currency,
                                        missing)  # fmt: skip
    return values, bad, [messages[i] for i in np.flatnonzero(bad)]


def _settle_ambiguous(text, col, values, bad, messages, notes, currency, missing):
    """Decide values such as ``410.514`` (410.514 or 410514?) from evidence, or reject them.

    The other values of the column decide first (``1.250.000`` shows that ``.`` groups
    thousands, ``12.50`` that it marks decimals); without evidence, a currency with no
    minor units (COP, CLP, PYG) means the separator groups thousands; otherwise the row
    is rejected and the mapping's ``decimal:`` asked for. Nothing is guessed silently.
    """
    # One pass of pyarrow's regex engine finds the candidates: a million amounts in
    # milliseconds (Python's re per value would dominate the whole load).
    if _repetitive(text):  # once per distinct value
        found = fullmatch_text(text, _AMBIGUOUS_RE2)
    else:
        found = pc.match_substring_regex(_arrow_text(text), _AMBIGUOUS_RE2).fill_null(False)
    candidates = np.asarray(found, dtype=bool) & ~np.asarray(missing)
    if not candidates.any():
        return values, bad
    short = pd.unique(text[candidates])
    ambiguous = {v for v in short if _AMBIGUOUS.fullmatch(re.sub(_SPACES, "", v))}
    stripped = {v: re.sub(_SPACES, "", v) for v in ambiguous}
    uniques = pd.Series(pd.unique(text[~np.asarray(missing)]), dtype=object)
    evidence = decimal_evidence(uniques[~uniques.isin(ambiguous)])
    marks = [m for m, example in evidence.items() if example is not None]
    mask = text.isin(ambiguous).to_numpy()
    amb = text[mask]
    seps = amb.map(lambda v: "," if "," in v else ".")
    grouped = amb.map(lambda v: float(re.sub(r"[.,]", "", stripped[v])))
    as_decimal = amb.map(lambda v: float(stripped[v].replace(",", ".")))
    values = values.copy()
    example = min(ambiguous)
    if len(marks) == 1:
        mark = marks[0]
        values[mask] = as_decimal.where(seps == mark, grouped).to_numpy()
        notes.append(f"{col.name}: {len(amb)} value(s) like {example!r} read with decimal "
                     f"mark {mark!r}, as {evidence[mark]!r} in the same column shows")  # fmt: skip
        return values, bad
    if callable(currency):  # worked out only when needed (a lookup per row)
        currency = currency()
    if currency is not None and not marks:
        codes = (pd.Series(currency, index=text.index) if np.isscalar(currency)
                 else pd.Series(currency, index=text.index))  # fmt: skip
        codes = codes[mask].astype(str).str.upper()
        whole = codes.map(lambda c: CURRENCY_DECIMALS.get(c, 2) == 0 if c in CURRENCIES
                          else False).to_numpy(dtype=bool)  # fmt: skip
        if whole.any():
            values[np.flatnonzero(mask)[whole]] = grouped[whole].to_numpy()
            used = ", ".join(sorted(set(codes[whole])))
            notes.append(f"{col.name}: {int(whole.sum())} value(s) like {amb[whole].iloc[0]!r} "
                         f"read as whole amounts ({used} has no minor units, so the separator "
                         f"groups thousands)")  # fmt: skip
            keep = ~whole
            mask = mask.copy()
            mask[np.flatnonzero(mask)[whole]] = False
            amb, seps, grouped, as_decimal = amb[keep], seps[keep], grouped[keep], as_decimal[keep]
    if not mask.any():
        return values, bad
    why = ("the column shows both decimal marks" if len(marks) == 2
           else "nothing else in the column shows which mark is the decimal one")
    for i, v, sep, a, b in zip(np.flatnonzero(mask), amb, seps, as_decimal, grouped,
                               strict=True):  # fmt: skip
        messages[i] = (f"{v!r} is ambiguous: {a:g} if {sep!r} is the decimal mark, {b:.0f} "
                       f"if it separates thousands ({why}); set decimal: in the mapping "
                       f"({sep!r} or {'.' if sep == ',' else ','!r})")
    return values, bad | mask


def _parse_int(text, col, decimal, missing, **_):
    values = parse_amounts(text, ".")
    integral = values.notna() & (values == values.round())
    bad = ~integral.to_numpy() & ~missing
    messages = [f"{v!r} is not a whole number" for v in text[bad]]
    return values.where(integral).round().astype("Int64"), bad, messages


# ------------------------------------------------------------------------------ dates
_TIME_SUFFIX = (r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*(?:[AaPp]\.?[Mm]\.?)?\s*"
                r"(?:Z|[+-]\d{2}:?\d{2})?)$")  # fmt: skip
ISO_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y%m%d")
DAY_FIRST_FORMATS = ("%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%d/%m/%y", "%d-%m-%y")
MONTH_FIRST_FORMATS = ("%m/%d/%Y", "%m-%d-%Y", "%m/%d/%y")


def format_label(fmt: str) -> str:
    """``"%d/%m/%Y"`` as users write it: ``"DD/MM/YYYY"``."""
    for code, label in (("%d", "DD"), ("%m", "MM"), ("%Y", "YYYY"), ("%y", "YY")):
        fmt = fmt.replace(code, label)
    return fmt


def _parse_with(uniques: pd.Series, fmt: str) -> pd.Series:
    return pd.to_datetime(uniques, format=fmt, errors="coerce")


#: strptime codes of a time of day: a format holding one is applied to the whole value.
_TIME_CODES = ("%H", "%I", "%M", "%S", "%p", "%f", "%z", "%Z", "%T", "%X", "%c")
#: ``20190220`` or, from a spreadsheet, ``20190220.0``: a date written as a number.
_NUMBER_DATE = re.compile(r"(\d{8})(?:\.0+)?")


def _date_part(value: str) -> str:
    """The date in a cell: a time of day removed, ``20190307.0`` read as ``20190307``."""
    value = re.sub(_TIME_SUFFIX, "", value)
    number = _NUMBER_DATE.fullmatch(value)
    return number.group(1) if number else value


def _day_month(fmt: str) -> bool:
    """True for formats whose day and month could be swapped (``%d/%m/%Y``, not ISO)."""
    return "%d" in fmt and "%m" in fmt and not fmt.startswith("%Y")


def _swapped(fmt: str) -> str:
    """The format with day and month exchanged (``%d/%m/%Y`` -> ``%m/%d/%Y``)."""
    return fmt.replace("%d", "\0").replace("%m", "%d").replace("\0", "%m")


def _parse_date(text, col, mapping, table, notes, missing, **_):
    keep = ~np.asarray(missing)
    # Each distinct text is read once and the results taken by code (no map per row).
    codes, distinct = factorize_text(text)
    present = np.zeros(len(distinct) + 1, dtype=bool)
    present[codes[keep]] = True
    present = present[:-1]
    uniques = pd.Series(np.asarray(distinct, dtype=object)[present], dtype=object)
    parts = uniques.map(_date_part)
    explicit = mapping.formats_for(table)
    parsed = pd.Series(pd.NaT, index=uniques.index, dtype="datetime64[ns]")
    chosen: str | None = None
    results: dict[str, pd.Series] = {}

    def read(fmt: str) -> pd.Series:
        if fmt not in results:
            timed = any(code in fmt for code in _TIME_CODES)
            results[fmt] = _parse_with(uniques if timed else parts, fmt)
        return results[fmt]

    if explicit:
        for fmt in explicit:
            todo = parsed.isna()
            parsed[todo] = read(fmt)[todo]
        expected = " or ".join(format_label(f) for f in explicit)
        used = list(explicit)
    else:
        dayfirst = True if mapping.dayfirst is None else mapping.dayfirst
        order = ISO_FORMATS + ((DAY_FIRST_FORMATS + MONTH_FIRST_FORMATS) if dayfirst
                               else (MONTH_FIRST_FORMATS + DAY_FIRST_FORMATS))  # fmt: skip
        best, best_count = order[0], -1
        for fmt in order:
            count = int(read(fmt).notna().sum())
            if count > best_count:
                best, best_count = fmt, count
        chosen = best
        parsed = results[best].copy()
        expected = format_label(best)
        used = [best]
        if best not in ISO_FORMATS and len(uniques):
            ambiguous = mapping.dayfirst is None and _ambiguous(uniques, results, best)
            notes.append(f"{col.name}: dates read as {expected}"
                         + (" (ambiguous day/month order: set dayfirst or date_formats in "
                            "the mapping to change)" if ambiguous else ""))  # fmt: skip
    both_orders = _both_orders(uniques, used, explicit, read, parsed)
    by_code = np.full(len(distinct) + 1, np.datetime64("NaT"), dtype="datetime64[ns]")
    by_code[np.flatnonzero(present)] = pd.to_datetime(
        parsed, errors="coerce").astype("datetime64[ns]").dt.normalize().to_numpy()  # fmt: skip
    values = pd.Series(by_code[codes], index=text.index)  # code -1 (no value): the NaT at the end
    bad = values.isna().to_numpy() & ~np.asarray(missing)
    readable = {fmt: set(uniques[res.notna()]) for fmt, res in results.items()
                if fmt != chosen} if chosen is not None else {}  # fmt: skip
    swaps = {_swapped(f) for f in used if _day_month(f)}
    if chosen is None:  # explicit formats: say when a rejected date is their day/month swap
        readable = {fmt: set(uniques[read(fmt).notna()]) for fmt in swaps - set(used)}
    messages = []
    for v in text[bad]:
        if v in both_orders:
            messages.append(both_orders[v])
            continue
        other = next((fmt for fmt, ok in readable.items() if v in ok), None)
        part = _date_part(v)
        if other in swaps:
            messages.append(
                f"date {part!r} is written as {format_label(other)} while the column uses "
                f"{expected}: the column mixes day-first and month-first dates. List both "
                f"formats in the mapping's date_formats to read dates like this one (the "
                f"day is over 12); dates that both orders can read stay rejected, so export "
                f"the column as YYYY-MM-DD or correct them"
            )
        elif other:
            messages.append(
                f"date {part!r} is written as {format_label(other)} while the column uses "
                f"{expected} (mixed date formats; list both in the mapping's date_formats "
                f"to accept them)"
            )
        else:
            messages.append(f"cannot read {part!r} as a date (expected {expected})")
    return values, bad, messages


def _both_orders(uniques, used: list[str], explicit, read, parsed: pd.Series) -> dict[str, str]:
    """Values two plausible formats read as different dates, with their message.

    A format's day/month swap is plausible when the mapping lists it too, or when some
    value of the column can only be read by it (the column mixes both orders). Such
    values are set to NaT in ``parsed``: neither reading can be accepted silently.
    """
    found: dict[str, str] = {}
    for fmt in used:
        if not _day_month(fmt):
            continue
        swap = _swapped(fmt)
        mine, theirs = read(fmt), read(swap)
        plausible = (explicit and swap in explicit) or bool((mine.isna() & theirs.notna()).any())
        if not plausible:
            continue
        clash = mine.notna() & theirs.notna() & (mine != theirs) & (parsed == mine)
        for idx in np.flatnonzero(clash.to_numpy()):
            value = uniques.iloc[idx]
            a, b = mine.iloc[idx], theirs.iloc[idx]
            found[value] = (
                f"date {_date_part(value)!r} reads as {a:%Y-%m-%d} ({format_label(fmt)}) or {b:%Y-%m-%d} "
                f"({format_label(swap)}), and the column holds dates in both orders: which "
                f"one is meant cannot be told, so the row is rejected (correct it, or export "
                f"the column as YYYY-MM-DD)"
            )
        parsed[clash] = pd.NaT
    return found


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

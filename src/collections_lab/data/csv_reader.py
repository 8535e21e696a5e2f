"""Reading CSV exports fast, every row keeping the line number a user sees.

The file is decoded once (BOMs, a reported Windows-1252 / latin-1 fallback, mojibake
repair), the separator sniffed and the header found with Python's ``csv`` module on the
first lines; the data lines are then parsed by pyarrow's CSV reader, as text. Line numbers
come from the bytes themselves: record ends are the newlines outside quotes, found with
numpy, and each record's number of fields is counted the same way, so the rows pyarrow
returns are matched to their lines without Python work per row. Records that are not plain
(a wrong number of fields, a quoted value spanning lines, blank or separator-only lines)
are few and go through the ``csv`` module one by one, with the same rules and messages as
before. Files whose quoting the byte scan cannot follow exactly (a quote in the middle of
an unquoted value, an unclosed quote, old Mac line ends) are read entirely with the
``csv`` module, more slowly but with the same result.

Physical lines are what a user sees in an editor: a row whose quote is never closed where
it should be swallows the following lines into one value; such a row is rejected on every
line it spans, naming the line where the quote opened and the lines it swallowed, so rows
read always equals the file's data lines (blank lines aside, which are noted).

Example
-------
>>> import tempfile, pathlib
>>> path = pathlib.Path(tempfile.mkdtemp()) / "payments.csv"
>>> _ = path.write_text('invoice_id,paid_at,amount\\nF1,2025-01-02,"1,5"\\n\\nF2,x\\n')
>>> raw = read_csv(path, "payments")
>>> raw.frame["amount"].tolist(), raw.rows.tolist()
(['1,5'], [2])
>>> print(raw.issues[0])
... # doctest: +ELLIPSIS
/.../payments.csv, line 4: expected 3 fields (as in the header), found 2 with separator ','
"""

from __future__ import annotations

import codecs
import csv
import gc
import gzip
import io as _io
import re
from pathlib import Path

import numpy as np
import pandas as pd

from .mapping import ColumnMapping
from .parsing import TEXT_DTYPE, release_arrow_memory
from .validation import RawTable, ValidationError, ValidationIssue

#: Field separators the CSV sniffer chooses from.
SEPARATORS = (",", ";", "\t", "|")
_MOJIBAKE = re.compile("[ÃÂ][\u0080-\u00bf]")
_NL, _CR, _QUOTE = 10, 13, 34
#: Bytes scanned at a time when locating line ends (bounds the scan's memory).
_CHUNK = 1 << 23
#: Characters of an ASCII file decoded to find its separator and header.
_HEAD = 1 << 20


def file_error(file: str, table: str, message: str, column=None) -> ValidationError:
    """A :class:`ValidationError` about a whole file (no row)."""
    return ValidationError([ValidationIssue(file, None, column, message, table)])


def read_csv(path: str | Path, table: str, mapping: ColumnMapping | None = None) -> RawTable:
    """Read a CSV export as text, keeping each row's line number (header = line 1).

    Decodes UTF-8 (a BOM is removed), falling back to Windows-1252 / latin-1 with a
    note; sniffs the separator among ``, ; tab |`` unless the mapping sets one. Rows
    with the wrong number of fields are rejected with their line; blank lines are
    skipped and noted. Raises :class:`ValidationError` for an empty file.
    """
    mapping = mapping or ColumnMapping()
    path = Path(path)
    file = str(path)
    data = path.read_bytes()
    if path.name.lower().endswith(".gz"):
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as exc:
            raise file_error(file, table, f"cannot decompress gzip file: {exc}") from None
    notes: list[str] = []
    encoding = (mapping.encoding or "utf-8").lower().replace("_", "-")
    ascii_only = encoding in ("utf-8", "utf8", "ascii") and data.isascii()
    if ascii_only:  # nothing to repair: decode only the head, pyarrow reads the bytes
        text = data[:_HEAD].decode("ascii")
    else:
        text = _decode(data, file, table, mapping.encoding, notes)
    if not text or text.isspace():
        raise file_error(file, table, "the file is empty: no header line and no rows")
    plain_utf8 = not notes and encoding in ("utf-8", "utf8", "ascii")
    sep = mapping.separator or _sniff_separator(text, notes)
    if mapping.separator and _modal_width(text, sep) == 1:
        sniffed = _sniff_separator(text, [])
        if _modal_width(text, sniffed) > 1:  # e.g. a preset says ';', this file uses ','
            notes.append(f"the mapping's separator {sep!r} is not in the file; "
                         f"read with {sniffed!r} instead")  # fmt: skip
            sep = sniffed
    if mapping.separator and sep == mapping.separator:
        _check_explicit_separator(text, sep, mapping.skip_rows, file, table)
    several = _modal_width(text, sep) >= 2
    if _fast_path_possible(data if ascii_only else text, sep):
        raw = _read_fast(data if plain_utf8 else None, text, sep, file, table, mapping,
                         several, list(notes))  # its notes stand only if it succeeds
        if raw is not None:
            return raw
    if ascii_only:
        text = data.decode("ascii")
    return _read_slow(text, sep, file, table, mapping, several, notes)


def _check_explicit_separator(text: str, sep: str, skip_rows, file: str, table: str) -> None:
    """Refuse a separator (given in the mapping) that leaves the header as one column while
    another separator splits it like the data: otherwise the header would be taken for a
    title line and a data row for the column names."""
    lines = [line for line in text[:64_000].splitlines()[skip_rows or 0:] if line.strip()]
    if not lines or len(next(csv.reader([lines[0]], delimiter=sep))) > 1:
        return
    sniffed = _sniff_separator(text, [])
    width = len(next(csv.reader([lines[0]], delimiter=sniffed)))
    if sniffed == sep or width < 2 or width != _modal_width(text, sniffed):
        return
    raise file_error(file, table, (
        f"the separator {sep!r} set in the mapping looks wrong: with it the header line "
        f"({lines[0][:60]!r}) is a single column, while {sniffed!r} splits it into "
        f"{width} columns like the rows below it. Set separator: {sniffed!r} in the "
        f"mapping, or leave it out and let the loader sniff it"))  # fmt: skip


# ======================================================================= the slow path
def _read_slow(text, sep, file, table, mapping, several, notes) -> RawTable:
    """Every record through Python's ``csv`` module (files the byte scan cannot follow)."""
    reader = csv.reader(_io.StringIO(text, newline=""), delimiter=sep)
    header, header_line = _find_header(reader, mapping.skip_rows, several, notes)
    if header is None:
        raise file_error(file, table, "the file has no header line after the skipped lines")
    header, renamed = clean_header(header, file, table, header_line)
    notes.extend(renamed)
    rows: list[int] = []
    issues: list[ValidationIssue] = []
    blank: list[int] = []
    records: list[list[str]] = []
    sorter = _RecordSorter(len(header), sep, file, table, records, rows, blank, issues)
    # Millions of small lists would trigger the cyclic garbage collector over and over
    # (quadratic-looking slowdowns on big files); none of them can form a cycle.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        previous = reader.line_num
        for record in reader:
            line = previous + 1
            previous = reader.line_num
            sorter.add(record, line, previous)
        frame = _frame_from_records(header, records)
        sorter.note(notes)
    except csv.Error as exc:
        raise ValidationError([ValidationIssue(
            file, reader.line_num, None, f"cannot parse the CSV here: {exc}", table,
        )]) from None  # fmt: skip
    finally:
        if gc_was_enabled:
            gc.enable()
    return _raw_table(table, frame, file, rows, issues, blank, notes, sep)


def _frame_from_records(header: list[str], records: list[list[str]]) -> pd.DataFrame:
    columns = list(zip(*records, strict=True)) if records else [() for _ in header]
    return pd.DataFrame({name: pd.Series(pd.array(list(col), dtype=TEXT_DTYPE))
                         for name, col in zip(header, columns, strict=True)})  # fmt: skip


def _raw_table(table, frame, file, rows, issues, blank, notes, sep) -> RawTable:
    if blank:
        notes.append(f"{len(blank)} blank line(s) skipped (lines {line_ranges(sorted(blank))})")
    if not len(frame) and not issues:
        notes.append("the file has a header but no data rows")
    issues.sort(key=lambda i: i.row)
    return RawTable(table, frame, file, unit="line", rows=np.asarray(rows, dtype=int),
                    issues=issues, notes=notes, separator=sep, textual=True)  # fmt: skip


class _RecordSorter:
    """Sorts parsed records into rows (with their line numbers), blank lines and misfits."""

    def __init__(self, width, sep, file, table, records, rows, blank, issues):
        self.width, self.sep, self.file, self.table = width, sep, file, table
        self.records, self.rows, self.blank, self.issues = records, rows, blank, issues
        #: (first, last) lines of kept rows whose quoted value spans lines.
        self.spanning: list[tuple[int, int]] = []

    def note(self, notes: list[str]) -> None:
        """Say which kept rows span several lines (rows read < data lines by that much)."""
        if self.spanning:
            shown = ", ".join(f"{a}-{b}" for a, b in self.spanning[:10])
            more = ", ..." if len(self.spanning) > 10 else ""
            extra = sum(b - a for a, b in self.spanning)
            notes.append(f"{len(self.spanning)} row(s) hold a quoted value with line breaks "
                         f"and were read as one row each (lines {shown}{more}; "
                         f"{extra} continuation line(s))")  # fmt: skip

    def add(self, record: list[str], line: int, last_line: int) -> None:
        width = self.width
        if len(record) == width and any(record) and last_line == line:  # kept cheap
            self.records.append(record)
            self.rows.append(line)
            return
        if not any(cell.strip() for cell in record):
            self.blank.extend(range(line, last_line + 1))
            return
        if len(record) > width and not any(c.strip() for c in record[width:]):
            record = record[:width]  # trailing separators: harmless
        if last_line > line:
            message = self._spanning(record, line, last_line)
            if message is not None:
                self._reject_lines(line, last_line, message)
                return
        if len(record) != width:
            self.issues.append(ValidationIssue(
                self.file, line, None,
                f"expected {width} fields (as in the header), found {len(record)} "
                f"with separator {self.sep!r}", self.table,
            ))  # fmt: skip
            return
        self.records.append(record)
        self.rows.append(line)
        if last_line > line:
            self.spanning.append((line, last_line))

    def _spanning(self, record, line, last_line) -> str | None:
        """The message for a record spanning lines that looks like a stray quote."""
        before = 0
        for cell in record:
            if "\n" in cell or "\r" in cell:
                opened = line + before
                if self.sep in cell or len(record) != self.width:
                    shown = cell.splitlines()[0][:30] if cell.strip() else ""
                    return (f"a quote opened on line {opened} (value starting {shown!r}) "
                            f"is not closed until line {last_line}: lines {opened}-"
                            f"{last_line} were read as one value; check the quote on "
                            f"line {opened}")  # fmt: skip
                return None
            before += cell.count("\n")
        return None

    def _reject_lines(self, line: int, last_line: int, message: str) -> None:
        self.issues.append(ValidationIssue(self.file, line, None, message, self.table))
        opened = message.split("on line ", 1)[1].split(" ", 1)[0]
        for other in range(line + 1, last_line + 1):
            self.issues.append(ValidationIssue(
                self.file, other, None,
                f"swallowed by the unclosed quote opened on line {opened}", self.table,
            ))  # fmt: skip


# ======================================================================= the fast path
def _fast_path_possible(text: str | bytes, sep: str) -> bool:
    """pyarrow takes one-byte separators; lone CR line ends are left to the csv module."""
    if len(sep) != 1 or ord(sep) > 127 or sep in "\"\r\n":
        return False
    cr, crlf = ("\r", "\r\n") if isinstance(text, str) else (b"\r", b"\r\n")
    if text.find(cr) < 0:  # memchr speed: most files have no CR at all
        return True
    n_cr = text.count(cr)
    return n_cr == 0 or n_cr == text.count(crlf)


def _header_end(text: str, reader_lines: int) -> int:
    """Character offset just after the first ``reader_lines`` physical lines."""
    pos = 0
    for _ in range(reader_lines):
        nxt = text.find("\n", pos)
        if nxt < 0:
            return len(text)
        pos = nxt + 1
    return pos


def _lines(text: str):
    """The text's lines (``\\n`` ends kept), lazily: no copy of a big file."""
    pos = 0
    n = len(text)
    while pos < n:
        nxt = text.find("\n", pos)
        end = n if nxt < 0 else nxt + 1
        yield text[pos:end]
        pos = end


def _read_fast(data, text, sep, file, table, mapping, several, notes) -> RawTable | None:
    """pyarrow parses; numpy finds each record's line. ``None``: use the slow path."""
    reader = csv.reader(_lines(text), delimiter=sep)
    try:
        header, header_line = _find_header(reader, mapping.skip_rows, several, notes)
    except csv.Error:
        return None
    if header is None:
        if data is not None and len(text) < len(data):
            return None
        raise file_error(file, table, "the file has no header line after the skipped lines")
    raw_width = len(header)
    header, renamed = clean_header(header, file, table, header_line)
    notes.extend(renamed)
    width = len(header)
    start = _header_end(text, reader.line_num)
    if data is not None and len(text) < len(data) and start >= len(text):
        return None  # the head holds no complete header line: read it all the slow way
    buf = data if data is not None else text.encode("utf-8")
    offset = len(text[:start].encode("utf-8"))
    body = np.frombuffer(buf, dtype=np.uint8)[offset:]
    # bytes.count runs at memchr speed: most exports hold no quote at all
    layout = (_Layout.plain(buf, offset, body, ord(sep))
              or _Layout.scan(body, ord(sep), has_quotes=buf.count(b'"', offset) > 0))
    if layout is None:
        return None
    first_line = reader.line_num + 1
    nonempty = ~layout.empty
    # pyarrow's row width: the header's, or (if most rows lack the header's trailing
    # separators) the trimmed one; other records are sorted out one by one.
    pa_width = raw_width
    if width < raw_width and np.count_nonzero(layout.fields == width) > np.count_nonzero(
            layout.fields == raw_width):  # fmt: skip
        pa_width = width
    misfits: list[int] = []
    table_pa = _parse_arrow(buf, offset, sep, pa_width, bool((layout.spans > 1).any()),
                            misfits)  # fmt: skip
    if table_pa is None:
        return None
    # Without misfits every non-empty record is a row: no need to count fields.
    fits = nonempty if not misfits else nonempty & (layout.fields == pa_width)
    if table_pa.num_rows != int(fits.sum()):
        return None
    lines = layout.lines + first_line
    rows_idx = np.flatnonzero(fits)
    keep = np.ones(len(rows_idx), dtype=bool)
    blank: list[int] = (lines[layout.empty]).tolist()
    issues: list[ValidationIssue] = []
    extra_records: list[list[str]] = []
    extra_rows: list[int] = []
    sorter = _RecordSorter(width, sep, file, table, extra_records, extra_rows, blank, issues)
    # Rows that need a look one by one: odd widths, values spanning lines, blank rows.
    odd = np.flatnonzero(nonempty & ~fits)
    looks = set(odd.tolist()) | set(np.flatnonzero(fits & (layout.spans > 1)).tolist())
    looks |= set(rows_idx[_blankish(table_pa, width, pa_width)].tolist())
    if looks:
        position = {r: i for i, r in enumerate(rows_idx.tolist())}
        for r in sorted(looks):
            record = _parse_one(body, layout, r, sep)
            line = int(lines[r])
            n_before = len(extra_records)
            sorter.add(record, line, line + int(layout.spans[r]) - 1)
            if r in position:  # pyarrow has it: keep it there, or drop it
                keep[position[r]] = len(extra_records) > n_before
                if keep[position[r]]:
                    extra_records.pop()
                    extra_rows.pop()
    sorter.note(notes)
    if not keep.all():
        import pyarrow as pa

        table_pa = table_pa.filter(pa.array(keep))
    rows = lines[rows_idx[keep]]
    frame = _arrow_to_frame(table_pa, header)
    del table_pa, layout, body
    release_arrow_memory()
    if extra_records:
        extra = _frame_from_records(header, extra_records)
        frame = pd.concat([frame, extra], ignore_index=True)
        rows = np.concatenate([rows, np.asarray(extra_rows, dtype=int)])
        order = np.argsort(rows, kind="stable")
        frame = frame.iloc[order].reset_index(drop=True)
        rows = rows[order]
    return _raw_table(table, frame, file, rows, issues, blank, notes, sep)


def _parse_one(body: np.ndarray, layout, r: int, sep: str) -> list[str]:
    chunk = body[layout.starts[r]:layout.ends[r]].tobytes().decode("utf-8")
    records = list(csv.reader(_io.StringIO(chunk, newline=""), delimiter=sep))
    if not records:
        return []
    if len(records) > 1:  # cannot happen when the scan is right; keep every cell
        return [cell for rec in records for cell in rec]
    return records[0]


def _blankish(table_pa, width: int, pa_width: int) -> np.ndarray:
    """Rows pyarrow read whose first value is blank (candidates for blank-line rules)."""
    import pyarrow.compute as pc

    if table_pa.num_rows == 0:
        return np.zeros(0, dtype=bool)
    first = table_pa.column(0)
    if width == pa_width:
        mask = pc.equal(first, "")
    else:
        mask = pc.equal(pc.utf8_trim_whitespace(first), "")
    mask = mask.to_numpy(zero_copy_only=False)
    if width != pa_width and table_pa.num_columns > width:  # trailing cells to check
        for i in range(width, table_pa.num_columns):
            col = pc.utf8_trim_whitespace(table_pa.column(i))
            mask |= pc.not_equal(col, "").to_numpy(zero_copy_only=False)
    return mask


def _parse_arrow(buf, offset: int, sep: str, width: int, multiline: bool, misfits: list):
    """The records as a pyarrow table of text; rows of another width go to ``misfits``."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    names = [f"c{i}" for i in range(width)]  # large strings: what pandas' pyarrow text holds
    if offset >= len(buf):
        return pa.table({name: pa.array([], pa.large_string()) for name in names})
    try:
        return pacsv.read_csv(
            pa.BufferReader(pa.py_buffer(buf)[offset:]),
            read_options=pacsv.ReadOptions(column_names=names, block_size=1 << 24),
            parse_options=pacsv.ParseOptions(
                delimiter=sep, quote_char='"', double_quote=True, escape_char=False,
                newlines_in_values=multiline, ignore_empty_lines=True,
                invalid_row_handler=lambda row: misfits.append(row.number) or "skip"),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.large_string()), strings_can_be_null=False,
                quoted_strings_can_be_null=False),
        )  # fmt: skip
    except (pa.ArrowInvalid, pa.ArrowException):
        return None


def _arrow_to_frame(table_pa, header: list[str]) -> pd.DataFrame:
    return pd.DataFrame({name: pd.Series(TEXT_DTYPE.__from_arrow__(table_pa.column(i)))
                         for i, name in enumerate(header)})  # fmt: skip


class _Layout:
    """Where each record of a CSV body starts and ends, its line and number of fields.

    Quotes are followed by parity: a newline or separator is inside a quoted value when
    an odd number of quotes precede it. That holds when every opening quote starts a
    value and every closing quote ends one (or is doubled); otherwise :meth:`scan`
    returns ``None``.
    """

    def __init__(self, starts, ends, lines, spans, empty, count_fields, full=None):
        self._starts, self._ends, self.lines = starts, ends, lines
        self.spans, self.empty = spans, empty
        self._count_fields = count_fields
        self._fields = None
        self._full = full  # the scan that gives starts, ends and fields when first asked

    def _complete(self) -> None:
        if self._full is not None:
            full, self._full = self._full(), None
            self._starts, self._ends, self._count_fields = full.starts, full.ends, full._count_fields

    @property
    def starts(self) -> np.ndarray:
        self._complete()
        return self._starts

    @property
    def ends(self) -> np.ndarray:
        self._complete()
        return self._ends

    @property
    def fields(self) -> np.ndarray:
        """Each record's number of fields (counted when first asked: a pass over the bytes)."""
        if self._fields is None:
            self._complete()
            self._fields = self._count_fields()
        return self._fields

    @classmethod
    def plain(cls, buf: bytes, offset: int, body: np.ndarray, sep: int) -> _Layout | None:
        """The layout of a body without quotes or blank lines: one record per line, its
        lines counted at memchr speed; where records start and end (the numpy scan) is
        worked out only if a record needs a look one by one. ``None`` if not so plain."""
        import pyarrow as pa
        import pyarrow.compute as pc

        if len(buf) <= offset or buf.find(b'"', offset) >= 0:  # find: memchr speed
            return None
        # One RE2 search over the bytes as a single value (zero-copy; RE2 skips to each
        # newline at memchr speed, where bytes.find of two bytes does not)
        data = pa.py_buffer(buf)[offset:]
        whole = pa.LargeBinaryArray.from_buffers(pa.large_binary(), 1, [
            None, pa.py_buffer(np.array([0, len(data)], dtype=np.int64)), data])  # fmt: skip
        if (buf.startswith((b"\n", b"\r"), offset) or buf.endswith(b"\n\r")
                or pc.match_substring_regex(whole, "\n\r?\n")[0].as_py()):  # fmt: skip
            return None  # blank lines: the scan finds them
        records = buf.count(b"\n", offset) + (0 if buf.endswith(b"\n") else 1)
        return cls(None, None, np.arange(records, dtype=np.int64),
                   np.ones(records, dtype=np.int64), np.zeros(records, dtype=bool), None,
                   full=lambda: cls.scan(body, sep, has_quotes=False))  # fmt: skip

    @classmethod
    def scan(cls, body: np.ndarray, sep: int, has_quotes: bool = True) -> _Layout | None:
        n = len(body)
        if n == 0:
            none = np.zeros(0, dtype=np.int64)
            return cls(none, none, none, none, np.zeros(0, dtype=bool), lambda: none)
        newlines = _positions(body, _NL)
        quotes = _positions(body, _QUOTE) if has_quotes else np.zeros(0, dtype=np.int64)
        if quotes.size:
            if quotes.size % 2 or not _quotes_regular(body, quotes, sep):
                return None
            inside = (np.searchsorted(quotes, newlines) & 1).astype(bool)
            ends = newlines[~inside]
        else:
            ends = newlines
        if n and (not ends.size or ends[-1] != n - 1):
            ends = np.append(ends, n)
        starts = np.concatenate([[0], ends[:-1] + 1]).astype(np.int64)
        first_nl = np.searchsorted(newlines, starts)
        spans = np.searchsorted(newlines, ends) - first_nl + 1
        length = ends - starts
        last = body[np.clip(starts, 0, max(n - 1, 0))]
        empty = (length == 0) | ((length == 1) & (last == _CR))

        def count_fields():
            return np.diff(_count_outside(body, sep, ends, quotes), prepend=0) + 1

        return cls(starts, ends, first_nl, spans, empty, count_fields)


def _positions(body: np.ndarray, byte: int) -> np.ndarray:
    parts = [np.flatnonzero(body[lo:lo + _CHUNK] == byte) + lo
             for lo in range(0, len(body), _CHUNK)]  # fmt: skip
    return np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, np.int64)


def _count_outside(body: np.ndarray, sep: int, ends: np.ndarray, quotes: np.ndarray):
    """For each end position, the number of separators before it outside quotes."""
    out = np.empty(len(ends), dtype=np.int64)
    total = 0
    n = len(body)
    for lo in range(0, n, _CHUNK):
        hi = min(n, lo + _CHUNK)
        s = np.flatnonzero(body[lo:hi] == sep) + lo
        if quotes.size:
            s = s[(np.searchsorted(quotes, s) & 1) == 0]
        i0, i1 = np.searchsorted(ends, [lo, hi])
        out[i0:i1] = total + np.searchsorted(s, ends[i0:i1])
        total += len(s)
    out[ends >= n] = total
    return out


def _quotes_regular(body: np.ndarray, quotes: np.ndarray, sep: int) -> bool:
    """Every quote opens a value, closes one, or is doubled inside one."""
    n = len(body)
    opening, closing = quotes[0::2], quotes[1::2]
    prev = body[np.maximum(opening - 1, 0)]
    doubled = np.zeros(len(opening), dtype=bool)
    doubled[1:] = closing[:-1] == opening[1:] - 1
    ok_open = (opening == 0) | (prev == sep) | (prev == _NL) | doubled
    nxt = body[np.minimum(closing + 1, n - 1)]
    pair = np.zeros(len(closing), dtype=bool)
    pair[:-1] = opening[1:] == closing[:-1] + 1
    ok_close = (closing == n - 1) | (nxt == sep) | (nxt == _NL) | (nxt == _CR) | pair
    return bool(ok_open.all() and ok_close.all())


# ====================================================================== shared helpers
def _decode(data: bytes, file: str, table: str, encoding: str | None, notes) -> str:
    """Bytes to text: BOMs removed, UTF-8 first, a reported Windows-1252/latin-1 fallback."""
    for bom, codec in ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16"),
                       (codecs.BOM_UTF16_BE, "utf-16")):  # fmt: skip
        if data.startswith(bom):
            notes.append(f"{codec.upper()} byte-order mark (BOM) removed")
            body = data[len(bom):] if codec == "utf-8" else data
            return body.decode(codec, errors="strict").lstrip("\ufeff")
    if encoding:
        try:
            return data.decode(encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            line = data[: getattr(exc, "start", 0)].count(b"\n") + 1
            raise ValidationError([ValidationIssue(
                file, line, None, f"cannot decode the file as {encoding}: {exc}", table,
            )]) from None  # fmt: skip
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        codec = "cp1252"
        try:
            text = data.decode(codec)
        except UnicodeDecodeError:  # bytes cp1252 leaves undefined: latin-1 takes any byte
            codec = "latin-1"
            text = data.decode(codec)
        notes.append(f"not valid UTF-8 (first bad byte on line {line}); "
                     f"repaired by reading it as {codec}")  # fmt: skip
        return text
    if _MOJIBAKE.search(text):
        try:
            repaired = text.encode("cp1252").decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            repaired = None
        if repaired is not None:
            notes.append("text was UTF-8 read as latin-1 and saved again ('Ã³' for 'ó'); "
                         "repaired")  # fmt: skip
            return repaired
    return text


def _find_header(reader, skip_rows: int | None, several_columns: bool, notes: list[str]):
    """The header line: after ``skip_rows`` lines, or after blank and title lines.

    Exports often start with a title (``Reporte de cartera al 31/12/2025``): without an
    explicit ``skip_rows``, leading lines with a single filled cell are taken as titles
    when the file has several columns.
    """
    titles: list[str] = []
    for record in reader:
        cells = [c.strip() for c in record if c.strip()]
        if skip_rows is not None and reader.line_num <= skip_rows:
            titles.extend(cells[:1])
            continue
        if not cells:
            continue
        if skip_rows is None and several_columns and len(cells) == 1:
            titles.append(cells[0])
            continue
        line = reader.line_num
        if titles or skip_rows:
            notes.append(f"{line - 1} line(s) before the header skipped"
                         + (f" (titles: {', '.join(map(repr, titles[:3]))})" if titles else ""))
        elif line > 1:
            notes.append(f"{line - 1} blank line(s) before the header skipped")
        return [c.strip() for c in record], line
    return None, 0


def _sniff_separator(text: str, notes: list[str]) -> str:
    """The separator giving the same number (> 1) of fields on most of the first lines.

    A separator that splits the first line (the header, unless it is a title) into as many
    fields as the lines below comes first: decimal commas in the rows of a ``|``-separated
    file must not make ``,`` win and the header pass for a title.
    """
    best, best_score = ",", (False, -1.0, 0)
    for sep in SEPARATORS:
        counts = _widths(text, sep)
        mode = max(set(counts), key=counts.count) if counts else 0
        if mode < 2:
            continue
        score = (counts[0] == mode, counts.count(mode) / len(counts), mode)
        if score > best_score:
            best, best_score = sep, score
    if best != ",":
        notes.append(f"separator {best!r} sniffed from the first lines")
    return best


def _widths(text: str, sep: str) -> list[int]:
    sample = [line for line in text[:64_000].splitlines()[:50] if line.strip()]
    return [len(r) for r in csv.reader(sample, delimiter=sep)]


def _modal_width(text: str, sep: str) -> int:
    """The most common number of fields on the first lines (titles and all)."""
    counts = _widths(text, sep)
    return max(set(counts), key=counts.count) if counts else 0


def clean_header(header: list[str], file: str, table: str, line: int = 1):
    """Header names stripped of BOMs and trailing empty names; repeated names made distinct.

    Returns ``(names, notes)``. A name that appears again gets its occurrence number
    (``document_create_date``, ``document_create_date.2``, ...), so a mapping can address
    every column; each renaming is noted.

    >>> clean_header(["id", "fecha", "fecha", ""], "f.csv", "invoices")
    (['id', 'fecha', 'fecha.2'], ["column 'fecha' appears twice in the header (line 1, \
columns 2 and 3): the second is read as 'fecha.2' (use that name in the mapping)"])
    """
    names = [h.replace("\ufeff", "").strip() for h in header]
    while names and not names[-1]:  # a separator at the end of the header line
        names.pop()
    names = [name or f"unnamed_{i}" for i, name in enumerate(names, start=1)]
    taken = set(names)
    first: dict[str, int] = {}
    count: dict[str, int] = {}
    notes = []
    for i, name in enumerate(names):
        if name not in first:
            first[name] = i
            count[name] = 1
            continue
        count[name] += 1
        new = f"{name}.{count[name]}"
        while new in taken:
            count[name] += 1
            new = f"{name}.{count[name]}"
        taken.add(new)
        names[i] = new
        nth = {2: "second", 3: "third"}.get(count[name], f"occurrence {count[name]}")
        notes.append(f"column {name!r} appears {'twice' if count[name] == 2 else 'again'} "
                     f"in the header (line {line}, columns {first[name] + 1} and {i + 1}): "
                     f"the {nth} is read as {new!r} (use that name in the mapping)")  # fmt: skip
    return names, notes


def line_ranges(lines: list[int]) -> str:
    parts, start, prev = [], lines[0], lines[0]
    for line in lines[1:] + [None]:
        if line is not None and line == prev + 1:
            prev = line
            continue
        parts.append(f"{start}" if start == prev else f"{start}-{prev}")
        if line is not None:
            start = prev = line
    return ", ".join(parts[:10]) + (", ..." if len(parts) > 10 else "")

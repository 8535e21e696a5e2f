"""Column mappings: load an accounting system's export without hand editing it.

An export names its columns its own way (``Nº Factura``, ``Fecha emisión``), writes dates
day-first, uses decimal commas and its own words for tones or payment methods. A
:class:`ColumnMapping` says, per table of :mod:`collections_lab.data.schema`, which source
column is which schema column, how dates and numbers are written, and which source values
mean which schema values. It is plain data: a dict or a small YAML file.

Presets for common exports ship in ``collections_lab/data/presets/*.yml``; list them with
:func:`list_presets` and load one by name with :func:`load_preset` (or pass the name as
``mapping=`` to the loaders in :mod:`collections_lab.data.loading`).

YAML layout (every key optional)::

    name: my_export
    separator: ";"            # CSV field separator (sniffed when absent)
    decimal: ","              # decimal mark of amounts (sniffed when absent)
    dayfirst: true            # read 03/04/2025 as 3 April (sniffed when absent)
    date_formats: ["%d/%m/%Y"]  # strptime formats tried in order (sniffed when absent)
    encoding: utf-8           # file encoding (UTF-8, with a latin-1 fallback, when absent)
    skip_rows: 3              # lines before the header (title lines are detected when absent)
    true_values: ["sí", "x"]   # extra words for true / false
    false_values: ["no"]
    columns: {"Nº Factura": invoice_id}   # renames shared by every table
    drop: ["invoice_id"]      # source columns to ignore (e.g. one that clashes with a rename)
    absent: [reminders]       # tables the export does not have (else a missing one is an error)
    export_date: 2026-05-31   # day of the export: later event dates are rejected
    normalise_ids: true       # '0200744019', '200744019' and '200744019.0' are one id
    sheet: Ledger             # sheet of an Excel workbook (the first when absent)
    tables:
      invoices:
        source: facturas      # file / database table name, when not "invoices"
        columns: {"Fecha emisión": issue_date, "Importe": amount}
        values: {channel: {correo: email}}     # source value -> schema value, per column
        defaults: {currency: COP}             # value for a column the export lacks
        credit_notes: {column: doc_type, values: [CN], credits: ref_doc}  # see below

Credit notes in the invoices table (rows with a negative amount, or whose
``credit_notes.column`` holds one of ``credit_notes.values``) are not invoices: each is
applied to the invoice named in its ``credits`` column, else to the customer's invoice of
the same amount issued before it, and the load report says what was applied.

Example
-------
>>> m = ColumnMapping.from_dict({"invoices": {"Nº Factura": "invoice_id"}, "decimal": ","})
>>> m.renames("invoices", ["Nº Factura", "amount"])
{'Nº Factura': 'invoice_id'}
>>> "es_contable" in list_presets()
True
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import yaml

from ..i18n.display import SettingsCard
from .dates import DateError, load_yaml, parse_date
from .schema import TABLES

#: Words read as true / false in boolean columns (compared case-insensitively), before
#: the mapping's own ``true_values`` / ``false_values``.
TRUE_WORDS: tuple[str, ...] = ("true", "t", "yes", "y", "1", "sí", "si", "s", "verdadero", "x")
FALSE_WORDS: tuple[str, ...] = ("false", "f", "no", "n", "0", "falso")

_TOP_KEYS = {
    "name", "description", "separator", "decimal", "thousands", "dayfirst", "date_formats",
    "encoding", "skip_rows", "true_values", "false_values", "columns", "values", "tables",
    "drop", "absent", "export_date", "normalise_ids", "sheet",
}  # fmt: skip
_TABLE_KEYS = {"source", "query", "columns", "values", "defaults", "date_formats", "drop",
               "sheet", "credit_notes"}  # fmt: skip
_CREDIT_KEYS = {"column", "values", "credits"}


class MappingError(ValueError):
    """A column mapping that cannot be used (unknown table, column or key).

    Example:
        >>> cl.load_preset("no-such-preset")
        Traceback (most recent call last):
            ...
        collections_lab.data.mapping.MappingError: unknown mapping preset 'no-such-preset'; ...
    """


def normalise_name(name: object) -> str:
    """A column name compared loosely: Unicode-normalised, case-folded, spaces collapsed.

    ``"  Nº  Factura"`` and ``"nº factura"`` compare equal; accents still count.

    >>> normalise_name(" Fecha  Emisión ") == normalise_name("fecha emisión")
    True
    """
    text = unicodedata.normalize("NFKC", str(name)).replace("\ufeff", "")
    return " ".join(text.casefold().split())


@dataclass
class TableMapping(SettingsCard):
    """How one schema table is found and named in a source.

    ``columns`` maps source column -> schema column; ``values`` maps, per schema column,
    source value -> schema value (matched case-insensitively); ``defaults`` gives a value
    for a schema column the source lacks (or leaves empty); ``source`` is the file or
    database table name when it differs from the schema name; ``query`` is an SQL query
    to run instead of reading a table (DuckDB / SQLAlchemy sources).

    Example:
        >>> cl.TableMapping(source="facturas.csv", columns={"Factura": "invoice_id"}).source
        'facturas.csv'
    """

    source: str | None = None
    query: str | None = None
    columns: dict[str, str] = field(default_factory=dict)
    values: dict[str, dict[str, object]] = field(default_factory=dict)
    defaults: dict[str, object] = field(default_factory=dict)
    date_formats: list[str] | None = None
    #: Source columns ignored (not read, not renamed).
    drop: list[str] = field(default_factory=list)
    #: Sheet of an Excel workbook (name or 0-based position).
    sheet: str | int | None = None
    #: How credit notes are told apart: ``{"column": ..., "values": [...], "credits": ...}``.
    credit_notes: dict[str, object] = field(default_factory=dict)


@dataclass
class ColumnMapping(SettingsCard):
    """Column renames, value maps and the dialect (separator, decimal mark, dates) of an export.

    Build one with :meth:`from_dict` / :meth:`from_yaml`, or get a shipped one with
    :func:`load_preset`. ``None`` for a dialect field means "sniff it from the file".

    Example:
        >>> mapping = cl.ColumnMapping(dayfirst=True, tables={
        ...     "invoices": cl.TableMapping(columns={"Factura": "invoice_id"})})
        >>> mapping.tables["invoices"].columns
        {'Factura': 'invoice_id'}
    """

    name: str = ""
    description: str = ""
    separator: str | None = None
    decimal: str | None = None
    thousands: str | None = None
    dayfirst: bool | None = None
    date_formats: list[str] | None = None
    encoding: str | None = None
    skip_rows: int | None = None
    true_values: list[str] = field(default_factory=list)
    false_values: list[str] = field(default_factory=list)
    columns: dict[str, str] = field(default_factory=dict)
    values: dict[str, dict[str, object]] = field(default_factory=dict)
    tables: dict[str, TableMapping] = field(default_factory=dict)
    drop: list[str] = field(default_factory=list)
    absent: list[str] = field(default_factory=list)
    export_date: str | None = None
    normalise_ids: bool = False
    sheet: str | int | None = None

    # ----------------------------------------------------------------- construction
    @classmethod
    def from_dict(cls, data: dict | None, where: str = "mapping") -> ColumnMapping:
        """Build a mapping from a dict (the YAML layout in the module docstring).

        A table entry may be just its column renames: ``{"invoices": {"Nº": "invoice_id"}}``
        is short for ``{"tables": {"invoices": {"columns": {"Nº": "invoice_id"}}}}``.
        """
        data = dict(data or {})
        tables_raw = dict(data.pop("tables", None) or {})
        for name in list(data):
            if name in TABLES:  # shorthand: table entries at the top level
                tables_raw[name] = data.pop(name)
        unknown = sorted(set(data) - _TOP_KEYS, key=str)
        if unknown:
            raise MappingError(
                f"{where}: unknown key(s) {_name_keys(unknown)}; keys are {sorted(_TOP_KEYS)} "
                f"and table names {list(TABLES)}"
            )
        tables = {}
        for tname, entry in tables_raw.items():
            tables[tname] = _table_mapping(tname, entry, f"{where}: table {tname!r}")
        formats = data.get("date_formats")
        mapping = cls(
            name=str(data.get("name", "")),
            description=str(data.get("description", "")),
            separator=data.get("separator"),
            decimal=data.get("decimal"),
            thousands=data.get("thousands"),
            dayfirst=data.get("dayfirst"),
            date_formats=_as_list(formats) if formats else None,
            encoding=data.get("encoding"),
            skip_rows=data.get("skip_rows"),
            true_values=[str(v) for v in _as_list(data.get("true_values"))],
            false_values=[str(v) for v in _as_list(data.get("false_values"))],
            columns={str(k): str(v) for k, v in (data.get("columns") or {}).items()},
            values=_values(data.get("values"), f"{where}: values"),
            tables=tables,
            drop=[str(c) for c in _as_list(data.get("drop"))],
            absent=[str(t) for t in _as_list(data.get("absent"))],
            export_date=None if data.get("export_date") in (None, "") else str(data["export_date"]),
            normalise_ids=bool(data.get("normalise_ids", False)),
            sheet=data.get("sheet"),
        )
        mapping.check(where)
        return mapping

    @classmethod
    def from_yaml(cls, path: str | Path) -> ColumnMapping:
        """Read a mapping from a YAML file (see the module docstring for its layout)."""
        path = Path(path)
        try:
            doc = load_yaml(path.read_text(encoding="utf-8"))  # dates stay text
        except FileNotFoundError:
            raise MappingError(f"mapping file not found: {path}") from None
        except UnicodeDecodeError:
            raise MappingError(f"{path}: not a text (UTF-8) file; a mapping is YAML") from None
        except yaml.YAMLError as exc:
            # Problem and position only: PyYAML's own text quotes the offending line, and
            # this message may reach a published page (the file may not be a mapping).
            mark = getattr(exc, "problem_mark", None)
            where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
            problem = getattr(exc, "problem", None) or "cannot be parsed"
            raise MappingError(f"{path}: not valid YAML{where}: {problem}") from None
        if doc is not None and not isinstance(doc, dict):
            raise MappingError(f"{path}: a mapping must be a YAML dictionary")
        return cls.from_dict(doc, where=str(path))

    @classmethod
    def coerce(cls, mapping) -> ColumnMapping:
        """Accept a ColumnMapping, a dict, a YAML path, a preset name or ``None``.

        >>> ColumnMapping.coerce("es_contable").decimal
        ','
        """
        if mapping is None:
            return cls()
        if isinstance(mapping, ColumnMapping):
            return mapping
        if isinstance(mapping, dict):
            return cls.from_dict(mapping)
        if isinstance(mapping, Path | str):
            text = str(mapping)
            if text in list_presets():
                return load_preset(text)
            if text.lower().endswith((".yml", ".yaml")):
                return cls.from_yaml(text)
            raise MappingError(
                f"mapping {text!r} is neither a preset ({list_presets()}) nor a YAML file "
                "(.yml or .yaml)"
            )
        raise MappingError(f"cannot use {type(mapping).__name__} as a column mapping")

    def to_dict(self) -> dict:
        """The mapping as plain data (what :meth:`from_dict` reads)."""
        out: dict = {}
        for key in ("name", "description", "separator", "decimal", "thousands", "dayfirst",
                    "date_formats", "encoding", "skip_rows", "export_date", "sheet"):  # fmt: skip
            value = getattr(self, key)
            if value not in (None, ""):
                out[key] = value
        if self.normalise_ids:
            out["normalise_ids"] = True
        for key in ("true_values", "false_values", "columns", "values", "drop", "absent"):
            if getattr(self, key):
                out[key] = getattr(self, key)
        tables = {}
        for tname, tm in self.tables.items():
            entry = {k: getattr(tm, k) for k in sorted(_TABLE_KEYS)
                     if getattr(tm, k) not in (None, "", [], {})}
            tables[tname] = entry
        if tables:
            out["tables"] = tables
        return out

    def check(self, where: str = "mapping") -> None:
        """Raise :class:`MappingError` if the mapping names unknown tables or columns."""
        problems = []
        if self.decimal not in (None, ".", ","):
            problems.append(f"decimal must be '.' or ',', got {self.decimal!r}")
        if self.skip_rows is not None and (not isinstance(self.skip_rows, int)
                                           or self.skip_rows < 0):  # fmt: skip
            problems.append(f"skip_rows must be a whole number >= 0, got {self.skip_rows!r}")
        if self.separator is not None and len(str(self.separator)) != 1:
            problems.append(f"separator must be one character, got {self.separator!r}")
        all_columns = {c for t in TABLES.values() for c in t.column_names}
        for src, dst in self.columns.items():
            if dst not in all_columns:
                problems.append(f"columns: {src!r} maps to {dst!r}, not a column of any table")
        for col in self.values:
            if col not in all_columns:
                problems.append(f"values: {col!r} is not a column of any table")
        for tname in self.absent:
            if tname not in TABLES:
                problems.append(f"absent: unknown table {tname!r}; tables are {list(TABLES)}")
            elif tname == "invoices":
                problems.append("absent: the invoices table cannot be absent")
        if self.export_date is not None:
            try:
                parse_date(self.export_date, None)
            except DateError as exc:
                problems.append(f"export_date must be an ISO date: {exc}")
        for tname, tm in self.tables.items():
            unknown = sorted(set(tm.credit_notes) - _CREDIT_KEYS)
            if unknown:
                problems.append(f"table {tname!r}: credit_notes has unknown key(s) {unknown}; "
                                f"keys are {sorted(_CREDIT_KEYS)}")  # fmt: skip
            if tm.credit_notes and tname != "invoices":
                problems.append(f"table {tname!r}: credit_notes belong to the invoices table")
            if tname not in TABLES:
                problems.append(f"unknown table {tname!r}; tables are {list(TABLES)}")
                continue
            names = TABLES[tname].column_names
            for part, cols in (("columns", tm.columns.values()), ("values", tm.values),
                               ("defaults", tm.defaults)):  # fmt: skip
                for col in cols:
                    if col not in names:
                        problems.append(
                            f"table {tname!r}: {part} names {col!r}, not a column of "
                            f"{tname} ({', '.join(names)})"
                        )
        if problems:
            raise MappingError(f"{where}: " + "; ".join(problems))

    # ------------------------------------------------------------------- queries
    def table(self, name: str) -> TableMapping:
        """The mapping of table ``name`` (an empty one when the mapping does not mention it)."""
        return self.tables.get(name, TableMapping())

    def source_name(self, table: str) -> str:
        """The file / database table name the export uses for schema table ``table``."""
        return self.table(table).source or table

    def dropped(self, table: str) -> set[str]:
        """Source columns (loosely compared names) the mapping ignores for ``table``."""
        return {normalise_name(c) for c in [*self.drop, *self.table(table).drop]}

    def sheet_for(self, table: str):
        """The Excel sheet ``table`` is read from (``None``: the first sheet)."""
        return self.table(table).sheet if self.table(table).sheet is not None else self.sheet

    def renames(self, table: str, found: list[str]) -> dict[str, str]:
        """Renames (found column -> schema column) for the columns a source actually has.

        Exact names win; otherwise names match loosely (case, spacing, Unicode form).
        Table-specific renames override the shared ``columns``.
        """
        wanted = {**self.columns, **self.table(table).columns}
        exact = {c: wanted[c] for c in found if c in wanted}
        loose = {normalise_name(k): v for k, v in wanted.items()}
        out = {}
        for col in found:
            if col in exact:
                out[col] = exact[col]
            elif normalise_name(col) in loose:
                out[col] = loose[normalise_name(col)]
        return out

    def value_map(self, table: str, column: str) -> dict[str, object]:
        """Source value -> schema value for ``column`` (keys case-folded and stripped)."""
        merged = {**self.values.get(column, {}), **self.table(table).values.get(column, {})}
        return {normalise_name(k): v for k, v in merged.items()}

    def formats_for(self, table: str) -> list[str] | None:
        """Date formats for ``table``: the table's own, else the mapping's, else ``None``."""
        return self.table(table).date_formats or self.date_formats

    def bool_words(self) -> tuple[set[str], set[str]]:
        """Case-folded words read as true and as false."""
        user_true = {normalise_name(w) for w in self.true_values}
        user_false = {normalise_name(w) for w in self.false_values}
        true = ({normalise_name(w) for w in TRUE_WORDS} - user_false) | user_true
        false = ({normalise_name(w) for w in FALSE_WORDS} - user_true) | user_false
        return true, false

    def with_options(self, **options) -> ColumnMapping:
        """A copy with dialect fields replaced (``separator``, ``decimal``, ``dayfirst``, ...)."""
        data = self.to_dict()
        data.update({k: v for k, v in options.items() if v is not None})
        return ColumnMapping.from_dict(data)


def _as_list(value) -> list:
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return list(value)
    return [value]


def _values(raw, where: str) -> dict[str, dict[str, object]]:
    if not raw:
        return {}
    if not isinstance(raw, dict) or not all(isinstance(v, dict) for v in raw.values()):
        raise MappingError(f"{where}: expected {{column: {{source value: schema value}}}}")
    return {str(col): {str(k): v for k, v in vmap.items()} for col, vmap in raw.items()}


_KEY_LIKE = re.compile(r"^[\w][\w .-]{0,39}$")


def _name_keys(keys: list, limit: int = 5) -> str:
    """Unknown keys for a message: at most ``limit`` that look like keys (a typo such as
    ``separtor``); anything else is only counted, so a file that is not a mapping at all
    (``-p mapping /etc/shadow``) never has its lines copied into a report.

    >>> _name_keys(["separtor"]), _name_keys(["root:*:20228:0:99999:7::", "x"])
    ("['separtor']", "['x'] and 1 other(s) that do not look like mapping keys")
    """
    named = [str(k) for k in keys if _KEY_LIKE.match(str(k))][:limit]
    rest = len(keys) - len(named)
    if not rest:
        return str(named)
    if not named:
        return f"({rest} that do not look like mapping keys: is this a mapping file?)"
    return f"{named} and {rest} other(s) that do not look like mapping keys"


def _table_mapping(tname: str, entry, where: str) -> TableMapping:
    if entry is None:
        return TableMapping()
    if isinstance(entry, str):  # {"invoices": "facturas"}: just the source name
        return TableMapping(source=entry)
    if not isinstance(entry, dict):
        raise MappingError(f"{where}: expected a dictionary, got {type(entry).__name__}")
    if not set(entry) & _TABLE_KEYS:  # shorthand: only column renames
        entry = {"columns": entry}
    unknown = sorted(set(entry) - _TABLE_KEYS, key=str)
    if unknown:
        raise MappingError(f"{where}: unknown key(s) {_name_keys(unknown)}; keys are "
                           f"{sorted(_TABLE_KEYS)}")
    formats = entry.get("date_formats")
    return TableMapping(
        source=entry.get("source"),
        query=entry.get("query"),
        columns={str(k): str(v) for k, v in (entry.get("columns") or {}).items()},
        values=_values(entry.get("values"), f"{where}: values"),
        defaults=dict(entry.get("defaults") or {}),
        date_formats=_as_list(formats) if formats else None,
        drop=[str(c) for c in _as_list(entry.get("drop"))],
        sheet=entry.get("sheet"),
        credit_notes=_credit_notes(entry.get("credit_notes"), where),
    )


def _credit_notes(raw, where: str) -> dict[str, object]:
    if not raw:
        return {}
    if not isinstance(raw, dict):
        raise MappingError(f"{where}: credit_notes must be a dictionary like "
                           f"{{column: doc_type, values: [CN], credits: ref_doc}}")  # fmt: skip
    out = dict(raw)
    if "values" in out:
        out["values"] = [str(v) for v in _as_list(out["values"])]
    return out


# ------------------------------------------------------------------------ presets
def _preset_dir():
    return resources.files("collections_lab.data") / "presets"


def list_presets() -> list[str]:
    """Names of the mapping presets shipped with the package (``presets/*.yml``).

    Example:
        >>> "es_contable" in list_presets()
        True
    """
    return sorted(
        p.name.removesuffix(".yml") for p in _preset_dir().iterdir() if p.name.endswith(".yml")
    )


def load_preset(name: str) -> ColumnMapping:
    """Load a shipped mapping preset by name, e.g. ``load_preset("es_contable")``.

    Example:
        >>> name = cl.list_presets()[0]
        >>> type(cl.load_preset(name)).__name__
        'ColumnMapping'
    """
    names = list_presets()
    if name not in names:
        raise MappingError(f"unknown mapping preset {name!r}; presets are {names}")
    text = (_preset_dir() / f"{name}.yml").read_text(encoding="utf-8")
    return ColumnMapping.from_dict(load_yaml(text), where=f"preset {name!r}")

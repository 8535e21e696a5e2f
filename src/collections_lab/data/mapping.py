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
    tables:
      invoices:
        source: facturas      # file / database table name, when not "invoices"
        columns: {"Fecha emisión": issue_date, "Importe": amount}
        values: {channel: {correo: email}}     # source value -> schema value, per column
        defaults: {currency: COP}             # value for a column the export lacks

Example
-------
>>> m = ColumnMapping.from_dict({"invoices": {"Nº Factura": "invoice_id"}, "decimal": ","})
>>> m.renames("invoices", ["Nº Factura", "amount"])
{'Nº Factura': 'invoice_id'}
>>> "es_contable" in list_presets()
True
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import yaml

from .schema import TABLES

#: Words read as true / false in boolean columns (compared case-insensitively), before
#: the mapping's own ``true_values`` / ``false_values``.
TRUE_WORDS: tuple[str, ...] = ("true", "t", "yes", "y", "1", "sí", "si", "s", "verdadero", "x")
FALSE_WORDS: tuple[str, ...] = ("false", "f", "no", "n", "0", "falso")

_TOP_KEYS = {
    "name", "description", "separator", "decimal", "thousands", "dayfirst", "date_formats",
    "encoding", "skip_rows", "true_values", "false_values", "columns", "values", "tables",
}  # fmt: skip
_TABLE_KEYS = {"source", "query", "columns", "values", "defaults", "date_formats"}


class MappingError(ValueError):
    """A column mapping that cannot be used (unknown table, column or key)."""


def normalise_name(name: object) -> str:
    """A column name compared loosely: Unicode-normalised, case-folded, spaces collapsed.

    ``"  Nº  Factura"`` and ``"nº factura"`` compare equal; accents still count.

    >>> normalise_name(" Fecha  Emisión ") == normalise_name("fecha emisión")
    True
    """
    text = unicodedata.normalize("NFKC", str(name)).replace("\ufeff", "")
    return " ".join(text.casefold().split())


@dataclass
class TableMapping:
    """How one schema table is found and named in a source.

    ``columns`` maps source column -> schema column; ``values`` maps, per schema column,
    source value -> schema value (matched case-insensitively); ``defaults`` gives a value
    for a schema column the source lacks (or leaves empty); ``source`` is the file or
    database table name when it differs from the schema name; ``query`` is an SQL query
    to run instead of reading a table (DuckDB / SQLAlchemy sources).
    """

    source: str | None = None
    query: str | None = None
    columns: dict[str, str] = field(default_factory=dict)
    values: dict[str, dict[str, object]] = field(default_factory=dict)
    defaults: dict[str, object] = field(default_factory=dict)
    date_formats: list[str] | None = None


@dataclass
class ColumnMapping:
    """Column renames, value maps and the dialect (separator, decimal mark, dates) of an export.

    Build one with :meth:`from_dict` / :meth:`from_yaml`, or get a shipped one with
    :func:`load_preset`. ``None`` for a dialect field means "sniff it from the file".
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
        unknown = sorted(set(data) - _TOP_KEYS)
        if unknown:
            raise MappingError(
                f"{where}: unknown key(s) {unknown}; keys are {sorted(_TOP_KEYS)} "
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
        )
        mapping.check(where)
        return mapping

    @classmethod
    def from_yaml(cls, path: str | Path) -> ColumnMapping:
        """Read a mapping from a YAML file (see the module docstring for its layout)."""
        path = Path(path)
        try:
            doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise MappingError(f"mapping file not found: {path}") from None
        except yaml.YAMLError as exc:
            raise MappingError(f"{path}: not valid YAML: {exc}") from None
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
            if text.endswith((".yml", ".yaml")) or Path(text).exists():
                return cls.from_yaml(text)
            raise MappingError(
                f"mapping {text!r} is neither a preset ({list_presets()}) nor a YAML file"
            )
        raise MappingError(f"cannot use {type(mapping).__name__} as a column mapping")

    def to_dict(self) -> dict:
        """The mapping as plain data (what :meth:`from_dict` reads)."""
        out: dict = {}
        for key in ("name", "description", "separator", "decimal", "thousands", "dayfirst",
                    "date_formats", "encoding", "skip_rows"):  # fmt: skip
            value = getattr(self, key)
            if value not in (None, ""):
                out[key] = value
        for key in ("true_values", "false_values", "columns", "values"):
            if getattr(self, key):
                out[key] = getattr(self, key)
        tables = {}
        for tname, tm in self.tables.items():
            entry = {k: getattr(tm, k) for k in sorted(_TABLE_KEYS) if getattr(tm, k)}
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
        for tname, tm in self.tables.items():
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


def _table_mapping(tname: str, entry, where: str) -> TableMapping:
    if entry is None:
        return TableMapping()
    if isinstance(entry, str):  # {"invoices": "facturas"}: just the source name
        return TableMapping(source=entry)
    if not isinstance(entry, dict):
        raise MappingError(f"{where}: expected a dictionary, got {type(entry).__name__}")
    if not set(entry) & _TABLE_KEYS:  # shorthand: only column renames
        entry = {"columns": entry}
    unknown = sorted(set(entry) - _TABLE_KEYS)
    if unknown:
        raise MappingError(f"{where}: unknown key(s) {unknown}; keys are {sorted(_TABLE_KEYS)}")
    formats = entry.get("date_formats")
    return TableMapping(
        source=entry.get("source"),
        query=entry.get("query"),
        columns={str(k): str(v) for k, v in (entry.get("columns") or {}).items()},
        values=_values(entry.get("values"), f"{where}: values"),
        defaults=dict(entry.get("defaults") or {}),
        date_formats=_as_list(formats) if formats else None,
    )


# ------------------------------------------------------------------------ presets
def _preset_dir():
    return resources.files("collections_lab.data") / "presets"


def list_presets() -> list[str]:
    """Names of the mapping presets shipped with the package (``presets/*.yml``).

    >>> "es_contable" in list_presets()
    True
    """
    return sorted(
        p.name.removesuffix(".yml") for p in _preset_dir().iterdir() if p.name.endswith(".yml")
    )


def load_preset(name: str) -> ColumnMapping:
    """Load a shipped mapping preset by name, e.g. ``load_preset("es_contable")``."""
    names = list_presets()
    if name not in names:
        raise MappingError(f"unknown mapping preset {name!r}; presets are {names}")
    text = (_preset_dir() / f"{name}.yml").read_text(encoding="utf-8")
    return ColumnMapping.from_dict(yaml.safe_load(text), where=f"preset {name!r}")

"""Draft a column mapping for a new export, so the first load needs no hand-written YAML.

:func:`draft_mapping` reads an export (one flat file with a row per invoice, or a folder
of tables; CSV, Excel or Parquet) with the workbench's own readers, so it sees the same
column names and values a load will see, and proposes a
:class:`~collections_lab.data.mapping.ColumnMapping`:

- **from column names**, through English and Spanish synonyms (``InvoiceDate``,
  ``fecha_factura``, ``document_create_date``, ``SettledDate``, ``clear_date``,
  ``fecha_pago``, ...), compared without case, accents or punctuation;
- **from the values**: dates (ISO, ``20190220``, ``20190307.0``, day-first or month-first
  slashes, decided from a day above 12), decimal commas, ISO currency codes, yes/no flags,
  ids written with and without leading zeros or a ``.0``, and source words for channels,
  tones and payment methods.

Guesses it cannot make (the currency of a file with none, a segment) are written as
defaults marked ``CONFIRM``; every guess and every column left unmapped carries a comment
in :meth:`MappingDraft.to_yaml`. Drafting never raises on odd values: what it cannot read
it leaves unmapped and says so.

Example
-------
>>> import pathlib, tempfile
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> _ = (folder / "export.csv").write_text(
...     "InvoiceNo,CustomerID,InvoiceDate,DueDate,Amount,SettledDate\\n"
...     "A1,C1,13/01/2025,12/02/2025,\\"1.250,50\\",20/02/2025\\n"
...     "A2,C2,05/01/2025,04/02/2025,980,\\n")
>>> draft = draft_mapping(folder / "export.csv")
>>> draft.mapping["columns"]["InvoiceNo"], draft.mapping["dayfirst"]
('invoice_id', True)
>>> draft.mapping["tables"]["invoices"]["defaults"]
{'currency': 'USD'}
>>> "CONFIRM" in draft.to_yaml()
True
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .mapping import ColumnMapping
from .schema import (
    CURRENCIES,
    INVOICE_CHANNELS,
    PAYMENT_METHODS,
    REMINDER_CHANNELS,
    SEGMENTS,
    TABLES,
    TONES,
)

#: Values read per column to recognise dates, numbers and codes (the rest is not needed
#: to draft; the load itself checks every row).
SAMPLE_ROWS = 5_000

#: Source column names (normalised: lower case, no accents, letters and digits only) for
#: each schema column, best first. A name is matched whole; see :func:`_norm`.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "invoice_id": ("invoiceid", "invoicenumber", "invoiceno", "invoicenum", "invoice",
                   "docid", "documentid", "documentnumber", "docnumber", "docno",
                   "documentno", "billingdocument", "nfactura",
                   "nofactura", "numfactura", "numerodefactura", "numerofactura",
                   "factura", "idfactura", "folio", "documento"),
    "customer_id": ("customerid", "custid", "custnumber", "customernumber", "customerno",
                    "customer", "clientid", "accountnumber", "account", "codigocliente",
                    "idcliente", "codcliente", "cliente", "nit", "rfc"),
    "issue_date": ("issuedate", "invoicedate", "documentcreatedate", "docdate",
                   "documentdate", "postingdate", "baselinecreatedate", "createdate",
                   "fechaemision", "fechafactura", "fechadeemision", "fechadocumento",
                   "fecha"),
    "due_date": ("duedate", "dueindate", "netduedate", "paymentduedate",
                 "fechavencimiento", "fechadevencimiento", "vencimiento"),
    "amount": ("amount", "invoiceamount", "totalopenamount", "totalamount", "total",
               "amountdue", "importe", "monto", "valor", "importefactura", "valortotal"),
    "currency": ("currency", "invoicecurrency", "currencycode", "curr", "moneda", "divisa"),
    "disputed": ("disputed", "dispute", "indispute", "endisputa", "disputa", "litigio"),
    "channel": ("channel", "paperlessbill", "deliverychannel", "invoicechannel", "canal"),
    "payment_link": ("paymentlink", "paylink", "enlacedepago", "enlacepago", "linkdepago"),
    "paid_at": ("settleddate", "cleardate", "clearingdate", "paiddate", "paymentdate", "datepaid",
                "settlementdate", "fechapago", "fechadepago", "fechacobro", "fechadecobro"),
    "country": ("countrycode", "country", "pais", "codigopais"),
    "segment": ("segment", "customersegment", "customergroup", "segmento",
                "segmentocliente", "grupocliente"),
    "name": ("namecustomer", "customername", "accountname", "name", "nombrecliente",
             "razonsocial", "nombre"),
    "created_at": ("customersince", "createdat", "fechaalta", "fechadealta"),
    # separate tables only
    "sent_at": ("sentat", "sentdate", "reminderdate", "fechaenvio", "fechadeenvio"),
    "sequence": ("sequence", "reminderno", "remindernumber", "nrecordatorio"),
    "tone": ("tone", "tono"),
    "personalised": ("personalised", "personalized", "personalizado"),
    "method": ("method", "paymentmethod", "formadepago", "mediodepago", "metodo"),
    "discount": ("discount", "descuento"),
    "fee": ("fee", "latefee", "recargo", "mora"),
    "experiment_id": ("experimentid", "experiment", "experimento"),
    "arm": ("arm", "variant", "brazo", "variante"),
    "assigned_at": ("assignedat", "assigneddate", "fechaasignacion"),
}
#: In a table's own file the payment's amount column may be named like this.
PAYMENT_AMOUNT = ("amountpaid", "paidamount", "paymentamount", "importepagado", "montopagado")

#: File names (normalised) of each table when an export is a folder of tables.
TABLE_FILES: dict[str, tuple[str, ...]] = {
    "invoices": ("invoices", "invoice", "facturas", "factura", "ventas", "cartera"),
    "payments": ("payments", "payment", "pagos", "cobros", "recaudos"),
    "customers": ("customers", "clients", "clientes", "terceros"),
    "reminders": ("reminders", "dunning", "recordatorios", "avisos", "cobranza"),
    "assignments": ("assignments", "asignaciones"),
}

#: Source words for category values (normalised) -> schema value.
VALUE_WORDS: dict[str, dict[str, str]] = {
    "channel": {"electronic": "email", "email": "email", "mail": "mail", "paper": "mail",
                "correo": "email", "correoelectronico": "email", "papel": "mail",
                "correopostal": "mail", "portal": "portal", "edi": "edi",
                "facturaelectronica": "edi", "sms": "sms", "whatsapp": "whatsapp",
                "letter": "letter", "carta": "letter", "phone": "phone", "telefono": "phone",
                "llamada": "phone"},
    "tone": {"friendly": "friendly", "amable": "friendly", "cordial": "friendly",
             "neutral": "neutral", "neutro": "neutral", "firm": "firm", "firme": "firm",
             "final": "final", "ultimoaviso": "final"},
    "segment": {"small": "small", "pyme": "small", "pymes": "small", "pequena": "small",
                "sme": "small", "smb": "small", "micro": "small", "medium": "medium",
                "mediana": "medium", "mediano": "medium", "midmarket": "medium",
                "large": "large", "grande": "large", "enterprise": "large",
                "corporativo": "large", "corporate": "large", "public": "public",
                "publica": "public", "publico": "public", "gobierno": "public",
                "government": "public", "sectorpublico": "public"},
    "method": {"transfer": "transfer", "transferencia": "transfer", "wire": "transfer",
               "card": "card", "tarjeta": "card", "directdebit": "direct_debit",
               "domiciliacion": "direct_debit", "debitoautomatico": "direct_debit",
               "cash": "cash", "efectivo": "cash", "check": "check", "cheque": "check",
               "installment": "installment", "cuotas": "installment", "other": "other",
               "otro": "other"},
}
_CHOICES = {"channel": set(INVOICE_CHANNELS) | set(REMINDER_CHANNELS), "tone": set(TONES),
            "segment": set(SEGMENTS),
            "method": set(PAYMENT_METHODS)}
_TRUE = {"true", "t", "yes", "y", "1", "si", "s", "verdadero", "x"}
_FALSE = {"false", "f", "no", "n", "0", "falso"}
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2})?)?$")
_COMPACT_DATE = re.compile(r"^(19|20)\d{2}(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])(\.0+)?$")
_SLASH_DATE = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{2}|\d{4})$")
_ID_TWIN = re.compile(r"^0+\d|\.0+$")


def _norm(name) -> str:
    """A column or file name without case, accents, punctuation or spaces.

    >>> _norm("Fecha emisión"), _norm("Nº Factura"), _norm("document_create_date")
    ('fechaemision', 'nofactura', 'documentcreatedate')
    """
    text = unicodedata.normalize("NFKD", str(name)).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]", "", text.lower())


@dataclass
class ColumnGuess:
    """Why a source column was mapped (or left unmapped): shown as a YAML comment."""

    source: str
    target: str | None
    table: str | None
    reason: str


@dataclass
class MappingDraft:
    """A drafted mapping: ``mapping`` loads with
    :meth:`ColumnMapping.from_dict <collections_lab.data.mapping.ColumnMapping.from_dict>`;
    ``guesses`` says why each source column was or was not mapped; ``confirm`` lists the
    defaults a person must confirm (the workbench could not see them in the data)."""

    source: str
    flat: bool
    mapping: dict
    guesses: list[ColumnGuess] = field(default_factory=list)
    confirm: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def column_mapping(self) -> ColumnMapping:
        """The draft as a :class:`~collections_lab.data.mapping.ColumnMapping`."""
        return ColumnMapping.from_dict(self.mapping, where=f"draft of {self.source}")

    def to_yaml(self) -> str:
        """The draft as a commented YAML file (every guess and unmapped column explained,
        defaults to confirm marked ``CONFIRM``)."""
        return _to_yaml(self)

    def write(self, path) -> Path:
        """Write :meth:`to_yaml` to ``path`` (atomically) and return the path."""
        from .files import atomic_write_text

        return atomic_write_text(Path(path), self.to_yaml())


def draft_mapping(source) -> MappingDraft:
    """Propose a mapping for an export: a flat file (one row per invoice) or a folder of
    tables, in CSV, Excel or Parquet. See the module docstring for what it recognises."""
    path = Path(source)
    if path.is_dir():
        return _draft_folder(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file or folder")
    return _draft_flat(path)


# ------------------------------------------------------------------------ reading
def _read(path: Path, sheet=None) -> pd.DataFrame:
    """The first rows of a file as text, with the names the workbench's loader gives."""
    from .loading import read_file

    mapping = ColumnMapping.from_dict({"sheet": sheet} if sheet is not None else {})
    raw = read_file(path, "invoices", mapping)
    frame = raw.frame.head(SAMPLE_ROWS)
    return frame.apply(lambda s: s.astype("string").fillna("").str.strip()).astype(object)


def _best_sheet(path: Path) -> tuple[pd.DataFrame, str | None]:
    """An Excel workbook's sheet whose columns match the most schema columns (a title or
    notes sheet often comes first); other files have one table."""
    if path.suffix.lower() not in (".xlsx", ".xlsm", ".xls"):
        return _read(path), None
    from python_calamine import CalamineWorkbook

    best = None
    for name in CalamineWorkbook.from_path(str(path)).sheet_names:
        try:
            frame = _read(path, name)
        except ValueError:  # an empty or unreadable sheet
            continue
        hits = sum(1 for c in frame.columns for names in SYNONYMS.values()
                   if any(n in _norm(c) for n in names if len(n) >= 4))
        if best is None or hits > best[0]:
            best = (hits, frame, name)
    if best is None:
        raise ValueError(f"{path}: no sheet with a table")
    return best[1], best[2]


# ------------------------------------------------------------------------ values
@dataclass
class _Profile:
    kind: str  # date, number, bool, currency, country, text, empty
    filled: float  # share of non-empty cells
    unique: float  # distinct non-empty values / non-empty cells
    dayfirst: bool | None = None  # for slash dates: True, False or None (undecided)
    slash: bool = False  # a date column written with slashes (day/month order matters)
    decimal_comma: bool = False
    id_twins: bool = False
    values: list = field(default_factory=list)  # distinct values (categories)


def _profile(column: pd.Series) -> _Profile:
    values = column[column != ""]
    n = len(values)
    if not n:
        return _Profile("empty", 0.0, 0.0)
    uniq = pd.unique(values)
    filled, unique = n / max(1, len(column)), len(uniq) / n
    sample = [str(v) for v in uniq[:2000]]
    if all(_ISO_DATE.match(v) or _COMPACT_DATE.match(v) for v in sample):
        return _Profile("date", filled, unique)
    slash = [_SLASH_DATE.match(v) for v in sample]
    if all(slash):
        first = max(int(m.group(1)) for m in slash)
        second = max(int(m.group(2)) for m in slash)
        dayfirst = True if first > 12 >= second else False if second > 12 >= first else None
        return _Profile("date", filled, unique, dayfirst=dayfirst, slash=True)
    lowered = {_norm(v) for v in sample}
    if lowered <= (_TRUE | _FALSE) and len(lowered) <= 3 and not lowered <= {"0", "1"}:
        return _Profile("bool", filled, unique)
    if all(v.upper() in CURRENCIES and v.isalpha() for v in sample):
        return _Profile("currency", filled, unique, values=sorted({v.upper() for v in sample}))
    if all(len(v) == 2 and v.isalpha() and v.isupper() for v in sample):
        return _Profile("country", filled, unique)
    if all(re.fullmatch(r"-?[\d.,]+", v) for v in sample):
        comma = any(re.fullmatch(r"-?\d{1,3}(\.\d{3})*,\d+|-?\d+,\d{1,2}", v) for v in sample)
        twins = any(_ID_TWIN.search(v) for v in sample) and unique > 0.5
        return _Profile("number", filled, unique, decimal_comma=comma, id_twins=twins)
    return _Profile("text", filled, unique, values=sample[:50] if len(uniq) <= 50 else [])


_FITS = {  # schema kind -> value profiles that can hold it
    "id": {"text", "number"}, "str": {"text", "country", "number", "currency"},
    "date": {"date"}, "amount": {"number"}, "int": {"number"}, "bool": {"bool", "number"},
    "category": {"text", "currency"},
}


# ------------------------------------------------------------------------ matching
def _kind(target: str) -> str:
    for table in TABLES.values():
        if target in table.column_names:
            return table.column(target).kind
    return "str"


def _match(columns: list[str], profiles: dict[str, _Profile], targets: list[str],
           extra: dict[str, tuple[str, ...]] | None = None) -> dict[str, str]:
    """Source column -> schema column, by synonym rank then completeness; a column is
    used once; a name whose values cannot hold the target's kind is skipped."""
    by_norm: dict[str, list[str]] = {}
    for c in columns:
        by_norm.setdefault(_norm(c), []).append(c)
    chosen: dict[str, str] = {}
    for target in targets:
        names = (extra or {}).get(target, ()) + SYNONYMS.get(target, ())
        best = None
        for rank, _name, col in _candidates(names, by_norm):
            if col in chosen:
                continue
            prof = profiles[col]
            if prof.kind == "empty" or prof.kind not in _FITS[_kind(target)]:
                continue
            score = (rank, -prof.filled, -prof.unique if target.endswith("_id") else 0)
            if best is None or score < best[0]:
                best = (score, col)
        if best is not None:
            chosen[best[1]] = target
    return chosen


def _candidates(names: tuple[str, ...], by_norm: dict[str, list[str]]):
    """(rank, synonym, source column): whole-name matches first, then source names that
    contain a synonym of 3+ letters (``NIT Cliente`` holds ``cliente``), ranked after."""
    for rank, name in enumerate(names):
        for col in by_norm.get(name, []):
            yield rank, name, col
    for rank, name in enumerate(names):
        if len(name) < 3:
            continue
        for norm, cols in by_norm.items():
            if norm != name and name in norm:
                for col in cols:
                    yield len(names) + rank, name, col


def _values_map(target: str, profile: _Profile) -> tuple[dict, list[str]]:
    """Source words -> schema values for a category column, and words not recognised."""
    words = VALUE_WORDS.get(target, {})
    choices = _CHOICES.get(target, set())
    mapped, unknown = {}, []
    for v in profile.values:
        if v in choices:
            continue
        w = words.get(_norm(v))
        if w:
            mapped[v] = w
        else:
            unknown.append(v)
    return mapped, unknown


# ------------------------------------------------------------------------ drafts
def _global_options(draft: MappingDraft, date_profiles: list[_Profile],
                    amount_profiles: list[_Profile]) -> None:
    decided = {p.dayfirst for p in date_profiles if p.dayfirst is not None}
    if decided == {True}:
        draft.mapping["dayfirst"] = True
        draft.notes.append("dayfirst: a date column has days above 12 in its first field")
    elif decided == {False}:
        draft.mapping["dayfirst"] = False
        draft.notes.append("dayfirst: false: a date column has days above 12 in its second "
                           "field (month first)")
    elif len(decided) > 1:
        draft.notes.append("date columns disagree on day-first vs month-first: give "
                           "date_formats per table")
    slash_undecided = [p for p in date_profiles if p.slash and p.dayfirst is None]
    if slash_undecided and not decided:
        # Every slash date has both fields <= 12, so 03/04/2026 reads as 3 April or 4 March:
        # the loader refuses such values, and the draft must not pick one silently.
        draft.confirm.append("dayfirst: every slash date has day and month <= 12, so the "
                             "order cannot be told from the file; add `dayfirst: true` "
                             "(31/12/2026) or `dayfirst: false` (12/31/2026)")
    if any(p.decimal_comma for p in amount_profiles):
        draft.mapping["decimal"] = ","
        draft.notes.append("decimal: amounts are written with a decimal comma")


def _draft_flat(path: Path) -> MappingDraft:
    frame, sheet = _best_sheet(path)
    columns = list(frame.columns)
    profiles = {c: _profile(frame[c]) for c in columns}
    draft = MappingDraft(source=str(path), flat=True, mapping={"name": _norm(path.stem) or "export"})
    if sheet is not None:
        draft.mapping["sheet"] = sheet
        draft.notes.append(f"sheet: {sheet!r} is the workbook's sheet that looks like invoices")
    shared = ["invoice_id", "customer_id", "amount"]
    per_table = {"invoices": ["issue_date", "due_date", "currency", "disputed", "channel",
                              "payment_link"],
                 "payments": ["paid_at"],
                 "customers": ["segment", "country", "name", "created_at"]}
    chosen = _match(columns, profiles, shared + sum(per_table.values(), []))
    by_target = {t: s for s, t in chosen.items()}
    draft.mapping["columns"] = {s: t for s, t in chosen.items() if t in shared}
    tables: dict[str, dict] = {}
    for table, targets in per_table.items():
        cols = {by_target[t]: t for t in targets if t in by_target}
        tables[table] = {"columns": cols} if cols else {}
    _schema_clashes(draft, columns, chosen)
    _describe_guesses(draft, columns, chosen, profiles, shared, per_table)
    _category_values(draft, tables, chosen, profiles)
    _defaults(draft, tables, by_target, profiles)
    if any(profiles[s].id_twins for s, t in chosen.items() if t.endswith("_id")):
        draft.mapping["normalise_ids"] = True
        draft.notes.append("normalise_ids: ids appear with leading zeros or a trailing .0")
    if "paid_at" not in by_target:
        draft.notes.append("no settlement-date column found: every invoice will read as "
                           "open (map the column with the payment date to paid_at)")
    dates = [profiles[s] for s, t in chosen.items() if _kind(t) == "date"]
    _global_options(draft, dates, [profiles[by_target["amount"]]] if "amount" in by_target else [])
    draft.mapping["tables"] = {k: v for k, v in tables.items() if v}
    for needed in ("invoice_id", "customer_id", "issue_date", "due_date", "amount"):
        if needed not in by_target:
            draft.confirm.append(f"no column found for {needed}: map it under columns:")
    return draft


def _draft_folder(folder: Path) -> MappingDraft:
    draft = MappingDraft(source=str(folder), flat=False, mapping={"name": _norm(folder.name)})
    files = [p for p in sorted(folder.iterdir()) if p.is_file() and p.suffix.lower() in
             (".csv", ".txt", ".tsv", ".xlsx", ".xlsm", ".parquet", ".gz")]
    tables: dict[str, dict] = {}
    all_dates, all_amounts = [], []
    for table, names in TABLE_FILES.items():
        match = next((p for p in files if _norm(p.name.split(".")[0]) in names), None)
        if match is None:
            if table in ("reminders", "assignments"):
                draft.mapping.setdefault("absent", []).append(table)
                draft.notes.append(f"absent: no {table} file found")
            continue
        frame = _read(match)
        columns = list(frame.columns)
        profiles = {c: _profile(frame[c]) for c in columns}
        targets = [c.name for c in TABLES[table].columns]
        extra = {"amount": PAYMENT_AMOUNT} if table == "payments" else None
        chosen = _match(columns, profiles, targets, extra)
        renames = {s: t for s, t in chosen.items() if s != t}
        entry: dict = {}
        if match.stem != table:
            entry["source"] = match.name.split(".")[0]
        if renames:
            entry["columns"] = renames
        tables[table] = entry
        _describe_guesses(draft, columns, chosen, profiles, [], {table: targets})
        _category_values(draft, tables, chosen, profiles, table)
        by_target = {t: s for s, t in chosen.items()}
        if table == "invoices":
            _defaults(draft, tables, by_target, profiles, customers=False)
        if table == "customers" and "segment" not in by_target:
            tables[table].setdefault("defaults", {})["segment"] = "all"
            draft.confirm.append("customers.defaults.segment: no segment column; every "
                                 "customer is in segment 'all'")
        all_dates += [profiles[s] for s, t in chosen.items() if _kind(t) == "date"]
        all_amounts += [profiles[s] for s, t in chosen.items() if _kind(t) == "amount"]
        if any(profiles[s].id_twins for s, t in chosen.items() if t.endswith("_id")):
            draft.mapping["normalise_ids"] = True
    seps = set()
    for p in files:
        if p.suffix.lower() in (".csv", ".txt", ".tsv"):
            head = p.read_text(encoding="utf-8", errors="replace").split("\n", 1)[0]
            seps.add(";" if head.count(";") > head.count(",") else ",")
    if seps == {";"}:
        draft.mapping["separator"] = ";"
        draft.notes.append("separator: the files' headers are split by ';'")
    _global_options(draft, all_dates, all_amounts)
    draft.mapping["tables"] = {k: v for k, v in tables.items() if v}
    if "invoices" not in tables:
        draft.confirm.append("no invoices file recognised: name it in tables: invoices: source:")
    return draft


def _schema_clashes(draft: MappingDraft, columns: list[str], chosen: dict[str, str]) -> None:
    """A source column literally named like a schema column that another column was
    mapped to would clash: drop it, and say so."""
    targets = set(chosen.values())
    for c in columns:
        if c not in chosen and c in targets:
            draft.mapping.setdefault("drop", []).append(c)
            draft.guesses.append(ColumnGuess(c, None, None, f"dropped: its name clashes with "
                                             f"the column mapped to {c}"))


def _describe_guesses(draft, columns, chosen, profiles, shared, per_table) -> None:
    table_of = {t: tb for tb, ts in per_table.items() for t in ts}
    for c in columns:
        if c in chosen:
            t = chosen[c]
            p = profiles[c]
            why = f"name matches {t}"
            if p.kind == "date" and p.dayfirst is not None:
                why += ", day-first dates" if p.dayfirst else ", month-first dates"
            draft.guesses.append(ColumnGuess(c, t, None if t in shared else table_of.get(t),
                                             why))
        elif not any(g.source == c for g in draft.guesses):
            p = profiles[c]
            draft.guesses.append(ColumnGuess(c, None, None, "unmapped" + (
                " (empty)" if p.kind == "empty" else f" ({p.kind} values)")))


def _category_values(draft, tables, chosen, profiles, only_table=None) -> None:
    for source, target in chosen.items():
        if target not in VALUE_WORDS:
            continue
        table = only_table or {"channel": "invoices", "segment": "customers"}.get(target)
        if table is None or table not in tables:
            continue
        mapped, unknown = _values_map(target, profiles[source])
        if mapped:
            tables[table].setdefault("values", {})[target] = mapped
        if unknown:
            draft.confirm.append(f"{table}.values.{target}: map {unknown[:5]} to one of "
                                 f"{sorted(_CHOICES[target])}")


def _defaults(draft, tables, by_target, profiles, customers: bool = True) -> None:
    if "currency" not in by_target:
        tables["invoices"].setdefault("defaults", {})["currency"] = "USD"
        draft.confirm.append("invoices.defaults.currency: the export has no currency column; "
                             "USD assumed")
    if customers:
        if "segment" not in by_target:
            tables["customers"].setdefault("defaults", {})["segment"] = "all"
            draft.confirm.append("customers.defaults.segment: no segment column; every "
                                 "customer is in segment 'all' (the strategy lab needs one "
                                 f"of {', '.join(SEGMENTS)})")
        if "currency" not in by_target:
            tables["customers"].setdefault("defaults", {})["currency"] = "USD"


# ------------------------------------------------------------------------ YAML
def _yaml_scalar(value) -> str:
    import yaml

    return yaml.safe_dump(value, default_flow_style=True, allow_unicode=True,
                          width=10_000).strip().removesuffix("...").strip()


def _to_yaml(draft: MappingDraft) -> str:
    m = draft.mapping
    why = {g.source: g for g in draft.guesses}
    lines = [f"# Column mapping drafted by `collections-lab mapping draft` from {draft.source}.",
             "# Check every line marked CONFIRM, then: collections-lab check DATA -p mapping "
             "THIS_FILE"]
    for c in draft.confirm:
        lines.append(f"# CONFIRM: {c}")
    for n in draft.notes:
        lines.append(f"# note: {n}")
    for key in ("name", "sheet", "separator", "decimal", "dayfirst", "normalise_ids"):
        if key in m:
            lines.append(f"{key}: {_yaml_scalar(m[key])}")
    for key in ("drop", "absent"):
        if key in m:
            lines.append(f"{key}: {_yaml_scalar(m[key])}")
    if m.get("columns"):
        lines.append("columns:                      # shared by every table")
        for s, t in m["columns"].items():
            lines.append(f"  {_yaml_scalar(s)}: {t}    # {why[s].reason if s in why else ''}")
    if m.get("tables"):
        lines.append("tables:")
        for table, entry in m["tables"].items():
            lines.append(f"  {table}:")
            if "source" in entry:
                lines.append(f"    source: {_yaml_scalar(entry['source'])}")
            if entry.get("columns"):
                lines.append("    columns:")
                for s, t in entry["columns"].items():
                    lines.append(f"      {_yaml_scalar(s)}: {t}    # "
                                 f"{why[s].reason if s in why else ''}")
            if entry.get("values"):
                lines.append(f"    values: {_yaml_scalar(entry['values'])}    # words guessed")
            if entry.get("defaults"):
                lines.append(f"    defaults: {_yaml_scalar(entry['defaults'])}    # CONFIRM")
    unmapped = [g for g in draft.guesses if g.target is None]
    if unmapped:
        lines.append("# Columns left unmapped (add them above if they hold a schema column):")
        for g in unmapped:
            lines.append(f"#   {g.source}: {g.reason}")
    return "\n".join(lines) + "\n"

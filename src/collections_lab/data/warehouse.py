"""The heavy row-level work inside the engine where the invoices live (Ibis).

A bank or utility keeps hundreds of millions of invoices in a lake or a warehouse. This
module points the workbench at them without loading them into pandas: :func:`connect`
opens a source as an `Ibis <https://ibis-project.org>`_ backend and
:class:`Warehouse` builds the payment-times frame
(:func:`~collections_lab.data.payment_times.payment_times`, the start of every analysis)
as one Ibis expression, which Ibis compiles to the engine's SQL (DuckDB, Spark, Postgres,
BigQuery, Snowflake, Trino, ...). Analyses then reduce it to small aggregates inside the
engine (count tables for the survival estimators, KPI sums, per-customer sums for an
experiment) and only those come back to Python.

Sources (:func:`connect`)

- a DuckDB database file (``.duckdb`` / ``.ddb``), tables by name — the embedded default,
  nothing to start;
- a directory (a "lake") holding ``<table>.parquet`` files, ``<table>/`` folders of
  (hive-partitioned) Parquet files or ``<table>.csv`` files, read by an in-memory DuckDB;
- a Spark session (:class:`pyspark.sql.SparkSession`, tables or temporary views by name)
  or a Spark Connect URL ``sc://host:15002``;
- any URL Ibis connects to (``postgres://...``, ``bigquery://...``, ``snowflake://...``,
  ``trino://...``, ``duckdb:///ar.duckdb``), or an Ibis backend already open.

A column mapping (:mod:`collections_lab.data.mapping`) renames tables and columns inside
the engine (``source`` names of tables, ``columns`` renames, ``drop``), so an accounting
system's table loads without a copy. The engine path expects typed columns (dates as
DATE or TIMESTAMP, amounts as numbers), which warehouses and Parquet have; text exports
with day-first dates or decimal commas go through :func:`~collections_lab.data.loading.load_portfolio`.

The frame equals the pandas one on the same data (tested to 1e-10 through pandas, DuckDB
and Spark local mode), ordered by ``invoice_id`` (an engine keeps no row order).

Example
-------
>>> import pathlib, tempfile
>>> lake = pathlib.Path(tempfile.mkdtemp())
>>> _ = portfolio.save(lake, "parquet")
>>> wh = connect(lake)
>>> frame = wh.payment_times_frame(as_of="2025-12-31")
>>> len(frame) == len(payment_times(portfolio.invoices, portfolio.payments,
...                                 as_of="2025-12-31"))
True
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .dates import DateError, parse_date
from .mapping import ColumnMapping
from .payment_times import PaymentTimesError, payment_times  # noqa: F401  (doc example)
from .schema import FULL_PAYMENT_TOLERANCE, OUTCOMES, TABLES

#: The command that installs the Java runtime Spark needs (Debian).
JAVA_INSTALL = "apt-get install -y --no-install-recommends openjdk-17-jre-headless"
#: Suffixes of a DuckDB database file.
DUCKDB_FILES = (".duckdb", ".ddb")
_DAY = 86_400_000_000_000


class WarehouseError(ValueError):
    """A source cannot be opened or lacks what an analysis needs; the message says why."""


def _ibis():
    try:
        import ibis
    except ImportError:  # pragma: no cover - a dependency of the package
        raise WarehouseError(
            "the engine path needs Ibis: pip install 'ibis-framework[duckdb]'") from None
    return ibis


def spark_session(master: str = "local[2]", app_name: str = "collections_lab", **conf):
    """A Spark session for the engine path (local mode by default), UTC, quiet.

    ``conf`` keys use ``_`` for ``.`` (``spark_sql_shuffle_partitions="1"``). Arrow moves
    frames between pandas and the JVM. ``sc://host:port`` as ``master`` opens a Spark
    Connect session instead (a token: ``sc://host:15002/;token=...`` or the
    ``SPARK_CONNECT_AUTHENTICATE_TOKEN`` environment variable). Spark needs a
    Java 17 runtime: without one this raises :class:`WarehouseError` with the Debian
    install command (:data:`JAVA_INSTALL`).
    """
    import shutil

    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise WarehouseError("the Spark engine needs pyspark: pip install "
                             "'collections_lab[spark]'") from None
    builder = SparkSession.builder.appName(app_name)
    if master.startswith("sc://"):
        builder = builder.remote(master)
    else:
        if shutil.which("java") is None:
            raise WarehouseError(f"Spark needs a Java 17 runtime and none is installed: "
                                 f"{JAVA_INSTALL}")
        builder = (builder.master(master)
                   .config("spark.ui.enabled", "false")
                   .config("spark.ui.showConsoleProgress", "false")
                   .config("spark.sql.shuffle.partitions", "4")
                   .config("spark.sql.ansi.enabled", "false")
                   .config("spark.sql.execution.arrow.pyspark.enabled", "true"))
    builder = builder.config("spark.sql.session.timeZone", "UTC")
    for key, value in conf.items():
        builder = builder.config(key.replace("_", "."), value)
    return builder.getOrCreate()


def _is_spark_session(source) -> bool:
    return type(source).__name__ == "SparkSession" and "pyspark" in type(source).__module__


def _is_ibis_backend(source) -> bool:
    return type(source).__module__.startswith("ibis.backends")


def _lake_file(folder: Path, name: str) -> tuple[str, str] | None:
    """(kind, path or glob) of table ``name`` in a lake folder, None when absent."""
    for suffix in (".parquet", ".pq"):
        if (folder / f"{name}{suffix}").is_file():
            return "parquet", str(folder / f"{name}{suffix}")
    sub = folder / name
    if sub.is_dir() and any(sub.rglob("*.parquet")):
        return "parquet", str(sub / "**" / "*.parquet")
    for suffix in (".csv", ".csv.gz"):
        if (folder / f"{name}{suffix}").is_file():
            return "csv", str(folder / f"{name}{suffix}")
    return None


def _open(source):
    """(ibis backend, {table name: ibis table} or None, label) for a source."""
    ibis = _ibis()
    if _is_ibis_backend(source):
        return source, None, f"<{source.name}>"
    if _is_spark_session(source):
        return ibis.pyspark.connect(source), None, "<spark>"
    text = str(source)
    if text.lower().startswith("ibis+"):
        text = source = text[len("ibis+"):]
    if text.startswith("sc://"):
        return ibis.pyspark.connect(spark_session(text)), None, text
    if "://" in text and not Path(text).exists():
        try:
            return ibis.connect(text), None, text
        except Exception as exc:  # noqa: BLE001 - any driver's error, said in place
            raise WarehouseError(f"cannot connect to {text}: {exc}") from None
    path = Path(text).expanduser()
    if not path.exists():
        raise WarehouseError(f"data not found: {path}")
    if path.is_file():
        if path.suffix.lower() not in DUCKDB_FILES:
            raise WarehouseError(f"{path}: the engine reads a DuckDB file (.duckdb), a folder "
                                 "of Parquet/CSV tables, a Spark session or an Ibis URL")
        return ibis.duckdb.connect(str(path), read_only=True), None, str(path)
    con = ibis.duckdb.connect()
    found = {}
    for name in TABLES:
        hit = _lake_file(path, name)
        if hit is None:
            continue
        kind, where = hit
        found[name] = (con.read_parquet(where, hive_partitioning=True) if kind == "parquet"
                       else con.read_csv(where))
    return con, found, str(path)


#: URL schemes opened through Ibis (others, e.g. ``postgresql://`` or ``sqlite://``, go
#: through SQLAlchemy in :mod:`collections_lab.data.loading`); ``ibis+`` forces Ibis.
IBIS_SCHEMES = ("sc", "duckdb", "pyspark", "bigquery", "snowflake", "trino", "clickhouse",
                "databricks", "datafusion", "druid", "impala", "athena", "risingwave",
                "exasol", "postgres", "polars")


def is_engine_source(source) -> bool:
    """Whether ``source`` is read through an engine: a :class:`Warehouse`, an Ibis
    backend, a Spark session, a Spark Connect URL ``sc://``, an Ibis URL
    (:data:`IBIS_SCHEMES`, or any scheme prefixed ``ibis+``) or a folder with a
    partitioned ``<table>/`` Parquet directory."""
    if isinstance(source, Warehouse) or _is_ibis_backend(source) or _is_spark_session(source):
        return True
    if isinstance(source, Path | str):
        text = str(source)
        if "://" in text:
            scheme = text.split("://", 1)[0].lower()
            return scheme.startswith("ibis+") or scheme in IBIS_SCHEMES
        path = Path(text)
        return path.is_dir() and any(
            (path / name).is_dir() and any((path / name).rglob("*.parquet")) for name in TABLES)
    return False


def engine_table(source, name: str) -> pd.DataFrame | None:
    """Table ``name`` (the source's own name, before any column mapping) fetched whole from
    an engine source (:func:`is_engine_source`), None when the source has none.

    This is the row-level route the reports take (they need every invoice in pandas);
    the heavy analyses reduce in the engine instead (:func:`connect`).
    """
    if isinstance(source, Warehouse):
        con, found, label = source.con, None, source.label
    else:
        text = str(source)
        if text.lower().startswith("ibis+"):
            source = text[len("ibis+"):]
        con, found, label = _open(source)
    if found is not None:
        hit = _lake_file(Path(label), name)
        if hit is None:
            return None
        table = (con.read_parquet(hit[1], hive_partitioning=True) if hit[0] == "parquet"
                 else con.read_csv(hit[1]))
    else:
        names = {n.lower(): n for n in _list_tables(con)}
        if name.lower() not in names:
            return None
        table = con.table(names[name.lower()])
    return con.to_pandas(table)


def _rename(table, schema_table: str, mapping: ColumnMapping):
    """Mapping renames and drops applied in the engine (an Ibis ``rename``/``drop``)."""
    dropped = mapping.dropped(schema_table)
    from .mapping import normalise_name

    keep = [c for c in table.columns if normalise_name(c) not in dropped]
    if len(keep) != len(table.columns):
        table = table.select(*keep)
    renames = {new: old for old, new in mapping.renames(schema_table, list(table.columns)).items()
               if old != new}
    return table.rename(renames) if renames else table


def _list_tables(con) -> set[str]:
    """Table and view names of a backend. DuckDB's are read from its own catalogue:
    Ibis 12's ``list_tables`` calls a method DuckDB 2 removed (``fetch_arrow_table`` on
    a connection)."""
    if getattr(con, "name", "") == "duckdb":
        rows = con.con.execute("SELECT table_name FROM information_schema.tables").fetchall()
        return {r[0] for r in rows}
    return set(con.list_tables())


@dataclass
class Warehouse:
    """The tables of a portfolio as Ibis tables in one engine (see the module docstring).

    Built with :func:`connect`. ``tables`` maps schema table names (``invoices``,
    ``payments``, ``customers``, ``reminders``, ``assignments``) to Ibis tables whose
    columns carry the schema's names; absent optional tables are missing from the dict.
    """

    con: object
    tables: dict
    label: str = ""
    notes: list[str] = field(default_factory=list)
    #: Keep the large intermediate relations analyses share (the KPI balance segments)
    #: in the engine (:meth:`keep`); :meth:`materialize` turns it on.
    keep_intermediates: bool = False
    _cache: dict = field(default_factory=dict, repr=False)

    def table(self, name: str):
        """The Ibis table ``name`` or None when the source has none."""
        return self.tables.get(name)

    def cached(self, key: str, compute):
        """``compute()`` once per warehouse (a fact of the data read as opened, such as
        its last date or a count of orphan rows), then the kept value."""
        if key not in self._cache:
            self._cache[key] = compute()
        return self._cache[key]

    def fetch(self, expr) -> pd.DataFrame:
        """Run ``expr`` in the engine and return its (small) result as pandas."""
        return self.con.to_pandas(expr)

    def data_end(self) -> pd.Timestamp:
        """The data's last date, computed in the engine in one query (same rule as
        :func:`~collections_lab.data.dates.data_end`) and kept: a warehouse is read as of
        the moment it was opened."""
        if "data_end" in self._cache:
            return self._cache["data_end"]
        parts = [("invoices", ("issue_date", "escalated_at", "written_off_at")),
                 ("payments", ("paid_at",)), ("reminders", ("sent_at",))]
        query = None
        for name, cols in parts:
            t = self.table(name)
            if t is None:
                continue
            aggs = {f"{name}_{c}": day_number(t[c]).max() for c in cols if c in t.columns}
            if not aggs:
                continue
            one = t.aggregate(**aggs)
            query = one if query is None else query.cross_join(one)
        row = self.fetch(query).iloc[0] if query is not None else pd.Series(dtype=float)
        days = [int(v) for v in row.tolist() if v is not None and not pd.isna(v)]
        if not days:
            raise DateError("the data hold no dates: give as_of explicitly (YYYY-MM-DD)")
        self._cache["data_end"] = pd.Timestamp(max(days), unit="D")
        return self._cache["data_end"]

    def as_of(self, as_of=None) -> pd.Timestamp:
        """``as_of`` parsed, by default the data's last date."""
        try:
            return self.data_end() if as_of is None else parse_date(as_of, "as_of")
        except DateError as exc:
            raise PaymentTimesError(str(exc)) from None

    def payment_times(self, as_of=None, experiment_id: str | None = None):
        """The payment-times frame as an Ibis expression (nothing runs yet), or the table
        :meth:`materialize` stored for these arguments."""
        as_of_ts = self.as_of(as_of)
        kept = self._cache.get(("payment_times", as_of_ts, experiment_id))
        return kept if kept is not None else payment_times_expr(self.tables, as_of_ts,
                                                                experiment_id)

    def configure(self, **settings) -> Warehouse:
        """DuckDB settings (``threads=2``, ``memory_limit="2GB"``,
        ``temp_directory="/tmp/spill"``, ``preserve_insertion_order=False``), applied
        with ``SET``; other engines take their settings where their session is made.
        Returns self."""
        if getattr(self.con, "name", "") != "duckdb":
            raise WarehouseError(f"{self.label}: configure() sets DuckDB settings only")
        for key, value in settings.items():
            if not key.isidentifier():
                raise WarehouseError(f"not a DuckDB setting name: {key!r}")
            text = (str(value).lower() if isinstance(value, bool) else
                    str(int(value)) if isinstance(value, int) else
                    "'" + str(value).replace("'", "''") + "'")
            self.con.con.execute(f"SET {key} = {text}")
        return self

    def keep(self, key, expr):
        """``expr`` computed once and stored in the engine under ``key`` (a DuckDB
        temporary table, which spills to DuckDB's ``temp_directory`` under its
        ``memory_limit``; Ibis' ``cache`` elsewhere, e.g. a persisted Spark frame), then
        the stored table: later queries read it instead of recomputing it."""
        if key in self._cache:
            return self._cache[key]
        if getattr(self.con, "name", "") == "duckdb":
            name = f"cl_kept_{len(self._cache)}"
            hooks = getattr(self.con, "_run_pre_execute_hooks", None)
            if hooks is not None:  # registers the memtables the expression reads
                hooks(expr)
            sql = _ibis().to_sql(expr, dialect="duckdb")
            self.con.con.execute(f'CREATE OR REPLACE TEMP TABLE "{name}" AS {sql}')
            table = self.con.table(name)
        else:
            table = expr.cache()
        self._cache[key] = table
        return table

    def materialize(self, as_of=None, experiment_id: str | None = None,
                    columns: Sequence[str] | None = None):
        """Compute the payment-times frame once and keep it in the engine (a DuckDB
        temporary table, which spills to DuckDB's ``temp_directory`` under its
        ``memory_limit``; Ibis' ``cache`` elsewhere, e.g. a persisted Spark frame):
        later :meth:`payment_times` calls with the same arguments, and every analysis
        built on them, read it instead of joining the invoices and payments again; it also
        turns :attr:`keep_intermediates` on. ``columns``: keep only these (fewer columns,
        less memory; the analyses then run must need no others). Returns the table."""
        as_of_ts = self.as_of(as_of)
        expr = payment_times_expr(self.tables, as_of_ts, experiment_id)
        if columns is not None:
            expr = expr.select(*columns)
        self.keep_intermediates = True
        table = self.keep(f"payment_times[{as_of_ts.date()}|{experiment_id}|{columns}]", expr)
        self._cache[("payment_times", as_of_ts, experiment_id)] = table
        return table

    def payment_times_frame(self, as_of=None, experiment_id: str | None = None
                            ) -> pd.DataFrame:
        """The payment-times frame fetched to pandas, equal to
        :func:`~collections_lab.data.payment_times.payment_times` (ordered by invoice_id).

        Row-level: for a portfolio that fits in memory, or a filtered part of one; on a
        large one reduce the expression first (:func:`count_table_expr`).
        """
        as_of_ts = self.as_of(as_of)
        expr = payment_times_expr(self.tables, as_of_ts, experiment_id)
        return to_frame(self.fetch(expr.order_by("invoice_id")), self.tables, as_of_ts,
                        self, experiment_id)


def connect(source, mapping=None) -> Warehouse:
    """Open ``source`` (see the module docstring) as a :class:`Warehouse`.

    ``mapping`` (a ColumnMapping, dict, YAML path or preset name) names the source's
    tables and columns; its renames and drops run in the engine.

    >>> import pathlib, tempfile
    >>> lake = pathlib.Path(tempfile.mkdtemp())
    >>> _ = portfolio.save(lake, "parquet")
    >>> sorted(connect(lake).tables)
    ['assignments', 'customers', 'invoices', 'payments', 'reminders']
    """
    mapping = ColumnMapping.coerce(mapping)
    con, found, label = _open(source)
    tables = {}
    listed = None
    for name in TABLES:
        if name in mapping.absent:
            continue
        wanted = mapping.source_name(name)
        table = None
        if found is not None:
            table = found.get(name)
            if wanted != name:  # the mapping names the file: only that one
                hit = _lake_file(Path(label), wanted)
                table = None if hit is None else (
                    con.read_parquet(hit[1], hive_partitioning=True) if hit[0] == "parquet"
                    else con.read_csv(hit[1]))
        else:
            if listed is None:
                listed = _list_tables(con)
            if wanted in listed:
                table = con.table(wanted)
        if table is not None:
            tables[name] = _rename(table, name, mapping)
    for name in ("invoices", "payments"):
        if name not in tables:
            raise WarehouseError(f"{label}: no {mapping.source_name(name)!r} table "
                                 f"(found {sorted(tables)})")
    need = {"invoices": ("invoice_id", "customer_id", "issue_date", "due_date", "amount"),
            "payments": ("invoice_id", "paid_at", "amount")}
    for name, cols in need.items():
        missing = [c for c in cols if c not in tables[name].columns]
        if missing:
            raise WarehouseError(f"{label}: table {mapping.source_name(name)!r} lacks "
                                 f"column(s) {missing}; it has {list(tables[name].columns)} "
                                 "(a column mapping renames them)")
    return Warehouse(con, tables, label)


# ------------------------------------------------------------------ payment times
def day_number(col):
    """Whole days since 1970-01-01 of a date/timestamp column (int64), the day numbers
    every engine expression compares (the pandas path's ``datetime64[D]`` integers).

    >>> import ibis
    >>> t = ibis.memtable(pd.DataFrame({"d": pd.to_datetime(["1970-01-02", "2026-05-31"])}))
    >>> ibis.duckdb.connect().execute(day_number(t.d)).tolist()
    [1, 20604]
    """
    return col.cast("date").epoch_days().cast("int64")


def _value(table, column: str, default):
    ibis = _ibis()
    if column in table.columns:
        col = table[column]
        return col if default is None else col.fill_null(default)
    return ibis.literal(default)


def payment_times_expr(tables: dict, as_of: pd.Timestamp, experiment_id: str | None = None):
    """The payment-times frame as one Ibis expression over ``tables`` (schema names).

    Same definitions as :func:`~collections_lab.data.payment_times.payment_times`: the
    day the summed settlements (cash − fee + discount) first reach the amount (within
    :data:`~collections_lab.data.schema.FULL_PAYMENT_TOLERANCE`), escalation and
    write-off as competing ends, censoring at ``as_of``; payments, reminders and events
    after ``as_of`` ignored. Date columns come back as whole-day numbers (``*_day``)
    beside ``duration`` / ``days_late``; :func:`to_frame` turns a fetched result into the
    pandas frame.
    """
    ibis = _ibis()
    as_of_day = int(pd.Timestamp(as_of).value // _DAY)
    never = ibis.literal(2**40, "int64")
    inv = tables["invoices"]
    inv = inv.mutate(issue_day=day_number(inv.issue_date), due_day=day_number(inv.due_date))
    inv = inv.filter(inv.issue_day <= as_of_day)

    def censored(column):  # the day of an end event, "never" when absent or after as_of
        if column not in inv.columns:
            return never
        d = day_number(inv[column])
        return ibis.ifelse(d.isnull() | (d > as_of_day), never, d)

    base = inv.select(
        "invoice_id", "customer_id", "issue_day", "due_day",
        amount=inv.amount.cast("float64"),
        currency=_value(inv, "currency", "").cast("string"),
        disputed=_value(inv, "disputed", False).cast("boolean"),
        channel=_value(inv, "channel", "email").cast("string"),
        payment_link=_value(inv, "payment_link", False).cast("boolean"),
        esc_d=censored("escalated_at"), wri_d=censored("written_off_at"),
    )

    # One stream of per-invoice events (settlements summed per day, reminders) joined once
    # to the invoices, one window per invoice, one aggregate per invoice: every big
    # relation is read and joined once (the engine's cost is the joins on invoice_id).
    pay = tables["payments"]
    pay = pay.mutate(day=day_number(pay.paid_at))
    pay = pay.filter(pay.day <= as_of_day)
    pay = pay.group_by(["invoice_id", "day"]).aggregate(
        cash=pay.amount.cast("float64").sum(),
        disc=_value(pay, "discount", 0.0).cast("float64").sum(),
        fee=_value(pay, "fee", 0.0).cast("float64").sum(),
    ).mutate(kind=ibis.literal(0, "int8"))
    events = pay
    rem = tables.get("reminders")
    if rem is not None:
        rem = rem.select("invoice_id", day=day_number(rem.sent_at))
        rem = rem.filter(rem.day < as_of_day).mutate(
            cash=ibis.literal(0.0), disc=ibis.literal(0.0), fee=ibis.literal(0.0),
            kind=ibis.literal(1, "int8"))
        events = pay.union(rem.select(*pay.columns), distinct=False)
    ev = events.join(base.select("invoice_id", "amount", other=ibis.least(base.esc_d,
                                                                            base.wri_d)),
                     "invoice_id")
    # settlements summed by day, then a running sum by day: ties inside a day cannot
    # change the day the balance reached zero (reminders add nothing to the sum)
    w = ibis.window(group_by=ev.invoice_id, order_by=[ev.day, ev.kind], rows=(None, 0))
    ev = ev.mutate(cum=(ev.cash - ev.fee + ev.disc).sum().over(w))
    reached = (ev.kind == 0) & (ev.cum >= ev.amount * (1 - FULL_PAYMENT_TOLERANCE))
    ev = ev.mutate(paid_d=ibis.ifelse(reached, ev.day, never).min().over(
        group_by=ev.invoice_id))
    ev = ev.mutate(end_closed=ibis.least(ev.paid_d, ev.other))
    upto = (ev.kind == 0) & (ev.day <= ev.end_closed)
    end_day = ibis.ifelse(ev.end_closed >= never, as_of_day, ev.end_closed)
    sums = ev.group_by("invoice_id").aggregate(
        paid_d=ev.paid_d.min(),
        paid_amount=ibis.ifelse(upto, ev.cash, 0.0).sum(),
        discount_amount=ibis.ifelse(upto, ev.disc, 0.0).sum(),
        fee_amount=ibis.ifelse(upto, ev.fee, 0.0).sum(),
        n_reminders=ibis.ifelse((ev.kind == 1) & (ev.day < end_day), 1, 0).sum()
        .cast("int64"),
    )

    f = base.left_join(sums, "invoice_id").drop("invoice_id_right")
    paid_d = f.paid_d.fill_null(never)
    end_closed = ibis.least(paid_d, f.esc_d, f.wri_d)
    code = ibis.cases((end_closed >= never, OUTCOMES["open"]),
                      (paid_d == end_closed, OUTCOMES["paid"]),
                      (f.esc_d == end_closed, OUTCOMES["escalated"]),
                      else_=OUTCOMES["written_off"])
    f = f.mutate(outcome_code=code.cast("int64"),
                 end_day=ibis.ifelse(end_closed >= never, as_of_day, end_closed))
    f = f.drop("paid_d", "esc_d", "wri_d")
    if rem is None:
        f = f.mutate(n_reminders=ibis.literal(0, "int64"))

    cust = tables.get("customers")
    if cust is not None and "segment" in cust.columns:
        seg = cust.select("customer_id", "segment").distinct(on="customer_id")
        f = f.left_join(seg, "customer_id").drop("customer_id_right")
        f = f.mutate(segment=f.segment.cast("string").fill_null("unknown"))
    else:
        f = f.mutate(segment=ibis.literal("all"))

    asg = tables.get("assignments")
    if asg is not None:
        if experiment_id is not None:
            asg = asg.filter(asg.experiment_id == experiment_id)
        arm = asg.select("customer_id", "arm").distinct(on="customer_id")
        f = f.left_join(arm, "customer_id").drop("customer_id_right")

    f = f.mutate(
        terms_days=(f.due_day - f.issue_day).cast("int64"),
        duration=(f.end_day - f.issue_day).cast("int64"),
        days_late=(f.end_day - f.due_day).cast("int64"),
        event=f.outcome_code == OUTCOMES["paid"],
        paid_amount=f.paid_amount.fill_null(0.0),
        discount_amount=f.discount_amount.fill_null(0.0),
        fee_amount=f.fee_amount.fill_null(0.0),
        n_reminders=f.n_reminders.fill_null(0).cast("int64"),
    )
    return f


#: Column order of the pandas payment-times frame.
FRAME_COLUMNS = ["invoice_id", "customer_id", "segment", "currency", "amount", "issue_date",
                 "due_date", "terms_days", "disputed", "channel", "payment_link", "end_date",
                 "duration", "days_late", "event", "outcome", "outcome_code", "paid_amount",
                 "discount_amount", "fee_amount", "n_reminders"]


def _dates(days) -> np.ndarray:
    return (np.asarray(days, dtype="int64").astype("datetime64[D]")).astype("datetime64[ns]")


def to_frame(fetched: pd.DataFrame, tables: dict, as_of: pd.Timestamp,
             warehouse: Warehouse | None = None, experiment_id: str | None = None
             ) -> pd.DataFrame:
    """The fetched engine result as the pandas payment-times frame (columns, dtypes,
    ``attrs``) of :func:`~collections_lab.data.payment_times.payment_times`."""
    out = pd.DataFrame({
        "invoice_id": fetched["invoice_id"].to_numpy(),
        "customer_id": fetched["customer_id"].to_numpy(),
        "segment": fetched["segment"].to_numpy(dtype=object),
        "currency": fetched["currency"].to_numpy(dtype=object),
        "amount": fetched["amount"].to_numpy(dtype=float),
        "issue_date": _dates(fetched["issue_day"]),
        "due_date": _dates(fetched["due_day"]),
        "terms_days": fetched["terms_days"].to_numpy(dtype=int),
        "disputed": fetched["disputed"].to_numpy(dtype=bool),
        "channel": fetched["channel"].to_numpy(dtype=object),
        "payment_link": fetched["payment_link"].to_numpy(dtype=bool),
        "end_date": _dates(fetched["end_day"]),
        "duration": fetched["duration"].to_numpy(dtype=int),
        "days_late": fetched["days_late"].to_numpy(dtype=int),
        "event": fetched["event"].to_numpy(dtype=bool),
    })
    names = {v: k for k, v in OUTCOMES.items()}
    code = fetched["outcome_code"].to_numpy(dtype=int)
    out["outcome"] = pd.Series(code).map(names).to_numpy()
    out["outcome_code"] = code
    for col in ("paid_amount", "discount_amount", "fee_amount"):
        out[col] = fetched[col].to_numpy(dtype=float)
    out["n_reminders"] = fetched["n_reminders"].to_numpy(dtype=int)
    if "arm" in fetched:
        out["arm"] = fetched["arm"].to_numpy(dtype=object)
    out.attrs["as_of"] = pd.Timestamp(as_of)
    if warehouse is not None:
        _attach_counts(out, warehouse, as_of, experiment_id)
    return out


def _attach_counts(out: pd.DataFrame, warehouse: Warehouse, as_of, experiment_id) -> None:
    """``attrs`` of the pandas frame: not_yet_issued, experiment_id and start."""
    inv = warehouse.tables["invoices"]
    day = int(pd.Timestamp(as_of).value // _DAY)
    out.attrs["not_yet_issued"] = int(warehouse.con.execute(
        inv.filter(day_number(inv.issue_date) > day).count()))
    asg = warehouse.tables.get("assignments")
    if asg is None or "arm" not in out:
        return
    if experiment_id is not None:
        asg = asg.filter(asg.experiment_id == experiment_id)
    ids = warehouse.fetch(asg.select("experiment_id").distinct())["experiment_id"].tolist()
    if experiment_id is not None and not ids:
        raise PaymentTimesError(f"experiment {experiment_id!r} not in assignments")
    if experiment_id is None and len(ids) > 1:
        raise PaymentTimesError(
            f"assignments hold several experiments {sorted(ids)}: pass experiment_id")
    if ids:
        out.attrs["experiment_id"] = str(ids[0])
    if "assigned_at" in asg.columns:
        first = warehouse.con.execute(asg.assigned_at.min())
        if first is not None and not pd.isna(first):
            out.attrs["start"] = pd.Timestamp(first)


# ------------------------------------------------------------------ reductions
def count_table_expr(expr, columns: Sequence[str], count_col: str = "n"):
    """Invoices per combination of ``columns`` in the engine (the count tables the
    survival estimators take with ``weight_col="n"``); see
    :func:`~collections_lab.survival.aggregated.count_table` for the pandas twin."""
    columns = list(columns)
    missing = [c for c in columns if c not in expr.columns]
    if missing:
        raise WarehouseError(f"count table: no column(s) {missing}; the frame has "
                             f"{list(expr.columns)}")
    return (expr.group_by(columns).aggregate(**{count_col: expr.count().cast("int64")})
            .order_by(columns))


def fetch_count_table(warehouse: Warehouse, expr, columns: Sequence[str],
                      count_col: str = "n") -> pd.DataFrame:
    """:func:`count_table_expr` run and fetched: one row per combination, int64 counts.

    Missing values in ``columns`` are an error (as in the pandas path), never dropped.
    """
    columns = list(columns)
    out = warehouse.fetch(count_table_expr(expr, columns, count_col))  # null keys group too
    missing = out[columns].isna().any(axis=1)
    if missing.any():
        n_null = int(out.loc[missing, count_col].sum())
        raise WarehouseError(f"count table: {n_null} row(s) have missing values in {columns}; "
                             "fill them first so no invoice is dropped")
    out[count_col] = out[count_col].astype("int64")
    return out.sort_values(columns, kind="stable").reset_index(drop=True)

"""The data model: five tables shared by real exports and the simulator.

Every analysis in the workbench reads these tables (or the payment-times frame derived
from them, see :mod:`collections_lab.data.payment_times`). Real data is loaded and validated
into exactly this shape by :mod:`collections_lab.data.loading`; the simulator writes exactly this
shape too, so every method runs unchanged on both and can be checked against truth.

Conventions
-----------
- Ids are strings (``object`` dtype holding ``str``).
- Dates are ``datetime64[ns]`` normalised to midnight (whole days: every duration in the
  workbench is an integer number of days, which keeps lifelines on its fast paths).
- Amounts are ``float64`` in the invoice's currency (ISO 4217 code in ``currency``).
- Booleans are ``bool``.

Example
-------
>>> from collections_lab.data.schema import TABLES
>>> [c.name for c in TABLES["payments"].columns][:3]
['invoice_id', 'paid_at', 'amount']
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: Customer segments the behaviour model (and so the simulator and the strategy lab)
#: knows; a loaded portfolio may have any segment names.
SEGMENTS: tuple[str, ...] = ("small", "medium", "large", "public")
#: Reminder tones, from softest to hardest.
TONES: tuple[str, ...] = ("friendly", "neutral", "firm", "final")
#: Channels a reminder can be sent through.
REMINDER_CHANNELS: tuple[str, ...] = ("email", "sms", "whatsapp", "letter", "phone")
#: Channels an invoice can be delivered through.
INVOICE_CHANNELS: tuple[str, ...] = ("email", "portal", "mail", "edi")
#: Payment methods.
PAYMENT_METHODS: tuple[str, ...] = (
    "transfer",
    "card",
    "direct_debit",
    "cash",
    "check",
    "installment",
    "agency",
    "other",
)
#: Currencies the workbench formats and validates (ISO 4217). Extend with care: amounts in
#: different currencies are never summed without a conversion table.
CURRENCIES: tuple[str, ...] = (
    "USD", "EUR", "COP", "MXN", "BRL", "CLP", "PEN", "ARS", "GBP", "CAD", "CHF", "UYU",
    "DOP", "CRC", "GTQ", "PYG", "BOB",
)  # fmt: skip
#: Minor-unit digits used when formatting amounts (COP and CLP are quoted without cents).
CURRENCY_DECIMALS: dict[str, int] = {"COP": 0, "CLP": 0, "PYG": 0}

#: Longest payment deadline a reminder may state (days after the reminder).
MAX_DEADLINE_DAYS = 90

#: Outcomes in the payment-times frame, with their integer codes for competing-risk
#: estimators (0 = censored, i.e. still open at ``as_of``).
OUTCOMES: dict[str, int] = {"open": 0, "paid": 1, "escalated": 2, "written_off": 3}


@dataclass(frozen=True)
class Column:
    """One column of a table: name, logical type and rules.

    ``kind`` is one of ``id``, ``str``, ``date``, ``amount``, ``int``, ``bool``, ``category``.
    ``choices`` restricts a ``category`` column; ``required`` columns must be present in a
    file, optional ones get ``default`` when absent, except those with ``fill_if_absent``
    False, which stay absent (a column only some exports have, such as a reminder's own
    deadline: analyses read its absence as "none stated").
    """

    name: str
    kind: str
    required: bool = True
    default: object = None
    choices: tuple[str, ...] | None = None
    nullable: bool = False
    description: str = ""
    fill_if_absent: bool = True


@dataclass(frozen=True)
class Table:
    """A table of the data model: its columns and its primary key."""

    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = field(default_factory=tuple)
    description: str = ""

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def required(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"table {self.name!r} has no column {name!r}")


CUSTOMERS = Table(
    "customers",
    (
        Column("customer_id", "id", description="Customer identifier."),
        Column("segment", "str", required=False, default="all", description="Business segment."),
        Column("country", "str", required=False, default="", description="ISO 3166 alpha-2."),
        Column(
            "currency", "category", required=False, default=None, choices=CURRENCIES,
            nullable=True, description="Billing currency (ISO 4217).",
        ),
        Column("created_at", "date", required=False, nullable=True, description="Customer since."),
        Column("name", "str", required=False, default="", description="Display name."),
    ),
    key=("customer_id",),
    description="One row per customer.",
)

INVOICES = Table(
    "invoices",
    (
        Column("invoice_id", "id"),
        Column("customer_id", "id"),
        Column("issue_date", "date"),
        Column("due_date", "date", description="Not before issue_date."),
        Column("amount", "amount", description="Invoice total, > 0, in `currency`."),
        Column("currency", "category", choices=CURRENCIES),
        Column("disputed", "bool", required=False, default=False),
        Column("channel", "category", required=False, default="email", choices=INVOICE_CHANNELS),
        Column(
            "payment_link", "bool", required=False, default=False,
            description="Invoice carried a pay-now link.",
        ),
        Column(
            "escalated_at", "date", required=False, nullable=True,
            description="Handed to legal collection / agency (competing outcome).",
        ),
        Column(
            "written_off_at", "date", required=False, nullable=True,
            description="Written off as uncollectable.",
        ),
    ),
    key=("invoice_id",),
    description="One row per invoice.",
)

REMINDERS = Table(
    "reminders",
    (
        Column("invoice_id", "id"),
        Column("sent_at", "date"),
        Column("sequence", "int", required=False, default=None, nullable=True,
               description="1 for the first reminder of an invoice, ... (derived if absent)."),
        Column("tone", "category", required=False, default="neutral", choices=TONES),
        Column("channel", "category", required=False, default="email", choices=REMINDER_CHANNELS),
        Column("personalised", "bool", required=False, default=False,
               description="Addressed the person by name."),
        Column("deadline_days", "int", required=False, default=None, nullable=True,
               fill_if_absent=False,
               description="The reminder asked for payment within this many days of "
                           "being sent (empty: no deadline of its own)."),
    ),
    key=("invoice_id", "sequence"),
    description="One row per reminder sent.",
)

PAYMENTS = Table(
    "payments",
    (
        Column("invoice_id", "id"),
        Column("paid_at", "date", description="Not before the invoice's issue_date."),
        Column("amount", "amount", description="Cash received, > 0, invoice currency."),
        Column("method", "category", required=False, default="transfer", choices=PAYMENT_METHODS),
        Column("discount", "amount", required=False, default=0.0,
               description="Early-payment discount granted with this payment (>= 0)."),
        Column("fee", "amount", required=False, default=0.0,
               description="Late fee / interest included in `amount` (>= 0)."),
    ),
    key=(),
    description="One row per payment; partial payments allowed.",
)

ASSIGNMENTS = Table(
    "assignments",
    (
        Column("experiment_id", "id"),
        Column("customer_id", "id"),
        Column("arm", "str"),
        Column("assigned_at", "date"),
    ),
    key=("experiment_id", "customer_id"),
    description="One row per customer in an experiment.",
)

TABLES: dict[str, Table] = {
    t.name: t for t in (CUSTOMERS, INVOICES, REMINDERS, PAYMENTS, ASSIGNMENTS)
}

#: Tolerance (in currency units, relative to the invoice amount) under which an invoice
#: counts as paid in full: rounding in accounting exports leaves cents behind.
FULL_PAYMENT_TOLERANCE = 0.005

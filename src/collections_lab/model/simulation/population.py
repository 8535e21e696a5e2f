"""The simulated population: customers, their latent traits and their invoice schedule.

Customers get a segment, a country and its currency; each gets a frailty (reliability),
a discount-taking trait, an optional distress episode, a typical invoice amount, payment
terms, an invoice channel and a payment-link habit (:func:`customer_traits`), and bills
about monthly (:func:`invoice_grid`). Amounts are drawn in USD and converted with
:data:`FX_PER_USD` so each currency has realistic magnitudes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...data.dates import parse_date
from ...data.schema import INVOICE_CHANNELS
from ..behaviour import SEGMENTS, BehaviourModel

COUNTRIES = {"CO": "COP", "MX": "MXN", "ES": "EUR", "US": "USD"}
COUNTRY_SHARE = {"CO": 0.35, "MX": 0.30, "ES": 0.20, "US": 0.15}
#: Local currency units per USD, to give amounts realistic magnitudes.
FX_PER_USD = {"COP": 4000.0, "MXN": 18.0, "EUR": 0.92, "USD": 1.0}
SEGMENT_SHARE = {"small": 0.5, "medium": 0.3, "large": 0.12, "public": 0.08}
#: Typical invoice amount in USD by segment (log-normal around it).
SEGMENT_AMOUNT_USD = {"small": 800.0, "medium": 4000.0, "large": 20000.0, "public": 12000.0}
TERMS_CHOICES = np.array([15, 30, 45, 60])
TERMS_PROBS = {
    "small": [0.25, 0.6, 0.1, 0.05],
    "medium": [0.1, 0.6, 0.2, 0.1],
    "large": [0.0, 0.4, 0.3, 0.3],
    "public": [0.0, 0.3, 0.3, 0.4],
}


def generate_customers(n: int, seed: int = 0, start="2025-01-01") -> pd.DataFrame:
    """A customers table of ``n`` synthetic customers (segments, countries, currencies).

    Example:
        >>> generate_customers(3, seed=1).columns.tolist()
        ['customer_id', 'segment', 'country', 'currency', 'created_at', 'name']
    """
    rng = np.random.default_rng(np.random.SeedSequence([seed, 11]))
    segs = rng.choice(list(SEGMENT_SHARE), size=n, p=list(SEGMENT_SHARE.values()))
    countries = rng.choice(list(COUNTRY_SHARE), size=n, p=list(COUNTRY_SHARE.values()))
    created = parse_date(start, "start") - pd.to_timedelta(rng.integers(30, 3000, size=n), unit="D")
    ids = make_ids("C", n, width=max(5, len(str(n))))
    return pd.DataFrame(
        {
            "customer_id": ids,
            "segment": segs.astype(object),
            "country": countries.astype(object),
            "currency": pd.Series(countries).map(COUNTRIES).to_numpy(dtype=object),
            "created_at": created.normalize(),
            "name": np.char.add("Cliente ", ids.astype(str)).astype(object),
        }
    )


def invoice_grid(customers: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp, seed: int,
                  invoices_per_month: float) -> pd.DataFrame:
    """Potential invoices: each customer bills about monthly on its own day of the month."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, 3]))
    n = len(customers)
    months = pd.date_range(start.to_period("M").to_timestamp(), end, freq="MS")
    billing_day = rng.integers(0, 28, size=n)
    p_active = min(1.0, 0.85 * invoices_per_month)
    active = rng.random((n, len(months))) < p_active
    cust_idx, month_idx = np.nonzero(active)
    jitter = rng.integers(-2, 3, size=len(cust_idx))
    issue = (months.values[month_idx] + ((billing_day[cust_idx] + jitter).clip(0, 27)
                                         * np.timedelta64(1, "D")))
    keep = (issue >= start.to_datetime64()) & (issue <= end.to_datetime64())
    cust_idx, issue = cust_idx[keep], issue[keep]
    created = customers["created_at"].to_numpy(dtype="datetime64[ns]")
    ok = np.isnat(created[cust_idx]) | (issue >= created[cust_idx])
    cust_idx, issue = cust_idx[ok], issue[ok]
    # np.nonzero walks customers then months, and a customer's billing day moves by at
    # most a few days, so the rows are almost always in (customer, issue) order already
    if not _is_sorted_by(cust_idx, issue):
        order = np.lexsort((issue, cust_idx))
        cust_idx, issue = cust_idx[order], issue[order]
    return pd.DataFrame({"cust": cust_idx, "issue": issue})


def _is_sorted_by(major: np.ndarray, minor: np.ndarray) -> bool:
    """Whether rows are in ascending (major, minor) order."""
    step_major = np.diff(major)
    return bool(np.all((step_major > 0) | ((step_major == 0) & (np.diff(minor) >= 0))))


def customer_traits(customers: pd.DataFrame, model: BehaviourModel, seed: int, start, end):
    rng = np.random.default_rng(np.random.SeedSequence([seed, 4]))
    n = len(customers)
    seg = customers["segment"].map({s: i for i, s in enumerate(SEGMENTS)})
    if seg.isna().any():
        bad = customers.loc[seg.isna(), "segment"].unique()[:5]
        raise ValueError(f"the behaviour model knows segments {SEGMENTS}; got {list(bad)}")
    seg = seg.to_numpy(dtype=np.int64)
    mean = by_segment(model.frailty_mean)[seg]
    sd = by_segment(model.frailty_sd)[seg]
    frailty = mean + sd * rng.standard_normal(n)
    taker = rng.random(n) < by_segment(model.discount_taker_share)[seg]
    distressed = rng.random(n) < model.distress_share
    span = max(1, (end - start).days - 90)
    distress_start = np.where(
        distressed,
        (start + pd.Timedelta(days=60)).to_datetime64()
        + rng.integers(0, span, size=n) * np.timedelta64(1, "D"),
        np.datetime64("NaT"),
    ).astype("datetime64[ns]")
    currency = customers.get("currency", pd.Series("USD", index=customers.index)).fillna("USD")
    fx = currency.map(FX_PER_USD).fillna(1.0).to_numpy(dtype=float)
    typical_usd = by_segment(SEGMENT_AMOUNT_USD)[seg] * rng.lognormal(
        0, 0.6, size=n)
    # each segment's standard terms (the business's policy for 90% of its customers; the
    # rest negotiated) from a stream of their own: drawn from this stream after n-long
    # draws, one seed's policy changed with the customer count (RMST to 90 days of 37, 30
    # and 40 days at 2k, 20k and 80k customers of seed 1; 41.5, 41.1, 41.0 now)
    policy = np.random.default_rng(np.random.SeedSequence([seed, 5]))
    terms = np.array([policy.choice(TERMS_CHOICES, p=TERMS_PROBS[s]) for s in SEGMENTS])
    terms = np.where(rng.random(n) < 0.9, terms[seg], rng.choice(TERMS_CHOICES, size=n))
    channel_code = rng.choice(len(INVOICE_CHANNELS), size=n, p=[0.6, 0.25, 0.1, 0.05])
    link_share = rng.random(n)
    return dict(seg=seg, frailty=frailty, taker=taker, distress_start=distress_start, fx=fx,
                typical_usd=typical_usd, terms=terms, channel_code=channel_code,
                link_share=link_share)


def by_segment(values: dict) -> np.ndarray:
    """A per-segment parameter dict as an array indexed by segment code."""
    return np.array([values[s] for s in SEGMENTS], dtype=float)


def make_ids(prefix: str, n: int, offset: int = 0, width: int = 6) -> np.ndarray:
    """``n`` ids ``<prefix>000001``, ... numbered from ``offset + 1``, zero-padded to
    ``width`` digits (longer numbers keep all their digits).

    >>> make_ids("INV", 2, offset=9, width=3).tolist()
    ['INV010', 'INV011']
    """
    if len(str(offset + n)) > width:  # some numbers wider than the padding: rare, slow path
        numbers = np.arange(offset + 1, offset + n + 1).astype(str)
        return np.char.add(prefix, np.char.zfill(numbers, width)).astype(object)
    # the characters as UCS-4 code points, digits by arithmetic: 4x faster than np.char
    numbers = np.arange(offset + 1, offset + n + 1, dtype=np.int64)
    codes = np.empty((n, len(prefix) + width), dtype=np.uint32)
    codes[:, : len(prefix)] = [ord(ch) for ch in prefix]
    for k in range(width):
        codes[:, len(prefix) + width - 1 - k] = 48 + (numbers // 10**k) % 10
    return codes.view(f"<U{len(prefix) + width}").ravel().astype(object)

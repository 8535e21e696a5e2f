"""The payment-times frame on hand-built tables where every number is known."""

import pandas as pd
import pytest

from collections_lab import PaymentTimesError, payment_times

D = pd.Timestamp


def invoices(**extra):
    frame = pd.DataFrame({
        "invoice_id": ["a", "b", "c", "d", "e", "f"],
        "customer_id": ["c1", "c1", "c2", "c2", "c3", "c3"],
        "issue_date": [D("2025-01-01")] * 5 + [D("2025-06-01")],
        "due_date": [D("2025-01-31")] * 5 + [D("2025-07-01")],
        "amount": [100.0, 200.0, 50.0, 80.0, 90.0, 10.0],
        "currency": ["EUR"] * 6,
        "escalated_at": [pd.NaT, pd.NaT, pd.NaT, D("2025-04-01"), pd.NaT, pd.NaT],
        "written_off_at": [pd.NaT, pd.NaT, pd.NaT, pd.NaT, D("2025-03-15"), pd.NaT],
    })
    return frame.assign(**extra)


PAYMENTS = pd.DataFrame({
    "invoice_id": ["a", "a", "b", "c", "d", "zz"],
    "paid_at": [D("2025-01-20"), D("2025-02-05"), D("2025-01-10"), D("2025-01-05"),
                D("2025-05-01"), D("2025-01-02")],
    "amount": [40.0, 60.0, 196.0, 25.0, 80.0, 5.0],
    "discount": [0.0, 0.0, 4.0, 0.0, 0.0, 0.0],
    "fee": [0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
})


def frame(as_of="2025-03-31", **kw):
    return payment_times(invoices(), PAYMENTS, as_of=as_of, **kw).set_index("invoice_id")


def test_partial_payments_are_summed_to_the_full_payment_day():
    f = frame()
    assert f.loc["a", "outcome"] == "paid"
    assert f.loc["a", "duration"] == 35 and f.loc["a", "days_late"] == 5
    assert f.loc["a", "paid_amount"] == 100.0


def test_a_discount_counts_towards_the_amount_due():
    f = frame()
    assert f.loc["b", "outcome"] == "paid" and f.loc["b", "duration"] == 9
    assert f.loc["b", "discount_amount"] == 4.0 and f.loc["b", "days_late"] == -21


def test_open_invoices_are_censored_at_as_of():
    f = frame()
    assert f.loc["c", "outcome"] == "open" and not f.loc["c", "event"]
    assert f.loc["c", "duration"] == (D("2025-03-31") - D("2025-01-01")).days
    assert f.loc["c", "paid_amount"] == 25.0
    assert f.loc["c", "outcome_code"] == 0


def test_escalation_and_write_off_are_competing_outcomes():
    f = frame(as_of="2025-06-30")
    assert f.loc["d", "outcome"] == "escalated" and f.loc["d", "outcome_code"] == 2
    assert f.loc["d", "duration"] == 90  # ends at escalation, before the later payment
    assert f.loc["d", "paid_amount"] == 0.0
    assert f.loc["e", "outcome"] == "written_off" and f.loc["e", "outcome_code"] == 3


def test_nothing_after_as_of_is_seen_and_later_invoices_are_counted():
    f = payment_times(invoices(), PAYMENTS, as_of="2025-01-25")
    g = f.set_index("invoice_id")
    assert g.loc["a", "outcome"] == "open"  # second part not paid yet
    assert g.loc["d", "outcome"] == "open"  # escalation in the future
    assert "f" not in g.index and f.attrs["not_yet_issued"] == 1
    assert f.attrs["as_of"] == D("2025-01-25")


def test_reminders_counted_before_the_end_and_segments_and_arms_joined():
    reminders = pd.DataFrame({"invoice_id": ["a", "a", "b", "c"],
                              "sent_at": [D("2025-02-03"), D("2025-02-10"), D("2025-02-03"),
                                          D("2025-02-03")]})
    customers = pd.DataFrame({"customer_id": ["c1", "c2"], "segment": ["small", "large"]})
    assignments = pd.DataFrame({"experiment_id": ["e1"] * 3, "customer_id": ["c1", "c2", "c3"],
                                "arm": ["A", "B", "A"], "assigned_at": [D("2025-01-01")] * 3})
    f = payment_times(invoices(), PAYMENTS, customers=customers, reminders=reminders,
                      as_of="2025-03-31", assignments=assignments).set_index("invoice_id")
    assert f.loc["a", "n_reminders"] == 1  # the reminder after payment does not count
    assert f.loc["b", "n_reminders"] == 0
    assert f.loc["c", "n_reminders"] == 1
    assert f.loc["c", "segment"] == "large" and f.loc["e", "segment"] == "unknown"
    assert f.loc["c", "arm"] == "B"


def test_several_experiments_need_an_experiment_id():
    assignments = pd.DataFrame({"experiment_id": ["e1", "e2"], "customer_id": ["c1", "c1"],
                                "arm": ["A", "B"], "assigned_at": [D("2025-01-01")] * 2})
    with pytest.raises(PaymentTimesError, match="several experiments"):
        payment_times(invoices(), PAYMENTS, assignments=assignments)
    f = payment_times(invoices(), PAYMENTS, assignments=assignments, experiment_id="e2")
    assert f.loc[f["customer_id"] == "c1", "arm"].eq("B").all()
    with pytest.raises(PaymentTimesError, match="experiment 'e9' not in assignments"):
        payment_times(invoices(), PAYMENTS, assignments=assignments, experiment_id="e9")


def test_bad_input_is_explained():
    with pytest.raises(PaymentTimesError, match="empty"):
        payment_times(invoices().iloc[:0], PAYMENTS)
    with pytest.raises(PaymentTimesError, match="lacks column"):
        payment_times(invoices().drop(columns="due_date"), PAYMENTS)
    with pytest.raises(PaymentTimesError, match="no invoice was issued"):
        payment_times(invoices(), PAYMENTS, as_of="2024-01-01")
    with pytest.raises(PaymentTimesError, match="not a date"):
        payment_times(invoices(), PAYMENTS, as_of="yesterday-ish")


def test_payments_all_after_as_of_or_on_unknown_invoices_leave_invoices_open():
    late = PAYMENTS.assign(paid_at=D("2026-01-01"))
    f = payment_times(invoices(), late, as_of="2025-03-31")
    assert (f.loc[f["invoice_id"] != "e", "outcome"].isin(["open", "escalated"])).all()
    assert f["paid_amount"].sum() == 0
    stray = PAYMENTS[PAYMENTS["invoice_id"] == "zz"]
    g = payment_times(invoices(), stray, as_of="2025-03-31")
    assert not g["event"].any()

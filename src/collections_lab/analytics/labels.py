"""Spanish and English labels for the analytics tables, plots and summaries."""

from __future__ import annotations

from ..i18n import register

LABELS = {
    "en": {
        "aging_bucket": "Aging bucket",
        "bucket_current": "current",
        "bucket_1_30": "1–30 days",
        "bucket_31_60": "31–60 days",
        "bucket_61_90": "61–90 days",
        "bucket_90_plus": "90+ days",
        "open_amount": "Open amount",
        "open_invoices": "Open invoices",
        "receivables": "Receivables",
        "overdue_share": "Share overdue",
        "dso": "DSO (days)",
        "dso_standard": "DSO standard",
        "dso_countback": "DSO countback",
        "cei": "CEI (%)",
        "add": "Average days delinquent",
        "at_risk_rate": "At-risk rate (unpaid after 90 days)",
        "on_time_rate": "On-time rate",
        "mean_days_late": "Mean days late",
        "weighted_mean_days_late": "amount-weighted",
        "std_days_late": "Spread of days late (SD)",
        "trend_days_per_month": "Trend (days late per month)",
        "tier": "Payer tier",
        "cluster": "Cluster",
        "tier_on_time": "on time",
        "tier_occasionally_late": "occasionally late",
        "tier_chronically_late": "chronically late",
        "tier_irregular": "irregular",
        "tier_insufficient_history": "too little history",
        "recall": "Recall",
        "precision": "Precision",
        "lead_days": "Median lead (days)",
        "threshold": "Threshold",
        "predicted_probability": "Predicted probability",
        "observed_share": "Observed share",
        "false_positive_rate": "False positive rate",
        "true_positive_rate": "True positive rate",
        "churn_risk": "Churn risk (90 days)",
        "before_recalibration": "model as fitted",
        "after_recalibration": "recalibrated on the latest months",
        "due_date": "Due date",
        "days_late": "Days late",
        "alert": "Alert",
        "before": "before",
        "after": "after",
        "thank_list": "Customers to thank",
        "call_list": "Customers to call",
        "collected": "Collected",
        "invoiced": "Invoiced",
    },
    "es": {
        "aging_bucket": "Tramo de antigüedad",
        "bucket_current": "al día",
        "bucket_1_30": "1–30 días",
        "bucket_31_60": "31–60 días",
        "bucket_61_90": "61–90 días",
        "bucket_90_plus": "más de 90 días",
        "open_amount": "Importe pendiente",
        "open_invoices": "Facturas abiertas",
        "receivables": "Cartera",
        "overdue_share": "Proporción vencida",
        "dso": "DSO (días)",
        "dso_standard": "DSO estándar",
        "dso_countback": "DSO por recuento (countback)",
        "cei": "CEI (%)",
        "add": "Días promedio de mora",
        "at_risk_rate": "Tasa en riesgo (sin pagar a 90 días)",
        "on_time_rate": "Tasa de pago puntual",
        "mean_days_late": "Días de retraso promedio",
        "weighted_mean_days_late": "ponderado por importe",
        "std_days_late": "Dispersión de días de retraso (DE)",
        "trend_days_per_month": "Tendencia (días de retraso por mes)",
        "tier": "Nivel de pagador",
        "cluster": "Grupo",
        "tier_on_time": "puntual",
        "tier_occasionally_late": "a veces tarde",
        "tier_chronically_late": "tarde crónico",
        "tier_irregular": "irregular",
        "tier_insufficient_history": "historial insuficiente",
        "recall": "Sensibilidad (recall)",
        "precision": "Precisión",
        "lead_days": "Anticipación mediana (días)",
        "threshold": "Umbral",
        "predicted_probability": "Probabilidad predicha",
        "observed_share": "Proporción observada",
        "false_positive_rate": "Tasa de falsos positivos",
        "true_positive_rate": "Tasa de verdaderos positivos",
        "churn_risk": "Riesgo de abandono (90 días)",
        "before_recalibration": "modelo ajustado",
        "after_recalibration": "recalibrado con los últimos meses",
        "due_date": "Fecha de vencimiento",
        "days_late": "Días de retraso",
        "alert": "Alerta",
        "before": "antes",
        "after": "después",
        "thank_list": "Clientes a agradecer",
        "call_list": "Clientes a llamar",
        "collected": "Cobrado",
        "invoiced": "Facturado",
    },
}

#: Column headers of the analytics tables shown in reports, per language.
COLUMNS = {
    "en": {},
    "es": {
        "currency": "moneda", "segment": "segmento", "country": "país",
        "customer_id": "cliente", "bucket": "tramo", "count": "facturas", "amount": "importe",
        "share": "proporción", "open_invoices": "facturas abiertas", "receivables": "cartera",
        "overdue": "vencido", "overdue_share": "proporción vencida",
        "sales_period": "ventas del periodo", "dso": "DSO", "dso_countback": "DSO recuento",
        "bpdso": "mejor DSO posible", "add": "días promedio de mora",
        "weighted_days_past_due": "días de mora ponderados", "cei": "CEI (%)",
        "at_risk_rate": "tasa en riesgo", "at_risk_month": "mes de la tasa en riesgo",
        "tier": "nivel", "customers": "clientes", "label": "etiqueta",
        "treatment": "tratamiento", "dominant_tier": "nivel dominante",
        "n_due": "facturas vencidas", "on_time_rate": "tasa puntual",
        "mean_days_late": "días de retraso promedio", "n_open_overdue": "abiertas vencidas",
        "open_amount": "importe abierto", "overdue_amount": "importe vencido",
        "alert_date": "fecha de alerta", "change_date": "fecha del cambio",
        "before_mean": "retraso antes", "after_mean": "retraso después",
        "before_sd": "DE antes", "n_after": "facturas después", "shift_days": "cambio (días)",
        "cusum": "CUSUM", "invoice_id": "factura", "churn_probability": "riesgo de abandono",
        "priority": "prioridad", "reason": "motivo", "action": "acción",
        "cluster": "grupo",
    },
}


def translate_columns(frame, lang: str = "en"):
    """A copy of ``frame`` with its column headers in ``lang`` (unknown ones unchanged)."""
    from ..i18n import check_language

    return frame.rename(columns=COLUMNS[check_language(lang)])


_SHARES = {"share", "overdue_share", "on_time_rate", "at_risk_rate", "churn_probability",
           "weighted_on_time_rate"}
_AMOUNTS = {"receivables", "overdue", "sales_period", "open_amount", "overdue_amount",
            "amount", "begin_ar", "end_ar", "end_current_ar", "sales", "invoiced",
            "collected", "unpaid_after"}


def format_table(frame, lang: str = "en"):
    """Numbers of a report table as text in ``lang``'s style, for stakeholders.

    Shares become percentages, amounts whole units with thousands separators (each row
    keeps its ``currency`` column), other numbers one decimal, dates ISO; then headers
    are translated (:func:`translate_columns`). Returns a new frame of strings.
    """
    import pandas as pd

    from ..i18n import format_number, format_pct

    out = frame.copy()
    for col in out.columns:
        values = out[col]
        name = str(col)
        if pd.api.types.is_bool_dtype(values):
            continue
        if pd.api.types.is_datetime64_any_dtype(values):
            out[col] = values.dt.strftime("%Y-%m-%d").fillna("–")
        elif pd.api.types.is_integer_dtype(values):
            out[col] = [format_number(v, 0, lang) for v in values]
        elif pd.api.types.is_float_dtype(values):
            if name in _SHARES or name.startswith("share_"):
                out[col] = [format_pct(v, 1, lang) for v in values]
            elif name in _AMOUNTS:
                out[col] = [format_number(v, 0, lang) for v in values]
            else:
                out[col] = [format_number(v, 1, lang) for v in values]
    return translate_columns(out, lang)


register(LABELS)

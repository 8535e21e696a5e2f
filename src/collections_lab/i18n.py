"""Report language and number formatting: Spanish and English, amounts in COP, MXN, EUR, USD.

Reports are read by managers, often in Spanish, so every label a plot or summary shows goes
through :func:`t`, and every amount through :func:`format_money`. Spanish uses a dot for
thousands and a comma for decimals (``1.234.567,89``); English the reverse.

Example
-------
>>> format_money(1234567.891, "COP", "es")
'COP 1.234.568'
>>> format_money(1234.5, "EUR", "en")
'EUR 1,234.50'
>>> t("paid", "es")
'pagada'
"""

from __future__ import annotations

import math

from .data.schema import CURRENCY_DECIMALS

LANGUAGES = ("en", "es")

#: Labels shared by plots, tables and summaries. Modules may add their own keys with
#: :func:`register` at import time; a key missing in Spanish falls back to English.
LABELS: dict[str, dict[str, str]] = {
    "en": {
        "paid": "paid",
        "open": "open",
        "escalated": "escalated",
        "written_off": "written off",
        "days_since_issue": "Days since issue",
        "days_relative_to_due": "Days relative to due date",
        "share_unpaid": "Share still unpaid",
        "share_paid": "Share paid",
        "cumulative_incidence": "Cumulative incidence",
        "segment": "Segment",
        "arm": "Arm",
        "amount": "Amount",
        "invoices": "Invoices",
        "customers": "Customers",
        "customer": "Customer",
        "estimate": "Estimate",
        "ci_low": "95% CI low",
        "ci_high": "95% CI high",
        "p_value": "p-value",
        "month": "Month",
        "days": "days",
        "current": "current",
        "control": "control",
    },
    "es": {
        "paid": "pagada",
        "open": "abierta",
        "escalated": "escalada",
        "written_off": "castigada",
        "days_since_issue": "Días desde la emisión",
        "days_relative_to_due": "Días respecto al vencimiento",
        "share_unpaid": "Proporción aún sin pagar",
        "share_paid": "Proporción pagada",
        "cumulative_incidence": "Incidencia acumulada",
        "segment": "Segmento",
        "arm": "Brazo",
        "amount": "Importe",
        "invoices": "Facturas",
        "customers": "Clientes",
        "customer": "Cliente",
        "estimate": "Estimación",
        "ci_low": "IC 95% inferior",
        "ci_high": "IC 95% superior",
        "p_value": "valor p",
        "month": "Mes",
        "days": "días",
        "current": "al día",
        "control": "control",
    },
}


def check_language(lang: str) -> str:
    """Return ``lang`` if supported, else raise a ValueError naming the choices."""
    if lang not in LANGUAGES:
        raise ValueError(f"unsupported report language {lang!r}; choose one of {LANGUAGES}")
    return lang


def register(labels: dict[str, dict[str, str]]) -> None:
    """Add labels (``{"en": {...}, "es": {...}}``) for a module's plots and summaries."""
    for lang, entries in labels.items():
        LABELS.setdefault(lang, {}).update(entries)


def t(key: str, lang: str = "en") -> str:
    """Translate a label key; unknown keys come back unchanged (readable, never a crash)."""
    check_language(lang)
    return LABELS[lang].get(key) or LABELS["en"].get(key, key)


def format_number(value: float, decimals: int = 0, lang: str = "en") -> str:
    """Format a number with the language's thousands and decimal separators.

    >>> format_number(1234.5, 1, "es")
    '1.234,5'
    """
    check_language(lang)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    text = f"{value:,.{decimals}f}"
    if lang == "es":
        text = text.replace(",", "\0").replace(".", ",").replace("\0", ".")
    return text


def format_money(amount: float, currency: str, lang: str = "en") -> str:
    """Format an amount in a currency: ISO code first, currency-appropriate decimals.

    The ISO code (not a symbol) is used because ``$`` means USD, MXN and COP alike.
    """
    decimals = CURRENCY_DECIMALS.get(currency, 2)
    return f"{currency} {format_number(amount, decimals, lang)}"


def format_pct(share: float, decimals: int = 1, lang: str = "en") -> str:
    """Format a share (0.123) as a percentage ('12.3%' / '12,3 %')."""
    if share is None or (isinstance(share, float) and math.isnan(share)):
        return "–"
    text = format_number(100 * share, decimals, lang)
    return f"{text} %" if lang == "es" else f"{text}%"


#: Column headers of report tables, per language: the one dictionary every report table
#: (``reporting.tables``) translates its headers with. A column missing here is shown by
#: its name with underscores as spaces (see :func:`column_label`).
COLUMN_LABELS: dict[str, dict[str, str]] = {"en": {}, "es": {}}

_COLUMNS = {  # name: (English, Spanish)
    # portfolio health (KPIs, tiers, clusters, alerts, churn, engagement lists)
    "currency": ("Currency", "Moneda"), "segment": ("Segment", "Segmento"),
    "group": ("Group", "Grupo"), "country": ("Country", "País"),
    "count": ("Count", "Número"), "amount": ("Amount", "Importe"),
    "before_sd": ("SD of days late before", "DE del retraso antes"),
    "customer_id": ("Customer", "Cliente"), "invoice_id": ("Invoice", "Factura"),
    "open_invoices": ("Open invoices", "Facturas abiertas"),
    "receivables": ("Receivables", "Cartera"), "overdue": ("Overdue", "Vencido"),
    "overdue_share": ("Share overdue", "Proporción vencida"),
    "sales_period": ("Sales (period)", "Ventas del periodo"), "dso": ("DSO", "DSO"),
    "dso_countback": ("DSO countback", "DSO por recuento"),
    "bpdso": ("Best possible DSO", "Mejor DSO posible"),
    "add": ("Average days delinquent", "Días promedio de mora"),
    "weighted_days_past_due": ("Weighted days past due", "Días de mora ponderados"),
    "cei": ("CEI (%)", "CEI (%)"), "at_risk_rate": ("At-risk rate", "Tasa en riesgo"),
    "at_risk_month": ("At-risk month", "Mes de la tasa en riesgo"),
    "tier": ("Payer tier", "Nivel de pagador"), "customers": ("Customers", "Clientes"),
    "share": ("Share", "Proporción"), "label": ("Description", "Descripción"),
    "treatment": ("Treatment", "Tratamiento"),
    "dominant_tier": ("Dominant tier", "Nivel dominante"),
    "cluster": ("Cluster", "Grupo"),
    "share_on_time": ("On time", "Puntual"),
    "share_occasionally_late": ("Occasionally late", "A veces tarde"),
    "share_chronically_late": ("Chronically late", "Tarde crónico"),
    "share_irregular": ("Irregular", "Irregular"),
    "share_insufficient_history": ("Too little history", "Historial insuficiente"),
    "alert_date": ("Alert date", "Fecha de alerta"),
    "change_date": ("Change date", "Fecha del cambio"),
    "before_mean": ("Days late before", "Retraso antes (días)"),
    "after_mean": ("Days late after", "Retraso después (días)"),
    "n_after": ("Invoices after", "Facturas después"),
    "shift_days": ("Shift (days)", "Cambio (días)"),
    "before_amount": ("Amount before", "Importe antes"),
    "after_amount": ("Amount after", "Importe después"),
    "before_partial_share": ("Partial payments before", "Pagos parciales antes"),
    "after_partial_share": ("Partial payments after", "Pagos parciales después"),
    "n_partial_after": ("Partial payments after (n)", "Pagos parciales después (n)"),
    "cusum": ("CUSUM", "CUSUM"), "trigger": ("Trigger", "Disparador"),
    "auc": ("AUC", "AUC"), "brier": ("Brier score", "Puntuación de Brier"),
    "brier_raw": ("Brier score (as fitted)", "Brier (modelo ajustado)"),
    "log_loss": ("Log loss", "Pérdida logarítmica"),
    "log_loss_raw": ("Log loss (as fitted)", "Pérdida logarítmica (modelo ajustado)"),
    "base_rate_train": ("Churn rate (training)", "Tasa de abandono (entrenamiento)"),
    "base_rate_window": ("Churn rate (recalibration)", "Tasa de abandono (recalibración)"),
    "base_rate_test": ("Churn rate (test)", "Tasa de abandono (prueba)"),
    "mean_predicted_raw": ("Mean prediction (as fitted)",
                           "Predicción media (modelo ajustado)"),
    "mean_predicted": ("Mean prediction", "Predicción media"),
    "recalibration": ("Recalibration", "Recalibración"),
    "n_train": ("Training rows", "Filas de entrenamiento"),
    "n_test": ("Test rows", "Filas de prueba"), "split_date": ("Split date", "Fecha de corte"),
    "n_due": ("Invoices due", "Facturas vencidas"),
    "on_time_rate": ("On-time rate", "Tasa de pago puntual"),
    "mean_days_late": ("Mean days late", "Días de retraso promedio"),
    "n_open_overdue": ("Open overdue", "Abiertas vencidas"),
    "open_amount": ("Open amount", "Importe abierto"),
    "overdue_amount": ("Overdue amount", "Importe vencido"),
    "churn_probability": ("Churn risk", "Riesgo de abandono"),
    "priority": ("Priority", "Prioridad"), "reason": ("Reason", "Motivo"),
    "action": ("Action", "Acción"),
    # time to payment
    "observed": ("Observed", "Observado"), "expected": ("Expected", "Esperado"),
    "tau": ("Horizon (days)", "Horizonte (días)"),
    "rmst": ("Mean days outstanding", "Días pendientes medios"),
    "se": ("Standard error", "Error estándar"), "ci_low": ("95% CI low", "IC 95% inferior"),
    "ci_high": ("95% CI high", "IC 95% superior"), "invoices": ("Invoices", "Facturas"),
    "outcome": ("Outcome", "Desenlace"), "day": ("Day", "Día"),
    "incidence": ("Cumulative incidence", "Incidencia acumulada"),
    "week": ("Week", "Semana"), "expected_amount": ("Expected amount", "Importe esperado"),
    # experiment design and readout
    "experiment_id": ("Experiment", "Experimento"), "arm": ("Arm", "Brazo"),
    "assigned_at": ("Assigned on", "Asignado el"), "size": ("Customers", "Clientes"),
    "power": ("Power", "Potencia"), "mc_se": ("Monte Carlo SE", "EE de Monte Carlo"),
    "mean_effect": ("Mean effect", "Efecto medio"), "n_sims": ("Simulations", "Simulaciones"),
    "metric": ("Metric", "Métrica"), "effect": ("Effect", "Efecto"),
    "estimate": ("Estimate", "Estimación"), "p_value": ("p-value", "valor p"),
    # strategy lab
    "strategy": ("Strategy", "Estrategia"), "current": ("Current", "Actual"),
    "recommended": ("Recommended", "Recomendada"),
    "net_value_current": ("Net value (current)", "Valor neto (actual)"),
    "net_value_recommended": ("Net value (recommended)", "Valor neto (recomendada)"),
    "gain": ("Gain", "Ganancia"), "gain_low": ("Gain, 95% low", "Ganancia, 95% inferior"),
    "gain_high": ("Gain, 95% high", "Ganancia, 95% superior"),
    "churn_change": ("Churn change", "Cambio en abandono"),
    "paid_by_due_15_change": ("Change in paid by due + 15",
                              "Cambio en pagadas al vencimiento + 15"),
    "dso_change": ("DSO change (days)", "Cambio de DSO (días)"),
    "relies_on_priors": ("Relies on priors", "Depende de supuestos previos"),
    "pick_changes_with_priors": ("Pick changes with priors",
                                 "La elección cambia con los supuestos"),
    "parameter": ("Parameter", "Parámetro"), "prior": ("Prior", "Valor previo"),
    "factor": ("Factor", "Factor"), "value": ("Value", "Valor"),
    "segments": ("Segments", "Segmentos"),
    "pick_changes_in": ("Pick changes in", "La elección cambia en"),
    "max_cost_if_kept": ("Largest cost if kept", "Mayor costo si se mantiene"),
    "paid_by_due": ("Paid by due", "Pagadas al vencimiento"),
    "paid_by_due_15": ("Paid by due + 15", "Pagadas al vencimiento + 15"),
    "cash_pv": ("Cash (present value)", "Cobro (valor presente)"),
    "discount_cost": ("Discount cost", "Costo de descuentos"),
    "fee_income": ("Fee income", "Ingresos por recargos"),
    "reminder_cost": ("Reminder cost", "Costo de recordatorios"),
    "reminders": ("Reminders", "Recordatorios"), "escalations": ("Escalations", "Escalamientos"),
    "churn": ("Churn", "Abandono"), "relationship_cost": ("Relationship cost", "Costo de relación"),
    "net_value": ("Net value", "Valor neto"),
    "net_value_low": ("Net value, 95% low", "Valor neto, 95% inferior"),
    "net_value_high": ("Net value, 95% high", "Valor neto, 95% superior"),
    "gain_vs_reference": ("Gain vs reference", "Ganancia frente a la referencia"),
    "simulated": ("Simulated", "Simulado"), "difference": ("Difference", "Diferencia"),
    "z": ("z", "z"), "bucket": ("Days past due", "Días de mora"),
    "observed_invoices": ("Observed invoices", "Facturas observadas"),
    "observed_share": ("Observed share", "Proporción observada"),
    "simulated_invoices": ("Simulated invoices", "Facturas simuladas"),
    "simulated_share": ("Simulated share", "Proporción simulada"),
    "source": ("Source", "Fuente"), "note": ("Note", "Nota"), "control": ("Control", "Control"),
    "control_value": ("Control value", "Valor del control"),
    "treatment_value": ("Treatment value", "Valor del tratamiento"),
    "predicted_effect": ("Predicted effect", "Efecto previsto"),
    "customers_available": ("Customers available", "Clientes disponibles"),
    "design_effect": ("Design effect", "Efecto de diseño"), "icc": ("ICC", "CCI"),
    "design_effect_source": ("Design effect from", "Origen del efecto de diseño"),
    "invoices_per_arm": ("Invoices per arm", "Facturas por brazo"),
    "customers_per_arm": ("Customers per arm", "Clientes por brazo"),
    "engine": ("Method", "Método"), "weeks": ("Weeks", "Semanas"),
    "feasible": ("Feasible", "Factible"),
}
for _name, (_en, _es) in _COLUMNS.items():
    COLUMN_LABELS["en"][_name] = _en
    COLUMN_LABELS["es"][_name] = _es
del _name, _en, _es


def column_label(name, lang: str = "en") -> str:
    """The header of a report-table column in ``lang``.

    Known columns come from :data:`COLUMN_LABELS`; any other name is shown with
    underscores as spaces and a capital first letter (a header already translated by
    its table stays as it is, capitalised).

    >>> column_label("open_amount", "es")
    'Importe abierto'
    >>> column_label("my_column")
    'My column'
    """
    check_language(lang)
    text = str(name)
    known = COLUMN_LABELS[lang].get(text)
    if known:
        return known
    text = text.replace("_", " ").strip()
    if len(text) > 1 and not text[1].isalpha():  # "p-value", "p (Holm)": a symbol
        return text
    return text[:1].upper() + text[1:]

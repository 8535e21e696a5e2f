"""The one catalogue of user-visible text: ``messages/en.yml`` and ``messages/es.yml``.

Every label, category value (segments, tiers, outcomes, ...), metric name, column header
(``column.<name>``) and summary sentence a report, table, plot or summary shows is a key
of both files. Sentences take named fields filled by :func:`t`
(``t("rec_keep_control", control="A", reason="...")``); numbers in them are formatted by
the caller with :mod:`collections_lab.i18n.numbers`. A test fails when a key is in one
file only.

>>> t("paid", "es"), t("column.open_amount", "en")
('pagada', 'Open amount')
>>> t("summary.figure_default", "es")
'Figura'
"""

from __future__ import annotations

import functools
from pathlib import Path

from .context import check_language, current_lang

MESSAGES_DIR = Path(__file__).with_name("messages")


@functools.cache
def messages(lang: str) -> dict[str, str]:
    """All keys of one language's catalogue file (read once)."""
    import yaml

    check_language(lang)
    with open(MESSAGES_DIR / f"{lang}.yml", encoding="utf-8") as handle:
        data = yaml.safe_load(handle) or {}
    return {str(k): str(v) for k, v in data.items()}


def has(key: str) -> bool:
    """Whether ``key`` is in the catalogue (English file)."""
    return key in messages("en")


def t(key: str, lang: str | None = None, **fields) -> str:
    """The text of ``key`` in ``lang`` (the context's language by default), with
    ``fields`` filled in; an unknown key comes back unchanged (readable, never a crash).

    >>> t("tables.first_rows", "es", shown="20", total="1.234")
    'primeras 20 de 1.234 filas'
    """
    lang = current_lang() if lang is None else check_language(lang)
    text = messages(lang).get(key)
    if text is None:
        text = messages("en").get(key, key)
    return text.format(**fields) if fields else text


def t_days(key: str, lang: str | None = None, due_plus_days: int | None = None) -> str:
    """:func:`t` of a label that names "due + d": with ``due_plus_days`` its
    ``<key>_days`` variant (d written in days), where the catalogue has one, so a page
    never shows a "d" it does not define; the plain label otherwise.

    >>> t_days("xt_p_paid_by_due_d", "es", 15), t_days("xt_p_paid_by_due_d", "en")
    ('proporción pagada al vencimiento + 15 días', 'share paid by due + d')
    """
    if due_plus_days is not None and has(f"{key}_days"):
        return t(f"{key}_days", lang, d=due_plus_days)
    return t(key, lang)


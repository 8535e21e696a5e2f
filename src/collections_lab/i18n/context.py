"""The language and locale every label and number is shown in, set once per report or notebook.

Computation never looks at these: it returns codes and numbers. Display methods
(``summary()``, ``_repr_html_``, report tables, plots) read them when their ``lang`` or
``locale`` argument is left at ``None``.

:func:`options` both sets (a plain call) and scopes (a ``with`` block restores the
previous values on exit), as ``tea_tasting.config_context``:

>>> from collections_lab.i18n import options, current_lang, current_locale
>>> with options(lang="es", locale="es_MX"):
...     current_lang(), current_locale()
('es', 'es_MX')
>>> current_lang(), current_locale()
('en', 'en_US')

Default locale per language (when none is given): ``en`` → ``en_US``; ``es`` →
``es_ES`` (``1.234.567,8``), unless the report is about one currency whose country is
known (:data:`CURRENCY_LOCALES`: COP → ``es_CO``, MXN → ``es_MX``, ...), see
:func:`default_locale`.
"""

from __future__ import annotations

LANGUAGES = ("en", "es")

#: The locale used for a language when no locale (and no single currency) says otherwise.
DEFAULT_LOCALES = {"en": "en_US", "es": "es_ES"}

#: The Spanish locale of a currency's country: a Spanish report about one currency writes
#: numbers as that country does (Colombia ``1.234,5``, Mexico ``1,234.5``).
CURRENCY_LOCALES = {
    "es": {"COP": "es_CO", "MXN": "es_MX", "EUR": "es_ES", "USD": "es_US", "CLP": "es_CL",
           "PEN": "es_PE", "ARS": "es_AR", "PYG": "es_PY"},
}

_STATE = {"lang": "en", "locale": None}


def check_language(lang: str) -> str:
    """Return ``lang`` if supported, else raise a ValueError naming the choices."""
    if lang not in LANGUAGES:
        raise ValueError(f"unsupported report language {lang!r}; choose one of {LANGUAGES}")
    return lang


def check_locale(locale: str) -> str:
    """Return ``locale`` (``"es_CO"``) if babel knows it, else raise a ValueError naming it.

    >>> check_locale("es_CO")
    'es_CO'
    """
    from babel import Locale, UnknownLocaleError

    try:
        Locale.parse(str(locale))
    except (UnknownLocaleError, ValueError, TypeError):
        raise ValueError(f"unknown locale {locale!r}; use a code such as 'es_CO', 'es_MX', "
                         "'es_ES' or 'en_US'") from None
    return str(locale)


def default_locale(lang: str, currency: str | None = None) -> str:
    """The locale a ``lang`` report uses when none is given: its currency's country when
    the report is about one known currency, else :data:`DEFAULT_LOCALES`.

    >>> default_locale("es", "COP"), default_locale("es"), default_locale("en", "COP")
    ('es_CO', 'es_ES', 'en_US')
    """
    check_language(lang)
    by_currency = CURRENCY_LOCALES.get(lang, {})
    if currency is not None and str(currency) in by_currency:
        return by_currency[str(currency)]
    return DEFAULT_LOCALES[lang]


def current_lang() -> str:
    """The language labels are shown in now (``"en"`` unless :func:`options` set another).

    Example:
        >>> with cl.options(lang="es"):
        ...     cl.current_lang()
        'es'
        >>> cl.current_lang()
        'en'
    """
    return _STATE["lang"]


def current_locale() -> str:
    """The locale numbers are formatted in now: the one :func:`options` set, else the
    default of :func:`current_lang`.

    Example:
        >>> with cl.options(lang="es", locale="es_CO"):
        ...     cl.current_locale()
        'es_CO'
    """
    return _STATE["locale"] or DEFAULT_LOCALES[_STATE["lang"]]


def resolve(lang: str | None = None, locale: str | None = None) -> tuple[str, str]:
    """``(lang, locale)`` for a display call: the arguments given, else the context.

    A ``lang`` given without a ``locale`` uses the context's locale when it is of that
    language, else the language's default locale.

    >>> resolve("es")
    ('es', 'es_ES')
    >>> with options(lang="es", locale="es_CO"):
    ...     resolve("es"), resolve("en"), resolve()
    (('es', 'es_CO'), ('en', 'en_US'), ('es', 'es_CO'))
    """
    if lang is None:
        lang = current_lang()
    check_language(lang)
    if locale is None:
        context = current_locale()
        locale = context if context.split("_")[0] == lang else DEFAULT_LOCALES[lang]
    return lang, locale


class options:  # noqa: N801 - used like a function: cl.options(lang="es")
    """Set the report language and locale; as a ``with`` block, only inside it.

    Args:
        lang: ``"en"`` or ``"es"``; ``None`` keeps the current one.
        locale: a babel locale code (``"es_CO"``, ``"es_MX"``, ``"en_US"``); ``None``
            means the default of ``lang`` (see :func:`default_locale`), or of ``currency``.
        currency: the report's one currency, if any: picks the default locale of its
            country when ``locale`` is not given (COP → ``es_CO``).

    Example:
        >>> _ = options(lang="es", currency="MXN"); current_locale()
        'es_MX'
        >>> _ = options(lang="en"); current_locale()
        'en_US'
    """

    def __init__(self, lang: str | None = None, locale: str | None = None,
                 currency: str | None = None):
        self._previous = dict(_STATE)
        new_lang = check_language(lang) if lang is not None else _STATE["lang"]
        if locale is not None:
            new_locale = check_locale(locale)
        elif lang is not None or currency is not None:
            new_locale = default_locale(new_lang, currency)
        else:
            new_locale = _STATE["locale"]
        _STATE.update(lang=new_lang, locale=new_locale)

    def __enter__(self) -> options:
        return self

    def __exit__(self, *exc) -> None:
        _STATE.clear()
        _STATE.update(self._previous)

"""A small base for result objects: a readable HTML table in notebooks, a pandas frame.

Every analysis returns a dataclass that mixes in :class:`ResultMixin` and implements
``to_frame()``; the mixin supplies ``_repr_html_`` (escaped, so data-derived text such as a
customer called ``<script>`` shows as text) and a plain ``__str__``.

Example
-------
>>> from dataclasses import dataclass
>>> import pandas as pd
>>> @dataclass
... class Mean(ResultMixin):
...     value: float
...     def to_frame(self):
...         return pd.DataFrame({"mean": [self.value]})
>>> "<table" in Mean(2.0)._repr_html_()
True
"""

from __future__ import annotations

import html

import pandas as pd


class ResultMixin:
    """Mixin for result dataclasses: ``_repr_html_`` and ``__str__`` from ``to_frame()``."""

    #: Title shown above the table in notebooks; subclasses may override.
    title: str | None = None

    def to_frame(self) -> pd.DataFrame:  # pragma: no cover - abstract
        raise NotImplementedError

    def _title(self) -> str:
        return self.title or type(self).__name__

    def _repr_html_(self) -> str:
        frame = self.to_frame()
        table = frame.to_html(
            escape=True, float_format=lambda x: f"{x:,.4g}", border=0, classes="cl-result"
        )
        summary = getattr(self, "summary", None)
        text = ""
        if callable(summary):
            try:
                text = f"<p>{html.escape(str(summary()))}</p>"
            except TypeError:
                text = ""
        return f"<div><strong>{html.escape(self._title())}</strong>{text}{table}</div>"

    def __str__(self) -> str:
        return f"{self._title()}\n{self.to_frame().to_string()}"

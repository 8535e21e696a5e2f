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

import contextlib
import functools
import html

import pandas as pd


def readable_number(x: float) -> str:
    """Numbers for people: thousands separators for large values, 4 significant digits
    otherwise, never scientific notation for amounts (``17896391507`` → ``17,896,391,507``).
    """
    if x != x:  # NaN
        return ""
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    if x == int(x):
        return f"{x:.0f}"
    return f"{x:.4g}" if abs(x) >= 1e-4 else f"{x:.2e}"


def _frame_html(title: str, frame: pd.DataFrame) -> str:
    table = frame.to_html(
        escape=True,
        float_format=readable_number,
        border=0,
        classes="cl-result",
        index=not isinstance(frame.index, pd.RangeIndex),
        max_rows=None,
        max_cols=None,
    )
    return f"<div><strong>{html.escape(title)}</strong>{table}</div>"


class ResultMixin:
    """Mixin for result dataclasses: ``_repr_html_`` and ``__str__`` from ``to_frame()``."""

    #: Title shown above the table in notebooks; subclasses may override.
    title: str | None = None

    def to_frame(self) -> pd.DataFrame:  # pragma: no cover - abstract
        raise NotImplementedError

    def _title(self) -> str:
        return self.title or type(self).__name__

    def report_tables(self) -> list[tuple[str, pd.DataFrame]]:
        """The tables this result shows, each with its title: ``[(title, to_frame())]``;
        a result with more tables extends the list (reports format each the same way)."""
        return [(self._title(), self.to_frame())]

    def _repr_html_(self) -> str:
        return "".join(_frame_html(title, frame) for title, frame in self.report_tables())

    def __str__(self) -> str:
        return f"{self._title()}\n{self.to_frame().to_string()}"


# ------------------------------------------------------------------------------ figures
@contextlib.contextmanager
def plot_style():
    """seaborn's white-grid style and colour-blind palette for the figures drawn inside,
    without changing the session's matplotlib settings (unlike ``sns.set_theme``).

    >>> import matplotlib
    >>> before = dict(matplotlib.rcParams)
    >>> with plot_style():
    ...     matplotlib.rcParams["axes.grid"]
    True
    >>> dict(matplotlib.rcParams) == before
    True
    """
    import matplotlib
    import matplotlib.pyplot as plt
    import seaborn as sns
    from cycler import cycler

    plt.get_backend()  # resolve the backend first: Jupyter's switches interactive mode on
    rc = {**sns.axes_style("whitegrid"), **sns.plotting_context("notebook"),
          "axes.prop_cycle": cycler(color=sns.color_palette("colorblind"))}
    # restore only the style's own keys (matplotlib's rc_context would also undo the
    # interactive mode a backend switches on inside it, and figures would stop showing)
    old = {key: matplotlib.rcParams[key] for key in rc}
    matplotlib.rcParams.update(rc)
    try:
        yield
    finally:
        matplotlib.rcParams.update(old)


def styled(plot):
    """Decorate a ``plot_*(result, ..., ax=None)`` function: it draws in :func:`plot_style`,
    and a figure it creates itself (no ``ax`` given) is returned closed to pyplot, so a
    cell ending with the call shows it once (as the returned value), not twice."""

    @functools.wraps(plot)
    def wrapper(*args, **kwargs):
        import matplotlib.pyplot as plt

        with plot_style():
            out = plot(*args, **kwargs)
        if kwargs.get("ax") is None and out is not None and hasattr(out, "savefig"):
            plt.close(out)
        return out

    return wrapper


def result_axes(draw, ax=None):
    """What a result's ``.plot(ax=None)`` returns: the Axes ``draw(ax=...)`` drew on.

    Without ``ax`` a new pyplot figure is made (so the notebook shows it once, at the end
    of the cell); ``draw`` is a ``plot_*`` function taking ``ax``.
    """
    if ax is None:
        import matplotlib.pyplot as plt

        with plot_style():
            _, ax = plt.subplots(figsize=(7.0, 4.2))
    draw(ax=ax)
    return ax

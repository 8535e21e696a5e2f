"""Figures in the report's style and locale: one decorator for every ``plot_*`` function.

:func:`styled` draws a plot inside :func:`plot_style` (seaborn's white grid and
colour-blind palette, without changing the session's matplotlib settings) and writes its
numeric axes in the report's locale (:func:`~collections_lab.i18n.numbers.localize_figure`:
the locale's separators, no offset or ``1e6`` multiplier; money axes set by the plot keep
their ISO code). A figure the function makes itself is returned closed to pyplot, so a
notebook cell ending with the call shows it once.
"""

from __future__ import annotations

import contextlib
import functools
import inspect

from .numbers import localize_figure


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
    """Decorate a ``plot_*(result, ..., lang=..., ax=None)`` function: it draws in
    :func:`plot_style`, its numeric axes are written in its ``lang`` (else the context's
    language) and the context's locale, and a figure it creates itself (no ``ax`` given) is
    returned closed to pyplot, so a cell ending with the call shows it once (as the
    returned value), not twice."""
    signature = inspect.signature(plot)

    @functools.wraps(plot)
    def wrapper(*args, **kwargs):
        import matplotlib.pyplot as plt

        arguments = signature.bind(*args, **kwargs).arguments
        with plot_style():
            out = plot(*args, **kwargs)
        figure = out if hasattr(out, "savefig") else getattr(out, "figure", None)
        if figure is None and arguments.get("ax") is not None:
            figure = arguments["ax"].figure
        if figure is not None:
            localize_figure(figure, arguments.get("lang"))
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

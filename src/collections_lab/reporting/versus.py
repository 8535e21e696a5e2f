"""The twin against the experiment on the report pages: report 05 shows, per arm, the
twin's predicted effect beside the readout's observed one; report 04 links to it.

Numbers come from :class:`collections_lab.lab.versus.TwinVersusExperiment`; every word
from the catalogue (en / es), everything data-derived escaped.

Example
-------
>>> print(lab_link_html("es"))  # doctest: +ELLIPSIS
<p class="cl-link">¿Predice el gemelo... href="../05_strategy_lab/05_strategy_lab.html#twin-vs-experiment">...</a></p>
"""

from __future__ import annotations

import html

import pandas as pd

from .. import i18n

#: The anchor of the section on page 05, and the page's address from another report's
#: folder (reports/<report>/<report>.html).
ANCHOR = "twin-vs-experiment"
LAB_PAGE = "../05_strategy_lab/05_strategy_lab.html"

#: The columns shown, in order.
COLUMNS = ["label", "arm", "twin_effect", "twin_low", "twin_high", "observed_effect",
           "observed_low", "observed_high", "verdict"]


def versus_table(versus, lang: str = "en") -> pd.DataFrame:
    """Per arm and metric: the metric in words, the twin's and the readout's effect with
    their intervals, and whether they agree (in words)."""
    frame = versus.to_frame().copy()
    frame["label"] = [i18n.t(f"xp_metric_{m}", lang) for m in frame["metric"]]

    def verdict(row) -> str:
        if row["agrees"] is None or pd.isna(row["agrees"]):
            return i18n.t("lab.versus_unknown", lang)
        if row["agrees"]:
            return i18n.t("lab.versus_agree", lang)
        return i18n.t("lab.versus_higher" if row["gap"] > 0 else "lab.versus_lower", lang)

    frame["verdict"] = [verdict(r) for _, r in frame.iterrows()]
    return frame[COLUMNS].round(4)


def versus_html(versus, lang: str = "en") -> str:
    """The section's body: an anchor page 04 links to, the summary sentence and the
    table (empty anchor and a sentence when the history holds no experiment)."""
    from ..i18n.display import table_html

    head = f'<div id="{ANCHOR}"></div>'
    if versus is None:
        return head + f"<p>{html.escape(i18n.t('lab.versus_none', lang))}</p>"
    return (head + f'<p class="cl-summary">{html.escape(versus.summary(lang))}</p>'
            + table_html(versus_table(versus, lang), lang, max_rows=None))


def show_versus(versus, lang: str = "en") -> None:
    """Display :func:`versus_html` in the report notebook (05)."""
    from .notebook import display_html

    display_html(versus_html(versus, lang),
                 versus.summary(lang) if versus is not None else i18n.t("lab.versus_none",
                                                                         lang))


def lab_link_html(lang: str = "en") -> str:
    """A sentence linking the readout (04) to the twin-versus-experiment section of 05."""
    return (f'<p class="cl-link">{html.escape(i18n.t("lab.versus_link", lang))} '
            f'<a href="{LAB_PAGE}#{ANCHOR}">{html.escape(i18n.t("lab.versus_link_text", lang))}'
            "</a></p>")


def show_lab_link(lang: str = "en") -> None:
    """Display :func:`lab_link_html` in the readout notebook (04)."""
    from .notebook import display_html

    display_html(lab_link_html(lang), i18n.t("lab.versus_link", lang))


__all__ = ["ANCHOR", "LAB_PAGE", "lab_link_html", "show_lab_link", "show_versus",
           "versus_html", "versus_table"]

"""What a reader of a report page must find, checked in headless Chromium.

Used by ``test_reporting_browser.py``. Each check returns the problems it sees on the
page open in ``tools`` (a :class:`browser_tools.DevTools`), worded so a failing test says
which page breaks which rule of the page grammar (DESIGN.md, "The page grammar").
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path

VIEWPORT = 1280

#: Text that looks like code: model terms (``segment=medium``), factorial terms
#: (``tone[firm]:count[3]``) and snake_case identifiers (``paid_by_due_d``, ``on_time``).
CODE_LIKE = {
    "name=value term": re.compile(r"\b[A-Za-z_][A-Za-z0-9_]*=[^\s,;)]+"),
    "factorial term": re.compile(r"\b[a-z]\w*\[[^\]\s]+\]"),
    "snake_case name": re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b"),
}

# Elements wider than the viewport, or content cut off inside a horizontally scrolling
# box (a table whose right columns a reader would not see). Closed <details> content is
# not rendered and so not measured.
_WIDE_JS = f"""
(() => {{
  const out = [];
  for (const el of document.querySelectorAll('body *')) {{
    const r = el.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;
    const name = el.tagName.toLowerCase() + (el.className && typeof el.className === 'string'
      ? '.' + el.className.trim().split(/\\s+/).join('.') : '');
    const text = (el.innerText || el.alt || '').trim().slice(0, 60).replace(/\\s+/g, ' ');
    if (r.right > {VIEWPORT} + 1 || r.width > {VIEWPORT})
      out.push(`${{name}} reaches ${{Math.round(r.right)}} px: "${{text}}"`);
    const ox = getComputedStyle(el).overflowX;
    if ((ox === 'auto' || ox === 'scroll' || ox === 'hidden')
        && el.scrollWidth > el.clientWidth + 2 && el.clientWidth > 0)
      out.push(`${{name}} hides ${{el.scrollWidth - el.clientWidth}} px to the right: "${{text}}"`);
  }}
  return out.slice(0, 5).concat(document.documentElement.scrollWidth > {VIEWPORT}
    ? [`page scrolls sideways (${{document.documentElement.scrollWidth}} px)`] : []);
}})()
"""


def too_wide(tools) -> list[str]:
    return tools.evaluate(_WIDE_JS) or []


def grammar(tools) -> list[str]:
    """Decision box, 3-6 KPI tiles, a table of contents, a working back link."""
    problems = []
    if tools.evaluate("document.querySelectorAll('.cl-decision .cl-do').length") != 1:
        problems.append("no decision box (one .cl-decision with what to do)")
    tiles = tools.evaluate("document.querySelectorAll('.cl-tile').length")
    if not 3 <= tiles <= 6:
        problems.append(f"{tiles} KPI tiles (3 to 6 wanted)")
    toc = tools.evaluate("Array.from(document.querySelectorAll('.cl-toc a'))"
                         ".filter(a => document.getElementById(a.hash.slice(1))).length")
    if not toc:
        problems.append("no table of contents linking the page's sections")
    back = tools.evaluate("Array.from(document.querySelectorAll('a'))"
                          ".filter(a => a.getAttribute('href') === '../index.html').length")
    if not back:
        problems.append("no link back to the index")
    return problems


def visible_text(tools) -> str:
    return tools.evaluate("document.body.innerText") or ""


def code_like(text: str, allowed: set[str] = frozenset()) -> list[str]:
    """Code-looking strings in ``text`` (``allowed``: names a reader gave, e.g. arm names
    from the strategies file, which the page must show as they are)."""
    problems = []
    for what, pattern in CODE_LIKE.items():
        found = sorted({m.group(0) for m in pattern.finditer(text)} - set(allowed))
        if found:
            problems.append(f"{what}s on the page: {', '.join(found[:8])}")
    return problems


#: Modules whose import registers catalogue entries (the report notebooks import them).
CATALOGUE_MODULES = (
    "collections_lab.reporting.page", "collections_lab.reporting.notebook",
    "collections_lab.reporting.index", "collections_lab.analytics.health",
    "collections_lab.survival.report", "collections_lab.experiments.workflow",
    "collections_lab.experiments.decision", "collections_lab.lab.report",
)


def english_only_strings() -> list[str]:
    """Fragments of the English catalogue that the Spanish one does not share: a
    multi-word fragment (placeholders split out) or a single word of 6+ letters."""
    from collections_lab import i18n

    for name in CATALOGUE_MODULES:
        importlib.import_module(name)
    labels = getattr(i18n, "LABELS", None)
    if labels is None:  # the catalogue package (i18n/messages/*.yml)
        labels = {lang: dict(i18n.messages(lang)) for lang in ("en", "es")}
    es_values = set(labels["es"].values())
    fragments = set()
    for key, text in labels["en"].items():
        if not isinstance(text, str) or labels["es"].get(key, text) == text or text in es_values:
            continue
        for part in re.split(r"\{[^}]*\}", text):
            part = part.strip(" .,:;()«»'\"–-")
            words = part.split()
            if (len(words) >= 3 and len(part) >= 14) or (
                    len(words) == 1 and re.fullmatch(r"[A-Za-z]{6,}", part)):
                fragments.add(part)
    spanish_text = " ".join(labels["es"].values())
    # words Spanish also uses (e.g. "control", "Brier") are not English-only
    return sorted(f for f in fragments if not re.search(rf"\b{re.escape(f)}\b", spanish_text))


def english_in_spanish(text: str, fragments: list[str],
                       allowed: set[str] = frozenset()) -> list[str]:
    """English catalogue ``fragments`` in ``text`` (``allowed``: names a reader gave, e.g.
    the arm ``friendly-1-none`` of the strategies file, shown as they are in any
    language: not catalogue text, so left out of the search)."""
    for name in sorted(allowed, key=len, reverse=True):
        text = re.sub(rf"(?<![\w-]){re.escape(name)}(?![\w-])", " ", text)
    found = [f for f in fragments if re.search(rf"(?<!\w){re.escape(f)}(?!\w)", text)]
    return [f"English catalogue text on the Spanish page: {'; '.join(found[:8])}"] if found else []


def figure_multipliers(notebook_path) -> list[str]:
    """Figures of an executed report notebook whose axes carry an offset or a power-of-ten
    multiplier (``1e9``, ``10^0``): what ``show_figure`` recorded in each figure's output
    metadata (``collections_lab_figure``). A figure without the record is a problem too:
    every figure must go through ``show_figure``."""
    import json

    from collections_lab.reporting.notebook import FIGURE_KEY

    nb = json.loads(Path(notebook_path).read_text(encoding="utf-8"))
    problems = []
    for cell in nb.get("cells", []):
        for out in cell.get("outputs", []):
            if "image/png" not in out.get("data", {}):
                continue
            record = out.get("metadata", {}).get(FIGURE_KEY)
            if record is None:
                problems.append("a figure shown without show_figure (axes not checked)")
            else:
                problems += [f"axis with a multiplier: {m}"
                             for m in record.get("axis_multipliers", [])]
    return problems

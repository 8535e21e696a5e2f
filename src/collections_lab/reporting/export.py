"""Export an executed notebook to a static, offline, code-free HTML report.

nbconvert's ``lab`` template loads require.js and MathJax from a CDN and inlines about
276 KB of JupyterLab CSS. A stakeholder report needs none of that: this module renders
the notebook with a small template that extends ``lab`` (so every output keeps its usual
markup) but drops every ``<script>`` block and replaces the JupyterLab stylesheet with a
compact one (a few KB). Code cells, input prompts and output prompts are excluded, and
so are markdown cells tagged for another language (``lang-es`` in an English report);
stderr streams (warnings) are left out of the HTML and counted, and stay visible in the
executed notebook kept beside the report. Figures are embedded as base64 PNG by the
kernel, so the page needs no other file; they are re-encoded with a 256-colour palette
(about a third of the size, visually the same).

:func:`check_static` then verifies the page: no element or stylesheet fetched from the
network, and no ``<script>`` at all. The second rule catches data-derived HTML that was
not escaped (a customer called ``<script>alert(1)</script>``): such a report fails
instead of being published. Math in markdown is not typeset (there is no MathJax
offline); write formulas in words or Unicode.

Example
-------
>>> import nbformat
>>> nb = nbformat.v4.new_notebook()
>>> nb.cells = [nbformat.v4.new_markdown_cell("# Cash report")]
>>> page = export_html(nb, title="Cash report")
>>> check_static(page.html)
[]
"""

from __future__ import annotations

import copy
import html
import re
from dataclasses import dataclass
from html.parser import HTMLParser

import nbformat

from ..i18n import LANGUAGES

# The one place an offline template lives. It extends nbconvert's lab template, empties
# the blocks that emit <script> tags (require.js, MathJax, mermaid, widgets) and gives
# figures the alt text recorded by notebook.show_figure (lab has no alt support).
_TEMPLATE = """{%- extends 'lab/index.html.j2' -%}
{%- block html_head_js -%}{%- endblock html_head_js -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block data_png scoped -%}
<div class="jp-RenderedImage jp-OutputArea-output {{ extra_class }}">
<img src="data:image/png;base64,{{ output.data['image/png'] | escape_html }}"
 alt="{{ ((output | get_metadata('alt', 'image/png')) or 'Figure') | escape_html }}">
</div>
{%- endblock data_png -%}
{%- block notebook_css -%}<style type="text/css">
{{ resources.collections_lab_css }}
</style>{%- endblock notebook_css -%}
"""

_CSS = """
:root { --ink: #1f2933; --muted: #52606d; --line: #d9e2ec; --accent: #1f6feb; }
body { margin: 0; color: var(--ink); background: #fff;
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 78rem; margin: 0 auto; padding: 1.5rem 1rem 3rem; }
h1, h2, h3, h4 { line-height: 1.25; margin: 1.4em 0 .5em; }
h1 { font-size: 1.8rem; margin-top: .5em; } h2 { font-size: 1.35rem; border-bottom: 1px solid var(--line); padding-bottom: .2em; }
a { color: var(--accent); } a.anchor-link { display: none; }
.jp-Collapser, .jp-InputPrompt, .jp-OutputPrompt { display: none; }
.jp-Cell { margin: 0; } .jp-OutputArea-output { margin: .4em 0; overflow-x: auto; }
pre { white-space: pre-wrap; font: 13px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; margin: .3em 0; }
img { max-width: 100%; height: auto; }
table { border: 0; border-collapse: collapse; margin: .6em 0; font-size: 12.5px; font-variant-numeric: tabular-nums; }
th, td { border: 0; border-bottom: 1px solid var(--line); padding: .3em .45em; text-align: right; vertical-align: top; }
th { background: #f5f7fa; font-weight: 600; } td:first-child, th:first-child { text-align: left; }
td.cl-text, th.cl-text { text-align: left; }  /* a column of sentences */
tbody tr:nth-child(even) { background: #fafbfc; }
blockquote { margin: .6em 0; padding: .2em 1em; border-left: 4px solid var(--line); color: var(--muted); }
.cl-summary { background: #f0f6ff; border-left: 4px solid var(--accent); padding: .6em 1.1em; margin: 1em 0; }
.cl-summary h2 { margin: .2em 0 .4em; border: 0; }
.cl-summary ul { margin: .3em 0; padding-left: 1.2em; }
.cl-provenance { color: var(--muted); font-size: 13px; }
.cl-fresh { color: var(--muted); font-size: 14px; margin: -.3em 0 .8em; }
.cl-decision { border: 2px solid #0b7a3b; background: #effaf3; border-radius: 6px; padding: .5em 1.1em; margin: .8em 0; }
.cl-decision p { margin: .3em 0; } .cl-decision-title { font-weight: 700; text-transform: uppercase; font-size: 12px; letter-spacing: .06em; color: #0b7a3b; }
.cl-do { font-size: 1.15rem; font-weight: 600; }
.cl-tiles { display: grid; grid-template-columns: repeat(auto-fit, minmax(11rem, 1fr)); gap: .6em; margin: .8em 0 1.2em; }
.cl-tile { border: 1px solid var(--line); border-radius: 6px; padding: .5em .8em; overflow-wrap: anywhere; }
.cl-tile-label { color: var(--muted); font-size: 12px; } .cl-tile-value { font-size: 1.05rem; font-weight: 600; white-space: pre-line; }
.cl-tile-change { font-size: 12px; color: var(--muted); white-space: pre-line; } .cl-tile-change.good { color: #0b7a3b; } .cl-tile-change.bad { color: #b42318; }
.cl-nav { font-size: 13px; margin: 0 0 .4em; } .cl-toc { border-left: 3px solid var(--line); padding: .2em 1em; margin: .8em 0 1.2em; font-size: 14px; }
.cl-toc p { margin: 0 0 .2em; font-weight: 600; } .cl-toc ol { margin: 0; padding-left: 1.2em; columns: 2; }
details.cl-appendix, details.cl-load-notes { border: 1px solid var(--line); border-radius: 6px; padding: .3em .8em; margin: .6em 0; }
details > summary { cursor: pointer; font-weight: 600; }
.cl-table, .jp-OutputArea-output { max-width: 100%; overflow-x: auto; }
td { overflow-wrap: break-word; font-variant-numeric: tabular-nums; } .cl-table table { font-size: 12px; } .cl-cap { color: var(--muted); font-size: 13px; margin: .4em 0 0; }
@media print { main { max-width: none; } details.cl-appendix { display: block; } }
"""

#: Cell tags that drop a whole cell / all its outputs from the HTML (as in Jupyter Book).
REMOVE_CELL_TAGS = ("remove-cell", "remove_cell")
REMOVE_OUTPUT_TAGS = ("remove-output", "remove_output")
#: A cell tagged ``lang-en`` / ``lang-es`` appears only in the report of that language.
LANG_TAG_PREFIX = "lang-"

#: Attributes holding an address (fetched, navigated to or submitted to).
_URL_ATTRS = ("src", "href", "data", "action", "formaction", "poster", "background",
              "xlink:href", "srcset", "cite", "longdesc", "manifest", "ping")
#: Elements that embed another document or plug-in: never in a report.
_EMBEDDING = ("iframe", "frame", "frameset", "object", "embed", "applet", "portal")
#: Elements whose ``href`` is only followed when clicked (never fetched on opening).
_LINKS = ("a", "area")
_REMOTE = re.compile(r"^(https?:)?//", re.I)
_SCRIPT_URL = re.compile(r"^(javascript|vbscript|livescript):", re.I)
_CSS_REMOTE = re.compile(r"(@import|url\()\s*['\"]?\s*(https?:)?//", re.I)
_CONTROL = re.compile(r"[\x00-\x20]+")


@dataclass
class HtmlPage:
    """An exported report page: the HTML text and what was left out of it."""

    html: str
    n_stderr_outputs: int = 0

    @property
    def size_bytes(self) -> int:
        return len(self.html.encode("utf-8"))


def _strip_stderr(nb) -> tuple[nbformat.NotebookNode, int]:
    nb = copy.deepcopy(nb)
    dropped = 0
    for cell in nb.cells:
        if cell.get("cell_type") != "code":
            continue
        kept = []
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream" and out.get("name") == "stderr":
                dropped += 1
            else:
                kept.append(out)
        cell["outputs"] = kept
    return nb, dropped


def compress_png(data: str) -> str:
    """Re-encode a base64 PNG with an adaptive 256-colour palette if that is smaller.

    Charts have few distinct colours: a palette PNG is typically a third of matplotlib's
    RGBA PNG (measured: 9 report figures, 528 KB -> 145 KB, 0.25 s) and looks the same.
    Returns the original when Pillow is missing or the palette version is not smaller.
    """
    import base64
    import io

    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - Pillow comes with matplotlib
        return data
    raw = base64.b64decode(data)
    try:
        with Image.open(io.BytesIO(raw)) as image:
            out = io.BytesIO()
            image.quantize(256, method=Image.Quantize.FASTOCTREE).save(out, "PNG")
    except (OSError, ValueError):
        return data
    smaller = out.getvalue()
    return base64.b64encode(smaller).decode("ascii") if len(smaller) < len(raw) else data


def _compress_figures(nb) -> None:
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if "image/png" in data:
                data["image/png"] = compress_png(data["image/png"])


def _exporter(lang: str):
    # Imported here: nbconvert costs ~0.5 s to import, and notebook helpers must not pay it.
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter
    from traitlets.config import Config

    config = Config()
    config.TagRemovePreprocessor.enabled = True
    # a cell tagged for another language (``lang-es`` in an English report) is left out
    others = {f"{LANG_TAG_PREFIX}{other}" for other in LANGUAGES if other != lang}
    config.TagRemovePreprocessor.remove_cell_tags = set(REMOVE_CELL_TAGS) | others
    config.TagRemovePreprocessor.remove_all_outputs_tags = set(REMOVE_OUTPUT_TAGS)
    return HTMLExporter(
        config=config,
        extra_loaders=[DictLoader({"collections_lab_offline.html.j2": _TEMPLATE})],
        template_file="collections_lab_offline.html.j2",
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        language_code=lang,
    )


def export_html(nb, title: str | None = None, lang: str = "en",
                compress_figures: bool = True) -> HtmlPage:
    """Render an executed notebook as a static HTML page without code.

    Args:
        nb: an ``nbformat`` notebook node (executed); it is not modified.
        title: the page ``<title>``; defaults to the notebook's own metadata title.
        lang: the page language (``"en"`` or ``"es"``), used for ``<html lang>``.
        compress_figures: store PNG figures with a 256-colour palette when smaller
            (:func:`compress_png`); the executed notebook keeps the originals.

    Returns:
        :class:`HtmlPage` with the HTML text and the number of stderr outputs left out.
    """
    nb, dropped = _strip_stderr(nb)  # a deep copy: the caller's notebook is untouched
    if compress_figures:
        _compress_figures(nb)
    if title:
        nb.metadata["title"] = title
    body, _ = _exporter(lang).from_notebook_node(
        nb, resources={"collections_lab_css": _CSS.strip()}
    )
    body = add_navigation(body, lang)
    return HtmlPage(html=body, n_stderr_outputs=dropped)


_H2 = re.compile(r'<h2 id="([^"]+)"[^>]*>(.*?)</h2>', re.S)


def add_navigation(body: str, lang: str = "en") -> str:
    """Add the page grammar's navigation: a link back to the index (``../index.html``:
    a report lives in ``reports/<report>/``) at the top and a table of contents of the
    page's sections where the page top ends (after the title if it has none).

    >>> page = add_navigation('<main><h1 id="T">T</h1><h2 id="A-b">A b<a class="anchor-link" '
    ...                       'href="#A-b">¶</a></h2></main>')
    >>> '<a href="../index.html">' in page, '<a href="#A-b">A b</a>' in page
    (True, True)
    """
    from .. import i18n
    from . import page as _page

    entries = []
    for anchor, inner in _H2.findall(body):
        text = html.unescape(re.sub(r"<[^>]+>", "", re.sub(r'<a class="anchor-link".*?</a>',
                                                          "", inner))).strip()
        entries.append(f'<li><a href="#{anchor}">{html.escape(text)}</a></li>')
    back = (f'<nav class="cl-nav"><a href="../index.html">'
            f'{html.escape(i18n.t("pg.back", lang))}</a></nav>')
    body = body.replace("<main>", "<main>" + back, 1)
    if not entries:
        return body
    toc = (f'<nav class="cl-toc"><p>{html.escape(i18n.t("pg.contents", lang))}</p>'
           f'<ol>{"".join(entries)}</ol></nav>')
    if _page.TOC_MARK in body:
        return body.replace(_page.TOC_MARK, toc, 1)
    return re.sub(r"</h1>", lambda m: m.group(0) + toc, body, count=1)


class _Scanner(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        problems = self.problems
        values = dict(attrs)
        if tag == "script":
            src = values.get("src")
            what = f"src={src!r}" if src else "inline"
            problems.append(f"<script> element ({what}): reports must be static")
        if tag in _EMBEDDING:
            problems.append(f"<{tag}> element: reports must not embed other documents")
        if tag == "meta" and str(values.get("http-equiv", "")).lower() == "refresh":
            problems.append("<meta http-equiv='refresh'>: reports must not redirect")
        for name, value in attrs:
            name = name.lower()
            if name.startswith("on"):
                problems.append(f"<{tag} {name}=...> is an event handler: reports must "
                                "not run code")
            elif name == "srcdoc":
                problems.append(f"<{tag} srcdoc=...> embeds a document")
            elif name in _URL_ATTRS and value:
                # browsers ignore tabs, newlines and spaces inside a scheme ("java\tscript:")
                address = _CONTROL.sub("", value)
                if _SCRIPT_URL.match(address):
                    problems.append(f"<{tag} {name}={value[:40]!r}> is a script URL")
                elif _REMOTE.match(address) and not (tag in _LINKS and name == "href"):
                    problems.append(f"<{tag} {name}={value!r}> is fetched from the network")
                elif address.lower().startswith("data:") and not (
                        name == "src" and address.lower().startswith("data:image/")):
                    problems.append(f"<{tag} {name}=data:...> is a data URL that is not an "
                                    "embedded image")
            elif name == "style" and _CSS_REMOTE.search(value or ""):
                problems.append(f"<{tag} style=...> loads a remote resource")
        self._in_style = tag == "style"

    def handle_endtag(self, tag):
        if tag == "style":
            self._in_style = False

    def handle_data(self, data):
        if self._in_style and _CSS_REMOTE.search(data):
            self.problems.append("a stylesheet imports a remote resource")


def check_static(html: str) -> list[str]:
    """Problems that stop ``html`` from rendering offline and script-free ([] if none).

    Flags what could run code or reach the network when a stakeholder opens the page:

    - any ``<script>`` element (remote or inline), event-handler attributes
      (``onerror=``, ``onload=``, any ``on*=``), ``javascript:`` (and ``vbscript:``)
      addresses, ``srcdoc``, and ``<iframe>``, ``<object>``, ``<embed>`` (and other
      embedding) elements;
    - any remote address (``http://``, ``https://``, ``//``) in ``src``, ``href`` and the
      other address attributes of any element, ``data:`` addresses other than embedded
      images, a ``<meta>`` refresh, and CSS ``@import`` / ``url()`` of remote resources.
      Plain links (``<a href="https://...">``) are allowed: nothing is fetched when the
      page opens, and data-derived text cannot make one (it is escaped).

    >>> check_static('<img src=x onerror=alert(1)>')
    ['<img onerror=...> is an event handler: reports must not run code']
    """
    scanner = _Scanner()
    scanner.feed(html)
    scanner.close()
    return scanner.problems

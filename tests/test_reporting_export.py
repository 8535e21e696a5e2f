"""HTML export: no code, no scripts, nothing fetched from the network (no kernel needed)."""

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from collections_lab.reporting.export import check_static, export_html


def _executed_notebook():
    nb = new_notebook()
    nb.metadata["language_info"] = {"name": "python"}
    code = new_code_cell("secret_source_code = 42\nsecret_source_code")
    code.outputs = [
        new_output("execute_result", data={"text/plain": "42"}, execution_count=1),
        new_output("stream", name="stderr", text="FutureWarning: noise\n"),
        new_output("stream", name="stdout", text="visible text\n"),
    ]
    hidden = new_code_cell("x = 1")
    hidden.metadata["tags"] = ["remove-cell"]
    hidden.outputs = [new_output("stream", name="stdout", text="tagged away\n")]
    nb.cells = [new_markdown_cell("# Título del informe\n\nMath $x^2$ stays text."),
                code, hidden]
    return nb


def test_export_drops_code_prompts_stderr_and_tagged_cells():
    page = export_html(_executed_notebook(), title="Informe <b>", lang="es")
    body = page.html.split("<main>", 1)[1]
    assert "secret_source_code" not in page.html
    assert "In&nbsp;[" not in body and "Out[" not in body
    assert "visible text" in body and "42" in body
    assert "FutureWarning" not in page.html and page.n_stderr_outputs == 1
    assert "tagged away" not in page.html
    assert '<html lang="es">' in page.html
    assert "<title>Informe &lt;b&gt;</title>" in page.html
    assert check_static(page.html) == []
    assert page.size_bytes < 20_000  # the stock lab template inlines ~276 KB of CSS


def test_stock_lab_template_would_fetch_from_cdn():
    # Why export.py has its own template: nbconvert's default page is not offline.
    from nbconvert import HTMLExporter

    stock, _ = HTMLExporter(template_name="lab").from_notebook_node(_executed_notebook())
    problems = check_static(stock)
    assert any("require" in p for p in problems) and any("mathjax" in p for p in problems)
    ours = export_html(_executed_notebook()).html
    assert "cdnjs" not in ours and "<script" not in ours


@pytest.mark.parametrize(
    "snippet, expected",
    [
        ('<script src="https://cdn.example/x.js"></script>', "network"),
        ("<script>alert(1)</script>", "inline"),
        ('<link rel="stylesheet" href="//cdn.example/a.css">', "network"),
        ('<img src="http://example.com/a.png">', "network"),
        ("<style>@import url('https://fonts.example/f.css');</style>", "remote"),
        ('<div style="background: url(https://x.example/b.png)"></div>', "remote"),
        ("<img src=x onerror=alert(1)>", "event handler"),
        ('<body onload="alert(1)">', "event handler"),
        ('<svg><a href="x" onMouseOver="alert(1)">x</a></svg>', "event handler"),
        ('<a href="javascript:alert(1)">x</a>', "script URL"),
        ('<a href="java&#x09;script:alert(1)">x</a>', "script URL"),  # tab in the scheme
        ('<form action=" JavaScript:alert(1)"><button>go</button></form>', "script URL"),
        ('<iframe srcdoc="&lt;script&gt;alert(1)&lt;/script&gt;"></iframe>', "srcdoc"),
        ('<iframe src="page.html"></iframe>', "<iframe> element"),
        ('<object data="movie.swf"></object>', "<object> element"),
        ('<embed src="movie.swf">', "<embed> element"),
        ('<video poster="https://x.example/p.png"></video>', "network"),
        ('<input type="image" src="//x.example/b.png">', "network"),
        ('<base href="https://x.example/">', "network"),
        ('<a href="data:text/html,hello">x</a>', "data URL"),
        ('<meta http-equiv="Refresh" content="0; url=https://x.example">', "redirect"),
    ],
)
def test_check_static_flags_what_would_load_or_run(snippet, expected):
    problems = check_static(f"<html><body>{snippet}</body></html>")
    assert any(expected in p for p in problems)


def test_check_static_allows_plain_links_and_data_images():
    page = ('<a href="https://example.com">source</a>'
            '<img src="data:image/png;base64,AAAA" alt="x"><style>p{color:red}</style>')
    assert check_static(page) == []


def test_export_accepts_a_notebook_read_from_disk(tmp_path):
    path = tmp_path / "n.ipynb"
    nbformat.write(_executed_notebook(), path)
    page = export_html(nbformat.read(path, as_version=4))
    assert "Título del informe" in page.html


def test_figures_are_compressed_but_the_notebook_keeps_originals():
    import base64
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from PIL import Image

    fig, ax = plt.subplots(figsize=(6, 3))
    for k in range(4):
        ax.plot(range(50), [((i * (k + 1)) % 17) for i in range(50)], marker="o")
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    plt.close(fig)
    original = base64.b64encode(buf.getvalue()).decode()
    nb = new_notebook()
    cell = new_code_cell("plot")
    cell.outputs = [new_output("display_data", data={"image/png": original, "text/plain": "F"})]
    nb.cells = [cell]
    page = export_html(nb)
    assert nb.cells[0].outputs[0]["data"]["image/png"] == original
    embedded = page.html.split('src="data:image/png;base64,', 1)[1].split('"', 1)[0]
    assert len(embedded) < 0.7 * len(original)
    image = Image.open(io.BytesIO(base64.b64decode(embedded)))
    assert image.size == Image.open(io.BytesIO(buf.getvalue())).size
    assert export_html(nb, compress_figures=False).html.count(original) == 1


def test_cells_of_the_other_language_are_left_out():
    nb = new_notebook()
    en = new_markdown_cell("## Receivables\n\nEnglish prose.")
    en.metadata["tags"] = ["lang-en"]
    es = new_markdown_cell("## Cartera\n\nTexto en español.")
    es.metadata["tags"] = ["lang-es"]
    nb.cells = [new_markdown_cell("# Both"), en, es]
    english, spanish = export_html(nb, lang="en").html, export_html(nb, lang="es").html
    assert "English prose" in english and "Texto en español" not in english
    assert "Texto en español" in spanish and "English prose" not in spanish
    assert "Both" in english and "Both" in spanish  # untagged cells are in every language


def test_summary_title_per_language_and_figure_alt_text():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from collections_lab.reporting.notebook import figure_alt_text, summary_html

    title = {"en": "Cox model", "es": "Modelo de Cox"}
    assert "<h2>Modelo de Cox</h2>" in summary_html(["x"], "es", title=title)
    assert "<h2>Cox model</h2>" in summary_html(["x"], "en", title=title)
    fig, axes = plt.subplots(1, 2)
    axes[0].plot([0, 1], label="control")
    axes[0].plot([1, 0], label="<b>firm</b>")
    axes[0].legend()
    axes[0].set_ylabel("Proporción aún sin pagar")
    axes[0].set_xlabel("Días")
    axes[1].set_title("Calibración")
    axes[1].plot([0, 1])
    assert figure_alt_text(fig, "es") == (
        "Proporción aún sin pagar por Días (control, <b>firm</b>); Calibración")
    plt.close(fig)
    empty, _ = plt.subplots()
    assert figure_alt_text(empty, "es") == "Figura"
    plt.close(empty)

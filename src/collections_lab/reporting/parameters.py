"""Report parameters: parse them from the command line, check them against the notebook.

papermill only *logs* a parameter the notebook does not declare ("Passed unknown
parameter"), so a typo in a scheduled job silently runs with defaults. The runner checks
every name against the notebook's ``parameters`` cell first (via
``papermill.inspect_notebook``) and refuses to run with a message listing what the
notebook declares.

Example
-------
>>> parse_value("2025-06-30"), parse_value("true"), parse_value("12"), parse_value("null")
('2025-06-30', True, 12, None)
"""

from __future__ import annotations

import ast
import datetime as dt
import difflib
from pathlib import Path

import yaml

from ..data.dates import DateError, load_yaml, parse_date
from ..i18n import LANGUAGES, check_locale

#: Parameters holding a local file or directory: made absolute (relative to the caller's
#: working directory, since the kernel runs in the notebooks directory) and checked
#: before a kernel is started.
PATH_PARAMETERS = ("data", "strategies", "mapping")

#: Parameters holding a date: checked by :func:`~collections_lab.data.dates.parse_date`
#: (ISO ``YYYY-MM-DD`` only) before a kernel is started, and passed on as ISO text.
DATE_PARAMETERS = ("as_of", "assigned_at")


class ParameterError(ValueError):
    """A parameter the notebook does not declare, or a value that cannot be used."""


def parse_value(text: str):
    """Turn a command-line value into a Python value with YAML rules.

    Numbers, ``true``/``false``, ``null`` and ``[a, b]`` lists are typed; dates stay ISO
    strings (papermill passes strings, not date objects); anything else is a string.
    """
    try:
        value = load_yaml(text)
    except (yaml.YAMLError, ValueError):
        return text
    return normalise_value(value)


def normalise_value(value):
    """Make a parameter value papermill can write into a notebook (dates -> ISO text)."""
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, list | tuple):
        return [normalise_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): normalise_value(v) for k, v in value.items()}
    return value


def declared_parameters(notebook: str | Path) -> dict[str, dict]:
    """The parameters a notebook declares in its cell tagged ``parameters``.

    Returns ``{name: {"name", "default", "inferred_type_name", "help"}}`` in cell order;
    ``default`` is the source text of the value and ``help`` the line's ``#`` comment.

    Every top-level assignment in the cell counts. We parse the cell with :mod:`ast`
    instead of ``papermill.inspect_notebook`` because papermill's line regex gives up on
    a line whose comment contains ``=`` (``data = None  # None = bundled sample``) and
    would then report a declared name as unknown.
    """
    import nbformat

    path = Path(notebook)
    nb = nbformat.read(path, as_version=4)
    cells = [c for c in nb.cells
             if c.cell_type == "code" and "parameters" in c.metadata.get("tags", [])]
    if not cells:
        return {}
    source = cells[0].source
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise ParameterError(f"{path.name}: the parameters cell is not valid Python "
                             f"(line {exc.lineno}: {exc.msg})") from None
    lines = source.splitlines()
    declared: dict[str, dict] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        else:
            continue
        default = ast.get_source_segment(source, value) or ""
        line = lines[node.end_lineno - 1] if node.end_lineno else ""
        rest = line[node.end_col_offset:]
        comment = rest.split("#", 1)[1].strip() if "#" in rest else ""
        for target in targets:
            if isinstance(target, ast.Name):
                declared[target.id] = {
                    "name": target.id,
                    "default": default,
                    "inferred_type_name": type(_literal(value)).__name__,
                    "help": comment,
                }
    return declared


def _literal(node):
    try:
        return ast.literal_eval(node)
    except (ValueError, SyntaxError, TypeError):
        return None


def _iso_date(value, notebook: str, name: str = "as_of") -> str:
    try:
        return parse_date(value, name).date().isoformat()
    except DateError as exc:
        raise ParameterError(f"{notebook}: parameter {exc}") from None


def _looks_like_path(name: str, value) -> bool:
    if name not in PATH_PARAMETERS or not isinstance(value, str) or not value.strip():
        return False
    if "://" in value:
        return False
    if name == "mapping":  # a preset name (e.g. "sage") is not a path
        return value.endswith((".yml", ".yaml")) or "/" in value or "\\" in value
    return True


def _data_file_kind(path: Path):
    from ..data.loading import data_file_kind  # lazy: the loader pulls in pyarrow

    return data_file_kind(path)


def check_parameters(parameters: dict, declared: dict, notebook: str,
                     base_dir: str | Path | None = None) -> dict:
    """Validate ``parameters`` for ``notebook``; returns them normalised.

    Raises :class:`ParameterError` for a name the notebook does not declare (with the
    closest declared name), a path parameter naming a file that does not exist, a
    ``lang`` other than en/es, a ``locale`` babel does not know (``es_CO``, ``es_MX``,
    ...) and a date parameter (:data:`DATE_PARAMETERS`) that is not an ISO date
    (ambiguous or impossible dates are refused with the reason).
    Relative paths are resolved against ``base_dir`` (default: the current directory).
    """
    unknown = [name for name in parameters if name not in declared]
    if unknown:
        hints = []
        for name in unknown:
            close = difflib.get_close_matches(name, list(declared), n=1)
            hints.append(f"{name!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
        raise ParameterError(
            f"{notebook}: unknown parameter {', '.join(hints)}; the notebook declares "
            f"{', '.join(sorted(declared)) or 'no parameters'}"
        )
    base = Path(base_dir) if base_dir is not None else Path.cwd()
    out = {}
    for name, value in parameters.items():
        value = normalise_value(value)
        if name == "lang" and value not in LANGUAGES:
            raise ParameterError(f"{notebook}: parameter 'lang' must be one of {LANGUAGES}, "
                                 f"got {value!r}")
        if name == "locale" and value is not None:
            try:
                value = check_locale(value)
            except ValueError as error:
                raise ParameterError(f"{notebook}: parameter 'locale': {error}") from None
        if name in DATE_PARAMETERS and value is not None and value != "":
            value = _iso_date(value, notebook, name)
        if name == "mapping" and _looks_like_path(name, value) and not str(value).lower(
                ).endswith((".yml", ".yaml")):
            raise ParameterError(f"{notebook}: parameter 'mapping' must be a preset name or a "
                                 f"YAML mapping file (.yml or .yaml), got {value!r}")
        if _looks_like_path(name, value):
            path = Path(value).expanduser()
            if not path.is_absolute():
                path = base / path
            if not path.exists():
                raise ParameterError(f"{notebook}: parameter {name!r}: file not found: {path}")
            if name == "data" and path.is_file() and _data_file_kind(path) is None:
                raise ParameterError(
                    f"{notebook}: parameter 'data': {path} is not a data file; give a folder "
                    "of table files or a .csv, .txt, .tsv, .parquet, .xlsx, .duckdb or SQLite "
                    "file")
            value = str(path.resolve())
        out[name] = value
    return out

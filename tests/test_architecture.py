"""The package's floors point down, and no module reaches into another's private names.

Floors (README, "Architecture"): vocabulary (``i18n``: words, numbers, the one table
renderer) → data → model → analysis (survival → analytics | experiments → lab) →
presentation (reporting, cli). A module may import its own package and any lower floor;
two packages on the same floor (analytics and experiments) do not import each other. The
test reads every ``import`` statement in ``src/`` (including the ones inside functions), so
a lazy import cannot hide an upward dependency.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "collections_lab"

#: top-level part of a module name -> floor. Equal floors in different packages may not
#: import each other.
FLOORS = {
    "i18n": 0,
    "data": 1,
    "model": 2,
    "survival": 3.0, "analytics": 3.1, "experiments": 3.1, "lab": 3.2,
    "reporting": 4, "cli": 5,
}


def _modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).with_suffix("")
        parts = list(rel.parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts = parts[:-1]
        yield path, parts, is_package


def _imports(path: Path, parts: list[str], is_package: bool):
    """(line, target module parts, imported names) for every in-package import."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = parts if is_package else parts[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                target = base + (node.module.split(".") if node.module else [])
            elif node.module and node.module.split(".")[0] == "collections_lab":
                target = node.module.split(".")[1:]
            else:
                continue
            names = [a.name for a in node.names]
            if not target:  # `from . import x` at the top: x is the module
                for name in names:
                    yield node.lineno, [name], []
            else:
                yield node.lineno, target, names
        elif isinstance(node, ast.Import):
            for alias in node.names:
                bits = alias.name.split(".")
                if bits[0] == "collections_lab" and len(bits) > 1:
                    yield node.lineno, bits[1:], []


def _floor(parts: list[str]):
    return FLOORS.get(parts[0]) if parts else None


def test_every_module_has_a_floor():
    unplaced = sorted({"/".join(parts) for _, parts, _ in _modules()
                       if parts and _floor(parts) is None})
    assert not unplaced, f"modules outside the floors (add them to FLOORS or move them): {unplaced}"


def test_floors_only_point_down():
    upward = []
    for path, parts, is_package in _modules():
        mine = _floor(parts)
        if mine is None:  # the package's __init__: the public API on top of everything
            continue
        for line, target, _ in _imports(path, parts, is_package):
            theirs = _floor(target)
            if theirs is None or target[0] == parts[0]:
                continue
            if theirs > mine or (theirs == mine):
                upward.append(f"{path.relative_to(PACKAGE)}:{line} imports "
                              f"{'.'.join(target)} (floor {theirs} from floor {mine})")
    assert not upward, "imports that point up or sideways:\n" + "\n".join(upward)


def test_no_private_names_imported_from_other_modules():
    private = []
    for path, parts, is_package in _modules():
        for line, target, names in _imports(path, parts, is_package):
            same_package = target[:-1] == (parts if is_package else parts[:-1])
            bad = [n for n in names if n.startswith("_") and not n.startswith("__")]
            hidden_module = [p for p in target if p.startswith("_") and not p.startswith("__")]
            if bad or (hidden_module and not same_package and target[0] != parts[0]):
                private.append(f"{path.relative_to(PACKAGE)}:{line} "
                               f"from {'.'.join(target)} import {bad or names}")
    assert not private, "private names imported across modules:\n" + "\n".join(private)


@pytest.mark.parametrize("bad, expect", [
    ("from ..reporting.tables import format_frame", "imports reporting.tables"),
    ("from ..lab import strategy_lab", "imports lab"),
])
def test_the_checker_catches_an_upward_import(tmp_path, monkeypatch, bad, expect):
    """The checker itself: an analytics module importing presentation or the lab fails."""
    fake = tmp_path / "collections_lab"
    (fake / "analytics").mkdir(parents=True)
    (fake / "analytics" / "__init__.py").write_text("")
    (fake / "analytics" / "bad.py").write_text(bad + "\n")
    monkeypatch.setattr(f"{__name__}.PACKAGE", fake)
    with pytest.raises(AssertionError, match=expect):
        test_floors_only_point_down()

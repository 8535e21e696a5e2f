"""Every docstring example in the package runs with the test suite.

The examples themselves are collected by ``pytest --doctest-modules`` over
``src/collections_lab`` (``[tool.pytest.ini_options]`` in pyproject.toml: ``testpaths``
and ``addopts``), so no module list is typed by hand and a new module's examples run
without anyone adding it. These tests keep that set-up honest.

One docstring style with a runnable example on every public callable (issue 17): every
callable in ``collections_lab.__all__`` (functions, result classes, exceptions) has a
Google-style ``Example:`` section holding at least one ``>>>`` line; sections are Google
style (``Args:``, ``Returns:``, ``Example:``), never numpy's underlined headings.
"""

import importlib
import inspect
import pkgutil
import re
import tomllib
from pathlib import Path

import collections_lab
import collections_lab as cl

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = Path(collections_lab.__file__).parent


def test_the_test_command_collects_every_module_of_the_package():
    options = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"][
        "ini_options"]
    assert "src/collections_lab" in options["testpaths"]
    assert "--doctest-modules" in options["addopts"].split()
    assert "ELLIPSIS" in options["doctest_optionflags"]
    assert "pytest -n 2" in (ROOT / "scripts" / "test.sh").read_text()


def test_no_example_is_skipped():
    skipped = [f"{path.relative_to(PACKAGE)}:{n}"
               for path in sorted(PACKAGE.rglob("*.py"))
               for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
               if re.search(r"doctest:.*\+SKIP", line)]
    assert not skipped, f"docstring examples skipped with +SKIP: {skipped}"


def test_every_module_imports_cleanly():
    """``--doctest-modules`` imports every module: none may need an optional extra."""
    names = [m.name for m in pkgutil.walk_packages([str(PACKAGE)], "collections_lab.")]
    assert len(names) > 60
    for name in names:
        importlib.import_module(name)


def test_package_modules_have_examples():
    """Most modules show how they are used; the count only grows (113 examples in 25
    modules never ran before the package was collected as a whole)."""
    with_examples = [path for path in PACKAGE.rglob("*.py")
                     if ">>> " in path.read_text(encoding="utf-8")]
    assert len(with_examples) >= 75

#: An "Example:" heading, then (after any prose) a ">>>" line within the section.
EXAMPLE = re.compile(r"^(\s*)Examples?:\s*\n(?:\1\s+.*\n|\s*\n)*?\1\s+>>> ", re.M)
NUMPY_HEADING = re.compile(r"^\s*[A-Z][\w ]*\n\s*-{3,}\s*$", re.M)


def _public_callables():
    for name in cl.__all__:
        obj = getattr(cl, name)
        if callable(obj):
            yield name, obj


def test_every_public_callable_has_an_example_section():
    missing = [name for name, obj in _public_callables()
               if not EXAMPLE.search(inspect.getdoc(obj) or "")]
    assert missing == [], f"public callables without an 'Example:' section: {missing}"


def test_public_docstrings_use_one_style():
    numpy_style = [name for name, obj in _public_callables()
                   if NUMPY_HEADING.search(inspect.getdoc(obj) or "")]
    assert numpy_style == [], f"numpy-style (underlined) sections in: {numpy_style}"


def test_the_check_can_fail():
    def undocumented():
        """Does something."""

    def documented():
        """Does something.

        Example:
            >>> 1 + 1
            2
        """

    assert not EXAMPLE.search(inspect.getdoc(undocumented))
    assert EXAMPLE.search(inspect.getdoc(documented))
    assert NUMPY_HEADING.search("Text.\n\nParameters\n----------\nx : int\n")

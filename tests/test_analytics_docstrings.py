"""The examples in the analytics modules' docstrings run and give what they show."""

import doctest
import importlib

import pytest

MODULES = [
    "collections_lab.analytics.ledger",
    "collections_lab.analytics.kpis",
    "collections_lab.analytics.discipline",
    "collections_lab.analytics.segments",
    "collections_lab.analytics.alerts",
    "collections_lab.analytics.churn",
    "collections_lab.analytics.engagement",
    "collections_lab.analytics.health",
    "collections_lab.analytics.plots",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0

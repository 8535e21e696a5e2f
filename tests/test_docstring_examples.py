"""The examples in the core modules' docstrings run and give what they show."""

import doctest
import importlib

import pytest

MODULES = ["collections_lab", "collections_lab.i18n", "collections_lab.i18n.context",
           "collections_lab.i18n.catalogue", "collections_lab.i18n.numbers",
           "collections_lab.i18n.display",
           "collections_lab.model.strategies", "collections_lab.model.plans",
           "collections_lab.data.payment_times", "collections_lab.data.portfolio",
           "collections_lab.model.simulation", "collections_lab.model.behaviour", "collections_lab.model.sample_data",
           "collections_lab.data.schema", "collections_lab.survival.curves",
           "collections_lab.survival.rmst", "collections_lab.survival.aggregated",
           "collections_lab.survival.competing", "collections_lab.experiments.metrics",
           "collections_lab.experiments.synthetic", "collections_lab.experiments.readout",
           "collections_lab.model.economics", "collections_lab.data.validation",
           "collections_lab.survival._common"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0

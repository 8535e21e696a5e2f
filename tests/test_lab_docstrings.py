"""The examples in the strategy lab's and the economics module's docstrings run."""

import doctest
import importlib

import pytest

MODULES = ["collections_lab.model.economics", "collections_lab.lab", "collections_lab.lab.calibrate",
           "collections_lab.lab.compare", "collections_lab.lab.history",
           "collections_lab.lab.plots", "collections_lab.lab.priors",
           "collections_lab.lab.recommend", "collections_lab.lab.scenarios",
           "collections_lab.lab.sensitivity", "collections_lab.lab.to_experiment",
           "collections_lab.lab.twin"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0

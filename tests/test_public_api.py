"""The public API: every exported name resolves; heavy packages load only on use."""

import subprocess
import sys

import collections_lab as cl


def test_every_public_and_lazy_name_resolves():
    for name in cl.__all__:
        assert getattr(cl, name) is not None, name
    for name in list(cl._LAZY) + list(cl._SUBPACKAGES):
        assert getattr(cl, name) is not None, name


def test_importing_the_package_does_not_import_lifelines_or_sklearn():
    code = ("import sys, collections_lab; "
            "print(any(m.split('.')[0] in ('lifelines', 'sklearn') for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "False"


def test_all_lists_every_public_name_and_nothing_else():
    import types

    public = {n for n in dir(cl) if not n.startswith("_")
              and not isinstance(getattr(cl, n), types.ModuleType)}
    assert set(cl.__all__) == public
    assert len(cl.__all__) == len(set(cl.__all__))
    for name in ("kaplan_meier", "fit_cox", "kpi_snapshot", "compare_strategies", "load_sample",
                 "time_to_payment_report", "experiment_readout", "design_experiment",
                 "analyse_experiment", "analyze_experiment", "use_report_tables", "labelled"):
        assert name in cl.__all__, name


def test_british_spelling_is_the_name_and_the_us_one_its_alias():
    assert cl.analyze_experiment is cl.analyse_experiment
    assert cl.analyse_experiment.__name__ == "analyse_experiment"

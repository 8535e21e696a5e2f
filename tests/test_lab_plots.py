"""Lab figures render (Agg) in English and Spanish."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from collections_lab.lab.calibrate import recovery_table  # noqa: E402
from collections_lab.lab.compare import compare_strategies  # noqa: E402
from collections_lab.lab.plots import (  # noqa: E402
    plot_comparison,
    plot_recommendation,
    plot_recovery,
    plot_twin_check,
)
from collections_lab.lab.recommend import Constraints, StrategySpace, recommend  # noqa: E402
from collections_lab.lab.scenarios import calibrate_scenario, history_scenario  # noqa: E402
from collections_lab.lab.twin import Twin, check_twin  # noqa: E402
from collections_lab.model.simulation import FX_PER_USD  # noqa: E402
from collections_lab.model.strategies import example_strategies  # noqa: E402


@pytest.fixture(scope="module")
def parts():
    sc = history_scenario(n_customers=200, seed=2)
    cal = calibrate_scenario(sc, maxiter=15)
    twin = Twin.from_calibration(cal, fx=FX_PER_USD)
    comp = compare_strategies(twin, example_strategies(), replicates=3, n_jobs=1)
    space = StrategySpace(schedules=((3,), (-3, 7)), tones=("friendly",), channels=("email",),
                          personalised=(False,), discounts=(None,), installments=(None,))
    rec = recommend(twin, sc.default, space, Constraints(max_churn_increase=0.05),
                    screen_replicates=2, replicates=3, n_jobs=1)
    return cal, sc, comp, rec


@pytest.mark.parametrize("lang", ["en", "es"])
def test_figures(parts, lang):
    cal, sc, comp, rec = parts
    figs = [plot_twin_check(check_twin(cal, replicates=1), lang),
            plot_comparison(comp, lang=lang), plot_recommendation(rec, lang),
            plot_recovery(recovery_table(cal, sc.truth), lang)]
    for fig in figs:
        assert isinstance(fig, matplotlib.figure.Figure) and fig.axes
        plt.close(fig)
    assert figs[0].axes[0].get_xlabel() in ("Days since issue", "Días desde la emisión")

"""Every survival figure draws, returns a Figure and speaks Spanish when asked."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from collections_lab.model.simulation import simulate  # noqa: E402
from collections_lab.model.strategies import example_strategies  # noqa: E402
from collections_lab.survival import (  # noqa: E402
    PaymentDatePredictor,
    calibrate_predictions,
    cumulative_incidence,
    cure_fraction,
    expected_cash,
    fit_aft,
    fit_cox,
    kaplan_meier,
    plots,  # noqa: E402
    rmst,
)


@pytest.fixture(scope="module")
def pt():
    sim = simulate(400, example_strategies()["nudge_then_firm"], seed=2, start="2025-01-01",
                   end="2025-09-30")
    return sim.portfolio.payment_times(as_of="2025-12-31")


def test_all_plots(pt):
    km = kaplan_meier(pt, by="segment")
    preds = PaymentDatePredictor().fit(pt).predict(pt[pt["outcome"] == "open"])
    figs = [
        plots.plot_survival(kaplan_meier(pt, axis="due"), lang="es"),
        plots.plot_ph_check(km, lang="es"),
        plots.plot_cumulative_incidence(cumulative_incidence(pt, by="segment"), lang="es"),
        plots.plot_hazard_ratios(fit_cox(pt, ["segment", "payment_link"]), lang="es"),
        plots.plot_time_ratios(fit_aft(pt, ["payment_link"], distribution="weibull"), lang="es"),
        plots.plot_rmst(rmst(pt, 60, by="segment"), lang="es"),
        plots.plot_cure(cure_fraction(pt, by="segment"), km, lang="es"),
        plots.plot_calibration(calibrate_predictions(pt, "2025-08-31"), lang="es"),
        plots.plot_predictions(preds, lang="es"),
        plots.plot_expected_cash(expected_cash(preds, "2025-12-31", weeks=4), lang="es"),
    ]
    labels = " ".join(ax.get_xlabel() + ax.get_ylabel() for f in figs for ax in f.axes)
    assert "Días respecto al vencimiento" in figs[0].axes[0].get_xlabel()
    assert "sin pagar" in figs[0].axes[0].get_ylabel()
    assert "Days" not in labels
    for f in figs:
        assert isinstance(f, plt.Figure)
        plt.close(f)


def test_results_plot_themselves_on_an_axes_without_touching_global_style(pt):
    import matplotlib

    from collections_lab.survival import rmst_difference

    before = dict(matplotlib.rcParams)
    plt.close("all")
    results = [kaplan_meier(pt, by="segment"), cumulative_incidence(pt, by="segment"),
               rmst(pt, 60, by="segment"), fit_cox(pt, ["segment"]),
               rmst_difference(pt, 60, by="segment")]
    for result in results:
        ax = result.plot()
        assert isinstance(ax, matplotlib.axes.Axes), type(result).__name__
        assert ax.has_data() or ax.lines or ax.collections
    # one open pyplot figure per .plot(): the notebook shows each once
    assert len(plt.get_fignums()) == len(results)
    fig, given = plt.subplots()
    assert results[0].plot(ax=given) is given
    plt.close("all")
    # a plot_* function returns its figure closed to pyplot (shown once, as the value)
    fig = plots.plot_survival(results[0])
    assert fig.axes and not plt.get_fignums()
    assert dict(matplotlib.rcParams) == before  # no sns.set_theme on the analyst's session

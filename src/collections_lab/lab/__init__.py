"""The strategy lab: a digital twin of a portfolio and decisions made on it.

- :mod:`.calibrate`: fit the behaviour model to the history (with standard errors and
  visible priors for what the history cannot identify);
- :mod:`.twin`: the portfolio's own invoices and customers simulated under any strategy
  (common random numbers), and the check of the twin against history;
- :mod:`.compare`: Monte Carlo comparison of strategies with money consequences
  (:mod:`collections_lab.economics`);
- :mod:`.recommend`: search a strategy space per segment under constraints;
- :mod:`.to_experiment`: turn a recommendation into an experiment design;
- :mod:`.plots`: figures for the report.
"""

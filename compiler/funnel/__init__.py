"""Funnel analytics: the SQL queries (one definition each, rendered per dialect), `rates` over
exports with Jeffreys intervals, and `fit`, which turns rates into a simulation config.

    queries.py       chain transitions, rule states, milestones, the objective rate
    churn_queries.py monthly subscription churn, one-off purchase churn (per person)
    hazard_queries.py the churn-hazard cells; revenue_queries.py revenue per currency
    fragments.py     shared CTEs (persons, ev, bounds, the state chain)
    builder.py       Query and its rendering; dialects.py the dialect registry; render.py the
                     registry of queries
    rates.py, results.py, intervals.py, fit.py, hazard_fit.py   the libraries behind
                     `trackplan rates` and `trackplan fit`

Every event and property name comes from the plan (its chain, rule states, milestones and its
forecast, churn, revenue and hazard sections); a query whose declaration is missing raises
NotApplicable with one line saying why.
"""

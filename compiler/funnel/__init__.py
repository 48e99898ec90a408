"""Funnel analytics: the SQL queries (one definition each, rendered per dialect), `rates` over
exports with Jeffreys intervals, and `fit`, which turns rates into a simulation config.

    queries.py, churn_queries.py, hazard_queries.py, prd_queries.py   the query definitions
    fragments.py   shared CTEs (persons, ev, bounds, the state chain)
    builder.py     Query and its rendering; dialects.py the dialect registry; render.py the
                   registry of queries
    rates.py, intervals.py, fit.py   the libraries behind `trackplan rates` and `trackplan fit`
"""

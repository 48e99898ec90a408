"""Models of who buys, who churns and what they are worth (PRD §6, §7, §9; issue 14).

Everything here needs the `models` extra (scikit-learn, statsmodels, scipy); the core install
never imports it.
"""

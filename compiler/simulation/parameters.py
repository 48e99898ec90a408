"""Parameters of the forecast: their names for `--set`, overrides, and posterior draws.

A parameter is a transition (`TO|FROM`, or the short alias the plan gives it, such as
p_purchase), `entry` (the entry rate, an assumption) or `hazard.base`. Each transition carries
its uncertainty in one of three ways, tried in order: a Beta(alpha, beta) posterior (what `fit`
writes), a 95% interval (ci_low, ci_high) turned into a Beta with the same mean and a standard
deviation of (ci_high - ci_low) / 3.92, or nothing (the rate is taken as known and only sampling
noise remains).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from compiler.diagnostics import did_you_mean
from compiler.simulation.model import SimConfig, SimTransition

ENTRY = "entry"
HAZARD_BASE = "hazard.base"
Z95 = 1.959963984540054


class UnknownParameter(KeyError):
    def __str__(self) -> str:
        return str(self.args[0])


def aliases(config: SimConfig) -> dict[str, str]:
    """alias -> transition name, for the transitions the config has."""
    return {t.alias: n for n, t in config.transitions.items() if t.alias}


def parameter_names(config: SimConfig) -> list[str]:
    names = [ENTRY] if config.entry is not None else []
    names += [*aliases(config), *config.transitions]
    return names + ([HAZARD_BASE] if config.hazard is not None else [])


def resolve_name(config: SimConfig, name: str) -> str:
    """An alias (p_purchase), a transition (S9|S8), `entry` or `hazard.base` -> its key."""
    short = aliases(config)
    if name in short:
        return short[name]
    if name in config.transitions or name in config.needed():
        return name  # a needed transition nobody gave a rate can be set here
    if (name == ENTRY and config.entry is not None) or (
        name == HAZARD_BASE and config.hazard is not None
    ):
        return name
    known = parameter_names(config)
    hint = did_you_mean(name, known)
    raise UnknownParameter(f"unknown parameter '{name}'.{hint} Known: {', '.join(known)}")


def parse_override(config: SimConfig, text: str) -> tuple[str, float]:
    """`p_purchase=0.12` or `S9|S8=0.12` -> ("S9|S8", 0.12); ValueError with a clear message."""
    name, sep, value = text.partition("=")
    if not sep:
        raise ValueError(f"--set {text!r}: expected NAME=VALUE, for example TO|FROM=0.12")
    target = resolve_name(config, name.strip())
    try:
        rate = float(value)
    except ValueError:
        raise ValueError(f"--set {text!r}: {value!r} is not a number") from None
    if not 0.0 <= rate <= 1.0:
        raise ValueError(f"--set {text!r}: a probability must be within [0, 1]")
    return target, rate


def current(config: SimConfig, name: str) -> float:
    if name == ENTRY and config.entry is not None:
        return config.entry.rate
    if name == HAZARD_BASE and config.hazard is not None:
        return config.hazard.base
    return config.transitions[name].rate


def with_rate(config: SimConfig, name: str, rate: float) -> SimConfig:
    """The config with one rate moved, keeping the shape of its uncertainty around the new rate."""
    rate = min(max(rate, 0.0), 1.0)
    if name == ENTRY and config.entry is not None:
        return replace(config, entry=replace(config.entry, rate=rate))
    if name == HAZARD_BASE and config.hazard is not None:
        return replace(config, hazard=replace(config.hazard, base=min(rate, config.hazard.max)))
    if name not in config.transitions:
        to, _, frm = name.partition("|")
        return config.with_transition(SimTransition(name, frm, to, rate, "set"))
    t = config.transitions[name]
    moved = replace(t, rate=rate, source="set")
    if t.alpha is not None and t.beta is not None:
        kappa = t.alpha + t.beta
        moved = replace(moved, alpha=max(rate * kappa, 1e-9), beta=max((1 - rate) * kappa, 1e-9))
    if t.ci_low is not None and t.ci_high is not None:
        shift = rate - t.rate
        low, high = max(t.ci_low + shift, 0.0), min(t.ci_high + shift, 1.0)
        moved = replace(moved, ci_low=min(low, rate), ci_high=max(high, rate))
    return config.with_transition(moved)


def apply_overrides(config: SimConfig, overrides: dict[str, float]) -> SimConfig:
    for name, rate in overrides.items():
        config = with_rate(config, resolve_name(config, name), rate)
    return config


def beta_shape(t: SimTransition) -> tuple[float, float] | None:
    """Beta(alpha, beta) for a transition's rate, or None when it has no uncertainty."""
    if t.alpha is not None and t.beta is not None:
        return t.alpha, t.beta
    if t.ci_low is None or t.ci_high is None or t.ci_high <= t.ci_low:
        return None
    mean = min(max(t.rate, 1e-6), 1 - 1e-6)
    sd = (t.ci_high - t.ci_low) / (2 * Z95)
    kappa = mean * (1 - mean) / (sd * sd) - 1
    if kappa <= 0:  # an interval wider than any Beta with this mean allows: the flattest one
        kappa = 1.0
    return mean * kappa, (1 - mean) * kappa


def mean_rate(t: SimTransition) -> float:
    """The rate the draws average to: the posterior mean when there is one."""
    if t.alpha is not None and t.beta is not None:
        return t.alpha / (t.alpha + t.beta)
    return t.rate


def draw_rates(t: SimTransition, runs: int, rng: np.random.Generator) -> np.ndarray:
    """One rate per run: posterior draws, or the point rate repeated."""
    shape = beta_shape(t)
    if shape is None:
        return np.full(runs, t.rate)
    return rng.beta(shape[0], shape[1], size=runs)

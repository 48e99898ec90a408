"""The forecast over random configs (hypothesis): random chain length and ids, random rates
(some with posteriors), rule states after random chain states, a hazard with random covariates,
with or without an entry rate. No later outcome exceeds the one it is conditioned on, and the
exact expectation equals an independent computation."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compiler.simulation.forecast import expected, simulate
from compiler.simulation.model import (
    SimConfig,
    SimCovariate,
    SimEntry,
    SimHazard,
    SimOutcome,
    SimState,
    SimTransition,
)
from compiler.simulation.parse import parse_config
from compiler.simulation.sweep import sweep

ids = st.from_regex(r"[A-Za-z][A-Za-z0-9_]{0,6}", fullmatch=True)
unit = st.floats(0.0, 1.0, allow_nan=False)


@st.composite
def configs(draw: st.DrawFn) -> SimConfig:
    n = draw(st.integers(1, 7))
    names = draw(st.lists(ids, min_size=n + 3, max_size=n + 3, unique=True))
    chain = [SimState(names[i], f"state {i}", f"event_{i}") for i in range(n)]
    transitions = {}
    for a, b in zip(chain, chain[1:], strict=False):
        rate = draw(unit)
        shape = draw(st.sampled_from(["point", "posterior"]))
        extra = {}
        if shape == "posterior":  # as fit writes them: Jeffreys, alpha and beta >= 1/2
            k = draw(st.integers(0, 500))
            alpha, beta = rate * k + 0.5, (1 - rate) * k + 0.5
            extra, rate = {"alpha": alpha, "beta": beta}, alpha / (alpha + beta)
        transitions[f"{b.id}|{a.id}"] = SimTransition(f"{b.id}|{a.id}", a.id, b.id, rate, **extra)
    kept_after = chain[draw(st.integers(0, n - 1))].id
    kept = SimState(names[n], "kept", None, "active_within", kept_after, 30)
    transitions[f"{kept.id}|{kept_after}"] = SimTransition(
        f"{kept.id}|{kept_after}", kept_after, kept.id, draw(unit)
    )
    lost = SimState(names[n + 1], "lost", None, "inactive_for", None, 30)
    covs = {
        f"c{i}": SimCovariate(f"c{i}", "x", draw(st.floats(-1, 1)), draw(unit))
        for i in range(draw(st.integers(0, 3)))
    }
    top = draw(unit)
    hazard = SimHazard(
        lost.id, chain[draw(st.integers(0, n - 1))].id, None, 30, draw(unit) * top, top, covs
    )
    states = (*chain, kept, lost)
    outcomes = tuple(SimOutcome(f"o_{s.id}", s.name, s.id) for s in states)
    entry = SimEntry("impressions", draw(unit)) if draw(st.booleans()) else None
    objective = outcomes[draw(st.integers(0, len(outcomes) - 1))].name
    return SimConfig("P", "1", states, transitions, outcomes, objective, entry, hazard)


def _independent_expectation(config: SimConfig, cohort: float) -> dict[str, float]:
    """Written from the semantics, not from forecast.py: reach products and the hazard mixture."""

    def mean(t: SimTransition) -> float:
        return t.alpha / (t.alpha + t.beta) if t.alpha is not None and t.beta else t.rate

    reach, n = {}, cohort * (config.entry.rate if config.entry else 1.0)
    chain = config.chain_states
    reach[chain[0].id] = n
    for a, b in zip(chain, chain[1:], strict=False):
        n *= mean(config.transitions[f"{b.id}|{a.id}"])
        reach[b.id] = n
    h = config.hazard
    assert h is not None
    churn = 0.0
    names = list(h.covariates)
    for flags in itertools.product((True, False), repeat=len(names)):
        w, extra = 1.0, 0.0
        for name, holds in zip(names, flags, strict=True):
            c = h.covariates[name]
            w *= c.share if holds else 1 - c.share
            extra += c.extra if holds else 0.0
        churn += w * min(max(h.base + extra, 0.0), h.max)
    out = {}
    for o in config.outcomes:
        s = config.state(o.state)
        assert s is not None
        if s.event is not None:
            out[o.name] = reach[s.id]
        elif s.id == h.state:
            out[o.name] = reach[h.at_risk] * churn
        else:
            out[o.name] = reach[s.after or ""] * mean(config.transitions[f"{s.id}|{s.after}"])
    return out


@settings(max_examples=150, deadline=None)
@given(config=configs(), cohort=st.integers(0, 10**6), seed=st.integers(0, 2**32 - 1))
def test_no_outcome_exceeds_the_one_it_is_conditioned_on(config, cohort, seed) -> None:
    parse_config(config.to_json())  # a valid config, and it round-trips
    forecast = simulate(config, cohort, 40, seed)
    exact = expected(config, cohort)
    assert exact == pytest.approx(_independent_expectation(config, cohort), rel=1e-9, abs=1e-9)
    for counts in (forecast.outcomes, {k: np.array([v]) for k, v in exact.items()}):
        chain = config.chain_states
        for a, b in zip(chain, chain[1:], strict=False):
            assert (counts[f"o_{b.id}"] <= counts[f"o_{a.id}"] + 1e-9).all()
        assert (counts[f"o_{chain[0].id}"] <= cohort + 1e-9).all()
        kept, lost = config.states[-2], config.states[-1]
        assert (counts[f"o_{kept.id}"] <= counts[f"o_{kept.after}"] + 1e-9).all()
        assert config.hazard is not None
        assert (counts[f"o_{lost.id}"] <= counts[f"o_{config.hazard.at_risk}"] + 1e-9).all()
        assert all((v >= 0).all() for v in counts.values())


@settings(max_examples=25, deadline=None)
@given(config=configs(), seed=st.integers(0, 1000))
def test_monte_carlo_means_converge_to_the_expectation(config, seed) -> None:
    cohort = 20_000
    forecast = simulate(config, cohort, 4000, seed)
    exact = expected(config, cohort)
    for name, counts in forecast.outcomes.items():
        # a rare outcome may never occur in the sample (sample sd 0): a count's variance is at
        # least about its mean when the probability is small, so bound the error by that too
        sem = max(counts.std(), np.sqrt(exact[name])) / np.sqrt(forecast.runs)
        assert abs(counts.mean() - exact[name]) <= 6 * sem + 1e-6, name


@settings(max_examples=30, deadline=None)
@given(config=configs())
def test_sweep_ranks_are_consistent(config) -> None:
    rows = sweep(config, 10_000, 5, seed=1)
    for change in ("+10%", "+1pt"):
        mine = [r for r in rows if r["change"] == change]
        gains = [r["expected_gain"] for r in mine]
        scale = max([abs(g) for g in gains] + [abs(expected(config, 10_000)[config.objective])])
        for a, b in zip(mine, mine[1:], strict=False):  # best first, ranks never go down
            assert a["expected_gain"] >= b["expected_gain"] - 1e-9 * max(scale, 1e-300)
            assert a["rank"] <= b["rank"]
        for i, r in enumerate(mine):  # competition ranking: rank = 1 + rows strictly ahead
            ahead = [x for x in mine if x["rank"] < r["rank"]]
            assert r["rank"] == len(ahead) + 1 and r["rank"] <= i + 1
            for other in r["tied_with"]:
                peer = next(x for x in mine if x["lever"] == other)
                assert peer["rank"] == r["rank"]

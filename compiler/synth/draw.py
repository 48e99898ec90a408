"""Everyone's latent facts at once, with numpy: how far along the chain, when, and what follows.

- chain: everyone enters the first state at their arrival; a person at chain[k-1] reaches
  chain[k] with the config's P(chain[k] | chain[k-1]), a gap later (log-uniform, 5 s to 2 days).
- retention (each active_within state R after A): among people who reached A, the config's
  P(R | A) are retained, drawn among those whose churn leaves room for R's events (someone
  silent from their anchor on cannot come back; the others are retained a little more often,
  so the rate over everyone who reached A stays the config's).
- churn (the hazard, or an inactive_for state with a rate): among people who reached `at_risk`,
  each covariate holds with its share (independently), unless the plan decides it (a covariate
  whose event marks a state up to the anchor, with no test, holds for everyone who reached that
  state); P(churn) = clip(base + the extras of the covariates that hold, 0, max).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from compiler.synth.timeline import DAY_US, SECOND_US, START_US
from compiler.synth.world import Quiet, Retention, World

GAP_S = (5.0, 2 * 86_400.0)  # chain gaps, log-uniform between these (seconds)


@dataclass(frozen=True)
class People:
    size: int
    arrival_us: np.ndarray  # int64, time of the first state's event
    reached: np.ndarray  # int16, index of the last chain state reached (-1: the plan has none)
    times: np.ndarray  # int64 (size, chain): planned time of each state reached, -1 otherwise
    retained: np.ndarray  # bool (size, retention states)
    facts: tuple[np.ndarray, ...]  # per churn model: bool (size, covariates)
    churn_p: np.ndarray  # float (size, churn models); nan for people not at risk
    churned: np.ndarray  # bool (size, churn models)


def draw_people(world: World, users: int, days: int, rng: np.random.Generator) -> People:
    n, chain = users, len(world.chain)
    arrival = START_US + (rng.random(n) * days * DAY_US).astype(np.int64)
    reached = np.full(n, 0 if chain else -1, dtype=np.int16)
    alive = np.ones(n, dtype=bool)
    uniforms = rng.random((max(chain - 1, 1), n))
    for k in range(1, chain):
        alive &= uniforms[k - 1] < world.rates[k]
        reached[alive] = k
    low, high = np.log(GAP_S[0]), np.log(GAP_S[1])
    gaps = (np.exp(rng.uniform(low, high, size=(n, chain))) * SECOND_US).astype(np.int64)
    gaps[:, :1] = 0
    times = arrival[:, None] + np.cumsum(gaps, axis=1)
    times[np.arange(chain)[None, :] > reached[:, None]] = -1
    facts, churn_p = [], np.full((n, len(world.quiet)), np.nan)
    churned = np.zeros((n, len(world.quiet)), dtype=bool)
    for q, model in enumerate(world.quiet):
        at_risk = reached >= model.at_risk
        held = _facts(world, model, reached, at_risk, rng)
        extras = np.array([c.extra for c in model.covariates], dtype=float)
        p = np.clip(model.base + (held * extras).sum(axis=1), 0.0, model.max)
        churn_p[:, q] = np.where(at_risk, p, np.nan)
        churned[:, q] = at_risk & (rng.random(n) < p)
        facts.append(held)
    retained = np.zeros((n, len(world.retention)), dtype=bool)
    for j, rule in enumerate(world.retention):
        eligible = reached >= rule.after
        feasible = eligible & ~_silenced(world, rule, reached, churned)
        share = rule.rate * eligible.sum() / max(int(feasible.sum()), 1)
        retained[:, j] = feasible & (rng.random(n) < min(share, 1.0))
    return People(n, arrival, reached, times, retained, tuple(facts), churn_p, churned)


def _silenced(
    world: World, rule: Retention, reached: np.ndarray, churned: np.ndarray
) -> np.ndarray:
    """People whose churn leaves no room for the rule's events: they churned in a model whose
    silence (from their anchor on) covers all of them, and they reached `after` no earlier
    than their anchor."""
    out = np.zeros(len(reached), dtype=bool)
    for q, model in enumerate(world.quiet):
        if not rule.events <= model.silent:
            continue
        anchor = np.where(reached >= model.anchor, model.anchor, model.at_risk)
        out |= churned[:, q] & (rule.after >= anchor)
    return out


def _facts(
    world: World, model: Quiet, reached: np.ndarray, at_risk: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    out = np.zeros((len(reached), len(model.covariates)), dtype=bool)
    marks = {s.event: k for k, s in enumerate(world.chain)}
    for j, cov in enumerate(model.covariates):
        k = marks.get(cov.event)
        if cov.test is None and k is not None and k <= model.anchor:
            # The plan decides: the state's own event counts when it comes by the anchor time.
            by_anchor = (k <= model.at_risk) | (reached >= model.anchor)
            out[:, j] = at_risk & (reached >= k) & by_anchor
        else:
            out[:, j] = at_risk & (rng.random(len(reached)) < cov.share)
    return out

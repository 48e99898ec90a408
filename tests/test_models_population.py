"""The per-person Monte Carlo against closed forms and a plain per-person Python loop that
replays the same random stream."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from compiler.cli.main import cli
from compiler.models.hazard import HazardError, HazardFit
from compiler.models.population import (
    Population,
    PopulationResult,
    Propensity,
    simulate_population,
)


def _hazard(
    names: tuple[str, ...], coef: tuple[float, ...], baseline: tuple[float, ...]
) -> HazardFit:
    k = len(names)
    return HazardFit(
        names=names,
        coef=coef,
        std_err=(0.1,) * k,
        hazard_ratio=tuple(math.exp(c) for c in coef),
        hr_low=(1.0,) * k,
        hr_high=(1.0,) * k,
        periods=tuple(range(len(baseline))),
        baseline=baseline,
        groups=tuple(range(len(baseline))),
        n_persons=1,
        n_rows=1,
        n_events=1,
        loglik=0.0,
    )


ONE = Population(np.zeros((1, 1)), ("unused",))


def test_constant_hazard_and_purchase_closed_forms() -> None:
    h, p, n, days, runs = 0.03, 0.1, 5000, 25, 200
    result = simulate_population(
        _hazard((), (), (h,)),
        Propensity((), (), math.log(p / (1 - p))),
        2.5,
        ONE,
        n,
        days,
        runs,
        seed=11,
    )
    t = np.arange(days)
    alive = n * (1 - h) ** t  # expected active at the start of day t
    q = result.quantiles("active")
    assert (q["p5"] <= alive).all() and (alive <= q["p95"]).all()
    # Mean over 200 runs within 4 standard errors of the binomial mean, every day.
    se = np.sqrt(n * (1 - h) ** t * (1 - (1 - h) ** t) / runs) + 1e-9
    assert (np.abs(result.active.mean(axis=0) - alive) <= 4 * se + 1e-9).all()
    # The p5..p95 band is about the binomial's: 2 x 1.645 sd, within 25% from day 5 on.
    sd = np.sqrt(n * (1 - h) ** t * (1 - (1 - h) ** t))
    width = q["p95"] - q["p5"]
    assert np.all(np.abs(width[5:] / (2 * 1.645 * sd[5:]) - 1) < 0.25)
    bought = alive * p
    qb = result.quantiles("purchases")
    assert (qb["p5"] <= bought).all() and (bought <= qb["p95"]).all()
    total = bought.sum()
    assert result.purchases.sum(axis=1).mean() == pytest.approx(total, rel=0.01)
    assert result.revenue.sum(axis=1).mean() == pytest.approx(2.5 * total, rel=0.01)
    churned = alive * h
    assert result.churned.sum(axis=1).mean() == pytest.approx(churned.sum(), rel=0.01)
    # Bookkeeping: active tomorrow = active today - churned today.
    assert (result.active[:, 1:] == result.active[:, :-1] - result.churned[:, :-1]).all()


def test_covariate_hazard_closed_form() -> None:
    # Fixed covariates, a baseline that changes by day: E[active_t] = N x mean over the
    # population's rows of prod_{s<t} (1 - h_i(s)), as rows are drawn with replacement.
    rows = np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 3.0], [0.0, 0.0]])
    pop = Population(rows, ("a", "b"))
    base = tuple(np.linspace(0.01, 0.05, 10))
    hz = _hazard(("a", "b"), (0.4, 0.2), base)
    n, runs = 4000, 100
    result = simulate_population(hz, None, 1.0, pop, n, 10, runs, seed=3)
    per_day = np.array([[hz.hazard([d], [row])[0] for d in range(10)] for row in rows])
    survive = np.cumprod(np.hstack([np.ones((4, 1)), 1 - per_day[:, :-1]]), axis=1)
    want = n * survive.mean(axis=0)
    got = result.active.mean(axis=0)
    assert np.all(np.abs(got - want) < 4 * np.sqrt(n / runs) + 1e-9), (got, want)
    assert result.purchases.sum() == 0 and result.revenue.sum() == 0


def _loop(
    hazard: HazardFit,
    propensity: Propensity,
    revenue: float,
    population: Population,
    persons: int,
    days: int,
    runs: int,
    seed: int,
) -> dict[str, list[list[float]]]:
    """A plain per-person loop over the documented random stream."""
    rng = np.random.default_rng(seed)
    names = list(population.names)
    out: dict[str, list[list[float]]] = {
        k: [] for k in ("purchases", "revenue", "active", "churned")
    }
    for _ in range(runs):
        people = [
            {n: float(v) for n, v in zip(names, population.X[i], strict=True)}
            for i in rng.integers(0, len(population.X), persons)
        ]
        alive = list(range(persons))
        day_rows: dict[str, list[float]] = {k: [] for k in out}
        for d in range(days):
            u_buy, e_churn = rng.random(len(alive)), rng.standard_exponential(len(alive))
            bought = churned = 0
            staying = []
            for k, i in enumerate(alive):
                x = people[i]
                logit = propensity.intercept + sum(
                    c * x[n] for n, c in zip(propensity.names, propensity.coef, strict=True)
                )
                buys = u_buy[k] < 1.0 / (1.0 + math.exp(-logit))
                base = hazard.baseline[min(d, len(hazard.baseline) - 1)]
                cumulative = 0.0  # -log(1 - h): churn iff the exponential draw is below it
                if base > 0:
                    eta = math.log(-math.log1p(-base)) + sum(
                        c * x[n] for n, c in zip(hazard.names, hazard.coef, strict=True)
                    )
                    cumulative = math.exp(eta)
                bought += buys
                if e_churn[k] < cumulative:
                    churned += 1
                else:
                    staying.append(i)
                for c in population.clock:
                    x[c] = 1.0 if buys else x[c] + 1.0
            day_rows["active"].append(len(alive))
            day_rows["purchases"].append(bought)
            day_rows["revenue"].append(bought * revenue)
            day_rows["churned"].append(churned)
            alive = staying
        for key in out:
            out[key].append(day_rows[key])
    return out


def test_matches_a_per_person_loop_on_the_same_stream() -> None:
    rng = np.random.default_rng(5)
    rows = np.column_stack([rng.integers(0, 2, 50), rng.integers(0, 8, 50), rng.normal(size=50)])
    pop = Population(rows, ("failed", "days_since_activity", "score"), ("days_since_activity",))
    base = (0.02, 0.0, 0.03, 0.025, 0.02, 0.015)  # a day without churn in the baseline
    hz = _hazard(("failed", "days_since_activity"), (0.6, 0.08), base)
    prop = Propensity(("days_since_activity", "score"), (-0.15, 0.5), -1.5)
    args = (hz, prop, 7.5, pop, 400, 15, 3, 99)
    fast = simulate_population(*args)
    slow = _loop(*args)
    for key in ("purchases", "revenue", "active", "churned"):
        assert fast.metric(key).tolist() == slow[key], key
    assert fast.churned[:, 1].sum() == 0  # baseline 0 on day 1
    assert fast.purchases.sum() > 100 and fast.churned.sum() > 50


def test_seeded_and_deterministic() -> None:
    hz = _hazard((), (), (0.05,))
    prop = Propensity((), (), -2.0)
    a = simulate_population(hz, prop, 1.0, ONE, 1000, 10, 5, seed=1)
    b = simulate_population(hz, prop, 1.0, ONE, 1000, 10, 5, seed=1)
    c = simulate_population(hz, prop, 1.0, ONE, 1000, 10, 5, seed=2)
    assert a.to_json() == b.to_json()
    assert a.to_json() != c.to_json()


def test_result_json() -> None:
    result = simulate_population(
        _hazard((), (), (0.05,)), Propensity((), (), -2.0), 3.0, ONE, 500, 4, 21, seed=4
    )
    data = result.to_json()
    assert [d["day"] for d in data["daily"]] == [0, 1, 2, 3]
    q = result.quantiles("active")
    for d, row in enumerate(data["daily"]):
        assert row["active"]["p50"] == q["p50"][d]
        assert row["revenue"]["mean"] == pytest.approx(3.0 * row["purchases"]["mean"])
        assert row["active"]["p5"] <= row["active"]["p50"] <= row["active"]["p95"]
    totals = result.purchases.sum(axis=1)
    assert data["totals"]["purchases"]["mean"] == pytest.approx(totals.mean())
    assert isinstance(result, PopulationResult) and data["runs"] == 21


def test_propensity_json() -> None:
    prop = Propensity(("a", "b"), (0.5, -1.0), -2.0)
    assert Propensity.from_json(prop.to_json()) == prop
    assert prop.probability([[0.0, 0.0]])[0] == pytest.approx(1 / (1 + math.exp(2.0)))
    with pytest.raises(HazardError, match="not a propensity file"):
        Propensity.from_json({"format": "x"})
    with pytest.raises(HazardError, match="missing or bad field"):
        Propensity.from_json({"format": "trackplan-propensity/1", "covariates": []})


@pytest.mark.parametrize(
    ("population", "message"),
    [
        (Population(np.zeros((3, 1)), ("other",)), "lacks"),
        (Population(np.zeros((3, 1)), ("a",), ("nope",)), "clock"),
        (Population(np.full((3, 1), np.nan), ("a",)), "NaN"),
        (Population(np.zeros((0, 1)), ("a",)), "non-empty"),
    ],
)
def test_refuses_inconsistent_inputs(population: Population, message: str) -> None:
    hz = _hazard(("a",), (0.1,), (0.05,))
    with pytest.raises(HazardError, match=message):
        simulate_population(hz, None, 1.0, population, 10, 5)


# --- `trackplan simulate --persons` -------------------------------------------------------


def _files(tmp: Path) -> tuple[Path, Path]:
    hz = _hazard(("failed",), (0.7,), (0.05, 0.02, 0.01))
    data = hz.to_json() | {
        "population": {"names": ["failed"], "rows": [[0.0], [1.0]], "counts": [3, 1]}
    }
    hazard = tmp / "hazard.json"
    hazard.write_text(json.dumps(data), encoding="utf-8")
    prop = tmp / "propensity.json"
    prop.write_text(
        json.dumps(Propensity(("failed",), (-1.0,), -2.0).to_json() | {"revenue_per_purchase": 4}),
        encoding="utf-8",
    )
    return hazard, prop


def test_simulate_persons_cli_matches_the_library(tmp_path: Path) -> None:
    hazard, prop = _files(tmp_path)
    args = [
        "simulate",
        "--persons",
        "3000",
        "--days",
        "12",
        "--hazard",
        str(hazard),
        "--propensity",
        str(prop),
        "--runs",
        "4",
        "--seed",
        "8",
    ]
    result = CliRunner().invoke(cli, [*args, "--format", "json"])
    assert result.exit_code == 0, result.output
    pop = Population(np.array([[0.0], [0.0], [0.0], [1.0]]), ("failed",))
    want = simulate_population(
        _hazard(("failed",), (0.7,), (0.05, 0.02, 0.01)),
        Propensity(("failed",), (-1.0,), -2.0),
        4.0,
        pop,
        3000,
        12,
        4,
        8,
    )
    assert json.loads(result.output) == json.loads(json.dumps(want.to_json()))
    table = CliRunner().invoke(cli, args)
    assert table.exit_code == 0 and "3,000 persons x 12 days x 4 runs" in table.output
    assert "total" in table.output


def test_simulate_persons_cli_refusals(tmp_path: Path) -> None:
    hazard, prop = _files(tmp_path)
    run = CliRunner().invoke
    neither = run(cli, ["simulate"])
    assert neither.exit_code == 2 and "exactly one of --impressions" in neither.output
    both = run(cli, ["simulate", "--impressions", "10", "--persons", "5", "--hazard", str(hazard)])
    assert both.exit_code == 2
    no_hazard = run(cli, ["simulate", "--persons", "5"])
    assert no_hazard.exit_code == 2 and "--hazard" in no_hazard.output
    broken = tmp_path / "broken.json"
    broken.write_text('{"format": ', encoding="utf-8")
    bad = run(cli, ["simulate", "--persons", "5", "--hazard", str(broken)])
    assert bad.exit_code == 2 and "broken.json:1:" in bad.output
    wrong = run(cli, ["simulate", "--persons", "5", "--hazard", str(prop)])
    assert wrong.exit_code == 2 and "not a hazard model file" in wrong.output
    missing = run(cli, ["simulate", "--persons", "5", "--hazard", str(tmp_path / "none.json")])
    assert missing.exit_code == 2 and "cannot read" in missing.output
    mixed = run(cli, ["simulate", "--persons", "5", "--hazard", str(hazard), "--sweep"])
    assert mixed.exit_code == 2
    for result in (neither, both, no_hazard, bad, wrong, missing, mixed):
        assert "Traceback" not in result.output


def test_population_json() -> None:
    pop = Population.from_json(
        {"names": ["a", "days"], "rows": [[0, 1], [1, 4]], "counts": [2, 1], "clock": ["days"]}
    )
    assert pop.X.tolist() == [[0, 1], [0, 1], [1, 4]] and pop.clock == ("days",)
    for broken in ({"rows": [[0]]}, {"names": ["a"], "rows": [[0, 1, 2], [3]]}, "text"):
        with pytest.raises(HazardError, match="population: missing or bad field"):
            Population.from_json(broken)

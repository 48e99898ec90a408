"""Jeffreys intervals, the hazard fit, the fitted config, and the rates/fit commands."""

from __future__ import annotations

import itertools
import json
import random
from dataclasses import replace

import duckdb
import numpy as np
import pytest
from click.testing import CliRunner
from funnel_people import load_duckdb, people_rows, write_jsonl
from funnel_plans import reshape

from compiler.cli.main import cli
from compiler.funnel.fit import fit, fit_export, fit_hazard
from compiler.funnel.intervals import Proportion, beta_quantile
from compiler.funnel.rates import HazardCell, HazardCells, compute
from compiler.simulation.config import config_from_plan
from compiler.simulation.model import FORMAT, SimCovariate, SimHazard
from tests.conftest import FIXTURES


def test_beta_quantile_matches_scipy():
    stats = pytest.importorskip("scipy.stats")
    rng = random.Random(1)
    for _ in range(300):
        n = rng.choice([1, 7, 50, 1000, 100_000])
        k = rng.randint(0, n)
        for q in (0.025, 0.5, 0.975):
            expected = stats.beta.ppf(q, k + 0.5, n - k + 0.5)
            assert beta_quantile(q, k + 0.5, n - k + 0.5) == pytest.approx(expected, abs=1e-9)


def test_interval_edges_and_empty():
    assert Proportion(0, 0).interval() == (None, None)
    assert Proportion(0, 0).rate is None
    low, high = Proportion(0, 20).interval()
    assert low == 0.0 and 0 < high < 0.2
    low, high = Proportion(20, 20).interval()
    assert high == 1.0 and 0.8 < low < 1


def prior(extras: dict[str, float], base: float = 0.3, top: float = 0.95) -> SimHazard:
    covs = {n: SimCovariate(n, f"{n}_event", e, 0.5) for n, e in extras.items()}
    return SimHazard("churned", "risk", None, 30, base, top, covs)


def cells(base: float, extras: dict[str, float], n: int = 1000) -> HazardCells:
    names = tuple(extras)
    out = []
    for flags in itertools.product((False, True), repeat=len(names)):
        p = base + sum(e for e, f in zip(extras.values(), flags, strict=True) if f)
        facts = dict(zip(names, flags, strict=True))
        out.append(HazardCell(facts, n, round(n * p), n + 50))
    return HazardCells(names, 30, tuple(out))


@pytest.mark.parametrize(
    "extras",
    [{"failed": 0.2, "slow": 0.1}, {"a": 0.05, "b": 0.15, "c": 0.3}, {"only": 0.4}, {}],
)
def test_hazard_fit_recovers_an_exact_additive_model(extras):
    fitted = fit_hazard(cells(0.25, extras), prior(dict.fromkeys(extras, 0.01)))
    assert fitted.base == pytest.approx(0.25) and fitted.base_source == "fit"
    for name, extra in extras.items():
        c = fitted.covariates[name]
        assert c.extra == pytest.approx(extra) and c.extra_source == "fit"
        assert c.share == pytest.approx(0.5) and c.share_source == "fit"
    assert fitted.max == 0.95


def test_hazard_fit_equals_weighted_least_squares_by_numpy():
    rng = random.Random(3)
    names = ("x", "y", "z")
    out = []
    for flags in itertools.product((False, True), repeat=3):
        observed = rng.randint(50, 400)
        out.append(
            HazardCell(
                dict(zip(names, flags, strict=True)), observed, rng.randint(0, observed), 500
            )
        )
    hz = HazardCells(names, 30, tuple(out))
    x = np.array([[1.0, *map(float, c.facts.values())] for c in out])
    w = np.sqrt([c.observed for c in out])
    y = np.array([c.churned / c.observed for c in out])
    solution, *_ = np.linalg.lstsq(x * w[:, None], y * w, rcond=None)
    fitted = fit_hazard(hz, prior({"x": 0.0, "y": 0.0, "z": 0.0}, top=1.0))
    got = [fitted.base, *(fitted.covariates[n].extra for n in names)]
    assert got == pytest.approx([min(max(v, -1), 1) for v in solution], abs=1e-9)


def test_an_unidentifiable_covariate_keeps_the_plans_extra():
    only_ok = cells(0.3, {"failed": 0.2, "slow": 0.1})
    kept = HazardCells(
        only_ok.covariates, 30, tuple(c for c in only_ok.cells if not c.facts["failed"])
    )
    fitted = fit_hazard(kept, prior({"failed": 0.17, "slow": 0.0}))
    assert fitted.covariates["failed"].extra == 0.17
    assert fitted.covariates["failed"].extra_source == "plan"
    assert fitted.covariates["failed"].share == 0.0  # measured: nobody at risk had it
    assert fitted.base == pytest.approx(0.3)


def test_an_estimate_against_the_declared_direction_is_clipped_to_zero():
    fitted = fit_hazard(cells(0.3, {"failed": -0.05}), prior({"failed": 0.2}))
    assert fitted.covariates["failed"].extra == 0.0


def test_fitted_config_learns_what_the_data_supports(plan, tmp_path):
    con = duckdb.connect()
    load_duckdb(con, people_rows(1500, seed=4), tmp_path)
    config = fit(compute(con, plan, fit_only=True), plan)
    assert config.to_json()["format"] == FORMAT
    assert [s.id for s in config.states] == [s.id for s in plan.states]
    ids = [s.id for s in plan.chain]
    for a, b in zip(ids, ids[1:], strict=False):
        t = config.transitions[f"{b}|{a}"]
        assert (t.from_state, t.to_state, t.source) == (a, b, "fit")
        assert t.alpha == t.numerator + 0.5
        assert t.beta == t.denominator - t.numerator + 0.5
        assert t.ci_low <= t.rate <= t.ci_high
    assert config.transitions["S9|S8"].alias == "p_purchase"
    assert config.entry is not None and config.entry.rate == plan.forecast.entry.rate
    assert config.entry.to_json()["assumption"] is True
    assert config.hazard.base_source == "fit"
    assert config.kept_from_plan() == [] and config.missing() == []
    # the generator's known rates are recovered roughly (1500 people)
    assert config.transitions["S2|S1"].rate == pytest.approx(0.30, abs=0.05)
    assert config.transitions["S4|S3"].rate == pytest.approx(0.80, abs=0.08)


def test_fit_never_invents_a_rate(plan, tmp_path):
    """A transition with no plan default and no data is left out, and simulate names it; one
    with a default but no data keeps it, marked plan."""
    other = reshape(plan, ["S0", "S2", "S4", "S7", "S8", "S9"])
    assert other.transition("cta", "click").rate is None
    built = config_from_plan(other)
    assert "cta|click" not in built.transitions
    assert "cta|click" in built.missing()
    rows = [r for r in people_rows(400, seed=6) if r[1] != "login_success"]  # no data past cta
    con = duckdb.connect()
    load_duckdb(con, rows, tmp_path)
    config = fit(compute(con, other, fit_only=True), other)
    assert config.transitions["cta|click"].source == "fit"
    assert config.transitions["download|job"].source == "plan"  # S8|S7 default, no data
    assert config.transitions["buy|download"].source == "plan"
    assert "job|login" not in config.transitions  # no default, no data
    assert config.missing() == ["job|login"]
    assert "download|job" in config.kept_from_plan()


@pytest.fixture(scope="module")
def export(tmp_path_factory):  # type: ignore[no-untyped-def]
    path = tmp_path_factory.mktemp("rates") / "events.jsonl"
    write_jsonl(path, people_rows(800, seed=9))
    return path


def test_fit_export_is_one_call(plan, export):
    config = fit_export(plan, [export])
    assert config.transitions["S1|S0"].denominator == 800
    with pytest.raises(ValueError, match="nope.jsonl"):
        fit_export(plan, [export.parent / "nope.jsonl"])


def test_rates_cli_table_and_json(export):
    runner = CliRunner()
    table = runner.invoke(cli, ["rates", str(export)])
    assert table.exit_code == 0, table.output
    assert "S9|S8" in table.output and "95% interval" in table.output
    assert "as of 2026-" in table.output and "Revenue by currency" in table.output
    out = runner.invoke(cli, ["rates", str(export), "--format", "json", "--window", "30d"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert data["window_days"] == 30 and data["window"]["conversion_days"] == 30
    assert data["transitions"]["S1|S0"]["denominator"] == 800
    assert data["as_of"].startswith("2026-") and data["first_event"] < data["as_of"]


def test_rates_cli_bad_input(export, tmp_path):
    runner = CliRunner()
    missing = runner.invoke(cli, ["rates", str(tmp_path / "nope.jsonl")])
    assert missing.exit_code == 2 and "nope.jsonl" in missing.output
    bad = runner.invoke(cli, ["rates", str(export), "--window", "thirty"])
    assert bad.exit_code == 2 and "--window" in bad.output
    broken = tmp_path / "broken.jsonl"
    broken.write_text(export.read_text().splitlines()[0] + "\n{not json\n", encoding="utf-8")
    partial = runner.invoke(cli, ["rates", str(broken), "--format", "json"])
    assert partial.exit_code == 0
    assert "1 of 2 row(s) unparseable" in partial.output


def test_fit_cli_writes_the_config(export, tmp_path):
    out = tmp_path / "fitted.json"
    result = CliRunner().invoke(cli, ["fit", str(export), "-o", str(out)])
    assert result.exit_code == 0, result.output
    config = json.loads(out.read_text())
    assert config["format"] == FORMAT and config["transitions"]["S9|S8"]["source"] == "fit"
    assert "the plan's assumption" in result.output
    unwritable = CliRunner().invoke(
        cli, ["fit", str(export), "-o", str(tmp_path / "no" / "x.json")]
    )
    assert unwritable.exit_code == 2 and "cannot write" in unwritable.output


def test_a_plan_without_declarations_runs_every_command(minimal_plan, export, tmp_path):
    """rates, fit and simulate on a 2-state plan with no forecast, churn, hazard or revenue:
    no traceback, and each missing section is one line saying why."""
    plan_dir = str(FIXTURES / "plans" / "minimal")
    runner = CliRunner()
    table = runner.invoke(cli, ["rates", "--plan", plan_dir, str(export)])
    assert table.exit_code == 0, table.output
    assert "not measured: the plan declares no revenue section" in table.output
    assert "not measured: the plan declares no hazard section" in table.output
    assert "ClickedAd" not in table.output and "credit" not in table.output.lower()
    out = tmp_path / "mini.json"
    fitted = runner.invoke(cli, ["fit", "--plan", plan_dir, str(export), "-o", str(out)])
    assert fitted.exit_code == 0, fitted.output
    assert "kept from the plan (no data to learn from): S1|S0" in fitted.output
    doc = json.loads(out.read_text())
    assert doc["hazard"] is None and doc["entry"] is None
    assert doc["transitions"]["S1|S0"] == {"from": "S0", "to": "S1", "rate": 0.8, "source": "plan"}
    sim = runner.invoke(cli, ["simulate", "--config", str(out), "--entrants", "100", "--runs", "5"])
    assert sim.exit_code == 0, sim.output
    assert "100 entrants" in sim.output and "Completed" in sim.output
    for result in (table, fitted, sim):
        assert "Traceback" not in result.output


def test_fit_without_the_hazard_section_writes_no_hazard(plan, tmp_path):
    con = duckdb.connect()
    load_duckdb(con, people_rows(300, seed=4), tmp_path)
    plain = replace(plan, hazard=None)
    config = fit(compute(con, plain, fit_only=True), plain)
    assert config.hazard is None
    assert "failed_job" not in config.dumps()


def _clean_plans() -> list[str]:
    from compiler.plan import load_plan

    found = []
    for path in sorted((FIXTURES / "plans").iterdir()):
        if path.is_dir() and (path / "plan.yaml").exists() and not load_plan(path).errors:
            found.append(path.name)
    return found


@pytest.mark.parametrize("name", _clean_plans())
def test_rates_fit_simulate_on_every_lint_clean_fixture_plan(name, export, tmp_path):
    """Whatever the plan declares, the three commands finish without a traceback; data that
    matches none of its events gives empty sections, not errors."""
    plan_dir = str(FIXTURES / "plans" / name)
    runner = CliRunner()
    out = tmp_path / "fit.json"
    for args in (
        ["rates", "--plan", plan_dir, str(export)],
        ["rates", "--plan", plan_dir, str(export), "--format", "json"],
        ["fit", "--plan", plan_dir, str(export), "-o", str(out)],
        ["simulate", "--plan", plan_dir, "--impressions", "1000", "--runs", "5", "--sweep"],
    ):
        result = runner.invoke(cli, args)
        assert result.exit_code in (0, 2), (args, result.output)
        assert result.exception is None or isinstance(result.exception, SystemExit), result.output
        assert "Traceback" not in result.output

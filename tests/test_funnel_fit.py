"""Jeffreys intervals, the churn-hazard fit, the fitted config, and the rates/fit commands."""

from __future__ import annotations

import json
import random

import duckdb
import pytest
from click.testing import CliRunner
from funnel_people import load_duckdb, people_rows, write_jsonl

from compiler.cli.main import cli
from compiler.funnel.fit import FORMAT, fit, fit_hazard
from compiler.funnel.intervals import Proportion, beta_quantile
from compiler.funnel.rates import HazardCell, compute


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


def cells(base: float, failed: float, slow: float) -> list[HazardCell]:
    out = []
    for f in (False, True):
        for s in (False, True):
            n = 1000
            out.append(HazardCell(f, s, n, round(n * (base + f * failed + s * slow)), n + 50))
    return out


def test_hazard_fit_recovers_an_exact_additive_model(plan):
    fitted = fit_hazard(cells(0.25, 0.2, 0.1), plan.churn_hazard)
    assert fitted["base"] == pytest.approx(0.25)
    assert fitted["extra_if_failed_job"] == pytest.approx(0.2)
    assert fitted["extra_if_slow_job"] == pytest.approx(0.1)
    assert fitted["slow_job_share"] == pytest.approx(0.5)
    assert fitted["max"] == plan.churn_hazard.max


def test_hazard_without_failed_persons_keeps_the_plans_increment(plan):
    only_ok = [c for c in cells(0.3, 0.2, 0.1) if not c.failed_job]
    fitted = fit_hazard(only_ok, plan.churn_hazard)
    assert fitted["extra_if_failed_job"] == plan.churn_hazard.extra_if_failed_job
    assert fitted["base"] == pytest.approx(0.3)


def test_fitted_config_format(plan, tmp_path):
    con = duckdb.connect()
    load_duckdb(con, people_rows(1500, seed=4), tmp_path)
    config = fit(compute(con, plan), plan)
    assert config["format"] == FORMAT
    assert [s["id"] for s in config["states"]] == [s.id for s in plan.states]
    assert config["states"][10]["event"] is None
    for k in range(1, 11):
        t = config["transitions"][f"S{k}|S{k - 1}"]
        assert (t["from"], t["to"]) == (f"S{k - 1}", f"S{k}")
        assert t["alpha"] == t["numerator"] + 0.5
        assert t["beta"] == t["denominator"] - t["numerator"] + 0.5
        assert t["ci_low"] <= t["rate"] <= t["ci_high"]
    assert set(config["churn_hazard"]) == {
        "base",
        "extra_if_failed_job",
        "extra_if_slow_job",
        "slow_job_share",
        "max",
    }
    assert config["click_through_rate"] == plan.churn_hazard.click_through_rate
    # the generator's known rates are recovered roughly (1500 people)
    assert config["transitions"]["S2|S1"]["rate"] == pytest.approx(0.30, abs=0.05)
    assert config["transitions"]["S4|S3"]["rate"] == pytest.approx(0.80, abs=0.08)


@pytest.fixture(scope="module")
def export(tmp_path_factory):  # type: ignore[no-untyped-def]
    path = tmp_path_factory.mktemp("rates") / "events.jsonl"
    write_jsonl(path, people_rows(800, seed=9))
    return path


def test_rates_cli_table_and_json(export):
    runner = CliRunner()
    table = runner.invoke(cli, ["rates", str(export)])
    assert table.exit_code == 0, table.output
    assert "S9|S8" in table.output and "95% interval" in table.output
    out = runner.invoke(cli, ["rates", str(export), "--format", "json", "--window", "30d"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert data["window_days"] == 30
    assert data["transitions"]["S1|S0"]["denominator"] == 800


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
    assert config["format"] == FORMAT and "S9|S8" in config["transitions"]
    unwritable = CliRunner().invoke(
        cli, ["fit", str(export), "-o", str(tmp_path / "no" / "x.json")]
    )
    assert unwritable.exit_code == 2 and "cannot write" in unwritable.output

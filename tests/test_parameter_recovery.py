"""synth with known rates, then fit: the rates come back, with honest 95% intervals (issue 5 §5).

The true rates differ from the plan's defaults, so fit cannot pass by echoing the defaults.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from click.testing import CliRunner

from compiler.cli.main import cli
from compiler.simulation.config import config_from_plan
from tests.conftest import PLAN_DIR

TRUE_RATES = {
    "S1|S0": 0.95,
    "S2|S1": 0.42,
    "S3|S2": 0.55,
    "S4|S3": 0.75,
    "S5|S4": 0.97,
    "S6|S5": 0.85,
    "S7|S6": 0.80,
    "S8|S7": 0.90,
    "S9|S8": 0.20,
    "S10|S9": 0.45,
}


def _config(plan, tmp: Path) -> Path:
    document = config_from_plan(plan).to_json()
    for name, rate in TRUE_RATES.items():
        document["transitions"][name]["rate"] = rate
    path = tmp / "truth-config.json"
    path.write_text(json.dumps(document))
    return path


def _synth_then_fit(tmp: Path, config: Path, users: int, seed: int) -> dict:
    export, fitted = tmp / f"s{seed}.parquet", tmp / f"fit{seed}.json"
    runner = CliRunner()
    made = runner.invoke(
        cli,
        [
            "synth",
            "--plan",
            str(PLAN_DIR),
            "--config",
            str(config),
            "--users",
            str(users),
            "--days",
            "30",
            "--seed",
            str(seed),
            "-o",
            str(export),
        ],
    )
    assert made.exit_code == 0, made.output
    fit = runner.invoke(cli, ["fit", "--plan", str(PLAN_DIR), str(export), "-o", str(fitted)])
    assert fit.exit_code == 0, fit.output
    return json.loads(fitted.read_text())["transitions"]


@pytest.mark.slow
def test_every_rate_recovered_within_two_points_at_100k_people(plan, tmp_path):
    fitted = _synth_then_fit(tmp_path, _config(plan, tmp_path), 100_000, seed=7)
    errors = {name: abs(fitted[name]["rate"] - rate) for name, rate in TRUE_RATES.items()}
    assert max(errors.values()) <= 0.02, errors
    # And fit learned them: the plan's defaults would miss S2|S1 by 12 points.
    assert abs(fitted["S2|S1"]["rate"] - 0.30) > 0.10


@pytest.mark.slow
def test_intervals_cover_the_truth_at_about_95_percent(plan, tmp_path):
    config = _config(plan, tmp_path)
    covered, total, width_ratios = 0, 0, []
    for seed in range(6):
        fitted = _synth_then_fit(tmp_path, config, 15_000, seed=100 + seed)
        for name, rate in TRUE_RATES.items():
            body = fitted[name]
            total += 1
            covered += body["ci_low"] <= rate <= body["ci_high"]
            n = body["denominator"]
            expected_width = 2 * 1.96 * math.sqrt(rate * (1 - rate) / n)
            width_ratios.append((body["ci_high"] - body["ci_low"]) / expected_width)
    # 60 intervals: at 95% coverage, 51 or fewer happens with probability ~0.3%.
    assert covered >= 52, f"{covered}/{total} intervals covered the true rate"
    # Not covering by being uselessly wide: widths match the binomial standard error.
    mean_ratio = sum(width_ratios) / len(width_ratios)
    assert 0.85 <= mean_ratio <= 1.2, mean_ratio

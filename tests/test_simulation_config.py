"""The simulation config: the build target, the loader, and broken files."""

from __future__ import annotations

import json
from pathlib import Path, PurePosixPath

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from compiler.cli.main import cli
from compiler.simulation.config import ConfigError, config_from_plan, load_config, parse_config
from compiler.targets import simulation

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "generated" / "simulation" / "config.json"


def test_target_renders_the_plan_rates(plan, golden) -> None:
    files = simulation.render(plan)
    golden("simulation", files)
    doc = json.loads(files[PurePosixPath("simulation/config.json")])
    assert doc["format"] == "trackplan-simulation/2"
    assert [s["id"] for s in doc["states"]] == [s.id for s in plan.states]
    assert doc["states"][9]["event"] == "purchase_completed" and doc["states"][10]["event"] is None
    assert doc["states"][10]["rule"] == {"kind": "active_within", "after": "S9", "days": 30}
    for t in plan.transitions:
        body = {"from": t.from_state, "to": t.to_state, "rate": t.rate, "source": "plan"}
        assert doc["transitions"][t.name] == body | ({"alias": t.alias} if t.alias else {})
    failed = doc["hazard"]["covariates"]["failed_job"]
    assert failed["extra"] == plan.hazard.covariates["failed_job"].extra
    assert failed["source"] == {"extra": "plan", "share": "plan"}
    assert doc["entry"]["rate"] == 0.02 and doc["entry"]["assumption"] is True
    assert [o["name"] for o in doc["outcomes"]] == list(o.name for o in plan.forecast.outcomes)
    assert doc["objective"] == "purchasers"


def test_a_plan_without_a_forecast_gets_one_outcome_per_chain_state(minimal_plan) -> None:
    doc = json.loads(simulation.render(minimal_plan)[PurePosixPath("simulation/config.json")])
    assert [(o["name"], o["title"]) for o in doc["outcomes"]] == [
        ("S0", "Created"),
        ("S1", "Completed"),
    ]
    assert doc["objective"] == "S1" and doc["entry"] is None and doc["hazard"] is None


def test_loader_round_trips_the_built_file(plan) -> None:
    assert load_config(SHIPPED) == config_from_plan(plan)
    assert load_config(SHIPPED).dumps() == SHIPPED.read_text()


def _write(tmp_path: Path, doc: object) -> Path:
    path = tmp_path / "config.json"
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    return path


def _shipped() -> dict:
    return json.loads(SHIPPED.read_text())


def _with(mutate) -> dict:  # type: ignore[no-untyped-def]
    doc = _shipped()
    mutate(doc)
    return doc


BROKEN = {
    "json syntax": (
        '{"format": "trackplan-simulation/2",\n  "plan": }',
        r"config.json:2:\d+: invalid JSON",
    ),
    "not an object": ([1, 2], "top level must be a JSON object"),
    "missing keys": ({"format": "trackplan-simulation/2"}, "missing key\\(s\\): plan, states"),
    "wrong format": (_with(lambda d: d.update(format="v0")), "format: expected"),
    "rate above 1": (
        _with(lambda d: d["transitions"]["S9|S8"].update(rate=1.2)),
        r"transitions.S9\|S8.rate: 1.2 is outside \[0, 1\]",
    ),
    "rate is text": (
        _with(lambda d: d["transitions"]["S2|S1"].update(rate="0.3")),
        r'transitions.S2\|S1.rate: expected a number, got "0.3"',
    ),
    "unknown state": (
        _with(lambda d: d["transitions"]["S4|S3"].update({"from": "S99"})),
        r"transitions.S4\|S3: from/to must be",
    ),
    "bad source": (
        _with(lambda d: d["transitions"]["S4|S3"].update(source="guess")),
        r"source must be plan, fit or set",
    ),
    "objective not an outcome": (
        _with(lambda d: d.update(objective="revenue")),
        "objective: 'revenue' is not an outcome",
    ),
    "outcome on an unknown state": (
        _with(lambda d: d["outcomes"].append({"name": "x", "title": "X", "state": "S42"})),
        "outcomes.x: state 'S42' is not in the config",
    ),
    "rate outside its interval": (
        _with(lambda d: d["transitions"]["S9|S8"].update(ci_low=0.2, ci_high=0.3)),
        "is not inside",
    ),
    "alpha without beta": (
        _with(lambda d: d["transitions"]["S9|S8"].update(alpha=3)),
        "give both alpha and beta",
    ),
    "hazard key missing": (
        _with(lambda d: d["hazard"].pop("base")),
        "hazard: expected null or an object with state, at_risk",
    ),
    "hazard at risk is a rule state": (
        _with(lambda d: d["hazard"].update(at_risk="S10")),
        "hazard.at_risk: 'S10' is not a chain state",
    ),
    "covariate extra out of range": (
        _with(lambda d: d["hazard"]["covariates"]["slow_job"].update(extra=-2)),
        r"hazard.covariates.slow_job.extra: -2 is outside \[-1, 1\]",
    ),
    "duplicate state ids": (
        _with(lambda d: d["states"].append(dict(d["states"][0]))),
        "states: ids must be unique",
    ),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_config_names_the_file_and_problem(tmp_path: Path, case: str) -> None:
    doc, message = BROKEN[case]
    path = _write(tmp_path, doc)
    with pytest.raises(ConfigError, match=message) as info:
        load_config(path)
    assert str(path) in str(info.value)


def test_every_problem_is_listed_at_once(tmp_path: Path) -> None:
    def mutate(d: dict) -> None:
        d["transitions"]["S2|S1"]["rate"] = -1
        d["transitions"]["S3|S2"]["rate"] = 2
        d["entry"]["rate"] = "x"

    with pytest.raises(ConfigError) as info:
        load_config(_write(tmp_path, _with(mutate)))
    text = str(info.value)
    assert "S2|S1.rate" in text and "S3|S2.rate" in text and "entry.rate" in text


def test_missing_file_is_an_input_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["simulate", "--config", str(tmp_path / "nope.json"), "--impressions", "10"]
    )
    assert result.exit_code == 2
    assert "nope.json" in result.output and "Traceback" not in result.output


def test_cli_reports_a_broken_config_with_exit_2(tmp_path: Path) -> None:
    path = _write(tmp_path, BROKEN["rate above 1"][0])
    result = CliRunner().invoke(cli, ["simulate", "--config", str(path), "--impressions", "10"])
    assert result.exit_code == 2
    assert "S9|S8.rate: 1.2 is outside [0, 1]" in result.output


def test_fitted_fields_are_kept(tmp_path: Path) -> None:
    doc = _with(
        lambda d: d["transitions"]["S9|S8"].update(
            rate=0.1,
            ci_low=0.08,
            ci_high=0.12,
            alpha=80.5,
            beta=724.5,
            numerator=80,
            denominator=805,
        )
    )
    config = load_config(_write(tmp_path, doc))
    t = config.transitions["S9|S8"]
    assert (t.alpha, t.beta, t.numerator, t.denominator) == (80.5, 724.5, 80, 805)
    assert json.loads(config.dumps())["transitions"]["S9|S8"]["ci_high"] == 0.12


_json = st.recursive(
    st.none() | st.booleans() | st.floats(allow_nan=False) | st.integers() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3)
    | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=12,
)


@settings(max_examples=150, deadline=None)
@given(
    key=st.sampled_from(
        ["format", "plan", "states", "transitions", "outcomes", "objective", "entry", "hazard"]
    ),
    value=_json,
)
def test_any_damage_is_a_config_error_or_a_valid_config(key: str, value: object) -> None:
    doc = _shipped()
    doc[key] = value
    try:
        config = parse_config(doc, "fuzz.json")
    except ConfigError as exc:
        assert str(exc).startswith("fuzz.json: ")
    else:
        assert config.entry is None or 0 <= config.entry.rate <= 1
        assert all(0 <= t.rate <= 1 for t in config.transitions.values())


@settings(max_examples=60, deadline=None)
@given(name=st.sampled_from([f"S{k}|S{k - 1}" for k in range(1, 11)]), value=_json)
def test_any_damaged_transition_is_a_config_error_or_valid(name: str, value: object) -> None:
    doc = _shipped()
    doc["transitions"][name] = value
    try:
        parse_config(doc, "fuzz.json")
    except ConfigError as exc:
        assert name in str(exc)


@settings(max_examples=60, deadline=None)
@given(name=st.sampled_from(["failed_job", "slow_job"]), value=_json)
def test_any_damaged_covariate_is_a_config_error_or_valid(name: str, value: object) -> None:
    doc = _shipped()
    doc["hazard"]["covariates"][name] = value
    try:
        parse_config(doc, "fuzz.json")
    except ConfigError as exc:
        assert name in str(exc)

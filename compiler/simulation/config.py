"""The simulation config (`trackplan-simulation/1`): what `build` writes, `fit` learns, and
`simulate` and `synth` read.

    {"format": "trackplan-simulation/1",
     "plan": {"name", "version"},
     "states": [{"id": "S0", "name": "ClickedAd", "event": "ad_click"}, ...],
     "transitions": {"S1|S0": {"from": "S0", "to": "S1", "rate": 0.98,
                               optional "ci_low", "ci_high", "alpha", "beta",
                               "numerator", "denominator"}, ...},
     "churn_hazard": {"base", "extra_if_failed_job", "extra_if_slow_job", "slow_job_share", "max"},
     "click_through_rate": 0.02}
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from compiler.plan.model import Plan

FORMAT = "trackplan-simulation/1"
HAZARD_KEYS = ("base", "extra_if_failed_job", "extra_if_slow_job", "slow_job_share", "max")
OPTIONAL_TRANSITION_KEYS = ("ci_low", "ci_high", "alpha", "beta", "numerator", "denominator")


class ConfigError(ValueError):
    """A simulation config that cannot be used; the message names the file and every problem."""


@dataclass(frozen=True)
class SimState:
    id: str
    name: str
    event: str | None

    @property
    def index(self) -> int:
        return int(self.id[1:])


@dataclass(frozen=True)
class SimTransition:
    name: str  # "S1|S0"
    from_state: str
    to_state: str
    rate: float
    ci_low: float | None = None
    ci_high: float | None = None
    alpha: float | None = None
    beta: float | None = None
    numerator: int | None = None
    denominator: int | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"from": self.from_state, "to": self.to_state, "rate": self.rate}
        for key in OPTIONAL_TRANSITION_KEYS:
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        return out


@dataclass(frozen=True)
class ChurnParams:
    base: float
    extra_if_failed_job: float
    extra_if_slow_job: float
    slow_job_share: float
    max: float

    def to_json(self) -> dict[str, float]:
        return {k: getattr(self, k) for k in HAZARD_KEYS}


@dataclass(frozen=True)
class SimConfig:
    plan_name: str
    plan_version: str
    states: tuple[SimState, ...]
    transitions: Mapping[str, SimTransition]  # in chain order: S1|S0, S2|S1, ...
    churn_hazard: ChurnParams
    click_through_rate: float

    def rate(self, name: str) -> float:
        return self.transitions[name].rate

    def chain(self, last: int = 10) -> tuple[SimTransition, ...]:
        """The transitions S1|S0 ... S{last}|S{last-1}, in order."""
        return tuple(self.transitions[f"S{k}|S{k - 1}"] for k in range(1, last + 1))

    def with_transition(self, transition: SimTransition) -> SimConfig:
        updated = dict(self.transitions)
        updated[transition.name] = transition
        return replace(self, transitions=updated)

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "plan": {"name": self.plan_name, "version": self.plan_version},
            "states": [{"id": s.id, "name": s.name, "event": s.event} for s in self.states],
            "transitions": {n: t.to_json() for n, t in self.transitions.items()},
            "churn_hazard": self.churn_hazard.to_json(),
            "click_through_rate": self.click_through_rate,
        }

    def dumps(self) -> str:
        return json.dumps(self.to_json(), indent=2, sort_keys=True) + "\n"


def config_from_plan(plan: Plan) -> SimConfig:
    """The default config: the plan's states, transition rates and churn hazard."""
    hazard = plan.churn_hazard
    if hazard is None:
        raise ConfigError(f"plan {plan.name} has no churn_hazard in funnel.yaml")
    transitions = {
        t.name: SimTransition(t.name, t.from_state, t.to_state, t.rate)
        for t in sorted(plan.transitions, key=lambda t: int(t.to_state[1:]))
    }
    config = SimConfig(
        plan_name=plan.name,
        plan_version=plan.version,
        states=tuple(SimState(s.id, s.name, s.event) for s in plan.states),
        transitions=transitions,
        churn_hazard=ChurnParams(
            hazard.base,
            hazard.extra_if_failed_job,
            hazard.extra_if_slow_job,
            hazard.slow_job_share,
            hazard.max,
        ),
        click_through_rate=hazard.click_through_rate,
    )
    problems = _check_semantics(config)
    if problems:
        raise ConfigError(f"plan {plan.name}: " + "; ".join(problems))
    return config


def load_config(path: Path) -> SimConfig:
    """Read and validate a config file; every problem is listed in one ConfigError."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the simulation config: {exc}") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}") from None
    return parse_config(document, str(path))


def parse_config(document: Any, origin: str = "<config>") -> SimConfig:
    problems: list[str] = []
    config = _parse(document, problems)
    if config is not None:
        problems += _check_semantics(config)
    if problems or config is None:
        listed = "\n".join(f"  - {p}" for p in problems)
        raise ConfigError(f"{origin}: not a valid {FORMAT} config:\n{listed}")
    return config


def _number(value: Any, where: str, problems: list[str], *, unit: bool = True) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        problems.append(f"{where}: expected a number, got {json.dumps(value)}")
        return 0.0
    if unit and not 0.0 <= value <= 1.0:
        problems.append(f"{where}: {value} is outside [0, 1]")
    return float(value)


def _parse(doc: Any, problems: list[str]) -> SimConfig | None:
    if not isinstance(doc, dict):
        problems.append("the top level must be a JSON object")
        return None
    missing = [
        k
        for k in ("format", "plan", "states", "transitions", "churn_hazard", "click_through_rate")
        if k not in doc
    ]
    if missing:
        problems.append(f"missing key(s): {', '.join(missing)}")
        return None
    if doc["format"] != FORMAT:
        problems.append(f"format: expected {FORMAT!r}, got {json.dumps(doc['format'])}")
    plan = doc["plan"] if isinstance(doc["plan"], dict) else {}
    states = _parse_states(doc["states"], problems)
    transitions = _parse_transitions(doc["transitions"], problems)
    hazard = _parse_hazard(doc["churn_hazard"], problems)
    ctr = _number(doc["click_through_rate"], "click_through_rate", problems)
    if hazard is None:
        return None
    return SimConfig(
        str(plan.get("name", "")), str(plan.get("version", "")), states, transitions, hazard, ctr
    )


def _parse_states(raw: Any, problems: list[str]) -> tuple[SimState, ...]:
    if not isinstance(raw, list):
        problems.append("states: expected a list of {id, name, event}")
        return ()
    states = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict) or not isinstance(item.get("id"), str):
            problems.append(f"states[{i}]: expected an object with a string id")
            continue
        event = item.get("event")
        if event is not None and not isinstance(event, str):
            problems.append(f"states[{i}].event: expected a string or null")
            event = None
        states.append(SimState(item["id"], str(item.get("name", "")), event))
    return tuple(states)


def _parse_transitions(raw: Any, problems: list[str]) -> dict[str, SimTransition]:
    if not isinstance(raw, dict):
        problems.append('transitions: expected an object {"S1|S0": {...}, ...}')
        return {}
    out: dict[str, SimTransition] = {}
    for name, body in raw.items():
        where = f"transitions.{name}"
        if not isinstance(body, dict) or "rate" not in body:
            problems.append(f"{where}: expected an object with a rate")
            continue
        to_state, _, from_state = name.partition("|")
        extras: dict[str, Any] = {}
        for key in OPTIONAL_TRANSITION_KEYS:
            if body.get(key) is None:
                continue
            value = _number(body[key], f"{where}.{key}", problems, unit=key.startswith("ci"))
            extras[key] = int(value) if key in ("numerator", "denominator") else value
        out[name] = SimTransition(
            name,
            str(body.get("from", from_state)),
            str(body.get("to", to_state)),
            _number(body["rate"], f"{where}.rate", problems),
            **extras,
        )
    return out


def _parse_hazard(raw: Any, problems: list[str]) -> ChurnParams | None:
    if not isinstance(raw, dict):
        problems.append("churn_hazard: expected an object")
        return None
    missing = [k for k in HAZARD_KEYS if k not in raw]
    if missing:
        problems.append(f"churn_hazard: missing key(s): {', '.join(missing)}")
        return None
    values = [_number(raw[k], f"churn_hazard.{k}", problems) for k in HAZARD_KEYS]
    return ChurnParams(*values)


def _check_semantics(config: SimConfig) -> list[str]:
    problems = []
    ids = [s.id for s in config.states]
    expected = [f"S{k}" for k in range(len(ids))]
    if ids != expected or len(ids) < 11:
        problems.append(f"states: expected S0, S1, ... in order (at least S0-S10), got {ids}")
    for k in range(1, 11):
        name = f"S{k}|S{k - 1}"
        t = config.transitions.get(name)
        if t is None:
            problems.append(f"transitions: missing {name}")
            continue
        if (t.from_state, t.to_state) != (f"S{k - 1}", f"S{k}"):
            problems.append(f"transitions.{name}: from/to must be S{k - 1} -> S{k}")
        if t.ci_low is not None and t.ci_high is not None and not t.ci_low <= t.rate <= t.ci_high:
            problems.append(f"transitions.{name}: rate {t.rate} is not inside [ci_low, ci_high]")
        for key in ("alpha", "beta"):
            value = getattr(t, key)
            if value is not None and value <= 0:
                problems.append(f"transitions.{name}.{key}: must be > 0")
        if (t.alpha is None) != (t.beta is None):
            problems.append(f"transitions.{name}: give both alpha and beta, or neither")
    known = set(ids)
    for name, t in config.transitions.items():
        if t.from_state not in known or t.to_state not in known:
            problems.append(f"transitions.{name}: refers to a state the config does not list")
    h = config.churn_hazard
    if h.base > h.max:
        problems.append("churn_hazard: base is above max")
    return problems

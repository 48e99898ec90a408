"""Reading a `trackplan-simulation/2` config: every problem is listed in one ConfigError that
names the file; a config that parses passes `check_semantics`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from compiler.plan.model_analytics import COVARIATE_TESTS
from compiler.simulation.checks import check_semantics
from compiler.simulation.model import (
    FORMAT,
    OPTIONAL_TRANSITION_KEYS,
    SOURCES,
    SimConfig,
    SimCovariate,
    SimEntry,
    SimHazard,
    SimOutcome,
    SimState,
    SimTransition,
)

RULE_KINDS = ("active_within", "inactive_for")
TOP_KEYS = ("format", "plan", "states", "transitions", "outcomes", "objective")


class ConfigError(ValueError):
    """A simulation config that cannot be used; the message names the file and every problem."""


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
    config = _Parser(problems).config(document)
    if config is not None:
        problems += check_semantics(config)
    if problems or config is None:
        listed = "\n".join(f"  - {p}" for p in problems)
        raise ConfigError(f"{origin}: not a valid {FORMAT} config:\n{listed}")
    return config


class _Parser:
    def __init__(self, problems: list[str]) -> None:
        self.problems = problems

    def bad(self, message: str) -> None:
        self.problems.append(message)

    def number(self, value: Any, where: str, *, unit: bool = True, low: float = 0.0) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.bad(f"{where}: expected a number, got {json.dumps(value)}")
            return 0.0
        if unit and not low <= value <= 1.0:
            self.bad(f"{where}: {value} is outside [{low:g}, 1]")
        return float(value)

    def text(self, value: Any, where: str, *, optional: bool = False) -> str | None:
        if value is None and optional:
            return None
        if not isinstance(value, str):
            self.bad(f"{where}: expected a string, got {json.dumps(value)}")
            return None
        return value

    def source(self, body: Any, key: str, where: str) -> str:
        value = body.get(key, "plan") if isinstance(body, dict) else "plan"
        if value not in SOURCES:
            self.bad(f"{where}: source must be plan, fit or set, got {json.dumps(value)}")
            return "plan"
        return str(value)

    def config(self, doc: Any) -> SimConfig | None:
        if not isinstance(doc, dict):
            self.bad("the top level must be a JSON object")
            return None
        missing = [k for k in TOP_KEYS if k not in doc]
        if missing:
            self.bad(f"missing key(s): {', '.join(missing)}")
            return None
        if doc["format"] != FORMAT:
            self.bad(f"format: expected {FORMAT!r}, got {json.dumps(doc['format'])}")
        plan = doc["plan"] if isinstance(doc["plan"], dict) else {}
        objective = self.text(doc["objective"], "objective") or ""
        return SimConfig(
            str(plan.get("name", "")),
            str(plan.get("version", "")),
            self.states(doc["states"]),
            self.transitions(doc["transitions"]),
            self.outcomes(doc["outcomes"]),
            objective,
            self.entry(doc.get("entry")),
            self.hazard(doc.get("hazard")),
        )

    def states(self, raw: Any) -> tuple[SimState, ...]:
        if not isinstance(raw, list):
            self.bad("states: expected a list of {id, name, event}")
            return ()
        out = []
        for i, item in enumerate(raw):
            where = f"states[{i}]"
            if not isinstance(item, dict) or not isinstance(item.get("id"), str):
                self.bad(f"{where}: expected an object with a string id")
                continue
            event = self.text(item.get("event"), f"{where}.event", optional=True)
            rule = item.get("rule")
            if rule is None:
                out.append(SimState(item["id"], str(item.get("name", "")), event))
                continue
            if not isinstance(rule, dict) or rule.get("kind") not in RULE_KINDS:
                self.bad(f"{where}.rule: expected {{kind: active_within | inactive_for, ...}}")
                continue
            days = rule.get("days")
            if days is not None and (isinstance(days, bool) or not isinstance(days, int)):
                self.bad(f"{where}.rule.days: expected a whole number of days")
                days = None
            after = self.text(rule.get("after"), f"{where}.rule.after", optional=True)
            out.append(
                SimState(item["id"], str(item.get("name", "")), event, rule["kind"], after, days)
            )
        return tuple(out)

    def transitions(self, raw: Any) -> dict[str, SimTransition]:
        if not isinstance(raw, dict):
            self.bad('transitions: expected an object {"TO|FROM": {...}, ...}')
            return {}
        out: dict[str, SimTransition] = {}
        for name, body in raw.items():
            where = f"transitions.{name}"
            if not isinstance(body, dict) or "rate" not in body:
                self.bad(f"{where}: expected an object with a rate")
                continue
            to_state, _, from_state = name.partition("|")
            extras: dict[str, Any] = {}
            for key in OPTIONAL_TRANSITION_KEYS:
                if body.get(key) is None:
                    continue
                value = self.number(body[key], f"{where}.{key}", unit=key.startswith("ci"))
                extras[key] = int(value) if key in ("numerator", "denominator") else value
            alias = self.text(body.get("alias"), f"{where}.alias", optional=True)
            out[name] = SimTransition(
                name,
                str(body.get("from", from_state)),
                str(body.get("to", to_state)),
                self.number(body["rate"], f"{where}.rate"),
                self.source(body, "source", where),
                alias,
                **extras,
            )
        return out

    def outcomes(self, raw: Any) -> tuple[SimOutcome, ...]:
        if not isinstance(raw, list):
            self.bad("outcomes: expected a list of {name, title, state}")
            return ()
        out = []
        for i, item in enumerate(raw):
            if not isinstance(item, dict):
                self.bad(f"outcomes[{i}]: expected an object")
                continue
            name = self.text(item.get("name"), f"outcomes[{i}].name")
            state = self.text(item.get("state"), f"outcomes[{i}].state")
            if name is not None and state is not None:
                out.append(SimOutcome(name, str(item.get("title", name)), state))
        return tuple(out)

    def entry(self, raw: Any) -> SimEntry | None:
        if raw is None:
            return None
        if not isinstance(raw, dict) or "rate" not in raw:
            self.bad("entry: expected null or an object with a rate")
            return None
        rate = self.number(raw["rate"], "entry.rate")
        return SimEntry(str(raw.get("title", "")), rate, str(raw.get("description", "")))

    def hazard(self, raw: Any) -> SimHazard | None:
        if raw is None:
            return None
        keys = ("state", "at_risk", "window_days", "base", "max")
        if not isinstance(raw, dict) or any(k not in raw for k in keys):
            self.bad(f"hazard: expected null or an object with {', '.join(keys)}")
            return None
        sources = raw.get("source") if isinstance(raw.get("source"), dict) else {}
        window = raw["window_days"]
        if isinstance(window, bool) or not isinstance(window, int) or window < 1:
            self.bad("hazard.window_days: expected a whole number of days >= 1")
            window = 1
        covariates = raw.get("covariates", {})
        if not isinstance(covariates, dict):
            self.bad("hazard.covariates: expected an object {name: {...}}")
            covariates = {}
        return SimHazard(
            self.text(raw["state"], "hazard.state") or "",
            self.text(raw["at_risk"], "hazard.at_risk") or "",
            self.text(raw.get("anchor"), "hazard.anchor", optional=True),
            window,
            self.number(raw["base"], "hazard.base"),
            self.number(raw["max"], "hazard.max"),
            {n: c for n, c in ((n, self.covariate(n, b)) for n, b in covariates.items()) if c},
            self.source(sources, "base", "hazard.source.base"),
        )

    def covariate(self, name: str, raw: Any) -> SimCovariate | None:
        where = f"hazard.covariates.{name}"
        if not isinstance(raw, dict) or not all(k in raw for k in ("event", "extra", "share")):
            self.bad(f"{where}: expected an object with event, extra and share")
            return None
        sources = raw.get("source") if isinstance(raw.get("source"), dict) else {}
        prop = test = value = None
        if raw.get("where") is not None:
            w = raw["where"]
            if not isinstance(w, dict) or w.get("test") not in COVARIATE_TESTS:
                self.bad(f"{where}.where: expected {{property, test: above|below|equals, value}}")
            else:
                prop = self.text(w.get("property"), f"{where}.where.property")
                test, value = w["test"], w.get("value")
                if not isinstance(value, str | int | float | bool):
                    self.bad(f"{where}.where.value: expected a scalar")
                    value = None
        return SimCovariate(
            name,
            self.text(raw["event"], f"{where}.event") or "",
            self.number(raw["extra"], f"{where}.extra", low=-1.0),
            self.number(raw["share"], f"{where}.share"),
            prop,
            test,
            value,
            self.source(sources, "extra", f"{where}.source.extra"),
            self.source(sources, "share", f"{where}.source.share"),
        )

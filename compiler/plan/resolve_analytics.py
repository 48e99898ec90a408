"""Resolve the analytics declarations: codegen names, envelope roles, the forecast, churn,
revenue and the churn hazard. Every reference is checked where it is written."""

from __future__ import annotations

import keyword
import re
from typing import Any

from compiler.diagnostics import Location, error
from compiler.plan import model as m
from compiler.plan import model_analytics as a
from compiler.plan.references import References, suggest
from compiler.plan.source import YList, YMap

_PY_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")
_DIST_NAME = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$")
_NPM_NAME = re.compile(r"^(@[a-z0-9][a-z0-9._-]*/)?[a-z0-9][a-z0-9._-]*$")
NUMERIC = ("integer", "number")


def slug(name: str) -> str:
    """`ShopFast` -> `shopfast`, `Acme Corp.` -> `acme_corp`: a lower-case identifier stem."""
    text = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")
    if not text:
        return "plan"
    return f"p_{text}" if text[0].isdigit() else text


def package_names(plan_name: str) -> tuple[str, str, str]:
    """The default (Python import, Python distribution, npm) names for a plan called
    `plan_name`: `ShopFast` gives shopfast_analytics, shopfast-analytics, @shopfast/analytics."""
    stem = slug(plan_name)
    package = f"{stem}_analytics"
    return package, package.replace("_", "-"), f"@{stem.replace('_', '-')}/analytics"


class AnalyticsResolver(References):
    def codegen(self, plan_name: str, envelope: tuple[m.EnvelopeField, ...]) -> a.Codegen:
        body = self.section("codegen")
        default_package, _, default_npm = package_names(plan_name)
        package = body.get("python_package", default_package)
        if not _PY_NAME.match(package) or keyword.iskeyword(package):
            self.bad(body, "python_package", f"'{package}' is not a Python import name")
        dist = body.get("python_distribution", package.replace("_", "-"))
        if not _DIST_NAME.match(dist):
            self.bad(body, "python_distribution", f"'{dist}' is not a Python distribution name")
        npm = body.get("npm_package", default_npm)
        if not _NPM_NAME.match(npm) or len(npm) > 214:
            self.bad(body, "npm_package", f"'{npm}' is not an npm package name")
        env = next((f for f in envelope if f.role == "environment"), None)
        default = body.get("default_environment")
        if env is None:
            if default is not None:
                self.bad(body, "default_environment", "no envelope field has the role environment")
            default = None
        elif env.property.enum:
            if default is None:
                default = str(env.property.enum[0])
            elif default not in env.property.enum:
                values = ", ".join(str(v) for v in env.property.enum)
                self.bad(
                    body,
                    "default_environment",
                    f"'{default}' is not one of {env.name}'s values ({values})",
                )
        elif default is None:
            default = "production"
        return a.Codegen(package, dist, npm, default)

    def roles(self, envelope: tuple[m.EnvelopeField, ...]) -> None:
        """TP017 for a role two fields claim; TP019 for a role the runtimes need and lack."""
        seen: dict[str, str] = {}
        body = self.section("envelope")
        for f in envelope:
            if f.role is None:
                continue
            if f.role in seen:
                self.diagnostics.append(
                    error(
                        "TP017",
                        f"role '{f.role}' is claimed by '{seen[f.role]}' and '{f.name}'",
                        body[f.name].value_loc("role") if f.name in body else body.loc,
                    )
                )
            seen[f.role] = f.name
        if not self.sections.values.get("envelope") and self.sections.unreadable:
            return
        where = body.loc if body.loc.line else self._plan_loc()
        for role in a.REQUIRED_ROLES:
            if role not in seen:
                self.diagnostics.append(
                    error(
                        "TP019",
                        f"the envelope has no field with role '{role}', which every generated "
                        f"tracker and the audit need (add one, e.g. `{role}: {{placement: top, "
                        f"required: true, role: {role}}}`)",
                        where,
                    )
                )

    def layers(self) -> dict[str, m.Layer]:
        out = {}
        for name, body in self.section("layers").items():
            runtime = body.get("runtime", "server")
            if runtime not in a.LAYER_RUNTIMES:
                self.bad(body, "runtime", f"runtime must be browser or server, got '{runtime}'")
                runtime = "server"
            out[name] = m.Layer(name, body.get("description", ""), runtime)
        return out

    def forecast(self, states: tuple[m.FunnelState, ...]) -> a.Forecast | None:
        body = self.sections.values.get("forecast")
        if body is None:
            return None
        by_id = {s.id: s for s in states}
        outcomes = []
        for name, item in body["outcomes"].items():
            state = self.ref(item, "state", by_id, "state")
            if state is None:
                continue
            outcomes.append(
                a.ForecastOutcome(name, item.get("title", name), state, item.get("description", ""))
            )
        names = [o.name for o in outcomes]
        objective = body.get("objective", names[-1] if names else "")
        if "objective" in body and objective not in body["outcomes"]:
            self.diagnostics.append(
                error(
                    "TP008",
                    f"objective '{objective}' is not an outcome{suggest(objective, names)}",
                    body.value_loc("objective"),
                )
            )
        entry = None
        if "entry" in body:
            e = body["entry"]
            if self.probability(e, "rate"):
                entry = a.ForecastEntry(
                    e.get("title", "Impressions"), float(e["rate"]), e.get("description", "")
                )
        return a.Forecast(tuple(outcomes), objective, entry, body.get("description", ""))

    def churn(self, events: dict[str, m.Event]) -> a.Churn | None:
        body = self.sections.values.get("churn")
        if body is None:
            return None
        days = body["inactivity_days"]
        if days < 1:
            self.bad(body, "inactivity_days", "inactivity_days must be at least 1")
        windows = tuple(body.get("windows", (days,)))
        for i, w in enumerate(windows):
            if w < 1:
                self.diagnostics.append(
                    error(
                        "TP009",
                        "a churn window must be at least 1 day",
                        body["windows"].item_loc(i),
                    )
                )
        subs = None
        if "subscriptions" in body:
            s = body["subscriptions"]
            started = self.ref(s, "started", events, "event")
            canceled = self.ref(s, "canceled", events, "event")
            if started and canceled:
                for event in (started, canceled):
                    if events[event].get(s["key"]) is None:
                        self.bad(
                            s, "key", f"'{s['key']}' is not a property of event '{event}'", "TP008"
                        )
                subs = a.Subscriptions(started, canceled, s["key"])
        return a.Churn(
            activity_events=self.known(body["activity_events"], events, "event"),
            inactivity_days=days,
            windows=windows,
            cancel_events=self.known(body.get("cancel_events"), events, "event"),
            subscriptions=subs,
            one_off_purchases=self._purchases(body.get("one_off_purchases"), events),
            subscription_purchases=self._purchases(body.get("subscription_purchases"), events),
            description=body.get("description", ""),
        )

    def _purchases(
        self, items: YList | None, events: dict[str, m.Event]
    ) -> tuple[a.PurchaseClass, ...]:
        out = []
        for item in items or ():
            event = self.ref(item, "event", events, "event")
            if event is None:
                continue
            prop = item.get("property")
            if prop is not None and events[event].get(prop) is None:
                self.bad(
                    item, "property", f"'{prop}' is not a property of event '{event}'", "TP008"
                )
                continue
            if prop is None and "values" in item:
                self.bad(item, "values", "values need a property to compare them with")
                continue
            out.append(a.PurchaseClass(event, prop, tuple(item.get("values", ()))))
        return tuple(out)

    def revenue(self, events: dict[str, m.Event]) -> a.Revenue | None:
        body = self.sections.values.get("revenue")
        if body is None:
            return None
        return a.Revenue(
            self._sources(body["events"], events),
            self._sources(body.get("refunds"), events),
            body.get("description", ""),
        )

    def _sources(
        self, items: YList | None, events: dict[str, m.Event]
    ) -> tuple[a.RevenueSource, ...]:
        out = []
        for item in items or ():
            event = self.ref(item, "event", events, "event")
            if event is None:
                continue
            value = events[event].get(item["value"])
            if value is None:
                self.bad(
                    item,
                    "value",
                    f"'{item['value']}' is not a property of event '{event}'",
                    "TP008",
                )
                continue
            if value.property.type not in NUMERIC:
                self.bad(
                    item, "value", f"'{item['value']}' is a {value.property.type}, not a number"
                )
                continue
            currency = item.get("currency")
            if currency is not None and events[event].get(currency) is None:
                self.bad(
                    item, "currency", f"'{currency}' is not a property of event '{event}'", "TP008"
                )
                continue
            out.append(a.RevenueSource(event, item["value"], currency))
        return tuple(out)

    def synth_profile(self) -> str | None:
        body = self.sections.values.get("synth")
        if body is None:
            return None
        name = body["profile"]
        if not _PY_NAME.match(name) or keyword.iskeyword(name):
            self.bad(body, "profile", f"profile '{name}' is not a Python package name")
            return None
        return str(name)

    def _plan_loc(self) -> Location:
        plan: Any = self.sections.values.get("plan")
        return plan.loc if isinstance(plan, YMap) else Location("", 0, 0)

"""Resolve the churn hazard (PRD §6, §12): who is at risk, from when, and the covariates that
raise their probability of churning. Every reference is checked where it is written."""

from __future__ import annotations

from compiler.diagnostics import error
from compiler.plan import model as m
from compiler.plan import model_analytics as a
from compiler.plan.references import References


class HazardResolver(References):
    def hazard(
        self, states: tuple[m.FunnelState, ...], events: dict[str, m.Event], churn: a.Churn | None
    ) -> a.Hazard | None:
        body = self.sections.values.get("hazard")
        if body is None:
            return None
        by_id = {s.id: s for s in states}
        chain = {s.id: s for s in states if s.event is not None}
        state = self.ref(body, "state", by_id, "state")
        if state is not None and (by_id[state].rule is None or by_id[state].rule.kind != "inactive_for"):  # type: ignore[union-attr]
            self.bad(
                body,
                "state",
                f"the hazard models a churn state; '{state}' has no inactive_for rule",
            )
            state = None
        at_risk = self.ref(body, "at_risk", chain, "chain state")
        anchor = self.ref(body, "anchor", chain, "chain state")
        ok = all(self.probability(body, k) for k in ("base", "max") if k in body)
        default_window = churn.inactivity_days if churn else 30
        if state is not None and by_id[state].rule is not None:
            default_window = by_id[state].rule.days  # type: ignore[union-attr]
        covariates = {}
        for name, item in body.get("covariates", {}).items():
            event = self.ref(item, "event", events, "event")
            ok_item = self.probability(item, "share") if "share" in item else True
            if not -1 <= item["extra"] <= 1:
                self.bad(item, "extra", f"extra is a change in probability; got {item['extra']}")
                ok_item = False
            prop = test = value = None
            if "where" in item:
                where = item["where"]
                prop = where["property"]
                tests = [t for t in a.COVARIATE_TESTS if t in where]
                if len(tests) != 1:
                    self.diagnostics.append(
                        error("TP009", "where needs exactly one of above, below, equals", where.loc)
                    )
                    ok_item = False
                else:
                    test, value = tests[0], where[tests[0]]
                if event is not None and events[event].get(prop) is None:
                    self.bad(
                        where, "property", f"'{prop}' is not a property of event '{event}'", "TP008"
                    )
                    ok_item = False
            if event is None or not ok_item:
                continue
            covariates[name] = a.Covariate(
                name,
                event,
                float(item["extra"]),
                float(item.get("share", 0.5)),
                prop,
                test,
                value,
                item.get("description", ""),
            )
        if state is None or at_risk is None or not ok:
            return None
        return a.Hazard(
            state=state,
            at_risk=at_risk,
            anchor=anchor,
            window_days=body.get("window_days", default_window),
            base=float(body["base"]),
            max=float(body.get("max", 1.0)),
            covariates=m.frozen_map(covariates),
            description=body.get("description", ""),
        )

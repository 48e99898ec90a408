"""Resolve the `models` section: every event, property, feature, label and snapshot a model names
is looked up where it is written. Unknown names are TP008 (with "did you mean"), a bad kind or
window TP009, a key a kind needs TP016, a property (or feature) of the wrong type for what is done
with it TP021, and a model whose label does not fit its kind or the plan TP022."""

from __future__ import annotations

from compiler.diagnostics import error
from compiler.plan import model as m
from compiler.plan import model_analytics as a
from compiler.plan import model_models as mm
from compiler.plan.resolve_features import COLUMN_ROLES, RESERVED, FeatureResolver
from compiler.plan.source import YMap

_LABEL_NEEDS = {"event_within": ("event",), "churn": (), "revenue": ()}
_LABEL_ALLOWED = {
    "event_within": ("event", "where"),
    "churn": ("events", "cancel_events"),
    "revenue": (),
}


class ModelsResolver(FeatureResolver):
    def models(
        self,
        events: dict[str, m.Event],
        envelope: tuple[m.EnvelopeField, ...],
        churn: a.Churn | None,
        revenue: a.Revenue | None,
    ) -> mm.Models | None:
        body = self.sections.values.get("models")
        if body is None:
            return None
        self._events, self._churn, self._revenue = events, churn, revenue
        self._envelope = {f.name: f for f in envelope if f.role not in COLUMN_ROLES}
        features: dict[str, mm.Feature] = {}
        raw = body["features"]
        for name, item in raw.items():
            if self._name_ok(raw, name, "feature") and item["kind"] != "ratio":
                feature = self._feature(name, item)
                if feature is not None:
                    features[name] = feature
        for name, item in raw.items():
            if self._name_ok(raw, name, "feature", report=False) and item["kind"] == "ratio":
                feature = self._ratio(name, item, features, raw)
                if feature is not None:
                    features[name] = feature
        labels = {n: lab for n, i in body["labels"].items() if (lab := self._label(n, i))}
        snaps = {n: s for n, i in body["snapshots"].items() if (s := self._snapshot(n, i))}
        specs = {}
        for name, item in body["models"].items():
            if not self._name_ok(body["models"], name, "model"):
                continue
            spec = self._model(name, item, features, labels, snaps, raw)
            if spec is not None:
                specs[name] = spec
        return mm.Models(
            m.frozen_map(features),
            m.frozen_map(labels),
            m.frozen_map(snaps),
            m.frozen_map(specs),
            body.get("description", ""),
        )

    # --- features -------------------------------------------------------------------------

    def _label(self, name: str, item: YMap) -> mm.Label | None:
        kind = item["kind"]
        if not self._kind(item, mm.LABEL_KINDS, "label"):
            return None
        ok = self._keys(item, _LABEL_NEEDS[kind], _LABEL_ALLOWED[kind], "label", ("days",))
        ok = self._window(item) and ok
        event = self.ref(item, "event", self._events, "event") if "event" in item else None
        if not ok or ("event" in item and event is None):
            return None
        where_ok, where = self._where(item, event)
        if not where_ok:
            return None
        events: tuple[str, ...] = ()
        cancels: tuple[str, ...] = ()
        if kind == "churn":
            events = self.known(item.get("events"), self._events, "event")
            cancels = self.known(item.get("cancel_events"), self._events, "event")
            if "events" not in item and self._churn is not None:
                events = self._churn.activity_events
            if "cancel_events" not in item and self._churn is not None:
                cancels = self._churn.cancel_events
            if not events:
                self._unfit(
                    item,
                    "a churn label needs activity events (its own or the churn "
                    "section's activity_events)",
                )
                return None
        if kind == "revenue" and (self._revenue is None or not self._revenue.events):
            self._unfit(item, "a revenue label needs the plan's revenue section with events")
            return None
        return mm.Label(
            name, kind, item["days"], event, where, events, cancels, item.get("description", "")
        )

    def _unfit(self, item: YMap, message: str) -> None:
        self.diagnostics.append(error("TP022", message, item.key_loc("kind")))

    def _snapshot(self, name: str, item: YMap) -> mm.Snapshot | None:
        if not self._kind(item, mm.SNAPSHOT_KINDS, "snapshot"):
            return None
        every = item["kind"] == "every"
        needs = ("event", "days", "count") if every else ("event",)
        ok = self._keys(item, needs, ("event", "days"), "snapshot")
        ok = self._window(item, minimum=1 if every else 0) and ok
        count = item.get("count", 1)
        if every and not 1 <= count <= mm.MAX_PERIODS:
            self.bad(item, "count", f"count must be 1 to {mm.MAX_PERIODS}, got {count}")
            ok = False
        event = self.ref(item, "event", self._events, "event") if "event" in item else None
        if not ok or event is None:
            return None
        return mm.Snapshot(
            name, item["kind"], event, item.get("days", 0), count, item.get("description", "")
        )

    def _model(
        self,
        name: str,
        item: YMap,
        features: dict[str, mm.Feature],
        labels: dict[str, mm.Label],
        snaps: dict[str, mm.Snapshot],
        raw_features: YMap,
    ) -> mm.ModelSpec | None:
        if not self._kind(item, mm.MODEL_KINDS, "model"):
            return None
        names = self.known(item["features"], raw_features, "feature")
        labels_raw = self.sections.values["models"]["labels"]
        snaps_raw = self.sections.values["models"]["snapshots"]
        label = self.ref(item, "label", labels_raw, "label")
        snapshot = self.ref(item, "snapshot", snaps_raw, "snapshot")
        if not names:
            self._unfit(item, f"model '{name}' uses no feature")
            return None
        if "min_positives" in item and item["min_positives"] < 1:
            self.bad(item, "min_positives", "min_positives must be at least 1")
            return None
        if label is None or snapshot is None or label not in labels or snapshot not in snaps:
            return None
        if labels[label].kind not in mm.LABELS_FOR[item["kind"]]:
            fits = ", ".join(mm.LABELS_FOR[item["kind"]])
            self.diagnostics.append(
                error(
                    "TP022",
                    f"a {item['kind']} model needs a label of kind {fits}; '{label}' is a "
                    f"{labels[label].kind} label",
                    item.value_loc("label"),
                )
            )
            return None
        snap, lab = snaps[snapshot], labels[label]
        if item["kind"] == "hazard" and (snap.kind != "every" or snap.days != lab.days):
            self.diagnostics.append(
                error(
                    "TP022",
                    "a hazard model needs a snapshot of kind every whose days (the period) equal "
                    f"its label's days; '{snapshot}' is {snap.kind} every {snap.days} days, "
                    f"'{label}' looks {lab.days} days ahead",
                    item.value_loc("snapshot"),
                )
            )
            return None
        if any(n not in features for n in names):
            return None  # the feature's own problem is reported where it is written
        return mm.ModelSpec(
            name,
            item["kind"],
            tuple(features[n] for n in names),
            labels[label],
            snaps[snapshot],
            item.get("min_positives", 50),
            item.get("title", name),
            item.get("description", ""),
        )


__all__ = ["ModelsResolver", "RESERVED"]

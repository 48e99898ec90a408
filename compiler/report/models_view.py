"""One report section per trained model: its definitions and windows in words, the holdout
metrics beside the baseline's, a reliability plot, the top features with their direction, a
regression's mean prediction by acquisition attribute, and where the scores were written.

Everything shown comes from the model file (its definitions, split, metrics, importances) and
from `model_scores.prepare` (the scores file and the groups); nothing is recomputed here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from compiler.plan.model_models import VALUE_KINDS
from compiler.report import charts
from compiler.report.model_inputs import MAX_LEVELS, MIN_PERSONS, GroupMean, ModelInputs
from compiler.report.view import Chart, Section, Table, count, pct

FIRST, LAST = VALUE_KINDS
TOP_FEATURES = 10
# (key, title, lower is better) in the order `train` prints them.
CLASSIFICATION = (
    ("roc_auc", "ROC AUC", False),
    ("pr_auc", "PR AUC", False),
    ("brier", "Brier score", True),
    ("log_loss", "log loss", True),
    ("ece", "calibration error", True),
)
REGRESSION = (("mae", "MAE", True), ("rmse", "RMSE", True), ("r2", "R2", False))


def number(value: float | None) -> str:
    return "–" if value is None else f"{value:,.4f}"


def _where(where: Mapping[str, Any] | None) -> str:
    if not where:
        return ""
    sign = {"above": ">", "below": "<", "equals": "="}.get(str(where["test"]), where["test"])
    return f" with {where['property']} {sign} {where['value']}"


def _window(days: int | None) -> str:
    return "all time" if days is None else f"the last {days} day(s)"


def feature_words(f: Mapping[str, Any]) -> str:
    """How a feature is computed, in words (from its definition in the model file)."""
    kind, event, prop = f["kind"], f.get("event"), f.get("property")
    of = f"{event}{_where(f.get('where'))}" if event else "event"
    words = {
        "count": f"count of {of} over {_window(f.get('days'))}",
        "sum": f"sum of {prop} on {of} over {_window(f.get('days'))}",
        "mean": f"mean of {prop} on {of} over {_window(f.get('days'))}",
        "max": f"largest {prop} on {of} over {_window(f.get('days'))}",
        "distinct_count": f"distinct {prop} on {of} over {_window(f.get('days'))}",
        "days_since_first": f"days since the first {of}",
        "days_since_last": f"days since the last {of}",
        FIRST: f"{prop} on the first {of} that carries it",
        LAST: f"{prop} on the last {of} that carries it",
        "time_between": f"days from the first {event} to the first {f.get('to_event')}",
        "ratio": f"{f.get('numerator')} / {f.get('denominator')}",
    }.get(kind, kind)
    described = f" — {f['description']}" if f.get("description") else ""
    return f"{f['name']}: {words}{described}"


def label_words(label: Mapping[str, Any]) -> str:
    days = label["days"]
    if label["kind"] == "event_within":
        text = f"1 when {label['event']}{_where(label.get('where'))} happens within {days} days "
        text += "after the snapshot, else 0"
    elif label["kind"] == "churn":
        active = ", ".join(label.get("events") or ()) or "activity"
        text = f"1 when no {active} happens within {days} days after the snapshot"
        if label.get("cancel_events"):
            text += f", or {', '.join(label['cancel_events'])} does"
    else:
        text = f"net revenue in the {days} days after the snapshot"
    return f"Label {label['name']}: {text}."


def snapshot_words(snap: Mapping[str, Any]) -> str:
    if snap["kind"] == "every":
        text = (
            f"at {snap['count']} snapshots {snap['days']} days apart, the first at the person's "
            f"first {snap['event']}"
        )
    else:
        text = f"{snap['days']} day(s) after the person's first {snap['event']}"
    return f"Snapshot {snap['name']}: each person is scored {text}; features see events up to then."


def split_words(meta: Mapping[str, Any]) -> str:
    s = meta["split"]
    what = "with revenue" if meta["kind"] == "regression" else "positive"
    text = (
        f"Split by time: trained on {count(s['train_rows'])} snapshots taken up to "
        f"{s['train_until']} ({count(s['train_positives'])} {what}); a {s['gap_days']}-day gap "
        f"(the label's horizon); judged on {count(s['holdout_rows'])} snapshots after "
        f"{s['holdout_after']} ({count(s['holdout_positives'])} {what})."
    )
    if meta.get("calibration"):
        text += (
            f" Probabilities calibrated ({meta['calibration']}) on the latest "
            f"{count(s.get('calibration_rows'))} training snapshots."
        )
    return text


def metrics_table(meta: Mapping[str, Any]) -> Table:
    scores = meta["metrics"]
    model, base = scores["model"], scores["baseline"]
    regression = meta["kind"] == "regression"
    table = Table(
        ["holdout metric", "model", "baseline", "better"],
        caption="Holdout metrics, model beside the linear baseline",
        trailing_text=1,
    )
    for key, title, lower in REGRESSION if regression else CLASSIFICATION:
        a, b = float(model[key]), float(base[key])
        better = "tie" if a == b else ("model" if (a < b) == lower else "baseline")
        table.rows.append([title, number(a), number(b), better])
    if not regression:
        table.rows.append(
            [
                "ROC AUC 95% interval (bootstrap)",
                f"{number(model['roc_auc_low'])} – {number(model['roc_auc_high'])}",
                f"{number(base['roc_auc_low'])} – {number(base['roc_auc_high'])}",
                "",
            ]
        )
    return table


def importance_table(meta: Mapping[str, Any]) -> Table:
    table = Table(
        ["feature", "importance", "± sd", "direction"],
        caption=f"Top {TOP_FEATURES} features (permutation importance on the holdout)",
        trailing_text=1,
    )
    for imp in meta["importances"][:TOP_FEATURES]:
        direction = {
            "+": "higher value, higher prediction",
            "-": "higher value, lower prediction",
            "none": "no clear direction",
        }.get(imp["direction"], imp["direction"])
        table.rows.append([imp["feature"], number(imp["mean"]), number(imp["std"]), direction])
    return table


def hazard_table(meta: Mapping[str, Any]) -> Table:
    """A hazard model's features: hazard ratio per unit with its 95% interval, largest effect
    (|coefficient|) first, as `train` orders them."""
    table = Table(
        ["covariate", "hazard ratio per unit", "95% interval", "direction"],
        caption=f"{meta['hazard']['model']}: hazard ratios",
        trailing_text=1,
    )
    found = {c["name"]: c for c in meta["hazard"]["covariates"]}
    for imp in meta["importances"][:TOP_FEATURES]:
        c = found[imp["feature"]]
        raises = "raises the hazard" if c["coef"] > 0 else "lowers the hazard"
        span = f"{number(c['hr_low'])} – {number(c['hr_high'])}"
        table.rows.append([c["name"], number(c["hazard_ratio"]), span, raises])
    return table


def reliability_chart(meta: Mapping[str, Any]) -> Chart | None:
    curves = []
    for key, label in (("model", "model"), ("baseline", "baseline")):
        bins = meta["metrics"][key].get("calibration") or []
        if bins:
            curves.append(
                charts.Curve(label, [b["predicted"] for b in bins], [b["observed"] for b in bins])
            )
    if not curves:
        return None
    return Chart(
        charts.reliability(curves),
        "Reliability on the holdout: observed share against mean predicted probability per "
        "bin, model and baseline, with the diagonal of perfect calibration",
    )


def value(v: float | None) -> str:
    """A predicted value (money over the label window) to the cent."""
    return "–" if v is None else f"{v:,.2f}"


def group_table(feature: str, rows: list[GroupMean]) -> Table:
    table = Table(
        [feature, "persons", "mean predicted value", "95% interval (t)"],
        caption=f"Predicted value over the label window by {feature}",
    )
    for g in rows:
        span = f"{value(g.low)} – {value(g.high)}" if g.low is not None else "–"
        table.rows.append([g.level, count(g.persons), value(g.mean), span])
    return table


def model_section(found: ModelInputs) -> Section:
    meta = found.meta
    definition = meta["definition"]
    section = Section(
        f"model-{found.name}",
        f"{meta.get('title') or found.name} ({meta['kind']})",
        intro=f"Model {found.name}, trained with trackplan train on plan {meta['plan']['name']} "
        f"v{meta['plan']['version']}.",
    )
    section.steps.append(
        (
            "Definitions and windows",
            [
                label_words(definition["label"]),
                snapshot_words(definition["snapshot"]),
                split_words(meta),
            ],
        )
    )
    section.steps.append(("Features", [feature_words(f) for f in definition["features"]]))
    section.tables.append(metrics_table(meta))
    chart = reliability_chart(meta)
    if chart is not None:
        section.charts.append(chart)
    elif meta["kind"] != "regression":
        section.notes.append("Reliability plot: the model file holds no calibration bins.")
    if meta.get("hazard"):
        section.tables.append(hazard_table(meta))
    elif meta["importances"]:
        section.tables.append(importance_table(meta))
    else:
        section.notes.append("Top features: the model file holds no importances.")
    _groups(found, section)
    _scores(found, section)
    return section


def _groups(found: ModelInputs, section: Section) -> None:
    if "by_acquisition" in found.skipped:
        section.notes.append(f"Value by acquisition attribute: {found.skipped['by_acquisition']}.")
        return
    for feature in found.acquisition:
        rows = [g for g in found.groups if g.feature == feature]
        if rows:
            section.tables.append(group_table(feature, rows))
    section.notes.append(
        f"By acquisition attribute: each value held by at least {MIN_PERSONS} persons (the "
        f"{MAX_LEVELS} largest), the rest pooled; intervals are 95% Student t intervals of the "
        "group's mean prediction (mean ± t(0.975, n − 1) · s / √n)."
    )


def _scores(found: ModelInputs, section: Section) -> None:
    regression = found.meta["kind"] == "regression"
    what = "predicted value" if regression else "probability"
    shown = value(found.top_decile) if regression else pct(found.top_decile)
    top = f"; the best 10% reach {shown}" if found.top_decile is not None else ""
    section.notes.append(
        f"The persons most worth reaching: {found.scores_path} ({count(found.scored)} persons, "
        f"highest {what} first{top})."
    )


def model_sections(models: tuple[ModelInputs, ...]) -> list[Section]:
    return [model_section(found) for found in models]

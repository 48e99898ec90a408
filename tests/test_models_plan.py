"""The plan's `models` section: both plans declare models that lint clean, and one small broken
plan per diagnostic reports its code at the file and line where the mistake is written."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from models_support import SHIPPED, SHOPFAST

from compiler.plan import load_plan
from compiler.plan.model_models import FEATURE_KINDS

BASE = """\
models:
  description: A small valid models section that broken cases are derived from.
  snapshots:
    day_one: {kind: after_first, event: app_opened, days: 1}
    weekly: {kind: every, event: app_opened, days: 7, count: 4}
  labels:
    orders_14d: {kind: event_within, event: order_placed, days: 14}
    revenue_30d: {kind: revenue, days: 30}
  features:
    opens: {kind: count, event: app_opened, days: 7}
    views: {kind: count, event: product_viewed}
    carts: {kind: count, event: cart_item_added}
    cart_rate: {kind: ratio, numerator: carts, denominator: views}
    price: {kind: mean, event: product_viewed, property: unit_price}
    os: {kind: first_value, event: app_opened, property: os}
    push: {kind: count, event: app_opened, where: {property: launch_type, equals: push}}
  models:
    will_order:
      description: Orders within 14 days.
      kind: classification
      snapshot: day_one
      label: orders_14d
      features: [opens, views, cart_rate, price, os, push]
"""

# (case, text replaced, replacement, code, the text the diagnostic points at, message words)
CASES = [
    (
        "hazard_needs_periods",
        "kind: classification",
        "kind: hazard",
        "TP022",
        "day_one\n      label",
        "needs a snapshot of kind every",
    ),
    ("period_count", "count: 4}", "count: 0}", "TP009", "count: 0", "count must be 1 to"),
    ("every_needs_count", ", count: 4}", "}", "TP016", "weekly:", "needs 'count'"),
    (
        "unknown_event",
        "event: product_viewed}",
        "event: product_view}",
        "TP008",
        "product_view}",
        "did you mean 'product_viewed'",
    ),
    (
        "unknown_property",
        "property: unit_price}",
        "property: unit_cost}",
        "TP008",
        "unit_cost",
        "not a property of event 'product_viewed'",
    ),
    (
        "mean_of_text",
        "property: unit_price}",
        "property: currency}",
        "TP021",
        "currency",
        "a mean needs a number",
    ),
    (
        "ratio_of_non_count",
        "denominator: views}",
        "denominator: price}",
        "TP021",
        "price}",
        "a ratio divides counts",
    ),
    ("above_on_text", "equals: push}", "above: 3}", "TP021", "3}", "above compares numbers"),
    ("equals_wrong_type", "equals: push}", "equals: 3}", "TP021", "3}", "not a value of"),
    (
        "unknown_feature",
        "[opens, views,",
        "[opens, veiws,",
        "TP008",
        "veiws",
        "undefined feature 'veiws' (did you mean 'views'?)",
    ),
    ("feature_twice", "[opens, views,", "[opens, opens,", "TP017", "opens, cart", "listed twice"),
    ("zero_window", "days: 7}", "days: 0}", "TP009", "days: 0}", "at least 1"),
    ("negative_horizon", "days: 14}", "days: -3}", "TP009", "-3}", "at least 1"),
    (
        "duplicate_name",
        "    views: {kind: count, event: product_viewed}\n",
        "    views: {kind: count, event: product_viewed}\n    views: {kind: count, event: app_opened}\n",
        "TP002",
        "views: {kind: count, event: app_opened",
        "duplicate key 'views'",
    ),
    (
        "reserved_name",
        "    os: {kind",
        "    label: {kind",
        "TP007",
        "label: {kind",
        "a column every features query returns",
    ),
    ("unknown_kind", "kind: mean,", "kind: average,", "TP009", "average", "unknown feature kind"),
    (
        "missing_key",
        "kind: count, event: app_opened, days: 7}",
        "kind: count, days: 7}",
        "TP016",
        "opens:",
        "needs 'event'",
    ),
    (
        "key_not_for_kind",
        "event: app_opened, property: os}",
        "event: app_opened, property: os, days: 3}",
        "TP009",
        "3}",
        "does not apply",
    ),
    (
        "label_does_not_fit",
        "label: orders_14d\n",
        "label: revenue_30d\n",
        "TP022",
        "revenue_30d\n      features",
        "needs a label of kind",
    ),
    (
        "unknown_snapshot",
        "snapshot: day_one\n",
        "snapshot: day_two\n",
        "TP008",
        "day_two",
        "undefined snapshot",
    ),
]


def _plan_with(tmp_path: Path, text: str) -> Path:
    plan_dir = tmp_path / "plan"
    shutil.copytree(SHOPFAST, plan_dir)
    (plan_dir / "models.yaml").write_text(text, encoding="utf-8")
    return plan_dir


def test_base_case_is_clean(tmp_path: Path) -> None:
    result = load_plan(_plan_with(tmp_path, BASE))
    assert not result.diagnostics, [d.format() for d in result.diagnostics]
    assert result.plan.models is not None
    assert list(result.plan.models.models) == ["will_order"]


@pytest.mark.parametrize(
    ("case", "old", "new", "code", "at", "words"), CASES, ids=[c[0] for c in CASES]
)
def test_broken_models_section(  # noqa: PLR0913
    tmp_path: Path, case: str, old: str, new: str, code: str, at: str, words: str
) -> None:
    assert BASE.count(old) == 1, case
    text = BASE.replace(old, new)
    line = text[: text.index(at)].count("\n") + 1
    result = load_plan(_plan_with(tmp_path, text))
    found = [d for d in result.diagnostics if d.code == code]
    assert found, [d.format() for d in result.diagnostics]
    diag = found[0]
    assert diag.location is not None and Path(diag.location.file).name == "models.yaml"
    assert diag.location.line == line, diag.format()
    assert words in diag.message, diag.format()
    assert result.plan.models is not None  # the rest of the section still resolves


def test_models_section_defined_twice(tmp_path: Path) -> None:
    plan_dir = _plan_with(tmp_path, BASE)
    (plan_dir / "more_models.yaml").write_text(BASE, encoding="utf-8")
    found = [d for d in load_plan(plan_dir).diagnostics if d.code == "TP002"]
    assert found and "section 'models' is defined again" in found[0].message
    assert found[0].location is not None and found[0].location.line == 1


@pytest.mark.parametrize("plan_dir", [SHIPPED, SHOPFAST], ids=["shipped", "shopfast"])
def test_both_plans_declare_models_that_lint_clean(plan_dir: Path) -> None:
    result = load_plan(plan_dir)
    assert not result.errors, [d.format() for d in result.errors]
    models = result.plan.models
    assert models is not None
    kinds = {spec.kind for spec in models.models.values()}
    assert {"classification", "regression"} <= kinds
    for spec in models.models.values():
        assert spec.features and spec.fingerprint() == spec.fingerprint()


def test_shipped_plan_declares_prd_models_and_every_feature_kind() -> None:
    models = load_plan(SHIPPED).plan.models
    assert models is not None
    specs = models.models
    assert specs["purchase_propensity"].label.kind == "event_within"
    assert specs["churn_propensity"].label.kind == "churn"
    assert {specs[f"ltv_{n}d"].label.days for n in (30, 60, 90)} == {30, 60, 90}
    # the §6 hazard covariates its events support
    assert {
        "days_since_last_job",
        "job_fail_rate",
        "avg_processing_time",
        "credits_remaining",
    } <= set(models.features)
    assert {f.kind for f in models.features.values()} == set(FEATURE_KINDS)

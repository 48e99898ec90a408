"""Lint of the analytics declarations: codegen names, envelope roles (TP019), layer runtimes,
states with any ids, and the forecast, churn, revenue and hazard sections.

Each case appends one YAML file to a copy of the minimal plan and checks the code, file, line
and message; the clean cases check what the plan resolves to.
"""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

from compiler.plan import load_plan
from compiler.plan.resolve_analytics import slug

MINIMAL = Path(__file__).parent / "fixtures" / "plans" / "minimal"


def plan_with(tmp_path: Path, extra: str, *, drop: tuple[str, ...] = ()) -> Path:
    """A copy of the minimal plan, without the top-level sections in `drop`, plus `extra`."""
    target = tmp_path / "plan"
    shutil.copytree(MINIMAL, target)
    if drop:
        kept, skipping = [], False
        for line in (target / "plan.yaml").read_text().splitlines(keepends=True):
            if line[:1].isalpha():
                skipping = line.split(":")[0] in drop
            if not skipping:
                kept.append(line)
        (target / "plan.yaml").write_text("".join(kept))
    (target / "extra.yaml").write_text(textwrap.dedent(extra))
    return target


def codes(plan_dir: Path) -> list[tuple[str, str, int, str]]:
    result = load_plan(plan_dir)
    return [
        (
            d.code,
            Path(d.location.file).name if d.location else "",
            d.location.line if d.location else 0,
            d.message,
        )
        for d in result.diagnostics
        if d.is_error
    ]


FUNNEL = """\
forecast:
  description: The forecast.
  entry: {title: Impressions, rate: 0.05}
  objective: completed
  outcomes:
    created: {title: Created, state: S0}
    completed: {title: Completed, state: S1}
"""


def test_the_minimal_plan_with_a_forecast_is_clean(tmp_path):
    plan_dir = plan_with(tmp_path, FUNNEL)
    assert codes(plan_dir) == []
    plan = load_plan(plan_dir).plan
    assert plan.forecast is not None
    assert [o.name for o in plan.forecast.outcomes] == ["created", "completed"]
    assert plan.forecast.objective == "completed"
    assert plan.forecast.entry is not None and plan.forecast.entry.rate == 0.05


@pytest.mark.parametrize(
    ("name", "package", "dist", "npm"),
    [
        ("ShopFast", "shopfast_analytics", "shopfast-analytics", "@shopfast/analytics"),
        ("Acme Corp.", "acme_corp_analytics", "acme-corp-analytics", "@acme-corp/analytics"),
        ("3D Prints", "p_3d_prints_analytics", "p-3d-prints-analytics", "@p-3d-prints/analytics"),
        ("Café Olé", "caf_ol_analytics", "caf-ol-analytics", "@caf-ol/analytics"),
    ],
)
def test_codegen_names_default_from_the_plan_name(tmp_path, name, package, dist, npm):
    plan_dir = plan_with(tmp_path, "")
    text = (plan_dir / "plan.yaml").read_text().replace("name: Mini", f"name: {name}", 1)
    (plan_dir / "plan.yaml").write_text(text)
    assert codes(plan_dir) == []
    codegen = load_plan(plan_dir).plan.codegen
    assert (codegen.python_package, codegen.python_distribution, codegen.npm_package) == (
        package,
        dist,
        npm,
    )
    # The minimal plan has no environment role, so there is no default environment.
    assert codegen.default_environment is None
    assert slug(name) == package.removesuffix("_analytics")


def test_codegen_names_are_checked(tmp_path):
    plan_dir = plan_with(
        tmp_path,
        """\
        codegen:
          python_package: Shop-Fast
          npm_package: "@Shop/Analytics"
          default_environment: prod
        """,
    )
    found = codes(plan_dir)
    assert ("TP009", "extra.yaml", 2, "'Shop-Fast' is not a Python import name") in found
    assert ("TP009", "extra.yaml", 3, "'@Shop/Analytics' is not an npm package name") in found
    assert any(c[0] == "TP009" and c[2] == 4 and "role environment" in c[3] for c in found)


def test_default_environment_comes_from_the_environment_enum(tmp_path):
    extra = """\
    properties:
      env:
        type: string
        enum: [production, staging]
        description: Deployment.
    envelope:
      env: {placement: top, required: true, role: environment}
    """
    plan_dir = plan_with(tmp_path, extra)
    assert codes(plan_dir) == []
    plan = load_plan(plan_dir).plan
    assert plan.codegen.default_environment == "production"
    assert plan.role("environment") is not None and plan.role("environment").name == "env"

    extra = textwrap.dedent(extra) + "codegen:\n  default_environment: prod\n"
    bad = plan_with(tmp_path / "b", extra)
    assert any(
        c[0] == "TP009" and "'prod' is not one of env's values (production, staging)" in c[3]
        for c in codes(bad)
    )


def test_missing_roles_are_tp019_with_the_envelope_location(tmp_path):
    plan_dir = plan_with(
        tmp_path,
        """\
        envelope:
          user_id: {placement: top, required: false}
        """,
        drop=("envelope",),
    )
    found = [c for c in codes(plan_dir) if c[0] == "TP019"]
    assert [c[3].split("'")[1] for c in found] == ["distinct_id", "timestamp"]
    # The merged envelope section points at its first field.
    assert all(c[1:3] == ("extra.yaml", 2) for c in found)


def test_an_explicit_role_wins_over_a_name_and_roles_are_unique(tmp_path):
    plan_dir = plan_with(
        tmp_path,
        """\
        properties:
          anon_id:
            type: string
            description: Who.
        envelope:
          anon_id: {placement: top, required: true, role: distinct_id}
        """,
    )
    assert codes(plan_dir) == []
    plan = load_plan(plan_dir).plan
    assert plan.role("distinct_id").name == "anon_id"  # the field named distinct_id steps back
    assert plan.envelope_field("distinct_id").role is None

    twice = plan_with(
        tmp_path / "b",
        """\
        properties:
          anon_id: {type: string, description: Who.}
          other_id: {type: string, description: Who else.}
        envelope:
          anon_id: {placement: top, required: true, role: distinct_id}
          other_id: {placement: top, required: true, role: distinct_id}
        """,
    )
    assert any(c[0] == "TP017" and "role 'distinct_id'" in c[3] for c in codes(twice))
    unknown = plan_with(
        tmp_path / "c",
        """\
        envelope:
          user_id: {placement: top, required: false, role: userid}
        """,
        drop=("envelope",),
    )
    assert any(c[0] == "TP009" and "did you mean 'user_id'" in c[3] for c in codes(unknown))


def test_layers_declare_a_runtime_under_any_name(tmp_path):
    plan_dir = plan_with(
        tmp_path,
        """\
        layers:
          mobile_app: {runtime: browser, description: The app.}
          kiosk: {runtime: desktop, description: Kiosk.}
          web_worker: {description: Background jobs.}
        """,
    )
    found = codes(plan_dir)
    assert any(c[:3] == ("TP009", "extra.yaml", 3) and "'desktop'" in c[3] for c in found)
    plan = load_plan(plan_dir).plan
    assert sorted(plan.browser_layers()) == ["mobile_app", "web"]
    # The default is server, whatever the name says.
    assert plan.layers["web_worker"].runtime == "server"


def test_states_take_any_ids_in_plan_order(tmp_path):
    plan_dir = plan_with(
        tmp_path,
        """\
        states:
          browse: {name: Browsed, event: job_created}
          buy: {name: Bought, event: purchase_completed}
          finish: {name: Finished, event: processing_completed}
          came_back:
            name: Came back
            rule: {kind: active_within, after: buy, events: [processing_completed], days: 7}
        transitions:
          buy|browse: {rate: 0.5, alias: p_buy}
          finish|buy: {description: No default; only fit can learn it.}
        """,
        drop=("states", "transitions"),
    )
    assert codes(plan_dir) == []
    plan = load_plan(plan_dir).plan
    assert [(s.id, s.index) for s in plan.states] == [
        ("browse", 0),
        ("buy", 1),
        ("finish", 2),
        ("came_back", 3),
    ]
    assert [s.id for s in plan.chain] == ["browse", "buy", "finish"]
    assert plan.transition("buy", "browse").alias == "p_buy"
    assert plan.transition("finish", "buy").rate is None

    bad = plan_with(
        tmp_path / "b",
        """\
        states:
          2nd: {name: Second, event: job_created}
        transitions:
          S1-S0: {rate: 0.5}
        """,
    )
    found = codes(bad)
    assert any(c[0] == "TP009" and "state id '2nd'" in c[3] for c in found)
    assert any(c[0] == "TP009" and "'TO|FROM'" in c[3] for c in found)


def test_forecast_references_are_checked(tmp_path):
    plan_dir = plan_with(
        tmp_path,
        """\
        forecast:
          description: The forecast.
          entry: {rate: 1.5}
          objective: sold
          outcomes:
            created: {title: Created, state: S0}
            done: {title: Done, state: S9}
        """,
    )
    found = codes(plan_dir)
    assert ("TP009", "extra.yaml", 3) in [c[:3] for c in found]
    assert any(c[:3] == ("TP008", "extra.yaml", 4) and "'sold'" in c[3] for c in found)
    assert any(
        c[:3] == ("TP008", "extra.yaml", 7) and "undefined state 'S9'" in c[3] for c in found
    )


def test_churn_revenue_and_hazard_resolve(tmp_path):
    plan_dir = plan_with(
        tmp_path,
        """\
        states:
          S2:
            name: Churned
            rule: {kind: inactive_for, events: [processing_completed], days: 14}
        churn:
          description: Churn.
          activity_events: [processing_completed]
          inactivity_days: 14
          one_off_purchases:
            - {event: purchase_completed, property: currency, values: [EUR]}
        revenue:
          description: Money.
          events:
            - {event: purchase_completed, value: price, currency: currency}
        hazard:
          description: Hazard.
          state: S2
          at_risk: S1
          base: 0.3
          covariates:
            slow:
              description: Slow.
              event: processing_completed
              where: {property: mode, equals: slow}
              extra: 0.1
        """,
    )
    assert codes(plan_dir) == []
    plan = load_plan(plan_dir).plan
    assert plan.churn is not None and plan.churn.windows == (14,)
    assert plan.churn.one_off_purchases[0].values == ("EUR",)
    assert plan.revenue is not None and plan.revenue.events[0].value == "price"
    hazard = plan.hazard
    assert hazard is not None
    assert (hazard.state, hazard.at_risk, hazard.anchor, hazard.window_days) == (
        "S2",
        "S1",
        None,
        14,
    )
    assert hazard.max == 1.0
    slow = hazard.covariates["slow"]
    assert (slow.event, slow.property, slow.test, slow.value, slow.extra) == (
        "processing_completed",
        "mode",
        "equals",
        "slow",
        0.1,
    )


def test_churn_revenue_and_hazard_errors_point_at_their_lines(tmp_path):
    plan_dir = plan_with(
        tmp_path,
        """\
        churn:
          description: Churn.
          activity_events: [processing_complete]
          inactivity_days: 14
          one_off_purchases:
            - {event: purchase_completed, property: plan_name}
        revenue:
          description: Money.
          events:
            - {event: purchase_completed, value: currency}
        hazard:
          description: Hazard.
          state: S1
          at_risk: S7
          base: 0.3
          covariates:
            slow:
              description: Slow.
              event: processing_completed
              where: {property: mode, above: 1, below: 2}
              extra: 2
        """,
    )
    found = codes(plan_dir)
    expected = [
        ("TP008", 3, "did you mean 'processing_completed'"),
        ("TP008", 6, "'plan_name' is not a property of event 'purchase_completed'"),
        ("TP009", 10, "'currency' is a string, not a number"),
        ("TP009", 13, "'S1' has no inactive_for rule"),
        ("TP008", 14, "undefined chain state 'S7'"),
        ("TP009", 20, "exactly one of above, below, equals"),
        ("TP009", 21, "extra is a change in probability"),
    ]
    for code, line, words in expected:
        assert any(
            c[0] == code and c[1] == "extra.yaml" and c[2] == line and words in c[3] for c in found
        ), (code, line, words, found)
    assert load_plan(plan_dir).plan.hazard is None


def test_every_layer_must_be_a_value_of_the_source_field(tmp_path):
    plan_dir = plan_with(
        tmp_path,
        """\
        layers:
          mobile: {runtime: browser, description: The app.}
        """,
    )
    assert (
        "  source:\n    type: string\n    enum: [web, server]\n"
        in (plan_dir / "plan.yaml").read_text()
    )
    found = codes(plan_dir)
    assert [c[:3] for c in found] == [("TP009", "extra.yaml", 2)], found
    assert "layer 'mobile' is not a value of 'source'" in found[0][3]


def test_meta_consent_property_is_a_boolean_property_of_the_plan(tmp_path):
    def with_consent(where: Path, name: str) -> Path:
        plan_dir = plan_with(where, "")
        text = (plan_dir / "plan.yaml").read_text()
        marker = "    description: Meta mapping.\n"
        assert marker in text
        (plan_dir / "plan.yaml").write_text(
            text.replace(marker, marker + f"    consent_property: {name}\n")
        )
        return plan_dir

    assert load_plan(plan_with(tmp_path / "none", "")).plan.meta.consent_property is None
    unknown = codes(with_consent(tmp_path / "a", "ads_ok"))
    assert [(c[0], c[3]) for c in unknown] == [("TP008", "undefined property 'ads_ok'")]
    wrong = codes(with_consent(tmp_path / "b", "currency"))
    assert [c[0] for c in wrong] == ["TP009"] and "must be a boolean" in wrong[0][3]
    shipped = load_plan(Path(__file__).parents[1] / "tracking_plan").plan
    assert shipped.meta is not None and shipped.meta.consent_property == "ads_allowed"

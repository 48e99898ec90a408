"""The generic synth engine on very different plans: whatever the plan, `trackplan audit` finds
nothing in the export, and an independent recount of the rows gives every person's truth record
(chain states and times, rule states, churn, covariates, revenue) and the config's rates.

Plans: the minimal fixture (two states, no environment role), ShopFast (a mobile layer with the
browser runtime, word state ids, envelope fields named by role), BlankLogo's plan without its
profile, and two written here: Kiosk (patterns like '^[A-Z]{3}$' and '^ord_[0-9a-f]{8}$', every
format, nullable fields, sequence rules by person and by key, an identity rule with its own
prefixes, a hazard with above/below/equals covariates) and Ledger (one server layer, no identity
rule, no source/environment/session/user roles, a dormant state with a rate and no hazard).
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from compiler.cli.main import cli
from compiler.plan import load_plan
from compiler.plan.model import FunnelState, Plan
from compiler.simulation.config import config_from_plan
from tests.conftest import FIXTURES, PLAN_DIR

KIOSK = """
plan: {name: Kiosk, version: 0.1.0, description: Cinema ticket kiosks., schema_base_uri: 'https://example.test/k/'}
layers:
  mobile: {runtime: browser, description: The kiosk app.}
  backend: {runtime: server, description: Payments and gates.}
categories:
  flow: {title: Flow, description: The purchase flow.}
  other: {title: Other, description: Everything else.}
properties:
  event: {type: string, description: Event name.}
  distinct_id: {type: string, min_length: 3, description: Distinct id.}
  timestamp: {type: string, format: date-time, description: When.}
  emitter: {type: string, enum: [mobile, backend], description: Layer.}
  stage_env: {type: string, enum: [live, test], description: Deployment.}
  member_id: {type: string, nullable: true, pattern: '^mem_[0-9a-f]{12}$', description: Member.}
  sid: {type: string, min_length: 1, description: Session.}
  app_build: {type: string, pattern: '^[0-9]+\\.[0-9]+$', description: Build.}
  campaign: {type: string, enum: [spring, summer], nullable: true, description: Campaign.}
  currency: {type: string, pattern: '^[A-Z]{3}$', description: ISO 4217.}
  order_ref: {type: string, pattern: '^ord_[0-9a-f]{8}$', description: Order.}
  amount: {type: number, minimum: 0, maximum: 500, description: Amount.}
  seats: {type: integer, minimum: 1, maximum: 8, description: Seats.}
  venue: {type: string, enum: [north, south, east], description: Venue.}
  starts_at: {type: string, format: date-time, description: Show start.}
  show_date: {type: string, format: date, description: Show date.}
  contact: {type: string, format: email, pii: true, description: Email.}
  link: {type: string, format: uri, description: Link.}
  ticket_uuid: {type: string, format: uuid, description: Ticket.}
  note: {type: string, nullable: true, max_length: 40, description: Free text.}
  tags: {type: array, items: {type: string}, description: Tags.}
  rating: {type: integer, minimum: 1, maximum: 5, description: Stars.}
  wait_ms: {type: integer, minimum: 0, description: Queue wait.}
  vip: {type: boolean, description: VIP buyer.}
  coupon: {type: string, nullable: true, pattern: '^[A-Z0-9]{6}$', description: Coupon.}
  refund_amount: {type: number, minimum: 0, description: Refunded.}
envelope:
  event: {placement: top, required: true}
  distinct_id: {placement: top, required: true}
  timestamp: {placement: top, required: true}
  emitter: {role: source, placement: top, required: true}
  stage_env: {role: environment, placement: top, required: true}
  member_id: {role: user_id, placement: top, required: false}
  sid: {role: session_id, placement: top, required: false, posthog_name: $session_id}
  app_build: {placement: properties, required: true}
  campaign: {placement: properties, required: false}
events:
  kiosk_opened: {category: flow, description: Touched., layers: [mobile], required: [venue]}
  show_browsed: {category: flow, description: Looked at a show., layers: [mobile], required: [venue, starts_at], optional: [show_date, tags]}
  seats_held: {category: flow, description: Held seats., layers: [mobile], required: [order_ref, seats], optional: [coupon]}
  payment_taken: {category: flow, description: Paid., layers: [backend], required: [order_ref, amount, currency, vip], optional: [coupon]}
  ticket_scanned: {category: other, description: Scanned at the gate., layers: [backend], required: [order_ref, ticket_uuid], envelope_required: [member_id]}
  member_logged_in: {category: other, description: Logged in., layers: [mobile, backend], optional: [contact]}
  review_left: {category: other, description: A review., layers: [mobile], required: [rating], optional: [note]}
  wait_reported: {category: other, description: Queue time., layers: [backend], required: [wait_ms]}
  refund_paid: {category: other, description: A refund., layers: [backend], required: [order_ref, refund_amount, currency]}
  newsletter_joined: {category: other, description: Newsletter., layers: [mobile], required: [contact], optional: [link]}
states:
  arrive: {name: Arrived, event: kiosk_opened}
  browse: {name: Browsed, event: show_browsed}
  hold: {name: Held seats, event: seats_held}
  pay: {name: Paid, event: payment_taken}
  comeback: {name: Came back, rule: {kind: active_within, after: pay, events: [kiosk_opened], days: 21}}
  gone: {name: Gone, rule: {kind: inactive_for, events: [kiosk_opened], days: 30}}
transitions:
  browse|arrive: {rate: 0.7}
  hold|browse: {rate: 0.4}
  pay|hold: {rate: 0.6}
  comeback|pay: {rate: 0.5}
churn: {description: Opening or browsing., activity_events: [kiosk_opened, show_browsed], inactivity_days: 30}
revenue:
  description: Payments less refunds.
  events: [{event: payment_taken, value: amount, currency: currency}]
  refunds: [{event: refund_paid, value: refund_amount, currency: currency}]
hazard:
  description: Lapsing after paying.
  state: gone
  at_risk: pay
  window_days: 30
  base: 0.3
  max: 0.9
  covariates:
    long_wait: {description: Long queue., event: wait_reported, where: {property: wait_ms, above: 60000}, extra: 0.2, share: 0.3}
    vip_buyer: {description: VIP., event: payment_taken, where: {property: vip, equals: true}, extra: -0.1, share: 0.25}
    bad_review: {description: Bad review., event: review_left, where: {property: rating, below: 3}, extra: 0.15, share: 0.2}
sequence_rules:
  pay_needs_hold: {description: Same order., events: [payment_taken], requires_before: [seats_held], match_on: order_ref}
  after_payment: {description: Same order., events: [ticket_scanned, refund_paid], requires_before: [payment_taken], match_on: order_ref}
  review_needs_login: {description: Members review., events: [review_left], requires_before: [member_logged_in], match_on: person}
identity: {description: Anonymous until login., anonymous_prefix: kio_, user_prefix: mem_, stitch_on: member_logged_in, methods: [identify, alias]}
"""

LEDGER = """
plan: {name: Ledger, version: 2.0.0, description: An invoicing API., schema_base_uri: 'https://example.test/l/'}
layers:
  api: {runtime: server, description: The API.}
categories:
  billing: {title: Billing, description: Invoices.}
properties:
  event: {type: string, description: Event name.}
  distinct_id: {type: string, pattern: '^acct_[0-9a-f]+$', description: The account.}
  timestamp: {type: string, format: date-time, description: When.}
  tenant: {type: string, pattern: '^t[0-9]{4}$', description: Tenant.}
  plan_tier: {type: string, enum: [free, team, enterprise], description: Tier.}
  seats: {type: integer, minimum: 1, maximum: 500, description: Seats.}
  total: {type: number, minimum: 0.5, maximum: 10000, description: Invoice total.}
  invoice_id: {type: string, format: uuid, description: Invoice.}
  due_on: {type: string, format: date, description: Due date.}
  labels: {type: array, items: {type: string, enum: [a, b, c]}, description: Labels.}
  reason: {type: string, nullable: true, enum: [price, other], description: Why.}
  code: {type: string, min_length: 5, max_length: 5, description: A five-letter code.}
envelope:
  event: {placement: top, required: true}
  distinct_id: {placement: top, required: true}
  timestamp: {placement: top, required: true}
  tenant: {placement: properties, required: true}
events:
  account_created: {category: billing, description: An account., layers: [api], required: [plan_tier, seats], optional: [code]}
  invoice_sent: {category: billing, description: Invoiced., layers: [api], required: [invoice_id, total, due_on], optional: [labels]}
  invoice_paid: {category: billing, description: Paid., layers: [api], required: [invoice_id, total]}
  account_closed: {category: billing, description: Closed., layers: [api], required: [reason]}
  seats_changed: {category: billing, description: Seats., layers: [api], required: [seats], optional: [plan_tier, labels]}
states:
  signup: {name: Signed up, event: account_created}
  invoiced: {name: Invoiced, event: invoice_sent}
  paid: {name: Paid, event: invoice_paid}
  active: {name: Active, rule: {kind: active_within, after: paid, events: [invoice_sent], days: 14}}
  dormant: {name: Dormant, rule: {kind: inactive_for, events: [invoice_sent], days: 30, or_events: [account_closed]}}
transitions:
  invoiced|signup: {rate: 0.7}
  paid|invoiced: {rate: 0.6}
  active|paid: {rate: 0.5}
  dormant|invoiced: {rate: 0.3}
revenue: {description: Paid invoices., events: [{event: invoice_paid, value: total}]}
sequence_rules:
  paid_after_sent: {description: Its invoice., events: [invoice_paid], requires_before: [invoice_sent], match_on: invoice_id}
  closed_after_created: {description: Created first., events: [account_closed], requires_before: [account_created], match_on: person}
"""

SHOPFAST = FIXTURES / "plans" / "shopfast"
PLANS = {
    "minimal": (FIXTURES / "plans" / "minimal", 1500),
    "shopfast": (SHOPFAST, 4000),
    "blanklogo": (PLAN_DIR, 3000),
    "kiosk": (KIOSK, 4000),
    "ledger": (LEDGER, 3000),
}


def _plan_dir(spec: Path | str, tmp: Path) -> Path:
    if isinstance(spec, Path):
        return spec
    (tmp / "plan").mkdir()
    (tmp / "plan" / "plan.yaml").write_text(spec)
    return tmp / "plan"


@pytest.fixture(scope="module", params=sorted(PLANS))
def run(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    spec, users = PLANS[request.param]
    tmp = tmp_path_factory.mktemp(request.param)
    plan_dir = _plan_dir(spec, tmp)
    result = load_plan(plan_dir)
    assert not result.errors, [d.format() for d in result.errors]
    out, truth, audit = tmp / "e.jsonl", tmp / "t.jsonl", tmp / "audit.json"
    runner = CliRunner()
    args = ["synth", "--plan", str(plan_dir), "--users", str(users), "--seed", "3"]
    made = runner.invoke(cli, [*args, "--profile", "none", "-o", str(out), "--truth", str(truth)])
    assert made.exit_code == 0, made.output
    checked = runner.invoke(
        cli, ["audit", str(out), "--plan", str(plan_dir), "--format", "json", "-o", str(audit)]
    )
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    people: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        people[row["person_id"]].append(row)
    return {
        "plan": result.plan,
        "users": users,
        "audit": json.loads(audit.read_text()),
        "audit_exit": checked.exit_code,
        "rows": rows,
        "people": people,
        "truth": [json.loads(line) for line in truth.read_text().splitlines()],
    }


def test_audit_finds_nothing(run: dict[str, Any]) -> None:
    audit = run["audit"]
    assert audit["summary"] == {}, audit["findings"][:5]
    assert run["audit_exit"] == 0 and audit["rows_unparseable"] == 0
    assert set(run["plan"].events) <= set(audit["events"])  # every plan event appears


def test_rows_are_in_time_order_with_identity(run: dict[str, Any]) -> None:
    plan: Plan = run["plan"]
    identity = plan.identity
    for events in run["people"].values():
        stamps = [e["timestamp"] for e in events]
        assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)
        assert events[0]["event"] == plan.chain[0].event
        if identity is None:
            assert len({e["distinct_id"] for e in events}) == 1
            continue
        assert events[0]["distinct_id"].startswith(identity.anonymous_prefix)
        links = [e for e in events if e["event"] in ("$identify", "$create_alias")]
        assert len(links) <= 1
        signed = [e for e in events if e["event"] == identity.stitch_on]
        assert bool(links) == bool(signed)


# -- the independent recount -------------------------------------------------------------------


def _t(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _population(plan: Plan, state: FunnelState) -> FunnelState:
    rule = state.rule
    assert rule is not None
    if rule.after:
        found = plan.state(rule.after)
        assert found is not None
        return found
    marked = [s for s in plan.chain if s.event in rule.events]
    return marked[-1] if marked else plan.chain[0]


def _passes(props: dict[str, Any], prop: str | None, test: str | None, value: Any) -> bool:
    if prop is None or test is None:
        return True
    got = props.get(prop)
    if got is None:
        return False
    if test == "equals":
        return bool(got == value)
    if isinstance(got, bool) or not isinstance(got, int | float):
        return False
    return got > value if test == "above" else got < value


def recount(plan: Plan, rated: set[str], events: list[dict[str, Any]]) -> dict[str, Any]:
    """A person's truth record, from their rows and the plan's definitions alone."""
    rows = [(_t(e["timestamp"]), e["event"], e["properties"]) for e in events]
    at: dict[str, datetime] = {}
    since = None
    for state in plan.chain:
        hits = [t for t, name, _ in rows if name == state.event and (since is None or t >= since)]
        if not hits:
            break
        at[state.id] = since = min(hits)
    out: dict[str, Any] = {"reached_state": list(at)[-1]}
    for state in plan.chain:
        out[f"at_{state.id}"] = (
            at[state.id].isoformat(timespec="microseconds") if state.id in at else None
        )
    hazard = plan.hazard
    for state in plan.states:
        rule = state.rule
        if rule is None:
            continue
        if hazard is not None and hazard.state == state.id:
            if hazard.at_risk not in at:
                out[f"state_{state.id}"] = None
                out |= {f"covariate_{name}": None for name in hazard.covariates}
                continue
            anchor = at.get(hazard.anchor or hazard.at_risk, at[hazard.at_risk])
            active = plan.churn.activity_events if plan.churn else rule.events
            exits = plan.churn.cancel_events if plan.churn else rule.or_events
            end = anchor + timedelta(days=hazard.window_days)
            window = [name for t, name, _ in rows if anchor < t <= end]
            out[f"state_{state.id}"] = not any(n in active for n in window) or any(
                n in exits for n in window
            )
            for name, c in hazard.covariates.items():
                out[f"covariate_{name}"] = any(
                    n == c.event and t <= anchor and _passes(p, c.property, c.test, c.value)
                    for t, n, p in rows
                )
            continue
        pop = _population(plan, state)
        if f"{state.id}|{pop.id}" not in rated:
            continue
        if pop.id not in at:
            out[f"state_{state.id}"] = None
            continue
        end = at[pop.id] + timedelta(days=rule.days)
        window = [name for t, name, _ in rows if at[pop.id] < t <= end]
        if rule.kind == "active_within":
            out[f"state_{state.id}"] = any(n in rule.events for n in window)
        else:
            active = (*rule.events, pop.event)
            out[f"state_{state.id}"] = not any(n in active for n in window) or any(
                n in rule.or_events for n in window
            )
    if plan.revenue is not None:
        for key, sources in (("revenue", plan.revenue.events), ("refunds", plan.revenue.refunds)):
            value = {s.event: s.value for s in sources}
            out[key] = sum(p.get(value[n]) or 0 for _, n, p in rows if n in value)
    return out


def test_the_truth_is_what_the_rows_say(run: dict[str, Any]) -> None:
    plan: Plan = run["plan"]
    rated = set(config_from_plan(plan).transitions)
    truth = {t["person_id"]: t for t in run["truth"]}
    assert len(truth) == run["users"] == len(run["people"])
    for person_id, events in run["people"].items():
        expected = recount(plan, rated, events)
        got = truth[person_id]
        for key in ("revenue", "refunds"):
            if key in expected:
                assert got[key] == pytest.approx(expected.pop(key), abs=0.011), person_id
        assert {k: got[k] for k in expected} == expected, person_id
        assert got["anon_distinct_id"] == events[0]["distinct_id"]


def _within(hits: int, n: int, rate: float, sigmas: float = 4.5) -> bool:
    se = math.sqrt(max(rate * (1 - rate), 1e-9) / max(n, 1))
    return abs(hits / max(n, 1) - rate) <= sigmas * se + 1e-9


def test_rates_follow_the_config(run: dict[str, Any]) -> None:
    plan: Plan = run["plan"]
    config = config_from_plan(plan)
    truth = run["truth"]
    for prev, state in zip(plan.chain, plan.chain[1:], strict=False):
        n = sum(t[f"at_{prev.id}"] is not None for t in truth)
        hits = sum(t[f"at_{state.id}"] is not None for t in truth)
        assert _within(hits, n, config.rate(f"{state.id}|{prev.id}")), (state.id, hits, n)
    for state in plan.states:
        key = f"state_{state.id}"
        if state.rule is None or not truth or key not in truth[0]:
            continue
        judged = [t[key] for t in truth if t[key] is not None]
        if plan.hazard is not None and plan.hazard.state == state.id:
            # Churn is drawn with each person's probability: the share matches their mean.
            probs = [t[f"churn_probability_{state.id}"] for t in truth if t[key] is not None]
            assert _within(sum(judged), len(judged), sum(probs) / len(probs)), state.id
        else:
            rate = config.rate(f"{state.id}|{_population(plan, state).id}")
            assert _within(sum(judged), len(judged), rate), (state.id, sum(judged), len(judged))


# The plans above that declare a churn hazard (minimal and ledger do not).
HAZARD_PLANS = ["blanklogo", "kiosk", "shopfast"]


@pytest.mark.parametrize("run", HAZARD_PLANS, indirect=True)
def test_covariates_raise_churn_as_the_hazard_says(run: dict[str, Any]) -> None:
    plan: Plan = run["plan"]
    assert plan.hazard is not None and plan.hazard.covariates
    sid = plan.hazard.state
    for t in run["truth"]:
        if t[f"state_{sid}"] is None:
            continue
        held = [c for name, c in plan.hazard.covariates.items() if t[f"covariate_{name}"]]
        expected = min(max(plan.hazard.base + sum(c.extra for c in held), 0.0), plan.hazard.max)
        assert t[f"churn_probability_{sid}"] == pytest.approx(expected, abs=1e-6)


def test_same_seed_same_bytes_and_csv_truth(tmp_path: Path) -> None:
    plan_dir = _plan_dir(KIOSK, tmp_path)
    outs = []
    for name in ("a", "b"):
        args = ["synth", "--plan", str(plan_dir), "--users", "300", "--seed", "9"]
        out, truth = tmp_path / f"{name}.jsonl.gz", tmp_path / f"{name}.csv"
        made = CliRunner().invoke(cli, [*args, "-o", str(out), "--truth", str(truth)])
        assert made.exit_code == 0, made.output
        outs.append((out.read_bytes(), truth.read_text()))
    assert outs[0] == outs[1]
    header = outs[0][1].splitlines()[0].split(",")
    assert header[:4] == ["person_id", "anon_distinct_id", "user_id", "reached_state"]
    assert {"at_pay", "state_comeback", "state_gone", "covariate_long_wait", "revenue"} <= set(
        header
    )


def test_a_plan_without_a_funnel_still_gets_an_export(tmp_path: Path) -> None:
    """No chain, so no rates: people send the plan's events at random, all valid."""
    text = (FIXTURES / "plans" / "minimal" / "plan.yaml").read_text()
    plan_dir = _plan_dir(
        text[: text.index("states:")] + text[text.index("destinations:") :], tmp_path
    )
    out, audit = tmp_path / "e.jsonl", tmp_path / "a.json"
    args = ["synth", "--plan", str(plan_dir), "--users", "400", "-o", str(out)]
    made = CliRunner().invoke(cli, [*args, "--truth", str(tmp_path / "t.jsonl")])
    assert made.exit_code == 0, made.output
    CliRunner().invoke(
        cli, ["audit", str(out), "--plan", str(plan_dir), "--format", "json", "-o", str(audit)]
    )
    result = json.loads(audit.read_text())
    assert result["summary"] == {} and result["rows_total"] >= 400
    truth = [json.loads(line) for line in (tmp_path / "t.jsonl").read_text().splitlines()]
    assert len(truth) == 400 and all(t["reached_state"] is None for t in truth)


def test_a_missing_rate_exits_2(tmp_path: Path) -> None:
    text = KIOSK.replace("  hold|browse: {rate: 0.4}\n", "")
    plan_dir = _plan_dir(text, tmp_path)
    args = ["synth", "--plan", str(plan_dir), "--users", "10", "-o", str(tmp_path / "e.jsonl")]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2 and "hold|browse" in result.output, result.output
    assert "Traceback" not in result.output

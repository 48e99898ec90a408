"""`trackplan import typewriter`: typewriter's own fixtures and a hand-written plan become plans
that lint clean and build; each mapping rule, each unmapped case, broken inputs, and an audit
round trip checked against the original JSON Schema rules with `jsonschema`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft7Validator

from compiler.cli.build import build
from compiler.cli.main import cli
from compiler.importers.jsonschema_map import SchemaError, map_property
from compiler.importers.typewriter import PlanFileError, parse
from compiler.importers.typewriter_plan import snake, to_plan
from compiler.plan import load_plan
from compiler.plan.model import Plan

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "typewriter"
CASES = FIXTURES / "mapping-cases.json"
TRACKPLAN = str(Path(sys.executable).parent / "trackplan")


def _import(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["import", "typewriter", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert "Traceback" not in result.output
    return result.exit_code, result.output


def _imported(tmp_path: Path, source: Path, *extra: str) -> tuple[Plan, str]:
    out = tmp_path / "plan"
    code, output = _import(str(source), "-o", str(out), *extra)
    assert code == 0, output
    result = load_plan(out)
    assert not result.diagnostics, [d.format() for d in result.diagnostics]  # lint --strict
    return result.plan, output


def _required(plan: Plan, event: str) -> set[str]:
    return {ep.name for ep in plan.events[event].properties if ep.required}


def _optional(plan: Plan, event: str) -> set[str]:
    return {ep.name for ep in plan.events[event].properties if not ep.required}


@pytest.mark.slow
def test_generated_python_of_an_imported_plan_passes_mypy_strict(tmp_path: Path) -> None:
    """typewriter's fixture has an event whose name starts with a digit ("42_--terrible...").
    Its pydantic model used to be named `_42...Properties`, which datamodel-codegen renames to
    `Field42...Properties`, so the tracker referred to a class that did not exist."""
    from tests.generated_packages import mypy_strict, write_target

    plan, _ = _imported(tmp_path, FIXTURES / "plan.json")
    root = write_target(plan, "python", tmp_path / "gen")
    checked = mypy_strict(root, ".")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "class Event42TerribleEventName3Properties(" in (
        next(root.rglob("models.py")).read_text(encoding="utf-8")
    )


@pytest.mark.parametrize("fixture", ["plan.json", "plan-v1.json"])
def test_typewriter_fixtures_lint_and_build(tmp_path: Path, fixture: str) -> None:
    plan, output = _imported(tmp_path, FIXTURES / fixture)
    lint = CliRunner().invoke(cli, ["lint", "--strict", "--plan", str(tmp_path / "plan")])
    assert lint.exit_code == 0, lint.output
    built = CliRunner().invoke(
        build, ["--plan", str(tmp_path / "plan"), "--out", str(tmp_path / "gen")]
    )
    assert built.exit_code == 0, built.output
    assert (tmp_path / "gen" / "jsonschema" / "events" / "Enum Types.schema.json").is_file()
    # typewriter's fixtures, read by hand: what each event requires, types, enums, patterns
    assert len(plan.events) == (25 if fixture == "plan.json" else 24)
    assert _required(plan, "Every Required Type") == {
        "required boolean",
        "required int",
        "required number",
        "required string",
        "required string with regex",
    }
    props = plan.properties
    assert props["required int"].type == "integer" and props["required number"].type == "number"
    assert props["string enum"].enum == ("Evil Morty", "Lawyer Morty")
    assert props["string const"].enum == ("Rick Sanchez",)
    assert props["regex property"].pattern == "Lawyer Morty|Evil Morty"
    assert _required(plan, "Custom Violation Handler") == {"regex property"}
    assert props["large nullable required integer"].nullable
    assert not props["large required integer"].nullable
    assert props["integer"].type == "array" and props["integer"].items_type == "integer"
    assert "0000---terrible-property-name~!3" in props
    # 'event_collided' and 'Event Collided' get one class name in generated code: renamed
    assert "event_collided_2" in plan.events and "Event Collided" in plan.events
    assert plan.deprecated_events["event_collided"].replaced_by == "event_collided_2"
    assert "property 'regex property'" not in output  # two events, one identical schema
    off = len(plan.events) - 1  # all but event_collided_2
    assert f"warning: unmapped: conventions.event_name: {off} event name(s) break" in output
    assert "warning: unmapped: conventions.property_name: " in output
    assert plan.conventions.property_name == "^.+$"  # '0000---terrible-property-name~!3'

    for left_out in ("garage", "universe", "universeCharacters", "universe_name", "required any"):
        assert left_out not in props, left_out
        assert f"property '{left_out}'" in output


def test_v1_and_v2_fixtures_agree(tmp_path: Path) -> None:
    """The two formats of one plan (typewriter converts v1 to v2) give the same dictionary."""
    v2, _ = _imported(tmp_path / "a", FIXTURES / "plan.json")
    v1, _ = _imported(tmp_path / "b", FIXTURES / "plan-v1.json")

    def shape(plan: Plan) -> dict[str, tuple[Any, ...]]:
        return {
            n: (p.type, p.nullable, p.enum, p.pattern, p.items_type)
            for n, p in plan.properties.items()
        }

    only_v2 = {"no_id_prop"}  # the v2 fixture's one extra event, 'NoID Type'
    assert {k: v for k, v in shape(v2).items() if k not in only_v2} == shape(v1)
    assert set(v2.events) - set(v1.events) == {
        "NoID Type",
        "Property Object Name Collision 1",
        "Property Object Name Collision 2",
    }  # typewriter's v2 file drops '#' from names; v1 keeps it
    assert "Property Object Name Collision #1" in v1.events


def test_each_mapping_rule(tmp_path: Path) -> None:
    plan, _ = _imported(tmp_path, CASES)
    p = plan.properties
    assert set(plan.events) == {
        "Order Completed",
        "Product Viewed",
        "Signed Up",
        "order_completed_2",
        "Signup",
    }
    assert plan.name == "Mapping Cases"
    order = plan.events["Order Completed"]
    assert order.description == "A customer paid for an order."  # version 2, not version 1
    assert _required(plan, "Order Completed") == {"order_id", "currency"}
    assert p["order_id"].description == "Our order number."
    assert (p["order_id"].min_length, p["order_id"].max_length) == (5, 40)
    assert p["order_id"].pattern == "^ord_[a-z0-9]+$"
    assert p["email"].format == "email" and p["placed_at"].format == "date-time"
    assert p["email"].pii and not p["placed_at"].pii  # format email: declared personal data
    assert p["skus"].type == "array" and p["skus"].items_type == "string"
    assert p["tags"].items_enum == ("sale", "new", "gift")
    assert p["gift"].type == "boolean"
    assert p["seats"].type == "integer" and p["seats"].nullable
    assert p["seats"].minimum == 1  # exclusiveMinimum 0 on an integer: exactly >= 1
    assert (p["trial_days"].minimum, p["trial_days"].maximum) == (1, 30)  # draft-04 flags
    assert p["views"].maximum == 9007199254740991
    assert (p["ratio"].minimum, p["ratio"].maximum) == (-1.5e-7, 1e20)
    assert p["plan"].enum == ("free",)  # const
    # kept, with the rule that did not map said: non-RE2 pattern, unknown format, multipleOf
    assert p["legacy_code"].pattern is None and p["client_ip"].format is None
    assert p["pack_size"].type == "integer"
    # shared properties: widened so every event's valid values still pass
    assert p["currency"].enum == ("USD", "EUR", "GBP", "JPY")
    assert p["total"].type == "number" and p["total"].minimum == 0 and p["total"].maximum is None
    assert p["quantity"].minimum == 0 and p["quantity"].maximum is None
    assert p["coupon"].nullable
    assert p["referrer"].type == "string"  # 2 events of 3 say string
    assert _required(plan, "Signed Up") == {"plan"}
    assert _optional(plan, "Product Viewed") == {
        "currency",
        "total",
        "quantity",
        "coupon",
        "referrer",
        "gift",
    }
    for envelope in ("event", "distinct_id", "timestamp"):
        assert any(f.name == envelope for f in plan.envelope)
    assert "timestamp" not in {ep.name for ep in order.properties}
    assert plan.deprecated_events["order_completed"].replaced_by == "order_completed_2"


UNMAPPED = [
    ("event 'Order Completed' version 1", "not the newest version (2"),
    ("IDENTIFY rule 'identify'", "traits"),
    ("GROUP rule 'group'", "traits"),
    ("PAGE rule 'Home'", "$pageview"),
    ("event 'Order Completed'", "context rules (1 property)"),
    ("event 'Signed Up'", "traits rules (1 property)"),
    ("event 'Order Completed'", "labels (area=checkout)"),
    ("event 'Product Viewed'", "additionalProperties: false"),
    ("event 'Order Completed', property 'confirmation'", "required without a schema"),
    ("event 'Order Completed', property 'shipping'", "no object type"),
    ("event 'Order Completed', property 'shipping'", "no longer required"),
    ("event 'Order Completed', property 'discount'", "`anyOf`"),
    ("event 'Order Completed', property 'payment'", "`oneOf`"),
    ("event 'Order Completed', property 'fee'", "`$ref`"),
    ("event 'Order Completed', property 'price_label'", "union of types (string | integer)"),
    ("event 'Order Completed', property 'legacy_code'", "not RE2"),
    ("event 'Order Completed', property 'client_ip'", "format 'ipv4'"),
    ("event 'Order Completed', property 'pack_size'", "multipleOf 5"),
    ("event 'Order Completed', property 'total'", "exclusiveMaximum 100000"),
    ("event 'Order Completed', property 'timestamp'", "envelope column"),
    ("property 'Plan'", "only in case"),
    ("property 'referrer'", "TYPE CONFLICT: string kept"),
    ("property 'total'", "integer in some events, number in others"),
    ("property 'currency'", "enum differs across events"),
    ("property 'coupon'", "null now passes in Product Viewed"),
    ("event 'order_completed'", "renamed to 'order_completed_2'"),
    ("plan", "per-event versions"),
    ("conventions.event_name", "4 event name(s) break the default rule"),
]


def test_unmapped_listed_and_written(tmp_path: Path) -> None:
    _, output = _imported(tmp_path, CASES)
    warnings = [line for line in output.splitlines() if line.startswith("warning: unmapped: ")]
    for subject, reason in UNMAPPED:
        assert any(
            w.startswith(f"warning: unmapped: {subject}: ") and reason in w for w in warnings
        ), (subject, reason)
    plan_text = (tmp_path / "plan" / "plan.yaml").read_text()
    events_text = (tmp_path / "plan" / "events.yaml").read_text()
    props_text = (tmp_path / "plan" / "properties.yaml").read_text()
    assert "# Unmapped: IDENTIFY rule 'identify'" in plan_text
    assert "# property 'discount': `anyOf`" in events_text
    assert "# typewriter version 2" in events_text
    assert "# typewriter name: 'order_completed'" in events_text
    assert "# TYPE CONFLICT" in props_text and "# in Order Completed: multipleOf 5" in props_text
    # what is written is valid YAML whose comments do not change the values
    assert yaml.safe_load(events_text)["events"]["Signup"]["description"] == (
        "A one-word event name."
    )
    assert not [w for w in warnings if "property 'gift'" in w]  # identical in two events
    assert len(warnings) == len(to_plan(parse(json.loads(CASES.read_text()), CASES)).unmapped)


def test_snake_names(tmp_path: Path) -> None:
    plan, output = _imported(tmp_path, CASES, "--event-names", "snake")
    assert set(plan.events) == {
        "order_completed_2",
        "product_viewed",
        "signed_up",
        "order_completed",
        "signup_event",
    }
    assert plan.deprecated_events["Order Completed"].replaced_by == "order_completed_2"
    assert plan.deprecated_events["Signup"].replaced_by == "signup_event"
    assert "order_completed" not in plan.deprecated_events  # kept its own name
    assert plan.conventions.event_name == r"^[a-z][a-z0-9]*(_[a-z0-9]+)+$"
    assert "renamed to 'product_viewed' (--event-names snake)" in output
    assert "Signed Up (no description" in plan.events["signed_up"].description


def test_snake() -> None:
    assert snake("Order Completed") == "order_completed"
    assert snake("checkoutStepViewed") == "checkout_step_viewed"
    assert snake("42_--terrible==\\\"event'++name~!3") == "event_42_terrible_event_name_3"
    assert snake("Signup") == "signup_event"


def test_map_property_bounds_and_errors() -> None:
    m = map_property("n", {"type": "number", "exclusiveMinimum": 0.5, "minimum": 2}, "w")
    assert m.prop is not None and m.prop.minimum == 2 and not m.lost  # the tighter one
    m = map_property("n", {"type": "number", "exclusiveMinimum": 3, "minimum": 2}, "w")
    assert m.prop is not None and m.prop.minimum == 3 and "inclusive" in m.lost[0]
    m = map_property("n", {"type": ["integer", "number"], "maximum": 5}, "w")
    assert m.prop is not None and m.prop.type == "number" and m.prop.maximum == 5
    m = map_property("n", {"enum": ["a", "b", None]}, "w")  # no type: the values say
    assert m.prop is not None and m.prop.type == "string" and m.prop.nullable
    m = map_property("n", {"type": "string", "enum": ["a", 3]}, "w")
    assert m.prop is not None and m.prop.enum == ["a"] and "dropped" in m.lost[0]
    m = map_property("n", {"type": "array", "items": {"type": ["string", "null"]}}, "w")
    assert m.prop is not None and m.prop.items_type == "string" and "null" in m.lost[0]
    with pytest.raises(SchemaError, match="unknown type 'strng'"):
        map_property("n", {"type": "strng"}, "rules[0]: property 'n'")
    with pytest.raises(SchemaError, match="`enum` must be a list"):
        map_property("n", {"type": "string", "enum": "a"}, "w")


def _rule(key: str, props: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {
        "key": key,
        "type": "TRACK",
        "version": 1,
        "jsonSchema": {
            "type": "object",
            "properties": {
                "properties": {"type": "object", "properties": props, "required": required}
            },
        },
    }


def _write(path: Path, doc: Any) -> Path:
    path.write_text(json.dumps(doc, indent=2), encoding="utf-8")
    return path


def test_broken_inputs(tmp_path: Path) -> None:
    out = str(tmp_path / "out")
    truncated = tmp_path / "truncated.json"
    truncated.write_text('{\n  "rules": [\n    {"key": "A"', encoding="utf-8")
    code, output = _import(str(truncated), "-o", out)
    # the decoder stops at the end of line 3: `    {"key": "A"` is 15 characters
    assert code == 2 and f"{truncated}:3:16: invalid JSON" in output, output
    latin = tmp_path / "latin.json"
    latin.write_bytes(b'{"rules": [\n {"key": "caf\xe9"}]}')
    code, output = _import(str(latin), "-o", out)
    assert code == 2 and f"{latin}:2:14: not UTF-8: byte 0xe9" in output, output
    cases: list[tuple[Any, str]] = [
        ([1, 2], "not a typewriter plan"),
        ({"name": "x"}, "not a typewriter plan"),
        ({"rules": "x"}, "`rules` is a string"),
        ({"rules": {"identify": []}}, "not a typewriter plan"),
        ({"rules": [{"type": "TRACK", "jsonSchema": {}}]}, "rules[0]: the rule has no `key`"),
        ({"rules": {"events": [{"rules": {}}]}}, "rules.events[0]: the rule has no `name`"),
        ({"rules": [_rule("A", {"p": {"type": "strng"}}, [])]}, "property 'p': unknown type"),
        ({"rules": [{**_rule("A", {}, []), "type": "EVENT"}]}, "unknown rule type 'EVENT'"),
        ({"rules": [{**_rule("A", {}, []), "version": "2"}]}, "rules[0].version"),
        ({"rules": [_rule("A", {}, "p")]}, "`required` is not a list"),  # type: ignore[arg-type]
        ({"rules": [{"key": "A", "type": "IDENTIFY", "jsonSchema": {}}]}, "no TRACK rule"),
    ]
    for i, (doc, message) in enumerate(cases):
        source = _write(tmp_path / f"bad{i}.json", doc)
        code, output = _import(str(source), "-o", out)
        assert code == 2 and message in output and str(source) in output, (doc, output)
        assert len(output.strip().splitlines()) == 1, output
    code, output = _import(str(tmp_path / "missing.json"), "-o", out)
    assert code == 2 and "cannot read" in output
    assert not (tmp_path / "out").exists()
    done = subprocess.run(  # the console script: one line on stderr, no traceback
        [TRACKPLAN, "import", "typewriter", str(truncated), "-o", out],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr


def test_refuses_non_empty_dir(tmp_path: Path) -> None:
    out = tmp_path / "p"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    code, output = _import(str(CASES), "-o", str(out))
    assert code == 2 and "--force" in output
    code, output = _import(str(CASES), "-o", str(out), "--force")
    assert code == 0, output
    code, output = _import(str(CASES), "-o", str(out), "--force", "--name", "Acme Shop")
    assert code == 0, output
    assert load_plan(out).plan.name == "Acme Shop"
    assert (out / "notes.txt").read_text() == "mine"
    (out / "extra.yaml").write_text("layers: {}\n")
    code, output = _import(str(CASES), "-o", str(out), "--force")
    assert code == 2 and "extra.yaml" in output


def _row(i: int, event: str, props: dict[str, Any]) -> dict[str, Any]:
    return {
        "uuid": f"00000000-0000-4000-8000-{i:012d}",
        "event": event,
        "distinct_id": f"person{i % 3}",
        "timestamp": f"2026-01-01T00:00:{i:02d}+00:00",
        "properties": {"$lib": "web", **props},
    }


ORDER = {
    "order_id": "ord_abc123",
    "total": 42.5,
    "quantity": 2,
    "currency": "EUR",
    "coupon": None,
    "email": "person@example.com",
    "placed_at": "2026-01-01T10:00:00Z",
    "skus": ["a1", "b2"],
    "tags": ["sale"],
    "gift": False,
    "referrer": "newsletter",
    "pack_size": 10,
    "shipping": {"city": "Lyon", "zip": "69001"},
    "confirmation": "C-1",
    "discount": "SAVE10",
    "price_label": 4250,
}
Sent = tuple[str, dict[str, Any], dict[str, Any], dict[str, Any]]
SENT: list[Sent] = [  # (typewriter key, properties, context, traits): valid against its rules
    ("Order Completed", ORDER, {"ip": "10.0.0.1"}, {}),
    ("Order Completed", {**ORDER, "coupon": "WELCOME", "payment": "card"}, {"ip": "10.0.0.2"}, {}),
    ("Product Viewed", {"sku": "a1", "currency": "JPY", "total": 3, "quantity": 0}, {}, {}),
    ("Signed Up", {"plan": "free", "seats": None, "ratio": 1e-9, "views": 3}, {}, {}),
    ("Signup", {}, {}, {}),
]


def _schemas() -> dict[str, dict[str, Any]]:
    doc = json.loads(CASES.read_text())
    newest: dict[str, dict[str, Any]] = {}
    for rule in doc["rules"]:
        if rule["type"] == "TRACK" and rule["version"] >= newest.get(rule["key"], rule)["version"]:
            newest[rule["key"]] = rule
    return {key: rule["jsonSchema"] for key, rule in newest.items()}


def _valid(schema: dict[str, Any], props: dict[str, Any], context: dict[str, Any]) -> bool:
    return Draft7Validator(schema).is_valid({"properties": props, "context": context, "traits": {}})


def _audit(tmp_path: Path, rows: list[dict[str, Any]], plan: Path) -> list[dict[str, Any]]:
    export = tmp_path / "export.jsonl"
    export.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    cmd = [TRACKPLAN, "audit", str(export), "--plan", str(plan), "--format", "json"]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    assert done.returncode in (0, 1), done.stderr
    findings: list[dict[str, Any]] = json.loads(done.stdout)["findings"]
    return findings


def test_audit_round_trip(tmp_path: Path) -> None:
    _imported(tmp_path, CASES)
    schemas = _schemas()
    for key, props, context, _ in SENT:
        assert _valid(schemas[key], props, context), (key, props)
    rows = [_row(i, key, props) for i, (key, props, _, _) in enumerate(SENT)]
    (tmp_path / "clean").mkdir()
    findings = _audit(tmp_path / "clean", rows, tmp_path / "plan")
    errors = [f for f in findings if f["severity"] == "error"]
    assert not errors, errors
    undocumented = {
        (f["event"], f["property"]) for f in findings if f["kind"] == "undocumented_property"
    }
    # exactly the properties the import left out, and said so
    assert undocumented == {
        ("Order Completed", k)
        for k in ("shipping", "confirmation", "discount", "price_label", "payment")
    }
    bad_order = {k: v for k, v in ORDER.items() if k != "order_id"}
    bad_view = {"sku": "a1", "currency": "CHF"}
    assert not _valid(schemas["Order Completed"], bad_order, {"ip": "10.0.0.1"})
    assert not _valid(schemas["Product Viewed"], bad_view, {})
    rows += [_row(10, "Order Completed", bad_order), _row(11, "Product Viewed", bad_view)]
    (tmp_path / "bad").mkdir()
    flagged = {
        (f["kind"], f["event"], f["property"], f["count"])
        for f in _audit(tmp_path / "bad", rows, tmp_path / "plan")
        if f["kind"] in ("missing_required_property", "enum_violation")
    }
    assert flagged == {
        ("missing_required_property", "Order Completed", "order_id", 1),
        ("enum_violation", "Product Viewed", "currency", 1),
    }


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3)
    | st.dictionaries(
        st.sampled_from(
            ["rules", "events", "key", "name", "type", "jsonSchema", "properties", "required"]
            + ["items", "enum", "minimum", "string", "TRACK", "version", "pattern", "format"]
        ),
        inner,
        max_size=4,
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(JSON)
def test_any_json_is_a_plan_or_a_clear_error(doc: Any) -> None:
    try:
        imported = to_plan(parse(doc, Path("plan.json")))
    except (PlanFileError, SchemaError) as exc:
        assert str(exc)
        return
    for event in imported.guess.events:
        assert set(event.required) <= set(imported.guess.properties)


NAMES = st.text(min_size=1, max_size=12)
SCHEMAS = st.sampled_from(
    [
        {"type": "string"},
        {"type": ["integer", "null"], "minimum": 0},
        {"type": "number", "exclusiveMaximum": 1.5},
        {"type": "boolean"},
        {"type": "string", "enum": ["a", "B b"]},
        {"type": "array", "items": {"type": "integer"}},
        {"type": "object", "properties": {"x": {"type": "string"}}},
        {"type": "string", "pattern": "(a)\\1"},
        {"description": ""},
    ]
)
PLANS = st.lists(
    st.tuples(NAMES, st.dictionaries(NAMES, SCHEMAS, max_size=4), st.booleans()),
    min_size=1,
    max_size=5,
)


@settings(max_examples=40, deadline=None)
@given(PLANS, st.sampled_from(["keep", "snake"]))
def test_any_names_lint_clean(
    tmp_path_factory: pytest.TempPathFactory, rules: Any, names: str
) -> None:
    """Whatever the event and property names, the written plan lints with no diagnostic."""
    doc = {
        "name": "Fuzz",
        "rules": [
            _rule(key, props, sorted(props)[:1] if required else [])
            for key, props, required in rules
        ],
    }
    if not any(key.strip() for key, _, _ in rules):
        return
    doc["rules"] = [r for r in doc["rules"] if r["key"].strip()]
    source = _write(tmp_path_factory.mktemp("fuzz") / "plan.json", doc)
    out = source.parent / "out"
    code, output = _import(str(source), "-o", str(out), "--event-names", names)
    assert code == 0, output
    assert not load_plan(out).diagnostics, [d.format() for d in load_plan(out).diagnostics]


def test_v1_traits_and_other_rule_types_listed(tmp_path: Path) -> None:
    v1 = {
        "name": "workspaces/w/tracking-plans/rs_1",
        "display_name": "V1",
        "rules": {
            "events": [
                {
                    "name": "Thing Done",
                    "description": "A thing.",
                    "version": 1,
                    "rules": {"properties": {"properties": {"properties": {"n": {}}}}},
                }
            ],
            "identify_traits": [{"key": "email", "type": "string"}],
            "group_traits": [],
        },
    }
    source = _write(tmp_path / "v1.json", v1)
    code, output = _import(str(source), "-o", str(tmp_path / "a"))
    assert code == 0, output
    assert "warning: unmapped: rules.identify_traits: traits" in output
    assert "group_traits" not in output  # empty: nothing lost
    assert "property 'n': no rule: any JSON value" in output
    assert load_plan(tmp_path / "a").plan.name == "V1"
    v2 = {
        "name": "V2",
        "rules": [
            _rule("Thing Done", {"n": {"type": "integer"}}, ["n"]),
            {**_rule("Screen One", {}, []), "type": "SCREEN"},
            {**_rule("Common", {}, []), "type": "COMMON"},
        ],
    }
    source = _write(tmp_path / "v2.json", v2)
    code, output = _import(str(source), "-o", str(tmp_path / "b"))
    assert code == 0, output
    assert "SCREEN rule 'Screen One': screen calls reach PostHog as $screen" in output
    assert "COMMON rule 'Common': common rules apply to every event" in output
    assert _required(load_plan(tmp_path / "b").plan, "Thing Done") == {"n"}

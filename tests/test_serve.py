"""`trackplan serve` with the real posthog-python client and the generated Python tracker: what
/trackplan/good and /trackplan/bad hold, and that every finding is the audit's own (the audit
run on the server's --store log gives the same kinds, properties and words)."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType

import pytest
from click.testing import CliRunner
from generated_packages import python_package
from posthog import Posthog

from compiler.audit.reference import Reference
from compiler.audit.rules import AuditRules
from compiler.audit.sequence import Row, python_violations
from compiler.cli.main import cli
from compiler.docs.examples import posthog_example
from compiler.plan import Plan, load_plan
from compiler.serve.app import ServeConfig
from compiler.serve.history import History
from compiler.serve.testing import RunningServer, running
from compiler.serve.validate import LiveValidator, posthog_row
from tests.codegen_plans import orbit_plan, sourceless_plan
from tests.conftest import FIXTURES, PLAN_DIR
from tests.serve_support import events, post_json

JOB = dict(job_id="job_9", mode="inpaint", credits_before=3)
DONE = dict(job_id="job_9", mode="inpaint", processing_time_ms=41_000, success=True)


@pytest.fixture(scope="module")
def analytics(plan: Plan, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    with python_package(plan, tmp_path_factory.mktemp("py")) as module:
        yield module


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("serve-store")


@pytest.fixture(scope="module")
def sent(plan: Plan, analytics: ModuleType, store: Path) -> Iterator[RunningServer]:
    """One session of good and bad traffic through the generated tracker and raw posthog."""
    with running(plan, ServeConfig(plan, store_dir=store)) as server:
        client = Posthog("phc_test", host=server.url, sync_mode=True)
        zipped = Posthog("phc_test", host=server.url, sync_mode=True, gzip=True)
        at = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
        web = analytics.Tracker(client=client, source="web", environment="prod")
        serve_ = analytics.Tracker(client=zipped, source="server", environment="prod")
        worker = analytics.Tracker(client=client, source="worker", environment="prod")
        web.landing_view(distinct_id="anon_1", page_path="/", device="mobile", timestamp=at)
        serve_.identify(user_id="usr_1", anonymous_id="anon_1")
        serve_.login_success(
            distinct_id="usr_1",
            user_id="usr_1",
            auth_method="magic_link",
            timestamp=at + timedelta(seconds=1),
        )
        serve_.job_created(
            distinct_id="usr_1", user_id="usr_1", timestamp=at + timedelta(seconds=2), **JOB
        )
        worker.processing_completed(
            distinct_id="usr_1",
            user_id="usr_1",
            credits_before=3,
            credits_after=2,
            timestamp=at + timedelta(seconds=3),
            **DONE,
        )
        # Bad: a job never created, a login never stitched, and a raw capture with a wrong
        # property (an enum value the plan does not have, a key it does not know).
        worker.processing_completed(
            distinct_id="usr_1",
            user_id="usr_1",
            credits_before=3,
            credits_after=2,
            timestamp=at + timedelta(seconds=4),
            **{**DONE, "job_id": "job_404"},
        )
        serve_.login_success(distinct_id="usr_2", user_id="usr_2", auth_method="otp", timestamp=at)
        client.capture(
            "job_created",
            distinct_id="usr_1",
            timestamp=at + timedelta(seconds=5),
            properties={
                "source": "server",
                "environment": "prod",
                "user_id": "usr_1",
                "job_id": "job_10",
                "mode": "blur",
                "credits_before": 3,
                "colour": "jane@example.com",
            },
        )
        client.capture("jb_created", distinct_id="usr_1", properties={"job_id": "job_11"})
        yield server


def test_good_and_bad_hold_what_was_sent(sent: RunningServer) -> None:
    assert sent.all() == {"total": 9, "good": 5, "bad": 4}
    good = sent.good()
    assert [e["event"] for e in good] == [
        "landing_view",
        "$identify",
        "login_success",
        "job_created",
        "processing_completed",
    ]
    assert all(e["good"] and e["properties"]["$lib"] == "posthog-python" for e in good)
    bad = {e["event"] + ":" + e["distinct_id"]: e for e in sent.bad()}
    assert set(bad) == {
        "processing_completed:usr_1",
        "login_success:usr_2",
        "job_created:usr_1",
        "jb_created:usr_1",
    }
    assert events(bad["processing_completed:usr_1"]["findings"]) == {("sequence_violation", None)}
    assert events(bad["login_success:usr_2"]["findings"]) == {("identity_violation", None)}
    raw = bad["job_created:usr_1"]["findings"]
    assert events(raw) == {
        ("enum_violation", "mode"),
        ("undocumented_property", "colour"),
        ("pii_leak", "colour"),
    }
    assert {f["message"] for f in raw} == {
        "'blur' not in [crop, inpaint]",
        "undocumented property 'colour'",
        "an email address in 'colour', which is not marked pii",
    }
    [unknown] = bad["jb_created:usr_1"]["findings"]
    assert unknown["kind"] == "unknown_event" and unknown["suggestion"] == "job_created"
    assert bad["jb_created:usr_1"].get("docs") is None
    assert bad["job_created:usr_1"]["docs"] == "/trackplan/docs/events/job_created.html"


def test_filters_by_event_and_distinct_id(sent: RunningServer) -> None:
    assert [e["event"] for e in sent.bad(event="login_success")] == ["login_success"]
    assert [e["distinct_id"] for e in sent.bad(distinct_id="usr_2")] == ["usr_2"]
    assert [e["event"] for e in sent.good(distinct_id="anon_1")] == ["landing_view"]
    assert sent.good(event="login_success", distinct_id="usr_2") == []


def test_the_audit_of_the_store_finds_the_same(sent: RunningServer, store: Path) -> None:
    """Same kinds, properties and words as `trackplan audit` on what the server stored."""
    log = store / "events.jsonl"
    assert len(log.read_text().splitlines()) == sent.all()["total"]
    served = {
        (f["kind"], e["event"], f["property"], f["message"])
        for e in sent.bad() + sent.good()
        for f in e["findings"]
    }
    for engine in ("jsonschema", "duckdb"):
        done = CliRunner().invoke(
            cli,
            ["audit", "--plan", str(PLAN_DIR), str(log), "--format", "json", "--engine", engine],
        )
        assert done.exit_code == 1, done.output
        audited = {
            (f["kind"], f["event"], f["property"], f["rule"])
            for f in json.loads(done.output)["findings"]
            if f["kind"] != "never_seen"
        }
        assert audited == served, engine


def test_reset_clears(plan: Plan) -> None:
    with running(plan) as server:
        example = posthog_example(plan, plan.events["landing_view"])
        status, _ = post_json(server.url + "/batch/", {"api_key": "k", "batch": [example]})
        assert status == 200 and server.all() == {"total": 1, "good": 1, "bad": 0}
        assert server.reset() == {"total": 0, "good": 0, "bad": 0}
        assert server.good() == [] and server.all()["total"] == 0


def _any_plan(name: str, factory: pytest.TempPathFactory) -> Plan:
    if name == "orbit":  # every envelope role renamed, its own identity prefixes
        return orbit_plan(factory)
    if name == "sourceless":  # no source, environment, session or event id role at all
        return sourceless_plan(factory)
    return load_plan(PLAN_DIR if name == "shipped" else FIXTURES / "plans" / name).plan


@pytest.mark.parametrize("name", ["shopfast", "shipped", "minimal", "orbit", "sourceless"])
def test_any_plan_examples_judged_like_the_reference(
    name: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Each plan event's documented example, through the server, judged as the audit's reference
    engine judges the same row (per-row and cross-row)."""
    plan = _any_plan(name, tmp_path_factory)
    rules = AuditRules(plan)
    reference = Reference(rules)
    with running(plan) as server:
        batch = [posthog_example(plan, e) for e in plan.events.values()]
        for n, event in enumerate(batch):
            event["timestamp"] = f"2026-01-01T00:00:{n:02d}Z"
            event["uuid"] = f"00000000-0000-4000-8000-{n:012d}"
        assert post_json(server.url + "/batch/", {"api_key": "k", "batch": batch})[0] == 200
        served = {
            (e["uuid"], f["kind"], f["property"])
            for e in server.bad() + server.good()
            for f in e["findings"]
        }
        assert server.all()["total"] == len(batch)
    expected: set[tuple[str, str, str | None]] = set()
    rows = []
    for n, event in enumerate(batch):
        row = Row(
            event["event"],
            datetime.fromisoformat(event["timestamp"]),
            "f",
            n,
            event["uuid"],
            event["distinct_id"],
            None,
            event["properties"],
        )
        rows.append(row)
        expected |= {
            (row.ex, k, p) for k, p in reference.row_findings(row, row.properties, row.ex, False)
        }
    expected |= {(r.ex, k, p) for r, k, p in python_violations(rows, rules)}
    assert served == expected


def _random_rows(plan: Plan, seed: int) -> list[Row]:
    """Traffic that exercises every cross-row rule: links, logins, rule events, match_on ids."""
    rng = random.Random(seed)
    rules = AuditRules(plan)
    watched = sorted(rules.cross_row_events - {"$identify", "$create_alias"})
    ids = ["anon_1", "anon_2", "anon_3", "usr_1", "usr_2", "usr_3"]
    keys = [r.match_on for r in rules.keyed_rules]
    start = datetime(2026, 1, 1, tzinfo=UTC)
    rows = []
    for n in range(160):
        event = rng.choice([*watched, *watched, "$identify", "$create_alias", "landing_view"])
        did = rng.choice(ids)
        props: dict[str, object] = {}
        if event == "$identify":
            props["$anon_distinct_id"] = rng.choice(ids)
        elif event == "$create_alias":
            props["alias"] = rng.choice(ids)
        if rules.user_key and rng.random() < 0.6:
            props[rules.user_key] = rng.choice(ids)
        for key in keys:
            props[key] = rng.choice(["job_1", "job_2", "job_3"])
        at = start + timedelta(seconds=n + rng.choice([0, 0, -3, 5]))
        rows.append(Row(event, at, "live", n, f"e{n}", did, None, props))
    return rows


@pytest.mark.parametrize("seed", range(6))
def test_history_gives_python_violations_over_all_rows_seen(plan: Plan, seed: int) -> None:
    """The server's witness rows give each new row exactly the violations the audit's
    `python_violations` gives it over every row seen so far."""
    rules = AuditRules(plan)
    rows = _random_rows(plan, seed)
    history = History(rules)
    kinds = set()
    for n, row in enumerate(rows):
        got = set(history.violations(row))
        whole = {(k, p) for r, k, p in python_violations(rows[: n + 1], rules) if r is row}
        assert got == whole, (n, row)
        kinds |= {k for k, _ in got}
    assert kinds == {"sequence_violation", "identity_violation"}


def _mutations(plan: Plan) -> list[dict[str, object]]:
    """Each plan example, and copies broken one way each: a key removed, a wrong type, a value
    off its enum, a null, an undocumented key, an email address, a non-UTC timestamp."""
    out: list[dict[str, object]] = []
    for n, event in enumerate(plan.events.values()):
        example = posthog_example(plan, event)
        props = example["properties"]
        out.append(example)
        for key in list(props)[:3]:
            for value in (None, 17, "zz", [1], "jane@example.com"):
                out.append({**example, "properties": {**props, key: value}})
            out.append({**example, "properties": {k: v for k, v in props.items() if k != key}})
        out.append({**example, "properties": {**props, "extra_key": "x", "$lib": "web"}})
        out.append({**example, "timestamp": f"2026-01-01T00:00:{n % 60:02d}+02:00"})
        out.append({**example, "distinct_id": None, "uuid": "not-a-uuid"})
    return out


@pytest.mark.parametrize("plan_dir", [FIXTURES / "plans" / "shopfast", PLAN_DIR])
def test_scanner_fast_path_gives_the_exact_findings(plan_dir: Path) -> None:
    """Rows the audit's C line scanner proves clean skip the exact checks: the verdicts are
    the ones the exact checks alone give, row by row."""
    plan = load_plan(plan_dir).plan
    traffic = _mutations(plan)
    fast, exact = LiveValidator(plan), LiveValidator(plan, fast=False)
    assert fast.scan_tables is not None
    now = datetime(2026, 2, 1, tzinfo=UTC)
    got = fast.check_many(traffic, now)
    want = exact.check_many(traffic, now)
    assert [(v.row["event"], v.findings) for v in got] == [
        (v.row["event"], v.findings) for v in want
    ]
    assert sum(v.bad for v in got) > len(traffic) // 2
    proven = fast._proven_clean([posthog_row(e, now) for e in traffic])
    assert sum(proven) >= len(plan.events) // 2  # the fast path was taken


def test_memory_bound_keeps_the_latest_and_counts_all(plan: Plan) -> None:
    example = posthog_example(plan, plan.events["landing_view"])
    batch = [{**example, "distinct_id": f"anon_{n}"} for n in range(5)]
    with running(plan, ServeConfig(plan, keep=3)) as server:
        assert post_json(server.url + "/batch/", {"api_key": "k", "batch": batch})[0] == 200
        assert server.all() == {"total": 5, "good": 5, "bad": 0}
        assert [e["distinct_id"] for e in server.good()] == ["anon_2", "anon_3", "anon_4"]


@pytest.mark.parametrize(
    "options, bad, flagged",
    [
        ({}, set(), {"colour"}),
        ({"fail_on": "warning"}, {"landing_view"}, {"colour"}),
        ({"strict_system": True}, {"$pageview"}, {"colour", "$screen_height"}),
    ],
)
def test_system_events_and_warnings_as_the_audit_treats_them(
    plan: Plan, options: dict[str, object], bad: set[str], flagged: set[str]
) -> None:
    """A `$`-event and a `$`-property pass unless --strict-system; an undocumented property is
    a warning, so its event stays good unless --fail-on warning."""
    example = posthog_example(plan, plan.events["landing_view"])
    odd = {**example, "properties": {**example["properties"], "$screen_height": 900}}
    extra = {**example, "properties": {**example["properties"], "colour": "red"}}
    pageview = {"event": "$pageview", "distinct_id": "anon_1", "properties": {"$lib": "web"}}
    config = ServeConfig(plan, **options)  # type: ignore[arg-type]
    with running(plan, config) as server:
        batch = [odd, extra, pageview]
        assert post_json(server.url + "/batch/", {"api_key": "k", "batch": batch})[0] == 200
        assert {e["event"] for e in server.bad()} == bad
        found = {
            (f["kind"], f["property"]) for e in server.good() + server.bad() for f in e["findings"]
        }
    assert found - {("unknown_event", None)} == {("undocumented_property", p) for p in flagged}
    assert (("unknown_event", None) in found) == bool(options.get("strict_system"))

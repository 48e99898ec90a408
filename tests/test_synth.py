"""`trackplan synth` on BlankLogo's plan, with its behaviour profile (tracking_plan/synth_profile):
every event valid against the plan, the sequence rules hold, the funnel follows the config, the
profile's story (jobs, credits, billing) adds up, and the four export shapes are PostHog's.
The generic engine, for any plan, is tested in tests/test_synth_generic.py."""

from __future__ import annotations

import csv
import gzip
import json
import math
import shutil
from collections import defaultdict
from pathlib import Path
from typing import Any

import duckdb
import jsonschema
import pytest
from click.testing import CliRunner

from compiler.cli.main import cli
from compiler.plan import load_plan
from compiler.simulation.config import config_from_plan
from compiler.synth.profile import load_profile
from compiler.targets.jsonschema import event_schema
from tests.conftest import FIXTURES, PLAN_DIR

BLANKLOGO: Any = load_profile(PLAN_DIR, "synth_profile")
catalog, incidents = BLANKLOGO.catalog, BLANKLOGO.incidents

USERS = 4000
TOP_LEVEL = ("source", "environment", "user_id", "experiment_variant")


def _synth(tmp: Path, name: str, *extra: str, users: int = USERS, seed: int = 7) -> Path:
    out = tmp / name
    result = CliRunner().invoke(
        cli,
        [
            "synth",
            "--users",
            str(users),
            "--days",
            "30",
            "--seed",
            str(seed),
            "-o",
            str(out),
            *extra,
        ],
    )
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("synth")
    path = _synth(tmp, "events.jsonl", "--truth", str(tmp / "truth.jsonl"))
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    truth = [json.loads(line) for line in (tmp / "truth.jsonl").read_text().splitlines()]
    people: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        people[row["person_id"]].append(row)
    return {
        "path": path,
        "rows": rows,
        "people": people,
        "truth": {t["person_id"]: t for t in truth},
    }


def canonical(row: dict[str, Any]) -> dict[str, Any]:
    """PostHog's export shape -> the plan's canonical event (PRD §10)."""
    props = dict(row["properties"])
    event = {k: row[k] for k in ("uuid", "event", "timestamp", "distinct_id")}
    for key in TOP_LEVEL:
        if key in props:
            event[key] = props.pop(key)
    if "$session_id" in props:
        event["session_id"] = props.pop("$session_id")
    event["properties"] = props
    return event


def test_every_event_is_valid_against_the_plan(export, plan) -> None:
    validators = {
        name: jsonschema.Draft202012Validator(
            event_schema(plan, ev), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
        )
        for name, ev in plan.events.items()
    }
    problems = []
    for row in export["rows"]:
        if row["event"].startswith("$"):
            assert row["event"] == "$identify"
            continue
        assert row["event"] in validators, row["event"]
        for error in validators[row["event"]].iter_errors(canonical(row)):
            problems.append(f"{row['event']}: {error.json_path}: {error.message}")
    assert not problems, sorted(set(problems))[:20]


def test_the_declared_event_list_is_what_synth_emits(export) -> None:
    emitted = {row["event"] for row in export["rows"]} - {"$identify"}
    assert emitted <= set(catalog.EVENTS)
    # Rare by design: refunds (3% of pack buyers), top-ups (a returning buyer whose credits run
    # low: about 1 in 3,000 people, so 4,000 people show none about a third of the time) and the
    # incidents (errors, deletions, ...). tests/test_synth_audit.py checks that 20,000 people
    # cover every plan event.
    rare = {"refund_issued", "topup_purchased", *incidents.EVENTS}
    assert set(catalog.EVENTS) - emitted <= rare


def test_the_profile_refuses_a_plan_without_its_events(tmp_path: Path) -> None:
    """BlankLogo's profile sends BlankLogo's events: on another plan it says which are missing."""
    plan_dir = tmp_path / "plan"
    shutil.copytree(FIXTURES / "plans" / "minimal", plan_dir)
    shutil.copytree(PLAN_DIR / "synth_profile", plan_dir / "synth_profile")
    args = ["synth", "--plan", str(plan_dir), "--users", "5", "-o", str(tmp_path / "e.jsonl")]
    refused = CliRunner().invoke(cli, [*args, "--profile", "synth_profile"])
    assert refused.exit_code == 2 and "the BlankLogo profile sends these events" in refused.output
    assert "watermark_detected" in refused.output and "Traceback" not in refused.output
    generic = CliRunner().invoke(cli, args)  # the minimal plan names no profile: generic engine
    assert generic.exit_code == 0, generic.output


def test_the_profile_refuses_a_config_without_its_hazard(tmp_path: Path) -> None:
    """A fitted config without the failed_job/slow_job hazard is a user's input error: exit 2
    with the reason, not a ValueError traceback from inside the profile."""
    document = json.loads(config_from_plan(load_plan(PLAN_DIR).plan).dumps())
    document["hazard"] = None
    config = tmp_path / "config.json"
    config.write_text(json.dumps(document))
    args = ["synth", "--users", "5", "--config", str(config), "-o", str(tmp_path / "e.jsonl")]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2, result.output
    assert "needs a hazard with covariates failed_job and slow_job" in result.output
    assert "the simulation config has no hazard" in result.output
    assert isinstance(result.exception, SystemExit)  # a clean exit, not a traceback


def test_an_unknown_profile_exits_2(tmp_path: Path) -> None:
    args = ["synth", "--plan", str(PLAN_DIR), "--users", "5", "-o", str(tmp_path / "e.jsonl")]
    result = CliRunner().invoke(cli, [*args, "--profile", "nope"])
    assert result.exit_code == 2 and "no synth profile here" in result.output


def test_export_shape_is_posthogs(export) -> None:
    keys = [
        "uuid",
        "timestamp",
        "created_at",
        "event",
        "properties",
        "distinct_id",
        "elements_chain",
        "person_id",
        "person_properties",
    ]
    for row in export["rows"][:500]:
        assert list(row) == keys
        assert row["elements_chain"] == "" and isinstance(row["properties"], dict)
        assert row["timestamp"].endswith("+00:00") and row["created_at"] > row["timestamp"]
        assert row["uuid"][14] == "7" and len(row["person_id"]) == 36


def test_timestamps_are_in_order_per_person(export) -> None:
    for events in export["people"].values():
        stamps = [e["timestamp"] for e in events]
        assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)
        assert events[0]["event"] == "ad_click"


def test_identity_is_anonymous_until_identify(export) -> None:
    identified = 0
    for events in export["people"].values():
        anon = events[0]["distinct_id"]
        assert anon.startswith("anon_")
        seen_identify = False
        for e in events:
            if e["event"] == "$identify":
                assert e["properties"]["$anon_distinct_id"] == anon
                assert e["distinct_id"].startswith("usr_")
                seen_identify, user = True, e["distinct_id"]
                identified += 1
            elif seen_identify:
                assert e["distinct_id"] == user and e["properties"]["user_id"] == user
            else:
                assert e["distinct_id"] == anon and "user_id" not in e["properties"]
        login = [i for i, e in enumerate(events) if e["event"] == "login_success"]
        assert bool(login) == seen_identify
        if login:
            assert events[login[0] - 1]["event"] == "$identify"
    assert identified > 100


def test_attribution_has_one_click_id_and_ad_ids(export) -> None:
    for events in export["people"].values():
        props = events[0]["properties"]
        assert ("fbclid" in props) != ("gclid" in props)
        assert props["utm_source"] == ("facebook" if "fbclid" in props else "google")
        assert props["campaign_id"] and props["adset_id"].startswith(props["campaign_id"])
        assert props["ad_id"].startswith(props["adset_id"])
        for e in events:
            if e["properties"]["source"] == "web":
                assert e["properties"]["$session_id"]


def test_job_events_follow_their_job_created(export) -> None:
    rule_events = {
        "watermark_detected",
        "processing_started",
        "processing_completed",
        "processing_failed",
        "download_clicked",
        "download_completed",
        "job_refunded",
        "latency_bucket",
        "job_timeout",
    }
    for events in export["people"].values():
        created: set[str] = set()
        for e in events:
            if e["event"] == "job_created":
                created.add(e["properties"]["job_id"])
            elif e["event"] in rule_events:
                assert e["properties"]["job_id"] in created, e


def test_activation_complete_follows_its_prerequisites(export) -> None:
    count = 0
    for events in export["people"].values():
        seen: set[str] = set()
        for e in events:
            if e["event"] == "activation_complete":
                assert {"login_success", "credits_granted", "upload_view"} <= seen
                count += 1
            seen.add(e["event"])
    assert count > 100


def test_credit_balances_add_up(export) -> None:
    for events in export["people"].values():
        balance = None
        for e in events:
            p = e["properties"]
            if e["event"] == "credits_granted":
                balance = p["credits_after"]
            elif e["event"] == "job_created":
                assert p["credits_before"] == balance
            elif "credits_before" in p and "credits_after" in p:
                assert p["credits_before"] == balance, e
                balance = p["credits_after"]
            elif e["event"] in ("purchase_completed", "subscription_renewed"):
                balance += p["credits_added"]
            if balance is not None:
                assert balance >= 0


def test_purchases_are_priced_from_the_price_list(export) -> None:
    prices = {p.sku: p for p in catalog.PRICE_LIST}
    counts: dict[str, int] = defaultdict(int)
    for row in export["rows"]:
        p, name = row["properties"], row["event"]
        counts[name] += 1
        if name == "purchase_completed":
            product = prices[p["sku"]]
            expected = product.price * (catalog.COUPON_DISCOUNT if p["coupon"] else 1)
            assert p["price"] == pytest.approx(expected)
            assert p["plan"] == product.plan and p["credits_added"] == product.credits
            assert ("subscription_id" in p) == (product.plan is not None)
    for name in (
        "subscription_renewed",
        "subscription_canceled",
        "processing_failed",
        "job_refunded",
        "return_session",
    ):  # topup_purchased is rare at this size: see the declared event list test
        assert counts[name] > 0, name


def _reached(events: list[dict[str, Any]], config) -> int:  # type: ignore[no-untyped-def]
    """The plan's definition: S_k at the earliest S_k event at or after reaching S_(k-1)."""
    state_events = [s.event for s in config.states[:10]]
    k, t = 0, events[0]["timestamp"]
    for target in range(1, 10):
        later = [
            e["timestamp"]
            for e in events
            if e["event"] == state_events[target] and e["timestamp"] >= t
        ]
        if not later:
            break
        k, t = target, min(later)
    return k


def test_states_match_the_truth_and_the_config_rates(export, plan) -> None:
    config = config_from_plan(plan)
    reached_counts = [0] * 10
    for person_id, events in export["people"].items():
        k = _reached(events, config)
        assert f"S{k}" == export["truth"][person_id]["reached_state"]
        for j in range(k + 1):
            reached_counts[j] += 1
    assert reached_counts[0] == USERS
    for k in range(1, 10):
        n, hits = reached_counts[k - 1], reached_counts[k]
        rate = config.rate(f"S{k}|S{k - 1}")
        se = math.sqrt(rate * (1 - rate) / n)
        assert abs(hits / n - rate) < 4 * se + 1e-9, (k, hits / n, rate)


def test_churn_follows_the_hazard(export) -> None:
    downloaded = [t for t in export["truth"].values() if t["churned_30d"] is not None]
    by_failure = {
        flag: [t for t in downloaded if t["failed_job"] == flag] for flag in (True, False)
    }
    rate = {f: sum(t["churned_30d"] for t in g) / len(g) for f, g in by_failure.items()}
    assert rate[True] > rate[False] + 0.08
    # A proportional hazard (tests/test_models_hazard_truth.py checks its form and ratios): in
    # (0, 1), with no clip at the plan's additive `max`.
    for t in downloaded:
        assert 0 < t["churn_hazard"] < 1
    # Churn is drawn from each person's hazard: the churned share matches the mean hazard.
    hazard = sum(t["churn_hazard"] for t in downloaded) / len(downloaded)
    churned = sum(t["churned_30d"] for t in downloaded) / len(downloaded)
    assert abs(churned - hazard) < 4 * math.sqrt(hazard * (1 - hazard) / len(downloaded))
    # Observed: churned people never come back within 30 days of their first download.
    for person_id, events in export["people"].items():
        truth = export["truth"][person_id]
        if truth["churned_30d"] is None:
            continue
        first = next(e["timestamp"] for e in events if e["event"] == "download_clicked")
        active = [
            e
            for e in events
            if e["event"] in ("return_session", "processing_completed") and e["timestamp"] > first
        ]
        came_back = any(_days(first, e["timestamp"]) <= 30 for e in active)
        assert came_back != truth["churned_30d"]


def _days(a: str, b: str) -> float:
    from datetime import datetime

    return (datetime.fromisoformat(b) - datetime.fromisoformat(a)).total_seconds() / 86400


def test_config_file_rates_drive_the_funnel(tmp_path: Path, plan) -> None:
    doc = json.loads(config_from_plan(plan).dumps())
    doc["transitions"]["S2|S1"]["rate"] = 0.9
    cfg = tmp_path / "c.json"
    cfg.write_text(json.dumps(doc))
    path = _synth(tmp_path, "e.jsonl", "--config", str(cfg), users=1500)
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    landed = sum(r["event"] == "landing_view" for r in rows)
    assert sum(r["event"] == "cta_click" for r in rows) / landed > 0.85


def test_same_seed_same_bytes(tmp_path: Path) -> None:
    (tmp_path / "1").mkdir()
    (tmp_path / "2").mkdir()
    for name in ("a.jsonl", "a.jsonl.gz", "a.parquet", "a.csv"):
        first = _synth(tmp_path / "1", name, users=300)
        second = _synth(tmp_path / "2", name, users=300)
        assert first.read_bytes() == second.read_bytes(), name
    other = _synth(tmp_path, "b.jsonl", users=300, seed=8)
    assert other.read_bytes() != (tmp_path / "1" / "a.jsonl").read_bytes()


def test_gzip_parquet_and_csv_hold_the_same_events(tmp_path: Path) -> None:
    base = [
        json.loads(line) for line in _synth(tmp_path, "e.jsonl", users=400).read_text().splitlines()
    ]
    with gzip.open(_synth(tmp_path, "e.jsonl.gz", users=400), "rt") as handle:
        gz = [json.loads(line) for line in handle]
    assert gz == base
    con = duckdb.connect()
    parquet = _synth(tmp_path, "e.parquet", users=400)
    types = dict(
        con.execute(
            f"select column_name, column_type from (describe select * from '{parquet}')"
        ).fetchall()
    )
    assert types["timestamp"] == "TIMESTAMP WITH TIME ZONE" and types["properties"] == "VARCHAR"
    got = con.execute(
        f"select uuid, event, properties, person_id, epoch_us(timestamp) from '{parquet}'"
    ).fetchall()
    assert len(got) == len(base)
    assert [(g[0], g[1], json.loads(g[2]), g[3]) for g in got] == [
        (b["uuid"], b["event"], b["properties"], b["person_id"]) for b in base
    ]
    raw = _synth(tmp_path, "e.csv", users=400).read_bytes()
    assert raw.count(b"\r\n") == len(base) + 1
    table = list(csv.DictReader(raw.decode().splitlines()))
    assert list(table[0])[:2] == ["*.uuid", "*.event"] and "*.properties.$session_id" in table[0]
    assert [(r["*.uuid"], r["*.event"]) for r in table] == [(b["uuid"], b["event"]) for b in base]
    assert all(r["*.properties.utm_source"] in ("facebook", "google", "") for r in table)


def test_truth_as_csv(tmp_path: Path) -> None:
    _synth(tmp_path, "e.jsonl", "--truth", str(tmp_path / "t.csv"), users=200)
    rows = list(csv.DictReader((tmp_path / "t.csv").read_text().splitlines()))
    assert len(rows) == 200 and {"purchase_propensity", "churn_hazard", "expected_revenue"} <= set(
        rows[0]
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-o", "out.txt"], "unknown export format"),
        (["-o", "out.jsonl", "--truth", "t.parquet"], "must end in .jsonl or .csv"),
        (["-o", "out.jsonl", "--config", "missing.json"], "missing.json"),
        (["-o", "out.jsonl", "--users", "0"], "--users"),
    ],
)
def test_bad_input_exits_2(tmp_path: Path, args: list[str], message: str) -> None:
    plan_dir = Path(__file__).resolve().parent.parent / "tracking_plan"
    args = [
        str(tmp_path / a) if a.endswith((".txt", ".jsonl", ".json", ".parquet")) else a
        for a in args
    ]
    users = [] if "--users" in args else ["--users", "10"]
    result = CliRunner().invoke(cli, ["synth", "--plan", str(plan_dir), *users, *args])
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output

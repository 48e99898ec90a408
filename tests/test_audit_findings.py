"""Findings a person can act on: offending values with their counts, the rule broken in words,
"did you mean", headlines that count errors and warnings apart from info, never-seen events
apart from clean ones, links to the doc site, and an HTML report that fits a phone."""

from __future__ import annotations

import json
import random
from collections import Counter
from pathlib import Path
from typing import Any

import duckdb
import pytest
from click.testing import CliRunner

from compiler.audit import open_screened, run_audit, scan, screen_for
from compiler.audit.findings import AuditResult
from compiler.audit.output import html_view, levels, to_html, to_text
from compiler.audit.rules import csv_nulls
from compiler.audit.samples import SAMPLES, annotate, masked
from compiler.cli.main import cli
from compiler.docs.health import read_report
from compiler.docs.site import render_site
from tests.conftest import ARTIFACTS, FIXTURES, PHONE, PLAN_DIR
from tests.export_rows import posthog_row

SAMPLE = FIXTURES / "exports" / "sample_export.jsonl"

# (event, property, offending values with how many rows carry each): distinct counts, so the
# most frequent first is one order.
BAD_VALUES: list[tuple[str, str, dict[Any, int]]] = [
    ("job_created", "mode", {"blur": 9, "BLUR": 7, "Crop": 6, "x": 5, "inpaint ": 4, "y": 2}),
    ("job_created", "credits_before", {"3": 8, 2.5: 3, True: 2}),  # the wrong type
    ("processing_completed", "watermark_confidence", {1.7: 4, -0.5: 2}),  # bounds
    ("job_created", "job_id", {"JOB-1": 3, "abc": 2}),  # pattern
    ("faq_expand", "faq_topic", {"": 3}),  # minLength
    ("job_created", "user_id", {None: 2}),  # null where the event requires a user id
]


def _rows(plan: Any) -> list[dict[str, Any]]:
    rng = random.Random(13)
    rows = [
        posthog_row(plan, event, rng)
        for event in ("job_created", "processing_completed", "faq_expand", "upload_view")
        for _ in range(150)
    ]
    by_event: dict[str, list[dict[str, Any]]] = {}
    for row in rows:  # signed in: no identity rule reads the clean rows of faq_expand, upload_view
        row["properties"]["user_id"] = "usr_1"
        by_event.setdefault(row["event"], []).append(row)
    taken: Counter[str] = Counter()
    for event, prop, values in BAD_VALUES:
        for value, n in values.items():
            for _ in range(n):
                row = by_event[event][taken[event]]
                taken[event] += 1
                row["properties"][prop] = value
    row = by_event["job_created"][taken["job_created"]]
    row["properties"]["source"] = "web"  # a layer of the plan, not of job_created
    by_event["upload_view"][0]["properties"]["coupon"] = "SPRING"
    by_event["upload_view"][1]["properties"]["coupon"] = "SPRING"
    by_event["upload_view"][2]["properties"]["referrer"] = "mail bob@example.com"
    for _ in range(2):
        rows.append({**posthog_row(plan, "job_created", rng), "event": "job_creatd"})
    rows.append(posthog_row(plan, "job_created", rng, uuid="not-a-uuid"))
    return rows


@pytest.fixture(scope="module")
def export(
    plan: Any, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, list[dict[str, Any]]]:
    rows = _rows(plan)
    path = tmp_path_factory.mktemp("findings") / "export.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows) + "{not json\n")
    return path, rows


def audit(plan: Any, path: Path, mode: str) -> tuple[AuditResult, duckdb.DuckDBPyConnection]:
    """`mode`: scanner (the C line scanner, then the SQL screen), sql-screen, unscreened, or
    reference (the jsonschema engine)."""
    con = duckdb.connect()
    screen = screen_for(plan) if mode in ("scanner", "sql-screen") else None
    if mode == "scanner":
        assert scan.available(), "the C line scanner is not built: pip install -e ."
        assert screen is not None and screen.lines is not None
    if screen is not None and mode == "sql-screen":
        screen = screen._replace(lines=None)
    exports = open_screened(con, [str(path)], screen, csv_nulls(plan))
    engine = "jsonschema" if mode == "reference" else "duckdb"
    result = run_audit(con, exports, plan, engine=engine)
    annotate(
        con,
        result,
        plan,
        text_files=exports.text_files,
        reasons=exports.reasons,
        view=exports.views.rows,
    )
    return result, con


def _finding(result: AuditResult, kind: str, event: str | None, prop: str | None) -> Any:
    found = [f for f in result.findings if (f.kind, f.event, f.property) == (kind, event, prop)]
    assert len(found) == 1, (kind, event, prop, [f.to_json() for f in result.findings])
    return found[0]


def _expected(rows: list[dict[str, Any]], event: str, prop: str, bad: Any) -> list[Any]:
    """An independent count: the values `bad` calls offending, most frequent first."""
    counts: Counter[str] = Counter()
    for row in rows:
        props = row["properties"]
        if row["event"] == event and prop in props and bad(props[prop]):
            counts[json.dumps(props[prop])] += 1
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return [(json.loads(v), n) for v, n in ranked[:SAMPLES]]


def _is_int(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and float(v).is_integer()


@pytest.mark.parametrize("mode", ["scanner", "sql-screen", "unscreened", "reference"])
def test_samples_match_an_independent_count(plan, export, mode):
    path, rows = export
    result, con = audit(plan, path, mode)
    if mode in ("scanner", "sql-screen"):  # clean rows really lost their properties
        stripped = con.execute(
            "SELECT count(*) FROM audit_events WHERE properties IS NULL"
        ).fetchone()
        assert stripped is not None and stripped[0] > 100
    enum = plan.properties["mode"].enum
    checks = [
        ("enum_violation", "job_created", "mode", lambda v: v not in enum),
        ("type_mismatch", "job_created", "credits_before", lambda v: not _is_int(v)),
        (
            "constraint_violation",
            "processing_completed",
            "watermark_confidence",
            lambda v: not 0 <= v <= 1,
        ),
        ("constraint_violation", "job_created", "job_id", lambda v: not v.startswith("job_")),
        ("constraint_violation", "faq_expand", "faq_topic", lambda v: v == ""),
        ("null_violation", "job_created", "user_id", lambda v: v is None),
        ("undocumented_property", "upload_view", "coupon", lambda v: True),
    ]
    for kind, event, prop, bad in checks:
        f = _finding(result, kind, event, prop)
        got = [(s.value, s.count) for s in f.samples]
        assert got == _expected(rows, event, prop, bad), (kind, prop)
        assert len(got) <= SAMPLES
        if len(got) < SAMPLES:  # every offending row is accounted for
            assert sum(n for _, n in got) == f.count
    modes = _finding(result, "enum_violation", "job_created", "mode")
    assert len(modes.samples) == SAMPLES and modes.count == 33  # 6 values, the top 5 kept


def test_samples_are_the_same_in_every_mode(plan, export):
    path, _ = export
    documents = []
    for mode in ("scanner", "sql-screen", "unscreened", "reference"):
        document = json.loads(json.dumps(audit(plan, path, mode)[0].to_json()))
        document.pop("engine")
        documents.append(document)
    assert all(d == documents[0] for d in documents[1:])


def test_rule_texts_for_each_kind(plan, export):
    path, _ = export
    result, _ = audit(plan, path, "scanner")
    rules = {(f.kind, f.event, f.property): f.rule for f in result.findings}
    samples = {(f.kind, f.event, f.property): f.samples for f in result.findings}
    assert rules[("enum_violation", "job_created", "mode")] == "'blur' not in [crop, inpaint]"
    assert rules[("type_mismatch", "job_created", "credits_before")] == (
        "expected integer, got string"
    )
    rule_of = {s.value: s.rule for s in samples[("type_mismatch", "job_created", "credits_before")]}
    assert rule_of == {
        "3": "expected integer, got string",
        2.5: "expected integer, got number",
        True: "expected integer, got boolean",
    }
    bounds = {
        s.value: s.rule
        for s in samples[("constraint_violation", "processing_completed", "watermark_confidence")]
    }
    assert bounds == {1.7: "1.7 > maximum 1", -0.5: "-0.5 < minimum 0"}
    assert rules[("constraint_violation", "job_created", "job_id")] == (
        "'JOB-1' does not match ^job_[A-Za-z0-9_-]+$"
    )
    assert rules[("constraint_violation", "faq_expand", "faq_topic")] == (
        "'' is 0 characters < minLength 1"
    )
    assert rules[("null_violation", "job_created", "user_id")].startswith("null, but not nullable")
    assert rules[("wrong_source", "job_created", "source")] == (
        "'web' is not a source of job_created: [server]"
    )
    assert rules[("undocumented_property", "upload_view", "coupon")] == (
        "undocumented property 'coupon'"
    )
    assert rules[("unknown_event", "job_creatd", None)] == "event 'job_creatd' is not in the plan"
    assert rules[("constraint_violation", "job_created", "uuid")] == ("'not-a-uuid' is not a UUID")
    pii = samples[("pii_leak", "upload_view", "referrer")]
    assert [(s.value, s.count) for s in pii] == [("mail b***@example.com", 1)]
    assert "bob" not in json.dumps(result.to_json())  # the report does not spread the leak
    assert rules[("pii_leak", "upload_view", "referrer")] == (
        "an email address in 'referrer', which is not marked pii"
    )
    assert rules[("unparseable_row", None, None)].startswith("not a readable row")
    assert [(s.value, s.count) for s in samples[("unparseable_row", None, None)]] == [
        ("invalid JSON", 1)
    ]


def test_rule_texts_on_the_sample_export(plan):
    result, _ = audit(plan, SAMPLE, "scanner")
    by = {(f.kind, f.event, f.property): f for f in result.findings}
    assert by[("missing_required_property", "job_created", "mode")].rule == (
        "missing required property 'mode'"
    )
    assert by[("deprecated_property", "job_created", "mode_selected")].rule == (
        "deprecated property 'mode_selected'; send 'mode'"
    )
    assert by[("missing_envelope_field", "credits_granted", "environment")].rule == (
        "missing envelope field 'environment'"
    )
    assert by[("sequence_violation", "processing_completed", None)].rule == (
        "needs job_created before processing_completed (per job_id)"
    )
    assert by[("never_seen", "ad_click", None)].rule == "no row of this planned event"
    assert by[("unknown_event", "job_completed", None)].suggestion == "processing_completed"
    assert by[("pii_leak", "signup_submit", "email_domain_type")].samples[0].value == (
        "p***@example.com"
    )
    # the enum finding on the same value hides it too
    enum = by[("enum_violation", "signup_submit", "email_domain_type")]
    assert enum.samples[0].value == "p***@example.com" and "person" not in (enum.rule or "")


def test_unknown_event_did_you_mean(plan, export):
    path, _ = export
    result, _ = audit(plan, path, "scanner")
    unknown = _finding(result, "unknown_event", "job_creatd", None)
    assert unknown.suggestion == "job_created" and unknown.count == 2
    text = to_text(result, width=300)
    assert "event 'job_creatd' is not in the plan; did you mean 'job_created'?" in text
    html = to_html(result, plan, docs_url="https://docs.example.com/plan/")
    assert "Did you mean" in html
    assert 'href="https://docs.example.com/plan/events/job_created.html"' in html


def test_masked_values():
    assert masked("bob@example.com") == "b***@example.com"
    assert masked("+44 20 7946 0958") == "+•• •• •••• ••58"
    assert masked("plain") == "plain" and masked(3) == 3


def test_headline_counts_errors_and_warnings_apart_from_info(plan):
    result, _ = audit(plan, SAMPLE, "scanner")
    count = levels(result)
    by_severity = Counter(f.severity for f in result.findings)
    rows = Counter()
    for f in result.findings:
        rows[f.severity] += f.count
    assert count == {level: (by_severity[level], rows[level]) for level in count}
    assert by_severity["info"] == 45 and by_severity["error"] == 17 and by_severity["warning"] == 2
    html = to_html(result, plan)
    headline = html[html.index('id="headline"') : html.index("</p>", html.index('id="headline"'))]
    assert "Errors found." in headline and "17 errors (17 rows)" in headline
    assert "2 warnings (2 rows)" in headline and "45 planned events never seen (info)" in headline
    assert "64" not in headline
    text = to_text(result, width=300)
    assert "Errors found. 17 errors (17 rows), 2 warnings (2 rows); 45 planned events" in text


def test_never_seen_is_shown_apart_from_clean(plan):
    result, _ = audit(plan, SAMPLE, "scanner")
    view = html_view(result, plan)
    categories = {c["title"]: c for c in view["categories"]}  # type: ignore[attr-defined]
    acquisition = categories["Acquisition"]
    planned = [e.name for e in plan.events_in("acquisition")]
    unseen = [n for n in planned if n not in result.events]
    assert acquisition["never_seen"] == len(unseen) == 4 and acquisition["seen"] == 1
    assert acquisition["health"] == "100.0% clean"
    monetization = categories["Monetization"]
    assert monetization["rows"] == 0 and monetization["health"] == "no rows"
    html = to_html(result, plan)
    assert "not seen" not in html and 'id="never-seen"' in html
    findings = html[
        html.index('id="findings"') : html.index("</table>", html.index('id="findings"'))
    ]
    assert "never_seen" not in findings
    unseen_list = html[html.index('id="never-seen"') :]
    assert all(f"<code>{n}</code>" in unseen_list for n in unseen)


@pytest.mark.parametrize("base", ["https://docs.example.com/plan", "/srv/docs/", "site"])
def test_html_links_each_finding_to_the_event_page(plan, base, tmp_path):
    out = tmp_path / "r.html"
    result = CliRunner().invoke(
        cli,
        ["audit", "--plan", str(PLAN_DIR), str(SAMPLE), "--format", "html", "-o", str(out)]
        + ["--docs-url", base],
    )
    assert result.exit_code == 1, result.output
    html = out.read_text()
    prefix = {"/srv/docs/": "file:///srv/docs", "site": "site"}.get(base, base)
    link = f'href="{prefix}/events/job_created.html"'
    findings = html[html.index('id="findings"') :]
    assert link in findings
    assert 'href="' not in html[: html.index('id="findings"')]  # only events are linked
    assert "events/job_created.html" in {str(p) for p in render_site(plan)}  # the page exists
    assert "events/job_completed.html" not in html  # no page for an event not in the plan
    without = to_html(audit(plan, SAMPLE, "scanner")[0], plan)
    assert "events/job_created.html" not in without


def test_json_keeps_its_keys_and_the_docs_health_reads_it(plan, tmp_path):
    out = tmp_path / "r.json"
    CliRunner().invoke(
        cli, ["audit", "--plan", str(PLAN_DIR), str(SAMPLE), "--format", "json", "-o", str(out)]
    )
    document = json.loads(out.read_text())
    for f in document["findings"]:
        assert {"kind", "event", "property", "count", "examples", "severity"} <= set(f)
        assert isinstance(f["rule"], str) and f["rule"]
        assert all(set(s) == {"value", "count", "rule"} for s in f["samples"])
    mode = next(f for f in document["findings"] if f["kind"] == "enum_violation")
    assert mode["samples"] == [
        {"value": "blur", "count": 1, "rule": "'blur' not in [crop, inpaint]"}
    ]
    unknown = [f for f in document["findings"] if f["kind"] == "unknown_event"]
    assert {f["event"]: f["suggestion"] for f in unknown} == {
        "job_completed": "processing_completed",
        "signup_cta_clicked": "cta_click",
    }
    health = read_report(out, set(plan.events))
    assert health.rows_total == 23


def test_html_fits_a_390_pixel_phone(plan, export, page, tmp_path):
    path, _ = export
    html = tmp_path / "audit.html"
    for source, name in ((SAMPLE, "audit-phone"), (path, "audit-phone-values")):
        result, _ = audit(plan, source, "scanner")
        html.write_text(to_html(result, plan, docs_url="https://docs.example.com/plan"))
        page.set_viewport_size(PHONE)
        page.goto(html.as_uri())
        assert page.evaluate("document.querySelector('meta[name=viewport]') !== null")
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        assert page.evaluate("document.body.scrollWidth") <= PHONE["width"]
        for box in page.locator("div.scroll, h2, p, li").evaluate_all(
            "all => all.map(e => e.getBoundingClientRect().right)"
        ):
            assert box <= PHONE["width"]
        # each finding (a card on a phone) fits the screen: the rule is readable without scrolling
        rights = page.locator("#findings td.rule").evaluate_all(
            "all => all.map(e => e.getBoundingClientRect().right)"
        )
        assert rights and max(rights) <= PHONE["width"]
        sizes = page.locator("td, li, p").evaluate_all(
            "all => all.map(e => parseFloat(getComputedStyle(e).fontSize))"
        )
        assert min(sizes) >= 13
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


@pytest.mark.parametrize("mode", ["scanner", "unscreened", "reference"])
def test_a_number_past_a_double_gets_a_sample_not_a_crash(plan, tmp_path, mode):
    """A 400-digit integer and 1e400 are type mismatches in every engine; sampling them used to
    raise OverflowError (an int too large for float()) or find nothing to show."""
    rng = random.Random(5)
    rows = [posthog_row(plan, "job_created", rng) for _ in range(20)]
    lines = [json.dumps(r) for r in rows]
    huge = "1" + "0" * 400
    lines[3] = lines[3].replace('"credits_before": ', f'"credits_before": {huge}, "x_": ', 1)
    lines[4] = lines[4].replace('"credits_before": ', '"credits_before": 1e400, "x_": ', 1)
    path = tmp_path / "overflow.jsonl"
    path.write_text("\n".join(lines) + "\n")
    assert huge in path.read_text() and "1e400" in path.read_text()
    result, _ = audit(plan, path, mode)
    found = _finding(result, "type_mismatch", "job_created", "credits_before")
    assert found.count == 2
    assert (
        sorted(s.rule for s in found.samples) == ["expected integer, got a number out of range"] * 2
    )

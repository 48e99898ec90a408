"""`trackplan docs --export`: the exports' profile (persons, daily volume, missing values,
observed funnel rates) checked against a pure-Python count over the same rows; broken exports;
the in-process audit against `trackplan audit --format json`; Markdown in descriptions."""

from __future__ import annotations

import gzip
import json
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest
from click.testing import CliRunner

from compiler.audit import run_audit
from compiler.cli.main import cli
from compiler.docs.health import from_audit, read_report
from compiler.docs.profile import Profile, profile
from compiler.exports import open_events
from compiler.plan.model import Plan
from compiler.plan.pipeline import load_plan
from compiler.templating import markdown, plain_text, when
from tests.conftest import PLAN_DIR
from tests.models_support import SHOPFAST, synth_export

Row = dict[str, Any]


def _blank_and_thin(rows: list[Row], plan: Plan) -> list[Row]:
    """No person_id anywhere (persons must be stitched from $identify), and in every planned
    event with properties some rows lose a property and some carry it as JSON null."""
    out = []
    for i, row in enumerate(rows):
        row = {**row, "person_id": "", "properties": dict(row["properties"])}
        event = plan.events.get(row["event"])
        if event and event.properties:
            names = [ep.name for ep in event.properties]
            if i % 3 == 0:
                row["properties"].pop(names[i % len(names)], None)
            if i % 7 == 1:
                row["properties"][names[(i // 7) % len(names)]] = None
        out.append(row)
    return out


@pytest.fixture(scope="module")
def export(plan, tmp_path_factory) -> tuple[Path, list[Row], list[Row]]:  # type: ignore[no-untyped-def]
    tmp = tmp_path_factory.mktemp("profile")
    raw = synth_export(PLAN_DIR, tmp / "synth.jsonl", users=60, days=10)
    original = [json.loads(line) for line in raw.read_text().splitlines()]
    rows = _blank_and_thin(original, plan)
    path = tmp / "thinned.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as out:
        out.writelines(json.dumps(r) + "\n" for r in rows)
    return path, original, rows


@pytest.fixture(scope="module")
def measured(plan, export) -> Profile:  # type: ignore[no-untyped-def]
    con = duckdb.connect()
    report = open_events(con, [str(export[0])])
    assert not report.errors and report.rows_unparseable == 0
    return profile(con, plan)


def _day(ts: str) -> str:
    return datetime.fromisoformat(ts).astimezone(UTC).date().isoformat()


def test_rows_and_daily_volume_match_a_python_count(plan, export, measured):
    _, _, rows = export
    planned = [r for r in rows if r["event"] in plan.events]
    assert measured.rows == len(planned) > 200
    by_event = Counter(r["event"] for r in planned)
    daily: dict[str, Counter[str]] = defaultdict(Counter)
    for r in planned:
        daily[r["event"]][_day(r["timestamp"])] += 1
    days = sorted({_day(r["timestamp"]) for r in planned})
    assert (
        measured.days
        == (datetime.fromisoformat(days[-1]) - datetime.fromisoformat(days[0])).days + 1
    )
    assert set(measured.events) == set(by_event)
    for name, n in by_event.items():
        got = measured.events[name]
        assert got.rows == n
        assert {d: c for d, c in got.daily if c} == dict(daily[name])
        assert len(got.daily) == measured.days and got.daily[0][0] == days[0]
        assert sum(c for _, c in got.daily) == n


def test_persons_are_stitched_like_rates_and_match_synths_own_persons(plan, export, measured):
    # The thinned export has no person_id: persons come from $identify links, which must give
    # back exactly synth's persons (the original rows' person_id).
    _, original, _ = export
    planned = [r for r in original if r["event"] in plan.events]
    persons: dict[str, set[str]] = defaultdict(set)
    for r in planned:
        persons[r["event"]].add(r["person_id"])
    assert measured.persons == len({r["person_id"] for r in planned}) == 60
    for name, people in persons.items():
        assert measured.events[name].persons == len(people), name


def test_absent_and_null_shares_match_a_python_count(plan, export, measured):
    _, _, rows = export
    checked = 0
    for name, got in measured.events.items():
        mine = [r["properties"] for r in rows if r["event"] == name]
        assert [p.name for p in got.properties] == [ep.name for ep in plan.events[name].properties]
        for fill in got.properties:
            absent = sum(1 for p in mine if fill.name not in p)
            null = sum(1 for p in mine if fill.name in p and p[fill.name] is None)
            assert (fill.rows, fill.absent, fill.null) == (len(mine), absent, null), fill
            checked += absent + null
    assert checked > 50  # the thinning reached the counts


def test_observed_rates_are_the_rates_commands(plan, export, measured):
    result = CliRunner().invoke(
        cli, ["rates", "--plan", str(PLAN_DIR), "--format", "json", str(export[0])]
    )
    assert result.exit_code == 0, result.output
    rates = json.loads(result.output)["transitions"]
    assert [t.name for t in measured.transitions] == list(rates)
    assert {t.name for t in plan.transitions} <= set(rates)
    for t in measured.transitions:
        assert (t.observed.numerator, t.observed.denominator) == (
            rates[t.name]["numerator"],
            rates[t.name]["denominator"],
        )


def test_in_process_audit_equals_the_audit_commands_json_report(plan, export, tmp_path):
    report = tmp_path / "audit.json"
    args = ["audit", "--plan", str(PLAN_DIR), "--format", "json", "-o", str(report)]
    result = CliRunner().invoke(cli, [*args, str(export[0])])
    assert result.exit_code in (0, 1), result.output
    from_json = read_report(report, set(plan.events))
    con = duckdb.connect()
    exports = open_events(con, [str(export[0])])
    typed = from_audit(run_audit(con, exports, plan), str(report), set(plan.events))
    assert typed == from_json
    assert any(h.findings for h in typed.events.values())  # the thinning broke rules


def _docs(*args: str, plan_dir: Path = PLAN_DIR):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, ["docs", "--plan", str(plan_dir), *args])


def test_docs_with_export_alone_shows_findings_and_the_profile(plan, export, measured, tmp_path):
    out = tmp_path / "site"
    result = _docs("--export", str(export[0]), "--out", str(out))
    assert result.exit_code == 0, result.output
    name, got = max(measured.events.items(), key=lambda kv: kv[1].rows)
    page = (out / "events" / f"{name}.html").read_text()
    assert f'<dd class="persons">{got.persons:,}</dd>' in page
    assert 'role="img" aria-label="Rows per day over' in page and "Missing values" in page
    assert "violations" in page  # the in-process audit's findings reached the page
    home = (out / "index.html").read_text()
    assert f'<strong class="persons">{measured.persons:,}</strong>' in home
    assert "Observed step rates" in home and "thinned.jsonl.gz" in home


def test_docs_with_audit_only_says_how_to_get_the_profile(plan, export, tmp_path):
    report = tmp_path / "audit.json"
    CliRunner().invoke(
        cli,
        ["audit", "--plan", str(PLAN_DIR), "--format", "json", "-o", str(report), str(export[0])],
    )
    result = _docs("--audit", str(report), "--out", str(tmp_path / "site"))
    assert result.exit_code == 0, result.output
    page = next((tmp_path / "site" / "events").glob("*.html")).read_text()
    assert "trackplan docs --export EXPORT" in page and "Distinct persons" not in page


@pytest.mark.parametrize(
    ("content", "said"),
    [
        (None, "no such file"),
        (b"not json\n{{{\n", "no readable rows"),
        (b"PAR1\x00\x01garbage", "garbage.parquet"),
    ],
)
def test_broken_exports_exit_2_naming_the_file(tmp_path, content, said):
    path = tmp_path / ("garbage.parquet" if content and content.startswith(b"PAR1") else "x.jsonl")
    if content is not None:
        path.write_bytes(content)
    result = _docs("--export", str(path), "--out", str(tmp_path / "site"))
    assert result.exit_code == 2, result.output
    assert said in result.output and str(path.name) in result.output
    assert "Traceback" not in result.output and isinstance(result.exception, SystemExit)


def test_markdown_renders_code_and_escapes_raw_html():
    assert markdown("sent as `$session_id`") == "sent as <code>$session_id</code>"
    assert markdown("*very* [docs](https://example.com)") == (
        '<em>very</em> <a href="https://example.com">docs</a>'
    )
    unsafe = markdown('<script>alert(1)</script> [x](javascript:alert(1)) <b onclick="y">')
    assert "<script>" not in unsafe and "&lt;script&gt;" in unsafe
    assert "<b " not in unsafe and "href" not in unsafe
    assert plain_text("sent as `$session_id`, *really*") == "sent as $session_id, really"


def test_the_site_renders_backticks_as_code_and_indexes_plain_text(plan, tmp_path):
    from compiler.docs.site import render_site

    files = {str(p): text for p, text in render_site(plan).items()}
    described = [p for p in plan.properties.values() if "`" in p.description]
    assert described, "the shipped plan has a description with backticks"
    page = files[f"properties/{described[0].name}.html"]
    lead = page.split('<p class="lead">', 1)[1].split("</p>", 1)[0]
    assert "<code>" in lead and "`" not in lead
    index = files["assets/search-index.js"]
    entries = [
        json.loads(line.rstrip(",")) for line in index.splitlines() if line.startswith("  {")
    ]
    assert entries and not any("`" in e["text"] for e in entries)


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("2026-01-23T15:19:02.123456+00:00", "2026-01-23 15:19 UTC"),
        ("2026-01-23T17:19:02+02:00", "2026-01-23 15:19 UTC"),
        ("2026-01-23T15:19:02Z", "2026-01-23 15:19 UTC"),
        (None, "never"),
        ("yesterday", "yesterday"),
    ],
)
def test_timestamps_are_shown_in_utc_to_the_minute(raw, shown):
    assert when(raw) == shown


def test_the_second_example_plan_profiles_too(tmp_path):
    # Rows and persons by plain person_id here: synth sets it on every row.
    plan = load_plan(SHOPFAST).plan
    export = synth_export(SHOPFAST, tmp_path / "shop.parquet", users=30, days=5)
    con = duckdb.connect()
    open_events(con, [str(export)])
    measured = profile(con, plan)
    rows = con.execute(
        "SELECT event, count(*), count(DISTINCT person_id) FROM events GROUP BY event"
    ).fetchall()
    expected = {e: (n, p) for e, n, p in rows if e in plan.events}
    assert {e: (p.rows, p.persons) for e, p in measured.events.items()} == expected
    assert measured.persons == 30
    result = _docs("--export", str(export), "--out", str(tmp_path / "site"), plan_dir=SHOPFAST)
    assert result.exit_code == 0, result.output
    assert "Observed step rates" in (tmp_path / "site" / "index.html").read_text()

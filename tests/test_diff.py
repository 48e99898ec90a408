"""`trackplan diff`: one before/after plan pair per change kind, bumps, exit codes, formats,
git bases, bad input and the production impact on a synth export."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from compiler.audit import run_audit
from compiler.audit.rules import csv_nulls
from compiler.cli.diff import diff
from compiler.diff.model import KINDS, Severity
from compiler.exports import open_events
from compiler.plan import load_plan

MINIMAL = Path(__file__).parent / "fixtures" / "plans" / "minimal"
THING = (
    "events:\n  thing_viewed:\n    category: product\n    description: Seen.\n    layers: [web]\n"
)
NOTE_PROP = "properties:\n  note:\n    type: string\n    description: A note.\n"
NOTE_USED = [
    ("properties:\n", NOTE_PROP),
    ("[price, currency]\n", "[price, currency]\n    optional: [note]\n"),
]
DEPRECATED = (
    "\ndeprecated_events:\n  thing_viewed:\n    replaced_by: job_created\n    description: Old.\n"
)
PROC = "    required: [job_id]\n    optional: [mode]\n"
Edit = list[tuple[str, str]]


def write(tmp_path: Path, name: str, edits: Edit) -> Path:
    target = tmp_path / name
    shutil.copytree(MINIMAL, target)
    text = (target / "plan.yaml").read_text()
    for old, new in edits:
        if old == "$":
            text += new
        elif old == "^destinations":
            text = text[: text.index("destinations:")]
        else:
            assert old in text, old
            text = text.replace(old, new, 1)
    (target / "plan.yaml").write_text(text)
    return target


def line_of(plan_dir: Path, marker: str) -> int:
    lines = (plan_dir / "plan.yaml").read_text().splitlines()
    return next(i for i, line in enumerate(lines, 1) if line.startswith(marker))


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(diff, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.output


# (kind, base edits, new edits, marker of the line reported, side of that line)
CASES: list[tuple[str, Edit, Edit, str, str]] = [
    ("event_removed", [("events:\n", THING)], [], "  thing_viewed:", "base"),
    ("event_renamed", [("events:\n", THING)], [("$", DEPRECATED)], "  thing_viewed:", "base"),
    (
        "property_removed",
        [],
        [(PROC, "    required: [job_id]\n")],
        "  processing_completed:",
        "base",
    ),
    (
        "required_property_added",
        [],
        [("[price, currency]", "[price, currency, job_id]")],
        "  purchase_completed:",
        "new",
    ),
    ("type_changed", [], [("type: number", "type: integer")], "  price:", "new"),
    ("enum_value_removed", [], [("[crop, inpaint]", "[crop]")], "  mode:", "new"),
    ("range_narrowed", [], [("minimum: 0", "minimum: 1")], "  price:", "new"),
    ("length_narrowed", [], [("'^job_'\n", "'^job_'\n    max_length: 40\n")], "  job_id:", "new"),
    ("pattern_changed", [], [("'^job_'", "'^job_[0-9]'")], "  job_id:", "new"),
    (
        "format_changed",
        [],
        [("PostHog id.", "PostHog id.\n    format: uuid")],
        "  distinct_id:",
        "new",
    ),
    (
        "made_required",
        [],
        [(PROC, "    required: [job_id, mode]\n")],
        "  processing_completed:",
        "new",
    ),
    ("made_non_nullable", [], [("    nullable: true\n", "")], "  user_id:", "new"),
    ("layer_removed", [("layers: [server]", "layers: [server, web]")], [], "  job_created:", "new"),
    ("meta_mapping_removed", [], [("^destinations", "")], "  purchase_completed:", "base"),
    (
        "meta_mapping_changed",
        [],
        [("meta_event: Purchase", "meta_event: Subscribe")],
        "  purchase_completed:",
        "new",
    ),
    ("envelope_made_required", [], [("required: false}", "required: true}")], "  user_id:", "new"),
    (
        "envelope_field_removed",
        [],
        [("  user_id: {placement: top, required: false}\n", "")],
        "  user_id:",
        "base",
    ),
    ("dictionary_property_removed", NOTE_USED, [], "  note:", "base"),
    ("event_added", [], [("events:\n", THING)], "  thing_viewed:", "new"),
    (
        "optional_property_added",
        [],
        [("[price, currency]\n", "[price, currency]\n    optional: [job_id]\n")],
        "  purchase_completed:",
        "new",
    ),
    ("enum_value_added", [], [("[crop, inpaint]", "[crop, inpaint, erase]")], "  mode:", "new"),
    ("range_widened", [], [("minimum: 0", "minimum: -1")], "  price:", "new"),
    (
        "length_widened",
        [("'^job_'\n", "'^job_'\n    max_length: 40\n")],
        [("'^job_'\n", "'^job_'\n    max_length: 80\n")],
        "  job_id:",
        "new",
    ),
    ("pattern_removed", [], [("    pattern: '^job_'\n", "")], "  job_id:", "new"),
    (
        "format_removed",
        [("PostHog id.", "PostHog id.\n    format: uuid")],
        [],
        "  distinct_id:",
        "new",
    ),
    (
        "made_optional",
        [(PROC, "    required: [job_id, mode]\n")],
        [],
        "  processing_completed:",
        "new",
    ),
    (
        "made_nullable",
        [],
        [("type: number", "type: number\n    nullable: true")],
        "  price:",
        "new",
    ),
    ("layer_added", [], [("layers: [server]", "layers: [server, web]")], "  job_created:", "new"),
    ("meta_mapping_added", [("^destinations", "")], [], "  purchase_completed:", "new"),
    ("envelope_made_optional", [("required: false}", "required: true}")], [], "  user_id:", "new"),
    (
        "envelope_field_added",
        [("  user_id: {placement: top, required: false}\n", "")],
        [],
        "  user_id:",
        "new",
    ),
    ("dictionary_property_added", [], [("properties:\n", NOTE_PROP)], "  note:", "new"),
    ("dictionary_property_dropped", [("properties:\n", NOTE_PROP)], [], "  note:", "base"),
    ("deprecation_added", [], [("$", DEPRECATED)], "  job_created:", "new"),
    (
        "description_changed",
        [],
        [("description: Paid.", "description: Paid money.")],
        "  purchase_completed:",
        "new",
    ),
    (
        "annotation_changed",
        [],
        [("    nullable: true\n", "    nullable: true\n    pii: true\n")],
        "  user_id:",
        "new",
    ),
    (
        "version_changed",
        [],
        [("description: Paid.", "description: Paid.\n    version: 1.1.0")],
        "  purchase_completed:",
        "new",
    ),
]


def test_every_kind_has_a_case() -> None:
    assert {c[0] for c in CASES} >= set(KINDS) - {"envelope_field_changed"}


@pytest.mark.parametrize(
    ("kind", "base_edits", "new_edits", "marker", "side"), CASES, ids=[c[0] for c in CASES]
)
def test_kind(
    tmp_path: Path, kind: str, base_edits: Edit, new_edits: Edit, marker: str, side: str
) -> None:
    base = write(tmp_path, "base", base_edits)
    new = write(tmp_path, "new", new_edits)
    code, out = run("--base", str(base), "--plan", str(new), "--format", "json")
    doc = json.loads(out)
    found = [c for c in doc["changes"] if c["kind"] == kind]
    assert found, doc["changes"]
    severity, bump, _ = KINDS[kind]
    where = base if side == "base" else new
    change = found[0]
    assert Path(change["file"]).name == "plan.yaml"
    assert Path(change["file"]).resolve().parent == where.resolve()
    assert change["line"] == line_of(where, marker)
    assert change["side"] == side
    assert change["severity"] == severity.value and change["bump"] == bump.value
    breaking = severity is Severity.BREAKING
    assert code == (1 if breaking else 0)
    assert doc["blocking"] is breaking
    for event in change["events"]:
        assert doc["events"][event] in ("major", bump.value)
    assert doc["plan_bump"] in ("major", bump.value)


def test_renamed_event_is_not_also_a_removal_or_a_deprecation(tmp_path: Path) -> None:
    base = write(tmp_path, "base", [("events:\n", THING)])
    new = write(tmp_path, "new", [("$", DEPRECATED)])
    doc = json.loads(run("--base", str(base), "--plan", str(new), "--format", "json")[1])
    assert [c["kind"] for c in doc["changes"]] == ["event_renamed"]
    assert doc["events"] == {"thing_viewed": "major"} and doc["suggested_version"] == "1.0.0"


def test_bumps_per_event_and_plan(tmp_path: Path) -> None:
    base = MINIMAL
    new = write(
        tmp_path, "new", [("description: Paid.", "description: Paid money."), ("events:\n", THING)]
    )
    code, out = run("--base", str(base), "--plan", str(new), "--format", "json")
    doc = json.loads(out)
    assert code == 0
    assert doc["events"] == {"purchase_completed": "patch", "thing_viewed": "minor"}
    assert doc["plan_bump"] == "minor" and doc["suggested_version"] == "0.2.0"


def test_major_version_raised_or_allow_breaking_exit_0(tmp_path: Path) -> None:
    new = write(tmp_path, "new", [("minimum: 0", "minimum: 1")])
    assert run("--base", str(MINIMAL), "--plan", str(new))[0] == 1
    code, out = run("--base", str(MINIMAL), "--plan", str(new), "--allow-breaking")
    assert code == 0 and "--allow-breaking" in out
    raised = write(
        tmp_path, "raised", [("minimum: 0", "minimum: 1"), ("version: 0.1.0", "version: 1.0.0")]
    )
    code, out = run("--base", str(MINIMAL), "--plan", str(raised))
    assert code == 0 and "major version was raised" in out
    minor = write(
        tmp_path, "minor", [("minimum: 0", "minimum: 1"), ("version: 0.1.0", "version: 0.2.0")]
    )
    assert run("--base", str(MINIMAL), "--plan", str(minor))[0] == 1


def test_no_changes(tmp_path: Path) -> None:
    code, out = run("--base", str(MINIMAL), "--plan", str(MINIMAL))
    assert code == 0 and "0 breaking, 0 non-breaking" in out


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)


def test_git_ref_base(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    git(repo, "config", "user.email", "t@example.test")
    git(repo, "config", "user.name", "t")
    plan = repo / "tracking_plan"
    shutil.copytree(MINIMAL, plan)
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "plan")
    text = (plan / "plan.yaml").read_text()
    (plan / "plan.yaml").write_text(text.replace("minimum: 0", "minimum: 5"))
    monkeypatch.chdir(repo)
    code, out = run("--plan", "tracking_plan", "--format", "json")
    doc = json.loads(out)
    assert code == 1 and doc["base"]["label"] == "HEAD:tracking_plan"
    assert [c["kind"] for c in doc["changes"]] == ["range_narrowed"]
    assert doc["changes"][0]["file"] == "tracking_plan/plan.yaml"
    git(repo, "commit", "-qam", "narrow")
    code, out = run("--plan", "tracking_plan", "--base", "HEAD~1")
    assert code == 1 and "range_narrowed" in out
    git(repo, "checkout", "-q", "tracking_plan/plan.yaml")
    text2 = (plan / "plan.yaml").read_text()
    (plan / "plan.yaml").write_text(text2 + DEPRECATED.replace("thing_viewed", "old_name"))
    code, out = run("--plan", "tracking_plan", "--base", "HEAD~1")
    assert "deprecation_added" in out
    code, out = run("--plan", "tracking_plan", "--base", "nope")
    assert code == 2 and "nope" in out and len(out.strip().splitlines()) == 1
    git(repo, "mv", "tracking_plan", "plan2")
    git(repo, "commit", "-qm", "moved")
    code, out = run("--plan", "plan2", "--base", "HEAD~1")
    assert code == 2 and "does not exist at HEAD~1" in out


def test_markdown(tmp_path: Path) -> None:
    new = write(tmp_path, "new", [("minimum: 0", "minimum: 1"), ("events:\n", THING)])
    code, out = run("--base", str(MINIMAL), "--plan", str(new), "--format", "markdown")
    assert code == 1
    assert out.startswith("### :x: Tracking plan diff")
    assert "**1 breaking, 1 non-breaking change(s)" in out
    breaking = out.index("#### Breaking changes")
    non_breaking = out.index("#### Non-breaking changes")
    assert breaking < out.index("`range_narrowed`") < non_breaking < out.index("`event_added`")
    assert "| `thing_viewed` | minor |" in out and "| `purchase_completed` | major |" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--base", "/nonexistent/dir"], "not a directory"),
        (["--plan", "/nonexistent/plan"], "plan directory not found"),
        (["--base", "no-such-ref"], "no-such-ref"),
    ],
)
def test_bad_input(tmp_path: Path, args: list[str], message: str) -> None:
    plan = write(tmp_path, "plan", [])
    code, out = run(*(["--plan", str(plan)] if "--plan" not in args else []), *args)
    assert code == 2 and message in out
    assert len(out.strip().splitlines()) == 1 and "Traceback" not in out


def test_base_that_does_not_lint(tmp_path: Path) -> None:
    bad = write(tmp_path, "bad", [("layers: [server]", "layers: [nowhere]")])
    code, out = run("--base", str(bad), "--plan", str(MINIMAL))
    assert code == 2 and "the base" in out and len(out.strip().splitlines()) == 1
    code, out = run("--base", str(MINIMAL), "--plan", str(bad))
    assert code == 2 and "the new" in out


def audit_failing(plan_dir: Path, export: Path) -> dict[str, int]:
    import duckdb

    plan = load_plan(plan_dir).plan
    con = duckdb.connect()
    exports = open_events(con, [str(export)], csv_nulls(plan))
    audited = run_audit(con, exports, plan, engine="jsonschema")
    return {name: stats.rows_with_violations for name, stats in audited.events.items()}


def test_export_impact(tmp_path: Path) -> None:
    export = tmp_path / "export.jsonl"
    subprocess.run(
        [
            str(Path(".venv/bin/trackplan").resolve()),
            "synth",
            "--plan",
            str(MINIMAL),
            "--users",
            "200",
            "-o",
            str(export),
        ],
        check=True,
        capture_output=True,
    )
    new = write(tmp_path, "new", [("minimum: 0", "minimum: 30"), ("[crop, inpaint]", "[crop]")])
    code, out = run(
        "--base", str(MINIMAL), "--plan", str(new), "--export", str(export), "--format", "json"
    )
    assert code == 1
    impact = {i["event"]: i for i in json.loads(out)["impact"]}
    base_bad, new_bad = audit_failing(MINIMAL, export), audit_failing(new, export)
    assert set(impact) == {"job_created", "processing_completed", "purchase_completed"}
    for event, row in impact.items():
        assert row["base_failing"] == base_bad.get(event, 0) == 0
        assert row["new_failing"] == new_bad[event] == row["newly_failing"]
        assert len(row["examples"]) == min(3, row["newly_failing"])
    assert 0 < impact["purchase_completed"]["newly_failing"] < impact["purchase_completed"]["rows"]
    text = run("--base", str(MINIMAL), "--plan", str(new), "--export", str(export))[1]
    assert "production impact" in text
    assert (
        run(
            "--base", str(MINIMAL), "--plan", str(new), "--export", str(tmp_path / "missing.jsonl")
        )[0]
        == 2
    )

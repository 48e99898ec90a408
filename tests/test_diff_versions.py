"""Event versions: the `version` key (TP023 when malformed), the version in the generated
JSON Schema, Python and TypeScript, and `trackplan diff` on versions, triggers and owners with
the suggested per-event version (hand-computed SemVer) in text, JSON and Markdown."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from compiler.cli.diff import diff
from compiler.cli.lint import lint
from compiler.plan import load_plan
from compiler.targets import jsonschema, python, typescript

MINIMAL = Path(__file__).parent / "fixtures" / "plans" / "minimal"
PAID = "description: Paid.\n"  # purchase_completed
FINISHED = "description: A job finished.\n"  # processing_completed
Edit = list[tuple[str, str]]


def write(tmp_path: Path, name: str, edits: Edit) -> Path:
    target = tmp_path / name
    shutil.copytree(MINIMAL, target)
    text = (target / "plan.yaml").read_text()
    for old, new in edits:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    (target / "plan.yaml").write_text(text)
    return target


def versioned(event_marker: str, version: str) -> tuple[str, str]:
    return event_marker, f"{event_marker}    version: {version}\n"


def run_diff(base: Path, new: Path, fmt: str) -> tuple[int, str]:
    result = CliRunner().invoke(diff, ["--base", str(base), "--plan", str(new), "--format", fmt])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.output


# --- the plan key ---------------------------------------------------------------------------


def test_version_defaults_to_1_0_0_and_is_read(tmp_path: Path) -> None:
    plan_dir = write(tmp_path, "p", [versioned(PAID, "2.10.3")])
    plan = load_plan(plan_dir).plan
    assert plan.events["purchase_completed"].version == "2.10.3"
    assert plan.events["job_created"].version == "1.0.0"


@pytest.mark.parametrize(
    ("written", "words"),
    [
        ("'1.2'", "got '1.2'"),
        ("2.0", "got the number 2.0"),
        ("7", "got the number 7"),
        ("v1.0.0", "got 'v1.0.0'"),
        ("1.02.0", "got '1.02.0'"),
        ("1.0.0-beta", "got '1.0.0-beta'"),
    ],
)
def test_malformed_version_is_tp023_at_its_value(tmp_path: Path, written: str, words: str) -> None:
    plan_dir = write(tmp_path, "p", [versioned(PAID, written)])
    errors = load_plan(plan_dir).errors
    assert [d.code for d in errors] == ["TP023"], errors
    lines = (plan_dir / "plan.yaml").read_text().splitlines()
    line = next(i for i, text in enumerate(lines, 1) if text.startswith("    version:"))
    loc = errors[0].location
    assert loc is not None and Path(loc.file).name == "plan.yaml"
    assert (loc.line, loc.col) == (line, len("    version: ") + 1)
    assert "MAJOR.MINOR.PATCH" in errors[0].message and words in errors[0].message


def test_lint_cli_exit_1_names_file_line_col(tmp_path: Path) -> None:
    plan_dir = write(tmp_path, "p", [versioned(PAID, "'one'")])
    result = CliRunner().invoke(lint, ["--plan", str(plan_dir)])
    assert result.exit_code == 1, result.output
    assert "plan.yaml:" in result.output and "TP023" in result.output
    assert "Traceback" not in result.output


# --- generated code -------------------------------------------------------------------------


def test_generated_code_carries_each_events_version(tmp_path: Path) -> None:
    plan = load_plan(write(tmp_path, "p", [versioned(PAID, "3.1.4")])).plan
    schemas = jsonschema.render(plan)
    paid = json.loads(schemas[Path("jsonschema/events/purchase_completed.schema.json")])
    job = json.loads(schemas[Path("jsonschema/events/job_created.schema.json")])
    assert (paid["x-version"], job["x-version"]) == ("3.1.4", "1.0.0")
    assert paid["$id"] == "https://example.test/schemas/events/purchase_completed.schema.json"
    index = json.loads(schemas[Path("jsonschema/index.json")])
    assert index["events"]["purchase_completed"]["version"] == "3.1.4"

    py = {str(k): v for k, v in python.render(plan).items()}
    runtime = py["python/mini_analytics/_runtime.py"]
    assert '"purchase_completed": "3.1.4",' in runtime and '"job_created": "1.0.0",' in runtime
    assert "`purchase_completed` version 3.1.4;" in py["python/mini_analytics/events.py"]
    assert "(version 3.1.4)" in py["python/mini_analytics/models.py"]
    assert '"EVENT_VERSIONS",' in py["python/mini_analytics/__init__.py"]

    ts = {str(k): v for k, v in typescript.render(plan).items()}
    assert '"purchase_completed": "3.1.4"' in ts["typescript/src/plan.ts"]
    assert ts["typescript/src/trackers.ts"].count("@version 3.1.4") == 1
    assert ts["typescript/src/events.ts"].count("@version 3.1.4") == 1
    assert "EVENT_VERSIONS" in ts["typescript/src/index.ts"]


# --- diff -----------------------------------------------------------------------------------


def kinds(doc: dict[str, object]) -> list[tuple[str, str, str]]:
    changes = doc["changes"]
    assert isinstance(changes, list)
    return [(c["kind"], c["bump"], c["message"]) for c in changes]


def test_version_trigger_and_owner_changes_are_non_breaking(tmp_path: Path) -> None:
    base = write(
        tmp_path,
        "base",
        [
            (PAID, PAID + "    trigger: On payment.\n    owner: growth\n"),
            versioned(FINISHED, "1.0.0"),
        ],
    )
    new = write(
        tmp_path,
        "new",
        [
            (PAID, PAID + "    trigger: When the payment clears.\n    owner: billing\n"),
            versioned(FINISHED, "1.0.1"),
        ],
    )
    code, out = run_diff(base, new, "json")
    doc = json.loads(out)
    assert code == 0 and doc["breaking"] == 0 and doc["non_breaking"] == 3
    assert sorted(kinds(doc)) == [
        ("annotation_changed", "patch", "purchase_completed: owner 'growth' -> 'billing'"),
        ("description_changed", "patch", "purchase_completed: trigger changed"),
        ("version_changed", "none", "processing_completed: version 1.0.0 -> 1.0.1"),
    ]
    assert doc["events"] == {"processing_completed": "none", "purchase_completed": "patch"}
    assert doc["event_versions"]["processing_completed"] == {
        "bump": "none",
        "base": "1.0.0",
        "new": "1.0.1",
        "suggested": "1.0.0",
    }


def test_adding_or_removing_a_trigger_or_owner_is_a_change(tmp_path: Path) -> None:
    base = write(tmp_path, "base", [])
    new = write(tmp_path, "new", [(PAID, PAID + "    trigger: On payment.\n    owner: growth\n")])
    _, out = run_diff(base, new, "json")
    assert sorted(k for k, _, _ in kinds(json.loads(out))) == [
        "annotation_changed",
        "description_changed",
    ]
    _, back = run_diff(new, base, "json")
    assert "purchase_completed: owner 'growth' -> none" in back
    same, _ = run_diff(new, new, "json")
    assert json.loads(run_diff(new, new, "json")[1])["changes"] == [] and same == 0


def test_suggested_version_starts_from_the_events_own_version(tmp_path: Path) -> None:
    # purchase_completed 2.3.1 gains an optional property (minor): 2.4.0, declared 2.3.2 is
    # below it; processing_completed 1.4.0 loses `mode` (major): 2.0.0, declared 2.0.0.
    base = write(tmp_path, "base", [versioned(PAID, "2.3.1"), versioned(FINISHED, "1.4.0")])
    new = write(
        tmp_path,
        "new",
        [
            versioned(PAID, "2.3.2"),
            ("[price, currency]\n", "[price, currency]\n    optional: [mode]\n"),
            versioned(FINISHED, "2.0.0"),
            ("    required: [job_id]\n    optional: [mode]\n", "    required: [job_id]\n"),
        ],
    )
    code, out = run_diff(base, new, "json")
    doc = json.loads(out)
    assert code == 1  # the plan's own version did not move
    assert doc["events"] == {"processing_completed": "major", "purchase_completed": "minor"}
    assert doc["event_versions"] == {
        "processing_completed": {
            "bump": "major",
            "base": "1.4.0",
            "new": "2.0.0",
            "suggested": "2.0.0",
        },
        "purchase_completed": {
            "bump": "minor",
            "base": "2.3.1",
            "new": "2.3.2",
            "suggested": "2.4.0",
        },
    }
    _, text = run_diff(base, new, "text")
    assert "  processing_completed major: 1.4.0 -> 2.0.0 (declared 2.0.0)\n" in text
    assert (
        "  purchase_completed minor: 2.3.1 -> 2.4.0 (declared 2.3.2, below the suggestion)\n"
        in text
    )
    _, markdown = run_diff(base, new, "markdown")
    assert "| Event | Bump | Version |" in markdown
    assert "| `processing_completed` | major | 1.4.0 -> 2.0.0 (declared 2.0.0) |" in markdown
    assert "| `purchase_completed` | minor | 2.3.1 -> 2.4.0 (declared 2.3.2, below" in markdown


def test_new_and_removed_events_versions(tmp_path: Path) -> None:
    thing = "events:\n  thing_viewed:\n    category: product\n    description: Seen.\n"
    thing += "    layers: [web]\n    version: 4.0.2\n"
    base = write(tmp_path, "base", [])
    new = write(tmp_path, "new", [("events:\n", thing)])
    _, out = run_diff(base, new, "json")
    added = json.loads(out)["event_versions"]["thing_viewed"]
    assert added == {"bump": "minor", "base": None, "new": "4.0.2", "suggested": "4.0.2"}
    _, text = run_diff(base, new, "text")
    assert "  thing_viewed minor: new at 4.0.2\n" in text
    _, back = run_diff(new, base, "json")
    removed = json.loads(back)["event_versions"]["thing_viewed"]
    assert removed == {"bump": "major", "base": "4.0.2", "new": None, "suggested": "5.0.0"}
    assert "  thing_viewed major: removed at 4.0.2\n" in run_diff(new, base, "text")[1]

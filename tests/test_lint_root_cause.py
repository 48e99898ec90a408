"""Lint finds the root cause: a file that cannot be parsed comes first, and the problems that only
follow from its missing definitions are held back behind one note instead of burying it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from compiler.cli.main import cli
from compiler.diagnostics import Diagnostic, Location, error
from compiler.plan import load_plan
from compiler.plan.pipeline import may_follow
from tests.conftest import FIXTURES

MINIMAL = FIXTURES / "plans" / "minimal" / "plan.yaml"

# Where each section of the one-file minimal plan goes; any other section stays in plan.yaml.
LAYOUT = {
    "properties": "properties/job.yaml",
    "envelope": "envelope.yaml",
    "events": "events/product.yaml",
    "states": "funnel.yaml",
    "transitions": "funnel.yaml",
    "destinations": "destinations/meta.yaml",
}
JOB = "plan/properties/job.yaml"  # sorts after every other file: first only when moved first


def split_plan(root: Path) -> Path:
    """The minimal plan as several files under `root/plan`, as a real plan is laid out."""
    text = MINIMAL.read_text(encoding="utf-8")
    sections = re.findall(r"(?ms)^([A-Za-z_]\w*):.*?(?=^[A-Za-z_]|\Z)", text)
    bodies = re.findall(r"(?ms)^[A-Za-z_]\w*:.*?(?=^[A-Za-z_]|\Z)", text)
    assert set(LAYOUT) <= set(sections), sections
    files: dict[str, str] = {}
    for name, body in zip(sections, bodies, strict=True):
        target = LAYOUT.get(name, "plan.yaml")
        files[target] = files.get(target, "") + body
    plan = root / "plan"
    for name, content in files.items():
        (plan / name).parent.mkdir(parents=True, exist_ok=True)
        (plan / name).write_text(content, encoding="utf-8")
    return plan


def position(path: Path, needle: str) -> tuple[int, int]:
    """1-based line and column of the first `needle` in a file's text."""
    text = path.read_text(encoding="utf-8")
    at = text.index(needle)
    return text.count("\n", 0, at) + 1, at - text.rfind("\n", 0, at)


def replace(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, (path, old)
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def lint(*args: str) -> Result:
    result = CliRunner().invoke(cli, ["lint", "--plan", "plan", *args])
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def lint_json() -> dict:  # type: ignore[type-arg]
    result = lint("--format", "json")
    assert result.exit_code == 1
    document: dict = json.loads(result.output)  # type: ignore[type-arg]
    return document


def shown_codes(output: str) -> list[str]:
    """The codes of the errors and warnings printed (not of the notes)."""
    return re.findall(r"(?m)^\S+:\d+:\d+: (TP\d+) (?:error|warning): ", output)


def held_back_count(output: str, file: str) -> int:
    match = re.search(
        rf"(\d+) more problems? \([^)]*\) may follow from the error in {file}", output
    )
    assert match, output
    return int(match.group(1))


@pytest.fixture
def plan(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)  # diagnostics print paths relative to here: plan/...
    return split_plan(tmp_path)


def test_the_split_plan_is_clean(plan: Path) -> None:
    result = lint()
    assert result.exit_code == 0, result.output
    assert shown_codes(result.output) == [], result.output


def break_properties(plan: Path) -> tuple[int, int]:
    """A YAML syntax error in the property dictionary; where YAML reports it."""
    line, col = position(plan / "properties/job.yaml", "    type: string\n")
    replace(plan / "properties/job.yaml", "    type: string\n", "    type: string: x\n")
    return line, col + len("    type: string")


def test_syntax_error_comes_first_and_its_consequences_are_held_back(plan: Path) -> None:
    line, col = break_properties(plan)
    # Two problems that do not follow from the broken file: both must still be reported.
    replace(plan / "events/product.yaml", "  processing_completed:", "  ProcessingCompleted:")
    result = lint()
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0].startswith(f"{JOB}:{line}:{col}: TP001 error: YAML syntax error"), lines[0]
    assert lines[1].strip() == "type: string: x" and lines[2].index("^") == col - 1 + 4
    assert lines[3].startswith(f"{JOB}:{line}:{col}: TP001 note: ")
    held = held_back_count(lines[3], JOB)
    # job_id, mode, job_id, mode, price, currency in the events; five envelope fields
    assert held >= 11
    assert "undefined property" not in result.output
    assert "not in the property dictionary" not in result.output
    assert "TP005 error: event name 'ProcessingCompleted'" in result.output
    assert "TP008 error: undefined event 'processing_completed'" in result.output
    assert lines[-1].endswith(f"; {held} more held back until the file(s) above parse")


def test_held_back_are_exactly_what_the_missing_file_causes(plan: Path) -> None:
    """The same plan with the file deleted shows every consequence: that is what is held back."""
    break_properties(plan)
    replace(plan / "events/product.yaml", "  processing_completed:", "  ProcessingCompleted:")
    broken = load_plan(Path("plan"))
    (plan / "properties/job.yaml").unlink()
    missing = load_plan(Path("plan"))

    def key(d: Diagnostic) -> tuple[str, str, Location | None]:
        return (d.code, d.message, d.location)

    # every command that prints the plan's errors shows the root cause first
    first = broken.errors[0]
    assert first.code == "TP001" and first.location and first.location.file.endswith("job.yaml")
    held = {key(d) for h in broken.held_back for d in h.diagnostics}
    shown = {key(d) for d in broken.diagnostics if d.code != "TP001"}
    assert held and held <= {key(d) for d in missing.diagnostics}
    assert shown | held == {key(d) for d in missing.diagnostics}
    assert all(code in {"TP008", "TP018", "TP019"} for code, _, _ in held)


def test_json_reports_the_same(plan: Path) -> None:
    line, col = break_properties(plan)
    replace(plan / "events/product.yaml", "  processing_completed:", "  ProcessingCompleted:")
    text = lint().output
    document = lint_json()
    first, summary = document["diagnostics"][:2]
    assert (first["code"], first["level"], first["file"], first["line"], first["col"]) == (
        "TP001",
        "error",
        JOB,
        line,
        col,
    )
    assert summary["level"] == "note" and summary["file"] == JOB
    assert document["held_back"] == held_back_count(text, JOB)
    assert document["held_back"] == len(document["held_back_diagnostics"])
    assert all(d["consequence"] and d["cause"] == JOB for d in document["held_back_diagnostics"])
    assert {d["code"] for d in document["held_back_diagnostics"]} >= {"TP008"}
    codes = [d["code"] for d in document["diagnostics"]]
    assert "TP005" in codes and codes.count("TP008") == 1  # the one the broken file cannot cause
    assert document["errors"] == sum(d["level"] == "error" for d in document["diagnostics"])
    assert document["ok"] is False


def test_non_utf8_byte_names_its_line_and_column(plan: Path) -> None:
    events = plan / "events/product.yaml"
    line, col = position(events, "finished.")
    data = events.read_bytes().replace(b"finished.", b"fini\xe9shed.", 1)
    events.write_bytes(data)
    result = lint()
    assert result.exit_code == 1
    first = result.output.splitlines()[0]
    col += len("fini")
    assert first == (
        f"plan/events/product.yaml:{line}:{col}: TP001 error: not UTF-8: byte 0xe9 at line "
        f"{line}, column {col} ('é' in Latin-1/Windows-1252); save the file as UTF-8"
    )
    # The funnel and the Meta mapping name events the file defined; the properties are used there.
    note = held_back_count(result.output, "plan/events/product.yaml")
    assert note >= 3
    assert "undefined event" not in result.output
    assert shown_codes(result.output) == ["TP001"]


def test_latin1_file_names_the_first_bad_byte(plan: Path) -> None:
    header = plan / "plan.yaml"
    text = header.read_text(encoding="utf-8")
    text = text.replace("Browser.", "Navigateur élégant.", 1).replace("Backend.", "Café.", 1)
    header.write_bytes(text.encode("latin-1"))
    line = text.count("\n", 0, text.index("élégant")) + 1
    col = text.index("élégant") - text.rfind("\n", 0, text.index("élégant"))
    result = lint()
    assert result.exit_code == 1
    assert result.output.startswith(
        f"plan/plan.yaml:{line}:{col}: TP001 error: not UTF-8: byte 0xe9 at line {line}, "
    )
    # Layers, categories and stages were in that file: the references to them are held back.
    assert held_back_count(result.output, "plan/plan.yaml") >= 3
    assert "undefined category" not in result.output
    assert "undefined layer" not in result.output


def test_nul_byte_names_its_line_and_column(plan: Path) -> None:
    funnel = plan / "funnel.yaml"
    line, col = position(funnel, "Completed")
    funnel.write_bytes(funnel.read_bytes().replace(b"Completed", b"Comp\x00leted", 1))
    result = lint()
    assert result.exit_code == 1
    assert result.output.startswith(
        f"plan/funnel.yaml:{line}:{col + 4}: TP001 error: YAML syntax error: a NUL byte (0x00) "
        f"at line {line}, column {col + 4}"
    )


def test_utf16_file_is_named_by_its_byte_order_mark(plan: Path) -> None:
    funnel = plan / "funnel.yaml"
    funnel.write_bytes(funnel.read_text(encoding="utf-8").encode("utf-16"))
    result = lint()
    assert result.exit_code == 1
    assert result.output.startswith("plan/funnel.yaml:1:1: TP001 error: not UTF-8: ")
    assert "byte-order mark" in result.output.splitlines()[0]


def test_utf8_byte_order_mark_is_allowed(plan: Path) -> None:
    header = plan / "plan.yaml"
    header.write_bytes(b"\xef\xbb\xbf" + header.read_bytes())
    result = lint()
    assert result.exit_code == 0, result.output


def test_unreadable_file_is_a_tp001_on_line_1(plan: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = Path.read_bytes

    def read_bytes(self: Path) -> bytes:
        if self.name == "job.yaml":
            raise PermissionError(13, "Permission denied", str(self))
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    result = lint()
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0] == f"{JOB}:1:1: TP001 error: cannot read the file: Permission denied"
    assert held_back_count(result.output, JOB) >= 11  # its text is unknown: every reference
    assert "undefined property" not in result.output


def test_a_value_yaml_cannot_build_is_a_tp001_not_a_traceback(plan: Path) -> None:
    events = plan / "events/product.yaml"
    line, col = position(events, "A job was created.")
    replace(events, "A job was created.", "2001-02-30")
    result = lint()
    assert result.exit_code == 1
    assert result.output.startswith(
        f"plan/events/product.yaml:{line}:{col}: TP001 error: YAML value error: "
        "cannot read '2001-02-30' as timestamp"
    )


def test_each_broken_file_gets_its_own_note(plan: Path) -> None:
    break_properties(plan)
    (plan / "funnel.yaml").write_text("states:\n  S0: [oops\n", encoding="utf-8")
    result = lint()
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if not line.startswith("    ")]
    assert lines[0].startswith("plan/funnel.yaml:") and " TP001 error: " in lines[0]
    # the funnel file refers to events but defines nothing the rest refers to: no note
    assert lines[1].startswith(f"{JOB}:") and " TP001 error: " in lines[1]
    assert lines[2].startswith(f"{JOB}:") and " TP001 note: " in lines[2]
    assert "undefined property" not in result.output


def test_a_convention_set_in_the_broken_file_holds_back_naming_errors(plan: Path) -> None:
    replace(plan / "events/product.yaml", "  processing_completed:", "  ProcessingCompleted:")
    replace(plan / "funnel.yaml", "event: processing_completed", "event: ProcessingCompleted")
    before = lint()
    assert "TP005 error: event name 'ProcessingCompleted'" in before.output
    header = plan / "plan.yaml"
    header.write_text(
        header.read_text(encoding="utf-8") + "conventions:\n  event_name: '[A-Za-z]+\n",
        encoding="utf-8",
    )
    after = lint()
    assert after.exit_code == 1
    assert after.output.startswith("plan/plan.yaml:")
    assert "TP005" not in shown_codes(after.output)
    assert "(1 TP005, " in after.output  # counted in the note


def test_which_diagnostics_may_follow() -> None:
    text = "properties:\n  job_id:\n    type: string\n"
    assert may_follow(error("TP008", "undefined property 'job_id'"), text)
    assert may_follow(error("TP008", "undefined property 'job_id'"), None)  # unknown content
    assert not may_follow(
        error("TP008", "undefined property 'jobid' (did you mean 'job_id'?)"), text
    )
    assert not may_follow(error("TP008", "undefined property 'job'"), text)  # whole names only
    assert not may_follow(error("TP005", "event name 'JobCreated' does not follow"), text)
    assert may_follow(error("TP005", "event name 'X'"), "conventions:\n  event_name: x\n")
    assert not may_follow(error("TP003", "unknown key 'job_id'"), text)
    assert not may_follow(error("TP016", "event 'x' is missing required key 'category'"), text)
    assert may_follow(error("TP016", "the plan defines no events"), text)


def test_a_file_that_is_not_a_mapping_is_a_root_cause_too(plan: Path) -> None:
    (plan / "properties/job.yaml").write_text("- event\n- job_id\n", encoding="utf-8")
    result = lint()
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0] == f"{JOB}:1:1: TP015 error: a plan file must be a mapping of sections"
    assert lines[3].startswith(f"{JOB}:1:1: TP015 note: ")
    # held back: what the file mentions; shown: references to names it does not mention
    assert "undefined property 'job_id'" not in result.output
    assert "envelope field 'event' is not in the property dictionary" not in result.output
    assert "undefined property 'mode'" in result.output

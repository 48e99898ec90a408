"""One small broken plan per lint rule: each must report the right code, file and line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from compiler.cli.main import cli
from compiler.plan import load_plan

BROKEN = Path(__file__).parent / "fixtures" / "plans" / "broken"

# fixture directory, expected code, file, line, level, words the message must contain
CASES = [
    ("tp001_yaml_syntax", "TP001", "plan.yaml", 72, "error", "started at line 71"),
    ("tp002_duplicate_key", "TP002", "plan.yaml", 51, "error", "duplicate key 'mode'"),
    ("tp003_unknown_key", "TP003", "plan.yaml", 76, "error", "unknown key 'descripton'"),
    (
        "tp004_missing_description",
        "TP004",
        "plan.yaml",
        37,
        "warning",
        "'job_id' has no description",
    ),
    ("tp005_event_naming", "TP005", "plan.yaml", 80, "error", "'PurchaseCompleted'"),
    ("tp006_property_naming", "TP006", "props.yaml", 2, "error", "'orderId'"),
    ("tp007_case_collision", "TP007", "props.yaml", 2, "error", "only in case"),
    ("tp007_event_twice", "TP007", "plan.yaml", 68, "error", "'job_created' is defined twice"),
    ("tp007_generated_name", "TP007", "plan.yaml", 78, "error", "same class name 'JobCreated2'"),
    ("tp008_undefined_property", "TP008", "plan.yaml", 78, "error", "did you mean 'job_id'"),
    ("tp008_undefined_category", "TP008", "plan.yaml", 81, "error", "undefined category 'revenue'"),
    ("tp008_undefined_layer", "TP008", "plan.yaml", 83, "error", "undefined layer 'mobile'"),
    ("tp008_undefined_state", "TP008", "plan.yaml", 100, "error", "undefined state 'S2'"),
    ("tp009_unknown_type", "TP009", "plan.yaml", 52, "error", "unknown type 'float'"),
    ("tp009_range", "TP009", "plan.yaml", 53, "error", "minimum 10 is greater than maximum 1"),
    ("tp009_enum_type", "TP009", "plan.yaml", 28, "error", "enum value 2 is not of type string"),
    ("tp009_rate", "TP009", "plan.yaml", 101, "error", "between 0 and 1"),
    ("tp010_meta_unknown_event", "TP010", "plan.yaml", 107, "error", "'purchase_complete'"),
    ("tp011_meta_not_standard", "TP011", "plan.yaml", 108, "error", "'Buy' is not a Meta standard"),
    ("tp012_state_without_event", "TP012", "plan.yaml", 95, "error", "state S1"),
    ("tp013_required_deprecated", "TP013", "plan.yaml", 73, "error", "use 'mode'"),
    ("tp014_type_conflict", "TP014", "plan.yaml", 51, "error", "as number and as string"),
    ("tp015_wrong_value_type", "TP015", "plan.yaml", 77, "error", "must be a list"),
    ("tp016_missing_key", "TP016", "plan.yaml", 80, "error", "missing required key 'category'"),
    ("tp017_listed_twice", "TP017", "plan.yaml", 73, "error", "'job_id' is listed twice"),
    ("tp018_unused_property", "TP018", "plan.yaml", 55, "warning", "'coupon'"),
]


@pytest.mark.parametrize(("fixture", "code", "file", "line", "level", "words"), CASES)
def test_rule_reports_code_file_and_line(fixture, code, file, line, level, words):
    result = load_plan(BROKEN / fixture)
    found = [d for d in result.diagnostics if d.code == code]
    assert found, [d.format() for d in result.diagnostics]
    diag = found[0]
    assert diag.location is not None
    assert Path(diag.location.file).name == file
    assert diag.location.line == line
    assert diag.level.value == level
    assert words in diag.message


@pytest.mark.parametrize(("fixture", "code", "file", "line", "level", "words"), CASES)
def test_cli_exit_code_and_text(fixture, code, file, line, level, words, monkeypatch):
    monkeypatch.chdir(BROKEN.parent.parent.parent.parent)  # repo root: paths print relative
    runner = CliRunner()
    normal = runner.invoke(cli, ["lint", "--plan", str(BROKEN / fixture)])
    strict = runner.invoke(cli, ["lint", "--strict", "--plan", str(BROKEN / fixture)])
    assert f"{fixture}/{file}:{line}:" in normal.output
    assert f": {code} {level}: " in normal.output
    assert normal.exit_code == (1 if level == "error" else 0)
    assert strict.exit_code == 1
    assert "Traceback" not in normal.output


def test_every_rule_code_has_a_fixture():
    documented = {f"TP{n:03d}" for n in range(1, 19)}
    assert documented == {case[1] for case in CASES}


def test_json_format_lists_every_diagnostic():
    runner = CliRunner()
    out = runner.invoke(
        cli, ["lint", "--format", "json", "--plan", str(BROKEN / "tp005_event_naming")]
    )
    document = json.loads(out.output)
    assert out.exit_code == 1
    assert document["errors"] == len([d for d in document["diagnostics"] if d["level"] == "error"])
    codes = {d["code"] for d in document["diagnostics"]}
    assert {"TP005", "TP010"} <= codes  # every problem in one run, not just the first
    assert all(d["file"].endswith("plan.yaml") and d["line"] > 0 for d in document["diagnostics"])


def test_caret_points_at_the_column():
    out = CliRunner().invoke(cli, ["lint", "--plan", str(BROKEN / "tp008_undefined_layer")])
    lines = out.output.splitlines()
    at = next(i for i, text in enumerate(lines) if "TP008" in text)
    source, caret = lines[at + 1], lines[at + 2]
    assert source.strip() == "layers: [server, mobile]"
    assert source[caret.index("^") :].startswith("mobile")

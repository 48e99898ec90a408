"""`trackplan build` and `--check` through click, plus the real console script end to end."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from compiler.build import plan_source
from compiler.cli.main import cli
from compiler.templating import generated_note
from tests.codegen_plans import ORBIT, write_plan
from tests.conftest import FIXTURES, PLAN_DIR, ROOT

MINIMAL = FIXTURES / "plans" / "minimal"


def _build(*args: str):
    return CliRunner().invoke(cli, ["build", *args])


def test_build_then_check_is_clean_and_idempotent(tmp_path):
    out = tmp_path / "gen"
    first = _build("--plan", str(MINIMAL), "--out", str(out))
    assert first.exit_code == 0, first.output
    snapshot = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert _build("--plan", str(MINIMAL), "--out", str(out), "--check").exit_code == 0
    again = _build("--plan", str(MINIMAL), "--out", str(out))
    assert "0 new, 0 changed, 0 removed" in again.output
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == snapshot


def test_check_reports_every_kind_of_drift_and_writes_nothing(tmp_path):
    out = tmp_path / "gen"
    _build("--plan", str(MINIMAL), "--out", str(out))
    changed = out / "jsonschema" / "index.json"
    changed.write_text("{}\n")
    (out / "jsonschema" / "events" / "job_created.schema.json").unlink()
    (out / "jsonschema" / "events" / "old_event.schema.json").write_text("{}\n")
    result = _build("--plan", str(MINIMAL), "--out", str(out), "--check")
    assert result.exit_code == 1
    assert "changed" in result.output and "index.json" in result.output
    assert "missing" in result.output and "job_created.schema.json" in result.output
    assert "extra" in result.output and "old_event.schema.json" in result.output
    assert changed.read_text() == "{}\n"  # --check wrote nothing
    rebuilt = _build("--plan", str(MINIMAL), "--out", str(out))
    assert "1 new, 1 changed, 1 removed" in rebuilt.output
    assert not (out / "jsonschema" / "events" / "old_event.schema.json").exists()


def test_build_ignores_installed_artifacts_in_target_dirs(tmp_path):
    out = tmp_path / "gen"
    _build("--plan", str(MINIMAL), "--out", str(out))
    (out / "jsonschema" / "node_modules").mkdir()
    (out / "jsonschema" / "node_modules" / "x.js").write_text("")
    assert _build("--plan", str(MINIMAL), "--out", str(out), "--check").exit_code == 0


def test_build_refuses_a_broken_plan_with_exit_2(tmp_path):
    result = _build(
        "--plan",
        str(FIXTURES / "plans" / "broken" / "tp008_undefined_layer"),
        "--out",
        str(tmp_path),
    )
    assert result.exit_code == 2
    assert "TP008" in result.output and "Traceback" not in result.output
    assert not any(tmp_path.iterdir())


def test_usage_errors_exit_2_with_one_line(tmp_path):
    missing = _build("--plan", str(tmp_path / "nope"))
    assert missing.exit_code == 2 and "plan directory not found" in missing.output
    empty = _build("--plan", str(tmp_path))
    assert empty.exit_code == 2 and "no .yaml files" in empty.output
    unknown = _build("--plan", str(MINIMAL), "--target", "jsonschem", "--out", str(tmp_path))
    assert unknown.exit_code == 2 and "Did you mean 'jsonschema'?" in unknown.output
    lint_missing = CliRunner().invoke(cli, ["lint", "--plan", str(tmp_path / "nope")])
    assert lint_missing.exit_code == 2


def test_committed_generated_dir_is_fresh():
    result = _build("--plan", str(PLAN_DIR), "--out", str(ROOT / "generated"), "--check")
    assert result.exit_code == 0, result.output


def test_console_script_end_to_end(tmp_path):
    plan = tmp_path / "plan"
    shutil.copytree(MINIMAL, plan)
    exe = Path(sys.executable).parent / "trackplan"

    def run(*a):
        return subprocess.run(
            [str(exe), *a], capture_output=True, text=True, cwd=tmp_path
        )  # noqa: E731

    assert run("lint", "--plan", "plan").returncode == 0
    assert run("build", "--plan", "plan", "--out", "gen").returncode == 0
    assert (tmp_path / "gen" / "jsonschema" / "index.json").is_file()
    (plan / "plan.yaml").write_text(
        (plan / "plan.yaml").read_text().replace("layers: [server]", "layers: [serverr]", 1)
    )
    broken = run("lint", "--plan", "plan")
    assert broken.returncode == 1
    assert "plan/plan.yaml:" in broken.stdout and "did you mean 'server'" in broken.stdout
    module = subprocess.run(
        [sys.executable, "-m", "compiler", "--version"], capture_output=True, text=True
    )
    assert module.returncode == 0 and "trackplan" in module.stdout


def test_every_registered_command_loads_and_typos_get_a_suggestion():
    from compiler.cli.main import COMMANDS

    runner = CliRunner()
    for name in COMMANDS:
        result = runner.invoke(cli, [name, "--help"])
        assert result.exit_code == 0, (name, result.output)
    typo = runner.invoke(cli, ["lnt"])
    assert typo.exit_code == 2 and "Did you mean 'lint'?" in typo.output


def test_lint_does_not_import_the_heavy_commands():
    script = (
        "import sys\n"
        "from compiler.cli.main import cli\n"
        "try:\n"
        f"    cli(['lint', '--plan', {str(PLAN_DIR)!r}])\n"
        "finally:\n"
        "    heavy = ('duckdb', 'numpy', 'datamodel_code_generator', 'matplotlib')\n"
        "    print('HEAVY', sorted(m for m in heavy if m in sys.modules))\n"
    )
    probe = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert "HEAVY []" in probe.stdout, probe.stdout + probe.stderr


HEADER_FILES = (
    "python/mini_analytics/_runtime.py",
    "python/README.md",
    "typescript/src/trackers.ts",
    "typescript/package.json",
    "jsonschema/index.json",
)


def test_headers_name_the_plan_directory_as_given(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    out = tmp_path / "gen"
    targets = ["--target", "python", "--target", "typescript", "--target", "jsonschema"]
    result = _build("--plan", "tests/fixtures/plans/minimal/", "--out", str(out), *targets)
    assert result.exit_code == 0, result.output
    note = "Generated by trackplan from tests/fixtures/plans/minimal/. Do not edit; run "
    note += "`trackplan build --plan tests/fixtures/plans/minimal`."
    for rel in HEADER_FILES:
        text = (out / rel).read_text()
        assert note in text, rel
        assert "tracking_plan" not in text and str(ROOT) not in text, rel
    # Given as an absolute path inside the working directory: the same, relative, header.
    again = _build("--plan", str(MINIMAL), "--out", str(out), "--check", *targets)
    assert again.exit_code == 0, again.output


def test_headers_never_hold_an_absolute_path(tmp_path, monkeypatch):
    write_plan(tmp_path / "plans" / "orbit", ORBIT)
    monkeypatch.chdir(tmp_path / "plans")
    assert (
        _build("--plan", "orbit", "--out", str(tmp_path / "a"), "--target", "python").exit_code == 0
    )
    monkeypatch.chdir(ROOT)  # now the plan is outside the working directory
    absolute = str(tmp_path / "plans" / "orbit")
    assert (
        _build("--plan", absolute, "--out", str(tmp_path / "b"), "--target", "python").exit_code
        == 0
    )
    first = (tmp_path / "a" / "python" / "orbit_analytics" / "trackers.py").read_text()
    second = (tmp_path / "b" / "python" / "orbit_analytics" / "trackers.py").read_text()
    assert first == second and "Generated by trackplan from orbit/." in first
    assert str(tmp_path) not in first


@pytest.mark.parametrize(
    "given, cwd, shown",
    [
        ("tracking_plan", "/repo", "tracking_plan"),
        ("./tracking_plan/", "/repo", "tracking_plan"),
        ("plans/../shop", "/repo", "shop"),
        ("../other/plan", "/repo", "../other/plan"),
        ("/repo/tests/plans/shop", "/repo", "tests/plans/shop"),
        ("/elsewhere/shop", "/repo", "shop"),
    ],
)
def test_plan_source(given, cwd, shown):
    assert plan_source(Path(given), Path(cwd)) == shown


def test_generated_note_is_safe_in_every_target():
    assert generated_note() == (
        "Generated by trackplan from tracking_plan/. Do not edit; run `trackplan build`."
    )
    # Quotes, backslashes and comment ends could break a docstring, JSON or an HTML comment.
    note = generated_note('we"ird\\plan-->*/')
    assert '"' not in note and "\\" not in note and "-->" not in note and "*/" not in note


def test_build_says_why_a_target_wrote_nothing_or_left_a_part_out(tmp_path):
    plan_dir = tmp_path / "plan"
    shutil.copytree(FIXTURES / "plans" / "minimal", plan_dir)
    text = (plan_dir / "plan.yaml").read_text()
    funnel = text.index("states:")
    (plan_dir / "plan.yaml").write_text(text[:funnel] + text[text.index("destinations:") :])
    result = _build("--plan", str(plan_dir), "--out", str(tmp_path / "gen"))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert (
        "target simulation wrote nothing: the plan's funnel has no state marked by an event"
        in lines
    )
    assert "target sql wrote nothing" in result.output
    assert "the plan declares no revenue section" in result.output
    assert not (tmp_path / "gen" / "simulation").exists()

    full = _build("--plan", str(FIXTURES / "plans" / "minimal"), "--out", str(tmp_path / "g2"))
    assert "target sql left out revenue.sql: the plan declares no revenue section" in full.output
    assert "target simulation" not in full.output
    assert (tmp_path / "g2" / "sql" / "duckdb" / "transition_rates.sql").exists()

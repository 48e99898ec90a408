"""`trackplan build` and `--check` through click, plus the real console script end to end."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from compiler.cli.main import cli
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

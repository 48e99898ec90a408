"""`trackplan init`: the starter plan lints clean (also with its optional sections switched on)
and builds; a user's mistakes (existing files, a file in the way, an unusable name) exit 2 with
one clear line and leave what was there alone."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from compiler.cli.init import FILES, starter_files
from compiler.cli.main import cli
from compiler.plan import load_plan

MARKER = "# ---- optional sections"


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test runs in its own empty working directory, as a user would in a new repo."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TRACKPLAN_PLAN", raising=False)


def _invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=True)


def _init(tmp_path: Path, *args: str) -> tuple[Result, Path]:
    """`trackplan init ARGS` in the test's working directory, `tmp_path`."""
    return _invoke("init", *args), tmp_path


def _no_traceback(result: Result) -> None:
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert "Traceback" not in result.output


def _clean(plan_dir: Path):  # type: ignore[no-untyped-def]
    result = load_plan(plan_dir)
    assert not result.diagnostics, [d.format() for d in result.diagnostics]
    return result.plan


def test_default_directory_lints_clean(tmp_path: Path) -> None:
    result, cwd = _init(tmp_path)
    _no_traceback(result)
    assert result.exit_code == 0, result.output
    plan_dir = cwd / "tracking_plan"
    assert sorted(p.name for p in plan_dir.iterdir()) == sorted(FILES)
    plan = _clean(plan_dir)
    assert plan.name == "MyApp"
    assert plan.codegen.python_package == "myapp_analytics"
    assert plan.codegen.npm_package == "@myapp/analytics"
    assert plan.codegen.default_environment == "production"
    # the funnel, the forecast and the identity rule a new user builds on
    assert [s.id for s in plan.chain] == ["visit", "signup", "purchase"]
    assert plan.forecast is not None and plan.forecast.entry is not None
    assert [o.name for o in plan.forecast.outcomes] == [
        "visitors",
        "signups",
        "customers",
        "retained_30d",
    ]
    assert plan.identity is not None and plan.revenue is not None
    assert list(plan.sequence_rules) == ["refund_needs_purchase"]
    assert plan.churn is None and plan.hazard is None  # commented out until wanted
    assert plan.browser_layers() == ("web",)
    # what it prints: every file, and the next commands without --plan (the default directory)
    for name in FILES:
        assert f"tracking_plan/{name}" in result.output
    assert "trackplan lint --strict\n" in result.output


def test_every_file_is_commented(tmp_path: Path) -> None:
    """A starter is read by someone new: every file opens with a comment saying what it holds."""
    for name, text in starter_files("MyApp").items():
        assert text.startswith("# "), name
        comments = sum(1 for line in text.splitlines() if line.lstrip().startswith("#"))
        assert comments >= 4, name


def test_name_sets_plan_and_package_names(tmp_path: Path) -> None:
    result, cwd = _init(tmp_path, "plans/acme", "--name", "Acme Corp.")
    assert result.exit_code == 0, result.output
    plan_dir = cwd / "plans" / "acme"
    plan = _clean(plan_dir)
    assert plan.name == "Acme Corp."
    assert plan.codegen.python_package == "acme_corp_analytics"
    assert plan.codegen.python_distribution == "acme-corp-analytics"
    assert plan.codegen.npm_package == "@acme-corp/analytics"
    assert plan.schema_base_uri == "https://schemas.example.com/acme-corp/"
    assert "trackplan lint --strict --plan plans/acme" in result.output


@pytest.mark.parametrize("name", ['Café "Olé": #1 \\ shop', "42 Labs", "Ünïcode ✓"])
def test_awkward_names_stay_valid_yaml(tmp_path: Path, name: str) -> None:
    result, cwd = _init(tmp_path, "p", "--name", name)
    assert result.exit_code == 0, result.output
    plan = _clean(cwd / "p")
    assert plan.name == name.strip()
    assert re.fullmatch(r"[a-z_][a-z0-9_]*", plan.codegen.python_package)


def _uncomment(text: str) -> str:
    """Switch on the commented optional blocks: below the marker, `# x` becomes `x`."""
    out, active = [], False
    for line in text.splitlines():
        if line.startswith(MARKER):
            active = True
            continue
        if active and (line == "#" or line.startswith("# ")):
            line = line[2:]
        out.append(line)
    return "\n".join(out) + "\n"


def test_optional_sections_lint_clean_when_uncommented(tmp_path: Path) -> None:
    """The commented examples are real: switched on, the plan still lints clean with them."""
    files = starter_files("MyApp")
    assert sum(MARKER in text for text in files.values()) == 2
    for name, text in files.items():
        (tmp_path / name).write_text(_uncomment(text), encoding="utf-8")
    plan = _clean(tmp_path)
    assert plan.churn is not None and plan.churn.windows == (30, 60)
    assert plan.hazard is not None and plan.hazard.state == "churned"
    assert list(plan.hazard.covariates) == ["starter_tier"]
    assert list(plan.sequence_rules) == ["refund_needs_purchase"]
    # the commented codegen block shows exactly the names the plan derives without it
    default = _clean_codegen("MyApp", tmp_path / "default")
    assert plan.codegen == default


def _clean_codegen(name: str, root: Path):  # type: ignore[no-untyped-def]
    root.mkdir()
    for file, text in starter_files(name).items():
        (root / file).write_text(text, encoding="utf-8")
    return _clean(root).codegen


def test_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    assert _invoke("init").exit_code == 0
    edited = Path("tracking_plan/events.yaml")
    edited.write_text("# my own events\n", encoding="utf-8")
    again = _invoke("init")
    _no_traceback(again)
    assert again.exit_code == 2
    assert "tracking_plan/plan.yaml" in again.output and "--force" in again.output
    assert again.output.count("\n") == 1, again.output  # one line
    assert edited.read_text(encoding="utf-8") == "# my own events\n"  # untouched
    forced = _invoke("init", "--force")
    assert forced.exit_code == 0, forced.output
    assert edited.read_text(encoding="utf-8") == starter_files("MyApp")["events.yaml"]


def test_refuses_a_directory_holding_another_plan(tmp_path: Path) -> None:
    """Every YAML file under the directory joins the plan, so a starter must not mix with them."""
    Path(".github/workflows").mkdir(parents=True)
    Path(".github/workflows/ci.yml").write_text("on: push\n", encoding="utf-8")
    Path("README.md").write_text("# repo\n", encoding="utf-8")
    result = _invoke("init", ".")
    _no_traceback(result)
    assert result.exit_code == 2
    assert "ci.yml" in result.output and "new or empty directory" in result.output
    assert not Path("plan.yaml").exists()


def test_other_files_do_not_block(tmp_path: Path) -> None:
    Path("tp").mkdir()
    Path("tp/NOTES.md").write_text("notes\n", encoding="utf-8")
    result = _invoke("init", "tp")
    assert result.exit_code == 0, result.output
    assert Path("tp/NOTES.md").read_text(encoding="utf-8") == "notes\n"


def test_directory_is_a_file(tmp_path: Path) -> None:
    Path("plan").write_text("not a directory\n", encoding="utf-8")
    result = _invoke("init", "plan")
    _no_traceback(result)
    assert result.exit_code == 2
    assert "plan exists and is not a directory" in result.output
    assert Path("plan").read_text(encoding="utf-8") == "not a directory\n"


def test_directory_cannot_be_created(tmp_path: Path) -> None:
    """A directory under a file cannot be made (the tests run as root, so chmod proves nothing)."""
    Path("blocker").write_text("x\n", encoding="utf-8")
    result = _invoke("init", "blocker/plan")
    _no_traceback(result)
    assert result.exit_code == 2
    assert "cannot create blocker/plan" in result.output


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "must not be empty"),
        ("   ", "must not be empty"),
        ("Two\nLines", "one line"),
        ("Tab\there", "one line"),
        ("!!!", "at least one letter or digit"),
        ("x" * 81, "under 80"),
    ],
)
def test_unusable_names(tmp_path: Path, name: str, message: str) -> None:
    result, cwd = _init(tmp_path, "p", "--name", name)
    _no_traceback(result)
    assert result.exit_code == 2
    assert message in result.output
    assert not (cwd / "p").exists()


def test_listed_in_help() -> None:
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0 and "init" in result.output
    result = CliRunner().invoke(cli, ["init", "--help"])
    assert result.exit_code == 0 and "--force" in result.output and "--name" in result.output


@pytest.mark.slow
def test_starter_builds_and_is_fresh(tmp_path: Path) -> None:
    """Through the installed console script, as a user runs it: init, build, build --check."""
    trackplan = [sys.executable, "-m", "compiler"]

    def run(*args: str) -> str:
        done = subprocess.run(
            [*trackplan, *args], cwd=tmp_path, capture_output=True, text=True, timeout=600
        )
        assert done.returncode == 0, f"trackplan {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
        return done.stdout

    run("init", "--name", "Starter Co")
    run("lint", "--strict")
    run("build", "--out", "gen")
    assert (tmp_path / "gen/python/starter_co_analytics/__init__.py").is_file()
    assert (
        '"name": "@starter-co/analytics"' in (tmp_path / "gen/typescript/package.json").read_text()
    )
    assert "is up to date" in run("build", "--out", "gen", "--check")
    for path in (tmp_path / "gen").rglob("*"):
        if path.is_file() and path.suffix in (".py", ".ts", ".json", ".sql", ".html", ".md"):
            assert "blanklogo" not in path.read_text(encoding="utf-8").lower(), path

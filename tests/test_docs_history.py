"""`trackplan docs --history`: the per-event change history read from a real git repository
built here (commits with fixed dates), through the history module and the CLI; a plan outside
git, a repository without commits and a missing git are clear usage errors or empty."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from compiler.cli.docs import docs
from compiler.docs.history import History, read_history
from tests.conftest import LAPTOP, PHONE, ROOT

AXE = ROOT / "tests" / "a11y" / "node_modules" / "axe-core" / "axe.min.js"

MINIMAL = Path(__file__).parent / "fixtures" / "plans" / "minimal"
JOB = "    description: A job was created.\n"


def git(repo: Path, *args: str, date: str = "2026-01-01") -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.test",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.test",
        "GIT_AUTHOR_DATE": f"{date}T12:00:00+00:00",
        "GIT_COMMITTER_DATE": f"{date}T12:00:00+00:00",
    }
    done = subprocess.run(
        ["git", "-C", str(repo), *args], env=env, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new))


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A repository whose plan went through seven commits; their short shas by step name."""
    root = tmp_path_factory.mktemp("history") / "repo"
    root.mkdir()
    git(root, "init", "-q")
    plan = root / "tracking_plan"
    shutil.copytree(MINIMAL, plan)
    (root / "README.md").write_text("notes\n")
    yaml = plan / "plan.yaml"
    steps: list[tuple[str, str, str, str]] = [
        ("created", "2026-01-01", "Add the plan", ""),
        (
            "blur",
            "2026-01-02",
            "Allow the blur mode",
            "enum: [crop, inpaint]\n    description: Removal",
        ),
        ("readme", "2026-01-03", "Readme only", ""),
        ("integer", "2026-01-04", "Integer prices", "type: number\n    minimum: 0"),
        ("broken", "2026-01-05", "Break the version", JOB),
        ("fixed", "2026-01-06", "Fix the version", "version: nope"),
        ("described", "2026-01-07", "Describe jobs", "A job was created."),
    ]
    replacements = {
        "blur": "enum: [crop, inpaint, blur]\n    description: Removal",
        "integer": "type: integer\n    minimum: 0",
        "broken": JOB + "    version: nope\n",
        "fixed": "version: 2.0.0",
        "described": "A job was created from an upload.\n    owner: imaging",
    }
    shas = {}
    for name, date, subject, old in steps:
        if name == "readme":
            (root / "README.md").write_text("more notes\n")
        elif old:
            edit(yaml, old, replacements[name])
        git(root, "add", ".")
        git(root, "commit", "-qm", subject, date=date)
        shas[name] = git(root, "rev-parse", "--short", "HEAD")
    return plan, shas


def kinds(history: History, event: str) -> list[tuple[str, list[str]]]:
    return [(e.commit.short, [c.kind for c in e.changes]) for e in history.events.get(event, ())]


def test_each_event_gets_the_commits_that_changed_it(repo: tuple[Path, dict[str, str]]) -> None:
    plan, sha = repo
    history = read_history(plan, 50)
    steps = ["described", "fixed", "broken", "integer", "blur", "created"]  # not the readme
    assert [c.short for c in history.commits] == [sha[s] for s in steps]
    assert not history.truncated and history.plan_path == "tracking_plan"
    assert kinds(history, "job_created") == [
        (sha["described"], ["annotation_changed", "description_changed"]),
        (sha["blur"], ["enum_value_added"]),
        (sha["created"], ["event_added"]),
    ]
    assert kinds(history, "processing_completed") == [
        (sha["blur"], ["enum_value_added"]),
        (sha["created"], ["event_added"]),
    ]
    assert kinds(history, "purchase_completed") == [
        (sha["integer"], ["type_changed"]),
        (sha["created"], ["event_added"]),
    ]
    integer = history.events["purchase_completed"][0]
    assert integer.commit.date == "2026-01-04" and integer.commit.subject == "Integer prices"
    change = integer.changes[0]
    assert change.breaking and change.bump == "major"
    assert change.message == "property 'price': type number -> integer"
    described = history.events["job_created"][0].changes
    assert [c.message for c in described] == ["owner none -> 'imaging'", "description changed"]
    assert history.skipped == (
        (sha["fixed"], "the plan before this commit does not lint: 1 error"),
        (sha["broken"], "the plan at this commit does not lint: 1 error"),
    )


def test_limit_reads_the_newest_commits_and_compares_the_oldest_with_its_parent(
    repo: tuple[Path, dict[str, str]],
) -> None:
    plan, sha = repo
    history = read_history(plan, 4)
    assert history.truncated and len(history.commits) == 4
    # the readme commit's parent plan is the blur commit's: a type change, not a creation
    assert kinds(history, "purchase_completed") == [(sha["integer"], ["type_changed"])]
    assert kinds(history, "processing_completed") == []
    assert not read_history(plan, 6).truncated


@pytest.fixture(scope="module")
def site(
    repo: tuple[Path, dict[str, str]], tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, str]:
    """The site `trackplan docs --history` writes for the repository, and what it printed."""
    out = tmp_path_factory.mktemp("site")
    result = CliRunner().invoke(docs, ["--plan", str(repo[0]), "--out", str(out), "--history"])
    assert result.exit_code == 0, result.output
    return out, result.output


def test_cli_renders_the_history_on_each_event_page(
    repo: tuple[Path, dict[str, str]], site: tuple[Path, str], tmp_path: Path
) -> None:
    plan, sha = repo
    out, output = site
    assert "change history: 6 commit(s) of tracking_plan, 2 not compared" in output
    page = (out / "events" / "job_created.html").read_text()
    section = page[page.index('<section id="history"') : page.index('<section id="properties"')]
    assert re.findall(r'<code class="sha">(\w+)</code>', section) == [
        sha["described"],
        sha["blur"],
        sha["created"],
    ]
    assert re.findall(r'data-kind="(\w+)"', section) == [
        "annotation_changed",
        "description_changed",
        "enum_value_added",
        "event_added",
    ]
    assert '<time datetime="2026-01-07">2026-01-07</time> Describe jobs' in section
    assert "last 6 commits touching the plan." in section
    assert f"<code>{sha['broken']}</code> (the plan at this commit does not lint" in section
    purchase = (out / "events" / "purchase_completed.html").read_text()
    assert '<strong class="req">breaking</strong> (major): property' in purchase

    limited = CliRunner().invoke(
        docs,
        ["--plan", str(plan), "--out", str(tmp_path / "s2"), "--history", "--history-limit", "2"],
    )
    assert limited.exit_code == 0 and "(limit 2; older commits not read)" in limited.output
    assert (
        "raise <code>--history-limit</code>"
        in (tmp_path / "s2/events/job_created.html").read_text()
    )

    plain = CliRunner().invoke(docs, ["--plan", str(plan), "--out", str(tmp_path / "s3")])
    assert plain.exit_code == 0 and "change history" not in plain.output
    assert 'id="history"' not in (tmp_path / "s3/events/job_created.html").read_text()


def test_plan_outside_git_is_a_usage_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    plan = tmp_path / "plan"
    shutil.copytree(MINIMAL, plan)
    result = CliRunner().invoke(
        docs, ["--plan", str(plan), "--out", str(tmp_path / "s"), "--history"]
    )
    assert result.exit_code == 2, result.output
    assert "is not inside a git repository" in result.output and str(plan) in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert not (tmp_path / "s").exists()
    bad_limit = CliRunner().invoke(docs, ["--plan", str(plan), "--history", "--history-limit", "0"])
    assert bad_limit.exit_code == 2 and "--history-limit" in bad_limit.output
    monkeypatch.setenv("PATH", str(tmp_path / "nowhere"))
    no_git = CliRunner().invoke(
        docs, ["--plan", str(plan), "--out", str(tmp_path / "s"), "--history"]
    )
    assert no_git.exit_code == 2 and "cannot run git" in no_git.output


def test_repository_without_commits_has_an_empty_history(tmp_path: Path) -> None:
    shutil.copytree(MINIMAL, tmp_path / "repo" / "plan")
    git(tmp_path / "repo", "init", "-q")
    history = read_history(tmp_path / "repo" / "plan")
    assert history.commits == () and history.events == {} and not history.truncated
    assert history.for_event("job_created").entries == ()


@pytest.mark.parametrize("size", [LAPTOP, PHONE], ids=["laptop", "phone"])
def test_history_section_in_chromium_passes_axe_and_fits_a_phone(  # type: ignore[no-untyped-def]
    site: tuple[Path, str], page, size: dict[str, int]
) -> None:
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run `make browser` (npm ci in tests/a11y)")
    page.set_viewport_size(size)
    page.goto((site[0] / "events" / "job_created.html").as_uri())
    heading = page.get_by_role("heading", name="Change history")
    assert heading.is_visible()
    assert page.locator("#history li.history-commit").count() == 3
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page is {overflow}px wider than the window"
    page.add_script_tag(path=str(AXE))
    found = page.evaluate("""() => axe.run(document.querySelector("#history"), {preload: false,
                runOnly: ["wcag2a", "wcag2aa", "wcag21aa", "best-practice"]})
            .then(r => r.violations.map(v => v.id + ": " + v.help))""")
    assert found == [], found

"""compiler/gitrepo.py, the git runner and repository lookup `diff --base` and `docs --history`
share, against real git: each command's wording of the same failures stays its own."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from compiler.diff.base import BaseError, materialize
from compiler.docs.history import HistoryError, read_history
from compiler.gitrepo import GitError, NotARepository, git, repository, resolve

MINIMAL = Path(__file__).parent / "fixtures" / "plans" / "minimal"


def _run(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout.strip()


@pytest.fixture
def outside(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A plan directory in no repository (git may not look above tmp_path)."""
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    plan = tmp_path / "plan"
    shutil.copytree(MINIMAL, plan)
    return plan


def test_repository_root_prefix_and_resolve(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(MINIMAL, repo / "nested" / "plan")
    _run(repo.parent, "init", "-q", str(repo))
    assert resolve(repo, "HEAD") is None  # no commits yet
    _run(repo, "add", ".")
    _run(repo, "commit", "-q", "-m", "plan")
    root, prefix = repository(repo / "nested" / "plan")
    assert root.resolve() == repo.resolve() and prefix == "nested/plan"
    assert repository(repo) == (root, ".")
    assert resolve(repo, "HEAD") == _run(repo, "rev-parse", "HEAD")
    assert resolve(repo, "no-such-ref") is None
    listed = git(repo, "ls-files", "-z")
    assert listed.ok and listed.stdout.endswith(b"\0") and "nested/plan/" in listed.text
    wrong = git(repo, "show", "HEAD:missing.yaml")
    assert not wrong.ok and "missing.yaml" in wrong.error


def test_outside_a_repository_each_command_words_it(outside: Path) -> None:
    with pytest.raises(NotARepository, match="is not inside a git repository"):
        repository(outside)
    with pytest.raises(BaseError) as base:
        materialize("HEAD", outside, outside.parent / "scratch")
    assert str(base.value) == (
        f"--base HEAD: not a directory, and {outside} is not inside a git repository"
    )
    with pytest.raises(HistoryError) as history:
        read_history(outside)
    assert str(history.value).startswith(f"--history: {outside} is not inside a git repository")


def test_missing_plan_directory_and_missing_git(
    outside: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gone = outside.parent / "gone"
    with pytest.raises(GitError, match=f"^plan directory not found: {gone}$"):
        repository(gone)
    with pytest.raises(BaseError, match=f"^plan directory not found: {gone}$"):
        materialize("HEAD", gone, outside)
    with pytest.raises(HistoryError, match=f"^plan directory not found: {gone}$"):
        read_history(gone)
    monkeypatch.setenv("PATH", str(outside.parent / "nowhere"))
    with pytest.raises(GitError, match="^cannot run git: "):
        git(outside, "status")
    with pytest.raises(BaseError, match="^cannot run git: "):
        materialize("HEAD", outside, outside.parent / "scratch")
    with pytest.raises(HistoryError, match="^cannot run git: "):
        read_history(outside)

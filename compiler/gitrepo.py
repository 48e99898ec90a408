"""Reading git for the commands that look at the plan's past (`diff --base REF`, `docs
--history`): one runner and the lookup of the repository that holds the plan directory.

Never writes to the repository. `GitError` says, in one line, why git cannot answer (git not
installed, no plan directory); `NotARepository` (a GitError) that the plan directory is not inside
a repository, which each caller words for its own option.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path


class GitError(Exception):
    """git cannot be run, or there is nothing to run it on."""


class NotARepository(GitError):
    """The plan directory is not inside a git repository."""


@dataclass(frozen=True)
class GitResult:
    returncode: int
    stdout: bytes
    stderr: bytes

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    @property
    def text(self) -> str:
        """stdout as UTF-8 (undecodable bytes replaced)."""
        return self.stdout.decode("utf-8", errors="replace")

    @property
    def error(self) -> str:
        """stderr as UTF-8, stripped."""
        return self.stderr.decode("utf-8", errors="replace").strip()


def git(repo: Path, *args: str) -> GitResult:
    """`git -C repo ARGS...`, whatever its exit code; GitError when git cannot be run."""
    try:
        done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, check=False)
    except OSError as exc:
        raise GitError(f"cannot run git: {exc.strerror}") from None
    return GitResult(done.returncode, done.stdout, done.stderr)


def resolve(root: Path, rev: str) -> str | None:
    """The object name `rev` resolves to in `root` (`git rev-parse --verify`), or None."""
    done = git(root, "rev-parse", "--verify", "--quiet", rev)
    return done.text.strip() if done.ok else None


def repository(plan_dir: Path) -> tuple[Path, str]:
    """The root of the repository holding `plan_dir`, and `plan_dir` relative to it (POSIX)."""
    if not plan_dir.is_dir():
        raise GitError(f"plan directory not found: {plan_dir}")
    top = git(plan_dir, "rev-parse", "--show-toplevel")
    if not top.ok:
        raise NotARepository(f"{plan_dir} is not inside a git repository")
    root = Path(top.text.strip())
    return root, plan_dir.resolve().relative_to(root.resolve()).as_posix()

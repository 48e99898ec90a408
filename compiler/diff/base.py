"""The base plan to diff against: a directory as is, or the plan directory at a git ref.

A ref is materialized into a temporary directory: each YAML file under the plan directory (its
path relative to the repository root) is read with `git show REF:PATH`. `BaseError` says, in
one line, why there is no base (not a repository, an unknown ref, no plan at that ref).
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path


class BaseError(Exception):
    """No base plan could be found: a usage error."""


@dataclass(frozen=True)
class Base:
    directory: Path  # where the base plan's YAML is, on disk
    label: str  # how to name it: the directory, or REF:PATH
    git_prefix: str | None = None  # for a ref: what to show instead of `directory` in paths

    def display(self, file: str) -> str:
        """A base file as a person knows it: `HEAD:tracking_plan/plan.yaml` for a ref."""
        if self.git_prefix is None:
            return file
        try:
            rel = Path(file).resolve().relative_to(self.directory.resolve())
        except ValueError:
            return file
        return f"{self.git_prefix}/{rel.as_posix()}"


def _git(repo: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, check=False)
    except OSError as exc:
        raise BaseError(f"cannot run git: {exc.strerror}") from None


def materialize(base: str, plan_dir: Path, scratch: Path) -> Base:
    """The base plan: the directory `base` when it is one, else `plan_dir` at git ref `base`."""
    if Path(base).is_dir():
        return Base(Path(base), base)
    if not plan_dir.is_dir():
        raise BaseError(f"plan directory not found: {plan_dir}")
    top = _git(plan_dir, "rev-parse", "--show-toplevel")
    if top.returncode != 0:
        raise BaseError(
            f"--base {base}: not a directory, and {plan_dir} is not inside a git repository"
        )
    root = Path(top.stdout.decode().strip())
    commit = _git(root, "rev-parse", "--verify", "--quiet", f"{base}^{{commit}}")
    if commit.returncode != 0:
        raise BaseError(f"--base {base}: not a directory, nor a git ref in {root}")
    prefix = plan_dir.resolve().relative_to(root.resolve()).as_posix()
    listed = _git(root, "ls-tree", "-r", "-z", "--name-only", base, "--", prefix)
    names = [n for n in listed.stdout.decode().split("\0") if n.endswith((".yaml", ".yml"))]
    if listed.returncode != 0 or not names:
        raise BaseError(f"--base {base}: the plan directory {prefix} does not exist at {base}")
    target = scratch / "base"
    for name in names:
        shown = _git(root, "show", f"{base}:{name}")
        if shown.returncode != 0:
            raise BaseError(f"--base {base}: cannot read {name}: {shown.stderr.decode().strip()}")
        path = target / Path(name).relative_to(prefix) if prefix != "." else target / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(shown.stdout)
    return Base(target, f"{base}:{prefix}", f"{base}:{prefix}")

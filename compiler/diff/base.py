"""The base plan to diff against: a directory as is, or the plan directory at a git ref.

A ref is materialized into a temporary directory: each YAML file under the plan directory (its
path relative to the repository root) is read with `git show REF:PATH`. `BaseError` says, in
one line, why there is no base (not a repository, an unknown ref, no plan at that ref).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from compiler.gitrepo import GitError, NotARepository, git, repository, resolve


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


def materialize(base: str, plan_dir: Path, scratch: Path) -> Base:
    """The base plan: the directory `base` when it is one, else `plan_dir` at git ref `base`."""
    if Path(base).is_dir():
        return Base(Path(base), base)
    try:
        return _at_ref(base, plan_dir, scratch)
    except NotARepository:
        raise BaseError(
            f"--base {base}: not a directory, and {plan_dir} is not inside a git repository"
        ) from None
    except GitError as exc:  # git missing, no plan directory
        raise BaseError(str(exc)) from None


def _at_ref(base: str, plan_dir: Path, scratch: Path) -> Base:
    root, prefix = repository(plan_dir)
    if resolve(root, f"{base}^{{commit}}") is None:
        raise BaseError(f"--base {base}: not a directory, nor a git ref in {root}")
    listed = git(root, "ls-tree", "-r", "-z", "--name-only", base, "--", prefix)
    names = [n for n in listed.text.split("\0") if n.endswith((".yaml", ".yml"))]
    if not listed.ok or not names:
        raise BaseError(f"--base {base}: the plan directory {prefix} does not exist at {base}")
    target = scratch / "base"
    for name in names:
        shown = git(root, "show", f"{base}:{name}")
        if not shown.ok:
            raise BaseError(f"--base {base}: cannot read {name}: {shown.error}")
        path = target / Path(name).relative_to(prefix) if prefix != "." else target / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(shown.stdout)
    return Base(target, f"{base}:{prefix}", f"{base}:{prefix}")

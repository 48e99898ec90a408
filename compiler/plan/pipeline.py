"""load -> shape -> resolve -> checks: the plan half of the pipeline, as one call."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from compiler.diagnostics import Diagnostic, Location, error, sorted_unique
from compiler.plan.checks import run_checks
from compiler.plan.model import Plan
from compiler.plan.resolve import resolve
from compiler.plan.shape import check_sections
from compiler.plan.source import load_file, plan_files


class PlanNotFound(Exception):
    """The plan directory does not exist or holds no YAML: a usage error, not a finding."""


@dataclass(frozen=True)
class PlanResult:
    plan: Plan
    diagnostics: tuple[Diagnostic, ...]
    files: tuple[Path, ...]

    @property
    def errors(self) -> tuple[Diagnostic, ...]:
        return tuple(d for d in self.diagnostics if d.is_error)

    @property
    def warnings(self) -> tuple[Diagnostic, ...]:
        return tuple(d for d in self.diagnostics if not d.is_error)


def load_plan(plan_dir: Path) -> PlanResult:
    """Read every YAML file under `plan_dir` and resolve the plan, collecting all diagnostics."""
    if not plan_dir.is_dir():
        raise PlanNotFound(f"plan directory not found: {plan_dir}")
    paths = plan_files(plan_dir)
    if not paths:
        raise PlanNotFound(f"no .yaml files in plan directory {plan_dir}")
    diagnostics: list[Diagnostic] = []
    sources = []
    for path in paths:
        source, found = load_file(path)
        sources.append(source)
        diagnostics += found
    sections, found = check_sections(sources)
    diagnostics += found
    plan, found = resolve(sections)
    diagnostics += found
    diagnostics += run_checks(plan, sections)
    if not plan.events and not any(d.is_error for d in diagnostics):
        diagnostics.append(
            error("TP016", "the plan defines no events", Location(str(plan_dir), 1, 1))
        )
    return PlanResult(plan, tuple(sorted_unique(diagnostics)), tuple(paths))

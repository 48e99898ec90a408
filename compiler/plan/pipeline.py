"""load -> shape -> resolve -> checks: the plan half of the pipeline, as one call.

When a file cannot be parsed, its definitions are missing and later stages report problems that
only follow from that: references to what it defined (TP008, TP010), properties no event seems
to use (TP018), envelope roles it may have filled (TP019), names judged by a convention it may
have set (TP005, TP006), a plan that seems to lack its header (TP016); see `may_follow`.
Those are held back behind the file's own diagnostic (the root cause), which comes first, so
the cause is never buried under its consequences.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from compiler.diagnostics import Diagnostic, Location, error, note, sorted_unique
from compiler.plan.checks import run_checks
from compiler.plan.model import Plan
from compiler.plan.resolve import resolve
from compiler.plan.shape import check_sections
from compiler.plan.source import SourceFile, load_file, plan_files, read_text_lossy


class PlanNotFound(Exception):
    """The plan directory does not exist or holds no YAML: a usage error, not a finding."""


@dataclass(frozen=True)
class HeldBack:
    """The diagnostics that may only follow from one file that could not be parsed."""

    cause: Diagnostic  # the broken file's first diagnostic (its TP001)
    diagnostics: tuple[Diagnostic, ...]

    @property
    def file(self) -> str:
        return self.cause.location.file if self.cause.location else ""

    def summary(self) -> Diagnostic:
        """One note in place of the held-back diagnostics, at the cause's position."""
        n = len(self.diagnostics)
        counts = Counter(d.code for d in self.diagnostics)
        codes = ", ".join(f"{count} {code}" for code, count in sorted(counts.items()))
        where = self.cause.location.display_path() if self.cause.location else "a plan file"
        return note(
            self.cause.code,
            f"{n} more problem{'s' if n != 1 else ''} ({codes}) may follow from the error in "
            f"{where}; fix it and lint again",
            self.cause.location,
        )


@dataclass(frozen=True)
class PlanResult:
    plan: Plan
    # What to show, root causes (diagnostics of files that could not be parsed) first; the
    # diagnostics that may follow from those files are in `held_back` instead.
    diagnostics: tuple[Diagnostic, ...]
    files: tuple[Path, ...]
    held_back: tuple[HeldBack, ...] = ()
    broken: tuple[str, ...] = ()  # the files that could not be parsed

    @property
    def errors(self) -> tuple[Diagnostic, ...]:
        return tuple(d for d in self.diagnostics if d.is_error)

    @property
    def warnings(self) -> tuple[Diagnostic, ...]:
        return tuple(d for d in self.diagnostics if d.is_warning)

    @property
    def held_back_count(self) -> int:
        return sum(len(h.diagnostics) for h in self.held_back)

    def root_causes(self, file: str) -> tuple[Diagnostic, ...]:
        """The diagnostics of one broken file."""
        return tuple(d for d in self.diagnostics if d.location and d.location.file == file)


def load_plan(plan_dir: Path | str) -> PlanResult:
    """Read every YAML file under `plan_dir` and resolve the plan, collecting all diagnostics."""
    plan_dir = Path(plan_dir)
    if not plan_dir.is_dir():
        raise PlanNotFound(
            f"plan directory not found: {plan_dir} (give --plan DIR, or start one with "
            f"`trackplan init {plan_dir}`)"
        )
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
    shown, held_back, broken = hold_back(sorted_unique(diagnostics), sources)
    return PlanResult(plan, tuple(shown), tuple(paths), tuple(held_back), tuple(broken))


# Codes that can follow from definitions missing because a file could not be parsed.
REFERENCE_CODES = frozenset({"TP008", "TP010"})  # a name used here, defined in the lost file
WHOLE_PLAN_CODES = frozenset({"TP018", "TP019"})  # a judgment that needs every file read
NAMING_CODES = frozenset({"TP005", "TP006"})  # judged by a convention the lost file may set
_SUGGESTION = re.compile(r"\s*\(?did you mean\b.*$", re.IGNORECASE | re.DOTALL)
_QUOTED = re.compile(r"'([^'\n]+)'")
_CONVENTIONS = re.compile(r"^conventions\s*:", re.MULTILINE)


def _names(message: str) -> list[str]:
    """The names a message quotes, without its 'did you mean' suggestion."""
    return _QUOTED.findall(_SUGGESTION.sub("", message))


def _mentions(text: str | None, diag: Diagnostic) -> bool:
    """Whether `text` holds one of the names `diag` quotes, as a whole word."""
    return text is not None and any(
        re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", text) for name in _names(diag.message)
    )


def may_follow(diag: Diagnostic, text: str | None) -> bool:
    """Whether `diag` may only follow from a file with `text` (None: unknown) failing to parse.

    A reference (TP008, TP010) may follow when the lost file mentions a name the message quotes
    (a definition names what it defines), when the message quotes none, or when the file's text
    is unknown. Whether a property is used (TP018) or the envelope fills every role (TP019)
    cannot be judged while any file is lost (it may hold events, property sets, envelope
    fields). A naming error (TP005, TP006) may follow when the lost file sets `conventions`.
    TP016 about the plan as a whole ("the plan has no 'plan' section", "defines no events")
    may follow from any lost file. Everything else (syntax, shape, duplicates, types, values)
    stands on its own.
    """
    if diag.code in REFERENCE_CODES:
        return text is None or not _names(diag.message) or _mentions(text, diag)
    if diag.code in WHOLE_PLAN_CODES:
        return True
    if diag.code in NAMING_CODES:
        return text is not None and _CONVENTIONS.search(text) is not None
    if diag.code == "TP016":
        return diag.message.startswith("the plan ")
    return False


def hold_back(
    diagnostics: list[Diagnostic], sources: list[SourceFile]
) -> tuple[list[Diagnostic], list[HeldBack], list[str]]:
    """Root causes first, then the rest; what may follow from a broken file is held back.

    Each held-back diagnostic is charged to the first broken file (in path order) it may follow
    from, preferring one that mentions a name it quotes. Returns the diagnostics to show, the
    held-back groups and the broken files.
    """
    broken = [str(s.path) for s in sources if s.root is None]
    if not broken:
        return diagnostics, [], []
    causes = {
        file: [d for d in diagnostics if d.location and d.location.file == file] for file in broken
    }
    broken = [file for file in broken if causes[file]]  # never without its own diagnostic
    texts = {file: read_text_lossy(Path(file)) for file in broken}
    roots: list[Diagnostic] = [d for file in broken for d in causes[file]]
    rest: list[Diagnostic] = []
    consequences: dict[str, list[Diagnostic]] = {file: [] for file in broken}
    for diag in diagnostics:
        if diag.location and diag.location.file in causes:
            continue
        candidates = [f for f in broken if may_follow(diag, texts[f])]
        if not candidates:
            rest.append(diag)
            continue
        cause = next((f for f in candidates if _mentions(texts[f], diag)), candidates[0])
        consequences[cause].append(diag)
    groups = [
        HeldBack(_cause(causes[file]), tuple(consequences[file]))
        for file in broken
        if consequences[file]
    ]
    return roots + rest, groups, broken


def _cause(diagnostics: list[Diagnostic]) -> Diagnostic:
    """The diagnostic that says why a file could not be used: its TP001, else its first."""
    return next((d for d in diagnostics if d.code == "TP001"), diagnostics[0])

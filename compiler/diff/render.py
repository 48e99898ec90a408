"""A DiffResult as text, JSON (schema `trackplan-diff/1`) or Markdown for a pull request.

Pure: locations arrive already in the form to show (`Change.location.file`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from compiler.diff.model import Change, DiffResult, EventImpact, EventVersion, next_version

SCHEMA = "trackplan-diff/1"


def _where(change: Change) -> str:
    loc = change.location
    return f"{loc.file}:{loc.line}" if loc else "-"


def _summary(result: DiffResult) -> str:
    bump = result.plan_bump
    suggested = next_version(result.base_version, bump)
    return (
        f"{len(result.breaking)} breaking, {len(result.non_breaking)} non-breaking change(s); "
        f"plan {result.base_version} -> {result.new_version}, suggested bump: {bump.value}"
        + (f" ({suggested})" if bump.rank else "")
    )


def _versions(s: EventVersion) -> str:
    """`1.0.0 -> 1.1.0`, `new at 1.0.0`, and what the new plan declares when it differs."""
    if s.base is None:
        return f"new at {s.new}" if s.new is not None else "-"
    if s.new is None:
        return f"removed at {s.base}"
    text = f"{s.base} -> {s.suggested}"
    if s.new is not None and s.new != s.base:
        text += f" (declared {s.new}{', below the suggestion' if s.behind else ''})"
    return text


def _verdict(result: DiffResult, blocking: bool) -> str | None:
    if blocking:
        suggested = next_version(result.base_version, result.plan_bump)
        return (
            f"breaking changes without a major version bump: raise plan.version to {suggested} "
            "or pass --allow-breaking"
        )
    if result.breaking:
        return "breaking changes allowed: " + (
            "the plan's major version was raised" if result.major_raised else "--allow-breaking"
        )
    return None


def to_text(
    result: DiffResult, *, blocking: bool, impact: Sequence[EventImpact] | None = None
) -> str:
    lines = [f"{result.base_label} -> {result.new_label}: {_summary(result)}"]
    for title, changes in (("breaking", result.breaking), ("non-breaking", result.non_breaking)):
        if changes:
            lines.append(f"{title}:")
            lines += [f"  {_where(c)}: {c.kind}: {c.message}" for c in changes]
    bumps = result.event_suggestions()
    if bumps:
        lines.append("event bumps:")
        lines += [f"  {e} {s.bump.value}: {_versions(s)}" for e, s in bumps.items()]
    if impact is not None:
        lines.append("production impact (rows passing the base, failing the new plan):")
        lines += [
            f"  {i.event}: {i.newly_failing} of {i.rows}"
            + (f" (e.g. {', '.join(i.examples)})" if i.examples else "")
            for i in impact
        ]
    verdict = _verdict(result, blocking)
    if verdict:
        lines.append(verdict)
    return "\n".join(lines) + "\n"


def _change_json(change: Change) -> dict[str, object]:
    loc = change.location
    return {
        "kind": change.kind,
        "severity": change.severity.value,
        "bump": change.bump.value,
        "subject": change.subject,
        "events": list(change.events),
        "message": change.message,
        "file": loc.file if loc else None,
        "line": loc.line if loc else None,
        "col": loc.col if loc else None,
        "side": change.side,
    }


def to_json(
    result: DiffResult, *, blocking: bool, impact: Sequence[EventImpact] | None = None
) -> str:
    doc: dict[str, object] = {
        "schema": SCHEMA,
        "base": {"label": result.base_label, "version": result.base_version},
        "new": {"label": result.new_label, "version": result.new_version},
        "breaking": len(result.breaking),
        "non_breaking": len(result.non_breaking),
        "plan_bump": result.plan_bump.value,
        "suggested_version": next_version(result.base_version, result.plan_bump),
        "major_raised": result.major_raised,
        "blocking": blocking,
        "events": {e: b.value for e, b in result.event_bumps().items()},
        "event_versions": {
            e: {"bump": s.bump.value, "base": s.base, "new": s.new, "suggested": s.suggested}
            for e, s in result.event_suggestions().items()
        },
        "changes": [_change_json(c) for c in result.changes],
    }
    if impact is not None:
        doc["impact"] = [
            {
                "event": i.event,
                "rows": i.rows,
                "base_failing": i.base_failing,
                "new_failing": i.new_failing,
                "newly_failing": i.newly_failing,
                "examples": list(i.examples),
            }
            for i in impact
        ]
    return json.dumps(doc, indent=2) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _table(changes: Sequence[Change]) -> list[str]:
    rows = ["| Change | Kind | Events | Where |", "| --- | --- | --- | --- |"]
    for c in changes:
        events = ", ".join(f"`{e}`" for e in c.events[:5]) + (" …" if len(c.events) > 5 else "")
        rows.append(f"| {_cell(c.message)} | `{c.kind}` | {events or '-'} | `{_cell(_where(c))}` |")
    return rows


def to_markdown(
    result: DiffResult, *, blocking: bool, impact: Sequence[EventImpact] | None = None
) -> str:
    icon = ":x:" if blocking else (":warning:" if result.breaking else ":white_check_mark:")
    lines = [f"### {icon} Tracking plan diff", "", f"**{_summary(result)}**", ""]
    verdict = _verdict(result, blocking)
    if verdict:
        lines += [f"> {verdict}", ""]
    if result.breaking:
        lines += ["#### Breaking changes", "", *_table(result.breaking), ""]
    if result.non_breaking:
        lines += ["#### Non-breaking changes", "", *_table(result.non_breaking), ""]
    bumps = result.event_suggestions()
    if bumps:
        lines += [
            "#### Suggested version bumps",
            "",
            "| Event | Bump | Version |",
            "| --- | --- | --- |",
        ]
        lines += [f"| `{e}` | {s.bump.value} | {_versions(s)} |" for e, s in bumps.items()]
        lines.append("")
    if impact is not None:
        lines += [
            "#### Production impact",
            "",
            "| Event | Rows | Pass base, fail new | Examples |",
            "| --- | --- | --- | --- |",
        ]
        lines += [
            f"| `{i.event}` | {i.rows} | {i.newly_failing} | "
            f"{', '.join(f'`{u}`' for u in i.examples) or '-'} |"
            for i in impact
        ]
        lines.append("")
    if not result.changes:
        lines += ["No changes.", ""]
    return "\n".join(lines)

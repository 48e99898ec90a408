"""Issue 12's done-when: everything company-specific lives in the plan, never in compiler/.

No product name anywhere in the package, and none of the shipped plan's own event or property
names in its code or templates (the `init` starter plan is an example plan, not tool logic, and
generic names it shares with BlankLogo are allowed there only).
"""

from __future__ import annotations

import re

from compiler.plan import load_plan
from tests.conftest import PLAN_DIR, ROOT

COMPILER = ROOT / "compiler"
SOURCES = [
    p
    for p in sorted(COMPILER.rglob("*"))
    if p.is_file() and p.suffix in {".py", ".j2", ".c", ".css", ".js", ".md"}
]
STARTER = COMPILER / "templates" / "init"


def test_the_sources_are_there():
    assert len(SOURCES) > 100
    assert any(p.suffix == ".j2" for p in SOURCES) and any(p.suffix == ".c" for p in SOURCES)


def test_no_product_name_in_the_package():
    hits = [
        f"{p.relative_to(ROOT)}:{n}"
        for p in SOURCES
        for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
        if re.search("blanklogo", line, re.I)
    ]
    assert hits == []


def test_no_shipped_event_or_plan_specific_property_in_tool_code():
    plan = load_plan(PLAN_DIR).plan
    # Names that are the plan's own choices: its events, and its properties that are not
    # also PostHog's or the envelope's generic vocabulary.
    generic = {f.name for f in plan.envelope} | {"currency", "price", "email", "plan", "sku"}
    names = set(plan.events) | {p for p in plan.properties if p not in generic and "_" in p}
    pattern = re.compile(r"\b(" + "|".join(sorted(map(re.escape, names))) + r")\b")
    hits = []
    for path in SOURCES:
        if STARTER in path.parents:
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            found = pattern.search(line)
            if found:
                hits.append(f"{path.relative_to(ROOT)}:{n}: {found.group(0)}")
    assert hits == []

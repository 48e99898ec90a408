"""Optional event keys `trigger` (when it fires, in words) and `owner` (team) on event pages.

Written into a copy of the shopfast fixture, loaded through the real loader, rendered by the
real site renderer; a wrong type is a plan error naming the file and line, not a crash.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from compiler.docs import search_index
from compiler.docs.site import render_site
from compiler.plan import load_plan
from tests.conftest import FIXTURES

SHOPFAST = FIXTURES / "plans" / "shopfast"
ANCHOR = "    description: The customer reviewed a product they bought.\n"


def _copy_with(tmp_path: Path, lines: str) -> Path:
    plan_dir = tmp_path / "shopfast"
    shutil.copytree(SHOPFAST, plan_dir)
    account = plan_dir / "events" / "account.yaml"
    text = account.read_text(encoding="utf-8")
    assert ANCHOR in text
    account.write_text(text.replace(ANCHOR, ANCHOR + lines), encoding="utf-8")
    return plan_dir


def test_trigger_and_owner_show_on_the_event_page_and_only_there(tmp_path):
    plan_dir = _copy_with(
        tmp_path,
        "    trigger: The review form's Submit button succeeds on the server.\n"
        "    owner: Growth team\n",
    )
    result = load_plan(plan_dir)
    assert not result.errors, [d.format() for d in result.errors]
    event = result.plan.events["review_submitted"]
    assert event.trigger == "The review form's Submit button succeeds on the server."
    assert event.owner == "Growth team"
    site = render_site(result.plan)
    page = next(text for path, text in site.items() if path.name == "review_submitted.html")
    assert '<dt>Fires when</dt><dd class="trigger">The review form&#39;s Submit button' in page
    assert '<dt>Owner</dt><dd class="owner">Growth team</dd>' in page
    entry = next(e for e in search_index.entries(result.plan) if e["name"] == "review_submitted")
    assert entry["detail"].endswith(" · Growth team")
    assert "Fires when The review form's Submit button succeeds" in entry["text"]
    other = next(text for path, text in site.items() if path.name == "customer_signed_in.html")
    assert "Fires when" not in other and "<dt>Owner</dt>" not in other


def test_plans_without_the_keys_render_no_empty_rows():
    result = load_plan(SHOPFAST)
    assert not result.errors
    assert all(e.trigger == "" and e.owner == "" for e in result.plan.events.values())
    site = render_site(result.plan)
    assert not any("Fires when" in text for text in site.values())


def test_a_non_string_owner_is_a_plan_error_with_its_line(tmp_path):
    plan_dir = _copy_with(tmp_path, "    owner: [growth, data]\n    trigger: 5\n")
    result = load_plan(plan_dir)
    messages = [d.format() for d in result.errors]
    # the copy puts them on lines 12 and 13 of events/account.yaml, right after `description`
    assert any("account.yaml:12:" in m and "'owner'" in m for m in messages), messages
    assert any("account.yaml:13:" in m and "'trigger'" in m for m in messages), messages

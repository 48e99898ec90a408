"""The audit's clean-row screen: it may only call a row clean when the exact checks find nothing.

Soundness is checked per row against the exact DuckDB checks run on every row, with mutations
aimed at the screen's edges (bounds, escapes, phone-shaped text, nested objects, system keys).
Effectiveness: valid rows of every plan event are screened clean, so they skip the exact checks.
The regex builders are checked against brute force.
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path
from typing import Any
from uuid import UUID

import duckdb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compiler.audit import open_screened, run_audit, screen, screen_for
from compiler.audit.duck import VIOLATIONS
from compiler.audit.rules import EMAIL_LIKE, PHONE_LIKE
from compiler.exports import open_events
from tests.export_rows import posthog_row

ROW_KINDS_ONLY = "kind NOT IN ('sequence_violation', 'identity_violation')"

EDGE_VALUES: list[Any] = [
    99,
    100,
    599,
    600,
    599.0,
    1e2,
    -1,
    0,
    3.0,
    1.5,
    10**20,
    "",
    "x",
    "Web",
    "web",
    'a"b',
    "back\\slash",
    "\u0040home",
    "caf\u00e9",
    "(555) 123-4567",
    "555.123.4567",
    "+1 555 123 4567",
    "120212345678901234",
    "1.5",
    "job_abc",
    "job_a b",
    "usr_1",
    "/app",
    "USD",
    "usd",
    "person@example.com",
    None,
    True,
    [],
    ["crop"],
    {"nested": "usr_1"},
    {"user_id": "usr_1"},
]
EDGE_KEYS = ["$set", "$session_id", "token", "coupon", "mode_selected", "$current_url", "made_up"]


def _verdicts(
    plan, path: Path, lines: bool = True
) -> tuple[set[int], set[int], dict[str, Any], dict[str, Any]]:
    """(lines screened clean, lines with a per-row finding, screened and unscreened audits).

    `lines`: the C line scanner screens first (as for a plain JSON Lines file); otherwise only
    the SQL screen does (as for compressed files, or without the compiled scanner)."""
    screened = duckdb.connect()
    screen_ = screen_for(plan) if lines else screen_for(plan)._replace(lines=None)
    report = open_screened(screened, [str(path)], screen_)
    clean = {
        int(r) for (r,) in screened.execute("SELECT _row FROM audit_events WHERE _clean").fetchall()
    }
    fast = run_audit(screened, report, plan).to_json()
    exact = duckdb.connect()
    slow = run_audit(exact, open_events(exact, [str(path)]), plan).to_json()
    bad = {
        int(r)
        for (r,) in exact.execute(
            f"SELECT DISTINCT _row FROM {VIOLATIONS} WHERE {ROW_KINDS_ONLY}"
        ).fetchall()
    }
    return clean, bad, fast, slow


@st.composite
def edge_rows(draw: st.DrawFn, plan) -> list[dict[str, Any]]:
    names = sorted(plan.events)
    rows = []
    for n in range(draw(st.integers(1, 6))):
        rng = random.Random(draw(st.integers(0, 10_000)))
        row = posthog_row(plan, draw(st.sampled_from(names)), rng, uuid=str(UUID(int=n + 1)))
        props = row["properties"]
        for _ in range(draw(st.integers(0 if n == 0 else 1, 0 if n == 0 else 2))):
            key = draw(st.sampled_from(sorted(props) + EDGE_KEYS))
            props[key] = draw(st.sampled_from(EDGE_VALUES))
        rows.append(row)
    return rows


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_a_row_screened_clean_has_no_finding(plan, tmp_path: Path, data: st.DataObject) -> None:
    rows = data.draw(edge_rows(plan))
    # Compact (as PostHog and `trackplan synth` write) or Python's default spacing; with the
    # line scanner first or the SQL screen alone.
    separators = data.draw(st.sampled_from([(",", ":"), (", ", ": ")]))
    lines = data.draw(st.booleans())
    path = tmp_path / "edges.jsonl"
    path.write_text("".join(json.dumps(r, separators=separators) + "\n" for r in rows))
    clean, bad, fast, slow = _verdicts(plan, path, lines)
    assert not clean & bad
    assert 1 in clean  # the untouched first row: the assertion above is not vacuous
    fast.pop("engine"), slow.pop("engine")
    assert fast == slow


def test_valid_rows_of_every_event_are_screened_clean(plan, tmp_path: Path) -> None:
    rng = random.Random(3)
    rows = [posthog_row(plan, name, rng) for name in sorted(plan.events) for _ in range(5)]
    path = tmp_path / "valid.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    for lines in (True, False):
        clean, bad, _, _ = _verdicts(plan, path, lines)
        assert not bad
        assert set(range(1, len(rows) + 1)) - clean == set()


def test_posthog_system_events_are_clean_unless_they_leak_pii(plan, tmp_path: Path) -> None:
    props: list[dict[str, Any]] = [
        {"$current_url": "https://blanklogo.app/", "$browser": "Chrome"},
        {"$set": {"x": 1}},  # nested: left to the exact checks
        {"note": "a@b.co"},  # a non-$ key with an email in it
    ]
    rows = [
        {
            "uuid": str(UUID(int=i + 1)),
            "event": "$pageview",
            "distinct_id": "anon_1",
            "properties": p,
        }
        for i, p in enumerate(props)
    ]
    path = tmp_path / "system.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    for lines in (True, False):
        clean, bad, _, _ = _verdicts(plan, path, lines)
        assert clean == {1}
        assert bad == {3}


def test_int_range_matches_exactly_the_range() -> None:
    for low in (0, 1, 7, 10, 99, 100, 123):
        for high in (None, low, low + 1, 99, 100, 599, 1000):
            if high is not None and high < low:
                continue
            pattern = re.compile(screen.int_range(low, high))
            for n in range(0, 2100):
                expected = n >= low and (high is None or n <= high)
                assert bool(pattern.fullmatch(str(n))) == expected, (low, high, n)
            assert not pattern.fullmatch("007")


def test_bounded_numbers() -> None:
    at_most_one = re.compile(screen._bounded("number", None, 1) or "")
    for text, ok in [("0.5", True), ("1", True), ("1.0", True), ("1.5", False), ("-3.2", True)]:
        assert bool(at_most_one.fullmatch(text)) == ok, text
    status = re.compile(screen._bounded("integer", 100, 599) or "")
    assert [bool(status.fullmatch(t)) for t in ("99", "100", "599", "600", "599.0")] == [
        False,
        True,
        True,
        False,
        False,
    ]
    assert screen._bounded("number", 0.5, None) is None  # not a whole bound: exact checks decide


def test_not_words_excludes_exactly_the_words() -> None:
    words = ["session_id", "s", "set"]
    pattern = re.compile(screen.not_words(words))
    for text in ["", "s", "se", "set", "sets", "session_id", "session_i", "session_idx", "x", "$"]:
        assert bool(pattern.fullmatch(text)) == (text not in words), text


def test_not_pii_never_admits_an_email_or_a_phone_number() -> None:
    rng = random.Random(5)
    alphabet = "0123456789() .-+@ax"
    admitted = 0
    for _ in range(20_000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 16)))
        if re.fullmatch(screen.NOT_PII, text):
            admitted += 1
            assert not re.search(EMAIL_LIKE, text) and not re.search(PHONE_LIKE, text), text
    assert admitted > 1000
    for phone in ["(555) 123-4567", "555.123.4567", "555-123-4567"]:
        assert not re.fullmatch(screen.NOT_PII, phone)


def test_patterns_inline_only_when_they_cannot_run_past_the_quotes() -> None:
    assert screen.pattern_body("^job_[A-Za-z0-9_-]+$", pii=False) == "(?:job_[A-Za-z0-9_-]+)"
    assert screen.pattern_body("^[A-Z]{3}$", pii=False) == "(?:[A-Z]{3})"
    assert screen.pattern_body("^/", pii=False) is not None
    for unsafe in ["^a.*$", "^[^x]+$", "^\\w+$", "^[0-9 .-]+$", "^a|b$", "^[@a-z]+$"]:
        assert screen.pattern_body(unsafe, pii=False) is None, unsafe
    assert screen.pattern_body("^[0-9 .-]+$", pii=True) is not None  # a PII property may

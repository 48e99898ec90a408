"""The plan as tables for the C line scanner (`compiler/_linescan.c`).

The SQL screen (`screen.py`) proves a row clean inside DuckDB; the line scanner proves the same
thing from the raw line, before DuckDB reads it, at about a byte per nanosecond. It accepts a
subset of what the SQL screen accepts: the same value regexes (compiled to DFAs by `dfa.py`),
the same required keys and envelope-column checks, and on top it insists on compact JSON it can
read exactly (no escapes in keys, no exponents, timestamps in one ISO 8601 shape). Every other
line goes to DuckDB, where the SQL screen and then the exact checks decide.

A clean line that a cross-row check reads (`screen.sequence_sql`) goes to DuckDB too, with its
properties, so the scanner only ever drops the properties of rows no check reads.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from compiler.audit import dfa
from compiler.audit.rules import FORMAT_PATTERNS, AuditRules
from compiler.audit.screen import SAFE_SCALAR, value_regex

# PostHog's own events that a healthy export is full of: the scanner names them, so their clean
# rows need not go to DuckDB. Any other $-event goes to DuckDB, which reads its name.
SYSTEM_EVENTS = (
    "$autocapture",
    "$create_alias",
    "$exception",
    "$feature_flag_called",
    "$groupidentify",
    "$identify",
    "$opt_in",
    "$pageleave",
    "$pageview",
    "$rageclick",
    "$screen",
    "$set",
    "$web_vitals",
)
NS_EVENT = -1  # event names; a plan event's keys live in the namespace of its index
EV_PLAN, EV_KEEP = 1, 2
REJECT = 0xFFFF  # a key present that the scanner cannot prove
NO_BIT = 0xFF
COLUMNS = ("uuid", "distinct_id", "person_id")  # the scanner's column order
# Formats whose exact check is their FORMAT_PATTERNS regex alone; a date or date-time is also
# a calendar check (RFC 3339), which no DFA here makes: a column with one goes to DuckDB.
REGEX_FORMATS = frozenset({"uuid", "email", "uri"})


@dataclass(frozen=True)
class ScanTables:
    """What `_linescan.scan` takes, and the event names its indexes stand for."""

    tables: tuple[np.ndarray | bytes, ...]
    params: tuple[int, ...]
    events: tuple[str, ...]
    kept_keys: tuple[bytes, ...] = ()  # the properties a KEPT line's record keeps


_M = 0xFFFFFFFFFFFFFFFF


def _words(key: bytes) -> tuple[int, int]:
    return (
        int.from_bytes(key[:8].ljust(8, b"\0"), "little"),
        int.from_bytes(key[8:16].ljust(8, b"\0"), "little"),
    )


def _hash(key: bytes, ns: int) -> int:
    """The scanner's hash of a key (see `lookup` in _linescan.c); its top bits pick the slot."""
    a, b = _words(key)
    head = (ns & 0xFFFFFFFF) | (len(key) << 32)
    return (
        (a ^ ((b * 0xC2B2AE3D27D4EB4F) & _M) ^ ((head * 0x165667B19E3779F9) & _M))
        * 0x9E3779B97F4A7C15
    ) & _M


def _slots(entries: list[tuple[int, bytes, int]]) -> tuple[np.ndarray, bytes]:
    """An open-addressing hash table of (namespace, key) -> value, as the scanner probes it:
    per slot the namespace, key length, value, key offset and the key's first 16 bytes."""
    size = 1
    while size < 2 * len(entries) + 2:
        size *= 2
    empty = np.iinfo(np.int32).min
    heads = [(empty, 0, 0, 0)] * size
    words = [(0, 0)] * size
    keybytes = bytearray()
    shift = 64 - (size.bit_length() - 1)
    for ns, key, value in entries:
        at = _hash(key, ns) >> shift
        while heads[at][0] != empty:
            at = (at + 1) & (size - 1)
        heads[at] = (ns, len(key), value, len(keybytes))
        words[at] = _words(key)
        keybytes += key
    slots = np.zeros(size, dtype=[("head", "<i4", 4), ("words", "<u8", 2)])
    slots["head"] = heads
    slots["words"] = words
    return np.frombuffer(slots.tobytes(), dtype=np.int32), bytes(keybytes) or b"\0"


def build(rules: AuditRules) -> ScanTables:
    """The scanner's tables for `rules`."""
    plan = rules.plan
    names = tuple(sorted(plan.events)) + tuple(e for e in SYSTEM_EVENTS if e not in plan.events)
    regexes: list[tuple[str, bool]] = [(SAFE_SCALAR, False)]
    checks: list[tuple[int, int]] = [(0, 1)]  # check 0: an SDK key (PII-checked, or an array)
    by_regex: dict[str, int] = {}
    entries: list[tuple[int, bytes, int]] = []
    keep = rules.cross_row_events
    events = np.zeros((len(names), 3), dtype=np.int32)
    plan_keys = {r.key for r in rules.keys}
    regex_of: dict[tuple[str, bool, tuple[str, ...] | None], str | None] = {}
    for index, name in enumerate(names):
        flags = (EV_PLAN if name in plan.events else 0) | (EV_KEEP if name in keep else 0)
        events[index, 0] = flags
        entries.append((NS_EVENT, name.encode(), index))
        if name not in plan.events:
            continue
        keys = [r for r in rules.keys if name in r.allowed]
        # Required keys take the first bits (their mask must fit 64); the others follow while
        # bits last, so a repeated key is noticed.
        keys.sort(key=lambda r: (name not in r.required, r.key))
        required = 0
        for bit, rule in enumerate(keys):
            value = None
            if rule.key not in rules.deprecated:
                layers = rules.source_layers(name) if rule.name == rules.source_name else None
                # The regex depends on the event only through nullability and layers.
                memo = (rule.key, rule.nullable_for(name), layers)
                if memo not in regex_of:
                    regex_of[memo] = value_regex(rule, name, layers)
                value = regex_of[memo]
            if value is None:
                check = REJECT
            else:
                if value not in by_regex:
                    by_regex[value] = len(checks)
                    regexes.append((value, False))
                    checks.append((len(regexes) - 1, 0))
                check = by_regex[value]
            if name in rule.required:
                if bit >= 64:
                    raise ValueError(f"{name}: more than 64 required keys")
                required |= 1 << bit
            entries.append(
                (index, rule.key.encode(), check | ((bit if bit < 64 else NO_BIT) << 16))
            )
        # One probe a key: the SDK keys (check 0, no bit) and the plan's $-keys this event does
        # not have (rejected) share the event's namespace; any other $-key the scanner meets
        # there is PostHog's own, and any other key is undocumented.
        own = {r.key for r in keys}
        for key in sorted(rules.tolerated - plan_keys):
            entries.append((index, key.encode(), 0 | (NO_BIT << 16)))
        for key in sorted(k for k in plan_keys - own if k.startswith("$")):
            entries.append((index, key.encode(), REJECT | (NO_BIT << 16)))
        events[index, 1] = np.int64(required & 0xFFFFFFFF).astype(np.int32)
        events[index, 2] = np.int64(required >> 32).astype(np.int32)

    columns = np.full((len(COLUMNS), 6), -1, dtype=np.int32)
    columns[:, :3] = 0
    for col in rules.columns:
        if col.column not in COLUMNS:
            continue  # timestamp: the scanner parses it, or sends the line to DuckDB
        row = columns[COLUMNS.index(col.column)]
        row[0], row[1] = 1, int(col.required)
        row[2] = col.prop.min_length or 0
        row[3] = -1 if col.prop.max_length is None else col.prop.max_length
        fmt = col.prop.format or ""
        patterns = [p for p in (col.prop.pattern, FORMAT_PATTERNS.get(fmt)) if p]
        for k, pattern in enumerate(patterns):
            if k == len(patterns) - 1 and fmt in FORMAT_PATTERNS and fmt not in REGEX_FORMATS:
                row[4 + k] = 0  # the dead state: every such line goes to DuckDB
                continue
            regexes.append((pattern, True))
            row[4 + k] = -(len(regexes))  # resolved to a start state below
    table = dfa.compile_all(regexes)
    # The scanner numbers a state by its row's offset in the table: one multiply less a byte.
    width = table.nclasses
    starts = [start * width for start in table.starts]
    check_rows = np.array([(starts[r], arrays) for r, arrays in checks], dtype=np.int32)
    for row in columns:
        for k in (4, 5):
            if row[k] < -1:
                row[k] = starts[-row[k] - 1]
    slots, keybytes = _slots(entries)
    anon = plan.identity.anonymous_prefix.encode() if plan.identity is not None else b""
    user = (rules.user_key or "").encode()  # empty: no user id field, no check of one
    return ScanTables(
        tables=(
            table.classes,
            (table.trans * width).astype(np.int32),
            check_rows.reshape(-1),
            slots,
            keybytes,
            events.reshape(-1),
            columns.reshape(-1),
            anon,
            user,
        ),
        params=(
            width,
            len(slots) // 8,
            0,
            int(rules.strict_system),
            int(plan.identity is not None),
            table.accept_from * width,
        ),
        events=names,
        kept_keys=tuple(sorted(k.encode() for k in rules.cross_row_keys)),
    )

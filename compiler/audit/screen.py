"""A cheap per-row screen that proves a row clean, so only the other rows get the exact checks.

Most rows of a healthy export are clean, and proving that is much cheaper than finding what is
wrong. A row is clean when its `properties` text (as DuckDB's JSON reader writes it: compact,
one canonical spelling per value) matches one regular expression built for its event from the
plan, every required key is there, nothing in it looks like PII, and the envelope columns pass
their checks. RE2 matches in linear time, so the screen costs about one pass over the text.

The screen may only err one way: a row it calls clean must have no finding under the exact
checks (`duck.entries_sql`, `duck.rows_sql`). Anything it cannot prove (an escaped string, a
number in exponent form, a nested object, a deprecated key, a pattern it cannot inline) makes
the row unclean, and the exact checks decide. Tests compare both on mutated rows.

Why a top-level key test can be a substring test: inside a JSON string a quote is always
escaped, so `{"k":` or `,"k":` only occurs where an object has the key `k`, and the screen's
regex admits no nested object, so that object is `properties` itself.
"""

from __future__ import annotations

import math
import re
from re import _constants as sre_c  # type: ignore[attr-defined]
from re import _parser as sre_parse  # type: ignore[attr-defined]

from compiler.audit.rules import EMAIL_LIKE, PHONE_LIKE, AuditRules, KeyRule, search
from compiler.funnel.dialects import quote as sql_text
from compiler.plan.model import Property

# JSON texts as DuckDB writes them (compact, valid): one string, one number, one scalar.
STRING = r'"(?:[^"\\]|\\.)*"'
_PLAIN = r'[^"\\]'  # a string character with no escape
_INT = r"-?(?:0|[1-9][0-9]*)"
NUMBER = _INT + r"(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?"
SCALAR = f"(?:{STRING}|{NUMBER}|true|false|null)"
# Numbers the screen proves in range: at most MAX_DIGITS digits before the point, no exponent.
MAX_DIGITS = 15
_SHORT_INT = f"(?:0|[1-9][0-9]{{0,{MAX_DIGITS - 1}}})"
ANY = rf"(?:{SCALAR}|\[(?:{SCALAR}(?:,{SCALAR})*)?\])"  # what a $-key may hold

# PII (rules.EMAIL_LIKE, rules.PHONE_LIKE) in a string needs an @, a + or a whole value shaped
# like (555) 123-4567. A string without them: no @ or + (nor a \u escape that could hide one),
# and a character outside the phone alphabet, or no separator at all (an id of digits).
_PHONE_CHARS = "0123456789() .-"
_SAFE_CHAR = r'(?:[^"\\@+]|\\[^u])'
_OTHER_CHAR = r'(?:[^"\\@+0-9() .\-]|\\[^u])'
NOT_PII = f"(?:{_SAFE_CHAR}*{_OTHER_CHAR}{_SAFE_CHAR}*|[0-9()]*)"
NOT_PII_NONEMPTY = f"(?:{_SAFE_CHAR}*{_OTHER_CHAR}{_SAFE_CHAR}*|[0-9()]+)"
SAFE_SCALAR = f'(?:"{NOT_PII}"|{NUMBER}|true|false|null)'
SAFE_ANY = rf"(?:{SAFE_SCALAR}|\[(?:{SCALAR}(?:,{SCALAR})*)?\])"  # an SDK key: PII-checked

_SAFE_IN = {sre_c.LITERAL, sre_c.RANGE}


def escape(text: str) -> str:
    """`text` as an RE2 literal."""
    return "".join(c if c.isalnum() or c == "_" or ord(c) > 127 else "\\" + c for c in text)


def _json_plain(text: str) -> bool:
    """DuckDB writes this string without escapes."""
    return all(c not in '"\\' and ord(c) >= 0x20 for c in text)


def _pii_like(text: str) -> bool:
    return search(EMAIL_LIKE, text) or search(PHONE_LIKE, text)


def _charset(op: object, arg: object) -> set[str] | None:
    """The characters one LITERAL or IN item matches (None: not a plain set)."""
    if op == sre_c.LITERAL:
        return {chr(arg)}  # type: ignore[arg-type]
    if op != sre_c.IN:
        return None
    chars: set[str] = set()
    for inner_op, inner in arg:  # type: ignore[attr-defined]
        if inner_op == sre_c.LITERAL:
            chars.add(chr(inner))
        elif inner_op == sre_c.RANGE:
            chars |= {chr(c) for c in range(inner[0], inner[1] + 1)}
        else:
            return None  # negated sets, categories: not provably safe
    return chars


def _safe(items: list[tuple[object, object]], pii: bool) -> bool:
    """Every part of a parsed pattern matches only unescaped string characters (and, unless
    the property is PII, never an @ or a +)."""
    banned = set() if pii else {"@", "+"}
    for op, arg in items:
        if op in (sre_c.LITERAL, sre_c.IN):
            chars = _charset(op, arg)
            if chars is None or not all(_json_plain(c) for c in chars) or chars & banned:
                return False
        elif op in (sre_c.MAX_REPEAT, sre_c.MIN_REPEAT):
            if not _safe(list(arg[2]), pii):  # type: ignore[index]
                return False
        elif op == sre_c.SUBPATTERN:
            if not _safe(list(arg[3]), pii):  # type: ignore[index]
                return False
        elif op == sre_c.BRANCH:
            if not all(_safe(list(b), pii) for b in arg[1]):  # type: ignore[index]
                return False
        else:
            return False
    return True


def _never_phone(items: list[tuple[object, object]]) -> bool:
    """Some character every match must contain lies outside the phone alphabet."""
    for op, arg in items:
        chars = _charset(op, arg)
        if chars is not None and not chars & set(_PHONE_CHARS):
            return True
        if op == sre_c.MAX_REPEAT and arg[0] >= 1 and _never_phone(list(arg[2])):  # type: ignore[index]
            return True
        if op == sre_c.SUBPATTERN and _never_phone(list(arg[3])):  # type: ignore[index]
            return True
    return False


def pattern_body(pattern: str, pii: bool = True) -> str | None:
    """A string-content regex for a JSON Schema `pattern`, or None when it cannot be inlined.

    The pattern searches the decoded string; inlined, it must match the raw text between the
    quotes without running past them, so it may only use literals, positive classes, groups,
    alternation and repeats, and anchors only at its two ends. Unless `pii`, it must also
    prove that no match looks like an email or a phone number."""
    try:
        tree = sre_parse.parse(pattern)
    except re.error:
        return None
    if tree.state.flags & ~sre_c.SRE_FLAG_UNICODE or pattern.startswith("(?"):
        return None  # (?i) and other flags: not inlined
    parsed = list(tree)
    start = bool(parsed) and parsed[0] == (sre_c.AT, sre_c.AT_BEGINNING)
    end = bool(parsed) and parsed[-1] == (sre_c.AT, sre_c.AT_END)
    core = parsed[int(start) : len(parsed) - int(end)]
    if not _safe(core, pii) or not (pii or _never_phone(core)):
        return None
    text = pattern[int(start) : len(pattern) - int(end)]
    anything = f"(?:{_PLAIN})*" if pii else f"{_SAFE_CHAR}*"
    return ("" if start else anything) + f"(?:{text})" + ("" if end else anything)


def _digits_range(low: str, high: str) -> str:
    """Digit strings of one length between low and high (inclusive)."""
    if low == high:
        return low
    if len(low) == 1:
        return f"[{low}-{high}]"
    if low[0] == high[0]:
        return low[0] + f"(?:{_digits_range(low[1:], high[1:])})"
    n = len(low) - 1
    parts = []
    if low[1:] == "0" * n:
        first = low[0]
    else:
        parts.append(low[0] + f"(?:{_digits_range(low[1:], '9' * n)})")
        first = str(int(low[0]) + 1)
    if high[1:] == "9" * n:
        last = high[0]
    else:
        parts.append(high[0] + f"(?:{_digits_range('0' * n, high[1:])})")
        last = str(int(high[0]) - 1)
    if int(first) <= int(last):
        parts.append(f"[{first}-{last}][0-9]{{{n}}}")
    return "|".join(parts)


def int_range(low: int, high: int | None) -> str:
    """Non-negative integers from low to high (None: no upper bound, at most MAX_DIGITS
    digits), no leading zeros."""
    parts = []
    top = high if high is not None else 10 ** len(str(low)) - 1
    for width in range(len(str(low)), len(str(top)) + 1):
        lo = max(low, 0 if width == 1 else 10 ** (width - 1))
        hi = min(top, 10**width - 1)
        if lo <= hi:
            parts.append(_digits_range(str(lo), str(hi)))
    if high is None and len(str(low)) < MAX_DIGITS:
        parts.append(f"[1-9][0-9]{{{len(str(low))},{MAX_DIGITS - 1}}}")
    return "(?:" + "|".join(parts) + ")"


def _bounded(prop_type: str, minimum: float | None, maximum: float | None) -> str | None:
    """Numbers (or integers) between whole-number bounds, written without an exponent; None
    when a bound is not a whole number or only negative numbers are allowed."""
    for bound in (minimum, maximum):
        if bound is not None and (not math.isfinite(bound) or bound != int(bound)):
            return None
    fraction = "" if prop_type == "integer" else r"(?:\.[0-9]+)?"
    if minimum is None and maximum is None:
        # No exponent and at most 15 digits: never past a double's range (1e400 and a
        # 400-digit integer are type mismatches, left to the exact checks).
        return f"-?{_SHORT_INT}{fraction}"
    low = None if minimum is None else int(minimum)
    high = None if maximum is None else int(maximum)
    if high is not None and high >= 10**MAX_DIGITS:
        high = None  # every number the screen proves (MAX_DIGITS digits) is below it
    if low is not None and low >= 10**MAX_DIGITS:
        return None
    if (low is not None and low < 0) or (high is not None and high < max(low or 0, 0)):
        return None
    parts = [f"-{_SHORT_INT}{fraction}"] if low is None else []
    start = low or 0
    if high is None:
        parts.append(int_range(start, None) + fraction)
    else:
        if high > start:
            parts.append(int_range(start, high - 1) + fraction)
        parts.append(str(high) + (r"(?:\.0+)?" if fraction else ""))
    return "(?:" + "|".join(parts) + ")"


def _string_regex(rule: KeyRule, layers: tuple[str, ...] | None) -> str | None:
    prop = rule.prop
    pii = rule.key.startswith("$") or prop.pii
    if prop.enum is not None:
        values = [v for v in prop.enum if isinstance(v, str) and _string_ok(prop, v)]
        if layers is not None:
            values = [v for v in values if v in layers]
        values = [v for v in values if pii or not _pii_like(v)]
        if not all(_json_plain(v) for v in values):
            return None
        return '"(?:' + "|".join(escape(v) for v in values) + ')"' if values else None
    if prop.pattern is not None:
        if prop.min_length is not None or prop.max_length is not None:
            return None
        body = pattern_body(prop.pattern, pii)
        return None if body is None else f'"{body}"'
    low, high = prop.min_length or 0, prop.max_length
    if high is None and low == 0:
        return STRING if pii else f'"{NOT_PII}"'
    if high is None and low == 1:
        return f'"(?:{_PLAIN})+"' if pii else f'"{NOT_PII_NONEMPTY}"'
    return None


def value_regex(rule: KeyRule, event: str, layers: tuple[str, ...] | None = None) -> str | None:
    """The JSON texts of valid values of `rule` in `event`, or None when the screen cannot say.

    `layers` narrows the source key (role source) to the event's layers (another value is
    wrong_source)."""
    prop = rule.prop
    options: list[str] = ["null"] if rule.nullable_for(event) else []
    if prop.type not in ("string", "integer", "number", "boolean"):
        return None
    if prop.format is not None:
        if not (prop.format == "email" and prop.pii and prop.enum is None and not prop.pattern):
            return None
        if prop.min_length is not None or prop.max_length is not None:
            return None
        # rules.FORMAT_PATTERNS["email"] on an unescaped string: one @, no space around it.
        return "(?:" + "|".join([*options, r'"[^@\s"\\]+@[^@\s"\\]+"']) + ")"
    if prop.type == "boolean":
        options.append("true|false")
    elif prop.type == "string":
        text = _string_regex(rule, layers)
        if text is None:
            return None
        options.append(text)
    elif prop.enum is not None:
        values = [v for v in prop.enum if v is not None]
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
            return None
        ok = [
            v
            for v in values
            if (prop.minimum is None or v >= prop.minimum)
            and (prop.maximum is None or v <= prop.maximum)
        ]
        if not ok:
            return None
        options.append("(?:" + "|".join(str(v) for v in ok) + ")")
    else:
        number = _bounded(prop.type, prop.minimum, prop.maximum)
        if number is None:
            return None
        options.append(number)
    return "(?:" + "|".join(options) + ")"


def _string_ok(prop: Property, value: str) -> bool:
    """An enum value that also meets the property's other string constraints."""
    if prop.min_length is not None and len(value) < prop.min_length:
        return False
    if prop.max_length is not None and len(value) > prop.max_length:
        return False
    return prop.pattern is None or search(prop.pattern, value)


def not_words(words: list[str]) -> str:
    """Unescaped string contents other than `words` (a regex over string characters)."""
    rest = [w for w in words if w]
    if not rest:
        return f"{_PLAIN}+" if words else f"{_PLAIN}*"
    firsts = sorted({w[0] for w in rest})
    others = "[^" + "".join(escape(c) for c in firsts) + '"\\\\]'
    alts = [] if "" in words else [""]  # the empty string, unless it is one of the words
    alts.append(f"{others}{_PLAIN}*")
    alts += [f"{escape(c)}(?:{not_words([w[1:] for w in rest if w[0] == c])})" for c in firsts]
    return "(?:" + "|".join(alts) + ")"


def _members(rules: AuditRules, event: str | None) -> list[str]:
    """The `"key":value` texts a clean row of `event` (None: a PostHog $-event) may hold."""
    members: list[str] = []
    by_value: dict[str, list[str]] = {}
    plan_keys = {r.key for r in rules.keys}
    if event is not None:
        for rule in rules.keys:
            if event not in rule.allowed or rule.key in rules.deprecated:
                continue
            layers = rules.source_layers(event) if rule.name == rules.source_name else None
            value = value_regex(rule, event, layers)
            if value is not None:
                by_value.setdefault(value, []).append(rule.key)
        for key in sorted(rules.tolerated - plan_keys):
            by_value.setdefault(SAFE_ANY, []).append(key)
        for value, keys in by_value.items():
            names = "|".join(escape(k) for k in sorted(keys))
            members.append(f'"(?:{names})":{value}')
    else:
        members.append(rf'"[^"\\$](?:{_PLAIN})*":{SAFE_ANY}')  # checked for PII only
    if not rules.strict_system:
        # Any $-key PostHog adds, other than the plan's own $-keys (checked above).
        own = sorted(k[1:] for k in plan_keys if k.startswith("$")) if event else []
        members.append(rf'"\$(?:{not_words(own)})":{ANY}')
    return members


def event_regex(rules: AuditRules, event: str | None) -> str:
    """Properties texts of `event` with no finding, required keys aside (None: a $-event).

    Each member is followed by `,` or by the closing `}`: the text is valid JSON, so a `}`
    after a top-level member can only be the last character."""
    member = "(?:" + "|".join(_members(rules, event)) + ")"
    return rf"^\{{(?:\}}|(?:{member}[,}}])+)$"


def _has_key(props: str, key: str) -> str:
    # In a row the regex admits, no key holds a quote, so `"key":` can only be the key itself.
    return f"contains({props}, {sql_text(chr(34) + key + chr(34) + ':')})"


def event_clean_sql(rules: AuditRules, event: str, props: str) -> str:
    """True when the properties text `props` of a row of plan event `event` is clean."""
    parts = [f"regexp_full_match({props}, {sql_text(event_regex(rules, event))})"]
    parts += [_has_key(props, r.key) for r in rules.keys if event in r.required]
    return " AND ".join(parts)


def clean_sql(rules: AuditRules, columns_ok: str, props: str = "properties") -> str:
    """SQL: the row needs no exact check. Columns: event, `props` (the properties text) and
    those `columns_ok` reads (the envelope-column conditions of a plan event).

    One CASE branch per event holds all of that event's tests. (Measured: a test outside the
    CASE costs a pass over every row, even behind a cheap guard, so per-key tests go inside;
    the column conditions apply to every plan event, so they stay outside.)"""
    whens = " ".join(
        f"WHEN {sql_text(name)} THEN {event_clean_sql(rules, name, props)}"
        for name in sorted(rules.plan.events)
    )
    system = (
        "false"
        if rules.strict_system
        else f"starts_with(event, '$') AND regexp_full_match({props}, {sql_text(event_regex(rules, None))})"
    )
    return (
        f"(coalesce(CASE event {whens} ELSE {system} END, false) "
        f"AND (starts_with(event, '$') OR coalesce({columns_ok}, false)))"
    )


def sequence_sql(rules: AuditRules, props: str = "properties") -> str:
    """SQL: the row matters to a cross-row check (sequence or identity rule), so it keeps its
    properties. A clean plan event without a string user id (role user_id) counts: it may come
    after login."""
    plan = rules.plan
    parts = [f"event IN ({', '.join(sql_text(e) for e in sorted(rules.cross_row_events))})"]
    if plan.identity is not None and rules.user_key is not None:
        # In a row the screen admits no key holds a quote: `"key":"` is the key, a string value.
        string_value = sql_text(f'"{rules.user_key}":"')
        parts.append(f"NOT contains(coalesce({props}, ''), {string_value})")
    if plan.identity is not None:
        anon = sql_text(plan.identity.anonymous_prefix)
        parts.append(f"(starts_with(distinct_id, {anon}) AND person_id IS NOT NULL)")
    return "coalesce(" + " OR ".join(parts) + ", true)"

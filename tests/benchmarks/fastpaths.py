"""The fast-path candidates of issue 13 item 4, each run as `python -m tests.benchmarks.fastpaths
NAME FILE [SAMPLE]` in its own process (so its peak RSS is its own); each prints one JSON line
{"rows", "seconds", "maxrss_kib", "dirty"}.

A fast path's job is the scanner's: prove a row clean (a row it cannot prove goes to the exact
checks). The prototypes here are measurement tools, not production code, and they are lower
bounds on their path's cost: they check each plan key's type, enum, bounds, length, pattern,
email format, required keys and the event's source layer, but not undocumented keys, PII in
values or deprecations (the scanner checks all of those). On a clean file every path must call
every plan row clean (`dirty` 0): the benchmark asserts that.

- scan / scan_auto: the bare DuckDB scans (`read_ndjson_objects`, `read_ndjson_auto`);
- audit / audit_sql / audit_exact: `trackplan audit`'s library path (open_screened + run_audit)
  with the C line scanner, with the SQL screen only, and with no screen (every row exact);
- duck_typed: `read_ndjson(columns=...)` with `properties` read as a STRUCT built from the plan,
  plus one SQL predicate per event;
- duck_transform: `properties` read as JSON, then `json_transform` to the same STRUCT;
- msgspec: a `msgspec.Struct` per event generated from the plan (Meta constraints, Literal
  enums), the envelope decoded first with `properties` kept as `msgspec.Raw`;
- jsonschema_rs / jsonschema_rs_orjson: `jsonschema_rs` validators on generated/jsonschema's
  event schemas, after `json.loads` / `orjson.loads` of each row (the canonical document built as
  the reference engine builds it);
- jsonschema: python-jsonschema (Draft 2020-12) the same way, on the first SAMPLE rows.
"""

from __future__ import annotations

import json
import re
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Literal

ROOT = Path(__file__).resolve().parents[2]
EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


def _plan() -> Any:
    from compiler.plan import load_plan

    return load_plan(ROOT / "tracking_plan").plan


COLUMN_ROLES = {"event_name", "distinct_id", "timestamp", "event_id"}


def checked_keys(plan: Any, event: Any) -> dict[str, tuple[Any, bool]]:
    """key inside `properties` -> (Property, required) for one event: the envelope fields that
    live inside properties, then the event's own properties."""
    keys: dict[str, tuple[Any, bool]] = {}
    for f in plan.envelope:
        if f.role in COLUMN_ROLES:
            continue
        required = f.name in event.envelope_required or (f.placement == "top" and f.required)
        keys[f.posthog_name or f.name] = (f.property, required)
    for ep in event.properties:
        keys[ep.name] = (ep.property, ep.required)
    return keys


def _source(plan: Any) -> str | None:
    source = plan.role("source")
    return (source.posthog_name or source.name) if source is not None else None


# ---- DuckDB typed reading ---------------------------------------------------------------------

_DUCK_TYPES = {"string": "VARCHAR", "integer": "DOUBLE", "number": "DOUBLE", "boolean": "BOOLEAN"}


def _duck_type(prop: Any) -> str:
    if prop.type == "array":
        return f"{_DUCK_TYPES.get(prop.items_type or 'string', 'VARCHAR')}[]"
    return _DUCK_TYPES.get(prop.type, "JSON")


def _lit(value: Any) -> str:
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    return repr(value)


def _ident(key: str) -> str:
    return '"' + key.replace('"', '""') + '"'


def _duck_types(plan: Any) -> dict[str, str]:
    types: dict[str, str] = {}
    for event in plan.events.values():
        for key, (prop, _) in checked_keys(plan, event).items():
            types.setdefault(key, _duck_type(prop))
    return dict(sorted(types.items()))


def _duck_struct(plan: Any) -> str:
    return "STRUCT(" + ", ".join(f"{_ident(k)} {t}" for k, t in _duck_types(plan).items()) + ")"


def _duck_value_ok(col: str, prop: Any) -> str:
    conds = []
    if prop.type == "integer":
        conds.append(f"{col} = floor({col})")
    if prop.enum:
        values = [v for v in prop.enum if v is not None]
        conds.append(f"{col} IN ({', '.join(_lit(v) for v in values)})")
    if prop.minimum is not None:
        conds.append(f"{col} >= {prop.minimum}")
    if prop.maximum is not None:
        conds.append(f"{col} <= {prop.maximum}")
    if prop.min_length is not None:
        conds.append(f"length({col}) >= {prop.min_length}")
    if prop.max_length is not None:
        conds.append(f"length({col}) <= {prop.max_length}")
    if prop.pattern:
        conds.append(f"regexp_matches({col}, {_lit(prop.pattern)})")
    if prop.format == "email":
        conds.append(f"regexp_matches({col}, {_lit(EMAIL)})")
    ok = " AND ".join(conds) or "true"
    return f"({col} IS NULL OR ({ok}))"


def duck_clean_predicate(plan: Any, props: str) -> str:
    """A SQL boolean: the row (event, struct `props`) is clean under the checks above."""
    source = _source(plan)
    arms = []
    for name, event in plan.events.items():
        conds = []
        for key, (prop, required) in checked_keys(plan, event).items():
            col = f"{props}.{_ident(key)}"
            if required and not prop.nullable:  # a STRUCT cannot tell a missing key from null
                conds.append(f"{col} IS NOT NULL")
            conds.append(_duck_value_ok(col, prop))
        if source is not None:
            layers = ", ".join(_lit(x) for x in event.layers)
            conds.append(f"{props}.{_ident(source)} IN ({layers})")
        arms.append(f"WHEN {_lit(name)} THEN ({' AND '.join(conds)})")
    return f"CASE event {' '.join(arms)} ELSE starts_with(event, '$') END"


def run_duck(path: str, transform: bool) -> dict[str, Any]:
    import duckdb

    plan = _plan()
    struct = _duck_struct(plan)
    con = duckdb.connect()
    con.execute("SET memory_limit = '768MB'")
    columns = {
        "uuid": "VARCHAR",
        "event": "VARCHAR",
        "timestamp": "VARCHAR",
        "distinct_id": "VARCHAR",
        "properties": "JSON" if transform else struct,
    }
    cols = "{" + ", ".join(f"{_lit(k)}: {_lit(v)}" for k, v in columns.items()) + "}"
    source = f"read_ndjson({_lit(path)}, columns = {cols})"
    shape = json.dumps(_duck_types(plan))
    props = f"json_transform(properties, {_lit(shape)})" if transform else "properties"
    inner = f"SELECT event, {props} AS p FROM {source}"
    sql = (
        f"SELECT count(*), count(*) FILTER (WHERE NOT coalesce({duck_clean_predicate(plan, 'p')},"
        f" false)) FROM ({inner})"
    )
    t = time.perf_counter()
    rows, dirty = con.execute(sql).fetchone()
    return {"rows": rows, "seconds": time.perf_counter() - t, "dirty": dirty}


# ---- msgspec ----------------------------------------------------------------------------------


def _msgspec_type(prop: Any, required: bool) -> Any:
    import msgspec

    base: Any
    if prop.enum:
        base = Literal[tuple(v for v in prop.enum if v is not None)]  # type: ignore[misc]
    elif prop.type == "string":
        meta = {}
        if prop.pattern:
            meta["pattern"] = prop.pattern
        elif prop.format == "email":
            meta["pattern"] = EMAIL
        if prop.min_length is not None:
            meta["min_length"] = prop.min_length
        if prop.max_length is not None:
            meta["max_length"] = prop.max_length
        base = str
        if meta:
            from typing import Annotated

            base = Annotated[str, msgspec.Meta(**meta)]
    elif prop.type in ("integer", "number"):
        from typing import Annotated

        meta = {}
        if prop.minimum is not None:
            meta["ge"] = prop.minimum
        if prop.maximum is not None:
            meta["le"] = prop.maximum
        base = int if prop.type == "integer" else float
        if meta:
            base = Annotated[base, msgspec.Meta(**meta)]
    elif prop.type == "boolean":
        base = bool
    elif prop.type == "array":
        base = list
    else:
        base = Any
    if prop.nullable or not required:
        base = base | None  # a missing optional key decodes to its default
    return base


def msgspec_decoders(plan: Any) -> dict[str, Any]:
    import msgspec

    source = _source(plan)
    decoders = {}
    for name, event in plan.events.items():
        fields = []
        for i, (key, (prop, required)) in enumerate(checked_keys(plan, event).items()):
            typ = _msgspec_type(prop, required)
            if key == source:
                typ = Literal[tuple(event.layers)]  # type: ignore[misc]
            spec = msgspec.field(name=key) if required else msgspec.field(default=None, name=key)
            fields.append((f"f{i}", typ, spec))
        fields.sort(key=lambda f: f[2].default is not msgspec.NODEFAULT)  # required first
        struct = msgspec.defstruct("E_" + re.sub(r"\W", "_", name), fields)
        decoders[name] = msgspec.json.Decoder(struct)
    return decoders


def run_msgspec(path: str) -> dict[str, Any]:
    import msgspec

    plan = _plan()
    decoders = msgspec_decoders(plan)

    Row = msgspec.defstruct(
        "Row",
        [
            ("event", str),
            ("properties", msgspec.Raw),
            ("uuid", str),
            ("timestamp", str),
            ("distinct_id", str),
        ],
    )
    envelope = msgspec.json.Decoder(Row)
    rows = dirty = 0
    t = time.perf_counter()
    with open(path, "rb") as lines:
        for line in lines:
            rows += 1
            try:
                row = envelope.decode(line)
                decoder = decoders.get(row.event)
                if decoder is not None:
                    decoder.decode(row.properties)
                elif not row.event.startswith("$"):
                    dirty += 1
            except msgspec.ValidationError:
                dirty += 1
    return {"rows": rows, "seconds": time.perf_counter() - t, "dirty": dirty}


# ---- JSON Schema ------------------------------------------------------------------------------


def _canonical(plan: Any) -> Any:
    """The reference engine's canonical document for a PostHog row (compiler/audit/reference.py's
    `canonical`): envelope fields placed top move out of `properties`."""
    moved = {
        (f.posthog_name or f.name): f.name
        for f in plan.envelope
        if f.placement == "top" and f.role not in COLUMN_ROLES
    }
    columns = {f.role: f.name for f in plan.envelope if f.role in COLUMN_ROLES}

    def doc(row: dict[str, Any]) -> dict[str, Any]:
        props = dict(row["properties"] or {})
        out: dict[str, Any] = {columns["event_name"]: row["event"]}
        for key, name in moved.items():
            if key in props:
                out[name] = props.pop(key)
        out[columns["distinct_id"]] = row["distinct_id"]
        out[columns["timestamp"]] = row["timestamp"]
        out[columns["event_id"]] = row["uuid"]
        out["properties"] = props
        return out

    return doc


def _schemas() -> dict[str, Any]:
    index = ROOT / "generated" / "jsonschema" / "events"
    return {
        p.name.removesuffix(".schema.json"): json.loads(p.read_text())
        for p in index.glob("*.schema.json")
    }


def run_jsonschema(path: str, engine: str, sample: int) -> dict[str, Any]:
    plan = _plan()
    doc = _canonical(plan)
    if engine == "python":
        from jsonschema import Draft202012Validator

        validators = {n: Draft202012Validator(s).is_valid for n, s in _schemas().items()}
    else:
        import jsonschema_rs

        validators = {n: jsonschema_rs.validator_for(s).is_valid for n, s in _schemas().items()}
    if engine == "rs_orjson":
        import orjson

        loads = orjson.loads
    else:
        loads = json.loads
    rows = dirty = 0
    t = time.perf_counter()
    with open(path, "rb") as lines:
        for line in lines:
            if rows == sample:
                break
            rows += 1
            row = loads(line)
            valid = validators.get(row["event"])
            if valid is None:
                dirty += not row["event"].startswith("$")
            elif not valid(doc(row)):
                dirty += 1
    return {"rows": rows, "seconds": time.perf_counter() - t, "dirty": dirty}


# ---- DuckDB scans and the audit ---------------------------------------------------------------


def run_scan(path: str, auto: bool) -> dict[str, Any]:
    import duckdb

    reader = "read_ndjson_auto" if auto else "read_ndjson_objects"
    t = time.perf_counter()
    n = duckdb.connect().execute(f"SELECT count(*) FROM {reader}({_lit(path)})").fetchone()[0]
    return {"rows": n, "seconds": time.perf_counter() - t, "dirty": 0}


def run_audit(path: str, mode: str) -> dict[str, Any]:
    import duckdb

    from compiler.audit import open_screened, screen_for
    from compiler.audit import run_audit as audit

    plan = _plan()
    t = time.perf_counter()
    con = duckdb.connect()
    con.execute("SET memory_limit = '768MB'")
    con.execute(f"SET temp_directory = '{tempfile.gettempdir()}/trackplan-duckdb'")
    screen = screen_for(plan) if mode != "exact" else None
    if screen is not None and mode == "sql":
        screen = screen._replace(lines=None)
    report = open_screened(con, [path], screen)
    result = audit(con, report, plan)
    seconds = time.perf_counter() - t
    findings = sum(f.count for f in result.findings if f.kind != "never_seen")
    return {"rows": report.rows_total, "seconds": seconds, "dirty": findings}


def main(argv: list[str]) -> int:
    sys.path.insert(0, str(ROOT))
    name, path = argv[0], argv[1]
    sample = int(argv[2]) if len(argv) > 2 else -1
    runners = {
        "scan": lambda: run_scan(path, False),
        "scan_auto": lambda: run_scan(path, True),
        "audit": lambda: run_audit(path, "lines"),
        "audit_sql": lambda: run_audit(path, "sql"),
        "audit_exact": lambda: run_audit(path, "exact"),
        "duck_typed": lambda: run_duck(path, False),
        "duck_transform": lambda: run_duck(path, True),
        "msgspec": lambda: run_msgspec(path),
        "jsonschema_rs": lambda: run_jsonschema(path, "rs", sample),
        "jsonschema_rs_orjson": lambda: run_jsonschema(path, "rs_orjson", sample),
        "jsonschema": lambda: run_jsonschema(path, "python", sample),
    }
    out = runners[name]()
    out["maxrss_kib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

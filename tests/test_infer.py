"""`trackplan infer`: synth export -> inferred plan -> lint and audit clean, types match."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from compiler.cli.infer import infer
from compiler.plan import load_plan

ROOT = Path(__file__).resolve().parent.parent
TRACKPLAN = str(Path(sys.executable).parent / "trackplan")


def _synth(plan: Path, out: Path, users: int = 2000) -> Path:
    cmd = [TRACKPLAN, "synth", "--plan", str(plan), "--users", str(users), "--seed", "1"]
    subprocess.run([*cmd, "-o", str(out)], check=True, capture_output=True)
    return out


def _infer(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(infer, list(args))
    return result.exit_code, result.output


def _audit_levels(export: Path, plan: Path) -> list[tuple[str, str]]:
    cmd = [TRACKPLAN, "audit", str(export), "--plan", str(plan), "--format", "json"]
    done = subprocess.run(cmd, capture_output=True, text=True)
    assert done.returncode in (0, 1), done.stderr
    return [(f["kind"], f["severity"]) for f in json.loads(done.stdout)["findings"]]


def _round_trip(shipped: Path, tmp_path: Path) -> None:
    export = _synth(shipped, tmp_path / "x.jsonl.gz")
    out = tmp_path / "inferred"
    code, output = _infer(str(export), "-o", str(out))
    assert code == 0, output
    result = load_plan(out)
    assert not result.errors and not result.diagnostics, result.diagnostics
    findings = _audit_levels(export, out)
    assert not [f for f in findings if f[1] in ("error", "warning")], findings
    ours, theirs = result.plan, load_plan(shipped).plan
    assert ours.properties, "no property inferred"
    for name, prop in ours.properties.items():
        if name not in theirs.properties:
            continue
        want = theirs.properties[name]
        assert prop.type == want.type, (name, prop.type, want.type)
        if want.enum and want.type == "string" and prop.enum:
            assert set(prop.enum) <= set(want.enum), (name, prop.enum, want.enum)
    enums = [n for n, p in ours.properties.items() if p.enum and theirs.properties.get(n)]
    assert sum(1 for n in enums if theirs.properties[n].enum) >= 3
    assert set(ours.events) <= set(theirs.events)


def test_round_trip_shipped_plan(tmp_path: Path) -> None:
    _round_trip(ROOT / "tracking_plan", tmp_path)


def test_round_trip_shopfast(tmp_path: Path) -> None:
    _round_trip(ROOT / "tests" / "fixtures" / "plans" / "shopfast", tmp_path)


def _row(event: str, props: dict[str, object], i: int, lib: str = "web") -> dict[str, object]:
    return {
        "uuid": f"00000000-0000-4000-8000-{i:012d}",
        "event": event,
        "distinct_id": f"d{i % 7}",
        "timestamp": f"2026-01-01T00:{i // 60 % 60:02d}:{i % 60:02d}+00:00",
        "properties": {"$lib": lib, **props},
    }


def _write(path: Path, rows: list[dict[str, object]]) -> Path:
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row) + "\n")
    return path


def _handmade(tmp_path: Path) -> Path:
    rows = []
    for i in range(60):
        rows.append(
            _row(
                "order_completed",
                {
                    "mixed": "a" if i % 3 else 7,  # string and integer: reported
                    "amount": 1.5 * i,
                    "delta": i - 10,
                    "count": i,
                    "plan": ["free", "pro", None][i % 3],
                    "contact": f"user{i}@example.com" if i % 2 else "n/a",
                    "phone": "+1 415 555 0100",
                    "tags": ["x", "y"][: i % 3],
                    "coupon": "SAVE" if i % 2 else None,
                    **({"rare": i} if i % 4 == 0 else {}),
                },
                i,
                lib="posthog-python",
            )
        )
        rows.append(_row("Page Viewed", {"pageName": f"p{i % 25}", "flag": True}, 100 + i))
        rows.append(_row("$pageview", {"$current_url": "https://x"}, 200 + i))
    return _write(tmp_path / "hand.jsonl.gz", rows)


def test_evidence_mixed_pii_thresholds(tmp_path: Path) -> None:
    export = _handmade(tmp_path)
    out = tmp_path / "p"
    code, output = _infer(str(export), "-o", str(out), "--enum-max", "20", "--name", "Hand")
    assert code == 0, output
    result = load_plan(out)
    assert not result.errors and not result.diagnostics, result.diagnostics
    plan = result.plan
    props = plan.properties
    text = (out / "properties.yaml").read_text()
    assert props["mixed"].type == "string" and "MIXED TYPES" in text
    assert props["amount"].type == "number" and props["amount"].minimum == 0
    assert props["delta"].type == "integer" and props["delta"].minimum is None
    assert props["count"].type == "integer"
    assert props["plan"].enum == ("free", "pro") and props["plan"].nullable
    assert props["contact"].pii and props["phone"].pii and not props["plan"].pii
    assert props["contact"].enum is None
    assert props["tags"].type == "array" and props["tags"].items_type == "string"
    assert props["flag"].type == "boolean"
    order = plan.events["order_completed"]
    required = {ep.property.name for ep in order.required}
    assert "amount" in required and "rare" not in required
    assert order.layers == ("server",) and plan.events["Page Viewed"].layers == ("web",)
    assert "$pageview" not in plan.events
    events_text = (out / "events.yaml").read_text()
    assert "$pageview (60)" in events_text and "rare  # 15/60 (25.0%)" in events_text
    assert plan.conventions.event_name != r"^[a-z][a-z0-9]*(_[a-z0-9]+)+$"
    # thresholds: 25 page names > --enum-max 20, and a lower --required-min makes rare required
    assert props["pageName"].enum is None and "enum max 20" in text
    out2 = tmp_path / "p2"
    code, output = _infer(str(export), "-o", str(out2), "--required-min", "0.2", "--enum-max", "2")
    assert code == 0, output
    plan2 = load_plan(out2).plan
    assert "rare" in {ep.property.name for ep in plan2.events["order_completed"].required}
    assert plan2.properties["plan"].enum == ("free", "pro")
    assert plan2.properties["coupon"].enum is None or len(plan2.properties["coupon"].enum) <= 2
    findings = _audit_levels(export, out)
    assert {k for k, level in findings if level == "error"} == {"type_mismatch"}  # the mixed one


def test_enum_min_rows(tmp_path: Path) -> None:
    rows = [_row("thing_done", {"kind": ["a", "b"][i % 2]}, i) for i in range(10)]
    export = _write(tmp_path / "few.jsonl.gz", rows)
    code, output = _infer(str(export), "-o", str(tmp_path / "p"))
    assert code == 0, output
    assert load_plan(tmp_path / "p").plan.properties["kind"].enum is None
    assert "10 rows < 20" in (tmp_path / "p" / "properties.yaml").read_text()


def test_bad_input(tmp_path: Path) -> None:
    code, output = _infer(str(tmp_path / "missing.jsonl"), "-o", str(tmp_path / "p"))
    assert code == 2 and len(output.strip().splitlines()) == 1, output
    garbage = tmp_path / "bad.parquet"
    garbage.write_bytes(b"PAR1 not really")
    code, output = _infer(str(garbage), "-o", str(tmp_path / "p"))
    assert code == 2, output
    only_system = _write(tmp_path / "sys.jsonl.gz", [_row("$pageview", {}, 1)])
    code, output = _infer(str(only_system), "-o", str(tmp_path / "p"))
    assert code == 2 and "system" in output


def test_refuses_non_empty_dir(tmp_path: Path) -> None:
    export = _write(tmp_path / "a.jsonl.gz", [_row("thing_done", {"k": 1}, i) for i in range(3)])
    out = tmp_path / "p"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    code, output = _infer(str(export), "-o", str(out))
    assert code == 2 and "--force" in output
    code, output = _infer(str(export), "-o", str(out), "--force")
    assert code == 0, output
    code, output = _infer(str(export), "-o", str(out), "--force")
    assert code == 0, output
    (out / "extra.yaml").write_text("layers: {}\n")
    code, output = _infer(str(export), "-o", str(out), "--force")
    assert code == 2 and "extra.yaml" in output
    assert (out / "notes.txt").read_text() == "mine"


def test_parquet(tmp_path: Path) -> None:
    """A Parquet export is read as the audit reads it."""
    fmt = "parquet"
    import duckdb

    src = _synth(ROOT / "tests" / "fixtures" / "plans" / "minimal", tmp_path / "m.jsonl", 300)
    target = tmp_path / f"m.{fmt}"
    con = duckdb.connect()
    con.execute(
        f"COPY (SELECT uuid, event, distinct_id, timestamp::TIMESTAMPTZ AS timestamp, "
        f"to_json(properties)::VARCHAR AS properties FROM read_json_auto('{src}')) TO '{target}' "
        "(FORMAT parquet)"
    )
    code, output = _infer(str(target), "-o", str(tmp_path / "p"))
    assert code == 0, output
    plan = load_plan(tmp_path / "p").plan
    assert plan.properties["price"].type == "number"
    assert not [f for f in _audit_levels(target, tmp_path / "p") if f[1] == "error"]

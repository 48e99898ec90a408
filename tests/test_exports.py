"""compiler.exports: every export format into one `events` view; bad input counted, never fatal."""

from __future__ import annotations

import gzip
import io
import json
import sys
from pathlib import Path

import brotli
import duckdb
import pytest

from compiler.exports import open_events

ROW = {
    "uuid": "0190a1b2-0000-7000-8000-000000000001",
    "event": "upload_view",
    "properties": {"source": "web", "environment": "prod", "$session_id": "s1", "$lib": "web"},
    "distinct_id": "anon_1",
    "timestamp": "2026-01-12T10:00:00.123456+00:00",
    "created_at": "2026-01-12T10:00:01+00:00",
    "elements_chain": "",
    "person_id": "0190a1b2-0000-7000-8000-0000000000aa",
    "person_properties": {},
}


def row(n: int, **changes: object) -> dict[str, object]:
    out = dict(ROW, uuid=f"0190a1b2-0000-7000-8000-{n:012d}")
    out.update(changes)
    return out


def jsonl(rows: list[dict[str, object]]) -> str:
    return "".join(json.dumps(r) + "\n" for r in rows)


def events(con: duckdb.DuckDBPyConnection) -> list[tuple[object, ...]]:
    return con.execute(
        "SELECT uuid, event, distinct_id, strftime(timestamp, '%Y-%m-%dT%H:%M:%S.%f'), "
        "person_id, properties, _file, _row FROM events ORDER BY _file, _row"
    ).fetchall()


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    return duckdb.connect()


def test_events_view_has_exactly_the_agreed_columns(tmp_path: Path, con) -> None:
    (tmp_path / "a.jsonl").write_text(jsonl([row(1)]))
    open_events(con, [str(tmp_path / "a.jsonl")])
    described = [(r[0], r[1]) for r in con.execute("DESCRIBE events").fetchall()]
    assert described == [
        ("uuid", "VARCHAR"),
        ("event", "VARCHAR"),
        ("distinct_id", "VARCHAR"),
        ("timestamp", "TIMESTAMP WITH TIME ZONE"),
        ("person_id", "VARCHAR"),
        ("properties", "VARCHAR"),
        ("_file", "VARCHAR"),
        ("_row", "BIGINT"),
        ("_clean", "BOOLEAN"),  # set only when read with an audit screen
        ("_seq", "BOOLEAN"),
    ]


def test_plain_jsonl_rows_in_posthog_shape(tmp_path: Path, con) -> None:
    path = tmp_path / "2026-01-12T00:00:00-2026-01-12T01:00:00.jsonl"
    path.write_text(jsonl([row(1), row(2, event="login_success", person_id=None)]))
    report = open_events(con, [str(path)])
    assert (report.rows_total, report.rows_unparseable) == (2, 0)
    got = events(con)
    assert got[0][:5] == (
        ROW["uuid"][:-1] + "1",
        "upload_view",
        "anon_1",
        "2026-01-12T10:00:00.123456",
        ROW["person_id"],
    )
    assert json.loads(str(got[0][5])) == ROW["properties"]
    assert got[1][4] is None and got[1][7] == 2
    assert report.files[0].format == "posthog-jsonl" and report.files[0].status == "read fully"


def test_timestamps_are_utc(tmp_path: Path, con) -> None:
    path = tmp_path / "a.jsonl"
    path.write_text(jsonl([row(1, timestamp="2026-01-12T12:00:00+02:00")]))
    open_events(con, [str(path)])
    assert events(con)[0][3] == "2026-01-12T10:00:00.000000"


def test_multi_member_gzip_one_member_per_line(tmp_path: Path, con) -> None:
    path = tmp_path / "part-0.jsonl.gz"
    with path.open("wb") as out:
        for n in range(3):
            out.write(gzip.compress(jsonl([row(n)]).encode()))
    report = open_events(con, [str(path)])
    assert report.rows_total == 3 and report.files[0].compression == "gzip"
    assert [r[7] for r in events(con)] == [1, 2, 3]


def test_truncated_gzip_is_read_partly(tmp_path: Path, con) -> None:
    whole = b"".join(gzip.compress(jsonl([row(n)]).encode()) for n in range(5))
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(whole[: len(whole) - 20])
    report = open_events(con, [str(path)])
    info = report.files[0]
    assert info.status == "read partly" and "truncated" in info.notes[0]
    assert report.rows_ok == 4  # the first four members are whole
    assert report.rows_total == report.rows_ok + report.rows_unparseable


def test_brotli(tmp_path: Path, con) -> None:
    path = tmp_path / "a.jsonl.br"
    path.write_bytes(brotli.compress(jsonl([row(1), row(2)]).encode()))
    report = open_events(con, [str(path)])
    assert report.rows_total == 2 and report.files[0].compression == "brotli"
    assert report.files[0].status == "read fully"


def test_truncated_brotli_is_read_partly(tmp_path: Path, con) -> None:
    path = tmp_path / "a.jsonl.br"
    data = brotli.compress(jsonl([row(n) for n in range(50)]).encode())
    path.write_bytes(data[: len(data) // 2])
    report = open_events(con, [str(path)])
    assert report.files[0].status == "read partly"
    assert report.rows_total == report.rows_ok + report.rows_unparseable


def test_zstd_read_natively(tmp_path: Path, con) -> None:
    plain = tmp_path / "a.jsonl"
    plain.write_text(jsonl([row(1), row(2)]))
    con.execute(
        f"COPY (SELECT * FROM read_csv('{plain}', columns={{'l': 'VARCHAR'}}, header=false, "
        f"delim=chr(1), quote='')) TO '{tmp_path / 'a.jsonl.zst'}' "
        "(FORMAT csv, HEADER false, QUOTE '', COMPRESSION zstd)"
    )
    plain.unlink()
    report = open_events(con, [str(tmp_path / "a.jsonl.zst")])
    assert report.rows_total == 2 and report.rows_unparseable == 0


def test_manifest_stands_for_its_parts(tmp_path: Path, con) -> None:
    for n in range(2):
        (tmp_path / f"s-e-{n}.jsonl").write_text(jsonl([row(n)]))
    manifest = tmp_path / "s-e_manifest.json"
    manifest.write_text(json.dumps({"files": ["bucket/prefix/s-e-0.jsonl", "s-e-1.jsonl"]}))
    report = open_events(con, [str(manifest), str(tmp_path)])  # parts named twice: read once
    assert report.rows_total == 2 and len(report.files) == 2


def test_manifest_with_a_missing_part(tmp_path: Path, con) -> None:
    (tmp_path / "x_manifest.json").write_text(json.dumps({"files": ["gone.jsonl"]}))
    report = open_events(con, [str(tmp_path / "x_manifest.json")])
    assert report.errors and "gone.jsonl" in report.errors[0] and "missing" in report.errors[0]


def test_parquet_with_json_string_properties(tmp_path: Path, con) -> None:
    src = tmp_path / "a.jsonl"
    src.write_text(jsonl([row(1), row(2)]))
    path = tmp_path / "a.parquet"
    con.execute(
        f"COPY (SELECT uuid, event, to_json(properties)::VARCHAR AS properties, distinct_id, "
        f"timestamp::TIMESTAMP AS timestamp, person_id, '{{}}' AS person_properties "
        f"FROM read_ndjson('{src}')) TO '{path}' (FORMAT parquet, COMPRESSION zstd)"
    )
    src.unlink()
    report = open_events(con, [str(path)])
    assert report.rows_total == 2 and report.files[0].format == "posthog-parquet"
    got = events(con)
    assert json.loads(str(got[0][5])) == ROW["properties"] and got[1][7] == 2
    assert got[0][3] == "2026-01-12T10:00:00.123456"


def test_parquet_bad_properties_counted(tmp_path: Path, con) -> None:
    path = tmp_path / "a.parquet"
    con.execute(
        f"COPY (SELECT 'u' AS uuid, 'upload_view' AS event, '{{bad' AS properties, 'd' AS "
        f"distinct_id) TO '{path}' (FORMAT parquet)"
    )
    report = open_events(con, [str(path)])
    assert (report.rows_total, report.rows_unparseable) == (1, 1)
    assert report.examples[0].line == 1 and "invalid JSON" in report.examples[0].reason


CSV_HEADER = (
    "*.uuid,*.event,*.properties.$lib,*.properties.source,*.properties.environment,"
    "*.properties.credits_after,*.properties.utm_source,*.timestamp,*.team_id,*.distinct_id,"
    "*.elements_chain,*.created_at,*.person_mode,event,person,properties.$lib,timestamp"
)


def test_ui_csv_every_value_text(tmp_path: Path, con) -> None:
    path = tmp_path / "events.csv"
    lines = [
        CSV_HEADER,
        "u1,credits_granted,posthog-node,server,prod,12,,2026-01-12T10:00:00Z,1,usr_1,,"
        "2026-01-12T10:00:00Z,full,credits_granted,usr_1,posthog-node,2026-01-12T10:00:00Z",
        'u2,upload_view,web,web,prod,,"a, quoted",2026-01-12T10:00:01Z,1,anon_1,,'
        "2026-01-12T10:00:01Z,full,upload_view,anon_1,web,2026-01-12T10:00:01Z",
    ]
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode())
    report = open_events(con, [str(path)])
    assert report.rows_total == 2 and report.text_files == [str(path)]
    got = events(con)
    assert json.loads(str(got[0][5])) == {
        "$lib": "posthog-node",
        "source": "server",
        "environment": "prod",
        "credits_after": "12",
    }
    assert json.loads(str(got[1][5]))["utm_source"] == "a, quoted"
    assert (got[1][1], got[1][2], got[1][7]) == ("upload_view", "anon_1", 3)


def test_csv_with_wrong_header_counts_rows_as_unparseable(tmp_path: Path, con) -> None:
    path = tmp_path / "wrong.csv"
    path.write_text("name,value\na,1\nb,2\n")
    report = open_events(con, [str(path)])
    assert (report.rows_total, report.rows_unparseable) == (2, 2)
    assert report.files[0].status == "read partly"
    assert "header" in report.files[0].notes[0] and "name, value" in report.files[0].notes[0]


def test_events_api_page(tmp_path: Path, con) -> None:
    page = {
        "next": "https://eu.posthog.com/api/projects/1/events/?after=x",
        "results": [
            {
                "id": "u1",
                "distinct_id": "anon_1",
                "properties": {"source": "web"},
                "event": "upload_view",
                "timestamp": "2026-01-12T10:00:00Z",
                "person": None,
                "elements": [],
                "elements_chain": "",
            },
        ],
    }
    path = tmp_path / "events.json"
    path.write_text(json.dumps(page, indent=2))
    report = open_events(con, [str(path)])
    assert report.rows_total == 1 and report.files[0].format == "events-api"
    assert events(con)[0][:3] == ("u1", "upload_view", "anon_1")


def test_canonical_rows_are_normalised(tmp_path: Path, con) -> None:
    canonical = {
        "event": "processing_completed",
        "timestamp": "2026-01-12T05:12:34.123Z",
        "source": "worker",
        "environment": "prod",
        "distinct_id": "anon_9b2f",
        "user_id": "usr_12345",
        "session_id": "sess_abc123",
        "experiment_variant": None,
        "properties": {"job_id": "job_987", "success": True},
    }
    path = tmp_path / "canonical.jsonl"
    path.write_text(jsonl([canonical, dict(canonical, properties={})]))
    open_events(con, [str(path)])
    got = events(con)
    expected = {
        "source": "worker",
        "environment": "prod",
        "user_id": "usr_12345",
        "experiment_variant": None,
        "$session_id": "sess_abc123",
    }
    assert json.loads(str(got[0][5])) == dict(expected, job_id="job_987", success=True)
    assert json.loads(str(got[1][5])) == expected
    assert got[0][4] is None and got[0][0] is None


def test_bad_lines_are_counted_with_their_line_numbers(tmp_path: Path, con) -> None:
    path = tmp_path / "bad.jsonl"
    good = json.dumps(row(1)).encode()
    path.write_bytes(
        b"\n".join(
            [
                good,  # 1
                b'{"event": "x", ',  # 2 invalid JSON
                b"[1, 2]",  # 3 not an object
                b"",  # 4 blank: not a row
                b'{"event": "\xff\xfe"}',  # 5 invalid UTF-8
                b'"just a string"',  # 6 not an object
                b'{"uuid": "no-event"}',  # 7 no event name
                good,  # 8
            ]
        )
        + b"\n"
    )
    report = open_events(con, [str(path)])
    assert (report.rows_total, report.rows_unparseable) == (7, 5)
    assert [(e.line, e.reason) for e in report.examples] == [
        (2, "invalid JSON"),
        (3, "JSON value is not an object"),
        (5, "invalid UTF-8"),
        (6, "JSON value is not an object"),
        (7, "no event name"),
    ]
    assert [r[7] for r in events(con)] == [1, 8]  # numbering survives the rejected line
    assert report.examples[0].format() == f"{path}:2: invalid JSON"


def test_empty_file(tmp_path: Path, con) -> None:
    (tmp_path / "empty.jsonl").write_bytes(b"")
    report = open_events(con, [str(tmp_path / "empty.jsonl")])
    assert report.rows_total == 0 and report.files[0].format == "empty"
    assert "empty" in report.files[0].notes[0] and not report.errors
    assert con.execute("SELECT count(*) FROM events").fetchone() == (0,)


def test_missing_file_is_an_input_error(tmp_path: Path, con) -> None:
    (tmp_path / "a.jsonl").write_text(jsonl([row(1)]))
    report = open_events(con, [str(tmp_path / "a.jsonl"), str(tmp_path / "nope.jsonl")])
    assert report.rows_total == 1
    assert report.errors == [f"{tmp_path / 'nope.jsonl'}: no such file or directory"]


def test_glob_and_directory(tmp_path: Path, con) -> None:
    (tmp_path / "d").mkdir()
    for n in range(3):
        (tmp_path / "d" / f"p{n}.jsonl").write_text(jsonl([row(n)]))
    (tmp_path / "d" / "notes.txt").write_text("not an export")
    assert open_events(con, [str(tmp_path / "d" / "p*.jsonl")]).rows_total == 3
    assert open_events(con, [str(tmp_path / "d")]).rows_total == 3
    assert open_events(con, [str(tmp_path / "d" / "z*.jsonl")]).errors


def test_stdin(monkeypatch: pytest.MonkeyPatch, con) -> None:
    data = gzip.compress(jsonl([row(1), row(2)]).encode())
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    report = open_events(con, ["-"])
    assert report.rows_total == 2 and report.files[0].path == "<stdin>"


def test_several_files_number_rows_per_file(tmp_path: Path, con) -> None:
    for name in ("a", "b"):
        (tmp_path / f"{name}.jsonl").write_text(jsonl([row(1), row(2)]))
    report = open_events(con, [str(tmp_path / "a.jsonl"), str(tmp_path / "b.jsonl")])
    assert report.rows_total == 4
    assert [(Path(str(r[6])).name, r[7]) for r in events(con)] == [
        ("a.jsonl", 1),
        ("a.jsonl", 2),
        ("b.jsonl", 1),
        ("b.jsonl", 2),
    ]


def test_unsupported_compression_is_reported_not_guessed(tmp_path: Path, con) -> None:
    path = tmp_path / "part-0.jsonl.lz4"
    path.write_bytes(b"\x04\x22\x4d\x18garbage")
    report = open_events(con, [str(path)])
    info = report.files[0]
    assert info.status == "read partly" and "lz4 compression is not supported" in info.notes[0]
    assert report.rows_total == 0 and report.errors  # nothing readable: an input error

"""Transactions into the per-customer summary BG/NBD and Gamma-Gamma fit on, in DuckDB.

Any transactions file goes into the table `tx(customer VARCHAR, day DATE, amount DOUBLE)` (one
row per transaction; `day` in UTC). CSV (any delimiter DuckDB sniffs), whitespace-separated text
(like Hardie's CDNOW_sample.txt), Parquet and JSON Lines are read; every value is checked and the
first bad one is reported with its file and line. Definitions (Fader, Hardie and Lee 2005):

- purchases are counted per day: several transactions by a customer on one day are one purchase
  whose amount is their sum;
- the cohort is every customer whose first purchase is on or before the calibration end;
- x = repeat purchase days in (first day, calibration end]; t_x = days from the first purchase to
  the last repeat purchase (0 when x = 0); T = days from the first purchase to the calibration
  end; all divided by the time unit (7: weeks, as FHL);
- zbar = the mean amount of the repeat purchase days in calibration (the first purchase is left
  out, as in Fader and Hardie's Gamma-Gamma note); 0 when x = 0;
- holdout: repeat purchase days (and their amount) in (calibration end, holdout end].
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
from numpy.typing import NDArray

from compiler.funnel.dialects import quote as sql_text

TEXT_TABLE = "tx_text"  # customer, day, amount as text, plus the line each came from


class TransactionsError(ValueError):
    """Unreadable or invalid transactions; the message names the file (and line)."""


@dataclass(frozen=True)
class Columns:
    customer: str
    date: str
    amount: str


@dataclass(frozen=True)
class CustomerSummary:
    """One entry per cohort customer, in `customers` order; times in the time unit."""

    customers: tuple[str, ...]
    x: NDArray[np.float64]
    t_x: NDArray[np.float64]
    T: NDArray[np.float64]
    zbar: NDArray[np.float64]
    holdout_x: NDArray[np.float64]  # zeros when no holdout was asked for
    holdout_value: NDArray[np.float64]
    unit_days: int
    calibration_end: date
    holdout_end: date | None
    first_day: date
    last_day: date
    later_customers: int  # first purchase after the calibration end: not in the cohort


def _first_line(path: Path) -> tuple[int, str]:
    """(1-based line number, text) of the first non-blank line."""
    with path.open("r", encoding="utf-8", errors="replace") as handle:
        for number, line in enumerate(handle, start=1):
            if line.strip():
                return number, line
    raise TransactionsError(f"{path}: the file is empty")


def _relation(path: Path) -> str:
    """A SELECT of the file's columns plus `_line` (its line, or row for Parquet and JSON)."""
    name = path.name.lower()
    quoted = sql_text(str(path))
    if name.endswith(".parquet"):
        return f"SELECT *, row_number() OVER () AS _line FROM read_parquet({quoted})"
    if name.endswith((".jsonl", ".ndjson", ".json")):
        return (
            f"SELECT *, row_number() OVER () AS _line "
            f"FROM read_json({quoted}, format = 'newline_delimited')"
        )
    number, first = _first_line(path)
    delimiter = next((sep for sep in (",", "\t", ";", "|") if sep in first), None)
    if delimiter is None:
        return _whitespace(path, number, first)
    header = _is_header(first.split(delimiter))
    return (
        f"SELECT *, row_number() OVER () + {number - 1 + int(header)} AS _line FROM read_csv("
        f"{quoted}, all_varchar = true, header = {str(header).lower()}, "
        f"delim = {sql_text(delimiter)})"
    )


def _is_header(tokens: list[str]) -> bool:
    """A first row is a header unless one of its fields is a number (ids, dates, amounts)."""
    return all(
        not t.strip().strip('"').replace(".", "", 1).replace("-", "").isdigit() for t in tokens
    )


def _whitespace(path: Path, number: int, first: str) -> str:
    """Whitespace-separated text: split each line with DuckDB; a header row when no token of the
    first line is a number. Headerless columns are named column0, column1, ..."""
    tokens = first.split()
    header = _is_header(tokens)
    names = tokens if header else [f"column{i}" for i in range(len(tokens))]
    picks = ", ".join(f"parts[{i + 1}] AS {duckdb_ident(n)}" for i, n in enumerate(names))
    skip = f"AND n > {number}" if header else ""
    return f"""
        WITH f AS (SELECT string_split(content, chr(10)) AS ls FROM read_text({sql_text(str(path))})),
        l AS (SELECT unnest(ls) AS line, generate_subscripts(ls, 1) AS n FROM f),
        s AS (
            SELECT n, regexp_split_to_array(trim(line, chr(32) || chr(9) || chr(13)), '\\s+')
                AS parts
            FROM l WHERE trim(line, chr(32) || chr(9) || chr(13)) <> '' {skip}
        )
        SELECT {picks}, n AS _line FROM s"""


def one_row(
    con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, object] | None = None
) -> tuple[Any, ...] | None:
    """The first row of a query, reading the result to its end (no unfinished result left)."""
    rows = con.execute(sql, params or {}).fetchall()
    return tuple(rows[0]) if rows else None


def duckdb_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _resolve(path: Path, available: list[str], wanted: str, option: str) -> str:
    if wanted in available:
        return wanted
    if wanted.isdigit() and 1 <= int(wanted) <= len(available):
        return available[int(wanted) - 1]  # a 1-based position, for headerless files
    raise TransactionsError(
        f"{path}: no column {wanted!r} for {option} (columns: {', '.join(available)}; "
        "a headerless file's columns are column0, column1, ... or 1-based positions)"
    )


def load_file(con: duckdb.DuckDBPyConnection, path: Path, columns: Columns) -> int:
    """Read one transactions file into `tx`; returns the number of transactions.

    Raises TransactionsError for a missing or unreadable file, a missing column, an empty
    customer, an unparsable date and a non-numeric or negative amount (file and line)."""
    if not path.is_file():
        raise TransactionsError(f"{path}: no such file")
    select = _relation(path)
    try:
        con.execute(f"CREATE OR REPLACE TEMP VIEW raw_tx AS {select}")
        available = [
            d[0] for d in con.execute("SELECT * FROM raw_tx LIMIT 0").description if d[0] != "_line"
        ]
    except duckdb.Error as exc:
        raise TransactionsError(f"{path}: cannot read: {str(exc).splitlines()[0]}") from None
    cust = duckdb_ident(_resolve(path, available, columns.customer, "--customer"))
    day = duckdb_ident(_resolve(path, available, columns.date, "--date"))
    amount = duckdb_ident(_resolve(path, available, columns.amount, "--amount"))
    try:
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {TEXT_TABLE} AS SELECT "
            f"trim(CAST({cust} AS VARCHAR)) AS customer, trim(CAST({day} AS VARCHAR)) AS day, "
            f"trim(CAST({amount} AS VARCHAR)) AS amount, _line FROM raw_tx"
        )
    except duckdb.Error as exc:
        raise TransactionsError(f"{path}: cannot read: {str(exc).splitlines()[0]}") from None
    return _parse(con, str(path))


DAY_SQL = (
    "CAST(coalesce(try_strptime(day, '%Y%m%d'), try_cast(day AS TIMESTAMP), "
    "timezone('UTC', try_cast(day AS TIMESTAMPTZ))) AS DATE)"
)


def _parse(con: duckdb.DuckDBPyConnection, label: str) -> int:
    """`tx_text` -> `tx`, failing on the first bad row (by line) with the count of bad rows."""
    con.execute("SET TimeZone = 'UTC'")
    checks = (
        ("customer IS NULL OR customer = ''", "customer", "is empty"),
        (
            f"day IS NULL OR {DAY_SQL} IS NULL",
            "day",
            "is not a date (YYYY-MM-DD, YYYYMMDD or ISO 8601)",
        ),
        (
            "amount IS NULL OR try_cast(amount AS DOUBLE) IS NULL OR NOT isfinite(try_cast(amount AS DOUBLE))",
            "amount",
            "is not a number",
        ),
        ("try_cast(amount AS DOUBLE) < 0", "amount", "is negative (refunds do not belong here)"),
    )
    for condition, column, problem in checks:
        row = one_row(
            con,
            f"SELECT {column}, _line, count(*) OVER () FROM {TEXT_TABLE} WHERE {condition} "
            "ORDER BY _line LIMIT 1",
        )
        if row:
            more = f" ({row[2] - 1} more row(s) like it)" if row[2] > 1 else ""
            value = "(missing)" if row[0] is None else repr(row[0])
            raise TransactionsError(f"{label}:{row[1]}: {column} {value} {problem}{more}")
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE tx AS SELECT customer, {DAY_SQL} AS day, "
        f"CAST(amount AS DOUBLE) AS amount FROM {TEXT_TABLE}"
    )
    count = one_row(con, "SELECT count(*) FROM tx")
    if not count or count[0] == 0:
        raise TransactionsError(f"{label}: no transactions")
    return int(count[0])


COHORT_SQL = """
WITH days AS (
    SELECT customer, day, sum(amount) AS amount FROM tx GROUP BY customer, day
),
firsts AS (SELECT customer, min(day) AS first_day FROM days GROUP BY customer),
cohort AS (
    SELECT d.customer, f.first_day, d.day, d.amount
    FROM days AS d JOIN firsts AS f ON f.customer = d.customer
    WHERE f.first_day <= $cal
)
"""  # purchase days (a day's transactions summed) of the customers who bought by $cal
SUMMARY_SQL = COHORT_SQL + """SELECT
    customer,
    count(*) FILTER (WHERE day > first_day AND day <= $cal) AS x,
    coalesce(date_diff('day', first_day, max(day) FILTER (WHERE day > first_day AND day <= $cal)), 0) AS t_x,
    date_diff('day', first_day, $cal) AS t_cal,
    coalesce(avg(amount) FILTER (WHERE day > first_day AND day <= $cal), 0) AS zbar,
    count(*) FILTER (WHERE day > $cal AND day <= $hold) AS holdout_x,
    coalesce(sum(amount) FILTER (WHERE day > $cal AND day <= $hold), 0) AS holdout_value
FROM cohort
GROUP BY customer, first_day
ORDER BY customer
"""


def summarize(
    con: duckdb.DuckDBPyConnection,
    label: str,
    calibration_end: date,
    holdout_end: date | None = None,
    unit_days: int = 7,
) -> CustomerSummary:
    """The per-customer (x, t_x, T, zbar) of the transactions in `tx`, per the module's rules."""
    bounds = one_row(con, "SELECT min(day), max(day) FROM tx")
    assert bounds is not None
    first, last = bounds
    if first is None or not first <= calibration_end <= last:
        raise TransactionsError(
            f"{label}: calibration end {calibration_end} is outside the data "
            f"({first} to {last})"
        )
    if holdout_end is not None and holdout_end <= calibration_end:
        raise TransactionsError(
            f"{label}: holdout end {holdout_end} must be after the calibration end {calibration_end}"
        )
    rows = con.execute(
        SUMMARY_SQL, {"cal": calibration_end, "hold": holdout_end or calibration_end}
    ).fetchall()
    total = one_row(con, "SELECT count(DISTINCT customer) FROM tx")
    assert total is not None
    cols = list(zip(*rows, strict=True)) if rows else [() for _ in range(7)]

    def arr(i: int, scale: float = 1.0) -> NDArray[np.float64]:
        return np.asarray(cols[i], dtype=float) / scale

    return CustomerSummary(
        customers=tuple(str(c) for c in cols[0]),
        x=arr(1),
        t_x=arr(2, unit_days),
        T=arr(3, unit_days),
        zbar=arr(4),
        holdout_x=arr(5),
        holdout_value=arr(6),
        unit_days=unit_days,
        calibration_end=calibration_end,
        holdout_end=holdout_end,
        first_day=first,
        last_day=last,
        later_customers=int(total[0]) - len(rows),
    )

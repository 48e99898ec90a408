"""A CSV cannot tell null from absent. An empty cell for a property the event requires and the
plan allows to be null is read as null (a correct emitter sends null there); any other empty
required cell is still missing. Both audit engines read it the same way."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from compiler.audit.rules import csv_nulls
from compiler.cli.main import cli
from tests.conftest import PLAN_DIR

HEADER = (
    "*.uuid,*.event,*.distinct_id,*.timestamp,*.properties.source,*.properties.environment,"
    "*.properties.user_id,*.properties.order_id,*.properties.sku,*.properties.plan,"
    "*.properties.billing_period,*.properties.price,*.properties.currency,"
    "*.properties.credits_added,*.properties.coupon,*.properties.payment_provider,"
    "*.properties.is_trial,*.properties.ltv_to_date"
)
ROW = (
    "0190a000-0000-7000-8000-00000000000{n},purchase_completed,usr_1,2026-01-12T10:00:0{n}Z,server,"
    "prod,usr_1,cs_1,pack_10,,one-time,{price},USD,10,,stripe,false,9"
)


def test_required_nullable_properties_are_listed(plan):
    nulls = csv_nulls(plan)
    assert set(nulls["purchase_completed"]) == {"plan", "coupon"}
    assert "price" not in nulls["purchase_completed"]


@pytest.mark.parametrize("engine", ["duckdb", "jsonschema"])
def test_empty_nullable_cell_is_null_but_empty_price_is_missing(tmp_path, engine):
    export = tmp_path / "events.csv"
    export.write_text(
        "\r\n".join([HEADER, ROW.format(n=1, price="9"), ROW.format(n=2, price="")]) + "\r\n"
    )
    out = tmp_path / "audit.json"
    result = CliRunner().invoke(
        cli,
        [
            "audit",
            "--plan",
            str(PLAN_DIR),
            "--engine",
            engine,
            str(export),
            "--format",
            "json",
            "-o",
            str(out),
        ],
    )
    report = json.loads(out.read_text())
    missing = [f for f in report["findings"] if f["kind"] == "missing_required_property"]
    assert [(f["event"], f["property"], f["count"]) for f in missing] == [
        ("purchase_completed", "price", 1)
    ]
    assert report["events"]["purchase_completed"]["rows_with_violations"] == 1
    assert result.exit_code == 1

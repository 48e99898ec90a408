"""What `trackplan synth` writes, `trackplan audit` accepts: no finding of any kind, in every
export format, with every plan event present (so `never_seen` is not hiding gaps)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from compiler.cli.main import cli
from tests.conftest import PLAN_DIR


@pytest.mark.slow
@pytest.mark.parametrize("suffix", [".jsonl.gz", ".jsonl", ".parquet", ".csv"])
def test_audit_of_synth_output_finds_nothing(plan, tmp_path, suffix):
    export, report = tmp_path / f"events{suffix}", tmp_path / "audit.json"
    runner = CliRunner()
    made = runner.invoke(
        cli,
        [
            "synth",
            "--plan",
            str(PLAN_DIR),
            "--users",
            "20000",
            "--days",
            "30",
            "--seed",
            "1",
            "-o",
            str(export),
        ],
    )
    assert made.exit_code == 0, made.output
    audited = runner.invoke(
        cli, ["audit", "--plan", str(PLAN_DIR), str(export), "--format", "json", "-o", str(report)]
    )
    result = json.loads(report.read_text())
    assert result["summary"] == {}, result["findings"][:5]
    assert audited.exit_code == 0, audited.output
    assert result["rows_unparseable"] == 0 and result["rows_total"] > 100_000
    assert set(plan.events) <= set(result["events"])

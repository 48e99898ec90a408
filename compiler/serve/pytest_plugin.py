"""A pytest fixture for app teams: `trackplan_server`, a live `trackplan serve` per test that
fails the test when a bad event arrived.

Enable it in a conftest.py with `pytest_plugins = ["compiler.serve.pytest_plugin"]`; the plan is
`--trackplan-plan DIR` (or $TRACKPLAN_PLAN, default tracking_plan). Point the app's PostHog SDK
at `trackplan_server.url`. A test that sends bad events on purpose checks them with
`trackplan_server.bad()` and then calls `trackplan_server.reset()`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from compiler.plan import load_plan
from compiler.plan.model import Plan
from compiler.serve.testing import RunningServer, running


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--trackplan-plan",
        default=None,
        help="the tracking plan directory trackplan_server validates against",
    )


@pytest.fixture(scope="session")
def trackplan_plan(pytestconfig: pytest.Config) -> Plan:
    where = pytestconfig.getoption("--trackplan-plan") or os.environ.get(
        "TRACKPLAN_PLAN", "tracking_plan"
    )
    result = load_plan(Path(where))
    if result.errors:
        pytest.fail(f"the plan in {where} has errors; run trackplan lint", pytrace=False)
    return result.plan


@pytest.fixture
def trackplan_server(trackplan_plan: Plan) -> Iterator[RunningServer]:
    with running(trackplan_plan) as server:
        yield server
        bad = server.bad()
    if bad:
        lines = [
            f"  {e['event']} ({e['distinct_id']}): "
            + "; ".join(f"{f['kind']} {f['property'] or ''} {f['message']}" for f in e["findings"])
            for e in bad[:20]
        ]
        pytest.fail(f"{len(bad)} bad event(s) reached trackplan serve:\n" + "\n".join(lines))

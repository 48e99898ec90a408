"""Load: 8 concurrent clients; received equals sent, nothing lost or counted twice, and the
good/bad split is the one the traffic was built with: 8 raw clients x 10,000 events (about 20 s;
the benchmark `tests/benchmarks/bench_serve.py` times the same load), and 8 real posthog-python
clients in their default background-batching mode."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from posthog import Posthog

from compiler.plan import Plan
from compiler.serve.app import ServeConfig
from compiler.serve.testing import running
from tests.benchmarks.bench_serve import CLIENTS, load, traffic

PER_CLIENT = 10_000  # the size: 8 clients x 10,000 events


@pytest.mark.slow
def test_concurrent_clients_received_equals_sent(plan: Plan, tmp_path: Path) -> None:
    per_client = [traffic(plan, c, PER_CLIENT, "landing_view") for c in range(CLIENTS)]
    with running(plan, ServeConfig(plan, store_dir=tmp_path)) as server:
        result = load(server.url, per_client, batch=25)
        counts = server.all()
        listed = server.good() + server.bad()
    sent = [e["uuid"] for events in per_client for e in events]
    assert result.sent == len(sent) == CLIENTS * PER_CLIENT
    # every 10th event lost its required property (traffic()): exactly those are bad
    assert counts == {"total": len(sent), "good": len(sent) * 9 // 10, "bad": len(sent) // 10}
    assert sorted(e["uuid"] for e in listed) == sorted(sent)
    stored = [json.loads(line)["uuid"] for line in (tmp_path / "events.jsonl").open()]
    assert sorted(stored) == sorted(sent)  # nothing lost, nothing twice


@pytest.mark.slow
def test_posthog_python_clients_in_background_mode(plan: Plan) -> None:
    """The SDK's own consumer threads, batching and gzip: every captured event arrives once."""
    count = 300
    with running(plan) as server:

        def send(client_no: int) -> None:
            client = Posthog("phc_load", host=server.url, gzip=client_no % 2 == 0)
            for n in range(count):
                client.capture(
                    "landing_view",
                    distinct_id=f"anon_py{client_no}",
                    uuid=f"00000000-0000-4000-8000-{client_no:04d}{n:08d}",
                    properties={"page_path": "/", "device": "desktop"},
                )
            client.shutdown()

        threads = [threading.Thread(target=send, args=(c,)) for c in range(CLIENTS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        counts = server.wait_for(CLIENTS * count)
        uuids = [e["uuid"] for e in server.good() + server.bad()]
    assert counts["total"] == CLIENTS * count
    assert len(set(uuids)) == len(uuids) == CLIENTS * count

"""Proxy mode against a second local server standing in for PostHog (itself a `trackplan serve`,
so what arrived there can be asked for): good events forwarded in batches, bad ones quarantined
or forwarded with `$trackplan_violations`, failures retried and spooled to disk across a
restart, and received + restored = forwarded + quarantined + spooled at every moment."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

from posthog import Posthog

from compiler.docs.examples import posthog_example
from compiler.plan import Plan
from compiler.serve.app import ServeConfig
from compiler.serve.testing import running
from tests.serve_support import post_json, wait_until


def _traffic(plan: Plan, url: str, good: int, bad: int) -> None:
    """`good` valid landing views and `bad` ones missing their required device, via posthog."""
    client = Posthog("phc_proxy", host=url, sync_mode=True)
    example = posthog_example(plan, plan.events["landing_view"])
    props = example["properties"]
    for n in range(good):
        client.capture("landing_view", distinct_id=f"anon_{n}", properties=props)
    broken = {k: v for k, v in props.items() if k != "device"}
    for n in range(bad):
        client.capture("landing_view", distinct_id=f"anon_bad{n}", properties=broken)


def _adds_up(counts: dict[str, Any]) -> bool:
    return bool(
        counts["received"] + counts["restored"]
        == counts["forwarded"] + counts["quarantined"] + counts["spooled"]
    )


def _config(plan: Plan, tmp: Path, url: str, **extra: Any) -> ServeConfig:
    return ServeConfig(
        plan,
        forward=url,
        spool=tmp / "spool",
        quarantine=tmp / "quarantine.jsonl",
        forward_batch=7,
        backoff=0.05,
        max_backoff=0.2,
        **extra,
    )


def test_good_forwarded_in_batches_bad_quarantined(plan: Plan, tmp_path: Path) -> None:
    with running(plan) as posthog, running(plan, _config(plan, tmp_path, posthog.url)) as proxy:
        _traffic(plan, proxy.url, good=30, bad=5)
        counts = wait_until(lambda: (c := proxy.forward())["forwarded"] == 30 and c)
        assert counts["received"] == 35 and counts["quarantined"] == 5
        assert counts["spooled"] == 0 and _adds_up(counts)
        assert posthog.all() == {"total": 30, "good": 30, "bad": 0}
        assert {e["uuid"] for e in posthog.good()} == {e["uuid"] for e in proxy.good()}
    lines = [json.loads(line) for line in (tmp_path / "quarantine.jsonl").read_text().splitlines()]
    assert len(lines) == 5 and all(line["api_key"] == "phc_proxy" for line in lines)
    assert {(f["kind"], f["property"]) for line in lines for f in line["findings"]} == {
        ("missing_required_property", "device")
    }
    assert not list((tmp_path / "spool").glob("seg-*"))


def test_one_request_is_forwarded_as_one_batch(plan: Plan, tmp_path: Path) -> None:
    example = posthog_example(plan, plan.events["landing_view"])
    batch = [{**example, "distinct_id": f"anon_{n}"} for n in range(30)]
    with running(plan) as posthog, running(plan, _config(plan, tmp_path, posthog.url)) as proxy:
        assert post_json(proxy.url + "/batch/", {"api_key": "k", "batch": batch})[0] == 200
        wait_until(lambda: proxy.forward()["forwarded"] == 30)
        arrived = posthog.good()
    assert [e["distinct_id"] for e in arrived] == [e["distinct_id"] for e in batch]
    assert len({e["received_at"] for e in arrived}) == 1  # one request to PostHog


def test_forward_bad_marks_violations(plan: Plan, tmp_path: Path) -> None:
    config = _config(plan, tmp_path, "", forward_bad=True)
    with running(plan) as posthog:
        config.forward = posthog.url
        with running(plan, config) as proxy:
            _traffic(plan, proxy.url, good=2, bad=3)
            wait_until(lambda: proxy.forward()["forwarded"] == 5)
            assert proxy.forward()["quarantined"] == 0
        # The stand-in checks with the same plan: the marked events are bad there too.
        assert posthog.all() == {"total": 5, "good": 2, "bad": 3}
        marked = [e for e in posthog.bad() if "$trackplan_violations" in e["properties"]]
    assert len(marked) == 3
    for event in marked:
        [violation] = event["properties"]["$trackplan_violations"]
        assert violation["kind"] == "missing_required_property"
        assert violation["message"] == "missing required property 'device'"
    assert not (tmp_path / "quarantine.jsonl").exists()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_failures_retried_then_spooled_across_a_restart(plan: Plan, tmp_path: Path) -> None:
    port = _free_port()
    down = f"http://127.0.0.1:{port}"  # nothing listens there yet
    with running(plan, _config(plan, tmp_path, down)) as proxy:
        _traffic(plan, proxy.url, good=20, bad=2)
        counts = wait_until(lambda: (c := proxy.forward())["failures"] >= 2 and c)
        assert counts["forwarded"] == 0 and counts["spooled"] == 20 and _adds_up(counts)
    spooled = sum(len(p.read_text().splitlines()) for p in (tmp_path / "spool").glob("*.jsonl"))
    assert spooled == 20
    # A new run sends what the last one could not, once PostHog is back (retried with backoff).
    with running(plan, _config(plan, tmp_path, down)) as proxy:
        assert proxy.forward()["restored"] == 20
        _traffic(plan, proxy.url, good=5, bad=1)
        with running(plan, port=port) as posthog:
            counts = wait_until(lambda: (c := proxy.forward())["forwarded"] == 25 and c)
            assert _adds_up(counts) and counts["spooled"] == 0 and counts["quarantined"] == 1
            received = [e["uuid"] for e in posthog.good()]
    assert len(received) == len(set(received)) == 25  # nothing lost, nothing twice
    assert not list((tmp_path / "spool").glob("seg-*"))


def test_counts_add_up_while_forwarding(plan: Plan, tmp_path: Path) -> None:
    with running(plan) as posthog, running(plan, _config(plan, tmp_path, posthog.url)) as proxy:
        client = Posthog("phc_proxy", host=proxy.url, sync_mode=True)
        for n in range(40):
            client.capture("landing_view", distinct_id=f"anon_{n}", properties={"device": "x"})
            assert _adds_up(proxy.forward())
        wait_until(lambda: proxy.forward()["forwarded"] + proxy.forward()["quarantined"] == 40)
        assert _adds_up(proxy.forward())

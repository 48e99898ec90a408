"""The real console script: build the config, synth an export, forecast from the config."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_build_synth_simulate_end_to_end(tmp_path: Path) -> None:
    exe = Path(sys.executable).parent / "trackplan"

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(exe), *args], capture_output=True, text=True, cwd=ROOT)

    built = run("build", "--out", str(tmp_path / "gen"), "--target", "simulation")
    assert built.returncode == 0, built.stderr
    config = tmp_path / "gen" / "simulation" / "config.json"
    assert config.read_text() == (ROOT / "generated" / "simulation" / "config.json").read_text()

    out = tmp_path / "events.jsonl.gz"
    synth = run("synth", "--users", "300", "--seed", "2", "--config", str(config), "-o", str(out))
    assert synth.returncode == 0, synth.stderr
    with gzip.open(out, "rt") as handle:
        lines = handle.read().splitlines()
    assert f"wrote {len(lines):,} events for 300 people" in synth.stdout

    forecast = run(
        "simulate",
        "--config",
        str(config),
        "--impressions",
        "1000000",
        "--runs",
        "200",
        "--seed",
        "1",
        "--format",
        "json",
    )
    assert forecast.returncode == 0, forecast.stderr
    assert json.loads(forecast.stdout)["mean"]["clicks"] > 19_000

    bad = run("simulate", "--impressions", "10", "--set", "p_purchse=0.1")
    assert bad.returncode == 2 and "Did you mean 'p_purchase'?" in bad.stderr

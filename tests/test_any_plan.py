"""Any company's plan, end to end: the ShopFast plan (tests/fixtures/plans/shopfast, a B2C shop
with a mobile layer, word state ids, a subscription and no Meta mapping) through every command
of the real CLI, and the README's "Your own plan" quickstart run exactly as written.

Each command runs as a user runs it (a subprocess of the installed console script, in a scratch
directory). Outputs are checked against independent readings: the funnel counts against a plain
Python walk of the export (tests/funnel_reference.py), the fitted rates against the Jeffreys
posterior of those counts, the forecast against its exact expectation. And they must be about
ShopFast: its step names and outcome titles, never BlankLogo's names or S0..S11.
"""

from __future__ import annotations

import gzip
import json
import math
import re
import shlex
import shutil
import tempfile
from collections.abc import Iterator
from datetime import datetime
from itertools import product
from pathlib import Path
from typing import Any

import pytest
from any_plan_support import (
    PY_BAD,
    PY_GOOD,
    TS_BAD,
    TS_GOOD,
    assert_about_shopfast,
    trackplan,
    visible_text,
)
from conftest import FIXTURES, ROOT
from funnel_reference import reached_counts
from generated_packages import NODE_DIR, TSC, TSCONFIG, marked_lines, mypy_strict, tsc

from compiler.plan import Plan, load_plan

SHOPFAST = FIXTURES / "plans" / "shopfast"
USERS, SEED, IMPRESSIONS = 5000, 7, 1_000_000
CHAIN_IDS = ["open", "view", "cart", "checkout", "order"]
CHAIN_NAMES = ["Opened app", "Viewed product", "Added to cart", "Began checkout", "Placed order"]
OUTCOMES = {
    "opens": "App opens",
    "carts": "Carts",
    "orders": "Orders",
    "returned_30d": "Came back within 30 days",
    "lapsed_45d": "Lapsed within 45 days",
}
# --- the plan and the shared outputs -----------------------------------------------------------


@pytest.fixture(scope="module")
def shopfast() -> Plan:
    result = load_plan(SHOPFAST)
    assert not result.diagnostics, [d.format() for d in result.diagnostics]
    return result.plan


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("shopfast")


@pytest.fixture(scope="module")
def built(work: Path) -> Path:
    trackplan("build", "--plan", SHOPFAST, "--out", work / "gen", cwd=work)
    return work / "gen"


@pytest.fixture(scope="module")
def export(work: Path) -> Path:
    out = work / "events.jsonl.gz"
    trackplan(
        "synth",
        "--plan",
        SHOPFAST,
        "--users",
        str(USERS),
        "--days",
        "30",
        "--seed",
        str(SEED),
        "-o",
        out,
        "--truth",
        work / "truth.jsonl",
        cwd=work,
    )
    return out


@pytest.fixture(scope="module")
def rows(export: Path) -> list[dict[str, Any]]:
    with gzip.open(export, "rt", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


@pytest.fixture(scope="module")
def audit_json(work: Path, export: Path) -> dict[str, Any]:
    out = work / "audit.json"
    trackplan("audit", "--plan", SHOPFAST, export, "--format", "json", "-o", out, cwd=work)
    return dict(json.loads(out.read_text(encoding="utf-8")))


@pytest.fixture(scope="module")
def rates_json(work: Path, export: Path) -> dict[str, Any]:
    done = trackplan("rates", "--plan", SHOPFAST, export, "--format", "json", cwd=work)
    return dict(json.loads(done.stdout))


@pytest.fixture(scope="module")
def fitted(work: Path, export: Path) -> Path:
    out = work / "fitted.json"
    trackplan("fit", "--plan", SHOPFAST, export, "-o", out, cwd=work)
    return out


# --- lint and build ----------------------------------------------------------------------------


def test_lint_strict_is_clean(work: Path, shopfast: Plan) -> None:
    done = trackplan("lint", "--plan", SHOPFAST, "--strict", cwd=work)
    assert "0 error(s), 0 warning(s)" in done.stdout
    # the shape the rest of this module relies on
    assert [s.id for s in shopfast.chain] == CHAIN_IDS
    assert [s.name for s in shopfast.chain] == CHAIN_NAMES
    assert shopfast.browser_layers() == ("mobile",) and "web" not in shopfast.layers
    assert shopfast.meta is None
    assert shopfast.role("source").name == "emitter"  # type: ignore[union-attr]
    assert shopfast.role("environment").name == "env"  # type: ignore[union-attr]
    assert shopfast.role("event_id") is None
    assert shopfast.codegen.python_package == "shopfast_analytics"
    assert shopfast.codegen.npm_package == "@shopfast/analytics"
    assert shopfast.codegen.default_environment == "production"


@pytest.mark.slow
def test_build_writes_shopfast_packages(built: Path, shopfast: Plan) -> None:
    assert (built / "python" / "shopfast_analytics" / "__init__.py").is_file()
    package = json.loads((built / "typescript" / "package.json").read_text(encoding="utf-8"))
    assert package["name"] == "@shopfast/analytics"
    for event in shopfast.events:
        assert (built / "jsonschema" / "events" / f"{event}.schema.json").is_file(), event
    assert (built / "docs" / "index.html").is_file()
    assert any((built / "sql").rglob("*.sql"))
    config = json.loads((built / "simulation" / "config.json").read_text(encoding="utf-8"))
    assert [s["id"] for s in config["states"]][:5] == CHAIN_IDS
    assert set(config["transitions"]) == {t.name for t in shopfast.transitions}
    for path in sorted(built.rglob("*")):
        if path.is_file() and path.suffix in (".py", ".ts", ".json", ".sql", ".md", ".toml"):
            text = path.read_text(encoding="utf-8")
            assert_about_shopfast(text, str(path.relative_to(built)), ids=path.suffix != ".md")


@pytest.mark.slow
def test_build_check_is_fresh(work: Path, built: Path) -> None:
    done = trackplan("build", "--plan", SHOPFAST, "--out", built, "--check", cwd=work)
    assert "up to date" in done.stdout


@pytest.mark.slow
def test_mypy_strict_on_python_package(built: Path, work: Path) -> None:
    root = work / "py"  # a copy: files added to the build output would make it stale
    shutil.copytree(built / "python", root)
    (root / "good.py").write_text(PY_GOOD, encoding="utf-8")
    (root / "bad.py").write_text(PY_BAD, encoding="utf-8")
    ok = mypy_strict(root, "shopfast_analytics", "good.py")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    bad = mypy_strict(root, "bad.py")
    errors = {int(n) for n in re.findall(r"^bad\.py:(\d+): error", bad.stdout, re.M)}
    assert errors == marked_lines(PY_BAD, "# E "), bad.stdout


@pytest.fixture(scope="module")
def ts_workspace(built: Path) -> Iterator[Path]:
    """The generated package and the usage files inside tests/node, so the SDKs' types resolve."""
    if not TSC.is_file() or shutil.which("node") is None:
        pytest.fail("node and tests/node/node_modules are needed: run `make test` (npm ci)")
    with tempfile.TemporaryDirectory(prefix=".ws-shopfast-", dir=NODE_DIR) as tmp:
        root = Path(tmp)
        shutil.copytree(built / "typescript", root / "analytics")
        (root / "package.json").write_text('{"type": "module"}\n', encoding="utf-8")
        for name, source in (("good", TS_GOOD), ("bad", TS_BAD)):
            (root / f"{name}.ts").write_text(source, encoding="utf-8")
            config = {**TSCONFIG, "files": [f"{name}.ts"]}
            (root / f"tsconfig.{name}.json").write_text(json.dumps(config), encoding="utf-8")
        yield root


@pytest.mark.slow
def test_tsc_strict_on_typescript_package(ts_workspace: Path) -> None:
    """The package builds with `tsc --strict` (as `npm run build` does), and so does its usage."""
    done = tsc(ts_workspace / "analytics", "-p", "tsconfig.json", "--strict")
    assert done.returncode == 0, done.stdout + done.stderr
    assert (ts_workspace / "analytics" / "dist" / "index.js").is_file()
    done = tsc(ts_workspace, "-p", "tsconfig.good.json")
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.slow
def test_tsc_rejects_shopfast_mistakes(ts_workspace: Path) -> None:
    done = tsc(ts_workspace, "-p", "tsconfig.bad.json")
    errors = {int(n) for n in re.findall(r"^bad\.ts\((\d+),\d+\): error", done.stdout, re.M)}
    assert errors == marked_lines(TS_BAD, "// E "), done.stdout


# --- synth, audit ------------------------------------------------------------------------------


@pytest.mark.slow
def test_synth_writes_shopfast_events(
    rows: list[dict[str, Any]], shopfast: Plan, work: Path
) -> None:
    events = {r["event"] for r in rows}
    plan_events = set(shopfast.events)
    assert plan_events <= events, f"never sent: {sorted(plan_events - events)}"
    assert {e for e in events if not e.startswith("$")} <= plan_events
    layers = set(shopfast.layers)
    for row in rows:
        if row["event"].startswith("$"):
            continue
        props = row["properties"]
        # the envelope fields under ShopFast's own names, never the default ones
        assert props.get("emitter") in layers, row
        assert props.get("env") in ("production", "staging"), row
        assert "source" not in props and "environment" not in props, row
        assert row["distinct_id"].startswith(("dev_", "cus_")), row
    assert (work / "truth.jsonl").stat().st_size > 0


@pytest.mark.slow
def test_audit_of_synth_is_clean(audit_json: dict[str, Any], shopfast: Plan) -> None:
    assert audit_json["rows_total"] > USERS
    assert audit_json["rows_unparseable"] == 0
    assert audit_json["findings"] == [], audit_json["findings"][:5]
    assert audit_json["summary"] == {}
    assert set(shopfast.events) <= set(audit_json["events"])


# --- rates, fit, simulate ----------------------------------------------------------------------


def _reference_counts(rows: list[dict[str, Any]], shopfast: Plan) -> list[int]:
    """Persons reaching each chain state, by the plain-Python reading of the definition."""
    tuples = [
        (
            r.get("uuid", ""),
            r["event"],
            r["distinct_id"],
            datetime.fromisoformat(r["timestamp"].replace("Z", "+00:00")),
            r.get("person_id"),
            json.dumps(r["properties"]),
        )
        for r in rows
    ]
    return reached_counts(tuples, [s.event or "" for s in shopfast.chain])


@pytest.mark.slow
def test_rates_match_the_definition_and_the_plan(
    rates_json: dict[str, Any], rows: list[dict[str, Any]], shopfast: Plan
) -> None:
    transitions = rates_json["transitions"]
    counts = _reference_counts(rows, shopfast)
    assert counts[0] >= USERS * 0.9  # almost everyone opens the app
    for k in range(1, len(CHAIN_IDS)):
        name = f"{CHAIN_IDS[k]}|{CHAIN_IDS[k - 1]}"
        got = transitions[name]
        assert (got["numerator"], got["denominator"]) == (counts[k], counts[k - 1]), name
        assert got["rate"] == pytest.approx(counts[k] / counts[k - 1])
        assert got["ci_low"] <= got["rate"] <= got["ci_high"]
        # synth draws the plan's default rates: the measured rate is near it
        default = shopfast.transition(CHAIN_IDS[k], CHAIN_IDS[k - 1]).rate  # type: ignore[union-attr]
        se = math.sqrt(default * (1 - default) / counts[k - 1])
        assert abs(got["rate"] - default) < 4 * se + 0.01, (name, got["rate"], default)
    assert "returned|order" in transitions
    assert_about_shopfast(json.dumps(rates_json), "rates --format json")


@pytest.mark.slow
def test_rates_table_names_shopfast_steps(work: Path, export: Path) -> None:
    done = trackplan("rates", "--plan", SHOPFAST, export, cwd=work)
    assert "view|open" in done.stdout or "Viewed product" in done.stdout
    assert_about_shopfast(done.stdout, "rates table")


@pytest.mark.slow
def test_fit_learns_every_chain_rate(fitted: Path, rates_json: dict[str, Any]) -> None:
    config = json.loads(fitted.read_text(encoding="utf-8"))
    assert config["format"] == "trackplan-simulation/2"
    assert config["plan"]["name"] == "ShopFast"
    for k in range(1, len(CHAIN_IDS)):
        name = f"{CHAIN_IDS[k]}|{CHAIN_IDS[k - 1]}"
        t, measured = config["transitions"][name], rates_json["transitions"][name]
        n, x = measured["denominator"], measured["numerator"]
        assert t["source"] == "fit", name
        assert (t["alpha"], t["beta"]) == (x + 0.5, n - x + 0.5), name
        assert t["rate"] == pytest.approx((x + 0.5) / (n + 1)), name
    assert config["entry"]["rate"] == 0.03 and config["entry"]["assumption"] is True
    assert set(config["hazard"]["covariates"]) == {"declined_payment", "small_basket"}
    assert_about_shopfast(json.dumps(config), "fitted config")


def _expected(config: dict[str, Any], impressions: int) -> dict[str, float]:
    """The forecast's exact expectation, from the config alone (rates' posterior means)."""
    rate = {name: t["rate"] for name, t in config["transitions"].items()}
    reach = {"open": impressions * config["entry"]["rate"]}
    for k in range(1, len(CHAIN_IDS)):
        reach[CHAIN_IDS[k]] = reach[CHAIN_IDS[k - 1]] * rate[f"{CHAIN_IDS[k]}|{CHAIN_IDS[k - 1]}"]
    reach["returned"] = reach["order"] * rate["returned|order"]
    hazard = config["hazard"]
    covariates = list(hazard["covariates"].values())
    p_lapse = 0.0
    for cell in product((False, True), repeat=len(covariates)):
        weight, extra = 1.0, 0.0
        for holds, c in zip(cell, covariates, strict=True):
            weight *= c["share"] if holds else 1 - c["share"]
            extra += c["extra"] if holds else 0.0
        p_lapse += weight * min(max(hazard["base"] + extra, 0.0), hazard["max"])
    reach["lapsed"] = reach["order"] * p_lapse
    states = {"opens": "open", "carts": "cart", "orders": "order"}
    states |= {"returned_30d": "returned", "lapsed_45d": "lapsed"}
    return {outcome: reach[state] for outcome, state in states.items()}


@pytest.mark.slow
def test_simulate_with_fitted_config(work: Path, fitted: Path) -> None:
    done = trackplan(
        "simulate",
        "--plan",
        SHOPFAST,
        "--config",
        fitted,
        "--impressions",
        str(IMPRESSIONS),
        "--runs",
        "2000",
        "--seed",
        "1",
        "--sweep",
        "--format",
        "json",
        cwd=work,
    )
    result = json.loads(done.stdout)
    mean = result["mean"]
    assert set(mean) == set(OUTCOMES)
    expected = _expected(json.loads(fitted.read_text(encoding="utf-8")), IMPRESSIONS)
    for outcome, value in expected.items():
        assert mean[outcome] == pytest.approx(value, rel=0.03), outcome
    assert mean["opens"] >= mean["carts"] >= mean["orders"] >= mean["returned_30d"]
    assert 0 <= mean["lapsed_45d"] <= mean["orders"]
    assert result["sweep"], "the lever sweep ranks at least one lever"
    assert_about_shopfast(done.stdout, "simulate --format json")


@pytest.mark.slow
def test_simulate_table_from_plan_defaults(work: Path) -> None:
    done = trackplan("simulate", "--plan", SHOPFAST, "--impressions", "100000", cwd=work)
    for title in ("App opens", "Orders"):
        assert title in done.stdout or title.lower().replace(" ", "_") in done.stdout
    assert_about_shopfast(done.stdout, "simulate table")


# --- report, docs, preview ---------------------------------------------------------------------


@pytest.mark.slow
def test_report_is_about_shopfast(work: Path, export: Path) -> None:
    out = work / "report.html"
    trackplan(
        "report",
        "--plan",
        SHOPFAST,
        export,
        "-o",
        out,
        "--impressions",
        str(IMPRESSIONS),
        "--runs",
        "500",
        "--seed",
        "1",
        cwd=work,
    )
    html = out.read_text(encoding="utf-8")
    text = visible_text(html)
    assert "ShopFast" in text
    for name in CHAIN_NAMES:
        assert name in text, name
    for title in OUTCOMES.values():
        assert title in text, title
    assert_about_shopfast(text, "report.html")


@pytest.mark.slow
def test_docs_with_audit_health(work: Path, audit_json: dict[str, Any], shopfast: Plan) -> None:
    site = work / "site"
    trackplan("docs", "--plan", SHOPFAST, "--audit", work / "audit.json", "--out", site, cwd=work)
    home = visible_text((site / "index.html").read_text(encoding="utf-8"))
    assert "ShopFast" in home
    for name in CHAIN_NAMES:
        assert name in home, name
    for event in shopfast.events:
        assert (site / "events" / f"{event}.html").is_file(), event
    for page in sorted(site.rglob("*.html")):
        assert_about_shopfast(visible_text(page.read_text(encoding="utf-8")), str(page))


@pytest.mark.slow
def test_preview(work: Path, built: Path) -> None:
    done = trackplan("preview", "--plan", SHOPFAST, "--generated", built, cwd=work)
    assert_about_shopfast(done.stdout, "preview", ids=False)
    done = trackplan("preview", "order_placed", "--plan", SHOPFAST, "--generated", built, cwd=work)
    assert "order_placed" in done.stdout
    assert re.search(r"emitter\W+server", done.stdout), done.stdout
    assert re.search(r"env\W+production", done.stdout), done.stdout
    assert_about_shopfast(done.stdout, "preview order_placed", ids=False)
    trackplan("preview", "app_opend", "--plan", SHOPFAST, "--generated", built, cwd=work, expect=2)


# --- the README's quickstart for a new plan, exactly as written --------------------------------


def readme_quickstart() -> list[list[str]]:
    """The commands of the first ```sh block under "## Your own plan" in README.md."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Your own plan\n", 1)
    assert len(section) == 2, 'README.md has no "## Your own plan" section'
    block = re.search(r"```sh\n(.*?)```", section[1], re.S)
    assert block is not None, 'no ```sh block under "## Your own plan"'
    return [shlex.split(line, comments=True) for line in block[1].splitlines() if line.strip()]


def test_readme_quickstart_is_short() -> None:
    commands = readme_quickstart()
    assert all(c and c[0] == "trackplan" for c in commands), commands
    assert commands[0][1] == "init"
    assert len(commands) < 10
    used = {c[1] for c in commands}
    assert {"init", "lint", "build", "synth", "audit", "report"} <= used


@pytest.mark.slow
def test_readme_quickstart_runs(tmp_path: Path) -> None:
    """A new user's path, from `trackplan init` to an audit and a report, in a new directory."""
    for command in readme_quickstart():
        trackplan(*command[1:], cwd=tmp_path)
    reports = sorted(tmp_path.glob("*.html"))
    assert reports, "the quickstart writes an HTML report"
    text = visible_text(reports[-1].read_text(encoding="utf-8"))
    plan = load_plan(tmp_path / "tracking_plan").plan
    assert plan.name in text
    for state in plan.chain:
        assert state.name in text, state.name
    # the starter has a purchase_completed of its own: only the shipped plan's name may not leak
    assert_about_shopfast(text, "the quickstart's report", names=("blanklogo",))

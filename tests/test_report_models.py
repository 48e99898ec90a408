"""`trackplan report --model`: one section per trained model, on a synth export of ShopFast (the
second example plan). Its metrics and importances are the model file's; the predicted value by
acquisition attribute is recomputed here from the scores CSV and the raw export (each person's
first `os`, read in plain Python) with scipy's t interval; the scores file holds `trackplan
score`'s rows, best first; a model file that does not fit the plan exits 2 without a traceback;
the page opens in headless Chromium without errors."""

from __future__ import annotations

import csv
import json
import math
import shutil
import statistics
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from models_support import SHIPPED, SHOPFAST, synth_export

from compiler.cli.main import cli
from tests.test_report_pipeline import Page, parse

pytest.importorskip("sklearn")
stats = pytest.importorskip("scipy.stats")
MODELS = ("order_propensity", "revenue_30d")


def run(*args: str | Path, expect: int = 0) -> str:
    result = CliRunner().invoke(cli, [str(a) for a in args])
    assert result.exit_code == expect, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    return result.output


def with_first_os(plan_dir: Path) -> None:
    """ShopFast's revenue model, also given the person's first `os` read from any event: an
    acquisition attribute with few values, so the by-attribute table has named rows."""
    path = plan_dir / "models.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    section = data["models"]
    section["features"]["first_os"] = {
        "kind": "first_value",
        "property": "os",
        "description": "Operating system of the first event that has one.",
    }
    section["models"]["revenue_30d"]["features"].append("first_os")
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("report-models")
    plan_dir = tmp / "plan"
    shutil.copytree(SHOPFAST, plan_dir)
    with_first_os(plan_dir)
    export = synth_export(plan_dir, tmp / "events.jsonl", users=4500, seed=5)
    meta, files = {}, {}
    for name in MODELS:
        files[name] = tmp / f"{name}.json"
        run("train", export, "--plan", plan_dir, "--model", name, "-o", files[name])
        meta[name] = json.loads(files[name].read_text(encoding="utf-8"))
    html = tmp / "out" / "report.html"
    html.parent.mkdir()
    scores = tmp / "scores"
    args = ["--model", files["order_propensity"], "--model", files["revenue_30d"]]
    run(
        "report",
        export,
        "--plan",
        plan_dir,
        "-o",
        html,
        "--runs",
        "200",
        *args,
        "--scores-dir",
        scores,
    )
    return {
        "plan": plan_dir,
        "export": export,
        "meta": meta,
        "files": files,
        "html": html,
        "scores": scores,
        "page": parse(html.read_text(encoding="utf-8")),
    }


def table(page: Page, section: str, first_head: str) -> list[list[str]]:
    found = [t for t in page.tables[section] if t and t[0][0] == first_head]
    assert len(found) == 1, (section, first_head, page.tables[section])
    return found[0]


def test_each_model_has_a_section_in_the_models_group(made: dict[str, Any]) -> None:
    page, html = made["page"], made["html"].read_text(encoding="utf-8")
    assert "Models: who buys, who churns, what they are worth" in html
    for name in MODELS:
        assert f"model-{name}" not in page.missing, page.missing[f"model-{name}"]
        assert made["meta"][name]["title"] in page.all_text(f"model-{name}")
    assert html.index('id="model-revenue_30d"') < html.index('id="audit"')


@pytest.mark.parametrize("name", MODELS)
def test_metrics_are_the_model_files_beside_the_baseline(made: dict[str, Any], name: str) -> None:
    meta = made["meta"][name]
    rows = table(made["page"], f"model-{name}", "holdout metric")[1:]
    keys = {
        "ROC AUC": "roc_auc",
        "PR AUC": "pr_auc",
        "Brier score": "brier",
        "log loss": "log_loss",
        "calibration error": "ece",
        "MAE": "mae",
        "RMSE": "rmse",
        "R2": "r2",
    }
    shown = {row[0]: row for row in rows}
    expected = (
        ("mae", "rmse", "r2")
        if meta["kind"] == "regression"
        else ("roc_auc", "pr_auc", "brier", "log_loss", "ece")
    )
    assert sorted(keys[t] for t in shown if t in keys) == sorted(expected)
    for title, row in shown.items():
        if title not in keys:
            continue
        model, base = (meta["metrics"][w][keys[title]] for w in ("model", "baseline"))
        assert float(row[1].replace(",", "")) == pytest.approx(model, abs=5e-5)
        assert float(row[2].replace(",", "")) == pytest.approx(base, abs=5e-5)
        lower = keys[title] in ("brier", "log_loss", "ece", "mae", "rmse")
        winner = "tie" if model == base else ("model" if (model < base) == lower else "baseline")
        assert row[3] == winner
    if meta["kind"] == "classification":
        low, high = shown["ROC AUC 95% interval (bootstrap)"][1].split(" – ")
        m = meta["metrics"]["model"]
        assert (float(low), float(high)) == pytest.approx(
            (m["roc_auc_low"], m["roc_auc_high"]), abs=5e-5
        )


@pytest.mark.parametrize("name", MODELS)
def test_top_features_and_directions_are_the_model_files(made: dict[str, Any], name: str) -> None:
    meta = made["meta"][name]
    rows = table(made["page"], f"model-{name}", "feature")[1:]
    top = meta["importances"][:10]
    assert [r[0] for r in rows] == [i["feature"] for i in top]
    for row, imp in zip(rows, top, strict=True):
        assert float(row[1]) == pytest.approx(imp["mean"], abs=5e-5)
        assert float(row[2]) == pytest.approx(imp["std"], abs=5e-5)
        words = {"+": "higher value, higher prediction", "-": "higher value, lower prediction"}
        assert row[3] == words.get(imp["direction"], imp["direction"]) or (
            imp["direction"] == "none" and row[3] == "no clear direction"
        )


@pytest.mark.parametrize("name", MODELS)
def test_definitions_and_windows_in_words(made: dict[str, Any], name: str) -> None:
    meta, text = made["meta"][name], made["page"].all_text(f"model-{name}")
    split, definition = meta["split"], meta["definition"]
    assert f"taken up to {split['train_until']}" in text
    assert f"after {split['holdout_after']}" in text
    assert f"a {split['gap_days']}-day gap" in text
    assert (
        f"{split['train_rows']:,} snapshots" in text
        and f"{split['holdout_rows']:,} snapshots" in text
    )
    assert f"within {definition['label']['days']} days" in text or (
        f"in the {definition['label']['days']} days" in text
    )
    snapshot = definition["snapshot"]
    assert f"{snapshot['days']} day(s) after the person's first {snapshot['event']}" in text
    for feature in definition["features"]:
        assert f"{feature['name']}: " in text and feature["description"] in text


def test_reliability_plot_for_the_classifier_only(made: dict[str, Any]) -> None:
    html = made["html"].read_text(encoding="utf-8")
    start, end = html.index('id="model-order_propensity"'), html.index('id="model-revenue_30d"')
    propensity, revenue = html[start:end], html[end : html.index('id="audit"')]
    assert propensity.count("<svg") == 1 and "Reliability on the holdout" in propensity
    assert "mean predicted probability (holdout bin)" in propensity
    assert ">calibrated<" in propensity and ">baseline<" in propensity
    assert "<svg" not in revenue


def first_values(export: Path, prop: str) -> dict[str, list[tuple[str, str]]]:
    """Per person, (timestamp, value) of every event carrying `prop`, in time order."""
    found: dict[str, list[tuple[str, str]]] = defaultdict(list)
    with export.open(encoding="utf-8") as rows:
        for line in rows:
            row = json.loads(line)
            value = (row.get("properties") or {}).get(prop)
            if value is not None:
                found[row["person_id"]].append((row["timestamp"], str(value)))
    return {person: sorted(values) for person, values in found.items()}


def iso(text: str) -> str:
    """Both timestamp spellings ('2026-01-02 03:04:05.123Z', '2026-01-02T03:04:05.123+00:00') as
    one sortable UTC string with microseconds."""
    from datetime import datetime

    clean = text.replace("Z", "+00:00").replace(" ", "T")
    return datetime.fromisoformat(clean).strftime("%Y-%m-%dT%H:%M:%S.%f")


def pooled(groups: dict[str, list[float]]) -> dict[str, list[float]]:
    """The report's rule: values held by 5+ persons (the 10 largest) alone, the rest pooled."""
    named = sorted((v for v in groups if v != "(none)"), key=lambda v: (-len(groups[v]), v))
    shown = [v for v in named if len(groups[v]) >= 5][:10]
    out = {v: groups[v] for v in shown}
    rest = [v for v in named if v not in shown]
    if rest:
        out[f"other ({len(rest)} values)"] = [x for v in rest for x in groups[v]]
    if "(none)" in groups:
        out["(none)"] = groups["(none)"]
    return out


@pytest.mark.parametrize(("feature", "prop"), [("first_os", "os"), ("campaign", "utm_campaign")])
def test_value_by_acquisition_attribute_matches_a_recomputation(
    made: dict[str, Any], feature: str, prop: str
) -> None:
    with (made["scores"] / "revenue_30d.scores.csv").open(encoding="utf-8") as f:
        scores = list(csv.DictReader(f))
    assert scores and list(scores[0]) == ["person_id", "predicted_value", "snapshot_at"]
    touches = first_values(made["export"], prop)
    groups: dict[str, list[float]] = defaultdict(list)
    for row in scores:
        at = iso(row["snapshot_at"])
        seen = [v for ts, v in touches.get(row["person_id"], []) if iso(ts) <= at]
        groups[seen[0] if seen else "(none)"].append(float(row["predicted_value"]))
    expected_groups = pooled(groups)
    rows = table(made["page"], "model-revenue_30d", feature)[1:]
    assert [r[0] for r in rows] == list(expected_groups) and len(rows) >= 2
    for level, persons, mean, interval in rows:
        values = expected_groups[level]
        assert int(persons.replace(",", "")) == len(values)
        expected = statistics.fmean(values)
        sem = statistics.stdev(values) / math.sqrt(len(values))
        low, high = stats.t.interval(0.95, len(values) - 1, loc=expected, scale=sem)
        assert float(mean.replace(",", "")) == pytest.approx(expected, abs=0.006)
        shown_low, shown_high = (float(x.replace(",", "")) for x in interval.split(" – "))
        assert (shown_low, shown_high) == pytest.approx((low, high), abs=0.006)
    assert "95% Student t intervals" in made["page"].all_text("model-revenue_30d")


def test_scores_file_is_the_score_commands_rows_best_first(
    made: dict[str, Any], tmp_path: Path
) -> None:
    for name in MODELS:
        written = made["scores"] / f"{name}.scores.csv"
        theirs = tmp_path / f"{name}.csv"
        run(
            "score",
            made["export"],
            "--plan",
            made["plan"],
            "--model",
            made["files"][name],
            "-o",
            theirs,
        )
        mine = list(csv.reader(written.open(encoding="utf-8")))
        score = list(csv.reader(theirs.open(encoding="utf-8")))
        assert mine[0] == score[0] and sorted(mine[1:]) == sorted(score[1:])
        values = [float(r[1]) for r in mine[1:]]
        assert values == sorted(values, reverse=True)
        relative = Path("..") / "scores" / f"{name}.scores.csv"
        text = made["page"].all_text(f"model-{name}")
        assert (
            f"The persons most worth reaching: {relative.as_posix()} ({len(values):,} persons"
            in text
        )
        assert "<td>" + mine[1][0] not in made["html"].read_text(encoding="utf-8")


def test_a_classifier_says_in_one_line_why_it_has_no_value_table(made: dict[str, Any]) -> None:
    text = made["page"].all_text("model-order_propensity")
    assert (
        "Value by acquisition attribute: model 'order_propensity' predicts a probability, not "
        "value (a regression model does)." in text
    )
    assert "95% interval (t)" not in text


def test_model_files_that_do_not_fit_exit_2(made: dict[str, Any], tmp_path: Path) -> None:
    export, html = made["export"], tmp_path / "r.html"
    revenue, propensity = made["files"]["revenue_30d"], made["files"]["order_propensity"]
    changed = run("report", export, "--plan", SHOPFAST, "-o", html, "--model", revenue, expect=2)
    assert "changed since it was trained" in changed and str(revenue) in changed
    other = run("report", export, "--plan", SHIPPED, "-o", html, "--model", propensity, expect=2)
    assert "'order_propensity' is not declared in the plan's models section" in other
    broken = tmp_path / "broken.json"
    broken.write_text("{ not json", encoding="utf-8")
    bad = run("report", export, "--plan", made["plan"], "-o", html, "--model", broken, expect=2)
    assert f"{broken}:1:3: not a model file" in bad
    twice = run(
        "report",
        export,
        "--plan",
        made["plan"],
        "-o",
        html,
        "--model",
        propensity,
        "--model",
        propensity,
        expect=2,
    )
    assert "given twice" in twice
    assert not html.exists()


def test_the_page_opens_in_chromium_without_errors(made: dict[str, Any], page: Any) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    page.goto(made["html"].as_uri())
    for name in MODELS:
        sync_api.expect(page.locator(f"section#model-{name}")).to_be_visible()
    chart = page.locator("section#model-order_propensity figure.chart svg").first
    box = chart.bounding_box()
    assert box and box["width"] > 200 and box["height"] > 100, box
    link = page.locator("nav a[href='#model-revenue_30d']")
    sync_api.expect(link).to_have_count(1)


def test_group_means_on_a_hand_computed_case() -> None:
    from compiler.report.model_scores import group_means

    levels = ["a"] * 5 + ["b", None, None]
    values = [1.0, 2.0, 3.0, 4.0, 5.0, 10.0, 0.0, 2.0]
    a, b, none = group_means("f", levels, values)
    # a: mean 3, s = sqrt(2.5), se = sqrt(0.5); t(0.975, 4) = 2.7764451
    assert (a.level, a.persons, a.mean) == ("a", 5, 3.0)
    assert (a.low, a.high) == pytest.approx((3 - 1.9632432, 3 + 1.9632432), abs=1e-6)
    # b: one person, below the 5 a value needs to stand alone: pooled, no interval
    assert (b.level, b.persons, b.mean, b.low, b.high) == ("other (1 values)", 1, 10.0, None, None)
    # none: mean 1, s = sqrt(2), se = 1; t(0.975, 1) = 12.7062047
    assert (none.level, none.persons, none.mean) == ("(none)", 2, 1.0)
    assert (none.low, none.high) == pytest.approx((1 - 12.7062047, 1 + 12.7062047), abs=1e-6)


@pytest.fixture(scope="module")
def hazard(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The shipped plan's churn hazard (an `every` snapshot, hazard ratios, no calibration)."""
    tmp = tmp_path_factory.mktemp("report-hazard")
    export = synth_export(SHIPPED, tmp / "events.jsonl", users=3000, seed=5)
    model = tmp / "hazard.json"
    run("train", export, "--plan", SHIPPED, "--model", "churn_hazard", "-o", model)
    html = tmp / "report.html"
    run("report", export, "--plan", SHIPPED, "-o", html, "--runs", "200", "--model", model)
    meta = json.loads(model.read_text(encoding="utf-8"))
    return {"meta": meta, "html": html, "page": parse(html.read_text(encoding="utf-8"))}


def test_the_shipped_plans_hazard_shows_its_hazard_ratios(hazard: dict[str, Any]) -> None:
    meta, page = hazard["meta"], hazard["page"]
    rows = table(page, "model-churn_hazard", "covariate")[1:]
    fitted = {c["name"]: c for c in meta["hazard"]["covariates"]}
    assert [r[0] for r in rows] == [i["feature"] for i in meta["importances"]]
    for name, ratio, interval, direction in rows:
        c = fitted[name]
        assert float(ratio) == pytest.approx(c["hazard_ratio"], abs=5e-5)
        low, high = (float(x) for x in interval.split(" – "))
        assert (low, high) == pytest.approx((c["hr_low"], c["hr_high"]), abs=5e-5)
        assert direction == ("raises the hazard" if c["coef"] > 0 else "lowers the hazard")
    text = page.all_text("model-churn_hazard")
    snap = meta["definition"]["snapshot"]
    assert f"at {snap['count']} snapshots {snap['days']} days apart" in text
    assert "Reliability on the holdout" in hazard["html"].read_text(encoding="utf-8")
    scores = hazard["html"].parent / "churn_hazard.scores.csv"
    assert f"The persons most worth reaching: {scores.name} (" in text and scores.exists()


def test_without_models_the_page_keeps_its_groups(plan: Any, made: dict[str, Any]) -> None:
    from compiler.report import MODELS_HEADING, ReportInputs, render, sections
    from compiler.report.model_inputs import ModelInputs

    plain = ReportInputs(plan, ("x.csv",))
    headings = [heading for heading, _ in sections(plain)]
    assert MODELS_HEADING not in headings and "model-" not in render(plain)
    found = ModelInputs(
        made["meta"]["revenue_30d"], "s.csv", 0, None, skipped={"by_acquisition": "none"}
    )
    with_model = [
        heading for heading, _ in sections(ReportInputs(plan, ("x.csv",), models=(found,)))
    ]
    assert with_model == [*headings[:3], MODELS_HEADING, *headings[3:]]

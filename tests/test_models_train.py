"""`trackplan train` and `trackplan score` on synth exports of both plans. Every holdout metric is
recomputed here by hand (AUC by Mann-Whitney, Brier, log loss, MAE, RMSE, R2) from the model file's
own predictions; the split keeps a label horizon between training and holdout; too little data,
an altered model file, other libraries and a changed plan are refused with exit 2."""

from __future__ import annotations

import csv
import json
import math
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner
from models_support import SHIPPED, SHOPFAST, duck, synth_export

from compiler.cli.main import cli
from compiler.models import modelfile
from compiler.models.dataset import Encoder, load_snapshots
from compiler.models.train import predict, time_split
from compiler.plan import load_plan

pytest.importorskip("sklearn")
pytestmark = pytest.mark.slow  # synth exports of 13,000 people and four trainings, once


def run(*args: str | Path, expect: int = 0) -> str:
    result = CliRunner().invoke(cli, [str(a) for a in args])
    assert result.exit_code == expect, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.output


@pytest.fixture(scope="module")
def exports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("exports")
    return {
        "shipped": synth_export(SHIPPED, tmp / "shipped.jsonl", users=7000, seed=5),
        "shopfast": synth_export(SHOPFAST, tmp / "shopfast.jsonl", users=6000, seed=5),
        "small": synth_export(SHOPFAST, tmp / "small.jsonl", users=300, seed=5),
    }


MODELS = {
    "churn_propensity": (SHIPPED, "shipped"),
    "order_propensity": (SHOPFAST, "shopfast"),
    "revenue_30d": (SHOPFAST, "shopfast"),
    "churn_hazard": (SHIPPED, "shipped"),
}


@pytest.fixture(scope="module")
def trained(
    exports: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, tuple[Path, dict[str, Any], str]]:
    """Each model trained once through the CLI: (model file, its --format json, table output)."""
    tmp = tmp_path_factory.mktemp("models")
    out = {}
    for model, (plan_dir, export) in MODELS.items():
        path = tmp / f"{model}.json"
        text = run(
            "train",
            exports[export],
            "--plan",
            plan_dir,
            "--model",
            model,
            "-o",
            path,
            "--format",
            "json",
        )
        out[model] = (path, json.loads(text), "")
    return out


def mann_whitney_auc(y: np.ndarray, p: np.ndarray) -> float:
    """P(a random positive scores above a random negative), ties counting one half."""
    pos, neg = p[y == 1], p[y == 0]
    wins = sum(float(np.sum(a > neg)) + 0.5 * float(np.sum(a == neg)) for a in pos)
    return wins / (len(pos) * len(neg))


def holdout(
    plan_dir: Path, export: Path, model_file: Path
) -> tuple[Any, np.ndarray, dict[str, Any]]:
    """The holdout labels and the model file's predictions for them, recomputed from scratch."""
    plan = load_plan(plan_dir).plan
    model = modelfile.load(model_file)
    spec = plan.models.models[model.name]  # type: ignore[union-attr]
    snaps = load_snapshots(duck(export), plan, spec)
    split = time_split(snaps, spec.label.days)
    rows = snaps.take(split.holdout)
    X = Encoder.from_json(model.meta["encoder"]).matrix(rows)
    regression = spec.kind == "regression"
    preds = {k: predict(model.estimators[k], X, regression) for k in ("model", "baseline")}
    train_at = snaps.at[split.train]
    # the gap: every training label window ends before the first holdout snapshot
    gap = np.timedelta64(spec.label.days, "D")
    assert train_at.max() + gap <= snaps.at[split.holdout].min()
    assert len(split.train) == model.meta["split"]["train_rows"]
    return rows.label, preds, model.meta


@pytest.mark.parametrize("model", ["churn_propensity", "order_propensity"])
def test_classification_metrics_match_a_hand_computation(
    model: str, exports: dict[str, Path], trained: dict[str, Any]
) -> None:
    plan_dir, export = MODELS[model]
    out, data, _ = trained[model]
    y, preds, meta = holdout(plan_dir, exports[export], out)
    assert meta["model"] == model and data["metrics"] == meta["metrics"]
    for which in ("model", "baseline"):
        p, m = np.clip(preds[which], 1e-6, 1 - 1e-6), data["metrics"][which]
        assert m["roc_auc"] == pytest.approx(mann_whitney_auc(y, p), abs=1e-9)
        assert m["brier"] == pytest.approx(float(np.mean((p - y) ** 2)), abs=1e-12)
        hand = -float(np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))
        assert m["log_loss"] == pytest.approx(hand, rel=1e-9)
        assert m["prevalence"] == pytest.approx(float(y.mean()))
        assert m["roc_auc_low"] <= m["roc_auc"] <= m["roc_auc_high"]
        assert sum(b["count"] for b in m["calibration"]) == len(y)
    assert 0.5 < data["metrics"]["model"]["roc_auc"] <= 1
    assert {i["feature"] for i in data["importances"]} == set(data["encoder"]["features"])
    assert all(i["direction"] for i in data["importances"])
    assert data["plan"]["fingerprint"] and data["libraries"]["scikit-learn"]


def test_regression_metrics_match_a_hand_computation(
    exports: dict[str, Path], trained: dict[str, Any], tmp_path: Path
) -> None:
    out = trained["revenue_30d"][0]
    y, preds, meta = holdout(SHOPFAST, exports["shopfast"], out)
    for which in ("model", "baseline"):
        e, m = preds[which] - y, meta["metrics"][which]
        assert m["mae"] == pytest.approx(float(np.mean(np.abs(e))), rel=1e-9)
        assert m["rmse"] == pytest.approx(math.sqrt(float(np.mean(e**2))), rel=1e-9)
        r2 = 1 - float(np.sum(e**2)) / float(np.sum((y - y.mean()) ** 2))
        assert m["r2"] == pytest.approx(r2, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize(
    ("plan_dir", "export", "model", "column"),
    [
        (SHIPPED, "shipped", "churn_propensity", "probability"),
        (SHOPFAST, "shopfast", "revenue_30d", "predicted_value"),
    ],
    ids=["shipped", "shopfast"],
)
def test_score_writes_one_row_per_person(
    plan_dir: Path,
    export: str,
    model: str,
    column: str,
    exports: dict[str, Path],
    trained: dict[str, Any],
    tmp_path: Path,
) -> None:
    out, scores = trained[model][0], tmp_path / "scores.csv"
    run("score", exports[export], "--plan", plan_dir, "--model", out, "-o", scores)
    with scores.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["person_id", column, "snapshot_at"]
    plan = load_plan(plan_dir).plan
    spec = plan.models.models[model]  # type: ignore[union-attr]
    snaps = load_snapshots(duck(exports[export]), plan, spec)
    assert [r["person_id"] for r in rows] == list(snaps.persons)  # every person, once
    assert len(set(snaps.persons)) == len(rows) > 0
    assert len(rows) >= int(snaps.observed.sum())  # persons whose label is yet to come too
    values = np.array([float(r[column]) for r in rows])
    if column == "probability":
        assert ((values >= 0) & (values <= 1)).all()
    expected = predict(
        modelfile.load(out).estimators["model"],
        Encoder.from_json(modelfile.load(out).meta["encoder"]).matrix(snaps),
        column != "probability",
    )
    assert np.allclose(values, expected, rtol=1e-5, atol=1e-9)


def test_refuses_below_the_data_minimum(exports: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "model.json"
    text = run(
        "train",
        exports["small"],
        "--plan",
        SHOPFAST,
        "--model",
        "order_propensity",
        "-o",
        out,
        expect=2,
    )
    assert "needs at least 30 (min_positives)" in text and not out.exists()
    text = run(
        "train",
        exports["small"],
        "--plan",
        SHOPFAST,
        "--model",
        "order_propensty",
        "-o",
        out,
        expect=2,
    )
    assert "Did you mean 'order_propensity'" in text


def _edit(path: Path, change: Any) -> None:
    document = json.loads(path.read_text())
    change(document)
    path.write_text(json.dumps(document))


def test_model_file_checks(
    exports: dict[str, Path], trained: dict[str, Any], tmp_path: Path
) -> None:
    good = trained["revenue_30d"][0]

    def refused(model: Path, words: str, plan_dir: Path = SHOPFAST) -> None:
        text = run(
            "score",
            exports["small"],
            "--plan",
            plan_dir,
            "--model",
            model,
            "-o",
            tmp_path / "s.csv",
            expect=2,
        )
        assert words in text, text

    bad = tmp_path / "bad.json"
    shutil.copy(good, bad)
    _edit(bad, lambda d: d["libraries"].update({"scikit-learn": "0.24.2"}))
    refused(bad, "trained with scikit-learn 0.24.2")
    shutil.copy(good, bad)
    _edit(bad, lambda d: d["estimators"].update({"sha256": "0" * 64}))
    refused(bad, "do not match their checksum")
    bad.write_text('{"format": "trackplan-model/1",\n "x": }')
    refused(bad, "bad.json:2:7: not a model file")
    plan_dir = tmp_path / "plan"
    shutil.copytree(SHOPFAST, plan_dir)
    models = plan_dir / "models.yaml"
    models.write_text(models.read_text().replace("days: 30\n", "days: 31\n"))
    refused(good, "changed since it was trained", plan_dir)
    header = plan_dir / "plan.yaml"
    header.write_text(header.read_text().replace("version: ", "version: 9", 1))
    refused(good, "retrain the model", plan_dir)
    assert not (tmp_path / "s.csv").exists()


def test_hazard_person_periods_and_metrics(
    exports: dict[str, Path], trained: dict[str, Any]
) -> None:
    """Person-periods rebuilt here by hand: a person's k-th snapshot is period k, only periods
    whose window is over, none after the first churn; holdout metrics recomputed by hand."""
    out, data, _ = trained["churn_hazard"]
    plan = load_plan(SHIPPED).plan
    spec = plan.models.models["churn_hazard"]  # type: ignore[union-attr]
    snaps = load_snapshots(duck(exports["shipped"]), plan, spec)
    seen: dict[str, int] = {}
    churned: set[str] = set()
    kept, period = [], []
    for i, who in enumerate(snaps.persons):
        seen[who] = seen.get(who, 0) + 1
        if who in churned or not snaps.observed[i]:
            continue
        kept.append(i)
        period.append(seen[who])
        if snaps.label[i] == 1:
            churned.add(who)
    assert max(period) > 1 and max(seen.values()) <= spec.snapshot.count
    rows = snaps.take(np.array(kept))
    split = time_split(rows, spec.label.days)
    hold = rows.take(split.holdout)
    model = modelfile.load(out)
    X = Encoder.from_json(model.meta["encoder"]).matrix(hold)
    X = np.column_stack([X, np.array(period)[split.holdout]])
    p = np.clip(predict(model.estimators["model"], X, False), 1e-6, 1 - 1e-6)
    m = data["metrics"]["model"]
    assert m["roc_auc"] == pytest.approx(mann_whitney_auc(hold.label, p), abs=1e-9)
    assert m["brier"] == pytest.approx(float(np.mean((p - hold.label) ** 2)), abs=1e-12)
    assert data["split"]["train_rows"] == len(split.train)
    for c in data["hazard"]["covariates"]:
        assert c["hr_low"] <= c["hazard_ratio"] <= c["hr_high"]
        assert c["hazard_ratio"] == pytest.approx(math.exp(c["coef"]))
    assert [c["name"] for c in data["hazard"]["covariates"]] == [f.name for f in spec.features]


def test_score_hazard_gives_each_persons_current_period(
    exports: dict[str, Path], trained: dict[str, Any], tmp_path: Path
) -> None:
    scores = tmp_path / "hazard.csv"
    run(
        "score",
        exports["shipped"],
        "--model",
        trained["churn_hazard"][0],
        "-o",
        scores,
        "--plan",
        SHIPPED,
    )
    with scores.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    people = [r["person_id"] for r in rows]
    assert len(people) == len(set(people)) > 100
    assert all(0 <= float(r["probability"]) <= 1 for r in rows)


def test_console_script_end_to_end(
    exports: dict[str, Path], trained: dict[str, Any], tmp_path: Path
) -> None:
    """The real `trackplan` script: score ShopFast's persons, and refuse too little data."""
    from any_plan_support import trackplan

    scores = tmp_path / "orders.csv"
    model = trained["order_propensity"][0]
    done = trackplan(
        "score",
        exports["shopfast"],
        "--plan",
        SHOPFAST,
        "--model",
        model,
        "-o",
        scores,
        cwd=tmp_path,
    )
    assert "scored" in done.stdout and scores.read_text().startswith("person_id,probability,")
    done = trackplan(
        "train",
        exports["small"],
        "--plan",
        SHOPFAST,
        "--model",
        "order_propensity",
        "-o",
        tmp_path / "m.json",
        cwd=tmp_path,
        expect=2,
    )
    assert "min_positives" in done.stderr

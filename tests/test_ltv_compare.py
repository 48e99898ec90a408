"""Issue 14 item 6: `trackplan ltv-compare`, BG/NBD + Gamma-Gamma against the plan's revenue
regression model on one holdout, and the two revenue-model fixes (one currency per label,
predictions never below 0).

Every figure is recomputed here without the code under test: the population, the actual holdout
revenue and the currency from the raw JSONL; MAE, RMSE, bias, Spearman and the top-decile
capture in pure Python from the per-person CSV; the BG/NBD + Gamma-Gamma prediction from Fader,
Hardie and Lee's closed forms over the summary `trackplan clv` writes for the same data.
"""

from __future__ import annotations

import csv
import json
import math
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner
from models_support import SHOPFAST, duck, synth_export
from scipy.special import hyp2f1
from threadpoolctl import threadpool_limits

from compiler.cli.main import cli
from compiler.models.dataset import load_snapshots
from compiler.models.ltv_compare import compare
from compiler.models.ltv_ml import majority_currency
from compiler.models.train import baseline, fit_regressor, predict
from compiler.plan import load_plan

CAL = date(2026, 4, 15)
END = datetime(2026, 4, 15, 23, 59, 59, 999999)
MONEY = {"order_placed": "order_total", "subscription_joined": "fee"}
REFUNDS = {"order_refunded": "refund_amount"}


def run(*args: str | Path, expect: int = 0) -> str:
    result = CliRunner().invoke(cli, [str(a) for a in args])
    assert result.exit_code == expect, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.output


def rows(export: Path) -> list[dict[str, Any]]:
    out = []
    for line in export.read_text(encoding="utf-8").splitlines():
        r = json.loads(line)
        r["ts"] = datetime.fromisoformat(r["timestamp"]).replace(tzinfo=None)
        out.append(r)
    return out


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("ltv")
    export = synth_export(SHOPFAST, tmp / "shopfast.jsonl", users=3000, seed=5)
    out = tmp / "predictions.csv"
    text = run("ltv-compare", export, "--plan", SHOPFAST, "--calibration-end", CAL.isoformat(),
               "--format", "json", "-o", out)  # fmt: skip
    with out.open(encoding="utf-8") as handle:
        table = list(csv.DictReader(handle))
    return {"tmp": tmp, "export": export, "json": json.loads(text), "csv": table}


def _ranks(values: list[float]) -> list[float]:
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return ranks


def _pearson(a: list[float], b: list[float]) -> float:
    ma, mb = sum(a) / len(a), sum(b) / len(b)
    cov = sum((x - ma) * (y - mb) for x, y in zip(a, b, strict=True))
    return cov / math.sqrt(sum((x - ma) ** 2 for x in a) * sum((y - mb) ** 2 for y in b))


def test_metrics_match_a_pure_python_computation(data: dict[str, Any]) -> None:
    table, (h,) = data["csv"], data["json"]["horizons"]
    assert h["days"] == 30 and h["model"] == "revenue_30d" and len(table) == data["json"]["persons"]
    persons = [r["person_id"] for r in table]
    actual = [float(r["actual_30d"]) for r in table]
    for method in ("bgnbd", "ml"):
        pred = [float(r[f"{method}_30d"]) for r in table]
        m, n = h["metrics"][method], len(pred)
        assert m["mae"] == pytest.approx(
            sum(abs(p - a) for p, a in zip(pred, actual, strict=True)) / n
        )
        rmse = math.sqrt(sum((p - a) ** 2 for p, a in zip(pred, actual, strict=True)) / n)
        assert m["rmse"] == pytest.approx(rmse)
        assert m["predicted_total"] == pytest.approx(sum(pred))
        assert m["actual_total"] == pytest.approx(sum(actual))
        assert m["bias_pct"] == pytest.approx((sum(pred) / sum(actual) - 1) * 100)
        assert m["spearman"] == pytest.approx(_pearson(_ranks(pred), _ranks(actual)), abs=1e-9)
        top = sorted(range(n), key=lambda i: (-pred[i], persons[i]))[: math.ceil(n / 10)]
        assert m["top_decile_capture"] == pytest.approx(sum(actual[i] for i in top) / sum(actual))
        assert min(pred) >= 0  # fix 3: no negative revenue from either method


def test_population_actuals_and_currency_match_the_raw_events(data: dict[str, Any]) -> None:
    events = rows(data["export"])
    sold = [r for r in events if r["event"] in MONEY and r["properties"][MONEY[r["event"]]] >= 0]
    currency = Counter(r["properties"]["currency"] for r in sold).most_common(1)[0][0]
    assert data["json"]["currency"] == currency == "EUR"
    assert data["json"]["other_currencies_left_out"]["GBP"] > 0  # mixed: the fix matters here
    population = {
        r["person_id"]
        for r in sold
        if r["properties"]["currency"] == currency and r["ts"].date() <= CAL
    }
    net: dict[str, float] = defaultdict(float)
    gross = 0.0
    for r in events:
        p, day = r["properties"], r["ts"].date()
        if p.get("currency") != currency or not CAL < day <= CAL + timedelta(days=30):
            continue
        if r["event"] in MONEY and r["person_id"] in population:
            net[r["person_id"]] += p[MONEY[r["event"]]]
            gross += p[MONEY[r["event"]]]
        elif r["event"] in REFUNDS:
            net[r["person_id"]] -= p[REFUNDS[r["event"]]]
    table = data["csv"]
    assert {r["person_id"] for r in table} == population
    for r in table:
        assert float(r["actual_30d"]) == pytest.approx(net.get(r["person_id"], 0.0), abs=1e-9)
    (h,) = data["json"]["horizons"]
    assert h["actual_gross_total"] == pytest.approx(gross)
    assert h["actual_total"] == pytest.approx(sum(net[p] for p in population))


def test_bgnbd_prediction_matches_the_closed_forms_on_clvs_summary(data: dict[str, Any]) -> None:
    """FHL 2005 eq. 10 (the plain 2F1, not clv.py's Euler transform) x the Gamma-Gamma
    conditional mean, over the summary and parameters `trackplan clv` gives for the same data."""
    out = data["tmp"] / "clv.csv"
    fitted = json.loads(
        run("clv", data["export"], "--exports", "--plan", SHOPFAST, "--calibration-end",
            CAL.isoformat(), "--currency", "EUR", "--horizon-days", "30", "--format", "json",
            "-o", out)  # fmt: skip
    )
    assert fitted["bgnbd"]["r"] == pytest.approx(data["json"]["bgnbd"]["r"])
    r_, alpha, a, b = (fitted["bgnbd"][k] for k in ("r", "alpha", "a", "b"))
    p, q, g = (fitted["gamma_gamma"][k] for k in ("p", "q", "gamma"))
    with out.open(encoding="utf-8") as handle:
        summary = {row["customer"]: row for row in csv.DictReader(handle)}
    t = 30 / 7
    assert set(summary) == {r["person_id"] for r in data["csv"]}
    xs = [float(s["x"]) for s in summary.values()]
    observed = sum(float(s["zbar"]) * x for s, x in zip(summary.values(), xs, strict=True)) / sum(
        xs
    )
    fallback = 0
    for row in data["csv"]:
        s = summary[row["person_id"]]
        x, tx, T, zbar = (float(s[k]) for k in ("x", "t_x", "T", "zbar"))
        z = t / (alpha + T + t)
        top = 1 - ((alpha + T) / (alpha + T + t)) ** (r_ + x) * hyp2f1(
            r_ + x, b + x, a + b + x - 1, z
        )
        bottom = 1 + (x > 0) * a / (b + x - 1) * ((alpha + T) / (alpha + tx)) ** (r_ + x)
        purchases = (a + b + x - 1) / (a - 1) * top / bottom
        if p * x + q - 1 > 0:
            spend = p * (g + x * zbar) / (p * x + q - 1)
            assert float(row["bgnbd_30d"]) == pytest.approx(float(s["clv"]), rel=1e-5)  # same fit
        else:  # no finite expected spend (q <= 1): the observed mean repeat spend stands in
            spend, fallback = observed, fallback + 1
            assert s["clv"] == "nan"
        # rel 1e-4: clv's CSV holds x, t_x, T and zbar to 6 significant digits
        assert float(row["bgnbd_30d"]) == pytest.approx(purchases * spend, rel=1e-4)
    assert data["json"]["spend_fallback_persons"] == fallback


def test_nothing_after_the_calibration_end_reaches_the_predictions(data: dict[str, Any]) -> None:
    """Ten times every revenue and refund after C: the actuals change, no prediction does."""
    changed = data["tmp"] / "future.jsonl"
    with changed.open("w", encoding="utf-8") as out:
        for line in data["export"].read_text(encoding="utf-8").splitlines():
            r = json.loads(line)
            key = {**MONEY, **REFUNDS}.get(r["event"])
            ts = datetime.fromisoformat(r["timestamp"]).replace(tzinfo=None)
            if key and ts > END and r["properties"].get(key) is not None:
                r["properties"][key] *= 10
            out.write(json.dumps(r) + "\n")
    plan = load_plan(SHOPFAST).plan
    result = compare(duck(changed), plan, "future", CAL, (30,), None)
    (h,) = result.horizons
    before = data["csv"]
    assert list(result.persons) == [r["person_id"] for r in before]
    assert h.ml == pytest.approx([float(r["ml_30d"]) for r in before], rel=1e-12)
    assert h.bgnbd == pytest.approx([float(r["bgnbd_30d"]) for r in before], rel=1e-12)
    assert float(h.actual.sum()) == pytest.approx(10 * sum(float(r["actual_30d"]) for r in before))
    # and every training snapshot's label window ends by C
    assert h.train_rows > 0
    assert h.train_snapshots.max() + 30 * 86400 <= _epoch(END)


def _epoch(t: datetime) -> float:
    """A naive UTC time as epoch seconds, as Horizon.train_snapshots holds them."""
    return (t - datetime(1970, 1, 1)).total_seconds()


def test_rolling_training_snapshots_end_by_the_calibration_end(data: dict[str, Any]) -> None:
    plan = load_plan(SHOPFAST).plan
    result = compare(duck(data["export"]), plan, "x", CAL, (30,), "EUR", rolling=True)
    (h,) = result.horizons
    end = _epoch(END)
    assert h.train_rows > 0 and h.train_snapshots.max() + 30 * 86400 == pytest.approx(end)
    assert np.all(h.train_snapshots + 30 * 86400 <= end + 1e-6)
    assert len(set(np.round(h.train_snapshots))) > 1  # several weekly snapshot times
    assert h.ml.min() >= 0


def test_revenue_label_counts_one_currency(data: dict[str, Any]) -> None:
    """Fix 2: the label is GBP-only with currency GBP, EUR-only by default (the majority)."""
    plan = load_plan(SHOPFAST).plan
    spec = plan.models.models["revenue_30d"]  # type: ignore[union-attr]
    con = duck(data["export"])
    assert majority_currency(con, plan) == "EUR"
    events = rows(data["export"])
    for currency in (None, "GBP"):
        snaps = load_snapshots(con, plan, spec, currency)
        want = currency or "EUR"
        net: dict[tuple[str, datetime], float] = defaultdict(float)
        at = dict(zip(snaps.persons, snaps.at.astype("datetime64[us]").tolist(), strict=True))
        for r in events:
            p, s = r["properties"], at.get(r["person_id"])
            key = {**MONEY, **REFUNDS}.get(r["event"])
            if key and s and p.get("currency") == want and s < r["ts"] <= s + timedelta(days=30):
                net[r["person_id"], s] += -p[key] if r["event"] in REFUNDS else p[key]
        times = snaps.at.astype("datetime64[us]").tolist()
        got = dict(zip(zip(snaps.persons, times, strict=True), snaps.label, strict=True))
        assert sum(1 for v in got.values() if v) > 20
        for k, v in got.items():
            assert v == pytest.approx(net.get(k, 0.0), abs=1e-9)


def _event(i: int, event: str, props: dict[str, Any]) -> dict[str, Any]:
    return {
        "uuid": f"00000000-0000-0000-0000-{i:012d}",
        "timestamp": f"2026-01-{1 + i % 28:02d}T10:00:00+00:00",
        "event": event,
        "distinct_id": f"d{i % 3}",
        "person_id": f"p{i % 3}",
        "properties": props,
    }


@pytest.mark.parametrize(
    "currencies",
    [
        # (event, value, currency): GBP and EUR tie (the first by name wins); USD's negative
        # orders and its refunds are not revenue events with a value >= 0
        [("order_placed", 5.0, "GBP"), ("order_placed", 5.0, "GBP"),
         ("subscription_joined", 5.0, "EUR"), ("order_placed", 0.0, "EUR"),
         ("order_placed", -1.0, "USD"), ("order_placed", -1.0, "USD"),
         ("order_placed", -1.0, "USD"), ("order_refunded", 3.0, "USD"),
         ("order_refunded", 3.0, "USD"), ("order_refunded", 3.0, "USD")],
        # events without a currency count as '', which sorts first in a tie
        [("order_placed", 5.0, None), ("order_placed", 5.0, "AUD"), ("order_placed", 2.0, None),
         ("subscription_joined", 9.0, "AUD")],
        # a plain majority
        [("order_placed", 5.0, "SEK"), ("order_placed", 5.0, "SEK"), ("order_placed", 5.0, "NOK")],
        # no revenue event with a value: None
        [("order_refunded", 3.0, "EUR"), ("order_placed", None, "EUR")],
    ],
    ids=["tie-by-name", "no-currency", "majority", "none"],
)  # fmt: skip
def test_majority_currency_is_the_features_rule(
    tmp_path: Path, currencies: list[tuple[str, float | None, str | None]]
) -> None:
    """The currency ltv-compare picks is the features' CURRENCY_RULE, counted here in Python."""
    value = {**MONEY, **REFUNDS}
    events = []
    for i, (event, amount, code) in enumerate(currencies):
        props: dict[str, Any] = {} if amount is None else {value[event]: amount}
        events.append(_event(i, event, props | ({} if code is None else {"currency": code})))
    export = tmp_path / "money.jsonl"
    export.write_text("".join(json.dumps(e) + "\n" for e in events), encoding="utf-8")
    counts = Counter(
        code or "" for event, amount, code in currencies
        if event in MONEY and amount is not None and amount >= 0
    )  # fmt: skip
    want = min(counts, key=lambda c: (-counts[c], c)) if counts else None
    assert majority_currency(duck(export), load_plan(SHOPFAST).plan) == want


def test_regressions_never_predict_below_zero() -> None:
    """Fix 3: the boosting's Poisson loss, and the ridge baseline clipped at 0."""
    from compiler.models.dataset import Encoder

    rng = np.random.default_rng(1)
    X = rng.normal(size=(400, 2))
    y = np.maximum(0.0, 5 * X[:, 0] + rng.normal(size=400))
    y[:5] = -3.0  # refunds of earlier purchases
    enc = Encoder(("a", "b"), {})
    with threadpool_limits(limits=1, user_api="openmp"):  # as train does
        model = fit_regressor(enc, X, y)
    assert model.loss == "poisson"
    far = np.array([[-10.0, 0.0], [10.0, 0.0]])
    assert np.all(predict(model, far, True) > 0)
    ridge = baseline(enc, True).fit(X, y)
    raw = ridge.predict(far)
    assert raw[0] < 0  # the linear fit extrapolates below 0 ...
    assert np.array_equal(predict(ridge, far, True), np.maximum(raw, 0))  # ... and is clipped


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--calibration-end", "2026-06-20"], "after the last event"),
        (["--calibration-end", "2026-01-25"], "min_positives"),
        # few early buyers: the BG/NBD fit degenerates (a -> 4e5, NaN forecasts); on other
        # synth data it may have no interior maximum at all, the same refusal in other words
        (["--calibration-end", "2026-02-10"], "a degenerate fit|has no interior maximum"),
        (["--calibration-end", "2026-04-15", "--horizons", "45"], "no regression model with a 45"),
        (["--calibration-end", "2026-04-15", "--horizons", "x"], "not a comma-separated"),
        (["--calibration-end", "2026-04-15", "--horizons", "0"], "whole days >= 1"),
        (["--calibration-end", "2025-01-01"], "outside the data"),
        (["--calibration-end", "2026-04-15", "--currency", "JPY"], "no revenue events in currency"),
    ],
    ids=[
        "past-end",
        "few-positives",
        "bgnbd-degenerate",
        "no-model",
        "bad-list",
        "zero",
        "before-data",
        "currency",
    ],
)
def test_bad_inputs_exit_2(data: dict[str, Any], args: list[str], message: str) -> None:
    out = run("ltv-compare", data["export"], "--plan", SHOPFAST, *args, expect=2)
    assert any(m in out for m in message.split("|")) and "Traceback" not in out


def test_too_few_customers_exit_2(tmp_path: Path) -> None:
    small = synth_export(SHOPFAST, tmp_path / "small.jsonl", users=150, seed=5)
    out = run("ltv-compare", small, "--plan", SHOPFAST, "--calibration-end", "2026-03-01",
              expect=2)  # fmt: skip
    assert "the comparison needs at least 50" in out


def test_table_output_names_both_methods(data: dict[str, Any]) -> None:
    out = run("ltv-compare", data["export"], "--plan", SHOPFAST, "--calibration-end",
              CAL.isoformat(), "--horizons", "30")  # fmt: skip
    assert "BG/NBD" in out and "ML" in out and "revenue_30d" in out and "GBP" in out
    mae = data["json"]["horizons"][0]["metrics"]["bgnbd"]["mae"]
    assert f"{mae:,.2f}" in out

"""A degenerate BG/NBD fit: the likelihood's maximum passes the interior check (no parameter
beyond mle.RUNAWAY) but a runs off to ~1e4-1e5, and the closed form of the expected purchases
overflows to inf * 0 = NaN. `trackplan clv` refuses it with exit 2 and a clear message (never
NaN in its output, never a traceback), with the check `ltv-compare` shares
(compiler/models/clv.py check_forecast).

The input is built like synth's early weeks (tests/test_ltv_compare.py's bgnbd-degenerate case):
one-time buyers, every 8th of them buying once more, nobody three times."""

from __future__ import annotations

import csv
import math
import random
from datetime import date, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pytest
from click.testing import CliRunner

from compiler.cli.main import cli
from compiler.models import bgnbd, clv, clv_data
from compiler.models.mle import RUNAWAY

FIRST, CAL = date(2026, 1, 1), date(2026, 2, 10)


def _transactions(path: Path, customers: int = 200, every: int = 8, seed: int = 2) -> Path:
    rnd = random.Random(seed)
    with path.open("w", encoding="utf-8", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["customer", "date", "amount"])
        for i in range(customers):
            first = FIRST + timedelta(days=i % 41)
            out.writerow([f"c{i:03d}", first.isoformat(), round(rnd.lognormvariate(3, 1), 2)])
            span = (CAL - first).days
            if i % every == 0 and span > 0:
                late = rnd.random() < 0.5
                gap = 1 + (rnd.randrange(span) if late else rnd.randrange(min(span, 2)))
                day = first + timedelta(days=gap)
                out.writerow([f"c{i:03d}", day.isoformat(), round(rnd.lognormvariate(3, 1), 2)])
    return path


@pytest.fixture(scope="module")
def degenerate(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _transactions(tmp_path_factory.mktemp("degenerate") / "tx.csv")


def test_the_input_really_is_degenerate(degenerate: Path) -> None:
    """The premise: the fit passes the interior check, yet a is far off and the forecast NaN."""
    con = duckdb.connect()
    clv_data.load_file(con, degenerate, clv_data.Columns("customer", "date", "amount"))
    summary = clv_data.summarize(con, str(degenerate), CAL)
    assert set(summary.x.tolist()) == {0.0, 1.0}  # nobody bought three times
    fit = bgnbd.fit(summary.x, summary.t_x, summary.T)
    assert 1e3 < fit.params.a < math.exp(RUNAWAY)
    with np.errstate(invalid="ignore", over="ignore"):
        raw = bgnbd.conditional_expected_purchases(
            fit.params, 365 / 7, summary.x, summary.t_x, summary.T
        )
    assert not np.isfinite(raw).any()
    with pytest.raises(clv.DegenerateFit, match="a degenerate fit") as caught:
        clv.expected_purchases(fit, 365, summary)  # what analyse and ltv-compare call
    message = str(caught.value)
    assert f"not finite for {len(summary.customers)} customers" in message
    assert f"a={fit.params.a:.3g}" in message and "over 365 days" in message


def test_clv_refuses_a_degenerate_fit_with_exit_2(degenerate: Path, tmp_path: Path) -> None:
    scores = tmp_path / "scores.csv"
    result = CliRunner().invoke(
        cli,
        [
            "clv",
            str(degenerate),
            "--customer",
            "customer",
            "--date",
            "date",
            "--amount",
            "amount",
            "--calibration-end",
            CAL.isoformat(),
            "--holdout-end",
            "2026-03-10",
            "--format",
            "json",
            "-o",
            str(scores),
        ],
    )
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)
    out = result.output
    assert out.startswith(f"Error: {degenerate}: BG/NBD's expected purchases over 365 days")
    assert "a degenerate fit" in out and "a=4.13e+04" in out
    assert "NaN" not in out and "nan" not in out
    assert "Traceback" not in out and "RuntimeWarning" not in out
    assert not scores.exists()


def test_check_forecast_passes_finite_and_names_the_bad_count() -> None:
    params = bgnbd.BgNbdParams(0.2, 4.0, 0.8, 2.4)
    clv.check_forecast(params, 30, np.array([0.0, 1.5, 3.0]))
    bad = np.array([0.5, np.nan, np.inf, 1.0])
    with pytest.raises(clv.DegenerateFit, match=r"over 30 days are not finite for 2 customers"):
        clv.check_forecast(params, 30, bad)

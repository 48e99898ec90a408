"""BG/NBD, Gamma-Gamma and sBG against published results, independent computations and
Monte Carlo; `trackplan clv` on transactions files, broken input and PostHog exports.

Published figures (tests/fixtures/published/PROVENANCE.md):
- FHL 2005 on the CDNOW sample, calibration to 1997-09-30, weeks: r 0.243, alpha 4.414,
  a 0.793, b 2.426, LL -9582.4.
- Fader and Hardie 2013 (Gamma-Gamma note), same data: p 6.25, q 3.74, gamma 15.44.
- Fader and Hardie 2007, years 1-7: high end alpha 0.668, beta 3.806; regular 0.704, 1.182.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, stats
from scipy.special import hyp2f1, roots_legendre

from compiler.cli.main import cli
from compiler.models import bgnbd, clv, clv_data, gammagamma, sbg
from compiler.models.bgnbd import BgNbdParams
from compiler.models.gammagamma import GammaGammaParams
from compiler.models.mle import FitError

PUBLISHED = Path(__file__).parent / "fixtures" / "published"
CDNOW = PUBLISHED / "CDNOW_sample.txt"
HARDIE_SUMMARY = PUBLISHED / "cdnow_summary_hardie.csv"
SHOPFAST = Path(__file__).parent / "fixtures" / "plans" / "shopfast"
MINIMAL = Path(__file__).parent / "fixtures" / "plans" / "minimal"
CAL, HOLD = date(1997, 9, 30), date(1998, 6, 30)

FHL_2005 = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
FHL_2005_LOGLIK = -9582.4
FH_2013 = {"p": 6.25, "q": 3.74, "gamma": 15.44}
HIGH_END = [1000, 869, 743, 653, 593, 551, 517, 491, 468, 445, 427, 409, 394]
REGULAR = [1000, 631, 468, 382, 326, 289, 262, 241, 223, 207, 194, 183, 173]


def within(value: float, published: float, rel: float = 0.005) -> bool:
    return abs(value - published) <= rel * abs(published)


@pytest.fixture(scope="module")
def cdnow() -> clv_data.CustomerSummary:
    con = duckdb.connect()
    clv_data.load_file(con, CDNOW, clv_data.Columns("2", "3", "5"))
    return clv_data.summarize(con, str(CDNOW), CAL, HOLD)


@pytest.fixture(scope="module")
def cdnow_fit(cdnow: clv_data.CustomerSummary) -> bgnbd.BgNbdFit:
    return bgnbd.fit(cdnow.x, cdnow.t_x, cdnow.T)


# --- the published figures -------------------------------------------------------------------


def test_cdnow_summary_matches_hardies_published_summary(cdnow: clv_data.CustomerSummary) -> None:
    """Our per-day summary of the raw transactions against Hardie's own (rounded to 2 dp)."""
    ours = {c: i for i, c in enumerate(cdnow.customers)}
    assert len(ours) == 2357 and cdnow.later_customers == 0
    with HARDIE_SUMMARY.open() as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 2357
    for row in rows:
        i = ours[f"{int(row['ID']):04d}"]
        assert cdnow.x[i] == int(row["x"])
        assert abs(cdnow.t_x[i] - float(row["t_x"])) <= 0.0051
        assert abs(cdnow.T[i] - float(row["T"])) <= 0.0051
        assert abs(cdnow.zbar[i] - float(row["zbar"])) <= 0.0051
    assert int(cdnow.x.sum()) == 2457  # FHL: 2,457 repeat transactions in calibration


def test_bgnbd_reproduces_fhl_2005(cdnow_fit: bgnbd.BgNbdFit) -> None:
    p = cdnow_fit.params
    got = {"r": p.r, "alpha": p.alpha, "a": p.a, "b": p.b}
    assert all(within(got[k], v) for k, v in FHL_2005.items()), got
    assert (
        within(cdnow_fit.loglik, FHL_2005_LOGLIK) and abs(cdnow_fit.loglik - FHL_2005_LOGLIK) < 0.1
    )
    assert cdnow_fit.converged


def test_gamma_gamma_reproduces_fader_hardie_2013(cdnow: clv_data.CustomerSummary) -> None:
    fit = gammagamma.fit(cdnow.x, cdnow.zbar)
    got = {"p": fit.params.p, "q": fit.params.q, "gamma": fit.params.gamma}
    assert fit.customers == 946  # repeat buyers in calibration
    # The note checks the independence assumption: corr(x, zbar) = 0.11 among repeat buyers.
    assert round(clv.spend_frequency_correlation(cdnow) or 0.0, 2) == 0.11
    assert all(within(got[k], v) for k, v in FH_2013.items()), got


@pytest.mark.parametrize(
    ("survivors", "alpha", "beta"), [(HIGH_END, 0.668, 3.806), (REGULAR, 0.704, 1.182)]
)
def test_sbg_reproduces_fader_hardie_2007(survivors: list[int], alpha: float, beta: float) -> None:
    fit = sbg.fit(survivors[:8])  # years 0-7: the paper's calibration
    assert within(fit.params.alpha, alpha) and within(fit.params.beta, beta), fit.params
    # Its projection of years 8-12 (the paper's holdout) stays within 5% of what happened.
    projected = sbg.project(fit.params, survivors[0], 12)
    assert np.all(np.abs(projected[8:] - survivors[8:]) <= 0.05 * np.asarray(survivors[8:]))


def test_time_unit_changes_only_alpha_and_the_likelihood_constant(
    cdnow: clv_data.CustomerSummary, cdnow_fit: bgnbd.BgNbdFit
) -> None:
    """In days, alpha is 7 times the weeks' alpha, r, a and b are unchanged, the LL moves by
    -sum(x) ln 7 (the Jacobian), and predictions over the same span are the same."""
    days = bgnbd.fit(cdnow.x, cdnow.t_x * 7, cdnow.T * 7)
    w, d = cdnow_fit.params, days.params
    assert d.alpha == pytest.approx(7 * w.alpha, rel=1e-3)
    assert (d.r, d.a, d.b) == pytest.approx((w.r, w.a, w.b), rel=1e-3)
    assert days.loglik == pytest.approx(cdnow_fit.loglik - cdnow.x.sum() * np.log(7), abs=1e-3)
    in_weeks = bgnbd.conditional_expected_purchases(w, 52, cdnow.x, cdnow.t_x, cdnow.T)
    in_days = bgnbd.conditional_expected_purchases(d, 364, cdnow.x, cdnow.t_x * 7, cdnow.T * 7)
    assert in_days == pytest.approx(in_weeks, rel=1e-3)


# --- independent computations ----------------------------------------------------------------

SMOOTH = BgNbdParams(r=2.1, alpha=3.5, a=1.7, b=2.9)


def _bgnbd_by_integration(params: BgNbdParams, x: int, t_x: float, T: float) -> float:
    """The marginal likelihood by integrating the individual one (FHL eq. 3) over lambda and p
    on a Gauss-Legendre grid: no closed form from the module is used."""
    lam_nodes, lam_w = roots_legendre(800)
    p_nodes, p_w = roots_legendre(300)
    lam, wl = 15.0 * (lam_nodes + 1) / 2, 15.0 / 2 * lam_w  # Gamma(2.1, 3.5): mass past 15 < 1e-15
    p, wp = (p_nodes + 1) / 2, p_w / 2
    L, P = np.meshgrid(lam, p, indexing="ij")
    alive = (1 - P) ** x * L**x * np.exp(-L * T)
    dropped = P * (1 - P) ** (x - 1) * L**x * np.exp(-L * t_x) if x > 0 else 0.0
    gamma_pdf = stats.gamma.pdf(lam, params.r, scale=1 / params.alpha)
    beta_pdf = stats.beta.pdf(p, params.a, params.b)
    return float(np.einsum("i,j,ij->", wl * gamma_pdf, wp * beta_pdf, alive + dropped))


@pytest.mark.parametrize(
    ("x", "t_x", "T"), [(0, 0.0, 39.0), (1, 10.5, 39.0), (4, 30.2, 38.86), (9, 37.0, 39.0)]
)
def test_bgnbd_likelihood_matches_numerical_integration(x: int, t_x: float, T: float) -> None:
    closed = np.exp(bgnbd.log_likelihood_terms(SMOOTH, x, t_x, T))[0]
    assert closed == pytest.approx(_bgnbd_by_integration(SMOOTH, x, t_x, T), rel=1e-6)


@pytest.mark.parametrize(("x", "zbar"), [(1, 12.0), (3, 35.5), (10, 20.0)])
def test_gamma_gamma_likelihood_matches_numerical_integration(x: int, zbar: float) -> None:
    params = GammaGammaParams(6.25, 3.74, 15.44)

    def integrand(nu: float) -> float:
        # zbar | nu ~ Gamma(p x, rate nu x); nu ~ Gamma(q, rate gamma)
        return float(
            stats.gamma.pdf(zbar, params.p * x, scale=1 / (nu * x))
            * stats.gamma.pdf(nu, params.q, scale=1 / params.gamma)
        )

    value, _ = integrate.quad(integrand, 0, np.inf, epsabs=1e-15, epsrel=1e-10, limit=200)
    closed = np.exp(gammagamma.log_likelihood_terms(params, x, zbar))[0]
    assert closed == pytest.approx(value, rel=1e-6)


def test_sbg_matches_a_brute_force_beta_mixture() -> None:
    params = sbg.SbgParams(0.668, 3.806)
    dist = stats.beta(params.alpha, params.beta)
    for t in range(1, 9):
        churn, _ = integrate.quad(lambda th, t=t: th * (1 - th) ** (t - 1) * dist.pdf(th), 0, 1)
        alive, _ = integrate.quad(lambda th, t=t: (1 - th) ** t * dist.pdf(th), 0, 1)
        assert sbg.churn_probabilities(params, t)[-1] == pytest.approx(churn, rel=1e-7)
        assert sbg.survival(params, t)[-1] == pytest.approx(alive, rel=1e-7)
    rates = sbg.retention_rates(params, 8)
    assert rates == pytest.approx(sbg.survival(params, 8)[1:] / sbg.survival(params, 8)[:-1])


def test_expected_purchases_and_p_alive_match_monte_carlo(cdnow_fit: bgnbd.BgNbdFit) -> None:
    """Simulate BG/NBD customers from the CDNOW fit; E[E[Y | data] | bin] = E[Y | bin] for any
    bin of the calibration data, so the formula's mean per bin must match the simulated mean."""
    params, rng, n, T, h = cdnow_fit.params, np.random.default_rng(7), 600_000, 39.0, 39.0
    lam = rng.gamma(params.r, 1 / params.alpha, n)
    drop = rng.beta(params.a, params.b, n)
    t, x, t_x, y = np.zeros(n), np.zeros(n), np.zeros(n), np.zeros(n)
    active, alive_at_T = np.ones(n, bool), np.ones(n, bool)
    while active.any():
        idx = np.flatnonzero(active)
        t[idx] += rng.exponential(1 / lam[idx])
        in_cal, in_hold = t[idx] <= T, (t[idx] > T) & (t[idx] <= T + h)
        x[idx[in_cal]] += 1
        t_x[idx[in_cal]] = t[idx[in_cal]]
        y[idx[in_hold]] += 1
        gone = rng.random(idx.size) < drop[idx]  # drops out right after this purchase
        alive_at_T[idx[gone & in_cal]] = False
        active[idx[gone | (t[idx] > T + h)]] = False
    predicted = bgnbd.conditional_expected_purchases(params, h, x, t_x, np.full(n, T))
    alive = bgnbd.p_alive(params, x, t_x, np.full(n, T))
    assert float(bgnbd.expected_purchases(params, T)[0]) == pytest.approx(x.mean(), rel=0.03)
    for low, high in [(0, 0), (1, 1), (2, 2), (3, 4), (5, 9), (10, 10_000)]:
        mask = (x >= low) & (x <= high)
        se_y = y[mask].std() / np.sqrt(mask.sum())
        assert abs(predicted[mask].mean() - y[mask].mean()) < 4 * se_y + 1e-3, (low, high)
        se_a = alive_at_T[mask].std() / np.sqrt(mask.sum())
        assert abs(alive[mask].mean() - alive_at_T[mask].mean()) < 4 * se_a + 1e-3, (low, high)


def test_expected_purchases_stay_finite_for_heavy_buyers(cdnow_fit: bgnbd.BgNbdFit) -> None:
    """The module's Euler-transformed form equals FHL's literal eq. 10 wherever the literal one
    is finite, and stays finite where the literal one overflows (x in the hundreds)."""
    p = cdnow_fit.params
    x = np.array([0, 1, 5, 20, 60, 300, 2000.0])
    t_x, T, h = np.array([0, 5, 20, 38, 38, 38.9, 39.0]), np.full(7, 39.0), 52.0
    z = h / (p.alpha + T + h)
    with np.errstate(invalid="ignore", over="ignore"):  # the literal form's 0 * inf, on purpose
        literal = _literal_eq10(p, x, t_x, T, h, z)
    ours = bgnbd.conditional_expected_purchases(p, h, x, t_x, T)
    assert np.all(np.isfinite(ours)) and np.all(np.diff(ours) > 0)
    finite = np.isfinite(literal)
    assert finite[:5].all() and ours[finite] == pytest.approx(literal[finite], rel=1e-9)
    assert np.all(np.isfinite(bgnbd.log_likelihood_terms(p, x, t_x, T)))


def _literal_eq10(p: BgNbdParams, x: Any, t_x: Any, T: Any, h: float, z: Any) -> Any:
    return (
        (p.a + p.b + x - 1)
        / (p.a - 1)
        * (
            1
            - ((p.alpha + T) / (p.alpha + T + h)) ** (p.r + x)
            * hyp2f1(p.r + x, p.b + x, p.a + p.b + x - 1, z)
        )
        / (1 + (x > 0) * p.a / (p.b + x - 1) * ((p.alpha + T) / (p.alpha + t_x)) ** (p.r + x))
    )


def test_expected_spend_matches_monte_carlo() -> None:
    params, rng, n = GammaGammaParams(6.25, 3.74, 15.44), np.random.default_rng(11), 200_000
    nu = rng.gamma(params.q, 1 / params.gamma, n)
    x = rng.integers(1, 7, n).astype(float)
    zbar = rng.gamma(params.p * x, 1 / (nu * x))
    truth = params.p / nu  # each customer's own mean spend
    expected = gammagamma.conditional_expected_spend(params, x, zbar)
    for k in (1, 3, 6):
        edges = np.quantile(zbar[x == k], [0, 0.25, 0.5, 0.75, 1])
        for lo, hi in zip(edges, edges[1:], strict=False):
            mask = (x == k) & (zbar >= lo) & (zbar <= hi)
            se = truth[mask].std() / np.sqrt(mask.sum())
            assert abs(expected[mask].mean() - truth[mask].mean()) < 4 * se, (k, lo)
    pop = params.population_mean()
    assert pop is not None and truth.mean() == pytest.approx(pop, rel=0.02)


def test_clv_is_purchases_times_spend_and_fits_refuse_thin_data(
    cdnow: clv_data.CustomerSummary, cdnow_fit: bgnbd.BgNbdFit
) -> None:
    spend = GammaGammaParams(6.25, 3.74, 15.44)
    value = gammagamma.clv(cdnow_fit.params, spend, 52.0, cdnow.x, cdnow.t_x, cdnow.T, cdnow.zbar)
    manual = bgnbd.conditional_expected_purchases(
        cdnow_fit.params, 52.0, cdnow.x, cdnow.t_x, cdnow.T
    )
    assert value.purchases == pytest.approx(manual)
    assert value.value == pytest.approx(manual * value.spend)
    assert value.spend[cdnow.x == 0] == pytest.approx(spend.p * spend.gamma / (spend.q - 1))
    with pytest.raises(FitError, match="repeat purchase"):
        bgnbd.fit([0, 0, 0, 0], [0, 0, 0, 0], [5, 6, 7, 8])
    with pytest.raises(FitError, match="BG/NBD has no interior maximum"):
        bgnbd.fit([0, 0, 0, 1, 2, 0], [0, 0, 0, 3, 5, 0], [10] * 6)
    with pytest.raises(FitError, match="Gamma-Gamma has no interior maximum"):
        gammagamma.fit([1, 2, 3, 1, 2], [9.99] * 5)  # a fixed price: no spread to model
    paid = cdnow.zbar > 0
    free = gammagamma.fit(np.append(cdnow.x, [2, 1]), np.append(cdnow.zbar, [0.0, 0.0]))
    assert free.zero_spend == 2 and free.customers == int(np.sum((cdnow.x > 0) & paid))
    assert free.params.p == pytest.approx(gammagamma.fit(cdnow.x, cdnow.zbar).params.p)
    with pytest.raises(FitError, match="never rise"):
        sbg.fit([100, 90, 95])


# --- the CLI ----------------------------------------------------------------------------------


def run(*args: str) -> Any:
    return CliRunner().invoke(cli, ["clv", *args])


def test_cli_json_on_cdnow_has_the_published_figures() -> None:
    result = run(
        str(CDNOW),
        "--customer",
        "2",
        "--date",
        "column2",
        "--amount",
        "5",
        "--calibration-end",
        "1997-09-30",
        "--holdout-end",
        "1998-06-30",
        "--format",
        "json",
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert set(out["bgnbd"]) == {"r", "alpha", "a", "b", "loglik"}
    assert set(out["gamma_gamma"]) == {"p", "q", "gamma"}
    assert out["customers"] == 2357
    assert all(within(out["bgnbd"][k], v) for k, v in FHL_2005.items())
    assert all(within(out["gamma_gamma"][k], v) for k, v in FH_2013.items())
    hold = out["holdout"]
    assert hold["actual_repeat_purchases"] == 1882  # repeat purchase days in weeks 40-78
    assert sum(b["customers"] for b in hold["by_calibration_frequency"]) == 2357


def test_cli_table_and_scores_file(tmp_path: Path) -> None:
    scores = tmp_path / "scores.csv"
    result = run(
        str(CDNOW),
        "--customer",
        "2",
        "--date",
        "3",
        "--amount",
        "5",
        "--calibration-end",
        "1997-09-30",
        "-o",
        str(scores),
    )
    assert result.exit_code == 0, result.output
    assert "BG/NBD" in result.output and "0.2426" in result.output and "-9582.4" in result.output
    with scores.open() as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 2357 and float(rows[0]["clv"]) == pytest.approx(
        float(rows[0]["expected_purchases"]) * float(rows[0]["expected_spend"]), rel=1e-4
    )


def _copy_cdnow_as(con: duckdb.DuckDBPyConnection, target: Path) -> None:
    con.execute(
        "CREATE TABLE t AS SELECT parts[2] AS cust, strptime(parts[3], '%Y%m%d')::DATE AS day, "
        "CAST(parts[5] AS DOUBLE) AS amount FROM (SELECT regexp_split_to_array(trim(line), "
        f"'\\s+') AS parts FROM read_csv('{CDNOW}', columns = {{'line': 'VARCHAR'}}, "
        "header = false, delim = '|'))"
    )
    fmt = {
        "parquet": "(FORMAT parquet)",
        "csv": "(HEADER, DELIMITER ',')",
        "jsonl": "(FORMAT json)",
    }
    con.execute(f"COPY t TO '{target}' {fmt[target.suffix[1:]]}")


@pytest.mark.parametrize("suffix", ["csv", "parquet", "jsonl"])
def test_cli_reads_csv_parquet_and_jsonl_alike(tmp_path: Path, suffix: str) -> None:
    target = tmp_path / f"cdnow.{suffix}"
    _copy_cdnow_as(duckdb.connect(), target)
    result = run(
        str(target),
        "--customer",
        "cust",
        "--date",
        "day",
        "--amount",
        "amount",
        "--calibration-end",
        "1997-09-30",
        "--format",
        "json",
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["customers"] == 2357 and within(out["bgnbd"]["r"], FHL_2005["r"])


def _summary_by_hand(
    rows: list[tuple[str, date, float]], cal: date
) -> dict[str, tuple[float, ...]]:
    """FHL's definitions in plain Python: per-day purchases, weeks from the first purchase."""
    days: dict[str, dict[date, float]] = {}
    for customer, day, amount in rows:
        days.setdefault(customer, {})
        days[customer][day] = days[customer].get(day, 0.0) + amount
    out: dict[str, tuple[float, ...]] = {}
    for customer, spend in days.items():
        first = min(spend)
        if first > cal:
            continue
        repeat = sorted(d for d in spend if first < d <= cal)
        zbar = sum(spend[d] for d in repeat) / len(repeat) if repeat else 0.0
        t_x = (repeat[-1] - first).days / 7 if repeat else 0.0
        out[customer] = (float(len(repeat)), t_x, (cal - first).days / 7, zbar)
    return out


TRANSACTIONS = st.lists(
    st.tuples(
        st.sampled_from(["a", "b", "c", "d e", "é"]),
        st.dates(date(2024, 1, 1), date(2024, 3, 31)),
        st.decimals(0, 500, places=2).map(float),
    ),
    min_size=1,
    max_size=40,
)


@settings(max_examples=15, deadline=None)
@given(rows=TRANSACTIONS, cal=st.dates(date(2024, 1, 1), date(2024, 3, 31)))
def test_summary_matches_a_plain_python_count(
    rows: list[tuple[str, date, float]], cal: date, tmp_path_factory: pytest.TempPathFactory
) -> None:
    path = tmp_path_factory.mktemp("prop") / "tx.csv"
    with path.open("w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["customer", "when", "amount"])
        out.writerows([(c, d.isoformat(), f"{a:.2f}") for c, d, a in rows])
    con = duckdb.connect()
    clv_data.load_file(con, path, clv_data.Columns("customer", "when", "amount"))
    days = [d for _, d, _ in rows]
    if not min(days) <= cal <= max(days):
        with pytest.raises(clv_data.TransactionsError, match="outside the data"):
            clv_data.summarize(con, str(path), cal)
        return
    got = clv_data.summarize(con, str(path), cal)
    expected = _summary_by_hand(rows, cal)
    assert set(got.customers) == set(expected)
    for i, customer in enumerate(got.customers):
        ours = (got.x[i], got.t_x[i], got.T[i], got.zbar[i])
        assert ours == pytest.approx(expected[customer]), customer


def test_whitespace_file_with_a_header(tmp_path: Path) -> None:
    path = tmp_path / "tx.txt"
    lines = CDNOW.read_text().splitlines()
    path.write_text("master sample date cds dollars\n" + "\n".join(lines) + "\n")
    result = run(
        str(path),
        "--customer",
        "sample",
        "--date",
        "date",
        "--amount",
        "dollars",
        "--calibration-end",
        "1997-09-30",
        "--format",
        "json",
    )
    assert result.exit_code == 0, result.output
    assert within(json.loads(result.output)["bgnbd"]["alpha"], FHL_2005["alpha"])
    bad = tmp_path / "bad.txt"
    bad.write_text("\n".join(lines[:10] + [lines[10].replace("19970", "1997x")]) + "\n")
    result = run(
        str(bad),
        "--customer",
        "2",
        "--date",
        "3",
        "--amount",
        "5",
        "--calibration-end",
        "1997-09-30",
    )
    assert result.exit_code == 2 and "bad.txt:11: day '1997x" in result.output


def test_headerless_csv_counts_lines_from_one(tmp_path: Path) -> None:
    path = tmp_path / "plain.csv"
    path.write_text("c1,2024-01-01,10\nc1,2024-01-05,12\nc2,2024-02-30,5\n")
    result = run(
        str(path),
        "--customer",
        "column0",
        "--date",
        "2",
        "--amount",
        "3",
        "--calibration-end",
        "2024-01-03",
    )
    assert result.exit_code == 2 and "plain.csv:3: day '2024-02-30' is not a date" in result.output


def _csv(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "tx.csv"
    path.write_text("customer,date,amount\n" + body)
    return path


GOOD = "a,2024-01-01,10\na,2024-01-05,12\nb,2024-01-02,5\nb,2024-01-03,7\nc,2024-01-04,8\n"


@pytest.mark.parametrize(
    ("body", "args", "message"),
    [
        (GOOD, ["--customer", "who"], "no column 'who' for --customer"),
        (GOOD + "d,2024-13-45,3\n", [], "tx.csv:7: day '2024-13-45' is not a date"),
        (GOOD + "d,2024-01-02,-3\n", [], "tx.csv:7: amount '-3' is negative"),
        (GOOD.replace("12", "lots"), [], "tx.csv:3: amount 'lots' is not a number"),
        (GOOD + ",2024-01-02,3\n", [], "tx.csv:7: customer"),
        (
            "a,2024-01-01,10\nb,2024-01-02,5\nc,2024-01-03,5\nd,2024-01-04,1\n",
            [],
            "no customer made a repeat purchase",
        ),
        (
            GOOD,
            ["--calibration-end", "2023-06-30"],
            "calibration end 2023-06-30 is outside the data",
        ),
        (GOOD, ["--holdout-end", "2024-01-02"], "must be after the calibration end"),
        (
            GOOD + "e,2024-01-01,1\nf,2024-01-02,4\ng,2024-01-03,2\n",
            [],
            "BG/NBD has no interior maximum",
        ),
    ],
)
def test_cli_broken_input_exits_2_with_file_and_line(
    tmp_path: Path, body: str, args: list[str], message: str
) -> None:
    path = _csv(tmp_path, body)
    options = {
        "--customer": "customer",
        "--date": "date",
        "--amount": "amount",
        "--calibration-end": "2024-01-04",
    }
    for i in range(0, len(args), 2):
        options[args[i]] = args[i + 1]
    result = run(str(path), *[v for kv in options.items() for v in kv])
    assert result.exit_code == 2, result.output
    assert message in result.output and str(path.name) in result.output
    assert (
        "Traceback" not in result.output
        and result.exception is None
        or isinstance(result.exception, SystemExit)
    )


def test_cli_missing_file_and_missing_options(tmp_path: Path) -> None:
    result = run(
        str(tmp_path / "nope.csv"),
        "--customer",
        "c",
        "--date",
        "d",
        "--amount",
        "a",
        "--calibration-end",
        "2024-01-01",
    )
    assert result.exit_code == 2 and "nope.csv: no such file" in result.output
    result = run(str(CDNOW), "--customer", "2", "--calibration-end", "1997-09-30")
    assert result.exit_code == 2 and "--date, --amount" in result.output
    result = run(
        str(CDNOW),
        "--customer",
        "2",
        "--date",
        "3",
        "--amount",
        "5",
        "--calibration-end",
        "30/09/1997",
    )
    assert result.exit_code == 2 and "--calibration-end" in result.output
    empty = tmp_path / "empty.csv"
    empty.write_text("\n\n")
    result = run(
        str(empty),
        "--customer",
        "c",
        "--date",
        "d",
        "--amount",
        "a",
        "--calibration-end",
        "2024-01-01",
    )
    assert result.exit_code == 2 and "empty.csv: the file is empty" in result.output


# --- the plan's revenue events in PostHog exports -------------------------------------------


@pytest.fixture(scope="module")
def shop_export(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    tmp = tmp_path_factory.mktemp("clv_synth")
    export, truth = tmp / "shop.jsonl", tmp / "truth.jsonl"
    result = CliRunner().invoke(
        cli,
        [
            "synth",
            "--plan",
            str(SHOPFAST),
            "--users",
            "2000",
            "--days",
            "60",
            "-o",
            str(export),
            "--truth",
            str(truth),
        ],
    )
    assert result.exit_code == 0, result.output
    return export, truth


def _plan_tx(export: Path, currency: str) -> dict[str, float]:
    from compiler.cli.rates import load_plan_or_fail, open_exports
    from compiler.models.clv_plan import load_plan_transactions

    plan = load_plan_or_fail(SHOPFAST)
    con, _ = open_exports((str(export),), plan)
    load_plan_transactions(con, plan, str(export), currency)
    return {
        str(c): float(v)
        for c, v in con.execute("SELECT customer, sum(amount) FROM tx GROUP BY 1").fetchall()
    }


def test_exports_transactions_match_synths_truth_and_rates(shop_export: tuple[Path, Path]) -> None:
    """Per person, the revenue the CLV reads (both currencies) is synth's true gross revenue;
    per currency, its customers and gross are the payers and gross of `trackplan rates`."""
    export, truth_path = shop_export
    per_person: dict[str, float] = {}
    for cur in ("EUR", "GBP"):
        for person, amount in _plan_tx(export, cur).items():
            per_person[person] = per_person.get(person, 0.0) + amount
    truth = {}
    for line in truth_path.read_text().splitlines():
        row = json.loads(line)
        if row["revenue"]:
            truth[row["person_id"]] = row["revenue"]
    assert per_person.keys() == truth.keys()
    assert all(per_person[p] == pytest.approx(truth[p]) for p in truth)
    rates = CliRunner().invoke(
        cli, ["rates", str(export), "--plan", str(SHOPFAST), "--format", "json"]
    )
    revenue = {r["currency"]: r for r in json.loads(rates.output)["revenue"]}
    eur = _plan_tx(export, "EUR")
    assert revenue["EUR"]["payers"] == len(eur)
    assert revenue["EUR"]["gross"] == pytest.approx(sum(eur.values()))


def test_exports_stitched_persons_match_person_ids(
    shop_export: tuple[Path, Path], tmp_path: Path
) -> None:
    """Without person_id, persons are stitched from $identify as rates stitches them: the same
    customers' revenue comes out."""
    export, _ = shop_export
    stripped = tmp_path / "no_person_id.jsonl"
    with stripped.open("w") as out:
        for line in export.read_text().splitlines():
            row = json.loads(line)
            row.pop("person_id", None)
            out.write(json.dumps(row) + "\n")
    keyed, stitched = _plan_tx(export, "EUR"), _plan_tx(stripped, "EUR")
    assert sorted(keyed.values()) == pytest.approx(sorted(stitched.values()))


def test_cli_exports_mode_on_shopfast(shop_export: tuple[Path, Path]) -> None:
    export, _ = shop_export
    base = ["--exports", str(export), "--plan", str(SHOPFAST), "--calibration-end", "2026-03-31"]
    several = run(*base)
    assert several.exit_code == 2 and "several currencies" in several.output
    result = run(*base, "--currency", "EUR", "--holdout-end", "2026-05-20", "--format", "json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["customers"] > 100 and out["bgnbd"]["loglik"] < 0
    assert out["holdout"]["actual_repeat_purchases"] >= 0
    text = run(*base, "--currency", "EUR")
    assert text.exit_code == 0 and "order_placed" in text.output and "refund" in text.output
    wrong = run(*base, "--currency", "JPY")
    assert wrong.exit_code == 2 and "no revenue events in currency 'JPY'" in wrong.output
    mixed = run(*base, "--currency", "EUR", "--amount", "x")
    assert mixed.exit_code == 2 and "not --exports" in mixed.output


def test_cli_exports_mode_says_when_the_plan_has_no_revenue(shop_export: tuple[Path, Path]) -> None:
    export, _ = shop_export
    result = run(
        "--exports", str(export), "--plan", str(MINIMAL), "--calibration-end", "2026-03-31"
    )
    assert result.exit_code == 2, result.output
    assert "declares no `revenue:` section" in result.output


def test_console_script_end_to_end(tmp_path: Path) -> None:
    """The installed `trackplan` script: the published fit in JSON, and a bad file without a
    traceback."""
    script = Path(sys.executable).parent / "trackplan"
    ok = subprocess.run(
        [
            str(script),
            "clv",
            str(CDNOW),
            "--customer",
            "2",
            "--date",
            "3",
            "--amount",
            "5",
            "--calibration-end",
            "1997-09-30",
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert ok.returncode == 0, ok.stderr
    assert within(json.loads(ok.stdout)["bgnbd"]["b"], FHL_2005["b"])
    bad = _csv(tmp_path, GOOD + "d,yesterday,3\n")
    broken = subprocess.run(
        [
            str(script),
            "clv",
            str(bad),
            "--customer",
            "customer",
            "--date",
            "date",
            "--amount",
            "amount",
            "--calibration-end",
            "2024-01-04",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert broken.returncode == 2 and "tx.csv:7: day 'yesterday'" in broken.stderr
    assert "Traceback" not in broken.stderr

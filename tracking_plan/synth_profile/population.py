"""Everyone's latent parameters and path through the funnel, drawn at once with numpy.

A person reaches S_k (k <= 8) with exactly the config's P(S_k|S_(k-1)); S9 with their own
purchase propensity, logistic in their device, geo, campaign, a failed or slow first job and
whether they viewed pricing and how long they waited before their first job (time to first value,
catalog.PURCHASE_LOGIT_*), with the intercept solved so that the
population rate is the config's. After the first download, each person churns (does not come
back within 30 days) with a proportional hazard over that 30-day period, cloglog in a failed
job, a slow job, low credits, device, geo, campaign and having bought (catalog.CHURN_LOG_HR_*):
non-buyers' mean is the config's mean of clip(base + extras), buyers' mean return rate is the
config's P(S10|S9).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from compiler.simulation.config import SimConfig
from compiler.synth.profile import ProfileError

from . import catalog as c


@dataclass(frozen=True)
class HazardNumbers:
    """The config's hazard as this profile uses it (covariates failed_job and slow_job)."""

    base: float
    extra_if_failed_job: float
    extra_if_slow_job: float
    slow_job_share: float
    max: float


def hazard_numbers(config: SimConfig) -> HazardNumbers:
    h = config.hazard
    if h is None or not {"failed_job", "slow_job"} <= set(h.covariates):
        raise ProfileError(
            "the BlankLogo profile needs a hazard with covariates failed_job and slow_job; "
            "the simulation config has "
            + ("no hazard" if h is None else f"covariates {', '.join(h.covariates) or 'none'}")
        )
    failed, slow = h.covariates["failed_job"], h.covariates["slow_job"]
    return HazardNumbers(h.base, failed.extra, slow.extra, slow.share, h.max)


@dataclass(frozen=True)
class Population:
    size: int
    arrival_us: np.ndarray  # int64, time of the ad click
    reached: np.ndarray  # int8, the last state reached, 0..9
    propensity: np.ndarray  # P(purchase | downloaded) for this person
    pricing: np.ndarray  # bool: viewed the pricing page in the first session
    meta: np.ndarray  # bool: came from Meta (fbclid), else Google (gclid)
    campaign: np.ndarray  # 0..2, adset 0..2 and ad 0..1 below
    adset: np.ndarray
    ad: np.ndarray
    device: np.ndarray  # index into catalog.DEVICES
    geo: np.ndarray  # index into catalog.GEOS
    auth: np.ndarray  # index into catalog.AUTH_METHODS
    grant: np.ndarray  # free credits at signup
    failed_before: np.ndarray  # failed jobs before the first success (or in all, below S7)
    slow: np.ndarray  # bool: the first successful job was slow
    first_job_delay_s: np.ndarray  # float: the pause before the first upload (time to value)
    hazard: np.ndarray  # float: P(no activity within 30 days of the first download); nan below S8
    active: np.ndarray  # bool: came back within 30 days of the first download
    product: np.ndarray  # index into catalog.PRICE_LIST for buyers, -1 otherwise
    returns: np.ndarray  # number of return sessions

    @property
    def churned(self) -> np.ndarray:
        out: np.ndarray = (self.reached >= 8) & ~self.active
        return out


def _choice(
    rng: np.random.Generator, weighted: tuple[tuple[object, float], ...], n: int
) -> np.ndarray:
    return rng.choice(len(weighted), size=n, p=[w for _, w in weighted])


def draw(config: SimConfig, users: int, days: int, rng: np.random.Generator) -> Population:
    """Draw `users` people who clicked an ad at a uniform time within `days` days."""
    n = users
    arrival = c.START_US + (rng.random(n) * days * c.DAY_US).astype(np.int64)
    meta = rng.random(n) < c.META_SHARE
    campaign = rng.integers(0, 3, size=n)
    adset = rng.integers(0, 3, size=n)
    ad = rng.integers(0, 2, size=n)
    device = _choice(rng, c.DEVICES, n)
    geo = rng.integers(0, len(c.GEOS), size=n)
    pricing = rng.random(n) < c.PRICING_VIEW_SHARE
    grant = np.array([g for g, _ in c.GRANTS])[_choice(rng, c.GRANTS, n)]
    # Failed jobs before the first success and a slow first success, as everyone who reaches
    # S7 has them; masked below for people who stop earlier.
    failed_before = rng.choice(3, size=n, p=[0.7, 0.22, 0.08])
    slow = rng.random(n) < hazard_numbers(config).slow_job_share
    delay = c.FIRST_JOB_DELAY_MEDIAN_S * np.exp(c.FIRST_JOB_DELAY_LOG_SD * rng.standard_normal(n))
    terms = (
        np.array([c.PURCHASE_LOGIT_DEVICE[name] for name, _ in c.DEVICES])[device]
        + np.array([c.PURCHASE_LOGIT_GEO[g] for g in c.GEOS])[geo]
        + np.array(c.PURCHASE_LOGIT_CAMPAIGN)[campaign]
        + c.PURCHASE_LOGIT_FAILED_JOB * (failed_before > 0)
        + c.PURCHASE_LOGIT_SLOW_JOB * slow
        + c.PURCHASE_LOGIT_PRICING_VIEWED * pricing
        + c.PURCHASE_LOGIT_PER_LOG_DELAY * np.log(delay / c.FIRST_JOB_DELAY_MEDIAN_S)
    )
    propensity = _propensity(terms, config.rate("S9|S8"))
    reached = np.zeros(n, dtype=np.int8)
    alive = np.ones(n, dtype=bool)
    uniforms = rng.random((9, n))
    for step in range(1, 10):
        p = propensity if step == 9 else config.rate(f"S{step}|S{step - 1}")
        alive &= uniforms[step - 1] < p
        reached[alive] = step
    # All of a person's jobs failed for S6 only.
    only_failures = reached == 6
    failed_before[only_failures] = 1 + (rng.random(only_failures.sum()) < 0.4)
    failed_before[reached < 6] = 0
    slow &= reached >= 7
    x = churn_covariates(failed_before, slow, grant, device, geo, campaign)
    hazard, active = _churn(config, reached, x, rng)
    product = np.where(
        reached >= 9, rng.choice(len(c.PRICE_LIST), size=n, p=[p.weight for p in c.PRICE_LIST]), -1
    )
    returns = np.where(active, 1 + np.minimum(rng.poisson(2.0, size=n), 5), 0)
    return Population(
        size=n,
        arrival_us=arrival,
        reached=reached,
        propensity=propensity,
        pricing=pricing,
        meta=meta,
        campaign=campaign,
        adset=adset,
        ad=ad,
        device=device,
        geo=geo,
        auth=_choice(rng, c.AUTH_METHODS, n),
        grant=grant,
        failed_before=failed_before,
        slow=slow,
        first_job_delay_s=delay,
        hazard=hazard,
        active=active,
        product=product,
        returns=returns,
    )


def _propensity(terms: np.ndarray, mean: float) -> np.ndarray:
    """sigmoid(intercept + terms), the intercept solved by bisection so the mean is `mean`."""
    if not 0 < mean < 1 or len(terms) == 0:
        return np.full(len(terms), mean)
    low, high = -30.0, 30.0
    for _ in range(100):
        mid = (low + high) / 2
        if float(np.mean(1 / (1 + np.exp(-(mid + terms))))) < mean:
            low = mid
        else:
            high = mid
    out: np.ndarray = 1 / (1 + np.exp(-((low + high) / 2 + terms)))
    return out


CHURN_COVARIATES = (
    "failed_job", "slow_job", "low_credits", "mobile", "tablet", "geo_br_in", "campaign_1",
    "campaign_2",
)  # fmt: skip


def _cloglog(p: float) -> float:
    q = min(max(p, 1e-9), 1 - 1e-9)
    return math.log(-math.log1p(-q))


def churn_log_hazard_ratios(h: HazardNumbers) -> np.ndarray:
    """The log hazard ratio of each of CHURN_COVARIATES (the buyer term is solved per run)."""
    base = _cloglog(h.base)
    from_config = [
        _cloglog(min(h.base + extra, h.max)) - base
        for extra in (h.extra_if_failed_job, h.extra_if_slow_job, c.EXTRA_CHURN_IF_LOW_CREDITS)
    ]
    geo = max(c.CHURN_LOG_HR_GEO.values(), default=0.0)
    return np.array(
        from_config
        + [c.CHURN_LOG_HR_DEVICE["mobile"], c.CHURN_LOG_HR_DEVICE["tablet"], geo]
        + list(c.CHURN_LOG_HR_CAMPAIGN[1:])
    )


def churn_covariates(
    failed_before: np.ndarray,
    slow: np.ndarray,
    grant: np.ndarray,
    device: np.ndarray,
    geo: np.ndarray,
    campaign: np.ndarray,
) -> np.ndarray:
    """(n, len(CHURN_COVARIATES)) 0/1 matrix of each person's churn covariates."""
    names = [name for name, _ in c.DEVICES]
    geo_hit = np.array([g in c.CHURN_LOG_HR_GEO for g in c.GEOS])[geo]
    columns = (
        failed_before > 0,
        slow,
        (grant - 1) <= c.LOW_CREDITS,
        device == names.index("mobile"),
        device == names.index("tablet"),
        geo_hit,
        campaign == 1,
        campaign == 2,
    )
    return np.column_stack(columns).astype(np.float64)


def _solve(eta: np.ndarray, mean: float) -> float:
    """The shift a with mean(1 - exp(-exp(a + eta))) = mean, by bisection."""
    low, high = -30.0, 30.0
    for _ in range(100):
        mid = (low + high) / 2
        if float(np.mean(-np.expm1(-np.exp(mid + eta)))) < mean:
            low = mid
        else:
            high = mid
    return (low + high) / 2


def _churn(
    config: SimConfig, reached: np.ndarray, x: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Each person's 30-day churn probability after the first download, and who stays."""
    h = hazard_numbers(config)
    failed, slow, low = x[:, 0], x[:, 1], x[:, 2]
    additive = np.clip(
        h.base
        + h.extra_if_failed_job * failed
        + h.extra_if_slow_job * slow
        + c.EXTRA_CHURN_IF_LOW_CREDITS * low,
        0.0,
        h.max,
    )
    eta = x @ churn_log_hazard_ratios(h)
    buyers, others = reached >= 9, reached == 8
    if others.any():
        eta = eta + _solve(eta[others], float(additive[others].mean()))
    if buyers.any():
        eta = np.where(buyers, eta + _solve(eta[buyers], 1.0 - config.rate("S10|S9")), eta)
    churn = -np.expm1(-np.exp(eta))
    hazard = np.where(reached >= 8, churn, np.nan)
    active = (reached >= 8) & (rng.random(len(reached)) < 1.0 - churn)
    return hazard, active

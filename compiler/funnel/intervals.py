"""Jeffreys 95% intervals for a proportion: quantiles of Beta(k + 1/2, n - k + 1/2).

Pure Python (no scipy in the core install): the regularized incomplete beta by Lentz's continued
fraction, inverted by bisection. Following Brown, Cai and DasGupta (2001), the lower bound is 0
when k = 0 and the upper bound is 1 when k = n. Checked against scipy in the tests.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

JEFFREYS = 0.5
LEVEL = 0.95


def _beta_cf(a: float, b: float, x: float) -> float:
    """The continued fraction of I_x(a, b) (Numerical Recipes' betacf, modified Lentz)."""
    tiny, eps = 1e-300, 1e-15

    def clamp(v: float) -> float:
        return v if abs(v) > tiny else tiny

    c, d = 1.0, 1.0 / clamp(1.0 - (a + b) * x / (a + 1.0))
    h = d
    for m in range(1, 10_000):
        even = m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m))
        odd = -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))
        for coefficient in (even, odd):
            d = 1.0 / clamp(1.0 + coefficient * d)
            c = clamp(1.0 + coefficient / c)
            h *= d * c
        if abs(d * c - 1.0) < eps:
            break
    return h


def beta_cdf(x: float, a: float, b: float) -> float:
    """The regularized incomplete beta I_x(a, b)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = (
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(log_front) * _beta_cf(a, b, x) / a
    return 1.0 - math.exp(log_front) * _beta_cf(b, a, 1.0 - x) / b


def beta_quantile(q: float, a: float, b: float) -> float:
    """x with I_x(a, b) = q, to about 1e-12."""
    lo, hi = 0.0, 1.0
    for _ in range(100):
        mid = (lo + hi) / 2
        if beta_cdf(mid, a, b) < q:
            lo = mid
        else:
            hi = mid
        if hi - lo < 1e-13:
            break
    return (lo + hi) / 2


@dataclass(frozen=True)
class Proportion:
    """k of n, with its rate and Jeffreys interval (rate and bounds None when n = 0)."""

    numerator: int
    denominator: int

    @property
    def rate(self) -> float | None:
        return self.numerator / self.denominator if self.denominator else None

    @property
    def alpha(self) -> float:
        return self.numerator + JEFFREYS

    @property
    def beta(self) -> float:
        return self.denominator - self.numerator + JEFFREYS

    def interval(self, level: float = LEVEL) -> tuple[float | None, float | None]:
        k, n = self.numerator, self.denominator
        if n == 0:
            return None, None
        tail = (1 - level) / 2
        low = 0.0 if k == 0 else beta_quantile(tail, self.alpha, self.beta)
        high = 1.0 if k == n else beta_quantile(1 - tail, self.alpha, self.beta)
        return low, high

    def to_json(self) -> dict[str, float | int | None]:
        low, high = self.interval()
        return {
            "numerator": self.numerator,
            "denominator": self.denominator,
            "rate": self.rate,
            "ci_low": low,
            "ci_high": high,
        }

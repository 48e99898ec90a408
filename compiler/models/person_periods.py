"""Person-period rows for the discrete-time hazard: one row per person per period at risk.

`expand` turns per-person durations (the last period observed, 1-based) and an event flag
(1 = the event happened in that last period, 0 = censored after it) into rows for periods
1..duration. Covariates are fixed (one value per person, repeated on each row) or time-varying
(one value per person per period, wide: column t-1 holds period t, as Rossi's emp1..emp52).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from compiler.models.hazard import HazardError


@dataclass(frozen=True)
class PersonPeriods:
    """Rows ready for fit_hazard: person index, period, event (0/1), covariates X."""

    person: npt.NDArray[np.int64]
    period: npt.NDArray[np.int64]
    event: npt.NDArray[np.int64]
    X: npt.NDArray[np.float64]
    names: tuple[str, ...]


def expand(
    duration: Any,
    event: Any,
    fixed: Any = None,
    fixed_names: tuple[str, ...] = (),
    varying: Any = None,
    varying_names: tuple[str, ...] = (),
) -> PersonPeriods:
    """Rows for persons i = 0..n-1, periods 1..duration[i].

    fixed: (n, k) per-person values; varying: (n, T, m) per-person-per-period values with
    T >= max(duration). Raises HazardError on mismatched shapes, NaN where a row needs a value,
    durations below 1 or events that are not 0/1."""
    d = np.asarray(duration)
    ev = np.asarray(event)
    n = len(d)
    if len(ev) != n:
        raise HazardError(f"mismatched lengths: duration {n}, event {len(ev)}")
    df = d.astype(np.float64)
    if np.isnan(df).any() or (df != np.round(df)).any() or (df < 1).any():
        raise HazardError("durations must be whole numbers of periods >= 1")
    if not np.isin(ev, (0, 1)).all():
        raise HazardError("event must be 0 or 1")
    d = d.astype(np.int64)
    person = np.repeat(np.arange(n, dtype=np.int64), d)
    starts = np.cumsum(d) - d
    period = np.arange(len(person), dtype=np.int64) - np.repeat(starts, d) + 1
    last = period == np.repeat(d, d)
    rows_event = (last & (np.repeat(ev.astype(np.int64), d) == 1)).astype(np.int64)
    columns: list[npt.NDArray[np.float64]] = []
    if fixed is not None:
        f = np.asarray(fixed, dtype=np.float64).reshape(n, -1)
        if f.shape[1] != len(fixed_names):
            raise HazardError(f"{f.shape[1]} fixed covariate(s) but names {fixed_names!r}")
        columns.append(f[person])
    if varying is not None:
        v = np.asarray(varying, dtype=np.float64)
        if v.ndim != 3 or v.shape[0] != n or v.shape[2] != len(varying_names):
            raise HazardError(
                f"varying covariates must be (persons={n}, periods, {len(varying_names)}); "
                f"got {v.shape}"
            )
        if v.shape[1] < d.max():
            raise HazardError(f"varying covariates cover {v.shape[1]} period(s), need {d.max()}")
        columns.append(v[person, period - 1, :])
    X = np.hstack(columns) if columns else np.zeros((len(person), 0))
    if np.isnan(X).any():
        raise HazardError("a covariate is NaN in a period where the person is at risk")
    return PersonPeriods(person, period, rows_event, X, (*fixed_names, *varying_names))

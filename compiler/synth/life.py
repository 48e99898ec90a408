"""One person's plan: the chain's events at their drawn times, then what the latent facts demand.

Every fact becomes either a window where some events must not happen (`forbid`), a test some
events' values must fail (`unwanted`), or an event placed where nothing forbids it (`must`):

- the chain: the state's event at its time; a copy of a chain event only after its own state
  was reached (a copy elsewhere could move or create a state);
- not retained (active_within R after A): none of R's events in (t_A, t_A + days];
  retained: one of them there;
- churned: none of the churn's silent events after the anchor, maybe an exit event (a cancel)
  within the window; not churned: one activity event within the window, no exit event, and
  more activity later;
- a covariate that holds: its event, with a value that passes the test, by the anchor; one that
  does not: its event absent by the anchor, or with values that fail the test.
Other events are sprinkled where nothing forbids them, so every event of the plan can appear.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Any

from compiler.synth.draw import People
from compiler.synth.timeline import DAY_US, HOUR_US, SECOND_US
from compiler.synth.values import MISSING, Where
from compiler.synth.world import World

NEVER, FOREVER = -(1 << 62), 1 << 62
MARGIN_US = SECOND_US  # placed events keep this far from a window's edges
EXIT_SHARE = 0.35  # of the people who churn, those who also send an exit event (a cancel)
EXTRA_ACTIVITY = 1.5  # mean further activity events of people who stay, after the window


@dataclass(frozen=True)
class Window:
    """(times[state] + lo, times[state] + hi]: none of `events` there."""

    events: frozenset[str]
    state: int
    lo: int
    hi: int


@dataclass(frozen=True)
class Unwanted:
    """`event` by times[state] must not pass `where` on `property`."""

    event: str
    property: str
    where: Where
    state: int


@dataclass(order=True)
class Occurrence:
    t: int
    seq: int
    event: str = field(compare=False)
    marker: int = field(default=-1, compare=False)  # chain index when it marks a state
    forced: dict[str, Any] = field(default_factory=dict, compare=False)


class Life:
    """The plan of person i; `allowed` is asked again with the real times when emitting."""

    def __init__(self, world: World, people: People, i: int, r: random.Random) -> None:
        self.world, self.r = world, r
        self.reached = int(people.reached[i])
        self.start = int(people.arrival_us[i])
        self.times = [int(t) for t in people.times[i]]
        self.emitted = 0  # markers sent so far; their times are the real ones
        self.forbid: list[Window] = []
        self.unwanted: list[Unwanted] = []
        self.occurrences: list[Occurrence] = []
        self._plan(people, i)
        self.occurrences.sort()

    # -- the rules -------------------------------------------------------------------------

    def allowed(self, event: str, t: int) -> bool:
        for k in self.world_marks(event):
            if k > self.reached or k >= self.emitted:
                return False
        for w in self.forbid:
            if event in w.events:
                base = self.times[w.state]
                if base >= 0 and base + w.lo < t <= base + w.hi:
                    return False
        return True

    def world_marks(self, event: str) -> tuple[int, ...]:
        return self.world.marks.get(event, ())

    def unwanted_for(self, event: str, t: int) -> list[Unwanted]:
        return [u for u in self.unwanted if u.event == event and t <= self.times[u.state]]

    def spans(self, event: str, lo: int, hi: int) -> list[tuple[int, int]]:
        """Where `event` may be placed within (lo, hi], by the planned times."""
        for k in self.world_marks(event):
            if k > self.reached:
                return []
            lo = max(lo, self.times[k])
        out = [(lo, hi)]
        for w in self.forbid:
            base = self.times[w.state]
            if event not in w.events or base < 0:
                continue
            a, b = base + w.lo, base + w.hi
            out = [p for s, e in out for p in ((s, min(e, a)), (max(s, b), e)) if p[0] < p[1]]
        return [(s + MARGIN_US, e - MARGIN_US) for s, e in out if e - s > 3 * MARGIN_US]

    # -- the plan --------------------------------------------------------------------------

    def add(
        self, t: int, event: str, marker: int = -1, forced: dict[str, Any] | None = None
    ) -> None:
        self.occurrences.append(Occurrence(t, len(self.occurrences), event, marker, forced or {}))

    def place(
        self, events: frozenset[str], lo: int, hi: int, forced: dict[str, Any] | None = None
    ) -> bool:
        """One of `events` at a free time in (lo, hi]; False when there is none."""
        options = sorted(events)
        self.r.shuffle(options)
        for event in options:
            spans = self.spans(event, lo, hi)
            total = sum(e - s for s, e in spans)
            if total <= 0:
                continue
            x = int(self.r.random() * total)
            for s, e in spans:
                if x < e - s:
                    self.add(s + x + 1, event, forced=forced)
                    return True
                x -= e - s
        return False

    def _plan(self, people: People, i: int) -> None:
        world, times = self.world, self.times
        for k in range(self.reached + 1):
            self.add(times[k], world.chain[k].event or "", marker=k)
        musts: list[tuple[frozenset[str], int, int, int, dict[str, Any] | None]] = []
        for j, rule in enumerate(world.retention):
            if self.reached < rule.after:
                continue
            span = rule.days * DAY_US
            if people.retained[i, j]:
                musts.append((rule.events, rule.after, 0, span, None))
            else:
                self.forbid.append(Window(rule.events, rule.after, 0, span))
        last = times[self.reached] if self.reached >= 0 else self.start
        end = last + int((1 + self.r.random() * 71) * HOUR_US)
        for q, model in enumerate(world.quiet):
            if self.reached < model.at_risk:
                continue
            a = model.anchor if self.reached >= model.anchor else model.at_risk
            span = model.window_days * DAY_US
            for j, cov in enumerate(model.covariates):
                if people.facts[q][i, j]:
                    self._covariate(cov.event, cov.property, cov.test, cov.value, a, musts)
                elif cov.property is None or cov.test is None:
                    self.forbid.append(Window(frozenset({cov.event}), a, NEVER, 0))
                else:
                    where = Where(cov.test, cov.value, False)
                    self.unwanted.append(Unwanted(cov.event, cov.property, where, a))
            if people.churned[i, q]:
                self.forbid.append(Window(model.silent, a, 0, FOREVER))
                if model.exits and self.r.random() < EXIT_SHARE:
                    musts.append((model.exits, a, 0, span, None))
                continue
            self.forbid.append(Window(model.no_exit, a, NEVER, FOREVER))
            musts.append((model.activity, a, 0, span, None))
            horizon = times[a] + world.horizon_days * 2 * DAY_US
            end = max(end, horizon)
            for _ in range(_poisson(self.r, EXTRA_ACTIVITY)):
                musts.append((model.activity, a, span, horizon - times[a], None))
        for events, state, lo, hi, forced in musts:
            self.place(events, times[state] + lo, times[state] + hi, forced)
        self._sprinkle(end)

    def _covariate(
        self,
        event: str,
        prop: str | None,
        test: str | None,
        value: Any,
        anchor: int,
        musts: list[tuple[frozenset[str], int, int, int, dict[str, Any] | None]],
    ) -> None:
        forced: dict[str, Any] | None = None
        if prop is not None and test is not None:
            ep = self.world.plan.events[event].get(prop)
            drawn = (
                MISSING
                if ep is None
                else self.world.values.draw(ep.property, self.r, Where(test, value, True))
            )
            if drawn is MISSING:
                return  # no value passes: the fact cannot hold
            forced = {prop: drawn}
            for occ in self.occurrences:  # the state's own event, when it comes by the anchor
                if occ.event == event and 0 <= occ.marker <= anchor:
                    occ.forced.update(forced)
                    return
        elif any(0 <= k <= anchor for k in self.world_marks(event)):
            return  # the state's own event is the fact
        first = self.start
        musts.append((frozenset({event}), anchor, first - self.times[anchor], 0, forced))

    def _sprinkle(self, end: int) -> None:
        world, r = self.world, self.r
        start = self.start
        count = _poisson(r, 1.0 + 0.6 * (self.reached + 1))
        if self.reached < 0:  # no funnel: the first event marks the arrival
            self.add(start, world.sprinkle[int(r.random() * len(world.sprinkle))])
        for _ in range(count):
            event = world.sprinkle[int(r.random() * len(world.sprinkle))]
            t = start + 1 + int(r.random() * max(end - start, 1))
            if self.allowed_planned(event, t):
                self.add(t, event)

    def allowed_planned(self, event: str, t: int) -> bool:
        for k in self.world_marks(event):
            if k > self.reached or t <= self.times[k] + MARGIN_US:
                return False
        for w in self.forbid:
            base = self.times[w.state]
            if (
                event in w.events
                and base >= 0
                and base + w.lo - MARGIN_US < t <= base + w.hi + MARGIN_US
            ):
                return False
        return True


def _poisson(r: random.Random, mean: float) -> int:
    """Knuth's method: small means only."""
    limit, k, p = math.exp(-mean), 0, r.random()
    while p > limit:
        k += 1
        p *= r.random()
    return k

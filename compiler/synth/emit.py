"""Sending a person's planned events: their properties, their prerequisites, and identity.

Before an event goes out, everything it needs goes out just before it, all or nothing:
- the sequence rules: a `requires_before` event not yet sent by this person (match_on person),
  or not yet sent with the same key value (match_on a property: the key is taken from the
  person's earlier keys when one fits, else drawn new);
- identity: the `stitch_on` event before an event that must carry the user id, and
  `$identify` (browser layers) or `$create_alias` (server layers) just before the first
  `stitch_on`, after which the distinct id is the user id and the user id rides on every event.
Each of them must be allowed by the person's plan at its own time (`Life.allowed`); a planned
event whose prerequisites are not allowed is dropped (a chain state's event is always sent).
"""

from __future__ import annotations

from typing import Any

from compiler.plan.model import Event
from compiler.synth.life import FOREVER, Life, Occurrence
from compiler.synth.timeline import Timeline, uuid7
from compiler.synth.values import MISSING
from compiler.synth.world import World

MAX_DEPTH = 8
LATER = FOREVER // 2  # a state's time while its event is being prepared
OPTIONAL_SHARE = 0.65  # an optional property is sent this often
NULL_SHARE = 0.08  # a nullable property is null this often
REUSE_KEY = 0.8  # an event with a key takes an earlier key that fits this often
Step = tuple[str, dict[str, Any], str]  # (event, properties, layer)


class Emitter:
    def __init__(
        self, world: World, life: Life, tl: Timeline, user_id: str, envelope: dict[str, Any]
    ) -> None:
        self.world, self.life, self.tl, self.r = world, life, tl, tl.r
        self.plan = world.plan
        self.user_id = user_id
        self.envelope_values = (
            envelope  # this person's values of the envelope fields without a role
        )
        self.seen: dict[str, None] = {}
        self.keys: dict[tuple[str, str], dict[Any, None]] = {}
        self.currency: dict[str, Any] = {}
        identity = self.plan.identity
        self.stitch_on = (
            identity.stitch_on if identity and identity.stitch_on in self.plan.events else None
        )
        self.alias_ok = identity is not None and "alias" in identity.methods
        self.identify_ok = identity is None or "identify" in identity.methods
        self.stitched = False
        user, session = world.roles["user_id"], world.roles["session_id"]
        self.user_field = user.name if user else None
        self.user_required = user is not None and user.required
        self.user_nullable = user is not None and user.property.nullable
        self.session_field = session.name if session else None
        self.session_required = session is not None and session.required
        self.dropped = 0  # planned events left out: their prerequisites were not allowed
        self.unsent = 0

    def run(self) -> None:
        for occ in self.life.occurrences:
            self.tl.t = max(self.tl.t, occ.t)
            self.fire(occ)

    def fire(self, occ: Occurrence) -> None:
        marker = occ.marker >= 0
        if not marker and not self.life.allowed(occ.event, self.tl.t + 1000):
            self.dropped += 1  # not allowed even alone: no need to build it
            return
        if marker:  # its prerequisites go out before it: it is later than all of them
            self.life.times[occ.marker] = LATER
        steps: list[Step] = []
        # A key from the person's earlier events when one fits: often for a sprinkled event
        # (else a new key and its prerequisites), always for a state's event or a second try.
        for reuse in (1.0,) if marker else (REUSE_KEY, 1.0):
            built = self.props(occ.event, self.tl.t, occ.forced, reuse=reuse)
            steps = []
            if built is not None and self._needs(occ.event, built, steps, _Dry(self), 0, marker):
                break
        else:
            if not marker:
                self.dropped += 1
                return
            # A state's event always goes out (it defines the funnel), even when it cannot be
            # made whole; `unsent` counts it.
            self.unsent += 1
            props, layer = built or (dict(occ.forced), self.layer(occ.event))
            steps = [(occ.event, props, layer)]
        for event, props, layer in steps:
            self.send(event, props, layer)
        if marker:  # the state's event is the last step; its real time is the state's time
            self.life.times[occ.marker] = self.tl.rows[-1][0]
            self.life.emitted = occ.marker + 1

    def layer(self, event: str) -> str:
        layers = self.plan.events[event].layers
        return layers[0] if len(layers) == 1 else layers[int(self.r.random() * len(layers))]

    # -- prerequisites ---------------------------------------------------------------------

    def _needs(
        self,
        event: str,
        built: tuple[dict[str, Any], str],
        steps: list[Step],
        dry: _Dry,
        depth: int,
        marker: bool = False,
    ) -> bool:
        if depth > MAX_DEPTH:
            return False
        props, layer = built
        ev = self.plan.events[event]
        if (
            self.stitch_on is not None
            and event != self.stitch_on
            and not dry.stitched
            and self.user_field in ev.envelope_required
        ):
            mark = len(steps)
            sign_in = self.props(self.stitch_on, dry.at(steps))
            if sign_in is None or not self._needs(self.stitch_on, sign_in, steps, dry, depth + 1):
                del steps[mark:]
        for rule in self.world.person_rules.get(event, ()):
            for need in rule.requires_before:
                if not dry.has(need):
                    before = self.props(need, dry.at(steps))
                    if before is None or not self._needs(need, before, steps, dry, depth + 1):
                        return False
        for rule in self.world.keyed_rules.get(event, ()):
            value = props.get(rule.match_on)
            if value is None:
                continue
            for need in rule.requires_before:
                if dry.has_key(need, rule.match_on, value):
                    continue
                if self.plan.events[need].get(rule.match_on) is None:
                    return False
                before = self.props(need, dry.at(steps), {rule.match_on: value})
                if before is None or not self._needs(need, before, steps, dry, depth + 1):
                    return False
        if not marker and not self.life.allowed(event, dry.at(steps)):
            return False
        steps.append((event, props, layer))
        dry.add(event, props)
        return True

    # -- properties ------------------------------------------------------------------------

    def props(
        self, event: str, t: int, forced: dict[str, Any] | None = None, *, reuse: float = 0.0
    ) -> tuple[dict[str, Any], str] | None:
        """The properties of one `event` sent at `t`, and its layer; None if none can be valid."""
        ev = self.plan.events[event]
        world, r, draw = self.world, self.r, self.world.values.draw
        out: dict[str, Any] = {}
        for ing in world.recipe(event):
            name = ing.name
            if forced and name in forced:
                out[name] = forced[name]
                continue
            if not ing.required and r.random() >= OPTIONAL_SHARE:
                continue
            if reuse and ing.key:
                earlier = self._reuse(event, name, reuse)
                if earlier is not MISSING:
                    out[name] = earlier
                    continue
            if ing.currency:
                value = self._currency(name, ev)
            else:
                value = draw(ing.prop, r, now_us=t, money=ing.money)
            if value is MISSING:
                if ing.required:
                    return None
                continue
            if ing.prop.nullable and not ing.key and r.random() < NULL_SHARE:
                value = None
            out[name] = value
        for u in self.life.unwanted_for(event, t):
            value = out.get(u.property)
            if value is None or not u.where.passes(value):
                continue
            used = ev.get(u.property)
            assert used is not None
            value = world.values.draw(used.property, r, u.where, now_us=t)
            if value is not MISSING:
                out[u.property] = value
            elif used.required:
                return None
            else:
                del out[u.property]
        layer = self.layer(event)
        self._envelope(ev, out, layer)
        return out, layer

    def _envelope(self, ev: Event, out: dict[str, Any], layer: str) -> None:
        env = self.tl.envelope
        for name in ev.envelope_required:
            if name == self.user_field and env.user_key and not self.stitched:
                out[env.user_key] = self.user_id
            elif name == self.session_field and layer not in env.browser:
                out[env.session_key] = self.tl.session_id or uuid7(self.tl.t, self.r)
            elif name in self.envelope_values:
                out[env.keys[name]] = self.envelope_values[name]
        if self.user_required and env.user_key and not self.stitched and env.user_key not in out:
            out[env.user_key] = None if self.user_nullable else self.user_id
        if self.session_required and layer not in env.browser and env.session_key not in out:
            out[env.session_key] = self.tl.session_id or uuid7(self.tl.t, self.r)

    def _reuse(self, event: str, name: str, share: float) -> Any:
        """An earlier key value for which every rule's `requires_before` was sent, maybe."""
        if share < 1.0 and self.r.random() >= share:
            return MISSING
        needs = [
            n
            for rule in self.world.keyed_rules.get(event, ())
            if rule.match_on == name
            for n in rule.requires_before
        ]
        pools = [self.keys.get((n, name), {}) for n in needs]
        if not pools:
            return MISSING
        fits = [v for v in pools[0] if all(v in p for p in pools[1:])]
        return fits[int(self.r.random() * len(fits))] if fits else MISSING

    def _currency(self, name: str, ev: Event) -> Any:
        if name not in self.currency:
            ep = ev.get(name)
            assert ep is not None
            prop, values = ep.property, self.world.values
            home = next((c for c in ("USD", "EUR", "GBP") if values.valid(prop, c)), None)
            self.currency[name] = (
                home if home and self.r.random() < 0.8 else values.draw(prop, self.r)
            )
            if self.currency[name] is MISSING:
                self.currency[name] = values.draw(prop, self.r)
        return self.currency[name]

    # -- sending ---------------------------------------------------------------------------

    def send(self, event: str, props: dict[str, Any], layer: str) -> None:
        tl = self.tl
        if event == self.stitch_on and not self.stitched:
            browser = layer in tl.envelope.browser
            if (browser and self.identify_ok) or not self.alias_ok:
                tl.identify(self.user_id, source=layer)
            else:
                tl.alias(self.user_id, source=layer)
            self.stitched = True
        if self.stitched and tl.envelope.user_key:
            props.pop(tl.envelope.user_key, None)  # the timeline adds the user id now
        tl.emit(event, props, source=layer)
        self.seen[event] = None
        for name in _key_names(self.world, event):
            value = props.get(name)
            if value is not None:
                self.keys.setdefault((event, name), {})[_hashable(value)] = None


def _key_names(world: World, event: str) -> set[str]:
    return world.key_properties.get(event, set())


def _hashable(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


class _Dry:
    """What the person will have sent once the steps so far go out."""

    def __init__(self, em: Emitter) -> None:
        self.em = em
        self.seen: set[str] = set()
        self.keys: set[tuple[str, str, Any]] = set()
        self.stitched = em.stitched

    def at(self, steps: list[Step]) -> int:
        return self.em.tl.t + 1000 * (len(steps) + 1)

    def has(self, event: str) -> bool:
        return event in self.em.seen or event in self.seen

    def has_key(self, event: str, name: str, value: Any) -> bool:
        value = _hashable(value)
        return value in self.em.keys.get((event, name), {}) or (event, name, value) in self.keys

    def add(self, event: str, props: dict[str, Any]) -> None:
        self.seen.add(event)
        for name in _key_names(self.em.world, event):
            if props.get(name) is not None:
                self.keys.add((event, name, _hashable(props[name])))
        if event == self.em.stitch_on:
            self.stitched = True

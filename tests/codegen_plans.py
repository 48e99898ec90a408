"""Plans unlike BlankLogo's, for the codegen, preview and audit tests: written into a temporary
directory by the test, loaded and linted like any user's plan.

ORBIT renames every envelope role (visitor_id is the distinct id, sent_at the timestamp, origin
the source, env the environment with values [production, staging], member_id the user id,
message_id the event id), has two browser layers with no `web` among them (mobile_web, kiosk),
one server layer (api), identity rules with its own prefixes, no session id and no destinations.
`without_source` is the minimal fixture plan minus its source field: no source, environment,
session or event id role at all.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from compiler.plan import Plan, load_plan
from tests.conftest import FIXTURES

ORBIT = """\
plan:
  name: Orbit
  version: 2.1.0
  description: Ride booking, with renamed envelope fields, two browser layers and no destinations.
  schema_base_uri: https://schemas.orbit.example/

layers:
  mobile_web: {runtime: browser, description: The mobile site.}
  kiosk: {runtime: browser, description: Airport kiosks.}
  api: {runtime: server, description: The booking API.}

categories:
  booking: {title: Booking, description: Rides.}

properties:
  event: {type: string, description: Event name.}
  message_id: {type: string, format: uuid, description: Event id.}
  visitor_id: {type: string, min_length: 1, description: Who.}
  sent_at: {type: string, format: date-time, description: When.}
  origin: {type: string, enum: [mobile_web, kiosk, api], description: The sending layer.}
  env: {type: string, enum: [production, staging], description: Deployment.}
  member_id: {type: string, nullable: true, pattern: '^m_', description: Signed-in member.}
  screen_name: {type: string, enum: [home, search, checkout], description: Screen.}
  ride_id: {type: string, pattern: '^ride_', description: Ride id.}
  fare: {type: number, minimum: 0, description: Fare.}
  currency: {type: string, pattern: '^[A-Z]{3}$', description: ISO 4217.}
  seats: {type: integer, minimum: 1, maximum: 8, description: Seats.}
  promo_code: {type: string, description: Promo code.}

envelope:
  event: {placement: top, required: true}
  message_id: {placement: top, required: false, role: event_id}
  visitor_id: {placement: top, required: true, role: distinct_id}
  sent_at: {placement: top, required: true, role: timestamp}
  origin: {placement: top, required: true, role: source}
  env: {placement: top, required: true, role: environment}
  member_id: {placement: top, required: false, role: user_id}
  promo_code: {placement: properties, required: false}

events:
  screen_viewed:
    category: booking
    description: A screen was shown.
    layers: [mobile_web, kiosk]
    required: [screen_name]
  ride_searched:
    category: booking
    description: Rides were searched.
    layers: [mobile_web, kiosk, api]
    required: [seats]
  member_signed_in:
    category: booking
    description: A member signed in.
    layers: [api]
    envelope_required: [member_id]
  ride_booked:
    category: booking
    description: A ride was booked.
    layers: [api]
    required: [ride_id, fare, currency, seats]
    envelope_required: [member_id]

identity:
  description: Visitors become members when they sign in.
  stitch_on: member_signed_in
  anonymous_prefix: v_
  user_prefix: m_
"""


def write_plan(root: Path, text: str) -> Plan:
    """Write `text` as root/plan.yaml and load it; it must lint clean."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "plan.yaml").write_text(text, encoding="utf-8")
    result = load_plan(root)
    assert not result.diagnostics, [d.format() for d in result.diagnostics]
    return result.plan


def without_source_text() -> str:
    """The minimal fixture plan with no source field (so no source or environment role)."""
    text = (FIXTURES / "plans" / "minimal" / "plan.yaml").read_text(encoding="utf-8")
    lines = text.splitlines(keepends=True)
    start = lines.index("  source:\n")
    del lines[start : start + 4]  # the property: type, enum, description
    out = "".join(lines).replace("  source: {placement: top, required: true}\n", "")
    assert "source" not in out, out
    return out


_LOADED: dict[str, tuple[Path, Plan]] = {}


def _once(name: str, text: str, factory: pytest.TempPathFactory) -> tuple[Path, Plan]:
    """Each plan written and loaded once per test session (test modules share the object, so
    renders cached by plan are shared too)."""
    if name not in _LOADED:
        root = factory.mktemp("plans") / name
        _LOADED[name] = (root, write_plan(root, text))
    return _LOADED[name]


def orbit_plan(factory: pytest.TempPathFactory) -> Plan:
    """ORBIT, for a test module's own fixture: `orbit_plan(tmp_path_factory)`."""
    return _once("orbit", ORBIT, factory)[1]


def sourceless_plan(factory: pytest.TempPathFactory) -> Plan:
    return _once("sourceless", without_source_text(), factory)[1]


def free_environment_text() -> str:
    """ORBIT with an environment field that has no enum (any non-empty string, default
    "production") and package names of its own from a `codegen` section."""
    old = "env: {type: string, enum: [production, staging], description: Deployment.}"
    assert old in ORBIT
    text = ORBIT.replace(old, "env: {type: string, min_length: 1, description: Deployment.}")
    codegen = "codegen:\n  python_package: orbit_free\n  npm_package: '@orbit/free'\n\n"
    return text.replace("layers:\n", codegen + "layers:\n", 1)


def free_environment_plan(factory: pytest.TempPathFactory) -> Plan:
    return _once("orbit_free_env", free_environment_text(), factory)[1]

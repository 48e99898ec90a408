"""Rows shaped like real SDK traffic, for the audit benchmark (issue 13, item 10).

The plan's own events and values come from the synth engine (`trackplan synth` on the shipped
plan: people walked through the funnel, every row valid against the plan). Each row is then
decorated with what the SDK of its layer's runtime (`plan.layers[...].runtime`) adds:

- browser (posthog-js 1.449, names checked in tests/node/node_modules/posthog-js/dist): about 35
  flat `$`-properties: `$os`, `$os_version`, `$browser`, `$browser_version`, `$device_type`,
  `$raw_user_agent`, `$current_url`, `$host`, `$pathname`, `$referrer`, `$referring_domain`,
  `$screen_height`/`_width`, `$viewport_height`/`_width`, `$browser_language`,
  `$browser_language_prefix`, `$timezone`, `$timezone_offset`, `$lib` ("web"), `$lib_version`,
  `$insert_id`, `$time`, `$device_id`, `$window_id`, `$pageview_id`, `$is_identified`,
  `$process_person_profile`, `$configured_session_timeout_ms`, `$ip`, the server-side geoip
  block (`$geoip_city_name`, `$geoip_country_name`, `$geoip_country_code`,
  `$geoip_continent_code`, `$geoip_postal_code`, `$geoip_latitude`, `$geoip_longitude`,
  `$geoip_time_zone`, `$geoip_subdivision_1_code` ...), the flag array `$active_feature_flags`
  with one `$feature/<flag>` key per flag (true or a variant string), `$set_once` (an object of
  `$initial_*` values) on a person's first browser event and `$set` on `$identify`;
- server (posthog-python 7.x, `client.py`): `$lib` "posthog-python", `$lib_version`,
  `$geoip_disable: true`.

Every added key starts with `$` (the SDK's namespace, never drift unless --strict-system), so
the decorated file audits exactly as the synth file does. Ids, times and geo are drawn per
person, session and row from a seeded generator: the same seed gives the same bytes.

`realistic_file(rows)` writes (once) and returns a cached file under $TRACKPLAN_BENCH_CACHE
(default: $TMPDIR/trackplan-bench); 1M rows is about 1.7 GB. Never committed.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import tempfile
import uuid as uuidlib
import zlib
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parents[2]
JS_VERSION = "1.449.2"  # tests/node/node_modules/posthog-js/package.json
try:  # the installed posthog-python's version, as its client sends it
    from posthog.version import VERSION as PY_VERSION
except ImportError:  # pragma: no cover
    PY_VERSION = "7.9.1"
# Synth's rows per person on the shipped plan is about 8; this many people make ~1M rows.
ROWS_PER_PERSON = 7.985

_BROWSERS = [  # (os, os_version, browser, versions, device_type, ua template, screen, weight)
    (
        "Windows",
        "10.0",
        "Chrome",
        ["131.0.0.0", "132.0.0.0"],
        "Desktop",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/{v} Safari/537.36",
        (1080, 1920),
        38,
    ),
    (
        "Mac OS X",
        "10.15.7",
        "Safari",
        ["18.1", "18.2"],
        "Desktop",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/{v} Safari/605.1.15",
        (982, 1512),
        14,
    ),
    (
        "iOS",
        "18.1.1",
        "Mobile Safari",
        ["18.1"],
        "Mobile",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
        "Gecko) Version/{v} Mobile/15E148 Safari/604.1",
        (844, 390),
        24,
    ),
    (
        "Android",
        "14.0.0",
        "Chrome",
        ["131.0.6778.135"],
        "Mobile",
        "Mozilla/5.0 (Linux; Android 14; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{v} "
        "Mobile Safari/537.36",
        (915, 412),
        16,
    ),
    (
        "Linux",
        "",
        "Firefox",
        ["133.0"],
        "Desktop",
        "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/{v}",
        (1080, 1920),
        8,
    ),
]
_GEO = [  # city, country, code, continent, postal, lat, lon, tz, subdivision code/name
    (
        "New York",
        "United States",
        "US",
        "NA",
        "10001",
        40.7128,
        -74.006,
        "America/New_York",
        "NY",
        "New York",
    ),
    (
        "Austin",
        "United States",
        "US",
        "NA",
        "73301",
        30.2672,
        -97.7431,
        "America/Chicago",
        "TX",
        "Texas",
    ),
    (
        "London",
        "United Kingdom",
        "GB",
        "EU",
        "EC1A",
        51.5072,
        -0.1276,
        "Europe/London",
        "ENG",
        "England",
    ),
    ("Berlin", "Germany", "DE", "EU", "10115", 52.52, 13.405, "Europe/Berlin", "BE", "Land Berlin"),
    (
        "São Paulo",
        "Brazil",
        "BR",
        "SA",
        "01000-000",
        -23.5505,
        -46.6333,
        "America/Sao_Paulo",
        "SP",
        "São Paulo",
    ),
    (
        "Bengaluru",
        "India",
        "IN",
        "AS",
        "560001",
        12.9716,
        77.5946,
        "Asia/Kolkata",
        "KA",
        "Karnataka",
    ),
]
_CONTINENTS = {"NA": "North America", "EU": "Europe", "SA": "South America", "AS": "Asia"}
_OFFSETS = {
    "America/New_York": 300,
    "America/Chicago": 360,
    "Europe/London": 0,
    "Europe/Berlin": -60,
    "America/Sao_Paulo": 180,
    "Asia/Kolkata": -330,
}
_FLAGS = [
    ("new-upload-flow", True),
    ("pricing-test", "variant_b"),
    ("hero-copy", "control"),
    ("fast-lane", True),
    ("survey-nps", True),
    ("dark-mode", True),
]
_REFERRERS = [
    ("$direct", "$direct"),
    ("https://www.google.com/", "www.google.com"),
    ("https://l.facebook.com/", "l.facebook.com"),
    ("https://t.co/", "t.co"),
]


def _uuid7(rng: random.Random, millis: int) -> str:
    value = (millis & ((1 << 48) - 1)) << 80 | 0x7 << 76 | rng.getrandbits(12) << 64
    value |= 0b10 << 62 | rng.getrandbits(62)
    return str(uuidlib.UUID(int=value))


def _person(rng: random.Random, country: Any) -> dict[str, Any]:
    """What stays the same for one person's browser: device, geo (in the synth row's country
    when it has one), flags."""
    os_name, os_version, browser, versions, device, ua, (height, width), _w = rng.choices(
        _BROWSERS, weights=[b[-1] for b in _BROWSERS]
    )[0]
    version = rng.choice(versions)
    geo = rng.choice([g for g in _GEO if g[2] == country] or _GEO)
    flags = [f for f in _FLAGS if rng.random() < 0.6]
    viewport = (height - rng.randrange(60, 140), width - rng.choice((0, 0, 15)))
    static: dict[str, Any] = {
        "$os": os_name,
        "$os_version": os_version,
        "$browser": browser,
        "$device_type": device,
        "$browser_version": float(version.split(".")[0]),
        "$raw_user_agent": ua.format(v=version),
        "$browser_language": "en-US",
        "$browser_language_prefix": "en",
        "$screen_height": height,
        "$screen_width": width,
        "$viewport_height": viewport[0],
        "$viewport_width": viewport[1],
        "$lib": "web",
        "$lib_version": JS_VERSION,
        "$timezone": geo[7],
        "$timezone_offset": _OFFSETS[geo[7]],
        "$configured_session_timeout_ms": 1800000,
        "$process_person_profile": True,
        "$device_id": _uuid7(rng, rng.randrange(1_767_000_000_000, 1_769_000_000_000)),
        "$active_feature_flags": [name for name, _ in flags],
    }
    for name, value in flags:
        static[f"$feature/{name}"] = value
    static.update(
        {
            "$ip": f"{rng.randrange(11, 223)}.{rng.randrange(256)}.{rng.randrange(256)}.0",
            "$geoip_city_name": geo[0],
            "$geoip_country_name": geo[1],
            "$geoip_country_code": geo[2],
            "$geoip_continent_name": _CONTINENTS[geo[3]],
            "$geoip_continent_code": geo[3],
            "$geoip_postal_code": geo[4],
            "$geoip_latitude": geo[5],
            "$geoip_longitude": geo[6],
            "$geoip_time_zone": geo[7],
            "$geoip_subdivision_1_code": geo[8],
            "$geoip_subdivision_1_name": geo[9],
        }
    )
    return static


class Decorator:
    """Adds the SDK's properties to synth rows, by the row's layer runtime."""

    def __init__(self, seed: int = 13) -> None:
        sys.path.insert(0, str(ROOT))
        from compiler.plan import load_plan

        plan = load_plan(ROOT / "tracking_plan").plan
        self.runtime = {name: layer.runtime for name, layer in plan.layers.items()}
        source = plan.role("source")
        self.source_key = (source.posthog_name or source.name) if source is not None else None
        page = plan.properties.get("page_path")
        self.page_key = "page_path" if page is not None else None
        self.rng = random.Random(seed)
        self.people: dict[str, dict[str, Any]] = {}
        self.seen: set[str] = set()
        self.windows: dict[str, str] = {}
        self.server = {"$lib": "posthog-python", "$lib_version": PY_VERSION, "$geoip_disable": True}

    def _browser(self, row: dict[str, Any], props: dict[str, Any]) -> dict[str, Any]:
        rng = self.rng
        person = str(row.get("person_id") or row["distinct_id"])
        static = self.people.get(person)
        if static is None:
            static = self.people[person] = _person(rng, props.get("geo"))
        session = str(props.get("$session_id") or person)
        window = self.windows.get(session)
        if window is None:
            self.windows.clear()  # rows come in person order: only the current person's sessions
            window = self.windows[session] = str(uuidlib.UUID(int=rng.getrandbits(128)))
        stamp = datetime.fromisoformat(row["timestamp"]).timestamp()
        path = props.get(self.page_key, "/") if self.page_key else "/"
        referrer, domain = _REFERRERS[zlib.crc32(person.encode()) % len(_REFERRERS)]
        out: dict[str, Any] = dict(static)
        out.update(
            {
                "$current_url": f"https://blanklogo.app{path}",
                "$host": "blanklogo.app",
                "$pathname": path,
                "$referrer": referrer,
                "$referring_domain": domain,
                "$insert_id": f"{rng.getrandbits(64):016x}",
                "$time": round(stamp, 3),
                "$window_id": window,
                "$pageview_id": _uuid7(rng, int(stamp * 1000)),
                "$is_identified": str(row["distinct_id"]).startswith("usr_"),
            }
        )
        if person not in self.seen:
            self.seen.add(person)
            out["$set_once"] = {
                "$initial_referrer": referrer,
                "$initial_referring_domain": domain,
                "$initial_current_url": out["$current_url"],
                "$initial_pathname": path,
                "$initial_os": static["$os"],
                "$initial_browser": static["$browser"],
                "$initial_device_type": static["$device_type"],
                "$initial_utm_source": props.get("utm_source"),
                "$initial_utm_campaign": props.get("utm_campaign"),
                "$initial_geoip_country_code": static["$geoip_country_code"],
            }
        if row["event"] == "$identify":
            out["$set"] = {
                "$os": static["$os"],
                "$browser": static["$browser"],
                "$device_type": static["$device_type"],
                "$current_url": out["$current_url"],
                "$pathname": path,
            }
        return out

    def decorate(self, line: bytes) -> bytes:
        row = orjson.loads(line)
        props = row["properties"]
        layer = props.get(self.source_key) if self.source_key else None
        if self.runtime.get(str(layer)) == "browser":
            sdk = self._browser(row, props)
        else:
            sdk = dict(self.server)
        sdk.update(props)  # the plan's own values win (synth's $lib, $session_id ...)
        row["properties"] = sdk
        return orjson.dumps(row) + b"\n"


def cache_dir() -> Path:
    base = os.environ.get("TRACKPLAN_BENCH_CACHE")
    path = Path(base) if base else Path(tempfile.gettempdir()) / "trackplan-bench"
    path.mkdir(parents=True, exist_ok=True)
    return path


def realistic_file(rows: int = 1_000_000, seed: int = 13) -> Path:
    """The cached realistic export of about `rows` rows (generated on first use)."""
    target = cache_dir() / f"realistic-{rows}-{seed}.jsonl"
    if target.exists():
        return target
    people = max(1, round(rows / ROWS_PER_PERSON))
    synth = cache_dir() / f"synth-{people}-{seed}.jsonl"
    if not synth.exists():
        subprocess.run(
            [
                sys.executable,
                "-m",
                "compiler",
                "synth",
                "--users",
                str(people),
                "--seed",
                str(seed),
                "-o",
                str(synth),
            ],
            cwd=ROOT,
            check=True,
        )
    decorator = Decorator(seed)
    partial = target.with_suffix(".partial")
    with synth.open("rb") as source, partial.open("wb") as out:
        batch: list[bytes] = []
        for line in source:
            batch.append(decorator.decorate(line))
            if len(batch) == 20_000:
                out.write(b"".join(batch))
                batch.clear()
        out.write(b"".join(batch))
    partial.rename(target)
    synth.unlink()
    return target


if __name__ == "__main__":
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    print(realistic_file(count))

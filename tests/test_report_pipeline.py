"""`trackplan report` on hand-made exports of several plans: every number from the real audit,
rates, fit, forecast and sweep, checked against independent computations over the export rows;
sections the plan cannot support are one line saying why."""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from compiler.cli.main import cli
from compiler.plan import Plan, load_plan
from tests.conftest import FIXTURES, PLAN_DIR
from tests.report_exports import Person, blanklogo_people, walk, write

MINIMAL = FIXTURES / "plans" / "minimal"


class Page(HTMLParser):
    """Per section id: its tables (rows of cell texts), its 'Not shown' line and all its text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.section = ""
        self.tables: dict[str, list[list[list[str]]]] = defaultdict(list)
        self.text: dict[str, list[str]] = defaultdict(list)
        self.missing: dict[str, str] = {}
        self._cell: list[str] | None = None
        self._missing = False
        self.svg_text: list[str] = []
        self._svg = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "section":
            self.section = found.get("id") or ""
        elif tag == "table":
            self.tables[self.section].append([])
        elif tag == "tr":
            self.tables[self.section][-1].append([])
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "p" and found.get("class") == "missing":
            self._missing = True
        elif tag == "svg":
            self._svg += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.tables[self.section][-1][-1].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "p":
            self._missing = False
        elif tag == "svg":
            self._svg -= 1

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)
        if self._missing:
            self.missing[self.section] = self.missing.get(self.section, "") + data
        if self._svg:
            self.svg_text.append(data)
        self.text[self.section].append(data)

    def all_text(self, section: str) -> str:
        return " ".join(" ".join(self.text[section]).split())


def parse(html: str) -> Page:
    page = Page()
    page.feed(html)
    return page


def run_report(plan_dir: Path, export: Path, out: Path, *extra: str) -> str:
    result = CliRunner().invoke(
        cli,
        ["report", "--plan", str(plan_dir), str(export), "-o", str(out), "--runs", "200", *extra],
    )
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    return out.read_text(encoding="utf-8")


def number(cell: str) -> float:
    return float(re.sub(r"[^0-9.\-]", "", cell.split()[0]))


# --- the minimal plan: two states, no milestones, revenue, churn, hazard or forecast ----------


@pytest.fixture(scope="module")
def minimal_report(tmp_path_factory: pytest.TempPathFactory) -> Page:
    plan = load_plan(MINIMAL).plan
    people = []
    for i in range(20):
        person = Person(f"u{i}").did("job_created", i * 0.5)
        if i < 16:
            person.did("processing_completed", i * 0.5 + 0.1)
        people.append(person)
    work = tmp_path_factory.mktemp("minimal")
    write(work / "events.jsonl", plan, people)
    return parse(run_report(MINIMAL, work / "events.jsonl", work / "report.html"))


def test_minimal_plan_report_measures_its_funnel_by_state_name(minimal_report):
    (table,) = minimal_report.tables["funnel"]
    assert table[1] == ["Created → Completed", "16", "20", "80.0%", table[1][4]]
    assert "S0" not in " ".join(minimal_report.svg_text)
    assert {"Created", "Completed"} <= set(minimal_report.svg_text)


def test_minimal_plan_report_says_why_each_section_is_left_out(minimal_report):
    assert minimal_report.missing == {
        "milestones": "Not shown: The plan declares no milestones.",
        "revenue": "Not shown: The plan declares no revenue section.",
        "churn": "Not shown: The plan declares no churn section.",
        "hazard": "Not shown: The plan declares no churn hazard.",
    }
    for section in minimal_report.missing:
        assert not minimal_report.tables[section]  # never an empty table under a title


def test_minimal_plan_report_forecasts_entrants_with_a_measured_rate(minimal_report):
    text = minimal_report.all_text("forecast")
    assert "1,000,000 entrants" in text
    rates = minimal_report.tables["forecast"][1]
    assert rates[1][0] == "Created → Completed" and rates[1][3] == "measured (16 of 20)"
    # with no entry rate and a measured transition, nothing is assumed
    assert "None: every value the forecast uses was measured" in minimal_report.all_text(
        "assumptions"
    )


# --- a plan without funnel sections ----------------------------------------------------------


def test_report_on_a_plan_without_funnel_sections(tmp_path):
    text = (MINIMAL / "plan.yaml").read_text(encoding="utf-8")
    for name in ("states", "transitions"):
        text = re.sub(rf"\n{name}:\n(?:  .*\n|\n)*?(?=\S)", "\n", text)
    (tmp_path / "plan").mkdir()
    (tmp_path / "plan" / "plan.yaml").write_text(text, encoding="utf-8")
    plan = load_plan(tmp_path / "plan").plan
    assert not plan.states
    people = [
        Person(f"u{i}").did("job_created", i).did("processing_completed", i + 0.1) for i in range(5)
    ]
    write(tmp_path / "e.jsonl", plan, people)
    page = parse(run_report(tmp_path / "plan", tmp_path / "e.jsonl", tmp_path / "r.html"))
    assert page.missing["funnel"].startswith("Not shown: The plan's funnel has fewer than two")
    assert page.missing["forecast"].startswith("Not shown:")
    assert page.tables["audit"]  # the audit still runs


# --- independent computations over the export rows -------------------------------------------


def ts(row: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(row["timestamp"])


def reach(plan: Plan, rows: list[dict[str, Any]]) -> dict[str, dict[str, datetime]]:
    """state id -> person -> the time they reached it (the plan's chain definition)."""
    by_person: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_person[row["person_id"]].append(row)
    out: dict[str, dict[str, datetime]] = {s.id: {} for s in plan.chain}
    for person, events in by_person.items():
        events.sort(key=ts)
        previous: datetime | None = None
        for k, state in enumerate(plan.chain):
            times = [ts(e) for e in events if e["event"] == state.event]
            times = [t for t in times if previous is None or t >= previous]
            if not times or (k and previous is None):
                break
            previous = min(times)
            out[state.id][person] = previous
    return out


def revenue(plan: Plan, rows: list[dict[str, Any]]) -> dict[str | None, dict[str, Any]]:
    assert plan.revenue is not None
    out: dict[str | None, dict[str, Any]] = {}
    for row in rows:
        props = row["properties"]
        for kind, sources in (("gross", plan.revenue.events), ("refunds", plan.revenue.refunds)):
            for source in sources:
                if row["event"] != source.event:
                    continue
                currency = props.get(source.currency) if source.currency else None
                money = out.setdefault(
                    currency,
                    {"gross": 0.0, "refunds": 0.0, "n": 0, "refunds_n": 0, "payers": set()},
                )
                money[kind] += float(props[source.value])
                if kind == "gross":
                    money["n"] += 1
                    money["payers"].add(row["person_id"])
                else:
                    money["refunds_n"] += 1
    return out


def revenue_table(page: Page) -> dict[str, dict[str, str]]:
    """measure -> currency -> cell, from the report's revenue table."""
    (table,) = page.tables["revenue"]
    currencies = table[0][1:]
    return {row[0]: dict(zip(currencies, row[1:], strict=True)) for row in table[1:]}


def check_revenue(plan: Plan, rows: list[dict[str, Any]], page: Page) -> None:
    expected = revenue(plan, rows)
    shown = revenue_table(page)
    first = plan.chain[0]
    entrants = len({r["person_id"] for r in rows if r["event"] == first.event})
    assert set(shown["net revenue"]) == {c or "no currency" for c in expected}
    for currency, money in expected.items():
        column = currency or "no currency"
        net = money["gross"] - money["refunds"]
        payers = len(money["payers"])
        assert number(shown["gross revenue"][column]) == pytest.approx(money["gross"], abs=0.005)
        assert number(shown["refunds"][column]) == pytest.approx(money["refunds"], abs=0.005)
        assert number(shown["net revenue"][column]) == pytest.approx(net, abs=0.005)
        assert number(shown["payments"][column]) == money["n"]
        assert number(shown["refunds issued"][column]) == money["refunds_n"]
        assert number(shown["paying people"][column]) == payers
        per_payer = shown["net per paying person"][column]
        assert number(per_payer) == pytest.approx(net / payers, abs=0.005)
        per_entrant = shown[f"net per person who reached {first.name}"][column]
        assert number(per_entrant) == pytest.approx(net / entrants, abs=0.005)


def check_funnel(plan: Plan, rows: list[dict[str, Any]], page: Page) -> None:
    reached = reach(plan, rows)
    table = page.tables["funnel"][0]
    chain = plan.chain
    for row, (a, b) in zip(table[1:], zip(chain, chain[1:], strict=False), strict=False):
        assert row[0] == f"{a.name} → {b.name}"
        assert (int(number(row[1])), int(number(row[2]))) == (
            len(reached[b.id]),
            len(reached[a.id]),
        )


def month_start(t: datetime, shift: int = 0) -> datetime:
    index = t.year * 12 + t.month - 1 + shift
    return datetime(index // 12, index % 12 + 1, 1, tzinfo=UTC)


def subscription_months(plan: Plan, rows: list[dict[str, Any]]) -> dict[str, tuple[int, int, bool]]:
    """month -> (canceled in it, active at its start, partial), months with someone active."""
    assert plan.churn is not None and plan.churn.subscriptions is not None
    subs = plan.churn.subscriptions
    started: dict[str, datetime] = {}
    canceled: dict[str, datetime] = {}
    for row in rows:
        key = row["properties"].get(subs.key)
        for event, found in ((subs.started, started), (subs.canceled, canceled)):
            if row["event"] == event and key is not None:
                found[key] = min(found.get(key, ts(row)), ts(row))
    as_of = max(ts(r) for r in rows)
    out = {}
    for start in sorted({month_start(ts(r)) for r in rows}):
        end = month_start(start, 1)
        active = [
            k
            for k, t in started.items()
            if t < start and (k not in canceled or canceled[k] >= start)
        ]
        gone = [k for k in active if k in canceled and canceled[k] < end]
        if active:
            out[start.strftime("%Y-%m")] = (len(gone), len(active), end > as_of)
    return out


def one_off_churn(plan: Plan, rows: list[dict[str, Any]]) -> dict[int, tuple[int, int]]:
    """window days -> (churned, observed), each person from their first one-off purchase."""
    assert plan.churn is not None
    churn = plan.churn

    def one_off(row: dict[str, Any]) -> bool:
        return any(
            row["event"] == c.event
            and (c.property is None or row["properties"].get(c.property) in c.values)
            for c in churn.one_off_purchases
        )

    as_of = max(ts(r) for r in rows)
    firsts: dict[str, datetime] = {}
    for row in rows:
        if one_off(row):
            firsts[row["person_id"]] = min(firsts.get(row["person_id"], ts(row)), ts(row))
    out = {}
    for days in churn.windows:
        span = timedelta(days=days)
        observed = [p for p, t in firsts.items() if t + span <= as_of]
        churned = [
            p
            for p in observed
            if not any(
                r["person_id"] == p
                and (r["event"] in churn.activity_events or one_off(r))
                and firsts[p] < ts(r) <= firsts[p] + span
                for r in rows
            )
        ]
        out[days] = (len(churned), len(observed))
    return out


# --- the shipped plan on a hand-made export with money, subscriptions and churn -----------------


@pytest.fixture(scope="module")
def shipped(tmp_path_factory: pytest.TempPathFactory) -> tuple[Plan, list[dict[str, Any]], Page]:
    plan = load_plan(PLAN_DIR).plan
    work = tmp_path_factory.mktemp("shipped")
    rows = write(work / "events.jsonl", plan, blanklogo_people(plan))
    html = run_report(PLAN_DIR, work / "events.jsonl", work / "report.html", "--cohort", "100000")
    return plan, rows, parse(html)


def test_shipped_plan_revenue_matches_the_export_rows(shipped):
    plan, rows, page = shipped
    check_revenue(plan, rows, page)
    assert len(revenue(plan, rows)) == 2  # two currencies, never summed together


def test_shipped_plan_funnel_counts_match_the_export_rows(shipped):
    check_funnel(*shipped)


def test_shipped_plan_observation_window_is_printed_at_the_top(shipped):
    _, rows, page = shipped
    first, last = min(ts(r) for r in rows), max(ts(r) for r in rows)
    header = page.all_text("")
    assert f"First event {first:%Y-%m-%d %H:%M} UTC" in header
    assert f"Last event (as of) {last:%Y-%m-%d %H:%M} UTC" in header


def test_shipped_plan_subscription_churn_by_month_with_partial_months(shipped):
    plan, rows, page = shipped
    expected = subscription_months(plan, rows)
    table = next(t for t in page.tables["churn"] if t[0][0] == "month")
    shown = {
        r[0]: (int(number(r[1])), int(number(r[2])), r[5].startswith("partial")) for r in table[1:]
    }
    assert shown == expected
    assert any(partial for _, _, partial in expected.values())
    assert "(partial)" in " ".join(page.svg_text)


def test_shipped_plan_one_off_churn_per_person(shipped):
    plan, rows, page = shipped
    expected = one_off_churn(plan, rows)
    table = next(t for t in page.tables["churn"] if t[0][0] == "no activity within")
    shown = {int(number(r[0])): (int(number(r[1])), int(number(r[2]))) for r in table[1:]}
    assert shown == {d: v for d, v in expected.items() if v[1]}


def test_shipped_plan_hazard_cells_count_the_people_at_risk(shipped):
    plan, rows, page = shipped
    assert plan.hazard is not None
    at_risk = reach(plan, rows)[plan.hazard.at_risk]
    table = page.tables["hazard"][0]
    assert sum(int(number(r[1])) for r in table[1:]) == len(at_risk)
    assert {r[0] for r in table[1:]} >= {"none", "failed_job", "slow_job"}


def test_shipped_plan_levers_tie_where_the_chain_says_they_must(shipped):
    plan, rows, page = shipped
    reached = reach(plan, rows)
    assert plan.forecast is not None and plan.forecast.entry is not None
    objective = plan.forecast.outcome(plan.forecast.objective)
    assert objective is not None
    chain = [s for s in plan.chain]
    last = [s.id for s in chain].index(objective.state)
    tied = {f"{plan.forecast.entry.title} → {chain[0].name} (assumption)"}
    for a, b in zip(chain[:last], chain[1 : last + 1], strict=True):
        k, n = len(reached[b.id]), len(reached[a.id])
        if (k + 0.5) / (n + 1) * 1.1 <= 1:  # the Jeffreys posterior mean, +10% not capped
            t = plan.transition(b.id, a.id)
            alias = f" ({t.alias})" if t is not None and t.alias else ""
            tied.add(f"{a.name} → {b.name}{alias}")
    ten = page.tables["levers"][0]
    assert {r[1] for r in ten[1:] if r[0] == "#1="} == tied
    assert len(tied) > 1
    assert f"a tie of {len(tied)} levers" in page.all_text("levers")


def test_shipped_plan_assumptions_are_apart_from_measurements(shipped):
    plan, _, page = shipped
    assert plan.forecast is not None and plan.forecast.entry is not None
    entry = plan.forecast.entry
    (table,) = page.tables["assumptions"]
    assert table[1][:2] == [f"{entry.title} → {plan.chain[0].name}", f"{100 * entry.rate:.2f}%"]
    # the entry rate is nowhere among the measured sections
    for section in ("funnel", "milestones", "revenue", "churn", "hazard"):
        assert entry.title not in page.all_text(section)
    rates = page.tables["forecast"][1]
    assert all(r[3].startswith(("measured (", "plan default")) for r in rates[1:])


def test_shipped_plan_charts_name_steps_not_state_ids(shipped):
    plan, _, page = shipped
    svg = set(page.svg_text)
    assert {s.name for s in plan.chain} <= svg
    assert not any(re.fullmatch(r"S\d+(\|S\d+)?", t.strip()) for t in svg)


# --- a second company's plan ------------------------------------------------------------------


def test_shopfast_plan_report_revenue_and_funnel(tmp_path):
    plan_dir = FIXTURES / "plans" / "shopfast"
    plan = load_plan(plan_dir).plan
    people = walk(plan, 300, floor=0.6)
    for i, person in enumerate(people):
        for k, (event, day, _) in enumerate(list(person.events)):
            if event == "order_placed":
                kind = "one_off" if i % 3 else "repeat_delivery"
                money = {"order_total": 10.0 + i % 30, "currency": "GBP" if i % 2 else "USD"}
                person.events[k] = (event, day, {**money, "purchase_type": kind})
                person.did("app_opened", day + 5 + i % 40)
                if i % 7 == 0:
                    person.did(
                        "order_refunded", day + 1, refund_amount=4.5, currency=money["currency"]
                    )
    rows = write(tmp_path / "e.jsonl", plan, people)
    page = parse(run_report(plan_dir, tmp_path / "e.jsonl", tmp_path / "r.html"))
    check_revenue(plan, rows, page)
    check_funnel(plan, rows, page)
    assert "BlankLogo" not in " ".join(" ".join(t) for t in page.text.values())


def test_a_transition_neither_the_plan_nor_the_data_gives_leaves_the_forecast_out(tmp_path):
    text = (MINIMAL / "plan.yaml").read_text(encoding="utf-8")
    text = text.replace("  S1|S0:\n    rate: 0.8\n", "  S1|S0:\n    description: No default.\n")
    (tmp_path / "plan").mkdir()
    (tmp_path / "plan" / "plan.yaml").write_text(text, encoding="utf-8")
    plan = load_plan(tmp_path / "plan").plan
    assert plan.transitions[0].rate is None
    people = [
        Person(f"u{i}").did("purchase_completed", i, price=3.0, currency="EUR") for i in range(4)
    ]
    write(tmp_path / "e.jsonl", plan, people)
    page = parse(run_report(tmp_path / "plan", tmp_path / "e.jsonl", tmp_path / "r.html"))
    why = "Not shown: The forecast needs Created → Completed (S1|S0), which neither the plan "
    assert page.missing["forecast"].startswith(why)
    assert page.missing["levers"].startswith(why)
    assert (
        page.missing["funnel"]
        == "Not shown: No one in the export reached Created (its event job_created)."
    )

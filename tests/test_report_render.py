"""The report renderer on its own, from typed results built here: gaps said in one line, months
with no one at risk left out, partial months and ties labelled, user strings escaped."""

from __future__ import annotations

import re

from compiler.audit.findings import AuditResult, EventStats, Finding
from compiler.funnel.intervals import Proportion
from compiler.funnel.results import MonthChurn, RatesResult
from compiler.report import ReportInputs, render
from tests.test_report_pipeline import parse

SECTIONS = (
    "levers",
    "funnel",
    "milestones",
    "revenue",
    "churn",
    "hazard",
    "forecast",
    "assumptions",
    "audit",
)


def test_missing_inputs_are_said_in_one_line_each(plan):
    html = render(ReportInputs(plan, ("x.csv",)))
    page = parse(html)
    assert set(page.missing) == set(SECTIONS)
    assert all(
        line.startswith("Not shown: ") and line.endswith(".") for line in page.missing.values()
    )
    assert not any(page.tables.values()) and "<svg" not in html
    assert "<script" not in html and "http://" not in html


def test_a_month_nobody_was_at_risk_in_is_left_out_and_an_open_month_is_partial(plan):
    rates = RatesResult(
        None,
        as_of="2026-03-10T00:00:00Z",
        first_event="2026-01-01T00:00:00Z",
        subscription_monthly={
            "2026-01": MonthChurn(Proportion(0, 0), True, 31, 31),
            "2026-02": MonthChurn(Proportion(3, 12), True, 28, 28),
            "2026-03": MonthChurn(Proportion(1, 10), False, 10, 31),
        },
    )
    page = parse(render(ReportInputs(plan, ("x.jsonl",), rates)))
    (table,) = page.tables["churn"]
    assert [row[0] for row in table[1:]] == ["2026-02", "2026-03"]  # January: nobody active
    assert table[1][1:4] == ["3", "12", "25.0%"] and table[2][5] == "partial: 10 of 31 days"
    text = page.all_text("churn")
    assert "1 month(s) with no active subscription at their start are left out" in text
    assert "(partial)" in page.svg_text  # the tick label under the hatched bar
    assert "2026-01" not in text


def _lever(lever: str, gain: float, rank: int, change: str = "+10%") -> dict[str, object]:
    return {
        "lever": lever,
        "kind": "transition",
        "label": lever,
        "assumption": False,
        "change": change,
        "from": 0.5,
        "to": 0.55,
        "objective": "purchasers",
        "expected": 100.0,
        "expected_gain": gain,
        "gain": gain + 0.3,
        "rank": rank,
        "tied_with": [],
        "tolerance": 1e-9,
    }


def test_tied_levers_share_a_rank_and_are_called_a_tie(plan):
    sweep = (_lever("S2|S1", 4.0, 1), _lever("S3|S2", 4.0, 1), _lever("S1|S0", 1.5, 3))
    page = parse(render(ReportInputs(plan, ("x.jsonl",), sweep=sweep)))
    (table,) = page.tables["levers"]
    assert [row[:2] for row in table[1:]] == [
        ["#1=", "Landed → ClickedCTA (p_cta)"],
        ["#1=", "ClickedCTA → SignedUp (p_signup)"],
        ["#3", "ClickedAd → Landed"],
    ]
    text = page.all_text("levers")
    assert "#1, a tie of 2 levers: Landed → ClickedCTA (p_cta), ClickedCTA → SignedUp" in text
    assert "+4.0 purchasers" in text and "best" not in text.lower()


def test_user_strings_are_escaped(plan):
    audit = AuditResult(
        rows_total=3,
        rows_unparseable=0,
        findings=[Finding("unknown_event", "<img src=x onerror=alert(1)>", None, 1)],
        events={"<b>x</b>": EventStats(1, None, None, 1)},
        engine="duckdb",
    )
    html = render(ReportInputs(plan, ("<b>.jsonl",), audit=audit))
    assert "<img src=x" not in html and "&lt;img src=x" in html
    assert "<b>" not in html


def test_report_code_names_no_company_specifics():
    from tests.conftest import ROOT

    banned = re.compile(
        r"blanklogo|\bS1?[0-9]\b|\baha\b|churn_hazard|click_through|[\"']web[\"']"
        r"|processing_|purchase_completed|credit|subscription_(started|cancel)|first_value",
        re.I,
    )
    files = sorted((ROOT / "compiler" / "report").glob("*.py"))
    files += sorted((ROOT / "compiler" / "templates" / "report").glob("*.j2"))
    files += [ROOT / "compiler" / "cli" / "report.py"]
    for path in files:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            assert not banned.search(line), f"{path.relative_to(ROOT)}:{number}: {line.strip()}"

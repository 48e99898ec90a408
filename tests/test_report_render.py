"""The report renderer on its own: every section from agreed JSON shapes, and graceful gaps."""

from __future__ import annotations

from html.parser import HTMLParser

from compiler.report import ReportInputs, render


def _rates(plan):
    n, transitions = 10_000, {}
    for t in plan.transitions:
        k = round(n * t.rate)
        transitions[t.name] = {
            "numerator": k,
            "denominator": n,
            "rate": k / n,
            "ci_low": k / n * 0.9,
            "ci_high": min(1.0, k / n * 1.1),
        }
        n = k
    return {
        "transitions": transitions,
        "milestones": {
            "activated": {
                "numerator": 900,
                "denominator": 10_000,
                "rate": 0.09,
                "ci_low": 0.085,
                "ci_high": 0.095,
            }
        },
        "purchase_per_click": {"rate": 0.004, "ci_low": 0.003, "ci_high": 0.005},
        "churn": {
            "behavioural_30d": {"rate": 0.4, "ci_low": 0.3, "ci_high": 0.5},
            "behavioural_60d": {"rate": 0.3, "ci_low": 0.2, "ci_high": 0.4},
        },
    }


AUDIT = {
    "rows_total": 1200,
    "rows_unparseable": 0,
    "summary": {"enum_violation": 7},
    "findings": [
        {
            "kind": "enum_violation",
            "event": "processing_completed",
            "property": "mode",
            "count": 7,
            "examples": ["u1"],
        }
    ],
    "events": {
        "processing_completed": {
            "count": 100,
            "first_seen": "2026-01-01T00:00:00Z",
            "last_seen": "2026-01-09T00:00:00Z",
            "rows_with_violations": 7,
        }
    },
}
FORECAST = {
    "mean": {"purchasers": 41.5},
    "quantiles": {"purchasers": {"p5": 30, "p50": 41, "p95": 53}},
}


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.text: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.ids += [v for k, v in attrs if k == "id" and v]

    def handle_data(self, data):
        self.text.append(data)


def _parse(html: str) -> _Collector:
    collector = _Collector()
    collector.feed(html)
    return collector


def test_full_report_has_every_section_with_a_chart(plan):
    html = render(
        ReportInputs(
            plan,
            ("export.jsonl",),
            _rates(plan),
            AUDIT,
            {"transitions": {"S1|S0": {"rate": 0.97, "ci_low": 0.96, "ci_high": 0.98}}},
            FORECAST,
            1_000_000,
        )
    )
    page = _parse(html)
    assert {"funnel", "milestones", "churn", "audit", "forecast"} <= set(page.ids)
    assert page.tags.count("svg") == 5
    text = " ".join(page.text)
    assert "S9|S8" in text and "processing_completed" in text and "enum_violation" in text
    assert "1,000,000 impressions" in text and "97.0%" in text
    assert "<script" not in html and "http://" not in html.replace("http://www.w3.org", "")


def test_missing_inputs_are_said_not_crashed(plan):
    page = _parse(render(ReportInputs(plan, ("x.csv",))))
    text = " ".join(page.text)
    for phrase in (
        "No transition rates were computed.",
        "No audit was run.",
        "No forecast was run.",
    ):
        assert phrase in text
    assert page.tags.count("svg") == 0


def test_user_strings_are_escaped(plan):
    audit = dict(
        AUDIT,
        findings=[
            {
                "kind": "unknown_event",
                "event": "<img src=x onerror=alert(1)>",
                "property": None,
                "count": 1,
                "examples": [],
            }
        ],
    )
    html = render(ReportInputs(plan, ("<b>.jsonl",), None, audit))
    assert "<img src=x" not in html and "&lt;img src=x" in html

"""Charts for the HTML report, drawn with matplotlib and embedded as inline SVG.

Each function takes plain numbers and returns SVG text; nothing here reads files. The SVG has a
fixed hash salt and no date, so the same inputs give the same bytes.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

plt.rcParams.update(
    {
        "svg.hashsalt": "trackplan",
        "svg.fonttype": "none",
        "font.size": 9,
        "axes.spines.top": False,
        "axes.spines.right": False,
    }
)
ACCENT, MUTED, RISK = "#3558d6", "#9aa7c7", "#c8432b"


@dataclass(frozen=True)
class Estimate:
    label: str
    rate: float
    low: float
    high: float


def _svg(fig: plt.Figure) -> str:
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)
    text = buffer.getvalue()
    text = text[text.index("<svg") :]  # drop the XML prolog and doctype for inline use
    # The RDF metadata block only names its creator; inline it is noise.
    return re.sub(r"\s*<metadata>.*?</metadata>", "", text, flags=re.S)


def funnel(counts: Sequence[tuple[str, int]], steps: Sequence[Estimate]) -> str:
    """Persons reaching each state (bars) and each step's conversion with its 95% interval."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8), width_ratios=[1.2, 1])
    labels = [label for label, _ in counts][::-1]
    left.barh(labels, [n for _, n in counts][::-1], color=ACCENT)
    left.set_xlabel("persons reaching the state")
    for y, (_, n) in enumerate(list(counts)[::-1]):
        left.annotate(f"{n:,}", (n, y), xytext=(3, 0), textcoords="offset points", va="center")
    _interval_bars(right, steps, "conversion from the previous state")
    fig.tight_layout()
    return _svg(fig)


def _interval_bars(
    axis: plt.Axes, estimates: Sequence[Estimate], xlabel: str, zoom: bool = False
) -> None:
    ys = range(len(estimates))
    rates = [e.rate for e in estimates]
    errors = [[e.rate - e.low for e in estimates], [e.high - e.rate for e in estimates]]
    axis.barh(list(ys), rates, color=MUTED)
    axis.errorbar(rates, list(ys), xerr=errors, fmt="none", ecolor="black", capsize=3)
    axis.set_yticks(list(ys), [e.label for e in estimates])
    axis.invert_yaxis()
    # Small rates (milestones per click) are unreadable on a 0-1 axis; zoom keeps them legible.
    top = min(1.0, max(e.high for e in estimates) * 1.25) if zoom else 1.0
    axis.set_xlim(0, top or 1.0)
    axis.set_xlabel(xlabel)


def rates(
    estimates: Sequence[Estimate], xlabel: str = "rate (95% interval)", zoom: bool = False
) -> str:
    fig, axis = plt.subplots(figsize=(7, 0.45 * len(estimates) + 0.9))
    _interval_bars(axis, estimates, xlabel, zoom)
    fig.tight_layout()
    return _svg(fig)


def churn_curve(points: Sequence[tuple[int, Estimate]]) -> str:
    """Share of people churned by day N, with its interval band."""
    fig, axis = plt.subplots(figsize=(6, 3))
    days = [d for d, _ in points]
    axis.plot(days, [e.rate for _, e in points], marker="o", color=RISK)
    axis.fill_between(
        days, [e.low for _, e in points], [e.high for _, e in points], color=RISK, alpha=0.15
    )
    axis.set_xticks(days, [f"{d} d" for d in days])
    axis.set_ylim(0, 1)
    axis.set_xlabel("days without activity")
    axis.set_ylabel("churned share")
    fig.tight_layout()
    return _svg(fig)


def forecast(metrics: Sequence[tuple[str, float, float, float]]) -> str:
    """Each metric's p5-p95 range with its median; rows are (name, p5, p50, p95)."""
    fig, axes = plt.subplots(1, len(metrics), figsize=(2.0 * len(metrics), 2.8))
    for axis, (name, p5, p50, p95) in zip(
        list(axes) if len(metrics) > 1 else [axes], metrics, strict=True
    ):
        axis.vlines(0, p5, p95, color=ACCENT, linewidth=8, alpha=0.35)
        axis.plot([0], [p50], marker="_", markersize=22, color=ACCENT)
        axis.set_title(name, fontsize=9)
        axis.set_xticks([])
        axis.margins(y=0.3)
    fig.tight_layout()
    return _svg(fig)

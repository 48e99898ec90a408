"""Charts for the HTML report, drawn with matplotlib and embedded as inline SVG.

Each function takes plain numbers and labels (step names from the plan, never state ids) and
returns SVG text; nothing here reads files. The SVG has a fixed hash salt and no date, so the
same inputs give the same bytes. Figures are 4.6 inches wide with 11-point text, so scaled down
to a 390-pixel phone the text stays about 11 px; the page sets `max-width: 100%`. Long labels
(levers) sit above their bars instead of beside them, so the bars keep the whole width.
Colours are the Okabe-Ito palette (distinguishable with the common colour-vision deficiencies);
nothing is told by colour alone: every bar carries its value as text.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import FuncFormatter, PercentFormatter  # noqa: E402

plt.rcParams.update(
    {
        "svg.hashsalt": "trackplan",
        "svg.fonttype": "none",
        "font.size": 11,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.titlesize": 11,
    }
)
# Okabe-Ito: blue, sky blue, vermillion, orange, bluish green, grey.
BLUE, SKY, VERMILLION, ORANGE, GREEN, GREY = (
    "#0072B2",
    "#56B4E9",
    "#D55E00",
    "#E69F00",
    "#009E73",
    "#7f7f7f",
)
WIDTH = 4.6  # inches
ROW, BAR = 0.52, 0.4  # inches per row of a horizontal chart; bar height in row units


@dataclass(frozen=True)
class Estimate:
    label: str
    rate: float
    low: float
    high: float


@dataclass(frozen=True)
class Period:
    """One bar of a monthly chart; `partial` months are drawn hatched and labelled."""

    label: str
    rate: float
    numerator: int
    denominator: int
    partial: bool


@dataclass(frozen=True)
class Range:
    """A forecast outcome: its 5%, 50% and 95% quantiles."""

    label: str
    p5: float
    p50: float
    p95: float


@dataclass(frozen=True)
class Lever:
    label: str
    gain: float
    rank: int
    tied: bool


def _svg(fig: Figure) -> str:
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)
    text = buffer.getvalue()
    text = text[text.index("<svg") :]  # drop the XML prolog and doctype for inline use
    # The RDF metadata block only names its creator; inline it is noise.
    return re.sub(r"\s*<metadata>.*?</metadata>", "", text, flags=re.S)


def _rows(n: int) -> Figure:
    return plt.figure(figsize=(WIDTH, ROW * n + 0.8))


def _labels_above(axis: Axes, labels: Sequence[str], left: float = 0.0) -> list[float]:
    """Each row's label written above its bar (not beside it), so bars keep the whole width
    however long the plan's names are; returns the bars' y positions, first row on top."""
    ys = [float(i) for i in range(len(labels))]
    for y, label in zip(ys, labels, strict=True):
        axis.annotate(label, (left, y - BAR / 2 - 0.04), va="bottom", fontsize=10)
    axis.set_yticks([])
    axis.spines["left"].set_visible(False)
    axis.set_ylim(len(labels) - 0.5, -0.95)
    return ys


def _percent_axis(axis: Axes, top: float = 1.0, which: str = "x") -> None:
    fmt = PercentFormatter(xmax=1.0, decimals=0 if top >= 0.05 else 1)
    (axis.xaxis if which == "x" else axis.yaxis).set_major_formatter(fmt)


def _pct(value: float) -> str:
    return f"{100 * value:.1f}%" if value >= 0.001 or value == 0 else f"{100 * value:.2f}%"


def reach(counts: Sequence[tuple[str, int]]) -> str:
    """People reaching each step (bars, first step on top), with the count and % of the first."""
    fig = _rows(len(counts))
    axis = fig.add_subplot()
    values = [n for _, n in counts]
    ys = _labels_above(axis, [label for label, _ in counts])
    axis.barh(ys, values, height=BAR, color=BLUE)
    first = values[0] if values and values[0] else 0
    for y, n in zip(ys, values, strict=True):
        share = f" ({_pct(n / first)})" if first and y else ""
        axis.annotate(
            f"{n:,}{share}", (n, y), xytext=(3, 0), textcoords="offset points", va="center"
        )
    axis.set_xlim(0, (max(values) if values else 1) * 1.45 or 1)
    axis.set_xlabel("people reaching the step")
    axis.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    return _svg(fig)


def _interval_bars(axis: Axes, estimates: Sequence[Estimate], xlabel: str, zoom: bool) -> None:
    ys = _labels_above(axis, [e.label for e in estimates])
    rates = [e.rate for e in estimates]
    errors = [[e.rate - e.low for e in estimates], [e.high - e.rate for e in estimates]]
    axis.barh(ys, rates, height=BAR, color=SKY)
    axis.errorbar(rates, ys, xerr=errors, fmt="none", ecolor="black", capsize=3, linewidth=1)
    # Small rates are unreadable on a 0-100% axis; zoom keeps them legible.
    top = min(1.0, max(e.high for e in estimates) * 1.35) if zoom else 1.0
    top = top or 1.0
    for y, e in zip(ys, estimates, strict=True):
        axis.annotate(
            _pct(e.rate), (e.high, y), xytext=(4, 0), textcoords="offset points", va="center"
        )
    axis.set_xlim(0, top * (1.18 if zoom else 1.12))
    _percent_axis(axis, top)
    axis.set_xlabel(xlabel)


def rates(estimates: Sequence[Estimate], xlabel: str, zoom: bool = False) -> str:
    """One bar per rate with its 95% interval as an error bar and its value as text."""
    fig = _rows(len(estimates))
    _interval_bars(fig.add_subplot(), estimates, xlabel, zoom)
    return _svg(fig)


def churn_windows(points: Sequence[tuple[int, Estimate]]) -> str:
    """Share of people with no activity within N days of their own anchor, one bar per window
    (each window counts only the people observed that long), labelled with its percentage."""
    fig = plt.figure(figsize=(WIDTH, 2.9))
    axis = fig.add_subplot()
    xs = list(range(len(points)))
    rates = [e.rate for _, e in points]
    errors = [[e.rate - e.low for _, e in points], [e.high - e.rate for _, e in points]]
    axis.bar(xs, rates, color=VERMILLION, width=0.6)
    axis.errorbar(xs, rates, yerr=errors, fmt="none", ecolor="black", capsize=3, linewidth=1)
    for x, (_, e) in zip(xs, points, strict=True):
        axis.annotate(
            _pct(e.rate), (x, e.high), xytext=(0, 4), textcoords="offset points", ha="center"
        )
    axis.set_xticks(xs, [f"within {d} days" for d, _ in points])
    axis.set_ylim(0, 1.15)
    _percent_axis(axis, which="y")
    axis.set_ylabel("no activity (churned)")
    return _svg(fig)


def monthly(periods: Sequence[Period], ylabel: str) -> str:
    """A rate per month; partial months (not fully observed) are hatched and say so."""
    fig = plt.figure(figsize=(WIDTH, 3.1))
    axis = fig.add_subplot()
    xs = list(range(len(periods)))
    top = max((p.rate for p in periods), default=0.0)
    ceiling = max(top * 1.45, 0.05)
    for x, p in zip(xs, periods, strict=True):
        if p.partial:  # the whole column is marked, so a partial month reads as one at any height
            axis.bar(
                x, ceiling, width=0.8, color="#eeeeee", hatch="...", edgecolor=GREY, linewidth=0
            )
        axis.bar(
            x,
            p.rate,
            width=0.65,
            color="white" if p.partial else VERMILLION,
            edgecolor=VERMILLION,
            hatch="///" if p.partial else None,
            linewidth=1.2,
        )
        note = f"{_pct(p.rate)}\n{p.numerator} of {p.denominator}"
        axis.annotate(note, (x, p.rate), xytext=(0, 3), textcoords="offset points", ha="center")
    axis.set_xticks(xs, [f"{p.label}\n(partial)" if p.partial else p.label for p in periods])
    axis.set_ylim(0, ceiling)
    _percent_axis(axis, top, which="y")
    axis.set_ylabel(ylabel)
    if len(periods) > 6:
        axis.tick_params(axis="x", labelrotation=90)
    return _svg(fig)


def forecast(ranges: Sequence[Range], unit: str) -> str:
    """Each outcome's 5-95% range (bar) and median (dot, labelled) on one log axis, so counts
    of very different sizes stay readable side by side."""
    fig = _rows(len(ranges))
    axis = fig.add_subplot()
    ys = _labels_above(axis, [r.label for r in ranges], left=0.5)
    for y, r in zip(ys, ranges, strict=True):
        low = max(r.p5, 0.5)
        axis.plot([low, max(r.p95, low)], [y, y], color=SKY, linewidth=9, solid_capstyle="butt")
        axis.plot([max(r.p50, 0.5)], [y], marker="o", color=BLUE)
        axis.annotate(
            f"{r.p50:,.0f}",
            (max(r.p95, low), y),
            xytext=(5, 0),
            textcoords="offset points",
            va="center",
        )
    axis.set_xscale("log")
    high = max((r.p95 for r in ranges), default=1.0)
    axis.set_xlim(0.5, max(high, 1.0) * 6)
    axis.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    axis.set_xlabel(f"{unit}, log scale (bar: 5–95%, dot: median)")
    return _svg(fig)


def levers(rows: Sequence[Lever], xlabel: str) -> str:
    """Expected gain of each lever, best first; tied levers share a rank, an orange colour and
    the word "tie"."""
    fig = _rows(len(rows))
    axis = fig.add_subplot()
    gains = [r.gain for r in rows]
    low = min(0.0, min(gains, default=0.0))
    labels = [f"#{r.rank}{'=' if r.tied else ''} {r.label}" for r in rows]
    ys = _labels_above(axis, labels, left=low)
    axis.barh(ys, gains, height=BAR, color=[ORANGE if r.tied else BLUE for r in rows])
    for y, r in zip(ys, rows, strict=True):
        text = f"{r.gain:+,.1f}" + (" (tie)" if r.tied else "")
        axis.annotate(
            text, (max(r.gain, 0), y), xytext=(3, 0), textcoords="offset points", va="center"
        )
    high = max((abs(g) for g in gains), default=1.0) or 1.0
    axis.set_xlim(low * 1.4, high * 1.35)
    axis.set_xlabel(xlabel)
    return _svg(fig)


@dataclass(frozen=True)
class Curve:
    """A reliability curve: per bin, the mean predicted probability and the observed share."""

    label: str
    predicted: Sequence[float]
    observed: Sequence[float]


def reliability(curves: Sequence[Curve]) -> str:
    """Observed share against mean predicted probability per bin, one line per curve (the model
    solid with circles, others dashed with squares), and the diagonal a calibrated model follows;
    both axes run to the largest value shown, so a rare outcome's bins stay legible."""
    fig = plt.figure(figsize=(WIDTH, 3.6))
    axis = fig.add_subplot()
    top = max((v for c in curves for v in (*c.predicted, *c.observed)), default=1.0)
    top = min(1.0, top * 1.1) or 1.0
    axis.plot([0, top], [0, top], color=GREY, linestyle=":", linewidth=1, label="calibrated")
    styles = ((BLUE, "o", "-"), (ORANGE, "s", "--"), (GREEN, "^", "-."))
    for curve, (colour, marker, line) in zip(curves, styles, strict=False):
        axis.plot(
            curve.predicted,
            curve.observed,
            color=colour,
            marker=marker,
            linestyle=line,
            markersize=4,
            linewidth=1.2,
            label=curve.label,
        )
    axis.set_xlim(0, top)
    axis.set_ylim(0, top)
    _percent_axis(axis, top, which="x")
    _percent_axis(axis, top, which="y")
    axis.set_xlabel("mean predicted probability (holdout bin)")
    axis.set_ylabel("observed share")
    axis.legend(loc="upper left", frameon=False, fontsize=9)
    return _svg(fig)

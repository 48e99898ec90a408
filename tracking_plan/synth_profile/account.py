"""A BlankLogo person's timeline: the generic one plus their credit balance and lifetime value."""

from __future__ import annotations

from compiler.synth.timeline import Timeline


class Account(Timeline):
    credits: int = 0
    ltv: float = 0.0

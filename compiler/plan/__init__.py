"""The tracking plan: loading YAML with positions, checking its shape, resolving the model."""

from compiler.plan.model import Plan
from compiler.plan.pipeline import PlanResult, load_plan

__all__ = ["Plan", "PlanResult", "load_plan"]

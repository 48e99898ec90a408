"""Simulation: the config format (states, transition rates, churn hazard) and the forecast."""

from compiler.simulation.config import ConfigError, SimConfig, config_from_plan, load_config

__all__ = ["ConfigError", "SimConfig", "config_from_plan", "load_config"]

"""Simulation: the config format (chain, transition rates, outcomes, hazard) and the forecast."""

from compiler.simulation.config import ConfigError, SimConfig, config_from_plan, load_config

__all__ = ["ConfigError", "SimConfig", "config_from_plan", "load_config"]

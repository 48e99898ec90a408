"""The `trackplan` console script: one click group; each command lives in its own module."""

from __future__ import annotations

import click

from compiler import __version__
from compiler.cli.audit import audit
from compiler.cli.build import build
from compiler.cli.docs import docs
from compiler.cli.fit import fit
from compiler.cli.lint import lint
from compiler.cli.preview import preview_command
from compiler.cli.rates import rates
from compiler.cli.report import report
from compiler.cli.simulate import simulate
from compiler.cli.synth import synth

COMMANDS = (lint, build, audit, docs, preview_command, rates, fit, simulate, synth, report)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="trackplan")
def cli() -> None:
    """trackplan: compile a YAML tracking plan into schemas and code, and audit events against it."""


for command in COMMANDS:
    cli.add_command(command)


def main() -> None:
    cli(prog_name="trackplan")

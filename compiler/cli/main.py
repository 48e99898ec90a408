"""The `trackplan` console script: one click group; each command lives in its own module.

COMMANDS is the one registry. Modules are imported only when their command runs (or for
`--help`), so `trackplan lint` does not pay for DuckDB, numpy or the code generators.
"""

from __future__ import annotations

import importlib

import click

from compiler import __version__
from compiler.diagnostics import did_you_mean

COMMANDS: dict[str, str] = {
    "init": "compiler.cli.init:init",
    "lint": "compiler.cli.lint:lint",
    "build": "compiler.cli.build:build",
    "diff": "compiler.cli.diff:diff",
    "audit": "compiler.cli.audit:audit",
    "infer": "compiler.cli.infer:infer",
    "import": "compiler.cli.import_:import_group",
    "rates": "compiler.cli.rates:rates",
    "fit": "compiler.cli.fit:fit",
    "hazard": "compiler.cli.hazard:hazard",
    "synth": "compiler.cli.synth:synth",
    "simulate": "compiler.cli.simulate:simulate",
    "train": "compiler.cli.train:train",
    "score": "compiler.cli.score:score",
    "report": "compiler.cli.report:report",
    "docs": "compiler.cli.docs:docs",
    "preview": "compiler.cli.preview:preview_command",
    "clv": "compiler.cli.clv:clv",
    "ltv-compare": "compiler.cli.ltv_compare:ltv_compare",
    "serve": "compiler.cli.serve:serve",
}


class _LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name = args[0] if args else ""
        if name and not name.startswith("-") and name not in COMMANDS:
            ctx.fail(f"No such command '{name}'.{did_you_mean(name, COMMANDS)}")
        return super().resolve_command(ctx, args)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module, attribute = target.split(":")
        command = getattr(importlib.import_module(module), attribute)
        assert isinstance(command, click.Command) and command.name == cmd_name, target
        return command


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="trackplan")
def cli() -> None:
    """trackplan: compile a YAML tracking plan into schemas and code, and audit events against it."""


def main() -> None:
    cli(prog_name="trackplan")

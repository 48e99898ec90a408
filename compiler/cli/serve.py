"""`trackplan serve`: a local PostHog endpoint validating every event live; with --forward, a
validating proxy in front of PostHog."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import click

from compiler.audit.findings import LEVELS
from compiler.cli.common import InputError, plan_option, read_plan
from compiler.serve.decode import Limits


@click.command()
@plan_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port", type=click.IntRange(0, 65535), default=8010, show_default=True, help="0: any free."
)
@click.option(
    "--store",
    "store_dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Append every event to DIR/events.jsonl (a PostHog export `trackplan audit` reads).",
)
@click.option(
    "--forward", metavar="URL", help="Proxy mode: forward good events to this PostHog host."
)
@click.option(
    "--forward-bad",
    is_flag=True,
    help="Forward bad events too, with a $trackplan_violations property, instead of quarantining.",
)
@click.option(
    "--quarantine",
    type=click.Path(path_type=Path, dir_okay=False),
    default=Path(".trackplan/quarantine.jsonl"),
    show_default=True,
    help="Proxy mode: bad events with their findings, one JSON object per line.",
)
@click.option(
    "--spool",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path(".trackplan/spool"),
    show_default=True,
    help="Proxy mode: events not yet accepted by PostHog; sent again after a restart.",
)
@click.option(
    "--max-events",
    type=click.IntRange(1),
    default=100_000,
    show_default=True,
    help="Events kept in memory for /trackplan/good and /bad (counts cover all).",
)
@click.option(
    "--max-batch",
    type=click.IntRange(1),
    default=10_000,
    show_default=True,
    help="Events in one request; more is refused with 413.",
)
@click.option(
    "--max-body",
    type=click.IntRange(1),
    default=20 * 1024 * 1024,
    show_default=True,
    help="Bytes in one request body as sent, and (x5) once decompressed; more is 413.",
)
@click.option(
    "--fail-on",
    type=click.Choice(LEVELS[:2]),
    default="error",
    show_default=True,
    help="An event with a finding of this severity or worse is bad.",
)
@click.option(
    "--strict-system", is_flag=True, help="PostHog's own $-events and $-properties become findings."
)
@click.option(
    "--no-validate", is_flag=True, help="Store and forward without checking (a baseline)."
)
@click.option(
    "--docs-url",
    metavar="URL",
    help="The doc site (`trackplan docs`) the debugger links events to; default: served here.",
)
def serve(
    plan_dir: Path,
    host: str,
    port: int,
    store_dir: Path | None,
    forward: str | None,
    forward_bad: bool,
    quarantine: Path,
    spool: Path,
    max_events: int,
    max_batch: int,
    max_body: int,
    fail_on: str,
    strict_system: bool,
    no_validate: bool,
    docs_url: str | None,
) -> None:
    """Serve a PostHog-compatible capture endpoint that checks every event against the plan.

    Point an SDK's host at http://HOST:PORT; see /trackplan/all, /trackplan/good,
    /trackplan/bad and the live page /trackplan/ui. Stops on Ctrl-C or SIGTERM.
    """
    from compiler.serve.app import ServeConfig, make_app

    result = read_plan(plan_dir)
    if result.errors:
        raise InputError(
            f"the plan in {plan_dir} has {len(result.errors)} error(s); run trackplan lint"
        )
    if forward is not None and not forward.startswith(("http://", "https://")):
        raise InputError(f"--forward {forward!r}: give a PostHog host URL (http:// or https://)")
    limits = Limits(max_body=max_body, max_decoded=max_body * 5, max_events=max_batch)
    config = ServeConfig(
        result.plan,
        limits=limits,
        keep=max_events,
        store_dir=store_dir,
        strict_system=strict_system,
        fail_on=fail_on,
        validate=not no_validate,
        docs_url=docs_url,
        forward=forward,
        forward_bad=forward_bad,
        spool=spool,
        quarantine=quarantine,
    )
    try:
        app = make_app(config)
    except OSError as exc:
        raise InputError(f"cannot open {exc.filename}: {exc.strerror}") from None
    asyncio.run(_run(app, host, port))


async def _run(app: object, host: str, port: int) -> None:
    from aiohttp import web

    from compiler.serve.app import SERVER

    assert isinstance(app, web.Application)
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        raise InputError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    bound = runner.addresses[0]
    url = f"http://{host}:{bound[1]}"
    plan = app[SERVER].config.plan
    click.echo(f"trackplan serve: {plan.name} ({len(plan.events)} events) on {url}", err=True)
    click.echo(f"  live page {url}/trackplan/ui · counts {url}/trackplan/all", err=True)
    click.echo(url, nl=True)  # the one line on stdout: scripts read the address from it
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()
        click.echo("trackplan serve: stopped", err=True)

"""`trackplan preview`: one event through the generated package and the real posthog-python
client (kept by its before_send hook), and its Meta Pixel and CAPI forms."""

from __future__ import annotations

import dataclasses
import hashlib
import json

import pytest
from click.testing import CliRunner

from compiler.cli.main import cli
from compiler.plan import Plan
from compiler.plan.model import Property
from compiler.preview import NO_META, PreviewError, default_event, example_value
from tests.codegen_plans import ORBIT, write_plan
from tests.conftest import FIXTURES, PLAN_DIR, ROOT

GENERATED = str(ROOT / "generated")


def _preview(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(
        cli, ["preview", "--plan", str(PLAN_DIR), "--generated", GENERATED, *args]
    )


def _json_after(output: str, heading: str) -> dict:  # type: ignore[type-arg]
    block = output.split(heading, 1)[1].split("\n#", 1)[0]
    return dict(json.loads(block[block.index("\n") :]))


def test_purchase_goes_to_posthog_and_meta_with_one_id() -> None:
    result = _preview("purchase_completed")
    assert result.exit_code == 0, result.output
    posthog = _json_after(result.output, "# PostHog")
    capi = _json_after(result.output, "# Meta Conversions API")
    assert posthog["event"] == "purchase_completed" and posthog["distinct_id"] == "usr_demo1"
    assert posthog["properties"]["$lib"] == "posthog-python"
    assert posthog["properties"]["$session_id"] == "sess_demo1"
    assert posthog["properties"]["source"] == "server"
    assert capi["event_name"] == "Purchase" and capi["event_id"] == posthog["uuid"]
    assert capi["user_data"]["em"] == [hashlib.sha256(b"demo.user@example.com").hexdigest()]
    assert capi["user_data"]["fbc"].endswith(".IwAR2demoClickId")
    assert f'{{"eventID": "{posthog["uuid"]}"}}' in result.output  # the Pixel call


def test_unmapped_event_says_so() -> None:
    result = _preview("faq_expand")
    assert result.exit_code == 0, result.output
    assert "not mapped" in result.output and "Conversions API" not in result.output


def test_bad_input_exits_2_without_traceback(tmp_path) -> None:  # type: ignore[no-untyped-def]
    unknown = _preview("purchase_complete")
    assert unknown.exit_code == 2 and "unknown event 'purchase_complete'" in unknown.output
    unbuilt = CliRunner().invoke(cli, ["preview", "--generated", str(tmp_path)])
    assert unbuilt.exit_code == 2 and "run `trackplan build` first" in unbuilt.output
    broken = CliRunner().invoke(
        cli, ["preview", "--plan", str(FIXTURES / "plans" / "broken" / "tp008_undefined_layer")]
    )
    assert broken.exit_code == 2 and "Traceback" not in broken.output


def test_example_values_satisfy_the_schema() -> None:
    assert example_value(Property("currency", "string", pattern="^[A-Z]{3}$")) == "USD"
    assert example_value(Property("job_id", "string", pattern="^job_")) == "job_demo1"
    assert example_value(Property("n", "integer", minimum=100)) == 101
    # A pattern with no readable candidate: built from the pattern itself.
    assert example_value(Property("code", "string", pattern="^[0-9]{6}$")) == "000000"
    assert example_value(Property("order_id", "string", pattern="^ord_[0-9]{8}$")) == (
        "ord_00000000"
    )
    assert example_value(Property("at", "string", format="date-time")) == "2026-01-12T05:12:34.123Z"
    with pytest.raises(PreviewError, match="no example value for property code"):
        example_value(Property("code", "string", pattern="^[0-9]{6}$", max_length=3))


def test_without_an_event_it_picks_one_from_the_plan(plan: Plan, minimal_plan: Plan) -> None:
    # A revenue event that Meta also gets, else one mapped to Meta, else the funnel's last step.
    assert default_event(plan) == "purchase_completed"  # BlankLogo's first revenue event
    assert default_event(minimal_plan) == "purchase_completed"  # its only Meta mapping
    no_meta = dataclasses.replace(minimal_plan, meta=None)
    assert default_event(no_meta) == "processing_completed"  # the last state of its funnel
    no_funnel = dataclasses.replace(no_meta, states=())
    assert default_event(no_funnel) == "job_created"  # the first event by name
    result = _preview()
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"# {default_event(plan)} from the ")


def _build_and_preview(plan_dir, out, *event: str):  # type: ignore[no-untyped-def]
    built = CliRunner().invoke(
        cli, ["build", "--plan", str(plan_dir), "--out", str(out), "--target", "python"]
    )
    assert built.exit_code == 0, built.output
    return CliRunner().invoke(
        cli, ["preview", "--plan", str(plan_dir), "--generated", str(out), *event]
    )


def test_preview_on_a_plan_with_other_roles_and_no_destinations(tmp_path) -> None:
    plan_dir = tmp_path / "orbit"
    write_plan(plan_dir, ORBIT)
    result = _build_and_preview(plan_dir, tmp_path / "gen")
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    assert result.output.startswith("# member_signed_in from the api tracker")
    posthog = _json_after(result.output, "# PostHog")
    assert posthog["distinct_id"] == "m_demo1" and posthog["event"] == "member_signed_in"
    props = posthog["properties"]
    assert props["origin"] == "api" and props["env"] == "production"
    assert props["member_id"] == "m_demo1" and "source" not in props
    meta_lines = [line for line in result.output.splitlines() if "Meta" in line]
    assert meta_lines == [f"# Meta: {NO_META}"]
    browser_only = _build_and_preview(plan_dir, tmp_path / "gen", "screen_viewed")
    assert browser_only.exit_code == 0, browser_only.output
    assert browser_only.output.startswith("# screen_viewed from the mobile_web tracker")


def test_preview_on_the_minimal_plan(tmp_path) -> None:
    result = _build_and_preview(FIXTURES / "plans" / "minimal", tmp_path / "gen")
    assert result.exit_code == 0, result.output
    posthog = _json_after(result.output, "# PostHog")
    capi = _json_after(result.output, "# Meta Conversions API")
    assert posthog["event"] == "purchase_completed" and posthog["properties"]["source"] == "server"
    assert "environment" not in posthog["properties"]
    assert capi["event_name"] == "Purchase" and capi["event_id"] == posthog["uuid"]
    assert capi["custom_data"] == {"value": 0 + 9.0, "currency": "USD"}  # price: minimum 0
    unmapped = CliRunner().invoke(
        cli,
        [
            "preview",
            "--plan",
            str(FIXTURES / "plans" / "minimal"),
            "--generated",
            str(tmp_path / "gen"),
            "job_created",
        ],
    )
    assert unmapped.exit_code == 0, unmapped.output
    assert "# Meta: not mapped" in unmapped.output and "Conversions API" not in unmapped.output


def test_every_event_of_other_plans_previews(tmp_path) -> None:
    """No traceback and no refusal for any event of a lint-clean plan: the example values
    (ids included, with the plan's prefixes and patterns) satisfy the plan."""
    plan_dir = tmp_path / "orbit"
    orbit = write_plan(plan_dir, ORBIT)
    for plan, folder in ((orbit, plan_dir), (None, FIXTURES / "plans" / "minimal")):
        out = tmp_path / f"gen-{folder.name}"
        first = _build_and_preview(folder, out)
        assert first.exit_code == 0, first.output
        names = sorted(plan.events) if plan else ["job_created", "processing_completed"]
        for name in names:
            result = CliRunner().invoke(
                cli, ["preview", "--plan", str(folder), "--generated", str(out), name]
            )
            assert result.exit_code == 0, (name, result.output)
            assert _json_after(result.output, "# PostHog")["event"] == name

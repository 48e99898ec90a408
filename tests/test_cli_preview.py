"""`trackplan preview`: one event through the generated package and the real posthog-python
client (kept by its before_send hook), and its Meta Pixel and CAPI forms."""

from __future__ import annotations

import hashlib
import json

import pytest
from click.testing import CliRunner

from compiler.cli.main import cli
from compiler.plan.model import Property
from compiler.preview import PreviewError, example_value
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
    with pytest.raises(PreviewError, match="no example value for property code"):
        example_value(Property("code", "string", pattern="^[0-9]{6}$"))

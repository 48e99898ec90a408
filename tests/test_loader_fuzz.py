"""Property-based: whatever bytes a plan file holds, loading reports problems and never crashes."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compiler.plan import load_plan
from tests.conftest import FIXTURES

MINIMAL_TEXT = (FIXTURES / "plans" / "minimal" / "plan.yaml").read_text()

yaml_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=8)
)
yaml_values = st.recursive(
    yaml_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


def _load(tmp: Path, text: str):
    plan_dir = tmp / "p"
    plan_dir.mkdir(exist_ok=True)
    (plan_dir / "plan.yaml").write_text(text, encoding="utf-8")
    return load_plan(plan_dir)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(cut=st.integers(min_value=0, max_value=len(MINIMAL_TEXT)), junk=st.text(max_size=20))
def test_truncated_or_spliced_plans_never_crash(tmp_path, cut, junk):
    result = _load(tmp_path, MINIMAL_TEXT[:cut] + junk)
    for diag in result.diagnostics:
        assert diag.code.startswith("TP") and diag.message


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    section=st.sampled_from(["events", "properties", "states", "destinations", "envelope", "plan"]),
    value=yaml_values,
)
def test_any_shape_in_any_section_never_crashes(tmp_path, section, value):
    import yaml

    text = (
        MINIMAL_TEXT
        + "\n"
        + yaml.safe_dump({f"{section}_extra": value})
        + yaml.safe_dump({"x": {section: value}})
    )
    result = _load(
        tmp_path, text.replace(f"{section}_extra", section, 1) if section != "plan" else text
    )
    assert all(d.location is None or d.location.line >= 1 for d in result.diagnostics)

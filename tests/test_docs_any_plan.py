"""The doc site on plans other than BlankLogo's: the minimal fixture, a plan without funnel
sections, a transition without a default rate; and no company's specifics in the docs code."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path, PurePosixPath

from click.testing import CliRunner

from compiler.cli.main import cli
from compiler.docs import funnel
from compiler.docs.site import render_site
from compiler.plan import load_plan
from tests.conftest import FIXTURES, ROOT
from tests.test_docs_site import _parse, _resolve

MINIMAL = FIXTURES / "plans" / "minimal"
# The docs code this project owns; snippets.py and examples.py are the codegen helper's.
DOCS_CODE = [
    ROOT / "compiler" / "docs" / name
    for name in ("funnel.py", "funnel_page.py", "overview.py", "views.py", "health.py", "site.py")
] + sorted((ROOT / "compiler" / "templates" / "docs").rglob("*.j2"))


def _links_resolve(site: dict[PurePosixPath, str]) -> None:
    pages = {path: _parse(text) for path, text in site.items() if path.suffix == ".html"}
    for path, page in pages.items():
        for link in page.links:
            target, _, fragment = link.partition("#")
            resolved = path if not target else _resolve(path, target)
            assert resolved in site, f"{path}: broken link {link}"
            if fragment:
                assert fragment in pages[resolved].ids, f"{path}: no #{fragment} in {resolved}"


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_minimal_plan_funnel_page_says_what_the_plan_does_not_declare(minimal_plan):
    site = render_site(minimal_plan)
    _links_resolve(site)
    page = _text(site[PurePosixPath("funnel.html")])
    for line in (
        "The plan declares no forecast section (entry rate, outcomes, objective).",
        "The plan declares no churn definition.",
        "The plan declares no revenue sources.",
        "The plan declares no churn hazard model.",
    ):
        assert line in page
    # its two states by name, with the default rate from the first, and no "S0 to S1" title
    assert "Created" in page and "80% from Created" in page
    home = site[PurePosixPath("index.html")]
    assert "The funnel's states, Created to Completed" in home
    assert "S0 to" not in home and "node-id" not in home


def _plan_without_funnel(tmp_path: Path):  # type: ignore[no-untyped-def]
    text = (MINIMAL / "plan.yaml").read_text(encoding="utf-8")
    cut = re.sub(r"\nstates:\n(?:  .*\n|\n)*?(?=\S)", "\n", text)
    cut = re.sub(r"\ntransitions:\n(?:  .*\n|\n)*?(?=\S)", "\n", cut)
    assert "states:" not in cut and "transitions:" not in cut
    (tmp_path / "plan.yaml").write_text(cut, encoding="utf-8")
    result = load_plan(tmp_path)
    assert not result.errors, [d.format() for d in result.errors]
    return result.plan


def test_a_plan_without_funnel_sections_renders_with_one_line_each(tmp_path):
    plan = _plan_without_funnel(tmp_path)
    assert not plan.states and plan.forecast is None and plan.hazard is None
    site = render_site(plan)
    _links_resolve(site)
    home = _text(site[PurePosixPath("index.html")])
    assert "The plan declares no funnel states; see the funnel page" in home
    assert "<svg" not in site[PurePosixPath("index.html")]
    page = _text(site[PurePosixPath("funnel.html")])
    assert "The plan declares no funnel states." in page
    assert "<table" not in site[PurePosixPath("funnel.html")]  # no empty table anywhere


def test_docs_cli_on_a_plan_without_funnel_sections(tmp_path):
    (tmp_path / "plan").mkdir()
    _plan_without_funnel(tmp_path / "plan")  # writes the plan
    out = tmp_path / "site"
    result = CliRunner().invoke(cli, ["docs", "--plan", str(tmp_path / "plan"), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert (out / "funnel.html").is_file() and "Traceback" not in result.output


def test_a_transition_without_a_default_rate_is_labelled_fit(minimal_plan):
    (only,) = minimal_plan.transitions
    plan = dataclasses.replace(minimal_plan, transitions=(dataclasses.replace(only, rate=None),))
    d = funnel.diagram(plan, 4)
    assert [e.label for e in d.edges] == ["fit"]
    page = _text(render_site(plan)[PurePosixPath("funnel.html")])
    assert "no default (learned by fit) from Created" in page


def test_shipped_plan_funnel_page_is_built_from_its_declarations(plan):
    page = _text(render_site(plan)[PurePosixPath("funnel.html")])
    assert plan.forecast is not None and plan.forecast.entry is not None
    assert f"Entry rate ({plan.forecast.entry.title})" in page and "(assumption)" in page
    for outcome in plan.forecast.outcomes:
        assert outcome.title in page
    assert plan.hazard is not None
    for name in plan.hazard.covariates:
        assert name in page
    assert plan.revenue is not None
    for source in (*plan.revenue.events, *plan.revenue.refunds):
        assert source.event in page
    for state in plan.states:
        assert state.name in page


def test_docs_code_names_no_company_specifics():
    banned = re.compile(
        r"blanklogo|\bS1?[0-9]\b|\baha\b|churn_hazard|click_through|[\"']web[\"']"
        r"|processing_|purchase_completed|credit|subscription_(started|cancel)|first_value|monetized",
        re.I,
    )
    for path in DOCS_CODE:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            assert not banned.search(line), f"{path.relative_to(ROOT)}:{number}: {line.strip()}"


def test_a_plan_without_meta_has_no_meta_page_or_link(minimal_plan):
    with_meta = render_site(minimal_plan)
    assert PurePosixPath("meta.html") in with_meta
    assert 'href="meta.html"' in with_meta[PurePosixPath("index.html")]
    without = render_site(dataclasses.replace(minimal_plan, meta=None))
    assert PurePosixPath("meta.html") not in without
    assert not any("meta.html" in text for text in without.values())
    _links_resolve(without)

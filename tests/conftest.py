"""Shared fixtures and the golden-file mechanism.

Refresh goldens with `make goldens` (`pytest --update-goldens`): it rewrites the files under
tests/golden/, prints what changed, and the diff is reviewed in git like any other change.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Any

import pytest

from compiler.plan import Plan, load_plan

ROOT = Path(__file__).resolve().parent.parent
PLAN_DIR = ROOT / "tracking_plan"
FIXTURES = ROOT / "tests" / "fixtures"
GOLDEN = ROOT / "tests" / "golden"
ARTIFACTS = ROOT / "tests" / "artifacts"  # screenshots; gitignored

# Headless Chromium: Debian's package (`make browser` installs it), driven by playwright, which
# never downloads a browser of its own. Without the background-networking flags Chromium tries
# to reach Google's hosts, which this machine's closed network refuses.
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
LAPTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-goldens", action="store_true", help="rewrite tests/golden/ from current output"
    )


@pytest.fixture(scope="session")
def plan() -> Plan:
    result = load_plan(PLAN_DIR)
    assert not result.errors, [d.format() for d in result.errors]
    return result.plan


@pytest.fixture(scope="session")
def minimal_plan() -> Plan:
    result = load_plan(FIXTURES / "plans" / "minimal")
    assert not result.diagnostics, [d.format() for d in result.diagnostics]
    return result.plan


@pytest.fixture
def golden(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    """Compare {path: text} against tests/golden/<name>/, or rewrite it with --update-goldens."""
    update = request.config.getoption("--update-goldens")

    def check(name: str, files: dict[PurePosixPath, str]) -> None:
        root = GOLDEN / name
        expected = (
            {
                PurePosixPath(p.relative_to(root).as_posix()): p.read_text(encoding="utf-8")
                for p in sorted(root.rglob("*"))
                if p.is_file()
            }
            if root.is_dir()
            else {}
        )
        if update:
            for rel in expected.keys() - files.keys():
                (root / rel).unlink()
                print(f"golden removed: {root / rel}")
            for rel, text in files.items():
                if expected.get(rel) != text:
                    (root / rel).parent.mkdir(parents=True, exist_ok=True)
                    (root / rel).write_text(text, encoding="utf-8")
                    print(f"golden updated: {root / rel}")
            return
        assert sorted(files) == sorted(expected), "golden file set differs; run `make goldens`"
        for rel, text in files.items():
            if text != expected[rel]:
                diff = "".join(
                    difflib.unified_diff(
                        expected[rel].splitlines(True), text.splitlines(True), str(rel), str(rel)
                    )
                )
                pytest.fail(f"{rel} differs from its golden file (run `make goldens`):\n{diff}")

    return check


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A headless Chromium with a fresh profile (--user-data-dir) for the module's tests."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="install the dev extra")
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make browser` (apt-get install chromium)")
    with sync_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_FLAGS,
            viewport=LAPTOP,
        )
        yield context
        context.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A tab that records JavaScript errors and failed loads; the test fails on any."""
    tab = browser.new_page()
    tab.set_viewport_size(LAPTOP)
    problems: list[str] = []
    tab.on("pageerror", lambda exc: problems.append(f"script error: {exc}"))
    tab.on("requestfailed", lambda req: problems.append(f"failed to load {req.url}"))
    tab.on("console", lambda msg: msg.type == "error" and problems.append(msg.text))
    yield tab
    tab.close()
    assert not problems, problems


# The longest test files, longest first (one worker's seconds in the last full runs). With
# `pytest -n 2 --dist loadfile --no-loadscope-reorder` (make test) a worker takes the next file
# whenever it runs low, in collection order, so the long ones start first and the two workers
# end together. xdist's default order (files with the most tests first) left these few-test
# files for last, where one worker ran them while the other had finished. Only the order of
# whole files changes; tests within a file keep theirs, and every test still runs.
LONGEST_FIRST = (
    "test_audit_semantics.py",
    "test_audit_linescan.py",
    "test_models_clv.py",
    "test_parameter_recovery.py",
    "test_models_oracle.py",
    "test_docs_browser.py",
    "test_audit_screen.py",
    "test_any_plan.py",
    "test_audit.py",
    "test_cli_build.py",
    "test_audit_crossrow.py",
    "test_serve_load.py",
    "test_synth_audit.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: files stay whole

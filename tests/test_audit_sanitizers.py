"""The C line scanner under AddressSanitizer and UndefinedBehaviorSanitizer.

The extension is built with `-fsanitize=address,undefined` into a temporary directory, and the
scanner's tests (tests/test_audit_linescan.py, the malformed tables among them, and the any-plan
soundness test) run against it in a subprocess with libasan preloaded. Any report fails: UBSan
halts on its first error, ASan on its first bad access. Leak detection is off (Python itself
leaks at exit).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "compiler" / "_linescan.c"


def _runtime(name: str) -> str | None:
    gcc = shutil.which("gcc")
    if gcc is None:
        return None
    path = subprocess.run(
        [gcc, f"-print-file-name={name}"], capture_output=True, text=True, check=True
    ).stdout.strip()
    return path if os.path.isabs(path) and os.path.exists(path) else None


def test_the_scanner_tests_pass_under_asan_and_ubsan(tmp_path: Path) -> None:
    libasan = _runtime("libasan.so")
    if libasan is None or _runtime("libubsan.so") is None:
        pytest.fail(
            "gcc has no libasan/libubsan: Debian's gcc brings them (libgcc-12-dev depends on libasan8, libubsan1)"
        )
    # A package directory holding only the sanitized extension, first on the path: the rest of
    # `compiler` comes from the tree (a namespace-free shadow would hide it), so the test
    # process imports `compiler._linescan` from here through the package's __path__.
    build = tmp_path / "build"
    build.mkdir()
    suffix = sysconfig.get_config_var("EXT_SUFFIX")
    target = build / f"_linescan{suffix}"
    flags = ["-fsanitize=address,undefined", "-fno-omit-frame-pointer", "-g", "-O1"]
    flags += ["-fno-sanitize-recover=all", "-Wall", "-Wextra", "-Werror", "-fPIC", "-shared"]
    include = sysconfig.get_paths()["include"]
    subprocess.run(["gcc", *flags, f"-I{include}", str(SOURCE), "-o", str(target)], check=True)
    conftest = build / "sitecustomize.py"
    conftest.write_text("import compiler\n" f"compiler.__path__.insert(0, {str(build)!r})\n")
    env = dict(os.environ)
    env.update(
        # libstdc++ too: DuckDB throws C++ exceptions, and ASan's __cxa_throw interceptor needs
        # the real one loaded before it resolves.
        LD_PRELOAD=f"{libasan} {_runtime('libstdc++.so.6') or ''}".strip(),
        ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:halt_on_error=1",
        UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1",
        PYTHONPATH=os.pathsep.join([str(build), str(ROOT)]),
    )
    check = (
        "import compiler._linescan as m, sys; "
        f"sys.exit(0 if m.__file__ == {str(target)!r} else 'not the sanitized build: ' + m.__file__)"
    )
    subprocess.run([sys.executable, "-c", check], env=env, cwd=ROOT, check=True)
    tests = ["tests/test_audit_linescan.py", "tests/test_audit_fastpath_props.py"]
    # The tests that call the scanner directly (DuckDB under ASan is slow; the audits that
    # compare engines run in the ordinary suite).
    skip = (
        "built_here or bad_tables or stops_when or timestamps or kept_lines or not_plain"
        " or out_of_range or checked_on_entry or check_their or scanner_alone or confirmed"
    )
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", "-k", skip, *tests],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    report = run.stdout[-4000:] + run.stderr[-6000:]
    assert run.returncode == 0, report
    for marker in ("ERROR: AddressSanitizer", "runtime error:", "UndefinedBehaviorSanitizer"):
        assert marker not in run.stderr + run.stdout, report

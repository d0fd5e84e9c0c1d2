"""`make run` installs what the server needs and nothing of the development tools (issue 16,
item 5): the project's own dependencies hold none of them, and the run target installs the
project without its `dev` extra. (Measured on a fresh clone: 65 packages, 243 MB; README.)"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# What tests, lints, type-checks or benchmarks need and a running server never imports.
DEVELOPMENT_TOOLS = {
    "pytest",
    "pytest-timeout",
    "pytest-xdist",
    "hypothesis",
    "ruff",
    "mypy",
    "import-linter",
    "playwright",
    "schemathesis",
    "httpx",
    "py-spy",
}


def _name(requirement: str) -> str:
    return re.split(r"[\[<>=!~; ]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def _recipe(makefile: str, target: str) -> list[str]:
    """The commands of one Makefile rule (its tab-indented lines)."""
    lines = makefile.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"{target}:"))
    body = []
    for line in lines[start + 1 :]:
        if not line.startswith("\t"):
            break
        body.append(line.strip())
    return body


def test_the_server_needs_no_development_tool() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime = {_name(r) for r in project["dependencies"]}
    development = {_name(r) for r in project["optional-dependencies"]["dev"]}
    assert runtime.isdisjoint(DEVELOPMENT_TOOLS), runtime & DEVELOPMENT_TOOLS
    # The tools are where `make test` finds them.
    assert DEVELOPMENT_TOOLS - {"py-spy"} <= development


def test_make_run_installs_the_project_without_its_dev_extra() -> None:
    makefile = (ROOT / "Makefile").read_text()
    run = _recipe(makefile, "run")
    assert run == ["$(BIN)/tidings serve"]
    assert re.search(r"^run: \$\(RUN_STAMP\)$", makefile, flags=re.M)
    installs = [c for c in _recipe(makefile, "$(RUN_STAMP)") if "pip install" in c and " -e " in c]
    assert installs == ["$(BIN)/python -m pip install --quiet -e ."]

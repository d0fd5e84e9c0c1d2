"""The README's layout and docs/architecture.md's map follow the tree: every part of the
package is named in both, and neither points outside the repository."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "src" / "tidings"


def _parts() -> set[str]:
    """The package's sub-packages (`api/`) and its top-level modules with a role of their
    own (`config.py`, `app.py`, `i18n.py`)."""
    packages = {f"{p.name}/" for p in PACKAGE.iterdir() if (p / "__init__.py").exists()}
    roles = {"config.py", "app.py", "i18n.py"}
    return packages | roles


def _layout_block() -> str:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Layout and design", 1)[1]
    return section.split("```", 2)[1]


def test_the_readme_layout_names_every_part_of_the_package() -> None:
    block = _layout_block()
    missing = {part for part in _parts() if not re.search(rf"(^|\s){re.escape(part)}", block)}
    assert not missing, f"README layout lacks {sorted(missing)}"


def test_the_readme_layout_names_only_parts_that_exist() -> None:
    block = _layout_block()
    package_lines = block.split("tests/", 1)[0]
    named = set(re.findall(r"^  (\w+/)", package_lines, flags=re.MULTILINE))
    assert named <= _parts(), f"README layout names {sorted(named - _parts())}, not in the tree"
    test_dirs = {f"{p.name}/" for p in (ROOT / "tests").iterdir() if p.is_dir()} - {"__pycache__/"}
    test_line = block.split("tests/", 1)[1].split("bench/", 1)[0]
    for folder in test_dirs:
        assert folder in test_line, f"README's tests/ line lacks {folder}"


def test_the_architecture_map_has_a_row_for_every_part() -> None:
    text = (ROOT / "docs" / "architecture.md").read_text()
    rows = set(re.findall(r"^\| `([\w.]+/?)` \|", text, flags=re.MULTILINE))
    assert rows == _parts()


def test_the_project_docs_point_at_nothing_outside_the_repository() -> None:
    docs = [ROOT / "README.md", ROOT / "CHANGELOG.md", *sorted((ROOT / "docs").glob("*.md"))]
    for doc in docs:
        assert "../shared" not in doc.read_text(), f"{doc.name} points outside the repository"

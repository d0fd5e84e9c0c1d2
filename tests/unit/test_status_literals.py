"""Status numbers are written once, in `tidings.domain.lifecycle`: everywhere else a status
is compared with, or kept as, a lifecycle name (`MessageStatus.WAITING`, `IN_PROGRESS`, …),
and SQL spells its status lists from those names (`tidings.store.sql.sql_in`).

Checked here, on the parsed source of `src/tidings` (so comments and docstrings, which quote
the API's output such as "Status = 1, check_time = …", do not count):
* Python comparisons of a status with a number (`x.status == -1`, `status in (1, 2)`);
* SQL in string literals comparing a status column with a number (`status IN (-1, 0)`);
* constants or maps named for a status holding numbers (`WAITING = -1`, `JOB_STATUS = {0: …}`).
Migrations (`store/migrations/versions`) are frozen history and are left as they were written.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from tidings.domain.lifecycle import JobStatus, MessageStatus, RunStatus

SOURCE = Path(__file__).resolve().parents[2] / "src" / "tidings"
HOME = "domain/lifecycle.py"
FROZEN = "store/migrations/versions/"

# `status`, `m.status`, `+status`, but not `status_code` or `callback_status`.
SQL = re.compile(r"\bstatus\s*(=|<>|!=|\bIN\b|\bNOT IN\b)\s*\(?\s*-?\d", re.IGNORECASE)
STATUS_NAMES = (
    {m.name for m in MessageStatus} | {m.name for m in JobStatus} | {m.name for m in RunStatus}
) | {"STATUS", "SENT"}


def _is_status(node: ast.expr) -> bool:
    name = ""
    if isinstance(node, ast.Name):
        name = node.id
    elif isinstance(node, ast.Attribute):
        name = node.attr
    return name.lower() == "status" or name.lower().endswith("_status")


def _is_number(node: ast.expr) -> bool:
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        node = node.operand
    if isinstance(node, ast.Constant):
        return type(node.value) is int
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        return bool(node.elts) and all(_is_number(e) for e in node.elts)
    return False


def _named_for_a_status(target: ast.expr) -> bool:
    if not isinstance(target, ast.Name) or not target.id.isupper():
        return False  # a constant's name: `bytes_read = 0` is not one
    words = set(target.id.upper().strip("_").split("_"))
    whole = target.id.upper().strip("_")
    return any(n in words or whole.endswith(n) for n in STATUS_NAMES)


def _docstrings(tree: ast.AST) -> set[int]:
    """ids of the string constants that are docstrings (or other bare string statements)."""
    return {
        id(node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
    }


def offences(source: str) -> list[str]:
    tree = ast.parse(source)
    skip = _docstrings(tree)
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
            if any(_is_status(o) for o in operands) and any(_is_number(o) for o in operands):
                found.append(f"line {node.lineno}: {ast.unparse(node)}")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            if id(node) not in skip and SQL.search(node.value):
                found.append(f"line {node.lineno}: {node.value!r}")
        elif isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names = [t for tg in targets for t in (tg.elts if isinstance(tg, ast.Tuple) else [tg])]
            value = node.value
            keys = value.keys if isinstance(value, ast.Dict) else []
            numbers = _is_number(value) or any(k is not None and _is_number(k) for k in keys)
            if numbers and any(_named_for_a_status(n) for n in names):
                found.append(f"line {node.lineno}: {ast.unparse(node)}")
    return found


def test_no_status_number_outside_the_lifecycle() -> None:
    offenders = [
        f"{name} {offence}"
        for path in sorted(SOURCE.rglob("*.py"))
        if (name := path.relative_to(SOURCE).as_posix()) != HOME and not name.startswith(FROZEN)
        for offence in offences(path.read_text())
    ]
    assert not offenders, "status numbers outside domain/lifecycle.py:\n" + "\n".join(offenders)


def test_the_guard_finds_what_it_is_for() -> None:
    caught = [
        "ok = row.status == -1",
        "ok = status in (1, 2)",
        "ok = 0 != job.status",
        "ok = j.status not in [-1, 0]",
        'q = "SELECT 1 FROM messages WHERE status IN (-1, 0)"',
        'q = "UPDATE runs SET status = 1 WHERE status=0"',
        'q = f"SELECT 1 FROM messages m WHERE m.status NOT IN (3, 20) AND id = {x}"',
        'q = "WHERE +status <> -2"',
        "WAITING, HANDED_OVER = -1, 0",
        "_MSG_STOPPED = -2",
        'JOB_STATUS = {-1: "waiting", 0: "sending"}',
        "_DELIVERED = (1, 2)",
    ]
    for sample in caught:
        assert offences(sample), sample


def test_the_guard_leaves_alone_what_is_not_a_status_number() -> None:
    fine = [
        '"""fmt 0: `Status = 1, check_time = 10.10.2010 10:10:10`."""',
        "ok = response.status_code == 200",
        "ok = row.status == MessageStatus.WAITING",
        "ok = status in IN_PROGRESS",
        'q = "SELECT 1 FROM messages WHERE status = ? AND id IN (1, 2)"',
        'q = f"SELECT 1 FROM messages WHERE status IN {sql_in(IN_PROGRESS)}"',
        'q = "UPDATE callbacks SET callback_status = 1"',
        "# status = 1 in a comment\nx = 1",
        "HELD_MIN = 20",
        "ok = fmt in (0, 1)",
    ]
    for sample in fine:
        assert not offences(sample), sample

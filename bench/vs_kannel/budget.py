"""Per-message CPU budget from py-spy raw stacks (bench/vs_kannel.sh with PROFILE=1).

    python bench/vs_kannel/budget.py MESSAGES profile.txt [profile.txt ...]

Each sample is charged to one part of a send's path: the deepest frame in Tidings' own code
decides (its module names the part), and a sample with no Tidings frame goes to the library it
is in (uvicorn, the event loop, SQLite...). py-spy samples at a fixed rate, so samples / rate /
messages is the CPU time one message costs in that part.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from pathlib import Path

RATE = 250  # samples per second, as run.py asks py-spy for

# (pattern on a frame's file, part). The first matching rule for the deepest Tidings frame wins.
TIDINGS_PARTS: list[tuple[str, str]] = [
    (r"tidings/group_commit", "store"),
    (r"tidings/api/(params|intake)|tidings/domain/send_request", "parameters"),
    (r"tidings/api/guards|tidings/domain/guards|tidings/store/abuse", "guards"),
    (r"tidings/domain/auth|tidings/domain/sessions", "authentication"),
    (r"tidings/domain/(pricing|routing|money|sms|phones|numbers)", "pricing & message rules"),
    (r"tidings/store/", "store"),
    (r"tidings/dispatch/receipts", "receipts"),
    (r"tidings/dispatch/(callbacks|callback_transport)", "callbacks"),
    (r"tidings/channels/smpp", "SMPP"),
    (r"tidings/dispatch/", "hand-over & dispatch"),
    (r"tidings/domain/", "domain (other)"),
    (r"tidings/api/|tidings/app\.py", "HTTP edge"),
    (r"tidings/", "other Tidings"),
]
LIBRARY_PARTS: list[tuple[str, str]] = [
    (r"sqlalchemy|sqlite3|psycopg", "store"),
    (r"uvicorn|httptools|h11|starlette|anyio", "HTTP server"),
    (r"httpx|httpcore", "callbacks"),
    (r"asyncio|selectors|uvloop", "event loop"),
    (r"logging|structlog", "logging"),
]
FRAME = re.compile(r"\((?P<file>[^():]+)(?::\d+)?\)")


# Where a process starts and waits: frames here say nothing about which part the work is for.
RUNNERS = r"tidings/cli/|tidings/app\.py|tidings/api/server\.py|tidings/waiting\.py"
# A sample whose innermost frame is one of these is a thread or the event loop waiting for work;
# py-spy's idle detection misses some of them, so they are counted apart, not as CPU.
# psycopg's Connection.wait is a thread waiting for PostgreSQL's answer.
WAITING = (
    r"\((selectors\.py|concurrent/futures/thread\.py|threading\.py|queue\.py):"
    r"|^Connection\.wait \(psycopg/"
)
# Under uvloop the loop's own work (its I/O, its scheduling) is C below Runner.run, where
# py-spy cannot tell it from the loop waiting: a part of its own, an upper bound.
UVLOOP = r"^Runner\.run \(asyncio/runners\.py:"


def part_of(stack: str) -> str:
    frames = stack.split(";")
    if re.search(WAITING, frames[-1]):
        return "waiting"
    if re.search(UVLOOP, frames[-1]):
        return "uvloop (C; includes waiting)"
    files = [m.group("file") for fr in frames for m in FRAME.finditer(fr)]
    for file in reversed(files):
        if "tidings/" in file and not re.search(RUNNERS, file):
            return next(part for pattern, part in TIDINGS_PARTS if re.search(pattern, file))
    for file in reversed(files):
        for pattern, part in LIBRARY_PARTS:
            if re.search(pattern, file):
                return part
    return "other"


def process_of(stack: str) -> str:
    """The innermost process a sample is in (py-spy --subprocesses nests a child's stacks
    under its parent's): `serve`, `dispatcher`, `api`…, by the Tidings command it runs."""
    names = [f for f in stack.split(";") if f.startswith("process ")]
    if not names:
        return "all"
    command = re.search(r"tidings(?:\.cli\.main)? (\w+)", names[-1])
    return command.group(1) if command else names[-1][:40]


def budget(files: list[Path], messages: int) -> str:
    samples: dict[str, Counter[str]] = {}
    for path in files:
        for line in path.read_text(errors="replace").splitlines():
            stack, _, count = line.rpartition(" ")
            if stack and count.isdigit():
                process = samples.setdefault(process_of(stack), Counter())
                process[part_of(stack)] += int(count)
    total = Counter[str]()
    for process in samples.values():
        total.update(process)
    tables = [_table("all processes", total, messages)]
    if len(samples) > 1:
        tables += [_table(name, parts, messages) for name, parts in sorted(samples.items())]
    return "\n\n".join(tables)


def _table(title: str, samples: Counter[str], messages: int) -> str:
    samples = Counter(samples)
    waiting = samples.pop("waiting", 0)
    total = sum(samples.values())
    if not total or messages <= 0:
        return f"{title}: no samples"
    rows = [f"{title:<26}{'share':>7}{'µs/message':>12}"]
    for part, n in samples.most_common():
        rows.append(f"  {part:<24}{100 * n / total:>6.1f}%{1e6 * n / RATE / messages:>12.0f}")
    rows.append(f"  {'total':<24}{100:>6.1f}%{1e6 * total / RATE / messages:>12.0f}")
    rows.append(f"  (and {waiting} samples of threads or the event loop waiting, not counted)")
    return "\n".join(rows)


if __name__ == "__main__":
    print(budget([Path(p) for p in sys.argv[2:]], int(sys.argv[1])))

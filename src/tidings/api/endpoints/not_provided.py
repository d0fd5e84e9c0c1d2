"""What the SMS Center API has and Tidings does not: one answer for all of it, an error
envelope in the requested fmt (error 1), so clients that parse every answer (JSON.parse in the
official JavaScript library and node-smsc) get an error they can read instead of a 404 page.
docs/api.md, "What Tidings provides", lists these scripts and actions."""

from __future__ import annotations

from tidings.api.context import Call, ScriptHandler
from tidings.errors import NotProvided

# The label of every unregistered path in metrics and logs: path names come from the client,
# and one label per name would let anyone grow the metrics without bound.
UNKNOWN = "unknown"


def not_provided(what: str) -> ScriptHandler:
    """A handler that refuses `what` (a script name such as `info.php`, or a path)."""
    # The name is the client's: cut, so the error cannot be made to echo a whole request
    # line, and without line breaks or other controls, so a fmt 0/1 answer stays one line.
    printable = "".join(c if c.isprintable() else "?" for c in what[:64])
    name = printable if len(what) <= 64 else printable + "…"

    def handle(_call: Call) -> str:
        raise NotProvided(f"{name} is not provided")

    return handle


def refuse_action(action: str) -> None:
    """An action of a script Tidings has (get.php `get_price=1`…) that it does not provide."""
    raise NotProvided(f"{action} is not provided")

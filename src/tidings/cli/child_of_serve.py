"""How a dispatcher that `tidings serve` starts begins: by making sure it never outlives it.

`serve` runs this module (`python -m tidings.cli.child_of_serve dispatcher …`) rather than
the CLI itself, so the child is tied to its parent before it imports anything heavy: the
CLI's imports take a second or more on a busy machine, and a parent killed meanwhile left a
dispatcher running that long. On Linux the kernel then kills the child the moment the parent
dies (even by kill -9); a thread also watches the parent, for a parent that died before the
kernel was asked, and off Linux. Only the standard library is imported here.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys
import threading

PARENT_ENV = "TIDINGS_SERVE_PARENT"
_PR_SET_PDEATHSIG = 1
_tied = False


def die_with_parent() -> bool:
    """End this process when the `serve` that started it is gone. False when this process
    was not started by `serve`. Once is enough: later calls say whether it was done."""
    global _tied
    expected = os.environ.pop(PARENT_ENV, None)  # not for this process's own children
    if _tied or not expected:
        return _tied
    parent = int(expected)
    _ask_kernel_to_kill_on_parent_death()
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    _tied = True
    return True


def _ask_kernel_to_kill_on_parent_death() -> None:
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(OSError, AttributeError):
        # The running program's own symbols include libc's: no library search (which runs
        # ldconfig) before the child is tied.
        ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def _watch_parent(parent: int) -> None:
    event = threading.Event()
    while os.getppid() == parent:
        event.wait(0.5)
    import structlog

    structlog.get_logger("tidings.serve").error("serve is gone: its dispatcher stops at once")
    os.kill(os.getpid(), signal.SIGKILL)


def main() -> None:
    die_with_parent()
    from tidings.cli.main import main as cli

    cli()


if __name__ == "__main__":
    # Under its own name, so that the CLI's die_with_parent() sees it done.
    from tidings.cli import child_of_serve

    child_of_serve.main()

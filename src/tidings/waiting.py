"""Work that may not wait: a request run on the event loop's own thread.

A thread hop per request cost more CPU than a whole SQLite send.php (GIL hand-offs between
the loop and the store's threads), so the API first tries a request on the loop itself, where
it must not wait for anything slow: the SQLite writer lock held by someone else, or a password
hash not yet in the cache. Code that would wait calls `refuse_to_wait()`; the request is then
abandoned before it has written anything, and run again in a thread.
"""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

T = TypeVar("T")


class WouldWait(Exception):
    """Raised instead of waiting, inside `without_waiting()`."""


_state = threading.local()


@contextmanager
def without_waiting() -> Iterator[None]:
    _state.on = True
    try:
        yield
    finally:
        _state.on = False


def may_wait() -> bool:
    return not getattr(_state, "on", False)


def refuse_to_wait() -> None:
    if not may_wait():
        raise WouldWait


def stop_refusing() -> None:
    """After the first write has begun, the request must finish where it is: abandoning it
    then would leave half its work done."""
    _state.on = False


async def on_loop_first(
    fn: Callable[[], T], elsewhere: Callable[[Callable[[], T]], Awaitable[T]]
) -> T:
    """`fn` right here on the event loop if it needs not wait; else `elsewhere(fn)` (a thread,
    where it may wait). Refused work has written nothing, so running it again is safe."""
    try:
        with without_waiting():
            return fn()
    except WouldWait:
        return await elsewhere(fn)

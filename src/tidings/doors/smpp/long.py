"""The parts of a long message held until the last one arrives; then sent as one message.

Every part is answered (submit_sm_resp) with the id of the whole message once it is stored,
so the parts of one message wait for each other. Parts are grouped per account by source,
destination, reference and count — over all the account's binds, since a client may spread
them. A message whose parts have not all come within the timeout is not sent: its held parts
are refused (PartsMissing).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from tidings.domain.sends import Sent
from tidings.doors.smpp.submit import SubmitPart

GroupKey = tuple[int, str, str, int, int]


class PartsMissing(Exception):
    """The other parts of a long message did not come in time."""


@dataclass
class _Group:
    total: int
    done: asyncio.Future[Sent]
    timer: asyncio.TimerHandle | None = None
    parts: dict[int, SubmitPart] = field(default_factory=dict)


class LongMessages:
    def __init__(self, timeout_s: float) -> None:
        self._timeout_s = timeout_s
        self._groups: dict[GroupKey, _Group] = {}

    def add(
        self, account_id: int, part: SubmitPart
    ) -> tuple[asyncio.Future[Sent], list[SubmitPart]]:
        """The future all parts of the message are answered by, and — when this part
        completed it — every part in order (else an empty list)."""
        assert part.concat is not None
        ref, total, seq = part.concat
        key = (account_id, part.source, part.destination, ref, total)
        group = self._groups.get(key)
        if group is None:
            loop = asyncio.get_running_loop()
            group = _Group(total, loop.create_future())
            # Its error is read by every part waiting; when none is left, by nobody.
            group.done.add_done_callback(_read_outcome)
            group.timer = loop.call_later(self._timeout_s, self._expire, key)
            self._groups[key] = group
        group.parts[seq] = part  # a part sent again replaces the first copy
        if len(group.parts) < total:
            return group.done, []
        del self._groups[key]
        if group.timer is not None:
            group.timer.cancel()
        return group.done, [group.parts[n] for n in sorted(group.parts)]

    def _expire(self, key: GroupKey) -> None:
        group = self._groups.pop(key, None)
        if group is not None and not group.done.done():
            group.done.set_exception(PartsMissing(f"{len(group.parts)} of {group.total} parts"))

    @property
    def waiting(self) -> int:
        return len(self._groups)


def _read_outcome(future: asyncio.Future[Sent]) -> None:
    if not future.cancelled():
        future.exception()

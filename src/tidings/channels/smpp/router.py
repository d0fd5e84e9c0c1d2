"""Choosing the upstream for a destination: the longest matching prefix wins.

An upstream with no prefixes serves every destination, as a fallback (a zero-length match).
Among upstreams with the same match length the first configured wins, so the operator's order
is the tie-breaker. The router only picks: the dispatcher submits through the chosen channel
and records its `name`, because message ids are unique per upstream, not globally.
"""

from __future__ import annotations

from collections.abc import Sequence

from tidings.channels.smpp.channel import SmppChannel


class SmppRouter:
    def __init__(self, channels: Sequence[SmppChannel]) -> None:
        names = [c.name for c in channels]
        if len(set(names)) != len(names):
            raise ValueError(f"upstream names must be unique: {names}")
        self.channels = tuple(channels)

    def route(self, address: str) -> SmppChannel | None:
        """The channel for this destination, or None if no upstream serves it."""
        digits = address.lstrip("+")
        best: SmppChannel | None = None
        best_length = -1
        for channel in self.channels:
            length = match_length(channel.upstream.prefixes, digits)
            if length > best_length:
                best, best_length = channel, length
        return best


def match_length(prefixes: Sequence[str], digits: str) -> int:
    """Length of the longest prefix matching `digits`; 0 for a catch-all; -1 for no match."""
    if not prefixes:
        return 0
    lengths = [len(p) for p in prefixes if digits.startswith(p.lstrip("+"))]
    return max(lengths, default=-1)

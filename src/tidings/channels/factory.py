"""Channels for the upstreams named in the settings."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tidings.channels.base import Channel

if TYPE_CHECKING:
    from tidings.config import Settings


def upstream_channels(settings: Settings) -> list[tuple[Channel, int]]:
    """(channel, window) for each configured SMPP and SMTP upstream."""
    lanes: list[tuple[Channel, int]] = []
    return lanes

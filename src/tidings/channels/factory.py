"""Channels for the upstreams named in the settings."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tidings.channels.base import Channel
from tidings.channels.smpp import SmppChannel
from tidings.channels.smtp import SmtpChannel

if TYPE_CHECKING:
    from tidings.config import Settings


def upstream_channels(settings: Settings) -> list[tuple[Channel, int]]:
    """(channel, window) for each configured SMPP and SMTP upstream. The dispatcher keeps at
    most `window` messages of an upstream in flight: the window of each bind times the binds."""
    lanes: list[tuple[Channel, int]] = []
    for config in settings.smpp:
        lanes.append((SmppChannel(config), config.window * config.binds))
    for relay in settings.smtp:
        # A few messages queued per pooled connection keep every connection busy.
        lanes.append((SmtpChannel(relay), relay.pool_size * 8))
    return lanes

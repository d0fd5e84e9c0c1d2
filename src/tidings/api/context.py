"""What a /sys script handler is given: the call, the domain services, the edge's guards."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from tidings.api.formats import Renderer
from tidings.api.guards.edge import EdgeGuards
from tidings.api.params import Params
from tidings.domain.accounts import Account
from tidings.domain.services import Services


@dataclass(frozen=True)
class Call:
    """One authenticated API call."""

    script: str
    params: Params
    fmt: int
    renderer: Renderer
    account: Account
    client_ip: str
    now: datetime
    services: Services
    # Error 9 limits: identical jobs.php/send.php requests, phones.php repeats, balance.php.
    guards: EdgeGuards


ScriptHandler = Callable[[Call], str]

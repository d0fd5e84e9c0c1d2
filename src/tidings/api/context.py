"""What a /sys script handler is given: the call, the domain services, the edge's guards."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime

from tidings.api.formats import Renderer
from tidings.api.guards.edge import EdgeGuards
from tidings.api.params import Params
from tidings.domain.accounts import Account
from tidings.domain.sends import PreparedSend, Sent
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


@dataclass
class Deferred:
    """An answer that needs its send stored first: the edge stores `prepared` together with
    the sends of the other requests in flight (group_commit.py), then `render`s the
    result. An error is answered with `reference` (send.php echoes the client's id)."""

    prepared: PreparedSend
    render: Callable[[Sent], str]
    reference: str | None
    # What is to be undone if the store refuses the send (the repeat guard's hit).
    on_refusal: ExitStack = field(default_factory=ExitStack)


ScriptHandler = Callable[[Call], "str | Deferred"]

"""What a /sys script handler is given, and the services it may call."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from tidings.api.formats import Renderer
from tidings.api.guards.protocols import ConcurrencyGuard, RateGuard
from tidings.api.params import Params
from tidings.config import Settings
from tidings.domain.accounts import Account
from tidings.domain.auth import Authenticator
from tidings.domain.clock import Clock
from tidings.domain.guards import AbuseGuard
from tidings.domain.jobs import JobService
from tidings.domain.sends import SendService
from tidings.store.contacts import ContactStore
from tidings.store.messages import MessageStore
from tidings.store.repository import Store


@dataclass(frozen=True)
class Services:
    settings: Settings
    store: Store
    clock: Clock
    auth: Authenticator
    abuse: AbuseGuard
    # Error 9 limits: identical jobs.php/send.php requests, phones.php repeats, balance.php.
    duplicates: RateGuard
    phone_repeats: RateGuard
    balance_requests: RateGuard
    concurrency: ConcurrencyGuard
    jobs: JobService
    sends: SendService
    messages: MessageStore
    contacts: ContactStore


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


ScriptHandler = Callable[[Call], str]

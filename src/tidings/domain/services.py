"""The service bag: every domain service an edge (the /sys API, the cabinet, the command line)
may call. Built by the composition root (tidings.app.build_services) over the store's ports;
an edge receives it and never sees the store."""

from __future__ import annotations

from dataclasses import dataclass, field

from tidings.domain.address_book import ContactService
from tidings.domain.admin import AdminService, UpstreamMonitor
from tidings.domain.audit import AuditLog
from tidings.domain.auth import Authenticator
from tidings.domain.balance import BalanceService
from tidings.domain.clock import Clock
from tidings.domain.door_binds import DoorBindService
from tidings.domain.door_inbound import DoorInboundService
from tidings.domain.door_receipts import DoorReceiptService
from tidings.domain.guards import AbuseGuard
from tidings.domain.inbound import InboundService
from tidings.domain.jobs import JobService
from tidings.domain.message_rules import RequestLimits
from tidings.domain.messages import MessageService
from tidings.domain.operator import OperatorService
from tidings.domain.profile import ProfileService
from tidings.domain.reports import ReportService
from tidings.domain.senders import SenderService
from tidings.domain.sends import SendService
from tidings.domain.sessions import SessionService
from tidings.domain.sign_in import SignInService
from tidings.domain.stop_list import StopListService
from tidings.domain.templates import TemplateService


@dataclass(frozen=True)
class Services:
    clock: Clock
    auth: Authenticator
    abuse: AbuseGuard
    jobs: JobService
    sends: SendService
    messages: MessageService
    balances: BalanceService
    contacts: ContactService
    stop_list: StopListService
    senders: SenderService
    templates: TemplateService
    reports: ReportService
    profile: ProfileService
    # Cabinet sign-ins, kept server-side so that signing out ends them.
    sessions: SessionService
    # The operator's: accounts, money, tariffs, and the upstreams' live state.
    admin: AdminService
    upstreams: UpstreamMonitor
    # The operator's actions on accounts (senders, disable, password, IP blocks, numbers)
    # and the audit log every one of them, the sign-ins and the money moves write.
    operator: OperatorService
    audit: AuditLog
    sign_in: SignInService
    # Incoming SMS: get_answers, the inbox, a list's replies, the operator's inbound numbers.
    inbound: InboundService
    # Receipts owed to the SMPP server's clients, kept until they take them.
    door_receipts: DoorReceiptService
    door_inbound: DoorInboundService
    door_binds: DoorBindService
    # What one request may ask for (jobs.php/send.php and the cabinet's create form alike).
    limits: RequestLimits = field(default_factory=RequestLimits)

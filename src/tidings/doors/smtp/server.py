"""The SMTP door: mail to `send@<domain>` is a send.php request (doors/smtp/body.py).

No open relay: a recipient other than `send@<domain>` (the configured domain) is refused at
RCPT with 550, before any body is taken. A mail larger than `max_message_bytes` is refused
with 552 while it arrives. The sender is checked as an API caller is — a blocked IP is
refused, a failed login counts towards the IP's block unless the IP is on the account's
allowlist, then the allowlist applies — and the request goes through send.php's service
(validation, price, charge, stop list, test mode, routing). The answer to DATA is the
result for the mail's recipient: 250 with send.php's fmt 0 answer (`OK - 1 SMS, ID - 12`),
or 550 with the error's text (451 when Tidings itself failed: the client may try again).
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import structlog
from aiosmtpd.smtp import SMTP, Envelope, Session

from tidings.config import SmtpServerSettings
from tidings.domain.accounts import Account
from tidings.domain.money import format_money
from tidings.domain.send_request import client_id, new_send
from tidings.domain.services import Services
from tidings.doors.listen import listening
from tidings.doors.smtp.body import MailRequest, mail_text, parse_request
from tidings.errors import AccountDisabled, DomainError
from tidings.ops.metrics import record_mail

log = structlog.get_logger("tidings.smtp_server")
STORE_THREADS = 2


class SendHandler:
    """aiosmtpd's handler: RCPT checks the address, DATA sends."""

    def __init__(self, settings: SmtpServerSettings, services: Services, run: Any) -> None:
        self._address = f"send@{settings.domain}".lower()
        self._services = services
        self._run = run

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        if address.strip().lower() != self._address:
            return f"550 5.7.1 <{address}>: relaying denied, only <{self._address}> is served"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        ip = str(session.peer[0]) if isinstance(session.peer, tuple) else "0.0.0.0"
        raw = envelope.original_content or envelope.content or b""
        octets = raw.encode("utf-8", "surrogateescape") if isinstance(raw, str) else raw
        try:
            answer = await self._run(self._send, octets, ip)
        except DomainError as error:
            record_mail("refused")
            log.info("mail refused", ip=ip, error=error.description)
            return f"550 5.7.0 {_one_line(error.description)}"
        except Exception:
            record_mail("refused")
            log.exception("mail failed", ip=ip)
            return "451 4.3.0 internal error, try again"
        record_mail("accepted")
        return f"250 {answer}"

    def _send(self, raw: bytes, ip: str) -> str:
        """In a store thread: the send.php request of the mail, sent; its fmt 0 answer."""
        services = self._services
        services.abuse.check(ip)
        request = parse_request(mail_text(raw))
        account = self._authenticate(request, ip)
        services.auth.check_ip(account, ip)
        now = services.clock.now()
        reference = client_id(request.values.get("id"))
        send = new_send(
            request.values,
            account,
            now,
            reference,
            max_recipients=services.limits.max_recipients,
        )
        if request.test:
            quote = services.sends.quote(account, send)
            return f"{format_money(quote.cost)} ({quote.parts} SMS)"
        sent = services.sends.send(account, send, now)
        return f"OK - {sent.parts} SMS, ID - {sent.send_id}"

    def _authenticate(self, request: MailRequest, ip: str) -> Account:
        services = self._services
        try:
            return services.auth.authenticate(request.login, request.psw, "")
        except AccountDisabled:
            raise  # the right credentials: not a failure to count against the IP
        except DomainError:
            if not services.auth.is_allowlisted(request.login, ip):
                services.abuse.auth_failed(ip)
            raise


def _one_line(text: str) -> str:
    return " ".join(text.split())


class SmtpServer:
    def __init__(self, settings: SmtpServerSettings, services: Services) -> None:
        self.settings = settings
        self._executor = ThreadPoolExecutor(STORE_THREADS, thread_name_prefix="smtp-store")
        self._handler = SendHandler(settings, services, self._in_thread)
        self._server: asyncio.Server | None = None

    async def _in_thread(self, fn: Any, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    async def start(self) -> None:
        s = self.settings
        loop = asyncio.get_running_loop()

        def protocol() -> SMTP:
            return SMTP(
                self._handler,
                data_size_limit=s.max_message_bytes,
                hostname=s.domain,
                ident="Tidings",
                timeout=s.timeout_s,
                loop=loop,
            )

        listener = listening(s.host, s.port, 128)
        self._server = await loop.create_server(protocol, sock=listener)
        log.info("smtp server listening", address=self.address)

    @property
    def address(self) -> str:
        assert self._server is not None
        host, port = self._server.sockets[0].getsockname()[:2]
        return f"{host}:{port}"

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        self._executor.shutdown(wait=True)

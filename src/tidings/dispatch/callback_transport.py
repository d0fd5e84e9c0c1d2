"""The HTTP client status callbacks go out through (aiohttp): it dials only addresses the
callback rule allows (domain/callback_urls.py) and connects to exactly the address it checked.

The check sits in the connection itself (the connector's resolver), so there is no gap
between checking a name and connecting to it in which the name could resolve elsewhere
(DNS rebinding): the name is resolved once, every address it gives is checked, and the
socket is opened to one of those addresses. A literal address never reaches a resolver: the
sender checks it against the rule right before the request (callbacks.py), and aiohttp
itself refuses the legacy numeric forms (`127.1`, `2130706433`). TLS still verifies the
certificate against the URL's host name.

aiohttp, not httpx: on this path httpx (over httpcore, h11 and anyio) cost ≈ 1.2–1.9 ms of
CPU per callback here, aiohttp ≈ 0.2 ms (both measured on the same loopback endpoint, one
keep-alive connection): the callbacks could not keep up with the receipts.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import Awaitable, Callable

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult

from tidings.domain.callback_urls import CallbackPolicy, parse_host
from tidings.errors import InvalidParameter

# host, port → the addresses to try, in order; raises OSError when the name is unknown.
AsyncResolver = Callable[[str, int], Awaitable[list[str]]]


class Refused(OSError):
    """The callback's host is or resolves to an address callbacks may not reach."""


async def system_resolve(host: str, port: int) -> list[str]:
    """getaddrinfo on the loop's executor: the event loop never waits for DNS."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    seen: dict[str, None] = {}
    for info in infos:
        seen.setdefault(str(info[4][0]), None)
    return list(seen)


class GuardedResolver(AbstractResolver):
    def __init__(self, policy: CallbackPolicy, resolve: AsyncResolver = system_resolve) -> None:
        self._policy = policy
        self._resolve = resolve

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        return [
            ResolveResult(
                hostname=host,
                host=address,
                port=port,
                family=socket.AF_INET6 if ":" in address else socket.AF_INET,
                proto=0,
                flags=socket.AI_NUMERICHOST,
            )
            for address in await self.addresses(host, port)
        ]

    async def addresses(self, host: str, port: int) -> list[str]:
        """The checked addresses of the host; Refused if any of them may not be reached."""
        try:
            target = parse_host(host.strip("[]"))
            addresses = list(target.fixed) or await self._resolve(target.host, port)
            self._policy.check(target.host, addresses)
        except InvalidParameter as exc:
            raise Refused(exc.description.removeprefix("callback URL: ")) from None
        except OSError as exc:
            raise OSError(f"{host} does not resolve: {exc}") from None
        if not addresses:
            raise OSError(f"{host} does not resolve")
        return addresses

    async def close(self) -> None:
        """Nothing held."""


def callback_session(
    policy: CallbackPolicy,
    deadline_s: float,
    connections: int,
    resolve: AsyncResolver = system_resolve,
) -> aiohttp.ClientSession:
    """No redirects (the sender passes allow_redirects=False: following one could lead
    anywhere), no proxies or credentials from the environment, no cookies, answers never
    inflated; every new connection's host through GuardedResolver."""
    connector = aiohttp.TCPConnector(
        limit=connections,
        limit_per_host=0,
        keepalive_timeout=5.0,
        resolver=GuardedResolver(policy, resolve),
        ssl=ssl.create_default_context(),
    )
    return aiohttp.ClientSession(
        connector=connector,
        timeout=aiohttp.ClientTimeout(total=deadline_s),
        trust_env=False,
        auto_decompress=False,
        cookie_jar=aiohttp.DummyCookieJar(),
    )


def failure_text(exc: BaseException) -> str:
    """What a failed delivery records: the refusal itself when the rule stopped it."""
    inner = getattr(exc, "os_error", None)
    if isinstance(inner, OSError) and not isinstance(exc, aiohttp.ClientSSLError):
        exc = inner
    text = str(exc)
    return f"{type(exc).__name__}: {text}"[:250] if text else type(exc).__name__

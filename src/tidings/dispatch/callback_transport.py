"""The HTTP client status callbacks go out through: it dials only addresses the callback rule
allows (domain/callback_urls.py) and connects to exactly the address it checked.

The check sits in the connection itself (an httpcore network backend), so there is no gap
between checking a name and connecting to it in which the name could resolve elsewhere
(DNS rebinding): the name is resolved once, every address it gives is checked, and the
socket is opened to one of those addresses. TLS still verifies the certificate against the
URL's host name, which httpcore passes to the handshake (SNI) separately.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable, Iterable

import httpcore
import httpx

from tidings.domain.callback_urls import CallbackPolicy, parse_host
from tidings.errors import InvalidParameter

# host, port → the addresses to try, in order; raises OSError when the name is unknown.
AsyncResolver = Callable[[str, int], Awaitable[list[str]]]


class Refused(httpcore.ConnectError):
    """The callback's host is or resolves to an address callbacks may not reach."""


async def system_resolve(host: str, port: int) -> list[str]:
    """getaddrinfo on the loop's executor: the event loop never waits for DNS."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    seen: dict[str, None] = {}
    for info in infos:
        seen.setdefault(str(info[4][0]), None)
    return list(seen)


class GuardedBackend(httpcore.AsyncNetworkBackend):
    def __init__(self, policy: CallbackPolicy, resolve: AsyncResolver = system_resolve) -> None:
        self._policy = policy
        self._resolve = resolve
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await self.addresses(host, port)
        failure: Exception | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(
                    address, port, timeout, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        assert failure is not None  # addresses() never returns an empty list
        raise failure

    async def addresses(self, host: str, port: int) -> list[str]:
        """The checked addresses of the host; Refused if any of them may not be reached."""
        try:
            target = parse_host(host.strip("[]"))
            addresses = list(target.fixed) or await self._resolve(target.host, port)
            self._policy.check(target.host, addresses)
        except InvalidParameter as exc:
            raise Refused(exc.description.removeprefix("callback URL: ")) from None
        except OSError as exc:
            raise httpcore.ConnectError(f"{host} does not resolve: {exc}") from None
        if not addresses:
            raise httpcore.ConnectError(f"{host} does not resolve")
        return addresses

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise Refused("callbacks never use a unix socket")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def callback_client(
    policy: CallbackPolicy,
    deadline_s: float,
    connections: int,
    resolve: AsyncResolver = system_resolve,
) -> httpx.AsyncClient:
    """No redirects (a 3xx is a failed delivery: following one could lead anywhere), no
    proxies or credentials from the environment, every connection through GuardedBackend."""
    transport = httpx.AsyncHTTPTransport(trust_env=False)
    # httpx has no switch for the network backend; its transport keeps the httpcore pool
    # here (tests/integration/test_callback_limits.py fails if a new httpx stops using it).
    transport._pool = httpcore.AsyncConnectionPool(
        ssl_context=httpx.create_ssl_context(trust_env=False),
        max_connections=connections,
        max_keepalive_connections=connections,
        keepalive_expiry=5.0,
        network_backend=GuardedBackend(policy, resolve),
    )
    return httpx.AsyncClient(
        transport=transport,
        timeout=httpx.Timeout(deadline_s),
        follow_redirects=False,
        trust_env=False,
    )

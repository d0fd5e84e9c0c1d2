"""Where a status callback may be sent: a public http(s) address, never a host inside the
operator's network (loopback, private, link-local, unique-local, cloud metadata) unless the
operator allows that range (`dispatch.callbacks.allow_networks`).

The rule is checked when a URL is saved (cabinet, command line: `ProfileService`) and again
by the dispatcher right before it connects (dispatch/callbacks.py), because what a name
resolves to can change after it was saved.

Hosts are read the way browsers and resolvers read them (the WHATWG URL rules for IPv4):
`2130706433`, `0x7f.1`, `0177.0.0.1` and `127.1` all are 127.0.0.1, so a literal address
cannot slip through in a form that only the resolver understands.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from tidings.errors import InvalidParameter

MAX_CALLBACK_URL = 500

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
# host name → its addresses; raises OSError when the name does not resolve.
Resolver = Callable[[str], Sequence[str]]

# Names that mean this machine or the cloud's metadata service whatever the resolver says
# (a metadata name resolves only inside the cloud, where it is the most dangerous target).
_LOCAL = ("127.0.0.1", "::1")
_METADATA = ("169.254.169.254", "fd00:ec2::254")
NAMED_HOSTS: dict[str, tuple[str, ...]] = {
    "localhost": _LOCAL,
    "localhost.localdomain": _LOCAL,
    "ip6-localhost": _LOCAL,
    "ip6-loopback": _LOCAL,
    "metadata": _METADATA,
    "metadata.google.internal": _METADATA,
    "metadata.goog": _METADATA,
    "instance-data": _METADATA,
    "instance-data.ec2.internal": _METADATA,
}
_NAME = re.compile(r"[a-z0-9_-]+(\.[a-z0-9_-]+)*")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


@dataclass(frozen=True)
class CallbackPolicy:
    """The ranges the operator lets callbacks reach although they are not public."""

    allowed: tuple[IPNetwork, ...] = ()

    @classmethod
    def allowing(cls, cidrs: Iterable[str]) -> CallbackPolicy:
        return cls(tuple(ipaddress.ip_network(c.strip(), strict=False) for c in cidrs))

    def refusal(self, address: IPAddress) -> str:
        """What kind of address a callback may not go to this one is ("" when it may)."""
        address = _unwrapped(address)
        if any(address.version == n.version and address in n for n in self.allowed):
            return ""
        for reason, hit in (
            ("loopback", address.is_loopback),
            ("link-local", address.is_link_local),
            ("unspecified", address.is_unspecified),
            ("multicast", address.is_multicast),
            ("private", address.is_private),
            ("reserved", address.is_reserved),
            ("not public", not address.is_global),
        ):
            if hit:
                return reason
        return ""

    def check(self, host: str, addresses: Iterable[str]) -> None:
        """Raise InvalidParameter unless every address of the host may be reached."""
        for text in addresses:
            address = _unwrapped(ipaddress.ip_address(text.split("%", 1)[0]))
            kind = self.refusal(address)
            if kind:
                raise InvalidParameter(
                    "callback URL: %(host)s is not allowed (%(address)s is a %(kind)s address)",
                    host=host,
                    address=str(address),
                    kind=kind,
                )


@dataclass(frozen=True)
class Target:
    """The host of a callback URL, as it will be dialled."""

    host: str
    # The literal address, or the addresses a well-known name stands for; () = resolve it.
    fixed: tuple[str, ...]


def parse_host(host: str) -> Target:
    """The host part of a URL (brackets stripped) as it will be dialled; InvalidParameter if
    it is neither an address nor a host name."""
    host = host.strip().lower()
    if host.endswith(".") and not host.endswith(".."):
        host = host[:-1]
    if not host:
        raise InvalidParameter("callback URL: an http:// or https:// address")
    if ":" in host:
        try:
            return Target(host, (str(ipaddress.IPv6Address(host.split("%", 1)[0])),))
        except ValueError:
            raise InvalidParameter("callback URL: %(host)s is not an address", host=host) from None
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            raise InvalidParameter("callback URL: %(host)s is not a host name", host=host) from None
    if not _NAME.fullmatch(host):
        raise InvalidParameter("callback URL: %(host)s is not a host name", host=host)
    if _ends_in_number(host):
        return Target(host, (str(_ipv4(host)),))
    return Target(host, NAMED_HOSTS.get(host, ()))


def check_callback_url(url: str, policy: CallbackPolicy, resolve: Resolver | None) -> None:
    """The save-time rule: an http(s) URL whose host may be reached. A name that does not
    resolve now is accepted (the dispatcher checks it again before every delivery)."""
    if len(url) > MAX_CALLBACK_URL:
        raise InvalidParameter(
            "%(field)s: at most %(n)s characters", field="callback URL", n=MAX_CALLBACK_URL
        )
    if any(c.isspace() or c == "\\" for c in url):
        raise InvalidParameter("callback URL: no spaces or backslashes")
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. brackets around something that is not an IPv6 address
        raise InvalidParameter("callback URL: an http:// or https:// address") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidParameter("callback URL: an http:// or https:// address")
    if "@" in parts.netloc:
        # user:password@ is where parsers disagree about the host; no endpoint needs it.
        raise InvalidParameter("callback URL: no user name or password in it")
    try:
        parts.port  # noqa: B018 - raises on a port that is not a number in range
    except ValueError:
        raise InvalidParameter("callback URL: the port is not a number 1…65535") from None
    target = parse_host(parts.hostname)
    addresses: Sequence[str] = target.fixed
    if not addresses and resolve is not None:
        try:
            addresses = resolve(target.host)
        except OSError:
            addresses = ()
    policy.check(target.host, addresses)


def resolve_host(host: str) -> list[str]:
    """Every address the system resolver gives for the host (blocking)."""
    infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    return sorted({str(info[4][0]) for info in infos})


def _unwrapped(address: IPAddress) -> IPAddress:
    """An IPv4 address carried inside an IPv6 one (mapped, 6to4, NAT64) is judged as IPv4."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        if address.sixtofour is not None:
            return address.sixtofour
        if address in _NAT64:
            return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address


def _ends_in_number(host: str) -> bool:
    last = host.split(".")[-1]
    if last.isdigit():
        return True
    return last[:2] == "0x" and all(c in "0123456789abcdef" for c in last[2:])


def _ipv4(host: str) -> ipaddress.IPv4Address:
    """The WHATWG IPv4 parser: 1 to 4 parts, each decimal, 0x-hex or 0-octal; the last part
    fills the bytes the others leave."""
    parts = host.split(".")
    if len(parts) > 4:
        raise InvalidParameter("callback URL: %(host)s is not an address", host=host)
    try:
        numbers = [_ipv4_part(p) for p in parts]
    except ValueError:
        raise InvalidParameter("callback URL: %(host)s is not an address", host=host) from None
    *head, last = numbers
    if any(n > 255 for n in head) or last >= 256 ** (5 - len(numbers)):
        raise InvalidParameter("callback URL: %(host)s is not an address", host=host)
    value = last
    for i, n in enumerate(head):
        value += n << (8 * (3 - i))
    return ipaddress.IPv4Address(value)


def _ipv4_part(part: str) -> int:
    if part[:2] == "0x":
        return int(part[2:] or "0", 16)
    if len(part) > 1 and part[0] == "0":
        return int(part[1:], 8)
    return int(part, 10)

"""The callback URL rule (domain/callback_urls.py): hosts inside the operator's network are
refused in every spelling, unless the operator allows their range."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Sequence

import pytest

from tidings.config import CallbackSettings
from tidings.domain.callback_urls import CallbackPolicy, check_callback_url, parse_host
from tidings.errors import InvalidParameter

# The forms from issue 11, and their relatives.
INTERNAL_URLS = [
    "http://127.0.0.1:5432/",
    "http://127.0.0.1./",
    "http://[::1]/",
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:7f00:1]/",
    "http://[64:ff9b::7f00:1]/",
    "http://[2002:7f00:1::]/",
    "http://0x7f.1/",
    "http://0X7F.0.0.1/",
    "http://2130706433/",
    "http://0x7f000001/",
    "http://017700000001/",
    "http://0177.0.0.1/",
    "http://127.1/",
    "http://127.0.1/",
    "http://localhost:8080/hook",
    "http://LOCALHOST./",
    "http://0.0.0.0/",
    "http://0/",
    "http://10.1.2.3/",
    "http://172.16.0.1/",
    "http://192.168.1.1/",
    "http://100.64.0.1/",
    "http://169.254.169.254/latest/meta-data/",
    "http://169.254.1.1/",
    "http://metadata.google.internal/computeMetadata/v1/",
    "http://metadata/",
    "http://instance-data/",
    "http://[fe80::1]/",
    "http://[fd00::1]/",
    "http://[fc00::1]/",
    "http://[::]/",
    "http://224.0.0.1/",
    "http://240.0.0.1/",
    "http://255.255.255.255/",
]


def no_dns(host: str) -> Sequence[str]:
    raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")


def fake_dns(host: str) -> Sequence[str]:
    """Names that resolve inside the network, or to a mix of public and private."""
    table = {
        "rebind.test": ["10.0.0.5"],
        "mixed.test": ["93.184.216.34", "192.168.0.10"],
        "v6.test": ["2001:db8::1", "::1"],
        "public.test": ["93.184.216.34", "2606:2800:220:1::1"],
    }
    if host not in table:
        return no_dns(host)
    return table[host]


@pytest.mark.parametrize("url", INTERNAL_URLS)
def test_internal_hosts_are_refused_in_every_spelling(url: str) -> None:
    with pytest.raises(InvalidParameter, match="is not allowed"):
        check_callback_url(url, CallbackPolicy(), no_dns)


@pytest.mark.parametrize("name", ["rebind.test", "mixed.test", "v6.test"])
def test_names_that_resolve_inside_are_refused(name: str) -> None:
    with pytest.raises(InvalidParameter, match=f"{name} is not allowed"):
        check_callback_url(f"https://{name}/hook", CallbackPolicy(), fake_dns)


@pytest.mark.parametrize(
    "url",
    [
        "https://public.test/hook",
        "https://hooks.example/sms",  # does not resolve now: checked again at send time
        "http://93.184.216.34:8080/x?y=1",
        "https://[2606:2800:220:1::1]/",
        "https://пример.рф/hook",
    ],
)
def test_public_hosts_are_accepted(url: str) -> None:
    check_callback_url(url, CallbackPolicy(), fake_dns)


@pytest.mark.parametrize(
    "url, reason",
    [
        ("http://1.2.3.4.5/", "not an address"),
        ("http://256.1.1.1/", "not an address"),
        ("http://1.2.3.0x100/", "not an address"),
        ("http://08.1.1.1/", "not an address"),
        ("http://[::zz]/", "an http:// or https:// address"),
        ("http://exa mple.com/", "no spaces"),
        ("http://a\\b.com/", "no spaces or backslashes"),
        ("http://user:pw@example.com/", "no user name or password"),
        ("http://127.0.0.1:80@example.com/", "no user name or password"),
        ("http://exa%6dple.com/", "not a host name"),
        ("http://example.com:99999/", "the port"),
        ("ftp://example.com/", "an http:// or https:// address"),
    ],
)
def test_malformed_urls_are_refused_with_a_reason(url: str, reason: str) -> None:
    with pytest.raises(InvalidParameter, match=reason):
        check_callback_url(url, CallbackPolicy(), fake_dns)


def test_an_allowed_range_lets_callbacks_in() -> None:
    policy = CallbackPolicy.allowing(["127.0.0.0/8", "10.0.0.0/24"])
    for url in ["http://127.0.0.1:5432/", "http://0x7f.1/", "http://[::ffff:127.0.0.1]/"]:
        check_callback_url(url, policy, no_dns)
    check_callback_url("http://rebind.test/", policy, fake_dns)
    # Only the range allowed: the rest of the network stays closed.
    for url in ["http://[::1]/", "http://10.0.1.1/", "http://192.168.1.1/"]:
        with pytest.raises(InvalidParameter):
            check_callback_url(url, policy, no_dns)


@pytest.mark.parametrize(
    "host", ["2130706433", "0x7f.1", "0177.0.0.1", "127.1", "127.0.1", "0x7f000001", "10.1"]
)
def test_numeric_hosts_read_as_the_system_resolver_reads_them(host: str) -> None:
    assert parse_host(host).fixed == (socket.inet_ntoa(socket.inet_aton(host)),)


def test_settings_refuse_a_bad_range() -> None:
    with pytest.raises(ValueError, match="not-a-net"):
        CallbackSettings(allow_networks=["not-a-net"])
    assert CallbackSettings().allow_networks == []
    assert CallbackPolicy.allowing(["10.0.0.1/8"]).allowed == (ipaddress.ip_network("10.0.0.0/8"),)

"""The doors' listening sockets."""

from __future__ import annotations

import socket


def listening(host: str, port: int, backlog: int = 512) -> socket.socket:
    """A bound, listening TCP socket. IPPROTO_TCP is named, not 0: asyncio switches Nagle's
    algorithm off (TCP_NODELAY) only on sockets whose protocol says TCP, and accepted
    sockets inherit it — every answer would otherwise wait for the client's delayed ACK."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(backlog)
    except OSError:
        sock.close()
        raise
    return sock

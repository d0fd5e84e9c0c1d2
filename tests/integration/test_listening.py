"""The socket `serve` and `api` bind before they start: connections accepted on it answer
without Nagle's delay (TCP_NODELAY), as when uvicorn binds the port itself."""

from __future__ import annotations

import asyncio
import socket

from tidings.app import listening_socket


def test_accepted_connections_have_nagle_switched_off() -> None:
    async def accept_one() -> int:
        listener = listening_socket("127.0.0.1", 0)
        seen: asyncio.Future[int] = asyncio.get_running_loop().create_future()

        async def handle(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            sock = writer.get_extra_info("socket")
            seen.set_result(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            writer.close()

        server = await asyncio.start_server(handle, sock=listener)
        port = listener.getsockname()[1]
        _reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            return await asyncio.wait_for(seen, 10)
        finally:
            writer.close()
            server.close()
            await server.wait_closed()

    assert asyncio.run(accept_one()) != 0

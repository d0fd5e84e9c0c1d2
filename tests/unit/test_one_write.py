"""An answer's head and body leave in one write: uvicorn writes them apart (two system
calls, two TCP segments); OneWrite gathers them until the answer is complete."""

from __future__ import annotations

import asyncio

from tidings.api.server import OneWrite


class Recorder(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.writes.append(bytes(data))

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed


def test_head_and_body_are_one_write_at_the_flush() -> None:
    async def main() -> list[bytes]:
        real = Recorder()
        answer = OneWrite(real, asyncio.get_running_loop())
        answer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n")
        answer.write(b"OK")
        assert real.writes == []
        answer.flush()
        answer.flush()  # nothing left: nothing written
        return real.writes

    assert asyncio.run(main()) == [b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nOK"]


def test_a_streamed_part_goes_out_at_the_end_of_the_loop_s_turn() -> None:
    async def main() -> list[bytes]:
        real = Recorder()
        answer = OneWrite(real, asyncio.get_running_loop())
        answer.write(b"head")
        answer.write(b"part 1")
        await asyncio.sleep(0)
        answer.write(b"part 2")
        await asyncio.sleep(0)
        return real.writes

    assert asyncio.run(main()) == [b"headpart 1", b"part 2"]


def test_closing_writes_what_waits_first_and_a_closed_one_gets_nothing() -> None:
    async def main() -> Recorder:
        real = Recorder()
        answer = OneWrite(real, asyncio.get_running_loop())
        answer.write(b"last words")
        answer.close()
        answer.write(b"too late")
        await asyncio.sleep(0)
        return real

    real = asyncio.run(main())
    assert real.closed and real.writes == [b"last words"]

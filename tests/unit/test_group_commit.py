"""The group commit's batching, on a real event loop (the write is a recording function)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from tidings.group_commit import GroupCommit


class Refused(Exception):
    pass


def test_writes_arriving_while_one_is_written_go_together_and_fail_alone() -> None:
    written: list[list[int]] = []
    gate = asyncio.Event()

    def write(items: Sequence[int]) -> list[int | Exception]:
        written.append(list(items))
        return [Refused(str(i)) if i % 5 == 0 else i * 10 for i in items]

    async def run(fn, items):  # type: ignore[no-untyped-def]
        await gate.wait()
        return fn(items)

    async def main() -> list[object]:
        commit: GroupCommit[int, int] = GroupCommit(write, run, max_batch=4)
        tasks = [asyncio.create_task(commit.submit(i)) for i in range(1, 11)]
        await asyncio.sleep(0)
        gate.set()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        assert (commit.batches, commit.items) == (3, 10)
        return results

    results = asyncio.run(main())
    assert written == [[1, 2, 3, 4], [5, 6, 7, 8], [9, 10]]
    assert [r if isinstance(r, int) else str(r) for r in results] == [
        10,
        20,
        30,
        40,
        "5",
        60,
        70,
        80,
        90,
        "10",
    ]


def test_a_batch_that_fails_fails_each_of_its_writes_and_the_next_batch_still_runs() -> None:
    calls = 0

    def write(items: Sequence[str]) -> list[str | Exception]:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise OSError("disk full")
        return [s.upper() for s in items]

    async def run(fn, items):  # type: ignore[no-untyped-def]
        await asyncio.sleep(0)
        return fn(items)

    async def main() -> None:
        commit: GroupCommit[str, str] = GroupCommit(write, run)
        first = [asyncio.create_task(commit.submit(s)) for s in "ab"]
        for task in first:
            with pytest.raises(OSError, match="disk full"):
                await task
        assert await commit.submit("c") == "C"

    asyncio.run(main())

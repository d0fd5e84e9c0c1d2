"""Cost of one error-9 guard check: in memory and in Redis (one Lua call per hit, one per
concurrency enter/leave), next to a plain PING round trip, against the Redis on
127.0.0.1:6379 or the URL given.

    .venv/bin/python bench/guards.py [redis://127.0.0.1:6379/0] [-n 20000]
"""

from __future__ import annotations

import argparse
import os
import secrets
import time
from collections.abc import Callable

from tidings.api.guards.identity import request_identity
from tidings.api.guards.memory import MemoryConcurrencyGuard, MemoryRateGuard
from tidings.api.guards.redis_concurrency import RedisConcurrencyGuard
from tidings.api.guards.redis_link import RedisLink
from tidings.api.guards.redis_rate import RedisRateGuard
from tidings.domain.clock import SystemClock


def per_call_us(action: Callable[[int], None], n: int) -> tuple[float, float]:
    """Wall-clock and this process's CPU time per call, in µs. On a loaded machine the wall
    figure is mostly waiting to be scheduled (see the PING row); the CPU one is not."""
    for i in range(min(n, 500)):  # warm up: connection, script load
        action(-1 - i)
    started, cpu = time.perf_counter(), time.process_time()
    for i in range(n):
        action(i)
    return (time.perf_counter() - started) / n * 1e6, (time.process_time() - cpu) / n * 1e6


def redis_us(stats: dict[str, dict[str, float]], before: dict[str, dict[str, float]]) -> str:
    """Redis's own CPU per call of each command run since `before` (INFO commandstats)."""
    parts = []
    for name, now in sorted(stats.items()):
        calls = now["calls"] - before.get(name, {}).get("calls", 0)
        if calls:
            usec = now["usec"] - before.get(name, {}).get("usec", 0)
            parts.append(f"{name} {usec / calls:.1f}")
    return ", ".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url", nargs="?", default="redis://127.0.0.1:6379/0")
    parser.add_argument("-n", type=int, default=20_000)
    args = parser.parse_args()
    clock = SystemClock()
    prefix = f"tidings-bench:{secrets.token_hex(4)}:guard"
    link = RedisLink(args.url)
    keys = [request_identity(1, "jobs", {"add": "1", "mes": str(i)}) for i in range(args.n)]
    warm = [request_identity(2, "jobs", {"add": "1", "mes": str(i)}) for i in range(500)]

    def key(i: int) -> bytes:
        return keys[i] if i >= 0 else warm[-1 - i]

    memory = MemoryRateGuard(10, 60, "too many", clock)
    shared = RedisRateGuard(link, "bench", 10, 60, "too many", clock, prefix=prefix)

    def hit_memory(i: int) -> None:
        with memory.hit(key(i)):
            pass

    def hit_redis(i: int) -> None:
        with shared.hit(key(i)):
            pass

    def hit_redis_failing(i: int) -> None:
        try:
            with shared.hit(key(i)):
                raise ValueError
        except ValueError:
            pass

    slots_memory = MemoryConcurrencyGuard(14)
    slots_redis = RedisConcurrencyGuard(link, 14, prefix=prefix)

    def slot_memory(i: int) -> None:
        slots_memory.enter("bench")
        slots_memory.leave("bench")

    def slot_redis(i: int) -> None:
        slots_redis.enter("bench")
        slots_redis.leave("bench")

    def ping(i: int) -> None:
        link.client.ping()

    def stats() -> dict[str, dict[str, float]]:
        info = link.client.info("commandstats")
        return {
            k.removeprefix("cmdstat_"): v
            for k, v in info.items()
            if k.endswith(("ping", "evalsha", "zrem"))
        }

    rows = []
    for label, action in [
        ("PING round trip (baseline)", ping),
        ("rate hit, memory", hit_memory),
        ("rate hit, redis", hit_redis),
        ("rate hit + take-back, redis", hit_redis_failing),
        ("concurrency enter+leave, memory", slot_memory),
        ("concurrency enter+leave, redis", slot_redis),
    ]:
        before = stats()
        wall, cpu = per_call_us(action, args.n)
        rows.append((label, wall, cpu, redis_us(stats(), before) if "memory" not in label else ""))
    slots_redis.close()
    for name in link.client.scan_iter(match=f"{prefix}:*", count=1000):
        link.client.delete(name)
    print(f"load average {os.getloadavg()[0]:.1f}, {args.n} calls each")
    print(f"{'':34} {'wall µs':>8} {'CPU µs':>8}  Redis µs per command (server side)")
    for label, wall, cpu, server in rows:
        print(f"{label:34} {wall:8.1f} {cpu:8.1f}  {server}")


if __name__ == "__main__":
    main()

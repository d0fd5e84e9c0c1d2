"""Who a dispatcher is, and whether it still lives.

Every dispatcher process has an identity of its own: the configured `worker_id`, or by
default `host:pid:random`, unique per process. It writes a row in `dispatchers` before its
first claim and renews the row's heartbeat every `heartbeat_s`. A dispatcher is dead when
its heartbeat is older than `dead_after_s`, when it stopped gracefully, or — seen from the
same kernel and pid namespace — as soon as its process is gone (a live one on the same host
checks its peers' pids with each heartbeat). Crash recovery takes only dead owners' leases.

A configured id is one process's at a time: a second process with it refuses to start while
the first lives, and takes it over (with its leases, at once) when the first is dead.
"""

from __future__ import annotations

import os
import secrets
import socket
import time
from dataclasses import replace
from pathlib import Path

import structlog

from tidings.config import DispatchSettings
from tidings.domain.clock import Clock, to_ts
from tidings.errors import StartupError
from tidings.store import dispatchers
from tidings.store.db import Database
from tidings.store.dispatchers import DispatcherRow

log = structlog.get_logger("tidings.dispatcher")

PRUNE_AFTER_S = 3600  # rows (and live state) of dispatchers gone this long are deleted
PRUNE_EVERY_S = 60.0


class WorkerIdTaken(StartupError):
    """The configured worker id belongs to a live dispatcher (or was taken over from this
    one while it could not renew its heartbeat)."""


def generated_worker_id() -> str:
    """`host:pid:random`: unique per process, and says where the process runs."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(3)}"


def node_id() -> str:
    """The kernel boot and pid namespace this process runs in, or "" where that is unknown
    (a pid means the same process only within one)."""
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text(encoding="ascii").strip()
        namespace = os.stat("/proc/self/ns/pid").st_ino
    except OSError:
        return ""
    return f"{boot}/{namespace}"[:64]


def process_gone(pid: int) -> bool:
    """True only when no process `pid` runs here (a zombie, killed and not yet reaped by its
    parent, counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # someone else's process: it exists
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except FileNotFoundError:
        return True
    except OSError:
        return False
    fields = stat.rpartition(")")[2].split()
    return bool(fields) and fields[0] in ("Z", "X")


class Liveness:
    """This dispatcher's row in `dispatchers`: written at start, renewed, marked at a stop.
    The methods block (they run in a thread)."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        worker_id: str,
        settings: DispatchSettings,
    ) -> None:
        self._db = db
        self._clock = clock
        self._settings = settings
        self._me = DispatcherRow(
            worker_id, socket.gethostname()[:255], os.getpid(), node_id(), 0, 0
        )
        self._last_beat = 0.0  # monotonic
        self._next_prune = 0.0

    @property
    def worker_id(self) -> str:
        return self._me.worker_id

    def _live_after(self, now: int) -> int:
        return now - int(self._settings.dead_after_s)

    def register(self) -> None:
        """Write this dispatcher's row before anything is claimed. A configured id held by a
        live dispatcher raises WorkerIdTaken; held by a dead one, it is taken over."""
        now = to_ts(self._clock.now())
        self._me = replace(self._me, started_at=now, heartbeat_at=now)
        while not self._claim():
            holder = self._holder()
            if holder is None:
                continue  # it stopped meanwhile: claim again
            if not self._dead(holder):
                raise WorkerIdTaken(
                    f"worker id {self._me.worker_id!r} belongs to a live dispatcher (host "
                    f"{holder.host}, pid {holder.pid}): stop it first, or start this one "
                    "without --worker-id (each process then gets an id of its own)"
                )
            with self._db.tx() as tx:
                dispatchers.declare_dead(tx, holder, to_ts(self._clock.now()))
            log.warning(
                "worker id taken over from a dead dispatcher",
                worker=self._me.worker_id,
                host=holder.host,
                pid=holder.pid,
            )
        self._last_beat = time.monotonic()
        log.info("dispatcher registered", worker=self._me.worker_id, pid=self._me.pid)
        self._declare_dead_peers(now)

    def _claim(self) -> bool:
        with self._db.tx() as tx:
            return dispatchers.claim_identity(tx, self._me, self._live_after(self._me.started_at))

    def _holder(self) -> DispatcherRow | None:
        with self._db.tx(write=False) as tx:
            return dispatchers.find(tx, self._me.worker_id)

    def _dead(self, holder: DispatcherRow) -> bool:
        """Whether the live-looking holder of our worker id is dead: at once when its pid is
        checkable here; otherwise by watching its heartbeat for `dead_after_s` (a live one
        renews it every `heartbeat_s`)."""
        if holder.node and holder.node == self._me.node:
            # Our own pid: another dispatcher in this very process has the id.
            return holder.pid != self._me.pid and process_gone(holder.pid)
        log.info(
            "waiting to learn whether the worker id's holder lives",
            worker=self._me.worker_id,
            host=holder.host,
            pid=holder.pid,
            seconds=self._settings.dead_after_s,
        )
        deadline = time.monotonic() + self._settings.dead_after_s + self._settings.heartbeat_s
        while time.monotonic() < deadline:
            time.sleep(min(self._settings.heartbeat_s / 2, 1.0))
            now_row = self._holder()
            if now_row != holder:
                return now_row is None or now_row.stopped_at is not None
            if holder.heartbeat_at < self._live_after(to_ts(self._clock.now())):
                return True
        return True  # not renewed for longer than a live dispatcher ever waits

    def beat(self) -> bool:
        """Renew the heartbeat (and, on the same host, declare peers whose process is gone
        dead). False: the row is no longer this process's — another took the id over."""
        now = to_ts(self._clock.now())
        with self._db.tx() as tx:
            previous = dispatchers.beat(tx, self._me, now)
            if previous is not None and time.monotonic() >= self._next_prune:
                self._next_prune = time.monotonic() + PRUNE_EVERY_S
                dispatchers.prune(tx, now - PRUNE_AFTER_S)
        late = time.monotonic() - self._last_beat
        self._last_beat = time.monotonic()
        if previous is None:
            return False
        if late > self._settings.dead_after_s:
            # Others may have taken this dispatcher for dead meanwhile and recovered its
            # leases; every write of ours checks the lease owner, so nothing is recorded twice.
            log.error(
                "the heartbeat was late: others may have taken this dispatcher's leases",
                worker=self._me.worker_id,
                late_s=round(late, 1),
            )
        self._declare_dead_peers(now)
        return True

    def _declare_dead_peers(self, now: int) -> None:
        if not self._me.node:
            return
        with self._db.tx(write=False) as tx:
            peers = dispatchers.live_on(tx, self._me.node, self._live_after(now))
        gone = [p for p in peers if p.worker_id != self._me.worker_id and process_gone(p.pid)]
        if not gone:
            return
        with self._db.tx() as tx:
            for peer in gone:
                if dispatchers.declare_dead(tx, peer, now):
                    log.info("a dispatcher's process is gone", worker=peer.worker_id)

    def leave(self) -> None:
        """A graceful stop: others may take whatever this one still leases at once."""
        with self._db.tx() as tx:
            dispatchers.leave(tx, self._me, to_ts(self._clock.now()))

"""Where log lines go: stderr, a batch of lines per write instead of a write per line.

A `write` to stderr per log line was a system call per request (the API logs one line for
each) — under send.php load about 4 % of the HTTP process, the call giving the GIL away
each time. Lines at info and debug now wait in memory and go out together: when
`max_lines` have gathered, or `interval_s` after the first of them, whichever comes first
(a daemon thread flushes). A warning or an error is written at once, together with
anything before it, so the lines keep their order and a problem is never held back; what
is pending is written at exit too. A process killed with SIGKILL loses at most the last
`interval_s` of info lines.
"""

from __future__ import annotations

import atexit
import os
import threading
import time
from typing import Any, TextIO

# Info lines wait at most this long before they are written.
FLUSH_INTERVAL_S = 0.1
MAX_PENDING_LINES = 512


class BatchedLines:
    """Lines for one stream, written in batches (thread-safe)."""

    def __init__(
        self,
        stream: TextIO,
        *,
        interval_s: float = FLUSH_INTERVAL_S,
        max_lines: int = MAX_PENDING_LINES,
    ) -> None:
        self._stream = stream
        self._interval_s = interval_s
        self._max_lines = max_lines
        self._pending: list[str] = []
        self._lock = threading.Lock()
        self._due = threading.Event()
        self._flusher_pid = 0
        atexit.register(self.flush)

    def add(self, line: str, *, urgent: bool = False) -> None:
        with self._lock:
            self._pending.append(line)
            if urgent or len(self._pending) >= self._max_lines:
                self._write_pending()
                return
            first = len(self._pending) == 1
        if first:
            self._ensure_flusher()
            self._due.set()

    def flush(self) -> None:
        with self._lock:
            self._write_pending()

    def _write_pending(self) -> None:
        if not self._pending:
            return
        text = "\n".join(self._pending) + "\n"
        self._pending.clear()
        try:
            self._stream.write(text)
            self._stream.flush()
        except (OSError, ValueError):
            pass  # stderr closed or gone (a pipe whose reader left): nowhere to log to

    def _ensure_flusher(self) -> None:
        # One flusher per process: a forked child starts its own.
        if self._flusher_pid == os.getpid():
            return
        with self._lock:
            if self._flusher_pid == os.getpid():
                return
            self._flusher_pid = os.getpid()
        threading.Thread(target=self._run_flusher, name="tidings-log", daemon=True).start()

    def _run_flusher(self) -> None:
        while True:
            self._due.wait()
            self._due.clear()
            time.sleep(self._interval_s)
            self.flush()


class BatchedLogger:
    """A structlog logger over BatchedLines: info and below wait, warnings and errors go
    out at once."""

    def __init__(self, lines: BatchedLines) -> None:
        self._lines = lines

    def msg(self, message: str) -> None:
        self._lines.add(message)

    def urgent(self, message: str) -> None:
        self._lines.add(message, urgent=True)

    log = debug = info = msg
    warn = warning = err = error = critical = fatal = failure = exception = urgent


class BatchedLoggerFactory:
    """structlog's logger_factory: every logger writes to the same batched stream."""

    def __init__(self, stream: TextIO) -> None:
        self.lines = BatchedLines(stream)

    def __call__(self, *_args: Any) -> BatchedLogger:
        return BatchedLogger(self.lines)

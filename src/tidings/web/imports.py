"""Contact imports started from the cabinet, each running in a worker thread of its own while
the page polls its progress.

The uploaded file is first copied to a temporary file (the request's own copy goes away with
the request), then read as a stream by the shared import (ContactService.import_contacts,
the same one `tidings import-contacts` runs). Progress is the share of the file's bytes read.

[choice] Progress lives in this process's memory: with several API processes behind one
address, the progress page must reach the process that took the upload (sticky sessions);
the contacts themselves are in the database either way. Finished imports are kept for an hour.
"""

from __future__ import annotations

import io
import os
import secrets
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, Any

import structlog

from tidings.domain.contact_import import ImportReport
from tidings.web.i18n import N_

log = structlog.get_logger(__name__)

# What the page hands over: given the file and a progress callback (rows read so far), run
# the import and return its report.
ImportRun = Callable[[IO[bytes], Callable[[int], None]], ImportReport]

KEEP_S = 3600.0
MAX_RUNNING = 4


@dataclass
class ImportJob:
    id: str
    account_id: int
    filename: str
    size: int
    started: float = field(default_factory=time.monotonic)
    rows: int = 0
    bytes_read: int = 0
    report: ImportReport | None = None
    error: str = ""
    finished: float | None = None

    @property
    def done(self) -> bool:
        return self.finished is not None

    @property
    def percent(self) -> int:
        if self.done:
            return 100
        if self.size <= 0:
            return 0
        return min(99, self.bytes_read * 100 // self.size)

    @property
    def seconds(self) -> float:
        return (self.finished or time.monotonic()) - self.started


class _CountingReader(io.RawIOBase):
    """A binary file that counts the bytes read from it."""

    def __init__(self, raw: IO[bytes], job: ImportJob) -> None:
        self._raw = raw
        self._job = job

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        chunk = self._raw.read(len(view))
        view[: len(chunk)] = chunk
        self._job.bytes_read += len(chunk)
        return len(chunk)


class ImportRunner:
    def __init__(self) -> None:
        self._jobs: dict[str, ImportJob] = {}
        self._lock = threading.Lock()

    def start(self, account_id: int, filename: str, upload: IO[bytes], run: ImportRun) -> ImportJob:
        """Copy the upload aside and start importing it; RuntimeError when the account
        already has an import running or too many run at once."""
        with self._lock:
            self._forget_old()
            running = [j for j in self._jobs.values() if not j.done]
            if any(j.account_id == account_id for j in running):
                raise RuntimeError(
                    N_("An import of yours is still running; wait for it to finish.")
                )
            if len(running) >= MAX_RUNNING:
                raise RuntimeError(N_("Too many imports are running; try again in a minute."))
            spool = tempfile.NamedTemporaryFile(prefix="tidings-import-", delete=False)  # noqa: SIM115
            try:
                shutil.copyfileobj(upload, spool, 1024 * 1024)
                size = spool.tell()
            finally:
                spool.close()
            job = ImportJob(secrets.token_urlsafe(12), account_id, filename, size)
            self._jobs[job.id] = job
        thread = threading.Thread(
            target=self._run, args=(job, spool.name, run), name=f"import-{job.id}", daemon=True
        )
        thread.start()
        return job

    def get(self, account_id: int, job_id: str) -> ImportJob | None:
        """The account's import (None for another account's: it does not exist for it)."""
        job = self._jobs.get(job_id)
        return job if job is not None and job.account_id == account_id else None

    def _run(self, job: ImportJob, path: str, run: ImportRun) -> None:
        def progress(rows: int) -> None:
            job.rows = rows

        try:
            with open(path, "rb") as raw:
                job.report = run(io.BufferedReader(_CountingReader(raw, job)), progress)
            job.rows = job.report.rows
        except Exception as exc:  # the page shows it; the thread must not die silently
            log.exception("contact import failed", import_id=job.id)
            job.error = getattr(exc, "description", "") or "the import failed"
        finally:
            job.finished = time.monotonic()
            os.unlink(path)

    def _forget_old(self) -> None:
        now = time.monotonic()
        for key in [k for k, j in self._jobs.items() if j.finished and now - j.finished > KEEP_S]:
            del self._jobs[key]

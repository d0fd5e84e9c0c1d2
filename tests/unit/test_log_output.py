"""Log lines in batches: info waits (briefly), a warning takes everything before it out at
once, in order, and nothing pending is lost at exit."""

from __future__ import annotations

import io
import subprocess
import sys
import time

from tidings.log_output import BatchedLines, BatchedLogger


class CountingStream(io.StringIO):
    def __init__(self) -> None:
        super().__init__()
        self.writes = 0

    def write(self, text: str) -> int:
        self.writes += 1
        return super().write(text)


def test_info_lines_go_out_together_within_the_interval() -> None:
    stream = CountingStream()
    logger = BatchedLogger(BatchedLines(stream, interval_s=0.05))
    for n in range(100):
        logger.info(f"line {n}")
    assert stream.getvalue() == "", "an info line was written at once"
    deadline = time.monotonic() + 5
    while not stream.getvalue() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert stream.getvalue().splitlines() == [f"line {n}" for n in range(100)]
    assert stream.writes == 1


def test_a_warning_is_written_at_once_after_the_lines_before_it() -> None:
    stream = CountingStream()
    logger = BatchedLogger(BatchedLines(stream, interval_s=60))
    logger.info("first")
    logger.debug("second")
    logger.warning("trouble")
    assert stream.getvalue().splitlines() == ["first", "second", "trouble"]
    logger.error("worse")
    logger.exception("worst")
    assert stream.getvalue().splitlines()[-2:] == ["worse", "worst"]


def test_a_full_batch_is_written_without_waiting() -> None:
    stream = CountingStream()
    logger = BatchedLogger(BatchedLines(stream, interval_s=60, max_lines=10))
    for n in range(25):
        logger.info(str(n))
    assert stream.getvalue().splitlines() == [str(n) for n in range(20)]
    assert stream.writes == 2


def test_what_is_pending_at_exit_is_written() -> None:
    program = (
        "import sys, structlog\n"
        "from tidings.app import configure_logging\n"
        "configure_logging('info')\n"
        "structlog.get_logger().info('the last words', n=1)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert '"event": "the last words"' in done.stderr

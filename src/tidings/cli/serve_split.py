"""`tidings serve` on two cores: the HTTP API in this process, the dispatcher in a child.

One Python process runs on one core at a time (the GIL); under load `serve` held one core at
100 % while the other idled, and the same work split in two processes (`tidings api` +
`tidings dispatcher`) reached the SMSC 40 % faster (docs/operations.md). So `serve` starts
`tidings dispatcher` as a child over the same store and settings and stays one command: the
child stops when the server does (SIGTERM, and it drains what is in flight), the server stops
when the child ends on its own (a dispatcher that refused its worker id, say), and a child
never outlives its parent — on Linux the kernel kills it the moment the parent dies (even by
kill -9), elsewhere it notices within half a second — so a restarted `serve` never meets a
dispatcher left behind by the one before.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

import structlog
import uvicorn

if TYPE_CHECKING:
    from tidings.app import Application
    from tidings.config import Settings

from tidings.cli.child_of_serve import PARENT_ENV

log = structlog.get_logger("tidings.serve")
CHILD_MODULE = "tidings.cli.child_of_serve"

# How long the child may drain (finish submits in flight, record their results) after SIGTERM.
DRAIN_S = 60.0


def start_dispatcher(database_url: str, config: str | None) -> subprocess.Popen[bytes]:
    """`tidings dispatcher` over the same store and settings file, sharing stdout/stderr."""
    # Through child_of_serve: tied to this process before the CLI's imports.
    argv = [sys.executable, "-m", CHILD_MODULE, "dispatcher", "--db", database_url]
    if config:
        argv += ["--config", config]
    env = dict(os.environ, **{PARENT_ENV: str(os.getpid())})
    return subprocess.Popen(argv, env=env)


async def serve_beside(
    server: uvicorn.Server, sockets: list[object], child: subprocess.Popen[bytes]
) -> int:
    """Run the HTTP server until it stops or the child ends; then stop the child. Returns the
    exit status `serve` should end with."""
    child_ended = asyncio.create_task(asyncio.to_thread(child.wait))
    child_ended.add_done_callback(lambda _task: setattr(server, "should_exit", True))
    try:
        await server.serve(sockets=sockets)  # type: ignore[arg-type]
    finally:
        stopped_by_us = not child_ended.done()
        deadline = _terminate(child) if stopped_by_us else None
        code = await child_ended
        if deadline is not None:
            deadline.cancel()
    if not stopped_by_us:
        log.error("the dispatcher stopped, so serve stops too", exit_code=code)
        return code or 1
    return 0


def _terminate(child: subprocess.Popen[bytes]) -> threading.Timer | None:
    """SIGTERM (the dispatcher drains), and SIGKILL if it has not ended in DRAIN_S."""
    if child.poll() is not None:
        return None
    child.send_signal(signal.SIGTERM)
    deadline = threading.Timer(DRAIN_S, _kill_if_running(child))
    deadline.daemon = True
    deadline.start()
    return deadline


def _kill_if_running(child: subprocess.Popen[bytes]) -> Callable[[], None]:
    def kill() -> None:
        if child.poll() is None:
            log.warning("the dispatcher did not drain in time: killed", drain_s=DRAIN_S)
            child.kill()

    return kill


def serve_inline(
    application: Application, settings: Settings, on_listening: Callable[[str], None]
) -> None:
    """The HTTP API and the dispatcher in this one process (`serve --processes 1`)."""
    from tidings.app import build_dispatcher, build_doors, run_event_loop, serve_with_dispatcher

    dispatcher = build_dispatcher(settings, application.store)
    run_event_loop(
        serve_with_dispatcher(
            application.http,
            dispatcher,
            settings.host,
            settings.port,
            settings=settings,
            on_listening=on_listening,
            doors=build_doors(settings, application.services),
        )
    )


def serve_split(
    application: Application,
    settings: Settings,
    config: str | None,
    on_listening: Callable[[str], None],
) -> int:
    """The HTTP API and the doors here, the dispatcher in a child; the exit status `serve`
    ends with."""
    from tidings.api.server import server_config
    from tidings.app import base_url, build_doors, doors_open, listening_socket, run_event_loop

    # The port first: a second `serve` in the same folder fails on it before it has started
    # a dispatcher.
    listener = listening_socket(settings.host, settings.port)
    http = application.http
    server = uvicorn.Server(server_config(http, settings, settings.host, settings.port))
    doors = build_doors(settings, application.services)

    async def main() -> int:
        async with doors_open(doors, listener):
            on_listening(base_url(settings.host, listener.getsockname()[1]))
            child = start_dispatcher(settings.database_url, config)
            return await serve_beside(server, [listener], child)

    try:
        return run_event_loop(main())
    finally:
        listener.close()

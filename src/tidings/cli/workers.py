"""`tidings api --workers N`: N API processes on one port, started by uvicorn's supervisor.

The parent migrates the store once; each worker builds its own application from the
environment the parent hands down (a worker re-imports this module in a fresh interpreter).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import tempfile

import structlog
from uvicorn.supervisors import Multiprocess

from tidings.api.app import ApiApp
from tidings.api.server import server_config
from tidings.config import Settings, load_settings
from tidings.web.app import SHARED_SECRET_ENV

log = structlog.get_logger("tidings.api")


def run(settings: Settings, config_file: str | None) -> None:
    # `tidings api` has loaded the composition root already: this costs the supervisor nothing.
    from tidings.app import upgrade_database

    upgrade_database(settings.database_url)
    os.environ["TIDINGS_DATABASE_URL"] = settings.database_url
    if config_file:
        os.environ["TIDINGS_CONFIG"] = config_file
    # prometheus-client aggregates the workers' series through files in one directory.
    os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="tidings-metrics-"))
    # The cabinet's session cookies must verify in every worker (web/app.py).
    os.environ.setdefault(SHARED_SECRET_ENV, secrets.token_urlsafe(32))
    log.info("starting API workers", workers=settings.workers, port=settings.port)
    config = server_config(
        "tidings.cli.workers:worker_app",
        settings,
        settings.host,
        settings.port,
        factory=True,
        workers=settings.workers,
        # A worker builds the whole application before it answers the supervisor's ping;
        # on a busy machine that takes longer than uvicorn's 5 s, and it would be restarted.
        timeout_worker_healthcheck=60,
    )
    # What uvicorn.run does for workers, with this Config (its deadlines and cap, pickled to
    # every worker).
    with contextlib.suppress(KeyboardInterrupt):
        Multiprocess(config, sockets=[config.bind_socket()]).run()


def worker_app() -> ApiApp:
    """The application of one worker process (uvicorn calls this in each child)."""
    from tidings.app import build_application, configure_logging, settle_heap

    settings = load_settings()
    configure_logging(settings.log_level, unmasked=settings.log_unmasked)
    http = build_application(settings, upgrade=False).http
    settle_heap()
    return http

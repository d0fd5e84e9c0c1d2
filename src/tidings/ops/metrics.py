"""Prometheus metrics (`/metrics`).

Two kinds of series:

* counted by the processes as they work: API requests and their latency (the HTTP edge),
  submits and the window in use per upstream (the dispatcher's lanes), incoming SMS by
  upstream and outcome (the dispatcher's inbound recorder, once committed), status
  callbacks by result (the callback sender, once recorded). With
  PROMETHEUS_MULTIPROC_DIR set (before the process starts), every process writes them to
  files in that directory and `/metrics` of any API process sums them over all processes of
  the machine (`tidings api` and `tidings dispatcher` as separate processes); without it they
  live in this process's registry (`tidings serve`).
* read from the store at scrape time: messages by status, queue depth, ledger totals,
  balances, and the upstream state every dispatcher reports to the database (so dispatchers
  on other machines are seen too).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from tidings.domain.operations import LiveFigures, TotalFigures, UpstreamState

MULTIPROCESS = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

REQUESTS = Counter(
    "tidings_api_requests",
    "API requests by script and error code (0 = success).",
    ["script", "code"],
)
LATENCY = Histogram(
    "tidings_api_request_seconds",
    "Time to answer an API request, by script.",
    ["script"],
    buckets=LATENCY_BUCKETS,
)
SUBMITS = Counter(
    "tidings_submits",
    "Messages handed to an upstream, by result (accepted, failed, retry).",
    ["upstream", "result"],
)
IN_FLIGHT = Gauge(
    "tidings_upstream_in_flight",
    "Messages claimed for an upstream and not yet recorded (the window in use).",
    ["upstream"],
    multiprocess_mode="livesum",
)
WINDOW = Gauge(
    "tidings_upstream_window",
    "Messages an upstream may have in flight (window of a bind × binds), per dispatcher, summed.",
    ["upstream"],
    multiprocess_mode="livesum",
)

INBOUND = Counter(
    "tidings_inbound_messages",
    "Incoming SMS stored, by upstream and outcome: number (an assigned inbound number), reply "
    "(to an account's message), stop (a stop keyword: on the stop list), unassigned; "
    "duplicate: delivered again and kept once (not a new message).",
    ["upstream", "outcome"],
)
INBOUND_OUTCOMES = ("number", "reply", "stop", "unassigned", "duplicate")
CALLBACKS = Counter(
    "tidings_callbacks",
    "Status callback deliveries by result: delivered (a 2xx answer), retry (failed, tried "
    "again later), given_up (failed its last attempt).",
    ["result"],
)


def count_inbound(tally: Mapping[tuple[str, str], int]) -> None:
    """Committed inbound messages, by (upstream, outcome)."""
    for (upstream, outcome), count in tally.items():
        INBOUND.labels(upstream, outcome).inc(count)


def count_callbacks(tally: Mapping[str, int]) -> None:
    """Committed callback outcomes, by result."""
    for result, count in tally.items():
        CALLBACKS.labels(result).inc(count)


# The doors (doors/smpp, doors/smtp): counted by the process that serves them.
SMPP_PDUS = Counter(
    "tidings_smpp_server_pdus",
    "PDUs of the SMPP server's clients and our answers, by command and status (request: not "
    "a response).",
    ["command", "status"],
)
SMPP_BINDS = Gauge(
    "tidings_smpp_server_binds",
    "Clients bound to the SMPP server, by account login and bind mode.",
    ["login", "mode"],
    multiprocess_mode="livesum",
)
SMPP_WINDOW = Gauge(
    "tidings_smpp_server_window_in_use",
    "submit_sm received and not yet answered, over every bind of the SMPP server.",
    multiprocess_mode="livesum",
)
MAILS = Counter(
    "tidings_smtp_server_mails",
    "Mails to the SMTP door by result (accepted, refused).",
    ["result"],
)

_request_children: dict[tuple[str, int], tuple[Counter, Histogram]] = {}
_pdu_children: dict[tuple[str, str], Counter] = {}
_bind_keys: set[tuple[str, str]] = set()


def record_smpp_pdu(command: str, status: str) -> None:
    child = _pdu_children.get((command, status))
    if child is None:
        child = _pdu_children[(command, status)] = SMPP_PDUS.labels(command, status)
    child.inc()


def record_smpp_binds(counts: dict[tuple[str, str], int]) -> None:
    """The binds now, by (login, mode); those gone are set to 0."""
    for key in _bind_keys - counts.keys():
        SMPP_BINDS.labels(*key).set(0)
    for key, count in counts.items():
        SMPP_BINDS.labels(*key).set(count)
    _bind_keys.update(counts)


def record_smpp_window(change: int) -> None:
    SMPP_WINDOW.inc(change)


def record_mail(result: str) -> None:
    MAILS.labels(result).inc()


def record_request(script: str, code: int, started: float) -> None:
    """Count one answered API request; `started` is its time.perf_counter() at arrival.
    Lock-free on our side: the children are cached in a dict (a race only creates the same
    child twice), prometheus-client guards each value itself."""
    children = _request_children.get((script, code))
    if children is None:
        children = (REQUESTS.labels(script, str(code)), LATENCY.labels(script))
        _request_children[(script, code)] = children
    children[0].inc()
    children[1].observe(time.perf_counter() - started)


# ---- the scrape ---------------------------------------------------------------------------


class _Forward(Collector):
    """This process's default registry, inside the registry of a scrape."""

    def collect(self) -> Iterable[Metric]:
        return REGISTRY.collect()


class StoreCollector(Collector):
    """Series read from the store at scrape time.

    Messages not yet final, the queue, balances and upstream states are read at every scrape
    (index ranges and small tables). Messages in final statuses and ledger totals read every
    row (seconds over 10M rows): they are refreshed in a background thread at most once per
    20× what the last refresh took, so they cost at most ~5 % of one core at any size; a
    scrape waits up to `wait_s` for a refresh (always enough on small stores, which stay
    exact) and otherwise serves the previous totals."""

    def __init__(
        self,
        live: Callable[[], LiveFigures],
        totals: Callable[[], TotalFigures],
        states: Callable[[], list[UpstreamState]],
        *,
        wait_s: float = 1.0,
    ) -> None:
        self._live = live
        self._totals = totals
        self._states = states
        self._wait_s = wait_s
        self._lock = threading.Lock()
        self._refreshed = threading.Event()
        self._refreshing = False
        self._cached: TotalFigures | None = None
        self._fresh_until = 0.0
        self._took = 0.0

    def _refresh(self) -> None:
        started = time.perf_counter()
        totals: TotalFigures | None
        try:
            totals = self._totals()
        except Exception:
            totals = self._cached
        took = time.perf_counter() - started
        with self._lock:
            self._cached, self._took = totals, took
            self._fresh_until = time.monotonic() + 20 * took
            self._refreshing = False
            self._refreshed.set()

    def _current_totals(self) -> TotalFigures | None:
        with self._lock:
            if not self._refreshing and time.monotonic() >= self._fresh_until:
                self._refreshing = True
                self._refreshed.clear()
                threading.Thread(target=self._refresh, name="metrics-totals", daemon=True).start()
            waiting = self._refreshing
        if waiting:
            self._refreshed.wait(self._wait_s)
        with self._lock:
            return self._cached

    def collect(self) -> Iterator[Metric]:
        live = self._live()
        totals = self._current_totals()
        messages = GaugeMetricFamily(
            "tidings_messages", "Messages in the store by status.", labels=["status"]
        )
        counts = {**(totals.final if totals else {}), **live.pending}
        for status, count in sorted(counts.items()):
            messages.add_metric([str(status)], count)
        yield messages
        queue = GaugeMetricFamily(
            "tidings_queue_depth",
            "Messages due and waiting to be claimed, by upstream.",
            labels=["upstream"],
        )
        for upstream, count in sorted(live.queue.items()):
            queue.add_metric([upstream], count)
        yield queue
        yield GaugeMetricFamily(
            "tidings_balances_minor", "Sum of every account's balance.", value=live.balances
        )
        if totals is not None:
            yield from _ledger_families(totals)
        yield GaugeMetricFamily(
            "tidings_store_totals_seconds",
            "Time the last refresh of final-status and ledger totals took.",
            value=self._took,
        )
        yield from _state_families(self._states())


def _ledger_families(totals: TotalFigures) -> Iterator[Metric]:
    amounts = GaugeMetricFamily(
        "tidings_ledger_amount_minor",
        "Sum of ledger entries by kind (minor units; charges are negative).",
        labels=["kind"],
    )
    entries = GaugeMetricFamily(
        "tidings_ledger_entries", "Ledger entries by kind.", labels=["kind"]
    )
    for kind, (amount, count) in sorted(totals.ledger.items()):
        amounts.add_metric([kind], amount)
        entries.add_metric([kind], count)
    yield amounts
    yield entries


def _state_families(states: list[UpstreamState]) -> Iterator[Metric]:
    labels = ["upstream", "worker"]
    bound = GaugeMetricFamily(
        "tidings_upstream_bound", "1 while the upstream has a live bind.", labels=labels
    )
    rate = GaugeMetricFamily(
        "tidings_upstream_rate",
        "Messages handed over per second (last reporting interval).",
        labels=labels,
    )
    updated = GaugeMetricFamily(
        "tidings_upstream_state_updated",
        "Unix time of the dispatcher's last report on the upstream.",
        labels=labels,
    )
    for s in states:
        key = [s.upstream, s.worker_id]
        bound.add_metric(key, 1 if s.bound else 0)
        rate.add_metric(key, s.rate)
        updated.add_metric(key, s.updated_at.timestamp())
    yield bound
    yield rate
    yield updated


def scrape_registry(store_collector: Collector) -> CollectorRegistry:
    """The registry one `/metrics` serves: every process's counters (multiprocess mode) or
    this process's, plus the store's figures."""
    registry = CollectorRegistry(auto_describe=False)
    if MULTIPROCESS:
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry.register(_Forward())
    registry.register(store_collector)
    return registry


def exposition(registry: CollectorRegistry) -> tuple[bytes, str]:
    return generate_latest(registry), CONTENT_TYPE_LATEST


def process_exited() -> None:
    """Drop this process's live gauges from the multiprocess directory (at exit)."""
    if MULTIPROCESS:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]

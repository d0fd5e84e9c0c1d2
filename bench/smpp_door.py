"""Messages per second through Tidings' SMPP server, end to end, against Kannel in the same
position (issue 15), in one run on this machine:

* `esme → tidings → sim`: an SMPP client (our own asyncio ESME, channels/smpp/session.py,
  window 100) binds to `tidings serve`'s SMPP server as a transceiver and submits; Tidings
  sends into the node-smpp SMSC simulator; receipts come back to the client as deliver_sm.
* `kannel → tidings → sim`: Kannel 1.4.5 (bearerbox + smsbox) as the ESME with Tidings as
  its SMSC; messages come in over Kannel's HTTP sendsms, DLRs go out to a local URL.
* `kannel → sim`: Kannel as the entry gateway straight into the simulator (the position
  Tidings takes in the first scenario): HTTP sendsms in, DLR URLs out.

For each: the seconds until the client's last message was accepted (`accepted/s`), until the
simulator has received every message (`through/s`; it reports its count every 250 ms) and
until every receipt is back at the client (`e2e/s`: messages / that time). Tidings runs
`tidings serve` on SQLite with the door enabled.

    PYTHONPATH=src .venv/bin/python bench/smpp_door.py [--messages 3000] [--rounds 1]

Needs node (the simulator, tests/smsc_sim) and Kannel (`apt-get install kannel`; without it
the Kannel scenarios are skipped, saying so). Every process is started and stopped by its id.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "src")]

from tests.e2e.kannel_door import (  # noqa: E402
    LOGIN,
    SMPP_PASSWORD,
    DlrSink,
    Kannel,
    TidingsServe,
)
from tests.integration.smsc_sim import SmscSim  # noqa: E402

from tidings.channels.smpp import pdu  # noqa: E402
from tidings.channels.smpp.session import SessionConfig, SmppSession  # noqa: E402

SCENARIOS = ("esme-tidings", "kannel-tidings", "kannel")
LABELS = {
    "esme-tidings": "esme → tidings → sim",
    "kannel-tidings": "kannel → tidings → sim",
    "kannel": "kannel → sim",
}


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def wait_sim(sim: SmscSim, count: int, timeout: float) -> float:
    event = sim.wait_for(lambda e: e["event"] == "count" and e["submits"] >= count, timeout)
    assert event["submits"] >= count
    return time.monotonic()


async def esme_run(port: int, messages: int, sim: SmscSim) -> dict[str, float]:
    got = asyncio.Event()
    receipts = 0

    def delivered(_message: pdu.ShortMessage, ack: Any) -> None:
        nonlocal receipts
        ack()
        receipts += 1
        if receipts >= messages:
            got.set()

    config = SessionConfig("127.0.0.1", port, LOGIN, SMPP_PASSWORD, window=100)
    session = SmppSession(config, delivered)
    await session.open()
    through_at = asyncio.create_task(asyncio.to_thread(wait_sim, sim, messages, 600))
    started = time.monotonic()
    submits = [
        session.submit(
            pdu.ShortMessage(
                "Bench",
                f"7916{n:07d}",
                f"through the SMPP door {n}".encode(),
                source_addr_ton=5,
                dest_addr_ton=1,
                dest_addr_npi=1,
                registered_delivery=1,
            )
        )
        for n in range(messages)
    ]
    await asyncio.gather(*submits)
    accepted = time.monotonic()
    await asyncio.wait_for(got.wait(), 600)
    done = time.monotonic()
    await session.close()
    through = await through_at
    return {
        "accepted_s": accepted - started,
        "through_s": through - started,
        "e2e_s": done - started,
    }


def kannel_run(kannel: Kannel, messages: int, sim: SmscSim) -> dict[str, float]:
    sink = DlrSink()
    pool = ThreadPoolExecutor(16)
    try:
        through_at = pool.submit(wait_sim, sim, messages, 600)
        started = time.monotonic()

        def send(n: int) -> str:
            return kannel.send(f"7916{n:07d}", f"through Kannel {n}", sink.url(n))

        answers = list(pool.map(send, range(messages)))
        accepted = time.monotonic()
        assert all(a.startswith("0: Accepted") for a in answers), set(answers)
        through = through_at.result()
        assert sink.wait_delivered(messages, 600), (len(sink.delivered), sink.types)
        assert sink.last_at is not None
        return {
            "accepted_s": accepted - started,
            "through_s": through - started,
            "e2e_s": sink.last_at - started,
        }
    finally:
        pool.shutdown()
        sink.close()


def one(scenario: str, work: Path, messages: int) -> dict[str, float]:
    sim = SmscSim({"quiet": True})
    procs: list[Any] = []
    try:
        if scenario == "kannel":
            kannel = Kannel(
                work / "kannel", sim.port, login="tidings", password="secret", smsc_id="SIM"
            )
            procs.append(kannel)
            kannel.wait_online("SIM")
            return kannel_run(kannel, messages, sim)
        tidings = TidingsServe(work / "tidings", sim.port)
        procs.append(tidings)
        time.sleep(1)  # its dispatcher binds to the simulator
        if scenario == "esme-tidings":
            return asyncio.run(esme_run(tidings.smpp_port, messages, sim))
        kannel = Kannel(work / "kannel", tidings.smpp_port)
        procs.append(kannel)
        kannel.wait_online()
        return kannel_run(kannel, messages, sim)
    finally:
        for proc in reversed(procs):
            proc.stop()
        sim.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    scenarios = list(SCENARIOS)
    if shutil.which("bearerbox") is None:
        log("Kannel is not installed (apt-get install kannel): its scenarios are skipped")
        scenarios = ["esme-tidings"]
    results: dict[str, list[dict[str, float]]] = {s: [] for s in scenarios}
    with tempfile.TemporaryDirectory(prefix="tidings-smpp-door-") as tmp:
        for rnd in range(1, args.rounds + 1):
            for scenario in scenarios:
                log(f"--- round {rnd}: {LABELS[scenario]}, {args.messages} messages")
                r = one(scenario, Path(tmp) / f"{scenario}-{rnd}", args.messages)
                log(f"    {r}")
                results[scenario].append(r)
    n = args.messages
    print(f"{'scenario':<26}{'accepted/s':>12}{'through/s':>12}{'e2e/s':>10}")
    for scenario, rows in results.items():
        med = {k: statistics.median(r[k] for r in rows) for k in rows[0]}
        print(
            f"{LABELS[scenario]:<26}{n / med['accepted_s']:>12.0f}"
            f"{n / med['through_s']:>12.0f}{n / med['e2e_s']:>10.0f}"
        )


if __name__ == "__main__":
    main()

"""The acceptance of the SMPP door: Kannel (the Debian package) as an ESME with Tidings as its
SMSC sends 1,000 messages through `tidings serve`'s SMPP server into the SMSC simulator, and
gets 1,000 delivery reports back (each message's own, by its DLR URL). Real processes: the
node-smpp simulator, `tidings serve`, bearerbox and smsbox.

Skipped, saying so, only when Kannel is not installed (`apt-get install kannel`)."""

from __future__ import annotations

import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.e2e.kannel_door import DlrSink, Kannel, TidingsServe
from tests.integration.smsc_sim import StartSim, start_sim_fixture  # noqa: F401

MESSAGES = 1000


def test_kannel_sends_1000_messages_through_the_smpp_door_and_gets_1000_dlrs(
    tmp_path: Path, start_sim: StartSim
) -> None:
    if shutil.which("bearerbox") is None or shutil.which("smsbox") is None:
        pytest.skip("Kannel is not installed (Debian: apt-get install kannel)")
    sim = start_sim(quiet=True)
    sink = DlrSink()
    tidings = kannel = None
    try:
        tidings = TidingsServe(tmp_path / "tidings", sim.port)
        kannel = Kannel(tmp_path / "kannel", tidings.smpp_port)
        kannel.wait_online()

        def send(n: int) -> str:
            assert kannel is not None
            return kannel.send(f"7916{n:07d}", f"Kannel through Tidings, message {n}", sink.url(n))

        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(send, range(MESSAGES)))
        assert all(a.startswith("0: Accepted") for a in answers), set(answers)
        assert sink.wait_delivered(MESSAGES, timeout=240), (len(sink.delivered), sink.types)
        assert sink.delivered == {str(n) for n in range(MESSAGES)}
        # Every message reached the simulator SMSC once, and none failed.
        counted = sim.wait_for(
            lambda e: e["event"] == "count" and e["submits"] >= MESSAGES, timeout=30
        )
        assert counted["submits"] == MESSAGES and counted["duplicates"] == 0
        assert sink.types[2] == 0 and sink.types[16] == 0
    finally:
        if kannel is not None:
            kannel.stop()
        if tidings is not None:
            tidings.stop()
        sink.close()

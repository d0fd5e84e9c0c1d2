"""The node-smpp SMSC simulator (tests/smsc_sim/sim.js) as a pytest fixture.

`npm ci` runs once if tests/smsc_sim/node_modules is missing. Without node or npm on the machine
the tests that use the simulator are skipped, with that reason.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

SIM_DIR = Path(__file__).resolve().parents[1] / "smsc_sim"
START_TIMEOUT_S = 15.0
_install_lock = threading.Lock()


def ensure_node_modules() -> None:
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("node and npm are needed for the SMSC simulator (apt-get install nodejs npm)")
    with _install_lock:
        if (SIM_DIR / "node_modules" / "smpp" / "package.json").exists():
            return
        done = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"],
            cwd=SIM_DIR,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if done.returncode != 0:
            pytest.fail(f"npm ci in {SIM_DIR} failed:\n{done.stdout}\n{done.stderr}")


class SmscSim:
    """One running simulator: its port and every JSON event it printed so far."""

    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        self.events: list[dict[str, Any]] = []
        self._changed = threading.Condition()
        self._process = subprocess.Popen(
            ["node", "sim.js", json.dumps({"port": 0, **options})],
            cwd=SIM_DIR,
            stdin=subprocess.PIPE if options.get("commands") else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        ready = self.wait_for(lambda e: e["event"] == "ready", timeout=START_TIMEOUT_S)
        self.port: int = ready["port"]

    def _read(self) -> None:
        assert self._process.stdout is not None
        for line in self._process.stdout:
            event = json.loads(line)
            with self._changed:
                self.events.append(event)
                self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    def command(self, command: dict[str, Any]) -> None:
        """Send one command (started with commands=True; see sim.js)."""
        assert self._process.stdin is not None, "start the simulator with commands=True"
        self._process.stdin.write(json.dumps(command) + "\n")
        self._process.stdin.flush()

    def kill_after_deliver_resps(self, pid: int, count: int, *, forget: bool = False) -> None:
        """SIGKILL `pid` as the `count`th deliver_sm_resp from now reaches the simulator;
        with `forget`, that answer is dropped as if the kill had come before it was sent."""
        self.command({"kill": pid, "after_deliver_resps": count, "forget": forget})

    def mo(
        self,
        octets: bytes,
        *,
        source: str = "79161234567",
        destination: str = "Shop",
        data_coding: int = 0,
        esm_class: int = 0,
        sar: tuple[int, int, int] | None = None,
        data_sm: bool = False,
    ) -> None:
        """Send one mobile-originated message (started with commands=True); it is sent again
        on every new bind until answered ESME_ROK."""
        mo: dict[str, Any] = {
            "source_addr": source,
            "destination_addr": destination,
            "hex": octets.hex(),
            "data_coding": data_coding,
            "esm_class": esm_class,
            "data_sm": data_sm,
        }
        if sar is not None:
            mo["sar"] = list(sar)
        self.command({"mo": mo})

    def of(self, kind: str) -> list[dict[str, Any]]:
        with self._changed:
            return [e for e in self.events if e["event"] == kind]

    @property
    def submits(self) -> list[dict[str, Any]]:
        return self.of("submit_sm")

    def wait_for(
        self, predicate: Callable[[dict[str, Any]], bool], timeout: float = 10.0
    ) -> dict[str, Any]:
        """The first event matching `predicate`, waiting for it to be printed."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = next((e for e in self.events if predicate(e)), None)
                if found is not None:
                    return found
                left = deadline - time.monotonic()
                if left <= 0 or self._process.poll() is not None:
                    raise AssertionError(f"simulator event not seen; stderr: {self._stderr()}")
                self._changed.wait(min(left, 0.5))

    async def until(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
        """Poll from inside an event loop (wait_for would block the loop the client runs on)."""
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError("condition on simulator events not met in time")
            await asyncio.sleep(0.01)

    def _stderr(self) -> str:
        if self._process.poll() is None or self._process.stderr is None:
            return "(running)"
        return self._process.stderr.read()

    def stop(self) -> None:
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(5)
        self._reader.join(5)
        for stream in (self._process.stdin, self._process.stdout, self._process.stderr):
            if stream is not None:
                stream.close()


StartSim = Callable[..., SmscSim]


@pytest.fixture(name="start_sim")
def start_sim_fixture() -> Iterator[StartSim]:
    """`start_sim(**options)` starts a simulator (options: see sim.js); all are stopped after
    the test."""
    ensure_node_modules()
    started: list[SmscSim] = []

    def start(**options: Any) -> SmscSim:
        sim = SmscSim(options)
        started.append(sim)
        return sim

    yield start
    for sim in started:
        sim.stop()

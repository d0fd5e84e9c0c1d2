"""The node-smpp SMSC simulator (tests/smsc_sim) for the benchmarks: started, read, stopped."""

from __future__ import annotations

import json
import subprocess
import threading
from pathlib import Path
from typing import Any

SIM_DIR = Path(__file__).resolve().parents[1] / "tests" / "smsc_sim"


class Simulator:
    """Counts the submit_sm the SMSC receives; its stdout is drained so it never blocks.

    Quiet by default: the SMSC reports counts a few times a second, not a line per PDU, which
    this (the measured) process would spend CPU reading."""

    def __init__(self, **options: Any) -> None:
        options.setdefault("quiet", True)
        if not (SIM_DIR / "node_modules" / "smpp").exists():
            subprocess.run(
                ["npm", "ci", "--no-audit", "--no-fund", "--silent"], cwd=SIM_DIR, check=True
            )
        self.submits = 0
        self.deliver_resps = 0
        self.duplicates = 0  # submit_sm to a destination seen before
        self.killed: list[int] = []  # pids the SMSC killed on command
        self._process = subprocess.Popen(
            ["node", "sim.js", json.dumps({"port": 0, **options})],
            cwd=SIM_DIR,
            stdin=subprocess.PIPE if options.get("commands") else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert self._process.stdout is not None
        ready = json.loads(self._process.stdout.readline())
        self.port: int = ready["port"]
        self._reader = threading.Thread(target=self._drain, daemon=True)
        self._reader.start()

    def _drain(self) -> None:
        assert self._process.stdout is not None
        for line in self._process.stdout:
            if '"submit_sm"' in line:
                self.submits += 1
            elif '"count"' in line:
                count = json.loads(line)
                self.submits = count["submits"]
                self.deliver_resps = count["deliver_sm_resp"]
                self.duplicates = count["duplicates"]
            elif '"killed"' in line:
                self.killed.append(json.loads(line)["pid"])

    def kill_after_deliver_resps(self, pid: int, count: int) -> None:
        """SIGKILL `pid` as the `count`th deliver_sm_resp from now reaches the SMSC (started
        with commands=True)."""
        assert self._process.stdin is not None
        self._process.stdin.write(json.dumps({"kill": pid, "after_deliver_resps": count}) + "\n")
        self._process.stdin.flush()

    def stop(self) -> None:
        self._process.terminate()
        self._process.wait(10)
        self._reader.join(5)
        for stream in (self._process.stdin, self._process.stdout):
            if stream is not None:
                stream.close()

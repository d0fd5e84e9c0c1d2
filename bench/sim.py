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
        self._process = subprocess.Popen(
            ["node", "sim.js", json.dumps({"port": 0, **options})],
            cwd=SIM_DIR,
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
                self.submits = json.loads(line)["submits"]

    def stop(self) -> None:
        self._process.terminate()
        self._process.wait(10)
        self._reader.join(5)
        if self._process.stdout is not None:
            self._process.stdout.close()

"""The systemd units in deploy/: systemd itself checks them (`systemd-analyze verify`), with the
checkout's paths in place of /opt/tidings, and each one's command is a real `tidings` command."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
UNITS = sorted((ROOT / "deploy").glob("*.service"))
ANALYZE = shutil.which("systemd-analyze")
pytestmark = pytest.mark.skipif(ANALYZE is None, reason="systemd-analyze is not installed")


def _installed_here(unit: Path, folder: Path, *, break_it: bool = False) -> Path:
    text = unit.read_text().replace("/opt/tidings", str(ROOT))
    text = text.replace("ReadWritePaths=/var/lib/tidings", f"ReadWritePaths={folder}")
    if break_it:
        text = text.replace("ExecStart=", "ExecStart=no-such-program-", 1)
    copy = folder / unit.name
    copy.write_text(text)
    return copy


def _verify(*units: Path) -> subprocess.CompletedProcess[str]:
    assert ANALYZE is not None
    return subprocess.run([ANALYZE, "verify", *map(str, units)], capture_output=True, text=True)


def test_systemd_accepts_the_units(tmp_path: Path) -> None:
    assert {u.name for u in UNITS} == {"tidings-api.service", "tidings-dispatcher.service"}
    checked = _verify(*(_installed_here(u, tmp_path) for u in UNITS))
    assert checked.returncode == 0, checked.stderr
    assert not checked.stderr.strip(), checked.stderr
    # …and the check is real: a unit whose program does not exist is refused.
    broken_dir = tmp_path / "broken"
    broken_dir.mkdir()
    broken = _verify(_installed_here(UNITS[0], broken_dir, break_it=True))
    assert broken.returncode != 0


@pytest.mark.parametrize("unit", UNITS, ids=lambda u: u.name)
def test_each_unit_runs_a_tidings_command(unit: Path) -> None:
    command = re.search(r"^ExecStart=\S+/tidings (.+)$", unit.read_text(), re.M)
    assert command, "ExecStart runs the checkout's tidings"
    tidings = Path(sys.executable).with_name("tidings")
    args = command.group(1).split()
    shown = subprocess.run([str(tidings), args[0], "--help"], capture_output=True, text=True)
    assert shown.returncode == 0, shown.stdout + shown.stderr
    for option in (a for a in args[1:] if a.startswith("--")):
        assert option in shown.stdout, f"{option} is not an option of tidings {args[0]}"

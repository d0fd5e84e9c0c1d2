"""Tidings against Kannel 1.4.5, measured the same way in the same run (bench/vs_kannel.sh).

One SMSC simulator (tests/smsc_sim, node-smpp: answers at once, a receipt right after each
submit_sm_resp when registered_delivery asks) and one callback sink run for the whole bench;
each scenario starts its gateway from an empty store, puts wrk's load on it (32 connections,
one send GET per message, each with its own destination and text), reads what the SMSC
counted while the load ran, and stops the gateway by its PID before the next one starts (the
two never run at once). The scenarios run in rounds that alternate the gateways, in reverse
order every other round; the table gives the median of the rounds, and each ratio is the
median of the rounds' Tidings/Kannel ratios (both measured in the same round).

    .venv/bin/python bench/vs_kannel/run.py --work DIR [--rounds 3] [--duration 20]

Environment (bench/vs_kannel.sh passes it on): CONNS (32), WORKERS (2: API processes of the
PostgreSQL scenarios), SQLITE_WORKERS (1: API processes of the SQLite `split` scenarios; with
more, the error-9 limits are per process unless TIDINGS_GUARDS__REDIS_URL is given), WINDOW
(Tidings' SMPP window; its default otherwise), PG_URL
(postgresql://postgres@127.0.0.1:5432/postgres: a database is created and dropped there for
each PostgreSQL scenario), SCENARIOS (a comma-separated subset of the names below).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
SIM_DIR = ROOT / "tests" / "smsc_sim"
SEND_LUA = HERE / "send.lua"
TIDINGS = [str(Path(sys.executable).with_name("tidings"))]  # the venv's console script
SYSTEM_ID, SMPP_PASSWORD = "bench", "benchpw"  # SMPP passwords are at most 8 characters
LOGIN, PASSWORD = "bench", "benchpw1"


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, timeout: float, proc: Group) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        proc.check()
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{proc.name}: port {port} did not open within {timeout:.0f} s")


# ------------------------------------------------------------------ processes, by PID

_running: list[Group] = []


class Group:
    """A process started in its own session; stopped by its PID (SIGTERM, then SIGKILL),
    together with any children it forked (`api --workers N`): they are in its process group."""

    def __init__(self, name: str, argv: list[str], logfile: Path, **kw: Any) -> None:
        self.name = name
        self.log = logfile.open("ab")
        kw.setdefault("stdout", self.log)
        self.proc = subprocess.Popen(
            argv, stderr=self.log, start_new_session=True, cwd=kw.pop("cwd", ROOT), **kw
        )
        self.pid = self.proc.pid
        _running.append(self)
        log(f"started {name} pid {self.pid}")

    def check(self) -> None:
        if self.proc.poll() is not None:
            raise RuntimeError(f"{self.name} exited ({self.proc.returncode}): see {self.log.name}")

    def stop(self, grace: float = 15.0) -> None:
        if self in _running:
            _running.remove(self)
        self._signal(signal.SIGTERM)
        try:
            self.proc.wait(grace)
        except subprocess.TimeoutExpired:
            log(f"{self.name} pid {self.pid} still running after {grace:.0f} s: SIGKILL")
        # the leader is gone or ignored SIGTERM: nothing of its group outlives it
        self._signal(signal.SIGKILL)
        self.proc.wait(10)
        self.log.close()

    def _signal(self, sig: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, sig)


def stop_all() -> None:
    for proc in reversed(list(_running)):
        try:
            proc.stop()
        except Exception as e:  # stop everything we can
            log(f"stopping {proc.name}: {e}")


def group_cpu_s(pgid: int) -> float:
    """CPU seconds (user + system) of the live processes in one process group."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:
            total += int(fields[11]) + int(fields[12])
    return total / tick


def box_busy() -> tuple[float, float]:
    """(busy, all) jiffies of the whole machine, from /proc/stat."""
    values = [float(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


# ------------------------------------------------------------------ simulator and sink


class Simulator:
    """tests/smsc_sim/sim.js, quiet: it prints its submit_sm and deliver_sm_resp counts every
    250 ms while they change; the reader keeps each with its arrival time."""

    def __init__(self, work: Path) -> None:
        config = {"port": 0, "system_id": SYSTEM_ID, "password": SMPP_PASSWORD, "quiet": True}
        self.proc = Group(
            "smsc-sim",
            ["node", "sim.js", json.dumps(config)],
            work / "smsc-sim.err",
            stdout=subprocess.PIPE,
            cwd=SIM_DIR,
        )
        assert self.proc.proc.stdout is not None
        self.port = int(json.loads(self.proc.proc.stdout.readline())["port"])
        self.counts: list[tuple[float, int, int]] = [(time.monotonic(), 0, 0)]
        self.binds = 0
        self.lock = threading.Lock()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.proc.stdout is not None
        for raw in self.proc.proc.stdout:
            event = json.loads(raw)
            with self.lock:
                if event["event"] == "count":
                    self.counts.append(
                        (time.monotonic(), event["submits"], event["deliver_sm_resp"])
                    )
                elif event["event"] == "bind" and event["ok"]:
                    self.binds += 1

    def at(self, t: float) -> tuple[float, float]:
        """(submits, deliver_sm_resp) at monotonic time t, interpolated between the count lines
        around it; a line after t is waited for briefly (none comes when nothing changed)."""
        deadline = time.monotonic() + 0.6
        while time.monotonic() < deadline and self.counts[-1][0] < t:
            time.sleep(0.05)
        with self.lock:
            counts = list(self.counts)
        before = max((c for c in counts if c[0] <= t), key=lambda c: c[0], default=counts[0])
        after = [c for c in counts if c[0] > t]
        if not after:
            return float(before[1]), float(before[2])
        nxt = after[0]
        f = (t - before[0]) / (nxt[0] - before[0])
        return tuple(b + f * (n - b) for b, n in zip(before[1:], nxt[1:], strict=True))  # type: ignore[return-value]


class Sink:
    """bench/vs_kannel/sink.js: counts the DLR / status callbacks it receives."""

    def __init__(self, work: Path) -> None:
        self.proc = Group(
            "callback-sink",
            ["node", str(HERE / "sink.js"), "0"],
            work / "sink.err",
            stdout=subprocess.PIPE,
        )
        assert self.proc.proc.stdout is not None
        self.port = int(json.loads(self.proc.proc.stdout.readline())["port"])

    def requests(self) -> int:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/__stats", timeout=5) as r:
            return int(json.loads(r.read())["requests"])


# ------------------------------------------------------------------ the load


def start_profilers(
    bench: Bench, name: str, runtag: str, pgids: list[int]
) -> list[subprocess.Popen[bytes]]:
    """PROFILE=1: py-spy samples every Tidings process (and its children) while the load runs;
    bench/vs_kannel/budget.py turns the raw stacks into the per-message CPU budget."""
    if os.environ.get("PROFILE", "0") != "1" or name.startswith("kannel"):
        return []
    spy = shutil.which("py-spy") or str(ROOT / ".venv" / "bin" / "py-spy")
    (out := bench.work / "profiles").mkdir(exist_ok=True)
    spies = []
    for pid in pgids:
        argv = [spy, "record", "--pid", str(pid), "--subprocesses", "--rate", "250"]
        argv += ["--duration", str(bench.duration), "--format", "raw", "--nonblocking"]
        argv += ["--output", str(out / f"{runtag}-{pid}.txt")]
        spies.append(subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    time.sleep(0.5)  # let py-spy attach before the load starts
    return spies


def run_load(
    bench: Bench, name: str, url: str, path: str, accept: str, params: tuple[str, str], pgids
) -> dict[str, Any]:
    """wrk for the bench's duration; what the SMSC and the sink counted meanwhile."""
    runtag = f"{re.sub(r'[^A-Za-z0-9]', '', name)}{int(time.time())}"
    text_param, to_param = params
    argv = ["wrk", "-t1", f"-c{bench.conns}", f"-d{bench.duration}s", "--timeout", "10s"]
    argv += ["--latency", "-s", str(SEND_LUA), url, "--", path, runtag, accept]
    argv += [text_param, to_param]
    spies = start_profilers(bench, name, runtag, pgids)
    cb0 = bench.sink.requests()
    cpu0 = sum(group_cpu_s(p) for p in pgids)
    busy0 = box_busy()
    t0 = time.monotonic()
    out = subprocess.run(argv, capture_output=True, text=True, timeout=bench.duration + 60)
    t1 = time.monotonic()
    cpu1 = sum(group_cpu_s(p) for p in pgids)
    busy1 = box_busy()
    cb1 = bench.sink.requests()
    for spy in spies:
        spy.wait(timeout=60)
    (sub0, rc0), (sub1, rc1) = bench.sim.at(t0), bench.sim.at(t1)
    (out_dir := bench.work / "wrk").mkdir(exist_ok=True)
    (out_dir / f"{runtag}.txt").write_text(out.stdout + out.stderr)
    m = re.search(r"^RESULT (.*)$", out.stdout, re.M)
    if not m:
        raise RuntimeError(f"wrk gave no RESULT line:\n{out.stdout}{out.stderr}")
    res = {k: float(v) for k, v in (kv.split("=", 1) for kv in m.group(1).split())}
    load_s = t1 - t0
    sample = re.search(r"^REJECT_SAMPLE (.*)$", out.stdout, re.M)
    r = {
        "scenario": name,
        "accepted": int(res["accepted"]),
        "rejected": int(res["rejected"] + res["socket_errors"]),
        "reject_sample": sample.group(1) if sample else None,
        "ingest": res["accepted"] / res["duration_s"],
        "p99_ms": res["p99_ms"],
        "smsc": (sub1 - sub0) / load_s,
        "receipts": (rc1 - rc0) / load_s,
        "callbacks": (cb1 - cb0) / load_s,
        "backlog": int(res["accepted"] - (sub1 - sub0)),
        "cpu_pct": 100 * (cpu1 - cpu0) / load_s,
        "box_pct": 100 * (busy1[0] - busy0[0]) / max(1.0, busy1[1] - busy0[1]),
        "load_s": load_s,
    }
    log(
        f"{name}: {r['ingest']:.0f} accepted/s, p99 {r['p99_ms']:.1f} ms, SMSC {r['smsc']:.0f}/s, "
        f"callbacks {r['callbacks']:.0f}/s, rejected {r['rejected']}"
    )
    if r["rejected"]:
        log(f"  first refused answer: {r['reject_sample']}")
    if spies:
        from budget import budget  # bench/vs_kannel/budget.py, beside this script

        profiles = sorted((bench.work / "profiles").glob(f"{runtag}-*.txt"))
        log(f"CPU per message, {name} (py-spy, {', '.join(map(str, profiles))}):")
        log(budget(profiles, r["accepted"]))
    return r


# ------------------------------------------------------------------ the gateways


@dataclass(frozen=True)
class Scenario:
    name: str
    label: str
    gateway: str  # kannel | serve | split
    receipts: bool
    store: str = "sqlite"  # Tidings only: sqlite | pg

    @property
    def kannel_peer(self) -> str:
        return "kannel-dlr" if self.receipts else "kannel"


SCENARIOS = [
    Scenario("kannel", "Kannel 1.4.5", "kannel", False),
    Scenario("kannel-dlr", "Kannel 1.4.5, DLRs to the sink", "kannel", True),
    Scenario("serve", "Tidings serve, SQLite", "serve", False),
    Scenario("serve-dlr", "Tidings serve, SQLite, receipts + callbacks", "serve", True),
    Scenario("split", "Tidings api + dispatcher, SQLite", "split", False),
    Scenario("split-dlr", "Tidings api + dispatcher, SQLite, receipts + callbacks", "split", True),
    Scenario("pg-split", "Tidings api --workers N + dispatcher, PostgreSQL", "split", False, "pg"),
    Scenario(
        "pg-split-dlr",
        "Tidings api --workers N + dispatcher, PG, receipts + callbacks",
        "split",
        True,
        "pg",
    ),
]


class Bench:
    def __init__(self, a: argparse.Namespace) -> None:
        self.work = Path(a.work)
        self.duration = a.duration
        self.conns = int(os.environ.get("CONNS", "32"))
        self.workers = int(os.environ.get("WORKERS", "2"))
        self.sqlite_workers = int(os.environ.get("SQLITE_WORKERS", "1"))
        self.window = os.environ.get("WINDOW", "")
        self.pg_url = os.environ.get("PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
        self.sim = Simulator(self.work)
        self.sink = Sink(self.work)
        log(f"SMSC simulator on port {self.sim.port}, callback sink on port {self.sink.port}")

    def wait_bind(self, binds_before: int, procs: list[Group], timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while self.sim.binds <= binds_before:
            for p in procs:
                p.check()
            if time.monotonic() > deadline:
                raise RuntimeError("the gateway did not bind to the SMSC simulator")
            time.sleep(0.2)
        time.sleep(1)  # let the link settle (Kannel reports it online a moment later)

    # ---- Kannel

    def kannel(self, sc: Scenario, rnd: int) -> dict[str, Any]:
        d = self.work / f"kannel-{sc.name}-{rnd}"
        (d / "spool").mkdir(parents=True)
        ports = {"ADMIN_PORT": free_port(), "BOX_PORT": free_port(), "SENDSMS_PORT": free_port()}
        values = {"WORK": str(d), "SIM_PORT": self.sim.port, "SYSTEM_ID": SYSTEM_ID}
        values.update(ports, PASSWORD=SMPP_PASSWORD)
        conf = (HERE / "kannel.conf").read_text()
        for key, value in values.items():
            conf = conf.replace(f"@{key}@", str(value))
        assert not re.search(r"@[A-Z_]+@", conf), "a placeholder of kannel.conf was left unfilled"
        (d / "kannel.conf").write_text(conf)
        binds = self.sim.binds
        bb = Group("bearerbox", ["bearerbox", str(d / "kannel.conf")], d / "bearerbox.out")
        procs = [bb]
        try:
            wait_port(ports["BOX_PORT"], 30, bb)
            sb = Group("smsbox", ["smsbox", str(d / "kannel.conf")], d / "smsbox.out")
            procs.append(sb)
            wait_port(ports["SENDSMS_PORT"], 30, sb)
            self.wait_bind(binds, procs)
            path = f"/cgi-bin/sendsms?username={LOGIN}&password={PASSWORD}&from=BENCH"
            if sc.receipts:
                dlr = f"http://127.0.0.1:{self.sink.port}/dlr?type=%d&id=%I"
                path += "&dlr-mask=31&dlr-url=" + urllib.parse.quote(dlr, safe="")
            url = f"http://127.0.0.1:{ports['SENDSMS_PORT']}"
            return run_load(
                self, sc.name, url, path, "^0: Accepted", ("text", "to"), [p.pid for p in procs]
            )
        finally:
            for p in reversed(procs):
                p.stop(grace=30)

    # ---- Tidings

    def tidings(self, sc: Scenario, rnd: int) -> dict[str, Any]:
        d = self.work / f"tidings-{sc.name}-{rnd}"
        d.mkdir(parents=True)
        db_name = f"tidings_vs_kannel_{os.getpid()}"
        if sc.store == "pg":
            self.pg(f'DROP DATABASE IF EXISTS "{db_name}"', f'CREATE DATABASE "{db_name}"')
            db = self.pg_url.rsplit("/", 1)[0] + "/" + db_name
        else:
            db = f"sqlite:///{d}/tidings.db"
        window = f"window = {int(self.window)}\n" if self.window else ""
        (d / "tidings.toml").write_text(
            "# written by bench/vs_kannel/run.py\n"
            "[guards]\n"
            "# 32 connections under one login (the default allows 14 at once)\n"
            "max_concurrent_per_login = 1000\n"
            "error_streak_max = 1000000\n"
            "[dispatch.callbacks]\n"
            "# the sink is on loopback, which callbacks may not reach by default\n"
            'allow_networks = ["127.0.0.0/8"]\n'
            "[[smpp]]\n"
            'name = "sim"\n'
            'host = "127.0.0.1"\n'
            f"port = {self.sim.port}\n"
            f'system_id = "{SYSTEM_ID}"\n'
            f'password = "{SMPP_PASSWORD}"\n'
            f"{window}"
            f"request_receipts = {'true' if sc.receipts else 'false'}\n"
        )
        env = dict(os.environ, TIDINGS_CONFIG=str(d / "tidings.toml"), TIDINGS_DATABASE_URL=db)
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(ROOT / "src"), env.get("PYTHONPATH")) if p
        )
        cli = d / "cli.out"
        with cli.open("ab") as out:
            for args in (
                ["db", "upgrade"],
                ["accounts", "create", LOGIN, "--password", PASSWORD, "--balance", "100000000"],
                *(
                    [["accounts", "callback", LOGIN, f"http://127.0.0.1:{self.sink.port}/cb"]]
                    if sc.receipts
                    else []
                ),
            ):
                subprocess.run(TIDINGS + args, env=env, stdout=out, stderr=out, check=True)
        port = free_port()
        http = ["--host", "127.0.0.1", "--port", str(port)]
        binds = self.sim.binds
        procs: list[Group] = []
        try:
            if sc.gateway == "serve":
                procs.append(
                    Group("tidings serve", [*TIDINGS, "serve", *http], d / "serve.out", env=env)
                )
            else:
                procs.append(
                    Group(
                        "tidings dispatcher",
                        [*TIDINGS, "dispatcher"],
                        d / "dispatcher.out",
                        env=env,
                    )
                )
                workers = self.workers if sc.store == "pg" else self.sqlite_workers
                procs.append(
                    Group(
                        f"tidings api --workers {workers}",
                        [*TIDINGS, "api", "--workers", str(workers), *http],
                        d / "api.out",
                        env=env,
                    )
                )
            wait_port(port, 120, procs[-1])
            self.wait_bind(binds, procs)
            path = f"/sys/send.php?login={LOGIN}&psw={PASSWORD}&charset=utf-8"
            return run_load(
                self,
                sc.name,
                f"http://127.0.0.1:{port}",
                path,
                "^OK",
                ("mes", "phones"),
                [p.pid for p in procs],
            )
        finally:
            for p in reversed(procs):
                p.stop()
            if sc.store == "pg":
                self.pg(f'DROP DATABASE IF EXISTS "{db_name}"')

    def pg(self, *statements: str) -> None:
        import psycopg

        with psycopg.connect(self.pg_url, autocommit=True, connect_timeout=5) as conn:
            for statement in statements:
                conn.execute(statement)

    def pg_available(self) -> bool:
        try:
            self.pg("SELECT 1")
        except Exception as e:
            log(f"PostgreSQL at {self.pg_url} does not answer ({e}): its scenarios are skipped")
            return False
        return True

    def run(self, sc: Scenario, rnd: int) -> dict[str, Any]:
        log(f"--- round {rnd}: {sc.name} ({sc.label})")
        r = self.kannel(sc, rnd) if sc.gateway == "kannel" else self.tidings(sc, rnd)
        r["round"] = rnd
        with (self.work / "results.jsonl").open("a") as f:
            f.write(json.dumps(r, sort_keys=True) + "\n")
        time.sleep(1)
        return r


# ------------------------------------------------------------------ the table


def table(scenarios: list[Scenario], results: list[dict[str, Any]], rounds: int, b: Bench) -> str:
    by: dict[tuple[str, int], dict[str, Any]] = {(r["scenario"], r["round"]): r for r in results}

    def med(name: str, key: str) -> float | None:
        vals = [by[(name, i)][key] for i in range(1, rounds + 1) if (name, i) in by]
        return statistics.median(vals) if vals else None

    def ratio(sc: Scenario, key: str) -> float | None:
        vals = []
        for i in range(1, rounds + 1):
            ours, theirs = by.get((sc.name, i)), by.get((sc.kannel_peer, i))
            if ours and theirs and theirs[key] > 0:
                vals.append(ours[key] / theirs[key])
        return statistics.median(vals) if vals else None

    def fmt(v: float | None, spec: str = ".0f") -> str:
        return "-" if v is None else format(v, spec)

    window = b.window or "default (50)"
    lines = [
        f"Tidings vs Kannel 1.4.5: wrk {b.conns} connections, {b.duration} s per scenario, "
        f"median of {rounds} round(s) alternating the gateways",
        f"(Kannel window 10, spool store; Tidings SMPP window {window}, "
        f"api --workers {b.workers} on PostgreSQL, {b.sqlite_workers} on SQLite; "
        "SMSC msgs/s = submit_sm the simulator "
        "counted while the load ran; x = Tidings/Kannel, same round, same receipts setting)",
        "",
    ]
    head = (
        "scenario",
        "ingest/s",
        "p99 ms",
        "SMSC msgs/s",
        "receipts/s",
        "callbacks/s",
        "gw cpu%",
        "box%",
        "x ingest",
        "x SMSC",
    )
    row = "{:<14} {:>9} {:>8} {:>11} {:>10} {:>11} {:>8} {:>5} {:>8} {:>7}"
    lines.append(row.format(*head))
    for sc in scenarios:
        tid = sc.gateway != "kannel"
        lines.append(
            row.format(
                sc.name,
                fmt(med(sc.name, "ingest")),
                fmt(med(sc.name, "p99_ms"), ".1f"),
                fmt(med(sc.name, "smsc")),
                fmt(med(sc.name, "receipts")) if sc.receipts else "-",
                fmt(med(sc.name, "callbacks")) if sc.receipts else "-",
                fmt(med(sc.name, "cpu_pct")),
                fmt(med(sc.name, "box_pct")),
                fmt(ratio(sc, "ingest"), ".2f") if tid else "",
                fmt(ratio(sc, "smsc"), ".2f") if tid else "",
            )
        )
    refused = [r for r in results if r["rejected"]]
    if refused:
        lines.append("")
        for r in refused:
            lines.append(
                f"{r['scenario']} round {r['round']}: {r['rejected']} requests not accepted "
                f"(not counted in ingest/s), e.g. {r['reject_sample']}"
            )
    lines.append("")
    lines += [f"{sc.name:<14} {sc.label}" for sc in scenarios]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--work", required=True, help="directory for the working files")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--duration", type=int, default=20, help="seconds of load per scenario")
    a = ap.parse_args()
    wanted = [s for s in os.environ.get("SCENARIOS", "").split(",") if s]
    unknown = set(wanted) - {s.name for s in SCENARIOS}
    if unknown:
        sys.exit(
            f"unknown scenario(s) {', '.join(sorted(unknown))}: "
            f"{', '.join(s.name for s in SCENARIOS)}"
        )
    scenarios = [s for s in SCENARIOS if not wanted or s.name in wanted]

    def interrupted(signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, interrupted)
    results: list[dict[str, Any]] = []
    bench = None
    try:
        bench = Bench(a)
        if any(s.store == "pg" for s in scenarios) and not bench.pg_available():
            scenarios = [s for s in scenarios if s.store != "pg"]
        started = time.monotonic()
        for rnd in range(1, a.rounds + 1):
            order = scenarios if rnd % 2 else list(reversed(scenarios))
            for sc in order:
                results.append(bench.run(sc, rnd))
        log(f"all rounds done in {time.monotonic() - started:.0f} s")
    finally:
        stop_all()
    print(table(scenarios, results, a.rounds, bench))


if __name__ == "__main__":
    main()

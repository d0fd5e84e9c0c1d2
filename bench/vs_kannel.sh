#!/usr/bin/env bash
# Tidings against Kannel 1.4.5 on this machine, measured the same way in the same run (issue 13).
#
#   bash bench/vs_kannel.sh            3 rounds of 20 s per scenario (about 15 minutes)
#   bash bench/vs_kannel.sh --quick    1 round of 5 s per scenario (about 2 minutes)
#
# Installs what is missing (Debian: `apt-get install -y kannel wrk`, as root; the SMSC
# simulator's node-smpp by `npm ci` in tests/smsc_sim), then runs bench/vs_kannel/run.py: the
# node-smpp SMSC simulator of the tests and a callback sink for the whole run, and per
# scenario one gateway at a time — Kannel (bearerbox + smsbox, bench/vs_kannel/kannel.conf),
# `tidings serve` (SQLite), `tidings api` + `tidings dispatcher` (SQLite) and `tidings api
# --workers N` + `tidings dispatcher` (PostgreSQL), each without and with receipts and
# callbacks — under the same wrk load (32 connections, one send GET per message, each with its
# own destination and text). It prints one table: ingest req/s, p99, the msgs/s the SMSC
# received while the load ran, receipts and callbacks per second, and Tidings/Kannel ratios.
# Every process is started and stopped by its PID; working files go to a temporary directory,
# removed at the end unless KEEP_WORK=1. Progress goes to stderr, the table to stdout.
#
# Environment: ROUNDS (3; --quick 1), DURATION (s of load per scenario: 20; --quick 5),
# CONNS (32), WORKERS (2: API processes of the PostgreSQL scenarios), SQLITE_WORKERS (1: API
# processes of the SQLite split scenarios; error-9 limits per process unless
# TIDINGS_GUARDS__REDIS_URL is set), WINDOW (Tidings' SMPP
# window; its default otherwise), PG_URL (an administrative URL of a PostgreSQL server, default
# postgresql://postgres@127.0.0.1:5432/postgres; its scenarios are skipped if it does not
# answer), SCENARIOS (a subset: kannel,kannel-dlr,serve,serve-dlr,split,split-dlr,pg-split,
# pg-split-dlr), KEEP_WORK=1 (keep the working directory: logs, wrk output, results.jsonl),
# PROFILE=1 (py-spy samples the Tidings processes under load; the per-message CPU budget by
# part of the path goes to stderr, bench/vs_kannel/budget.py).
set -euo pipefail
cd "$(dirname "$0")/.."

rounds="${ROUNDS:-3}"
duration="${DURATION:-20}"
for arg in "$@"; do
  case "$arg" in
    --quick) rounds="${ROUNDS:-1}"; duration="${DURATION:-5}" ;;
    -h|--help) sed -n '2,28p' "$0"; exit 0 ;;
    *) echo "unknown option $arg (--quick, or the environment variables of --help)" >&2; exit 2 ;;
  esac
done

PY=.venv/bin/python
[ -x "$PY" ] || { echo "no $PY: build the project's virtualenv first (make)" >&2; exit 1; }
command -v node >/dev/null || { echo "node is needed (Node 18+)" >&2; exit 1; }

missing=()
command -v bearerbox >/dev/null || missing+=(kannel)
command -v wrk >/dev/null || missing+=(wrk)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing ${missing[*]} (Debian packages)" >&2
  sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  # Debian's kannel package does not start its own service where policy-rc.d forbids it (as in
  # containers); bench/vs_kannel/run.py never uses that service's ports either way.
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >&2 || {
    "${sudo[@]}" apt-get update -q >&2
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >&2
  }
fi
if [ ! -d tests/smsc_sim/node_modules/smpp ]; then
  (cd tests/smsc_sim && npm ci --no-audit --no-fund --silent) >&2
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/tidings-vs-kannel.XXXXXX")"
cleanup() {
  if [ "${KEEP_WORK:-0}" = 1 ]; then
    echo "working files kept in $work" >&2
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT

PYTHONPATH="src${PYTHONPATH:+:$PYTHONPATH}" "$PY" bench/vs_kannel/run.py \
  --work "$work" --rounds "$rounds" --duration "$duration"

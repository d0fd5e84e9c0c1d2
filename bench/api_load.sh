#!/usr/bin/env bash
# Benchmark: send.php req/s and latency percentiles on SQLite and PostgreSQL, and status.php
# p99 over a large message table on PostgreSQL — a real `tidings serve` process and wrk, both
# on this machine. Targets (issue 4): send.php ≥ 2,000 req/s, p99 ≤ 20 ms on SQLite;
# status.php p99 ≤ 10 ms with 10,000,000 messages on PostgreSQL.
#
#   bash bench/api_load.sh [MESSAGES]      (default 10000000, 0 = skip status.php; needs wrk)
set -euo pipefail
cd "$(dirname "$0")/.."
MESSAGES="${1:-10000000}"
PY=.venv/bin/python
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 1; }
exec "$PY" bench/api_load.py --messages "$MESSAGES"

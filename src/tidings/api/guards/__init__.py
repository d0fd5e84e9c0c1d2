"""Request guards of the HTTP edge (API error 9): duplicates, repeats, balance requests and
concurrency.

Two implementations behind one interface (the `RateGuard` and `ConcurrencyGuard` protocols):

* in memory, per process — the default (one API process);
* in Redis, shared by every API process (`guards.redis_url`, DESIGN §3).

The Redis guards fail open: when Redis does not answer they use an in-memory guard of their
own (per-process limits) and try Redis again a few seconds later, logging a warning at most
once a minute, so an outage of Redis never stops sending (docs/operations.md).

Where each part lives:

* `edge` — `edge_guards(settings, clock)`, the guards the API uses (`EdgeGuards`);
* `protocols` — `RateGuard` and `ConcurrencyGuard`;
* `identity` — `request_identity`, what makes two requests "the same";
* `memory` — the in-memory guards (and the Redis guards' fallback);
* `redis_link` — the Redis client the guards share and what it knows of Redis's health;
* `redis_rate` — the sliding window in Redis and its Lua script;
* `redis_concurrency` — requests in flight in Redis, its Lua scripts and the heartbeat.
"""

"""The commented settings file `tidings config init` writes: every setting with its default,
commented out, so the file changes nothing until a line is uncommented. A unit test checks that
it names every setting and that each default shown is the real one."""

from __future__ import annotations

SAMPLE = """\
# Tidings settings. Read from --config, TIDINGS_CONFIG, ./tidings.toml or
# /etc/tidings/tidings.toml (the first found). TIDINGS_* environment variables win over
# this file (nested with __, e.g. TIDINGS_GUARDS__AUTH_FAILURES_MAX=10).
# Every line below is the default; uncomment and change what you need.

# database_url = "sqlite:///./tidings.db"   # or "postgresql://USER@HOST:5432/DB"
# host = "127.0.0.1"                        # listen address ("0.0.0.0": every interface)
# port = 8080
# workers = 1               # `tidings api` processes on the port (>1 wants guards.redis_url)
# serve_processes = 2       # `tidings serve`: 2 = its dispatcher in a child (both cores)
# api_threads = 2           # threads per API process for the store
# metrics_token = ""        # set: /metrics wants "Authorization: Bearer <token>"
# log_level = "info"
# log_unmasked = false      # true shows message texts and phone numbers in logs
# default_region = "RU"     # how numbers without a country code are read
# max_recipients = 1000000  # per jobs.php add / send.php request; beyond it error 1

[http]                            # what one request or connection may cost
# max_body_bytes = 67108864       # refused by Content-Length, or as a chunked body passes it
# header_timeout_s = 10.0         # connection's first byte → end of the request head
# body_timeout_s = 60.0           # end of the head → end of the body
# max_connections = 4096          # per process, never more than the files limit - reserved
# reserved_files = 128
# trusted_proxies = []            # peers whose X-Forwarded-For is read, e.g. ["127.0.0.1"]

[guards]
# auth_failures_max = 5           # failed logins per IP within the window → blocked (error 4)
# auth_failures_window_s = 1800
# auth_block_s = 1800
# error_streak_max = 100          # failed requests in a row within the window → blocked
# error_streak_window_s = 600
# error_block_s = 600
# duplicate_window_s = 60         # an identical add/del/cancel within it → error 9
# phones_identical_max = 3
# balance_requests_max = 10
# max_concurrent_per_login = 14   # the 15th request in flight → error 9
# credential_cache_ttl_s = 60
# redis_url = ""                  # e.g. "redis://127.0.0.1:6379/0": limits shared by processes

[tariff]                          # the default tariff, per SMS part
# currency = "RUB"
# default_price = "2.00"
# email_price = "0.10"
# country_prices = { RU = "1.80", KZ = "3.50", BY = "4.00" }

[dispatch]
# worker_id = ""                  # lease owner; default: one per process (host:pid:random)
# heartbeat_s = 3.0               # how often a dispatcher says it lives
# dead_after_s = 15.0             # silent this long: dead, its leases are recovered
# lease_s = 120
# tick_s = 0.2
# on_ambiguous = "skip"           # after a crash, maybe-sent messages: "skip" or "resend"
# default_validity_min = 1440
# receipt_grace_min = 60          # no receipt this long after validity → expired
# unmatched_receipt_keep_min = 1440  # a receipt for an unknown message is kept this long
# retry_min_s = 5
# retry_max_s = 300
# callback_backoff_s = [5, 15, 60, 300, 900, 1800, 3600]
# callback_attempts = 12

[dispatch.callbacks]              # status callbacks to the accounts' URLs
# deadline_s = 10.0               # one delivery, connect to last byte read
# max_answer_bytes = 65536        # read at most this much of the answer
# concurrency = 16                # deliveries in flight per dispatcher
# per_account = 2                 # … and per account among them
# allow_networks = []             # private ranges a callback may reach, e.g. ["10.20.0.0/16"]

[virtual]                         # the test-mode upstream: no traffic
# delay_ms = 300
# window = 200
# failures = {}                   # e.g. { 20 = 0.02 }: 2 % undeliverable
# serves_live_accounts = false    # true: live accounts too, charged, nothing sent (staging)
# reply_text = ""                 # set: every delivered message is answered with this text

[inbound]                         # incoming SMS (two-way messaging)
# reply_window_h = 72.0           # an SMS answers the newest message to its phone this recent
# part_timeout_s = 300            # a long message missing parts is kept with what came
# dedup_window_s = 600            # the same message delivered again within this is kept once
# stop_keywords = ["STOP", "СТОП", "ОТПИСКА", "UNSUBSCRIBE"]  # opt-out texts (per account too)

[web]                             # the cabinet at /
# session_secret = ""             # empty: random per start (sessions end at a restart)
# cookie_secure = false           # true behind a TLS-terminating proxy
# session_max_age_s = 43200
# default_language = "ru"        # "ru" or "en": when neither account nor browser chooses

[smpp_server]                     # the SMPP server clients bind to (tidings smpp-server)
# enabled = false                 # true: inside `tidings serve` too
# host = "127.0.0.1"
# port = 3700
# tls_port = 0                    # SMPP over TLS as well (e.g. 3443); 0 = none
# tls_cert_file = ""              # PEM certificate chain, for tls_port
# tls_key_file = ""               # and its key
# system_id = "Tidings"           # our name in bind_*_resp
# window = 100                    # submit_sm unanswered per bind; one more: ESME_RMSGQFUL
# throughput_per_account = 0.0    # submit_sm/s per account; beyond: ESME_RTHROTTLED; 0 = none
# idle_s = 120.0                  # a client silent this long is disconnected
# enquire_link_s = 60.0           # a quiet client is asked this often
# long_message_timeout_s = 30.0   # the parts of a long message must all come within this
# deliver_window = 50             # receipts (deliver_sm) unacknowledged per bind
# receipt_retry_s = 30            # an unacknowledged receipt is offered again after this
# receipt_poll_s = 0.5            # receipts due are looked for this often
# receipt_keep_min = 4320         # receipts nobody bound for are kept this long

[smtp_server]                     # sending by e-mail (tidings smtp-server)
# enabled = false                 # true: inside `tidings serve` too
# host = "127.0.0.1"
# port = 2525
# domain = "send.localhost"       # only mail to send@<domain> is taken (no open relay)
# max_message_bytes = 102400      # a larger mail is refused (552)
# timeout_s = 60.0                # a silent client is disconnected

# Upstreams: none by default. One block per SMSC or SMTP relay.
#
# [[smpp]]
# name = "main"
# host = "smpp.example.net"
# port = 2775
# system_id = "login"
# password = "secret"
# system_type = ""
# binds = 1                       # sessions (bind_transceiver)
# window = 50                     # submit_sm in flight per bind
# throughput_per_bind = 0.0       # submit_sm/s per bind; 0 = no cap
# long_mode = "udh"               # or "sar"
# prefixes = []                   # destinations it serves, e.g. ["7"]; none = every one
# enquire_link_s = 30.0
# response_timeout_s = 10.0
# bind_timeout_s = 10.0
# reconnect_min_s = 1.0
# reconnect_max_s = 60.0
# throttle_retries = 3
# throttle_pause_min_s = 0.2
# throttle_pause_max_s = 10.0
# source_ton = 5                  # unset: by the sender's kind
# source_npi = 0
# dest_ton = 1
# dest_npi = 1
# service_type = ""
# resp_id_format = "str"          # how the SMSC writes ids: "str", "hex" or "dec"
# receipt_id_format = "str"
# receipt_tz = "UTC"
# request_receipts = true
#
# [[smtp]]
# name = "relay"
# host = "127.0.0.1"
# port = 25
# username = "user"               # with password, or neither
# password = "secret"
# security = "none"               # "starttls" or "tls"
# pool_size = 4
# timeout_s = 30.0
# default_from = "noreply@localhost.localdomain"
# helo_name = "mail.example.net"
# ca_file = "/etc/ssl/private-ca.pem"
# max_messages_per_connection = 100
# template_cache_size = 64
# dkim_selector = "mail"          # DKIM: selector, domain and a key together
# dkim_domain = "example.net"
# dkim_private_key_path = "/etc/tidings/dkim.pem"
"""

"""The other doors SMS Center clients come in by (smsc-api.md §5.9–5.10): an SMPP server
(`smpp/`) and sending by e-mail (`smtp/`). Edges like the HTTP API: they parse their wire,
build the request send.php's handler would, and call the same domain services."""

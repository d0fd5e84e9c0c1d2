"""The operator's tools: metrics, health checks, `tidings doctor`."""

"""api/endpoints."""

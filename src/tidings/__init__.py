"""Tidings: a self-hostable bulk messaging centre speaking the SMS Center HTTP API."""

__version__ = "0.1.0"

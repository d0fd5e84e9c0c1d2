"""A person at the cabinet, played by httpx: one cookie jar, the page's CSRF token."""

from __future__ import annotations

import re
from typing import Any

import httpx

from tests.conftest import Server

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "the page has no CSRF field"
    return match.group(1)


class WebUser:
    def __init__(self, server: Server, ip: str) -> None:
        self.client = httpx.Client(base_url=server.url, timeout=30, headers={"X-Forwarded-For": ip})
        self.csrf = ""

    def close(self) -> None:
        self.client.close()

    def get(self, path: str, **params: Any) -> httpx.Response:
        response = self.client.get(path, params=params)
        if "csrf_token" in response.text:
            self.csrf = csrf_of(response.text)
        return response

    def post(
        self, path: str, data: dict[str, Any] | None = None, *, csrf: bool = True, **kwargs: Any
    ) -> httpx.Response:
        form = dict(data or {})
        if csrf:
            form["csrf_token"] = self.csrf
        return self.client.post(path, data=form, **kwargs)

    def sign_in(self, login: str, password: str) -> httpx.Response:
        self.get("/signin")
        response = self.post("/signin", {"login": login, "password": password})
        if response.status_code == 303:
            self.get("/lists")
        return response

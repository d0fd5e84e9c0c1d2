"""The cabinet's session: the signed-in account, the CSRF token and one-shot messages.

The session lives in a signed cookie (Starlette's SessionMiddleware: HttpOnly, SameSite=Lax)
that names a session kept on the server (domain/sessions.py): the cookie opens pages only
while that session lives, so signing out or a password change elsewhere ends it even for a
copy of the cookie. Every form POST must carry the session's CSRF token, in the
`csrf_token` field or, for htmx requests, the `X-CSRF-Token` header.
"""

from __future__ import annotations

import hmac
import secrets

from starlette.datastructures import FormData
from starlette.requests import Request

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


def csrf_valid(request: Request, form: FormData) -> bool:
    expected = request.session.get("csrf")
    given = form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER) or ""
    if not isinstance(expected, str) or not expected or not isinstance(given, str):
        return False
    return hmac.compare_digest(expected.encode(), given.encode())


def account_id(request: Request) -> int | None:
    value = request.session.get("account_id")
    return value if isinstance(value, int) else None


def token(request: Request) -> str:
    """The server-side session this cookie names ("" if none)."""
    value = request.session.get("sid")
    return value if isinstance(value, str) else ""


def sign_in(request: Request, account_id: int, session_token: str) -> None:
    """A fresh session for the account: a token seen before signing in is not reused."""
    request.session.clear()
    request.session["account_id"] = account_id
    request.session["sid"] = session_token
    request.session["csrf"] = secrets.token_urlsafe(32)


def sign_out(request: Request) -> None:
    request.session.clear()


def flash(request: Request, message: str) -> None:
    request.session["flash"] = message


def take_flash(request: Request) -> str:
    value = request.session.pop("flash", "")
    return value if isinstance(value, str) else ""

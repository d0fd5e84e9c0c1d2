"""Security of the web cabinet through the real server: the CSRF token on every form POST,
tenants kept apart, user text escaped."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.routing import Route

import tidings.web
from tests.conftest import Server
from tests.integration.web_support import WebUser
from tidings.app import build_services, open_store
from tidings.config import Settings
from tidings.domain.accounts import api_key_hash
from tidings.web.app import build_web_app


def _post_routes() -> list[str]:
    """Every form POST the cabinet serves, read from the app itself (a new one is covered
    without touching this test)."""
    settings = Settings(database_url="sqlite:///:memory:")
    store = open_store(settings, upgrade=False)
    try:
        app = build_web_app(build_services(settings, store), settings.web)
    finally:
        store.close()
    return sorted(
        {r.path for r in app.routes if isinstance(r, Route) and "POST" in (r.methods or ())}
    )


POST_ROUTES = _post_routes()


@pytest.fixture
def user(server: Server, ip: str) -> Iterator[WebUser]:
    web = WebUser(server, ip)
    yield web
    web.close()


def _make_list(user: WebUser, name: str, phones: str = "79161234567") -> int:
    user.get("/lists/new")
    form = {"name": name, "phones": phones, "mes": "Hello", "time": "", "rpt": "0"}
    response = user.post("/lists/new", form, headers={"HX-Request": "true"})
    assert response.status_code == 204, response.text
    match = re.fullmatch(r"/lists/(\d+)", response.headers["HX-Redirect"])
    assert match
    return int(match.group(1))


def test_every_form_post_is_listed() -> None:
    assert "/signin" in POST_ROUTES and "/lists/new" in POST_ROUTES
    assert "/account/keys/{key_id}/revoke" in POST_ROUTES


@pytest.mark.parametrize("path", POST_ROUTES)
@pytest.mark.parametrize("token", ["missing", "wrong"])
def test_a_post_without_the_csrf_token_is_refused_and_changes_nothing(
    server: Server, user: WebUser, path: str, token: str
) -> None:
    acc, psw = server.account()
    user.sign_in(acc.login, psw)
    job_id = _make_list(user, "Keep me")
    user.get("/account/keys")
    user.post("/account/keys")
    key_id = re.search(r"/account/keys/(\d+)/revoke", user.get("/account/keys").text)
    assert key_id
    user.get("/account/senders")
    user.post("/account/senders", {"sender": "Shop"})
    sender = user.get("/account/senders")
    sender_id = re.search(r"/account/senders/(\d+)/delete", sender.text)
    assert sender_id
    ids = {"job_id": str(job_id), "key_id": key_id.group(1), "sender_id": sender_id.group(1)}
    # Records of other pages' routes need not exist: the token is checked before anything.
    url = re.sub(r"\{(\w+)\}", lambda m: ids.get(m.group(1), "1"), path)
    form = {
        "login": acc.login,
        "password": psw,
        "name": "Sneaky",
        "phones": "79161234567",
        "mes": "Hi",
        "sender": "Other",
        "cidr": "203.0.113.0/24",
        "url": "https://evil.example/cb",
    }
    if token == "wrong":
        form["csrf_token"] = "x" * 43
        response = user.client.post(url, data=form, headers={"X-CSRF-Token": "y" * 43})
    else:
        response = user.post(url, form, csrf=False)
    assert response.status_code == 403
    assert "The form has expired" in response.text
    # Nothing changed: still signed in, the list, key, sender and settings as they were.
    page = user.get(f"/lists/{job_id}")
    assert page.status_code == 200
    assert 'id="job-status">waiting<' in page.text
    assert "Sneaky" not in user.get("/lists").text
    keys = user.get("/account/keys").text
    assert keys.count(">active<") == 1
    assert "waiting for approval" in user.get("/account/senders").text
    assert "Other" not in user.get("/account/senders").text
    assert server.store.allowed_ips(acc.id) == []
    assert "evil.example" not in user.get("/account/callback").text


def test_htmx_requests_carry_the_token_in_a_header(server: Server, user: WebUser) -> None:
    acc, psw = server.account()
    user.sign_in(acc.login, psw)
    form = {"name": "X", "phones": "79161234567", "mes": "Hi"}
    ok = user.client.post("/lists/preview", data=form, headers={"X-CSRF-Token": user.csrf})
    assert ok.status_code == 200 and "Cost of one run" in ok.text


def test_another_accounts_list_is_not_found(server: Server, ip: str) -> None:
    owner_acc, owner_psw = server.account()
    owner = WebUser(server, ip)
    owner.sign_in(owner_acc.login, owner_psw)
    job_id = _make_list(owner, "Private")
    intruder_acc, intruder_psw = server.account()
    intruder = WebUser(server, ip)
    intruder.sign_in(intruder_acc.login, intruder_psw)
    assert intruder.get(f"/lists/{job_id}").status_code == 404
    assert intruder.get(f"/lists/{job_id}/progress").status_code == 404
    assert intruder.get(f"/lists/{job_id}/recipients.csv").status_code == 404
    assert intruder.post(f"/lists/{job_id}/cancel").status_code == 404
    assert intruder.post(f"/lists/{job_id}/delete").status_code == 404
    assert "Private" not in intruder.get("/lists").text
    # The owner's list is untouched.
    assert 'id="job-status">waiting<' in owner.get(f"/lists/{job_id}").text
    owner.close()
    intruder.close()


def test_another_accounts_api_key_cannot_be_revoked(server: Server, ip: str) -> None:
    owner_acc, _ = server.account()
    server.store.add_api_key(owner_acc.id, api_key_hash("tk_owner"), "tk_owne", server.clock.now())
    with server.store.db.tx(write=False) as tx:
        row = tx.one("SELECT id FROM api_keys WHERE account_id = ?", (owner_acc.id,))
    assert row is not None
    intruder_acc, intruder_psw = server.account()
    intruder = WebUser(server, ip)
    intruder.sign_in(intruder_acc.login, intruder_psw)
    intruder.get("/account/keys")
    assert intruder.post(f"/account/keys/{row[0]}/revoke").status_code == 404
    assert server.jobs(ip, apikey="tk_owner", get_all=1) == "NO JOBS"
    intruder.close()


def test_script_in_a_list_name_renders_as_text(server: Server, user: WebUser) -> None:
    acc, psw = server.account()
    user.sign_in(acc.login, psw)
    name = '<script>alert("x")</script> Рассылка'
    job_id = _make_list(user, name)
    for page in (user.get("/lists").text, user.get(f"/lists/{job_id}").text):
        assert "<script>alert" not in page
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; Рассылка" in page


def test_pages_forbid_framing_and_foreign_scripts(server: Server, user: WebUser) -> None:
    response = user.get("/signin")
    csp = response.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    script_src = next(d for d in csp.split(";") if d.strip().startswith("script-src"))
    assert script_src.split() == ["script-src", "'self'"]  # no inline script runs


def test_templates_hold_no_inline_script() -> None:
    """What the policy forbids must not be needed: no handler attributes, no inline <script>."""
    templates = Path(tidings.web.__file__).parent / "templates"
    pages = sorted(templates.rglob("*.html"))
    assert pages
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert not re.search(r"\son[a-z]+\s*=", text), page.name
        assert not re.search(r"<script(?![^>]*\bsrc=)", text), page.name

"""The cabinet's pages do what a person expects, through the real server: creating a list
with its cost preview, cancelling and deleting, the list page, and the account pages."""

from __future__ import annotations

import codecs
import csv
import io
import re
import time
from collections.abc import Iterator

import pytest

from tests.conftest import Server
from tests.integration.web_support import WebUser
from tidings.domain.contacts import GroupType, NewContact
from tidings.domain.job_request import new_job
from tidings.domain.jobs import JobService
from tidings.domain.money import to_minor
from tidings.store.contacts import ContactStore

TEXT = "Здравствуйте! Скидка 20% на всё до воскресенья. " * 2


@pytest.fixture
def user(server: Server, ip: str) -> Iterator[WebUser]:
    web = WebUser(server, ip)
    yield web
    web.close()


def _create(user: WebUser, **form: str) -> int:
    user.get("/lists/new")
    response = user.post("/lists/new", form, headers={"HX-Request": "true"})
    assert response.status_code == 204, response.text
    return int(response.headers["HX-Redirect"].rsplit("/", 1)[1])


def test_cost_preview_matches_jobs_php_cost(server: Server, user: WebUser, ip: str) -> None:
    acc, psw = server.account()
    user.sign_in(acc.login, psw)
    form = {"name": "Акция", "phones": "79161234567\n77011234567, 375291234567", "mes": TEXT}
    user.get("/lists/new")
    preview = user.post("/lists/preview", form, headers={"HX-Request": "true"}).text
    assert "3</dd>" in preview  # recipients
    assert "96 characters · UCS-2 · 2 SMS parts" in preview
    cost = re.search(r'id="cost">([\d.]+) RUB<', preview)
    assert cost
    # Nothing is created by a preview.
    assert "No mailing lists yet" in user.get("/lists").text
    api = server.jobs(
        ip,
        login=acc.login,
        psw=psw,
        add=1,
        cost=1,
        fmt=3,
        charset="utf-8",
        name=form["name"],
        phones=form["phones"],
        mes=TEXT,
    )
    assert f'"cost": "{cost.group(1)}"' in api
    # 2 parts × (1.80 RU + 3.50 KZ + 4.00 BY) with the default tariff.
    assert cost.group(1) == "18.60"


def test_a_test_mode_accounts_costs_say_they_are_not_charged(
    server: Server, user: WebUser, ip: str
) -> None:
    form = {"name": "Trial", "phones": "79161234567", "mes": "Hello"}
    for test_mode in (True, False):
        acc, psw = server.account(test_mode=test_mode)
        web = user if test_mode else WebUser(server, ip)
        web.sign_in(acc.login, psw)
        preview = web.post("/lists/preview", form, headers={"HX-Request": "true"}).text
        assert re.search(r'id="cost">[\d.]+ RUB<', preview)
        assert ("test mode: not charged" in preview) is test_mode
        job_id = _create(web, **form)
        assert ("test mode: not charged" in web.get(f"/lists/{job_id}").text) is test_mode
        if web is not user:
            web.close()


def test_the_preview_names_every_number_it_leaves_out(server: Server, user: WebUser) -> None:
    acc, psw = server.account()
    user.sign_in(acc.login, psw)
    phones = "79161234567, 12, 79161234568, not-a-phone"
    form = {"name": "Six", "phones": phones, "mes": "Hello"}
    preview = user.post("/lists/preview", form, headers={"HX-Request": "true"}).text
    assert "<dt>Recipients</dt><dd>2</dd>" in preview
    refused = re.search(r'id="refused">([^<]*)<', preview)
    assert refused and refused.group(1) == "2 not a phone number: 12, not-a-phone"


def test_preview_reports_what_is_wrong(server: Server, user: WebUser) -> None:
    acc, psw = server.account()
    user.sign_in(acc.login, psw)
    user.get("/lists/new")
    bad = user.post("/lists/preview", {"name": "X", "phones": "12", "mes": "Hi"}).text
    assert 'class="error"' in bad and "phones: no valid recipient" in bad
    bad = user.post(
        "/lists/preview", {"name": "X", "phones": "79161234567", "mes": "Hi", "period": "9999"}
    ).text
    assert "period must be 0.1-720 hours" in bad


def test_create_shows_the_list_with_cyrillic_text(server: Server, user: WebUser) -> None:
    acc, psw = server.account()
    user.sign_in(acc.login, psw)
    job_id = _create(user, name="Акция «Весна»", phones="79161234567", mes=TEXT, rpt="2")
    page = user.get(f"/lists/{job_id}").text
    assert "Акция «Весна»" in page and TEXT.strip() in page
    assert "every day" in page
    row = re.search(rf'<tr id="list-{job_id}" data-status="(\w+)"', user.get("/lists").text)
    assert row and row.group(1) == "waiting"


def test_cancel_then_delete(server: Server, user: WebUser) -> None:
    acc, psw = server.account()
    user.sign_in(acc.login, psw)
    job_id = _create(user, name="Soon", phones="79161234567", mes="Hi", time="+60")
    assert f"/lists/{job_id}/cancel" in user.get(f"/lists/{job_id}/progress").text
    assert user.post(f"/lists/{job_id}/cancel").status_code == 303
    page = user.get(f"/lists/{job_id}").text
    assert 'id="job-status">disabled<' in page and "cancelled" in page
    # Cancelled again (a page shown before it ended): back to its page, saying why.
    again = user.post(f"/lists/{job_id}/cancel")
    assert again.status_code == 303
    assert "has already ended: nothing to cancel" in user.get(f"/lists/{job_id}").text
    assert user.post(f"/lists/{job_id}/delete").status_code == 303
    assert user.get(f"/lists/{job_id}").status_code == 404
    assert "Soon" not in user.get("/lists").text


def test_list_page_of_a_finished_list(live: Server, ip: str) -> None:
    acc, psw = live.account()
    user = WebUser(live, ip)
    user.sign_in(acc.login, psw)
    phones = "79161234567, 79161234568, 79261234569"
    job_id = _create(user, name="Done", phones=phones, mes="Hello")
    deadline = time.monotonic() + 20
    while 'id="job-status">finished<' not in user.get(f"/lists/{job_id}/progress").text:
        assert time.monotonic() < deadline, "the list did not finish"
        time.sleep(0.2)
    while "delivered 3" not in (page := user.get(f"/lists/{job_id}").text):
        assert time.monotonic() < deadline, "not every message was delivered"
        time.sleep(0.2)
    assert 'aria-valuenow="100"' in page and "3 delivered" in page  # bar and chart
    # The fragment the page refreshes carries every part that changed while it sent: the
    # chart, the cost, the last send — and no Cancel once the list has ended.
    live = user.get(f"/lists/{job_id}/progress").text
    assert "3 delivered" in live and "No deliveries yet" not in live
    assert re.search(r'id="cost-so-far">[\d.]+ RUB', live)
    assert re.search(r'id="last-sent">\d', live)
    assert f"/lists/{job_id}/cancel" not in live and f"/lists/{job_id}/cancel" not in page
    searched = user.get(f"/lists/{job_id}", q="7926").text
    assert "79261234569" in searched and "79161234567" not in searched
    export = user.get(f"/lists/{job_id}/recipients.csv")
    assert export.headers["content-type"].startswith("text/csv")
    assert export.content.startswith(codecs.BOM_UTF8), "Excel reads a CSV without a BOM as ANSI"
    rows = list(csv.DictReader(io.StringIO(export.content.decode("utf-8-sig"))))
    assert sorted(r["phone"] for r in rows) == ["79161234567", "79161234568", "79261234569"]
    assert {r["status_name"] for r in rows} == {"delivered"}
    user.close()


def test_api_key_is_shown_once_and_revoked(server: Server, user: WebUser, ip: str) -> None:
    acc, psw = server.account()
    user.sign_in(acc.login, psw)
    user.get("/account/keys")
    created = user.post("/account/keys").text
    key = re.search(r'class="secret">(tk_[\w-]+)<', created)
    assert key
    assert server.jobs(ip, apikey=key.group(1), get_all=1) == "NO JOBS"
    listing = user.get("/account/keys").text
    assert key.group(1) not in listing and f"{key.group(1)[:8]}…" in listing
    key_id = re.search(r"/account/keys/(\d+)/revoke", listing)
    assert key_id
    assert user.post(f"/account/keys/{key_id.group(1)}/revoke").status_code == 303
    assert "revoked" in user.get("/account/keys").text
    assert server.jobs(ip, apikey=key.group(1), get_all=1) == "ERROR = 2 (authorise error)"


def test_allowed_ips(server: Server, user: WebUser) -> None:
    acc, psw = server.account()
    user.sign_in(acc.login, psw)
    user.get("/account/ips")
    assert "not an IP address" in user.post("/account/ips", {"cidr": "nope"}).text
    assert user.post("/account/ips", {"cidr": "203.0.113.9/24"}).status_code == 303
    assert "203.0.113.0/24" in user.get("/account/ips").text
    assert server.store.allowed_ips(acc.id) == ["203.0.113.0/24"]
    assert user.post("/account/ips/delete", {"cidr": "203.0.113.0/24"}).status_code == 303
    assert server.store.allowed_ips(acc.id) == []


def test_callback_url(server: Server, user: WebUser) -> None:
    acc, psw = server.account()
    user.sign_in(acc.login, psw)
    user.get("/account/callback")
    assert "http:// or https://" in user.post("/account/callback", {"url": "ftp://x"}).text
    saved = user.post("/account/callback", {"url": "https://hooks.example/sms"}).text
    assert re.search(r'class="secret">[0-9a-f]{64}<', saved)
    page = user.get("/account/callback").text
    assert "https://hooks.example/sms" in page and 'class="secret"' not in page
    user.post("/account/callback", {"url": ""})
    assert "switched off" in user.get("/account/callback").text


def test_forwarding_incoming_sms_switched_on_and_off(server: Server, user: WebUser) -> None:
    acc, psw = server.account()
    user.sign_in(acc.login, psw)
    assert "not forwarded" in user.get("/account/callback").text
    assert user.post("/account/callback/inbound", {"forward": "1"}).status_code == 303
    page = user.get("/account/callback").text
    assert "forwarded to the URL above" in page and "no URL set" in page
    with server.store.db.tx(write=False) as tx:
        assert tx.one("SELECT forward_inbound FROM accounts WHERE id = ?", (acc.id,)) == (True,)
    assert user.post("/account/callback/inbound", {}).status_code == 303
    assert "not forwarded" in user.get("/account/callback").text


def test_callback_url_inside_the_network_is_refused(server: Server, user: WebUser) -> None:
    acc, psw = server.account()
    user.sign_in(acc.login, psw)
    user.get("/account/callback")
    for url in ["http://127.0.0.1:5432/", "http://[::1]/", "http://0x7f.1/", "http://10.0.0.7/"]:
        page = user.post("/account/callback", {"url": url}).text
        assert "is not allowed" in page and 'class="secret"' not in page, url
    assert "switched off" in user.get("/account/callback").text


def test_senders(server: Server, user: WebUser) -> None:
    acc, psw = server.account()
    user.sign_in(acc.login, psw)
    user.get("/account/senders")
    assert "up to 11 Latin letters" in user.post("/account/senders", {"sender": "Магазин"}).text
    assert user.post("/account/senders", {"sender": "Shop"}).status_code == 303
    page = user.get("/account/senders").text
    assert "Shop" in page and "waiting for approval" in page
    sender_id = re.search(r"/account/senders/(\d+)/delete", page)
    assert sender_id
    assert user.post(f"/account/senders/{sender_id.group(1)}/delete").status_code == 303
    assert "No sender names yet" in user.get("/account/senders").text


def test_balance_and_ledger(server: Server, user: WebUser) -> None:
    acc, psw = server.account(balance="12.50")
    server.store.add_ledger_entry(
        acc.id, to_minor("-0.30"), "charge", "Пробный", server.clock.now()
    )
    user.sign_in(acc.login, psw)
    page = user.get("/account/balance").text
    assert "12.20 RUB" in page
    assert "-0.30" in page and "Пробный" in page and "12.50" in page


def test_recipients_from_groups(server: Server, user: WebUser) -> None:
    acc, psw = server.account()
    contacts = ContactStore(server.store.db)
    group = contacts.add_group(acc.id, "Клиенты", None, GroupType.PHONE, server.clock.now())
    contacts.add_contacts(
        acc.id, [NewContact("79161234567", None, "Анна")], [group], server.clock.now()
    )
    num = contacts.list_groups(acc.id)[0].num
    user.sign_in(acc.login, psw)
    form_page = user.get("/lists/new").text
    assert f'<option value="{num}">Клиенты (G{num}, 1)</option>' in form_page
    form = {"name": "To the group", "phones": "", "mes": "Hi", "groups": str(num)}
    preview = user.post("/lists/preview", form).text
    assert f"group G{num} (priced when the run starts)" in preview
    job_id = _create(user, **form)
    page = user.get(f"/lists/{job_id}").text
    assert "To the group" in page
    assert server.store.job_recipients(acc.id, job_id) == [(None, num, None)]


def test_lists_table_in_pages_of_fifty(server: Server, user: WebUser) -> None:
    acc, psw = server.account()
    jobs = JobService(server.store)
    for n in range(51):
        params = {"name": f"List {n}", "phones": "79161234567", "mes": "Hi"}
        jobs.create(
            acc, new_job(params, acc, server.clock.now()), server.clock.now(), with_cost=False
        )
    user.sign_in(acc.login, psw)
    first = user.get("/lists").text
    assert first.count('<tr id="list-') == 50
    assert "List 50" in first and ">List 0<" not in first
    assert 'href="/lists?offset=50"' in first
    second = user.get("/lists", offset=50).text
    assert second.count('<tr id="list-') == 1 and ">List 0<" in second
    # The polled fragment keeps its page.
    assert 'hx-get="/lists/rows?offset=50"' in second


def test_an_unknown_address_gets_the_cabinets_own_404_page(server: Server, user: WebUser) -> None:
    for who in (server.client, user.client):
        page = who.get("/no/such/page")
        assert page.status_code == 404
        assert page.headers["content-type"].startswith("text/html")
        assert "There is no such page." in page.text and "/static/cabinet.css" in page.text
    # The API's paths keep the API's own answers (HTTP 200, an error in the body).
    api = server.client.get("/sys/nosuch.php")
    assert api.status_code == 200 and api.text.startswith("ERROR = ")

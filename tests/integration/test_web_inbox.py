"""The cabinet's inbox, a list's replies and opt-outs, and the stop keywords, through the real
server (SQLite and PostgreSQL): paged, searchable in any alphabet, and scoped to the
signed-in account — another account's messages and lists never show."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator

import pytest

from tests.conftest import Server
from tests.integration.engine_support import create_list
from tests.integration.web_support import WebUser
from tidings.channels.base import InboundPart
from tidings.config import InboundSettings
from tidings.dispatch.db_calls import DbCalls
from tidings.dispatch.inbound import InboundRecorder
from tidings.domain.accounts import Account
from tidings.domain.clock import to_ts
from tidings.domain.inbound import InboundService
from tidings.store.inbound_reads import InboundQueries


def _number() -> str:
    return f"7900{secrets.randbelow(10**7):07d}"


def _phone() -> str:
    return f"7916{secrets.randbelow(10**7):07d}"


def receive(server: Server, *messages: tuple[str, str, str]) -> None:
    db = server.store.db
    recorder = InboundRecorder(db, server.clock, DbCalls(db), InboundSettings())
    recorder.record([InboundPart("sim", s, d, t, secrets.token_hex(8)) for s, d, t in messages])


@pytest.fixture
def signed_in(server: Server, ip: str) -> Iterator[tuple[WebUser, Account, str]]:
    acc, psw = server.account()
    number = _number()
    InboundService(InboundQueries(server.store.db)).assign(number, acc, server.clock.now())
    web = WebUser(server, ip)
    assert web.sign_in(acc.login, psw).status_code == 303
    yield web, acc, number
    web.close()


def test_inbox_is_paged_newest_first_and_searchable(
    server: Server, signed_in: tuple[WebUser, Account, str]
) -> None:
    user, _acc, number = signed_in
    phones = [_phone() for _ in range(55)]
    receive(server, *[(p, number, f"Сообщение номер {i}") for i, p in enumerate(phones)])
    receive(server, (phones[0], number, "ПРИВЕТ <b>мир</b>"))
    page = user.get("/inbox").text
    rows = re.findall(r'<tr id="inbound-(\d+)">', page)
    assert len(rows) == 50 and rows == sorted(rows, key=int, reverse=True)
    assert "ПРИВЕТ &lt;b&gt;мир&lt;/b&gt;" in page and "<b>мир</b>" not in page
    older = re.search(r'href="/inbox\?before=(\d+)&amp;q="', page)
    assert older is not None
    rest = re.findall(r'<tr id="inbound-(\d+)">', user.get("/inbox", before=older.group(1)).text)
    assert len(rest) == 6 and not set(rest) & set(rows)
    # Case folds in every alphabet; a phone matches with or without its +.
    found = user.get("/inbox", q="привет").text
    assert re.findall(r'<tr id="inbound-', found) == ['<tr id="inbound-']
    by_phone = re.findall(
        r'<td class="phone">(\d+)</td>', user.get("/inbox", q="+" + phones[7]).text
    )
    assert by_phone == [phones[7]]
    assert "No message matches" in user.get("/inbox", q="nothing like it").text


def test_another_account_sees_none_of_it(
    server: Server, signed_in: tuple[WebUser, Account, str], ip: str
) -> None:
    user, acc, number = signed_in
    secret_text = f"only for {acc.login}"
    receive(server, (_phone(), number, secret_text))
    job_id = create_list(server.store, acc, _phone(), server.clock.now())
    assert secret_text in user.get("/inbox").text
    other, psw = server.account()
    stranger = WebUser(server, ip.replace("2001:db8::", "2001:db8:3::"))
    try:
        assert stranger.sign_in(other.login, psw).status_code == 303
        assert secret_text not in stranger.get("/inbox").text
        assert secret_text not in stranger.get("/inbox", q="only for").text
        # A list number of A's is no page for B (B has no list of that number).
        assert stranger.get(f"/lists/{job_id}").status_code == 404
    finally:
        stranger.close()


def test_a_lists_page_shows_its_replies_and_opt_outs(
    server: Server, signed_in: tuple[WebUser, Account, str]
) -> None:
    user, acc, _ = signed_in
    quitter, fan = _phone(), _phone()
    job_id = create_list(server.store, acc, f"{quitter},{fan}", server.clock.now(), sender="Shop")
    now = to_ts(server.clock.now())
    with server.store.db.tx() as tx:
        row = tx.one("SELECT id FROM jobs WHERE account_id = ? AND job_id = ?", (acc.id, job_id))
        assert row is not None
        for phone in (quitter, fan):
            tx.execute(
                "INSERT INTO messages (account_id, job_pk, address, text, sender, status, err, "
                "cost_minor, parts, due_at, created_at, sent_at) "
                "VALUES (?, ?, ?, 'Sale', 'Shop', 1, 0, 180, 1, ?, ?, ?)",
                (acc.id, row[0], phone, now, now, now),
            )
    receive(server, (quitter, "Shop", " Стоп "), (fan, "Shop", "Спасибо!"))
    page = user.get(f"/lists/{job_id}").text
    replies = page[page.index('<table class="replies">') : page.index('<table class="opt-outs">')]
    opt_outs = page[page.index('<table class="opt-outs">') : page.index('class="recipients"')]
    assert quitter in replies and fan in replies and "Спасибо!" in replies
    assert quitter in opt_outs and fan not in opt_outs
    black = user.get("/blacklist").text
    assert quitter in black and fan not in black


def test_stop_keywords_edited_in_the_cabinet_apply_to_the_next_message(
    server: Server, signed_in: tuple[WebUser, Account, str]
) -> None:
    user, acc, number = signed_in
    page = user.get("/account/stop-keywords").text
    assert "the defaults" in page and "stop, стоп, отписка, unsubscribe" in page
    saved = user.post("/account/stop-keywords", {"keywords": "Хватит\n  halt  now, ХВАТИТ"})
    assert saved.status_code == 303
    page = user.get("/account/stop-keywords").text
    assert "your own" in page and "хватит, halt now" in page
    too_long = user.post("/account/stop-keywords", {"keywords": "x" * 41})
    assert too_long.status_code == 400 and "at most 40 characters" in too_long.text
    still, gone = _phone(), _phone()
    receive(server, (still, number, "STOP"), (gone, number, "HALT NOW"))
    with server.store.db.tx(write=False) as tx:
        listed = {
            r[0] for r in tx.all("SELECT address FROM blacklist WHERE account_id = ?", (acc.id,))
        }
    assert listed == {gone}
    assert user.post("/account/stop-keywords", {"keywords": " "}).status_code == 303
    assert "the defaults" in user.get("/account/stop-keywords").text


def test_the_stop_confirmation_is_off_by_default_and_set_in_the_cabinet(
    server: Server, signed_in: tuple[WebUser, Account, str]
) -> None:
    user, acc, _ = signed_in
    service = InboundService(InboundQueries(server.store.db))
    assert service.stop_reply(acc) == ""
    page = user.get("/account/stop-keywords").text
    assert 'name="reply" rows="3" maxlength="1000"></textarea>' in page
    assert user.post("/account/stop-reply", {"reply": " Вы отписаны "}).status_code == 303
    assert service.stop_reply(acc) == "Вы отписаны"
    assert "Вы отписаны</textarea>" in user.get("/account/stop-keywords").text
    too_long = user.post("/account/stop-reply", {"reply": "я" * 1001})
    assert too_long.status_code == 400 and "at most 1000 characters" in too_long.text
    assert user.post("/account/stop-reply", {"reply": ""}).status_code == 303
    assert service.stop_reply(acc) == ""

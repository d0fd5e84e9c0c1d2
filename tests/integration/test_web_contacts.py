"""The cabinet's contacts, groups, CSV import/export and blacklist, through the real server:
what a signed-in person sees, CSRF on every form, another account's records answering 404,
user text always escaped."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import Server
from tests.integration.web_support import WebUser
from tidings.domain.contacts import ContactKeys, GroupType, MoveMode, NewContact
from tidings.store.contacts import ContactStore


class User(WebUser):
    """A person signed in to an account of their own."""

    account_id: int


@pytest.fixture
def user(server: Server, ip: str) -> Iterator[User]:
    acc, psw = server.account()
    web = User(server, ip)
    assert web.sign_in(acc.login, psw).status_code == 303
    web.account_id = acc.id
    yield web
    web.close()


@pytest.fixture
def book(server: Server) -> ContactStore:
    """The contact store behind the server, to arrange and check what the pages did."""
    return ContactStore(server.store.db)


def _contact(server: Server, account_id: int, phone: str, name: str = "") -> int:
    [cid] = ContactStore(server.store.db).add_contacts(
        account_id, [NewContact(phone, None, name)], [], server.clock.now()
    )
    return cid


def _group(server: Server, account_id: int, name: str, num: int | None = None) -> int:
    return ContactStore(server.store.db).add_group(
        account_id, name, num, GroupType.PHONE, server.clock.now()
    )


def test_add_search_edit_and_delete_a_contact(
    server: Server, user: User, book: ContactStore
) -> None:
    page = user.get("/contacts")
    assert page.status_code == 200 and "No contacts yet" in page.text
    added = user.post("/contacts", {"phone": "+7 916 123-45-67", "name": "Иван Петров"})
    assert added.status_code == 303
    page = user.get("/contacts")
    assert "79161234567" in page.text and "Иван Петров" in page.text
    assert "1 contact added" in page.text

    assert "Иван Петров" in user.get("/contacts", q="иван").text
    assert "No contact matches." in user.get("/contacts", q="сидоров").text

    [cid] = [c.id for c in book.list_contacts(user.account_id, [], 0, 10, None)]
    detail = user.get(f"/contacts/{cid}")
    assert detail.status_code == 200 and 'value="Иван Петров"' in detail.text
    saved = user.post(
        f"/contacts/{cid}", {"phone": "", "email": "ivan@example.com", "name": "Иван"}
    )
    assert saved.status_code == 303
    view = book.contact(user.account_id, cid)
    assert (view.phone, view.email, view.name) == ("79161234567", "ivan@example.com", "Иван")

    assert user.post(f"/contacts/{cid}/delete").status_code == 303
    assert user.get(f"/contacts/{cid}").status_code == 404


def test_a_bad_phone_is_shown_with_the_form_kept(user: User) -> None:
    response = user.post("/contacts", {"phone": "12", "name": "Кто-то"})
    assert response.status_code == 400
    assert "not a phone number" in response.text
    assert 'value="Кто-то"' in response.text


def test_script_in_a_contact_name_renders_as_text(server: Server, user: User) -> None:
    evil = '<script>alert("x")</script>'
    cid = _contact(server, user.account_id, "79160000001", evil)
    group = _group(server, user.account_id, evil)
    for path in ("/contacts", f"/contacts/{cid}", "/groups", f"/groups/{group}"):
        text = user.get(path).text
        assert "<script>alert" not in text, path
        assert "&lt;script&gt;alert(" in text, path


def test_paging_goes_through_every_contact(server: Server, user: User, book: ContactStore) -> None:
    ids = book.add_contacts(
        user.account_id,
        [NewContact(f"7916555{i:04d}", None, f"n{i}") for i in range(120)],
        [],
        server.clock.now(),
    )
    seen: list[str] = []
    path, params = "/contacts", {}
    for _ in range(5):
        text = user.get(path, **params).text
        seen += [i for i in range(120) if f">n{i}<" in text]
        if "next page" not in text:
            break
        after = text.split("/contacts?after=")[1].split("&")[0]
        params = {"after": after}
    assert sorted(seen) == list(range(120))
    assert len(ids) == 120


def test_groups_and_their_members(server: Server, user: User, book: ContactStore) -> None:
    a = _contact(server, user.account_id, "79161110001", "Анна")
    b = _contact(server, user.account_id, "79161110002", "Борис")
    assert user.post("/groups", {"name": "Клиенты", "num": "", "type": "0"}).status_code == 303
    [group] = book.list_groups(user.account_id)
    assert "Клиенты" in user.get("/groups").text

    assert (
        user.post(f"/groups/{group.id}/members", {"phones": "79161110001\n79161110002"}).status_code
        == 303
    )
    page = user.get(f"/groups/{group.id}")
    assert "Анна" in page.text and "Борис" in page.text and "2 members" in page.text
    missing = user.post(f"/groups/{group.id}/members", {"phones": "79169999999"})
    assert missing.status_code == 400 and "no contact has one of these numbers" in missing.text

    assert user.post(f"/groups/{group.id}/members/{a}/remove").status_code == 303
    assert ">Анна<" not in user.get(f"/groups/{group.id}").text
    assert user.post(f"/contacts/{b}/groups", {"leave": str(group.id)}).status_code == 303
    assert user.post(f"/contacts/{a}/groups", {"group": str(group.id)}).status_code == 303
    assert book.contact(user.account_id, a).group_ids == (group.id,)

    assert user.post(f"/groups/{group.id}", {"name": "VIP", "num": "7"}).status_code == 303
    assert "G7" in user.get("/groups").text
    assert "Contacts" in user.get("/contacts", group=str(group.id)).text
    assert user.post(f"/groups/{group.id}/delete").status_code == 303
    assert user.get(f"/groups/{group.id}").status_code == 404
    assert book.contact(user.account_id, a) is not None


def test_another_accounts_contact_and_group_are_not_found(
    server: Server, user: User, book: ContactStore
) -> None:
    other, _ = server.account()
    cid = _contact(server, other.id, "79162220001", "Чужой")
    gid = _group(server, other.id, "Чужая")
    for path in (f"/contacts/{cid}", f"/groups/{gid}", "/contacts/999999999"):
        assert user.get(path).status_code == 404, path
    assert user.get("/contacts", group=str(gid)).status_code == 404
    assert user.get("/contacts/export.csv", group=str(gid)).status_code == 404
    for path, data in (
        (f"/contacts/{cid}", {"name": "x"}),
        (f"/contacts/{cid}/delete", {}),
        (f"/contacts/{cid}/groups", {"group": str(gid)}),
        (f"/groups/{gid}", {"name": "x"}),
        (f"/groups/{gid}/delete", {}),
        (f"/groups/{gid}/members", {"phones": "79162220001"}),
        (f"/groups/{gid}/members/{cid}/remove", {}),
    ):
        assert user.post(path, data).status_code == 404, path
    view = book.contact(other.id, cid)
    assert view is not None and view.name == "Чужой"
    assert book.group(other.id, gid) is not None


POST_ROUTES = [
    "/contacts",
    "/contacts/1",
    "/contacts/1/delete",
    "/contacts/1/groups",
    "/contacts/import",
    "/groups",
    "/groups/1",
    "/groups/1/delete",
    "/groups/1/members",
    "/groups/1/members/1/remove",
    "/blacklist",
    "/blacklist/delete",
]


@pytest.mark.parametrize("path", POST_ROUTES)
def test_every_form_post_needs_the_csrf_token(user: User, path: str) -> None:
    response = user.post(path, {"name": "x", "phone": "79160000000"}, csrf=False)
    assert response.status_code == 403
    wrong = user.client.post(path, data={"csrf_token": "forged", "name": "x"})
    assert wrong.status_code == 403


def test_export_is_csv_in_the_import_format(server: Server, user: User, book: ContactStore) -> None:
    a = _contact(server, user.account_id, "79163330001", 'Ёлка, "ель"')
    _contact(server, user.account_id, "79163330002", "=1+2")
    g1 = _group(server, user.account_id, "A", 5)
    g2 = _group(server, user.account_id, "B", 9)
    book.move(user.account_id, ContactKeys(ids=(a,)), [g1, g2], MoveMode.ADD)
    response = user.get("/contacts/export.csv")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    assert response.content.startswith(b"\xef\xbb\xbf")
    lines = response.content.decode("utf-8-sig").splitlines()
    assert lines == [
        "phone,name,email,group",
        '79163330001,"Ёлка, ""ель""",,5',
        '79163330001,"Ёлка, ""ель""",,9',
        "79163330002,'=1+2,,",
    ]
    only = user.get("/contacts/export.csv", group=str(g2)).content.decode("utf-8-sig")
    # The members of one group, each with every group it is in.
    assert only.splitlines()[1:] == lines[1:3]


def _finish(user: User, location: str) -> str:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        part = user.get(f"{location}/progress")
        assert part.status_code == 200
        if 'data-done="yes"' in part.text:
            return part.text
        time.sleep(0.1)
    raise AssertionError("the import did not finish")


def test_import_reports_rejected_rows_with_line_numbers(
    server: Server, user: User, book: ContactStore
) -> None:
    group = _group(server, user.account_id, "Импорт", 3)
    csv_text = (
        "телефон;имя;email\n"
        "+7 916 444-00-01;Алла;alla@example.com\n"
        "не номер;Плохой;\n"
        "79164440002;<b>Вера</b>;\n"
    )
    user.get("/contacts/import")
    started = user.client.post(
        "/contacts/import",
        data={"csrf_token": user.csrf, "groups": str(group)},
        files={"file": ("contacts.csv", csv_text.encode("cp1251"), "text/csv")},
    )
    assert started.status_code == 303
    location = started.headers["location"]
    assert location.startswith("/contacts/import/")
    report = _finish(user, location)
    assert 'aria-valuenow="100"' in report
    assert '<b id="import-added">2</b>' in report and '<b id="import-rejected">1</b>' in report
    assert '<td class="line">3</td>' in report and "not a phone number: не номер" in report
    page = user.get(location)
    assert page.status_code == 200 and "contacts.csv" in page.text
    names = {c.name for c in book.list_contacts(user.account_id, [group], 0, 10, None)}
    assert names == {"Алла", "<b>Вера</b>"}
    assert "&lt;b&gt;Вера&lt;/b&gt;" in user.get("/contacts").text

    # Another account cannot watch it.
    other, psw = server.account()
    stranger = WebUser(server, "2001:db8:ffff::1")
    stranger.sign_in(other.login, psw)
    assert stranger.get(location).status_code == 404
    assert stranger.get(f"{location}/progress").status_code == 404
    stranger.close()


def test_import_without_a_file_is_refused(user: User) -> None:
    user.get("/contacts/import")
    response = user.client.post(
        "/contacts/import",
        data={"csrf_token": user.csrf},
        files={"file": ("", b"", "text/csv")},
    )
    assert response.status_code == 400 and "Choose a CSV file" in response.text
    assert user.get("/contacts/import/nosuchimport").status_code == 404


def test_blacklist_add_list_and_remove(server: Server, user: User, book: ContactStore) -> None:
    assert "The blacklist is empty." in user.get("/blacklist").text
    added = user.post(
        "/blacklist", {"phones": "+79165550001, 79165550002", "mails": "a@example.com", "type": "1"}
    )
    assert added.status_code == 303
    page = user.get("/blacklist")
    assert "3 addresses stop-listed" in page.text
    assert "79165550001" in page.text and "a@example.com" in page.text
    assert "mailing lists only" in page.text
    entries = book.list_blacklist(user.account_id, 0, 10)
    assert {(e.address, e.type) for e in entries} == {
        ("79165550001", 1),
        ("79165550002", 1),
        ("a@example.com", 1),
    }
    assert user.post("/blacklist/delete", {"address": "79165550001"}).status_code == 303
    assert "79165550001" not in user.get("/blacklist").text
    assert user.post("/blacklist/delete", {"address": "79165550001"}).status_code == 404
    bad = user.post("/blacklist", {"phones": "abc"})
    assert bad.status_code == 400 and "not a phone number" in bad.text


def test_someone_signed_out_is_sent_to_sign_in(server: Server, ip: str) -> None:
    client = httpx.Client(base_url=server.url, headers={"X-Forwarded-For": ip})
    for path in ("/contacts", "/groups", "/blacklist", "/contacts/export.csv", "/contacts/import"):
        assert client.get(path).status_code == 303, path
    client.close()


def test_a_refused_contact_search_is_said_in_the_visits_language(user: User) -> None:
    """The search box's refusal is the cabinet's, in Russian for a Russian browser."""
    user.client.headers["Accept-Language"] = "ru"
    page = user.get("/contacts", q="я" * 300).text
    assert "Поиск по телефону, e-mail или имени: не больше" in page

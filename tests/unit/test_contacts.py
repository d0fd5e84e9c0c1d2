"""The pure rules of phones.php and senders.php (domain.contacts)."""

from __future__ import annotations

import pytest

from tidings.domain import contacts as rules
from tidings.errors import InvalidParameter


def test_phone_lists_are_normalised_deduplicated_and_refused_whole() -> None:
    raw = "8 (916) 123-45-67; +79161234568\n79161234567"
    assert rules.phone_list(raw, "RU", "phone") == ["79161234567", "79161234568"]
    assert rules.phone_list("", "RU", "phone") == []
    with pytest.raises(InvalidParameter, match="phone: not a phone number: abc"):
        rules.phone_list("79161234567,abc", "RU", "phone")


def test_mail_lists_lower_case_the_domain_only() -> None:
    assert rules.mail_list("Ann@EXAMPLE.com, Ann@example.com", "mail") == ["Ann@example.com"]
    with pytest.raises(InvalidParameter, match="mail"):
        rules.mail_list("ann@", "mail")


def test_new_contacts_one_per_number_or_one_with_both() -> None:
    assert rules.new_contacts("79161234567,79161234568", None, " Иван ", "RU") == [
        rules.NewContact("79161234567", None, "Иван"),
        rules.NewContact("79161234568", None, "Иван"),
    ]
    assert rules.new_contacts("79161234567", "a@b.ru", None, "RU") == [
        rules.NewContact("79161234567", "a@b.ru", "")
    ]
    for phone, mail, name in (
        (None, None, "x"),
        ("79161234567,79161234568", "a@b.ru", None),
        ("79161234567", None, "x" * 256),
    ):
        with pytest.raises(InvalidParameter):
            rules.new_contacts(phone, mail, name, "RU")


def test_contact_keys_need_exactly_one_kind() -> None:
    assert rules.contact_keys("3, 4;3", None, None, "RU", many=True).ids == (3, 4)
    assert rules.contact_keys(None, "89161234567", None, "RU", many=False).phones == (
        "79161234567",
    )
    assert rules.contact_keys(None, None, "a@B.ru", "RU", many=False).emails == ("a@b.ru",)
    for ids, phone, many in (("1", "79161234567", True), (None, None, True), ("1,2", None, False)):
        with pytest.raises(InvalidParameter):
            rules.contact_keys(ids, phone, None, "RU", many=many)
    with pytest.raises(InvalidParameter, match="id: required"):
        rules.contact_keys(" ,", None, None, "RU", many=True)


def test_contact_change_leaves_absent_fields_and_may_empty_the_name() -> None:
    assert rules.contact_change(None, None, "", "RU") == rules.ContactChange(name="")
    assert rules.contact_change("89161234567", "", None, "RU") == rules.ContactChange(
        phone="79161234567"
    )
    with pytest.raises(InvalidParameter, match="nothing to change"):
        rules.contact_change("", None, None, "RU")
    with pytest.raises(InvalidParameter, match="new_phone: one number only"):
        rules.contact_change("79161234567,79161234568", None, None, "RU")


@pytest.mark.parametrize(
    ("after", "cnt", "expected"),
    [(None, None, (0, 100)), ("7", "1000", (7, 1000)), ("", "1", (0, 1))],
)
def test_paging(after: str | None, cnt: str | None, expected: tuple[int, int]) -> None:
    assert rules.page(after, cnt) == expected


@pytest.mark.parametrize(("after", "cnt"), [("-1", None), ("x", None), (None, "0"), (None, "1001")])
def test_bad_paging(after: str | None, cnt: str | None) -> None:
    with pytest.raises(InvalidParameter):
        rules.page(after, cnt)


def test_search_ignores_case_and_the_plus() -> None:
    needle = rules.search_text(" ИВАН ")
    assert needle == "иван"
    assert rules.matches(needle, "79161234567", "", "Иван Петров")
    assert rules.matches("+7916", "79161234567", "", "")
    assert rules.matches("example", "", "Ann@example.com", "")
    assert not rules.matches("+", "79161234567", "", "")
    assert rules.search_text("  ") is None


def test_group_rules() -> None:
    assert rules.group_num("G42") == rules.group_num("42") == 42
    assert rules.group_num(None) is None
    for bad in ("0", "1000000000", "x", "G"):
        with pytest.raises(InvalidParameter, match="num"):
            rules.group_num(bad)
    assert rules.group_ids(" ", required=False) == []
    assert rules.group_ids("3;4,3", required=True) == [3, 4]
    for raw, required in (("", True), (",".join(map(str, range(1, 1002))), False)):
        with pytest.raises(InvalidParameter, match="grp"):
            rules.group_ids(raw, required=required)
    assert rules.next_group_num(None) == 1
    assert rules.next_group_num(41) == 42
    assert rules.next_group_num(rules.MAX_GROUP_NUM) is None
    assert rules.group_name(None, required=False) is None
    with pytest.raises(InvalidParameter, match="name: required"):
        rules.group_name(" ", required=False)
    assert rules.group_type("1") is rules.GroupType.MAIL
    assert rules.move_mode("3") is rules.MoveMode.REMOVE
    for parse, bad in ((rules.group_type, "2"), (rules.move_mode, "0")):
        with pytest.raises(InvalidParameter):
            parse(bad)


def test_blacklist_rules() -> None:
    assert rules.blacklist_type(None) is rules.BlacklistType.ALL
    assert rules.blacklist_type("2") is rules.BlacklistType.SINGLE
    with pytest.raises(InvalidParameter, match="type"):
        rules.blacklist_type("3")
    assert rules.blacklist_addresses("89161234567", "a@B.ru", "RU") == ["79161234567", "a@b.ru"]
    with pytest.raises(InvalidParameter, match="phone: required"):
        rules.blacklist_addresses(None, "", "RU")
    assert rules.BlacklistView(1, "a@b.ru", 0).is_mail
    assert rules.sender_status(True) == "approved" and rules.sender_status(False) == "pending"

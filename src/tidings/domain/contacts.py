"""Contacts, groups, the blacklist and sender names: the pure rules behind phones.php and
senders.php (smsc-api.md §5.3, §5.4). Every [choice] here is documented in docs/api.md.

Functions take the raw parameter value (None when absent) and return a clean value or raise
InvalidParameter naming the parameter, so a bad request is refused before anything is stored.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from tidings.domain import phones as phone_rules
from tidings.domain.message_rules import check_no_nul
from tidings.errors import InvalidParameter

MAX_CONTACT_NAME = 255  # contacts.name
MAX_GROUP_NAME = 100  # contact_groups.name
# [choice] `G<n>` in jobs.php accepts up to nine digits; 0 is not a group number.
MAX_GROUP_NUM = 999_999_999
MAX_ID = 2**63 - 1  # ids are BIGINT on PostgreSQL
# [choice] paging of the get lists: `cnt` defaults to 100, at most 1000 (as get.php).
DEFAULT_PAGE = 100
MAX_PAGE = 1000
# [choice] `grp` names at most this many groups (they go into one SQL statement).
MAX_GROUPS = 1000


class GroupType(enum.IntEnum):
    PHONE = 0
    MAIL = 1


class BlacklistType(enum.IntEnum):
    """Which messages a stop-listed address is spared (schema: blacklist.type)."""

    ALL = 0
    MAILINGS = 1
    SINGLE = 2


class MoveMode(enum.IntEnum):
    """phones.php `move_group`: 1 move (leave every other group), 2 add, 3 remove."""

    MOVE = 1
    ADD = 2
    REMOVE = 3


@dataclass(frozen=True)
class NewContact:
    phone: str | None
    email: str | None
    name: str


@dataclass(frozen=True)
class ContactChange:
    """None: leave the field as it is."""

    phone: str | None = None
    email: str | None = None
    name: str | None = None

    @property
    def empty(self) -> bool:
        return self.phone is None and self.email is None and self.name is None


@dataclass(frozen=True)
class ContactKeys:
    """Contacts named by id, phone or e-mail (exactly one kind is filled)."""

    ids: tuple[int, ...] = ()
    phones: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()


@dataclass(frozen=True)
class ContactView:
    id: int
    phone: str
    email: str
    name: str
    group_ids: tuple[int, ...]


@dataclass(frozen=True)
class GroupView:
    id: int
    num: int
    name: str
    type: int
    members: int


@dataclass(frozen=True)
class BlacklistView:
    id: int
    address: str
    type: int

    @property
    def is_mail(self) -> bool:
        return "@" in self.address


@dataclass(frozen=True)
class SenderView:
    id: int
    name: str
    approved: bool


# ---- addresses ---------------------------------------------------------------------------


def phone_list(raw: str | None, region: str, param: str) -> list[str]:
    """Normalised numbers of a list (`,` `;` or line breaks), duplicates dropped.

    [choice] Unlike jobs.php, which drops a bad number from a mailing list, one bad number
    refuses the whole request: a contact list is edited deliberately, not sent in bulk.
    """
    found: dict[str, None] = {}
    for item in phone_rules.split_recipients(raw or ""):
        phone = phone_rules.normalize_phone(item, region)
        if phone is None:
            raise InvalidParameter(
                "%(field)s: not a phone number: %(item)s", field=param, item=item
            )
        found.setdefault(phone)
    return list(found)


def mail_list(raw: str | None, param: str) -> list[str]:
    found: dict[str, None] = {}
    for item in phone_rules.split_recipients(raw or ""):
        email = phone_rules.normalize_email(item)
        if email is None:
            raise InvalidParameter(
                "%(field)s: not an e-mail address: %(item)s", field=param, item=item
            )
        found.setdefault(email)
    return list(found)


def one_phone(raw: str | None, region: str, param: str) -> str | None:
    phones = phone_list(raw, region, param)
    if len(phones) > 1:
        raise InvalidParameter("%(field)s: one number only", field=param)
    return phones[0] if phones else None


def one_mail(raw: str | None, param: str) -> str | None:
    emails = mail_list(raw, param)
    if len(emails) > 1:
        raise InvalidParameter("%(field)s: one address only", field=param)
    return emails[0] if emails else None


def new_contacts(
    phone: str | None, mail: str | None, name: str | None, region: str
) -> list[NewContact]:
    """`add`: one contact per number or address; [choice] `phone` and `mail` together make
    one contact with both, so each must then hold a single value."""
    phones = phone_list(phone, region, "phone")
    emails = mail_list(mail, "mail")
    clean_name = contact_name(name)
    if not phones and not emails:
        raise InvalidParameter("phone: required (or mail)")
    if phones and emails:
        if len(phones) > 1 or len(emails) > 1:
            raise InvalidParameter("phone, mail: one of each when both are given")
        return [NewContact(phones[0], emails[0], clean_name)]
    if phones:
        return [NewContact(p, None, clean_name) for p in phones]
    return [NewContact(None, e, clean_name) for e in emails]


def contact_keys(
    ids: str | None, phone: str | None, mail: str | None, region: str, *, many: bool
) -> ContactKeys:
    """The contacts a request names: by `id`, `phone` or `mail`, exactly one of them."""
    given = [name for name, value in (("id", ids), ("phone", phone), ("mail", mail)) if value]
    if len(given) != 1:
        raise InvalidParameter("exactly one of id, phone, mail must name the contact")
    if ids:
        keys = ContactKeys(ids=tuple(id_list(ids, "id")))
    elif phone:
        keys = ContactKeys(phones=tuple(phone_list(phone, region, "phone")))
    else:
        keys = ContactKeys(emails=tuple(mail_list(mail, "mail")))
    size = len(keys.ids) + len(keys.phones) + len(keys.emails)
    if size == 0:
        raise InvalidParameter("%(field)s: required", field=given[0])
    if not many and size > 1:
        raise InvalidParameter("%(field)s: one contact only", field=given[0])
    return keys


def contact_change(
    new_phone: str | None, new_mail: str | None, name: str | None, region: str
) -> ContactChange:
    """`chg`: what to change. A parameter that is absent or empty leaves its field alone,
    except `name`, which may be set to empty."""
    change = ContactChange(
        phone=one_phone(new_phone, region, "new_phone"),
        email=one_mail(new_mail, "new_mail"),
        name=None if name is None else contact_name(name),
    )
    if change.empty:
        raise InvalidParameter("nothing to change: give new_phone, new_mail or name")
    return change


def contact_name(raw: str | None) -> str:
    name = (raw or "").strip()
    check_no_nul(name, "name")
    if len(name) > MAX_CONTACT_NAME:
        raise InvalidParameter(
            "%(field)s: at most %(n)s characters", field="name", n=MAX_CONTACT_NAME
        )
    return name


# ---- ids and paging ------------------------------------------------------------------------


def record_id(raw: str | None, param: str) -> int:
    text = (raw or "").strip()
    if not text:
        raise InvalidParameter("%(field)s: required", field=param)
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= MAX_ID:
        raise InvalidParameter("%(field)s: a record id", field=param)
    return int(text)


def id_list(raw: str | None, param: str) -> list[int]:
    """Ids separated by `,` `;` or line breaks, duplicates dropped; at least one."""
    found: dict[int, None] = {}
    for item in phone_rules.split_recipients(raw or ""):
        found.setdefault(record_id(item, param))
    if not found:
        raise InvalidParameter("%(field)s: required", field=param)
    return list(found)


def group_ids(raw: str | None, *, required: bool) -> list[int]:
    """A `grp` list of group ids (optional where `required` is False)."""
    if not required and not (raw or "").strip():
        return []
    ids = id_list(raw, "grp")
    if len(ids) > MAX_GROUPS:
        raise InvalidParameter("grp: at most %(n)s groups", n=MAX_GROUPS)
    return ids


def page(after_id: str | None, cnt: str | None) -> tuple[int, int]:
    """(`after_id`, `cnt`): records with a larger id, at most `cnt` of them."""
    after_text = (after_id or "").strip()
    after = 0
    if after_text:
        if not (after_text.isascii() and after_text.isdigit()) or int(after_text) > MAX_ID:
            raise InvalidParameter("after_id: a record id")
        after = int(after_text)
    cnt_text = (cnt or "").strip()
    if not cnt_text:
        return after, DEFAULT_PAGE
    if not (cnt_text.isascii() and cnt_text.isdigit()) or not 1 <= int(cnt_text) <= MAX_PAGE:
        raise InvalidParameter("cnt: an integer 1..%(n)s", n=MAX_PAGE)
    return after, int(cnt_text)


def search_text(raw: str | None) -> str | None:
    text = (raw or "").strip()
    if len(text) > MAX_CONTACT_NAME:
        raise InvalidParameter(
            "%(field)s: at most %(n)s characters", field="search", n=MAX_CONTACT_NAME
        )
    return text.casefold() or None


def matches(needle: str, phone: str, email: str, name: str) -> bool:
    """[choice] `search`: a substring of the phone, the e-mail or the name, ignoring case.
    A leading `+` is ignored against the phone, which is stored without it."""
    if needle.lstrip("+") and needle.lstrip("+") in phone:
        return True
    return needle in email.casefold() or needle in name.casefold()


# ---- groups ----------------------------------------------------------------------------------


def group_name(raw: str | None, *, required: bool) -> str | None:
    if raw is None and not required:
        return None
    name = (raw or "").strip()
    check_no_nul(name, "name")
    if not name:
        raise InvalidParameter("%(field)s: required", field="name")
    if len(name) > MAX_GROUP_NAME:
        raise InvalidParameter(
            "%(field)s: at most %(n)s characters", field="name", n=MAX_GROUP_NAME
        )
    return name


def group_num(raw: str | None) -> int | None:
    """The `<n>` of `G<n>`; None when absent (the store then takes the next free one)."""
    text = (raw or "").strip()
    if not text:
        return None
    if text[:1] in "Gg":  # [choice] "G5" is read as 5: it is how the number is used
        text = text[1:]
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= MAX_GROUP_NUM:
        raise InvalidParameter("%(field)s: an integer 1..%(n)s", field="num", n=MAX_GROUP_NUM)
    return int(text)


def next_group_num(highest: int | None) -> int | None:
    """[choice] An absent `num` is the account's highest + 1 (None: no number is left)."""
    candidate = (highest or 0) + 1
    return candidate if candidate <= MAX_GROUP_NUM else None


def group_type(raw: str | None) -> GroupType:
    text = (raw or "").strip()
    if text not in ("", "0", "1"):
        raise InvalidParameter("type: 0 (phones) or 1 (e-mail)")
    return GroupType(int(text or 0))


def move_mode(raw: str | None) -> MoveMode:
    text = (raw or "").strip()
    if text not in ("1", "2", "3"):
        raise InvalidParameter("move_group: 1 (move), 2 (add) or 3 (remove)")
    return MoveMode(int(text))


# ---- blacklist ---------------------------------------------------------------------------


def blacklist_type(raw: str | None) -> BlacklistType:
    text = (raw or "").strip()
    if text not in ("", "0", "1", "2"):
        raise InvalidParameter("type: 0 (all), 1 (mailing lists) or 2 (single messages)")
    return BlacklistType(int(text or 0))


def blacklist_addresses(phone: str | None, mail: str | None, region: str) -> list[str]:
    """[choice] `phone` numbers and/or `mail` addresses (an e-mail list honours them too)."""
    addresses = phone_list(phone, region, "phone") + mail_list(mail, "mail")
    if not addresses:
        raise InvalidParameter("phone: required (or mail)")
    return addresses


# ---- senders -------------------------------------------------------------------------------


def sender_status(approved: bool) -> str:
    """[choice] senders.php `status`: the operator's decision as a word."""
    return "approved" if approved else "pending"

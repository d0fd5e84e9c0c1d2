"""Message templates (templates.php, smsc-api.md §5.6; the cabinet's templates page; `tidings
templates`): a stored text with an optional format and sender, used by `tpl=<id>` in jobs.php
and send.php. One template of an account may be its auto-signature (`fl[1]=1`), appended to
the text of the messages it sends.

Every door hands its fields over by the API's parameter names (`name`, `msg`, `format`,
`sender`, `fl[1]`), so all of them are held to the same rules by `TemplateService`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from tidings.domain.accounts import Account
from tidings.domain.jobs import MessageFormat
from tidings.domain.message_rules import (
    MAX_MES,
    Fields,
    check_no_nul,
    check_text,
    sender_name,
)
from tidings.domain.sms import split_comment
from tidings.errors import InvalidParameter, NotFound, UnsupportedFormat

MAX_TEMPLATE_NAME = 100
# templates.php `format` → the format a message made from the template has ("": the
# request's own). The contract lists more; those are types we do not send.
FORMATS: dict[str, MessageFormat | None] = {
    "": None,
    "sms": MessageFormat.SMS,
    "flash": MessageFormat.FLASH,
    "bin": MessageFormat.BIN,
    "mail": MessageFormat.MAIL,
}
UNSENDABLE_FORMATS = ("push", "mms", "call", "viber")
# [choice] An auto-signature follows the text on a line of its own; binary and ping messages
# carry none (there is no text to sign).
SIGNATURE_SEPARATOR = "\n"
SIGNED_FORMATS = (MessageFormat.SMS, MessageFormat.FLASH, MessageFormat.MAIL)
FIELDS = ("name", "msg", "format", "sender", "fl[1]")


@dataclass(frozen=True)
class Template:
    id: int
    name: str
    text: str
    format: str  # a key of FORMATS
    sender: str
    signature: bool

    @property
    def message_format(self) -> MessageFormat | None:
        return FORMATS[self.format]


@dataclass(frozen=True)
class TemplateValues:
    """A template's checked fields (what is stored)."""

    name: str
    text: str
    format: str
    sender: str
    signature: bool


class TemplateStore(Protocol):
    def templates(self, account_id: int) -> list[Template]: ...

    def template(self, account_id: int, template_id: int) -> Template | None: ...

    def add_template(self, account_id: int, values: TemplateValues, now: datetime) -> int:
        """Store it (a signature clears the flag on the account's other templates)."""

    def change_template(
        self, account_id: int, template_id: int, values: TemplateValues, now: datetime
    ) -> bool:
        """False when the account has no such template."""

    def delete_template(self, account_id: int, template_id: int) -> bool: ...

    def signature_template(self, account_id: int) -> Template | None: ...


class TemplateService:
    def __init__(self, store: TemplateStore) -> None:
        self._store = store

    def list(self, account: Account) -> list[Template]:
        return self._store.templates(account.id)

    def get(self, account: Account, template_id: int) -> Template:
        """NotFound (error 3) for another account's template too."""
        found = self._store.template(account.id, template_id)
        if found is None:
            raise NotFound("template not found")
        return found

    def add(self, account: Account, values: Mapping[str, str], now: datetime) -> Template:
        checked = template_values(values, None)
        template_id = self._store.add_template(account.id, checked, now)
        return Template(template_id, **vars(checked))

    def change(
        self, account: Account, template_id: int, values: Mapping[str, str], now: datetime
    ) -> Template:
        """Change the fields given (at least one); the rest stay. The result is checked as a
        whole: a new format must suit the text and sender kept."""
        if not any(name in values for name in FIELDS):
            raise InvalidParameter("at least one of name, msg, format, sender, fl[1] is required")
        current = self.get(account, template_id)
        checked = template_values(values, current)
        if not self._store.change_template(account.id, template_id, checked, now):
            raise NotFound("template not found")
        return Template(template_id, **vars(checked))

    def delete(self, account: Account, template_id: int) -> None:
        if not self._store.delete_template(account.id, template_id):
            raise NotFound("template not found")


def template_values(values: Mapping[str, str], current: Template | None) -> TemplateValues:
    """The fields as given over `current` (None: a new template, name and msg required)."""
    p = Fields(values)
    name = _field(p, "name", current.name if current else None).strip()
    check_no_nul(name, "name")
    if not name:
        raise InvalidParameter("%(field)s: required", field="name")
    if len(name) > MAX_TEMPLATE_NAME:
        raise InvalidParameter(
            "%(field)s: at most %(n)s characters", field="name", n=MAX_TEMPLATE_NAME
        )
    kind = _format(_field(p, "format", current.format if current else ""))
    fmt = FORMATS[kind] or MessageFormat.SMS
    text = _field(p, "msg", current.text if current else None)
    if not text.strip():
        raise InvalidParameter("%(field)s: required", field="msg")
    if len(text) > MAX_MES:
        raise InvalidParameter("%(field)s: at most %(n)s characters", field="msg", n=MAX_MES)
    check_text(text, fmt, "msg")
    sender = sender_name(
        _field(p, "sender", current.sender if current else ""), kind == "mail", "sender"
    )
    signature = _flag(p, current.signature if current else False)
    return TemplateValues(name, text, kind, sender, signature)


def _field(p: Fields, name: str, default: str | None) -> str:
    value = p.get(name)
    if value is None:
        return default or ""
    return value


def _format(value: str) -> str:
    kind = value.strip().lower()
    if kind in UNSENDABLE_FORMATS:
        raise UnsupportedFormat(
            "format: %(kind)s messages cannot be sent here, format not supported", kind=kind
        )
    if kind not in FORMATS:
        raise InvalidParameter("format: one of sms, flash, bin, mail (or empty: any)")
    return kind


def _flag(p: Fields, default: bool) -> bool:
    value = p.get("fl[1]")
    if value is None:
        return default
    text = value.strip()
    if text not in ("", "0", "1"):
        raise InvalidParameter("fl[1] must be 0 or 1")
    return text == "1"


@dataclass(frozen=True)
class Resolved:
    """What a request's `tpl` makes of its text, format and sender."""

    text: str
    fmt: MessageFormat
    sender: str


def resolve(template: Template | None, fmt: MessageFormat, sender: str) -> Resolved:
    """The template's text; its format when the request gives none (SMS), its sender when
    the request gives none. [choice] A template of one format used with a request of
    another is error 1, and an e-mail template needs `mail=1` (the recipients are read as
    e-mail addresses only then)."""
    if template is None:
        raise InvalidParameter("tpl: template not found")
    own = template.message_format
    if own is MessageFormat.MAIL and fmt is not MessageFormat.MAIL:
        raise InvalidParameter("tpl: an e-mail template needs mail=1")
    if own is not None and fmt not in (own, MessageFormat.SMS):
        raise InvalidParameter("tpl: the template is for %(kind)s messages", kind=template.format)
    effective = own if own is not None else fmt
    check_text(template.text, effective, "tpl")
    return Resolved(template.text, effective, sender or template.sender)


def signed(text: str, signature: Template | None, fmt: MessageFormat) -> str:
    """`text` with the account's auto-signature after it (before a `~~~` comment, which is
    never sent), if the signature applies to this format."""
    if signature is None or fmt not in SIGNED_FORMATS:
        return text
    own = signature.message_format
    if own is not None and own is not fmt:
        return text
    body, _comment = split_comment(text)
    # The comment (its `~~~` line included) follows the signature unchanged.
    return f"{body.rstrip(chr(10))}{SIGNATURE_SEPARATOR}{signature.text}{text[len(body) :]}"


def signed_texts(
    texts: Sequence[str] | None, signature: Template | None, fmt: MessageFormat
) -> list[str] | None:
    return None if texts is None else [signed(t, signature, fmt) for t in texts]

"""/sys/senders.php — the account's sender names (smsc-api.md §5.3), through the sender
service (domain/senders.py): a new name waits for an operator (`tidings senders approve`)."""

from __future__ import annotations

from tidings.api.context import Call
from tidings.api.endpoints.not_provided import refuse_action
from tidings.api.endpoints.phones import created_answer
from tidings.api.formats import Record
from tidings.domain import contacts as rules
from tidings.errors import InvalidParameter

ACTIONS = ("get", "add", "del")
# senders.php actions of smsc.ru that Tidings does not provide (docs/api.md): a name is
# approved by an operator (`tidings senders approve`), not by a code sent to it.
NOT_PROVIDED = ("chg", "send_code", "check_code")
NO_SENDERS = "NO SENDERS"  # [choice] never an empty body


def handle_senders(call: Call) -> str:
    chosen = [a for a in ACTIONS if call.params.flag(a)]
    if not chosen:
        for action in NOT_PROVIDED:
            if call.params.flag(action):
                refuse_action(action)
    if len(chosen) != 1:
        raise InvalidParameter("exactly one of get, add, del must be 1")
    if chosen[0] == "get":
        return _get(call)
    if chosen[0] == "add":
        return _add(call)
    return _del(call)


def _get(call: Call) -> str:
    """[choice] `get=1` lists the approved names (as the contract says); `all=1` adds the
    ones still waiting for approval."""
    views = call.services.senders.names(call.account, approved_only=not call.params.flag("all"))
    records: list[Record] = [
        [("id", s.id), ("sender", s.name), ("status", rules.sender_status(s.approved))]
        for s in views
    ]
    return call.renderer.records(records, "senders", "sender", NO_SENDERS)


def _add(call: Call) -> str:
    raw, mail, param = _name(call)
    added = call.services.senders.request(call.account, raw, call.now, mail=mail, param=param)
    return created_answer(call, [added.id])


def _del(call: Call) -> str:
    """By `id`, or by the name as stored (`sender`, or `mail` for an e-mail sender); a name
    the account does not have is error 3, whatever its form."""
    p = call.params
    raw_id = p.text("id").strip()
    mail_value = p.text("mail").strip()
    name = p.text("sender").strip() or (mail_value if "@" in mail_value else "")
    if bool(raw_id) == bool(name):
        raise InvalidParameter("exactly one of sender, id must name the sender")
    if raw_id:
        sender_id = rules.record_id(raw_id, "id")
        call.services.senders.delete(call.account, sender_id)
    else:
        call.services.senders.delete_named(call.account, name)
    return call.renderer.ok()


def _name(call: Call) -> tuple[str, bool, str]:
    """(the name as given, an e-mail sender?, the parameter it came in): an e-mail sender
    comes as `mail=1&sender=<address>` or [choice] as `mail=<address>`. The service checks
    it as jobs.php checks `sender`."""
    p = call.params
    mail_value = p.text("mail").strip()
    by_mail = "@" in mail_value
    mail = by_mail or mail_value == "1"
    if mail_value not in ("", "0", "1") and not by_mail:
        raise InvalidParameter("mail: 1 or an e-mail address")
    raw = p.text("sender")
    if by_mail:
        if raw.strip():
            raise InvalidParameter("sender: not with mail=<address>")
        raw = mail_value
    return raw, mail, "mail" if by_mail else "sender"

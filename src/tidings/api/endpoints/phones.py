"""/sys/phones.php — contacts, groups and the blacklist (smsc-api.md §5.4). Parse with the
rules of domain.contacts, call the contact or stop-list service, render. Shapes are in
docs/api.md."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence

from tidings.api.context import Call
from tidings.api.formats import Record
from tidings.api.guards.identity import request_identity
from tidings.domain import contacts as rules
from tidings.errors import InvalidParameter

# Every action but move_group is a flag set to 1; move_group carries its mode (1, 2 or 3).
ACTIONS = (
    "add",
    "chg",
    "del",
    "get",
    "add_group",
    "chg_group",
    "del_group",
    "get_group",
    "move_group",
    "add_black",
    "del_black",
    "get_black",
)
# [choice] never an empty body (as jobs.php `NO JOBS`).
NO_CONTACTS = "NO CONTACTS"
NO_GROUPS = "NO GROUPS"
NO_BLACKLIST = "NO BLACKLIST"


def handle_phones(call: Call) -> str:
    action = _action(call)
    # The 4th identical request (credentials aside) within a minute is error 9.
    key = request_identity(call.account.id, call.script, call.params.values)
    with call.guards.phone_repeats.hit(key):
        return _HANDLERS[action](call)


def _action(call: Call) -> str:
    p = call.params
    chosen = [
        action
        for action in ACTIONS
        if (p.text(action).strip() not in ("", "0") if action == "move_group" else p.flag(action))
    ]
    if len(chosen) != 1:
        raise InvalidParameter(f"exactly one of {', '.join(ACTIONS)} must be given")
    return chosen[0]


# ---- answers shared with senders.php -------------------------------------------------------


def created_answer(call: Call, ids: Sequence[int]) -> str:
    """[choice] The id of what was created; several (a list of numbers) → every id:
    fmt 0 `ID = 5,6`, fmt 1 `5,6`, fmt 2 one `<id>` each, fmt 3 `{"id": 5, "ids": [5, 6]}`
    (`id` stays a number for clients that read one)."""
    listed = ",".join(str(i) for i in ids)
    if call.fmt == 0:
        return f"ID = {listed}"
    if call.fmt == 1:
        return listed
    if call.fmt == 2:
        return call.renderer.record([("id", i) for i in ids], "result")
    answer: dict[str, object] = {"id": ids[0]}
    if len(ids) > 1:
        answer["ids"] = list(ids)
    return json.dumps(answer)


# ---- contacts ------------------------------------------------------------------------------


def _add(call: Call) -> str:
    p = call.params
    contacts = rules.new_contacts(p.get("phone"), p.get("mail"), p.get("name"), _region(call))
    groups = rules.group_ids(p.get("grp"), required=False)
    ids = call.services.contacts.add_contacts(call.account, contacts, groups, call.now)
    return created_answer(call, ids)


def _chg(call: Call) -> str:
    p = call.params
    keys = _contact_keys(call, many=False)
    change = rules.contact_change(
        p.get("new_phone"), p.get("new_mail"), p.get("name"), _region(call)
    )
    call.services.contacts.change_contact(call.account, keys, change)
    return call.renderer.ok()


def _del(call: Call) -> str:
    call.services.contacts.delete_contacts(call.account, _contact_keys(call, many=True))
    return call.renderer.ok()


def _get(call: Call) -> str:
    p = call.params
    groups = rules.group_ids(p.get("grp"), required=False)
    after_id, cnt = rules.page(p.get("after_id"), p.get("cnt"))
    search = rules.search_text(p.get("search"))
    views = call.services.contacts.list_contacts(call.account, groups, after_id, cnt, search)
    records: list[Record] = [
        [
            ("id", v.id),
            ("phone", v.phone),
            ("mail", v.email),
            ("name", v.name),
            ("grp", ",".join(str(g) for g in v.group_ids)),
        ]
        for v in views
    ]
    return call.renderer.records(records, "contacts", "contact", NO_CONTACTS)


# ---- groups --------------------------------------------------------------------------------


def _add_group(call: Call) -> str:
    p = call.params
    name = rules.group_name(p.get("name"), required=True)
    assert name is not None
    num = rules.group_num(p.get("num"))
    kind = rules.group_type(p.get("type"))
    group_id = call.services.contacts.add_group(call.account, name, num, kind, call.now)
    return created_answer(call, [group_id])


def _group_param(call: Call) -> tuple[str | None, str]:
    """The group(s) of chg_group/del_group: `id`, or `grp` as node-smsc sends it (smsc.ru
    takes both; docs/api.md). Both at once → error 1: which one was meant is not known."""
    given = [name for name in ("id", "grp") if call.params.text(name).strip()]
    if len(given) > 1:
        raise InvalidParameter("id or grp: give one of them")
    name = given[0] if given else "id"
    return call.params.get(name), name


def _chg_group(call: Call) -> str:
    p = call.params
    group_id = rules.record_id(*_group_param(call))
    name = rules.group_name(p.get("name"), required=False)
    num = rules.group_num(p.get("num"))
    if name is None and num is None:
        raise InvalidParameter("nothing to change: give name or num")
    call.services.contacts.change_group(call.account, group_id, name, num)
    return call.renderer.ok()


def _del_group(call: Call) -> str:
    group_ids = rules.id_list(*_group_param(call))
    call.services.contacts.delete_groups(call.account, group_ids)
    return call.renderer.ok()


def _get_group(call: Call) -> str:
    records: list[Record] = [
        [("id", g.id), ("num", g.num), ("name", g.name), ("type", g.type), ("cnt", g.members)]
        for g in call.services.contacts.list_groups(call.account)
    ]
    return call.renderer.records(records, "groups", "group", NO_GROUPS)


def _move_group(call: Call) -> str:
    p = call.params
    mode = rules.move_mode(p.get("move_group"))
    keys = _contact_keys(call, many=True)
    groups = rules.group_ids(p.get("grp"), required=True)
    call.services.contacts.move(call.account, keys, groups, mode)
    return call.renderer.ok()


# ---- blacklist -----------------------------------------------------------------------------


def _add_black(call: Call) -> str:
    p = call.params
    addresses = rules.blacklist_addresses(p.get("phone"), p.get("mail"), _region(call))
    kind = rules.blacklist_type(p.get("type"))
    ids = call.services.stop_list.add(call.account, addresses, kind, call.now)
    return created_answer(call, ids)


def _del_black(call: Call) -> str:
    p = call.params
    addresses = rules.blacklist_addresses(p.get("phone"), p.get("mail"), _region(call))
    call.services.stop_list.remove(call.account, addresses)
    return call.renderer.ok()


def _get_black(call: Call) -> str:
    after_id, cnt = rules.page(call.params.get("after_id"), call.params.get("cnt"))
    records: list[Record] = [
        [
            ("id", e.id),
            ("phone", "" if e.is_mail else e.address),
            ("mail", e.address if e.is_mail else ""),
            ("type", e.type),
        ]
        for e in call.services.stop_list.page(call.account, after_id, cnt)
    ]
    return call.renderer.records(records, "blacklist", "entry", NO_BLACKLIST)


# ---- helpers -------------------------------------------------------------------------------


def _region(call: Call) -> str:
    return call.account.region


def _contact_keys(call: Call, *, many: bool) -> rules.ContactKeys:
    p = call.params
    return rules.contact_keys(p.get("id"), p.get("phone"), p.get("mail"), _region(call), many=many)


_HANDLERS: dict[str, Callable[[Call], str]] = {
    "add": _add,
    "chg": _chg,
    "del": _del,
    "get": _get,
    "add_group": _add_group,
    "chg_group": _chg_group,
    "del_group": _del_group,
    "get_group": _get_group,
    "move_group": _move_group,
    "add_black": _add_black,
    "del_black": _del_black,
    "get_black": _get_black,
}

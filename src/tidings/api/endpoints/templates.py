"""/sys/templates.php — the account's message templates (smsc-api.md §5.6), through the
template service (domain/templates.py). `tpl=<id>` in jobs.php and send.php uses them."""

from __future__ import annotations

from tidings.api.context import Call
from tidings.api.endpoints.phones import created_answer
from tidings.api.formats import Record
from tidings.domain import contacts as rules
from tidings.domain.templates import Template
from tidings.errors import InvalidParameter

ACTIONS = ("add", "chg", "del", "get")
# The answer names the text `message` (smsc.ru's answer, which node-smsc reads), though the
# request gives it as `msg`.
FIELDS = ("id", "name", "message", "format", "sender", "signature")
NO_TEMPLATES = "NO TEMPLATES"  # [choice] never an empty body


def handle_templates(call: Call) -> str:
    chosen = [a for a in ACTIONS if call.params.flag(a)]
    if len(chosen) != 1:
        raise InvalidParameter("exactly one of add, chg, del, get must be 1")
    action = chosen[0]
    service = call.services.templates
    if action == "add":
        added = service.add(call.account, call.params.values, call.now)
        return created_answer(call, [added.id])
    if action == "get":
        return _get(call)
    template_id = rules.record_id(call.params.get("id"), "id")
    if action == "chg":
        service.change(call.account, template_id, call.params.values, call.now)
    else:
        service.delete(call.account, template_id)
    return call.renderer.ok()


def _get(call: Call) -> str:
    """Every template of the account, or [choice] with `id` just that one (error 3 if the
    account has none such)."""
    raw = call.params.text("id").strip()
    service = call.services.templates
    if raw:
        found = [service.get(call.account, rules.record_id(raw, "id"))]
    else:
        found = service.list(call.account)
    records = [_record(t) for t in found]
    return call.renderer.records(records, "templates", "template", NO_TEMPLATES)


def _record(template: Template) -> Record:
    values: dict[str, str | int] = {
        "id": template.id,
        "name": template.name,
        "message": template.text,
        "format": template.format,
        "sender": template.sender,
        "signature": int(template.signature),
    }
    return [(f, values[f]) for f in FIELDS]

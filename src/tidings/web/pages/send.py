"""Send one message (or one text to several numbers) from the cabinet: send.php's request
rules (domain/send_request.py) and its service (SendService), so the same validation, the
same sender check and the same charges apply as to the API."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from tidings.domain.send_request import new_send
from tidings.errors import DomainError, InvalidNumber, MessageDenied, Undeliverable
from tidings.web.cabinet import Cabinet, NavItem, PageModule, Visit
from tidings.web.i18n import N_
from tidings.web.refusals import refused_field

NAV = (NavItem(N_("Send"), "/send"),)
# The form's fields are send.php's parameters of the same names, but for the channel (the
# `mail` flag) and the e-mail From address (send.php's `sender` for an e-mail).
FORM_FIELDS = ("phones", "mes", "sender", "time", "subj", "mail_from")
# Refusals whose description names no parameter, and the field they are about.
FIELD_OF: dict[type[DomainError], str] = {
    InvalidNumber: "phones",
    Undeliverable: "phones",
    MessageDenied: "sender",
}


def routes(cabinet: Cabinet) -> list[BaseRoute]:
    return [
        Route("/send", cabinet.page(form), methods=["GET"]),
        Route("/send", cabinet.action(send), methods=["POST"]),
    ]


def form(visit: Visit) -> Response:
    senders = visit.services.senders.names(visit.account, approved_only=True)
    return visit.render(
        "send/index.html",
        senders=[s.name for s in senders],
        # The live counter (cabinet.js) says it in the visit's language.
        counter=visit.language.counter_phrases(),
    )


def _values(visit: Visit) -> dict[str, str]:
    """The form as send.php parameters."""
    mail = visit.field("channel") == "mail"
    values = {name: visit.field(name) for name in ("phones", "mes", "time")}
    values["sender"] = visit.field("mail_from" if mail else "sender")
    if mail:
        values.update(mail="1", subj=visit.field("subj"))
    return values


def send(visit: Visit) -> Response:
    values = _values(visit)
    try:
        limit = visit.services.limits.max_recipients
        request = new_send(values, visit.account, visit.now, None, max_recipients=limit)
        sent = visit.services.sends.send(visit.account, request, visit.now)
    except DomainError as error:
        field = _error_field(error, mail="mail" in values)
        # The field is read from the domain's English; the text is the visit's language.
        return visit.render("send/result.html", error=visit.refusal(error), error_field=field)
    return visit.render("send/result.html", error="", sent=sent)


def _error_field(error: DomainError, *, mail: bool) -> str:
    """The form field a refusal is about: the parameter it names ("mes: required"), else
    the one its kind is about."""
    named = refused_field(error)
    field = named if named in FORM_FIELDS else FIELD_OF.get(type(error), "")
    return "mail_from" if mail and field == "sender" else field


PAGE = PageModule(NAV, routes)

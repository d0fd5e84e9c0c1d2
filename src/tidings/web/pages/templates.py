"""Message templates: the texts `tpl=<id>` uses in jobs.php and send.php, and the account's
auto-signature. The same template service as templates.php and `tidings templates`."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from tidings.domain.templates import FORMATS, Template
from tidings.errors import DomainError
from tidings.web.cabinet import Cabinet, NavItem, PageModule, Visit
from tidings.web.i18n import N_

NAV = (NavItem(N_("Templates"), "/templates"),)
FORMAT_TITLES = {
    "": N_("any"),
    "sms": "SMS",
    "flash": N_("flash SMS"),
    "bin": N_("binary SMS"),
    "mail": N_("e-mail"),
}
EMPTY = {"name": "", "msg": "", "format": "", "sender": "", "fl[1]": ""}


def routes(cabinet: Cabinet) -> list[BaseRoute]:
    return [
        Route("/templates", cabinet.page(index), methods=["GET"]),
        Route("/templates", cabinet.action(add), methods=["POST"]),
        Route("/templates/{template_id}", cabinet.page(edit), methods=["GET"]),
        Route("/templates/{template_id}", cabinet.action(change), methods=["POST"]),
        Route("/templates/{template_id}/delete", cabinet.action(delete), methods=["POST"]),
    ]


def _form(visit: Visit) -> dict[str, str]:
    """The form's fields by the API's parameter names; an unticked box is `fl[1]=0`."""
    values = {name: visit.field(name) for name in ("name", "msg", "format", "sender")}
    values["fl[1]"] = "1" if visit.field("fl[1]") == "1" else "0"
    return values


def _values(template: Template) -> dict[str, str]:
    return {
        "name": template.name,
        "msg": template.text,
        "format": template.format,
        "sender": template.sender,
        "fl[1]": "1" if template.signature else "",
    }


def _page(visit: Visit, error: str = "", values: dict[str, str] | None = None) -> Response:
    return visit.render(
        "templates/index.html",
        status_code=400 if error else 200,
        templates=visit.services.templates.list(visit.account),
        formats={k: visit.gettext(FORMAT_TITLES[k]) for k in FORMATS},
        error=error,
        values=values or EMPTY,
    )


def index(visit: Visit) -> Response:
    return _page(visit)


def add(visit: Visit) -> Response:
    values = _form(visit)
    try:
        added = visit.services.templates.add(visit.account, values, visit.now)
    except DomainError as error:
        return _page(visit, visit.refusal(error), values)
    done = visit.gettext("Template %(name)s saved: tpl=%(id)s", name=added.name, id=added.id)
    return visit.redirect("/templates", done)


def _edit_page(
    visit: Visit, template: Template, error: str = "", values: dict[str, str] | None = None
) -> Response:
    return visit.render(
        "templates/edit.html",
        status_code=400 if error else 200,
        item=template,
        formats={k: visit.gettext(FORMAT_TITLES[k]) for k in FORMATS},
        error=error,
        values=values or _values(template),
    )


def edit(visit: Visit) -> Response:
    """Another account's template is a page that does not exist (404)."""
    template = visit.services.templates.get(visit.account, visit.path_int("template_id"))
    return _edit_page(visit, template)


def change(visit: Visit) -> Response:
    service = visit.services.templates
    template = service.get(visit.account, visit.path_int("template_id"))
    values = _form(visit)
    try:
        service.change(visit.account, template.id, values, visit.now)
    except DomainError as error:
        return _edit_page(visit, template, visit.refusal(error), values)
    return visit.redirect("/templates", visit.gettext("Template saved"))


def delete(visit: Visit) -> Response:
    visit.services.templates.delete(visit.account, visit.path_int("template_id"))
    return visit.redirect("/templates", visit.gettext("Template deleted"))


PAGE = PageModule(NAV, routes)

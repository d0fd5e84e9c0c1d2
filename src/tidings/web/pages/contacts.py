"""Contacts and groups: the paged, searchable list, add / edit / delete, groups and their
members, CSV export (streamed) and CSV import (in the background, with a progress bar).

Every lookup is scoped to the signed-in account: another account's contact or group is a page
that does not exist (404), exactly like one that never existed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import IO, Any

from starlette.datastructures import UploadFile
from starlette.responses import Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from tidings.domain import contacts as rules
from tidings.domain.contact_export import csv_lines
from tidings.domain.contact_import import ImportReport, read_contacts
from tidings.domain.contacts import ContactKeys, ContactView, GroupView, MoveMode
from tidings.errors import DomainError, InvalidParameter, NotFound
from tidings.web.cabinet import Cabinet, NavItem, PageModule, Visit
from tidings.web.i18n import N_
from tidings.web.imports import ImportJob, ImportRunner

NAV = (NavItem(N_("Contacts"), "/contacts"), NavItem(N_("Groups"), "/groups"))
PAGE_SIZE = 50
MAX_UPLOAD = 50 * 1024 * 1024


def routes(cabinet: Cabinet) -> list[BaseRoute]:
    imports = Imports(ImportRunner())
    return [
        Route("/contacts", cabinet.page(index), methods=["GET"]),
        Route("/contacts", cabinet.action(add), methods=["POST"]),
        Route("/contacts/export.csv", cabinet.page(export_csv), methods=["GET"]),
        Route("/contacts/import", cabinet.page(imports.form), methods=["GET"]),
        Route("/contacts/import", cabinet.action(imports.start), methods=["POST"]),
        Route("/contacts/import/{import_id}", cabinet.page(imports.page), methods=["GET"]),
        Route(
            "/contacts/import/{import_id}/progress",
            cabinet.page(imports.progress),
            methods=["GET"],
        ),
        Route("/contacts/{contact_id}", cabinet.page(detail), methods=["GET"]),
        Route("/contacts/{contact_id}", cabinet.action(change), methods=["POST"]),
        Route("/contacts/{contact_id}/delete", cabinet.action(delete), methods=["POST"]),
        Route("/contacts/{contact_id}/groups", cabinet.action(join_group), methods=["POST"]),
        Route("/groups", cabinet.page(groups), methods=["GET"]),
        Route("/groups", cabinet.action(add_group), methods=["POST"]),
        Route("/groups/{group_id}", cabinet.page(group), methods=["GET"]),
        Route("/groups/{group_id}", cabinet.action(change_group), methods=["POST"]),
        Route("/groups/{group_id}/delete", cabinet.action(delete_group), methods=["POST"]),
        Route("/groups/{group_id}/members", cabinet.action(add_members), methods=["POST"]),
        Route(
            "/groups/{group_id}/members/{contact_id}/remove",
            cabinet.action(remove_member),
            methods=["POST"],
        ),
    ]


# ---- the list -------------------------------------------------------------------------------


def _after(raw: str) -> int:
    text = raw.strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) < 19 else 0


def _group_filter(visit: Visit, raw: str) -> GroupView | None:
    text = raw.strip()
    if not text:
        return None
    if not (text.isascii() and text.isdigit()) or len(text) > 12:
        raise NotFound("group not found")
    return visit.services.contacts.group(visit.account, int(text))


def _listing(visit: Visit, error: str = "", values: dict[str, str] | None = None) -> Response:
    account = visit.account
    contacts = visit.services.contacts
    try:
        search = rules.search_text(visit.query.get("q"))
    except InvalidParameter as exc:
        search, error = None, visit.refusal(exc)
    only = _group_filter(visit, visit.query.get("group", ""))
    after = _after(visit.query.get("after", ""))
    page = contacts.list_contacts(account, [only.id] if only else [], after, PAGE_SIZE + 1, search)
    all_groups = contacts.list_groups(account)
    return visit.render(
        "contacts/index.html",
        status_code=400 if error else 200,
        contacts=page[:PAGE_SIZE],
        next_after=page[PAGE_SIZE - 1].id if len(page) > PAGE_SIZE else None,
        after=after,
        q=visit.query.get("q", ""),
        only=only,
        groups=all_groups,
        group_names={g.id: g.name for g in all_groups},
        total=contacts.count_contacts(account),
        error=error,
        values=values or {"phone": "", "email": "", "name": ""},
    )


def index(visit: Visit) -> Response:
    return _listing(visit)


def _chosen_groups(visit: Visit) -> list[int]:
    return [
        int(g)
        for g in visit.form.getlist("groups")
        if isinstance(g, str) and g.isascii() and g.isdigit() and len(g) < 13
    ]


def add(visit: Visit) -> Response:
    values = {name: visit.field(name) for name in ("phone", "email", "name")}
    try:
        new = rules.new_contacts(
            values["phone"] or None,
            values["email"] or None,
            values["name"],
            visit.account.region,
        )
        ids = visit.services.contacts.add_contacts(
            visit.account, new, _chosen_groups(visit), visit.now
        )
    except NotFound:
        raise
    except DomainError as error:
        return _listing(visit, visit.refusal(error), values)
    added = visit.ngettext("%(num)s contact added", "%(num)s contacts added", len(ids))
    return visit.redirect("/contacts", added)


# ---- one contact ---------------------------------------------------------------------------


def _contact(visit: Visit) -> ContactView:
    return visit.services.contacts.contact(visit.account, visit.path_int("contact_id"))


def _detail(visit: Visit, contact: ContactView, error: str = "") -> Response:
    all_groups = visit.services.contacts.list_groups(visit.account)
    return visit.render(
        "contacts/detail.html",
        status_code=400 if error else 200,
        contact=contact,
        member_of=[g for g in all_groups if g.id in contact.group_ids],
        other_groups=[g for g in all_groups if g.id not in contact.group_ids],
        error=error,
    )


def detail(visit: Visit) -> Response:
    return _detail(visit, _contact(visit))


def change(visit: Visit) -> Response:
    contact = _contact(visit)
    try:
        edit = rules.contact_change(
            visit.field("phone") or None,
            visit.field("email") or None,
            visit.field("name"),
            visit.account.region,
        )
        visit.services.contacts.change_contact(visit.account, ContactKeys(ids=(contact.id,)), edit)
    except NotFound:
        raise
    except DomainError as error:
        return _detail(visit, contact, visit.refusal(error))
    return visit.redirect(f"/contacts/{contact.id}", visit.gettext("Contact saved"))


def delete(visit: Visit) -> Response:
    contact_id = visit.path_int("contact_id")
    visit.services.contacts.delete_contacts(visit.account, ContactKeys(ids=(contact_id,)))
    return visit.redirect("/contacts", visit.gettext("Contact deleted"))


def join_group(visit: Visit) -> Response:
    """Add the contact to a group (`group`) or take it out of one (`leave`)."""
    contact_id = visit.path_int("contact_id")
    leave = visit.field("leave")
    raw = leave or visit.field("group")
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 12:
        raise NotFound("group not found")
    mode = MoveMode.REMOVE if leave else MoveMode.ADD
    visit.services.contacts.move(visit.account, ContactKeys(ids=(contact_id,)), [int(raw)], mode)
    return visit.redirect(f"/contacts/{contact_id}", visit.gettext("Groups saved"))


# ---- export -------------------------------------------------------------------------------


def export_csv(visit: Visit) -> Response:
    """Every contact (of one group with `?group=`) as CSV in the import's own format, read
    and sent a batch at a time."""
    only = _group_filter(visit, visit.query.get("group", ""))
    contacts = visit.services.contacts
    account = visit.account
    nums = {g.id: g.num for g in contacts.list_groups(account)}
    rows: Iterator[ContactView] = contacts.iter_contacts(account, [only.id] if only else [])
    name = f"contacts-group-{only.num}.csv" if only else "contacts.csv"
    return StreamingResponse(
        (line.encode() for line in csv_lines(rows, nums)),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


# ---- import -------------------------------------------------------------------------------


class Imports:
    """Upload a CSV, import it in the background, watch the bar, read the report."""

    def __init__(self, runner: ImportRunner) -> None:
        self._runner = runner

    def _form(self, visit: Visit, error: str = "") -> Response:
        return visit.render(
            "contacts/import.html",
            status_code=400 if error else 200,
            groups=visit.services.contacts.list_groups(visit.account),
            error=error,
            max_mb=MAX_UPLOAD // (1024 * 1024),
        )

    def form(self, visit: Visit) -> Response:
        return self._form(visit)

    def start(self, visit: Visit) -> Response:
        upload = visit.form.get("file")
        try:
            return self._start(visit, upload)
        finally:
            # Starlette leaves the spooled upload open; the import reads its own copy.
            if isinstance(upload, UploadFile):
                upload.file.close()

    def _start(self, visit: Visit, upload: UploadFile | str | None) -> Response:
        if not isinstance(upload, UploadFile) or not upload.filename:
            return self._form(visit, visit.gettext("Choose a CSV file to import."))
        if upload.size is not None and upload.size > MAX_UPLOAD:
            too_large = visit.gettext("The file is larger than %(mb)s MB.", mb=MAX_UPLOAD // 2**20)
            return self._form(visit, too_large)
        account = visit.account
        group_ids = _chosen_groups(visit)
        contacts = visit.services.contacts
        now = visit.now

        def run(stream: IO[bytes], progress: Callable[[int], None]) -> ImportReport:
            rows = read_contacts(stream, account.region)
            return contacts.import_contacts(account, rows, group_ids, now, progress)

        try:
            job = self._runner.start(account.id, upload.filename, upload.file, run)
        except RuntimeError as exc:
            # imports.py's refusals are English marked with N_(): said in the visit's words.
            return self._form(visit, visit.gettext(str(exc)))
        return visit.redirect(f"/contacts/import/{job.id}")

    def _job(self, visit: Visit) -> ImportJob:
        raw = str(visit.request.path_params.get("import_id", ""))
        job = self._runner.get(visit.account.id, raw)
        if job is None:
            raise NotFound("import not found")
        return job

    def page(self, visit: Visit) -> Response:
        return visit.render("contacts/import_job.html", job=self._job(visit))

    def progress(self, visit: Visit) -> Response:
        """The bar alone, polled by the page until the import is done."""
        return visit.render("contacts/import_progress.html", job=self._job(visit))


# ---- groups -------------------------------------------------------------------------------


def _groups(visit: Visit, error: str = "", values: dict[str, str] | None = None) -> Response:
    return visit.render(
        "contacts/groups.html",
        status_code=400 if error else 200,
        groups=visit.services.contacts.list_groups(visit.account),
        error=error,
        values=values or {"name": "", "num": "", "type": "0"},
    )


def groups(visit: Visit) -> Response:
    return _groups(visit)


def add_group(visit: Visit) -> Response:
    values = {name: visit.field(name) for name in ("name", "num", "type")}
    try:
        name = rules.group_name(values["name"], required=True)
        assert name is not None
        visit.services.contacts.add_group(
            visit.account,
            name,
            rules.group_num(values["num"]),
            rules.group_type(values["type"]),
            visit.now,
        )
    except DomainError as error:
        return _groups(visit, visit.refusal(error), values)
    return visit.redirect("/groups", visit.gettext("Group created"))


def _group(visit: Visit) -> GroupView:
    return visit.services.contacts.group(visit.account, visit.path_int("group_id"))


def _group_page(visit: Visit, found: GroupView, error: str = "", **extra: Any) -> Response:
    after = _after(visit.query.get("after", ""))
    members = visit.services.contacts.list_contacts(
        visit.account, [found.id], after, PAGE_SIZE + 1, None
    )
    return visit.render(
        "contacts/group.html",
        status_code=400 if error else 200,
        group=found,
        members=members[:PAGE_SIZE],
        next_after=members[PAGE_SIZE - 1].id if len(members) > PAGE_SIZE else None,
        after=after,
        error=error,
        phones=extra.get("phones", ""),
    )


def group(visit: Visit) -> Response:
    return _group_page(visit, _group(visit))


def change_group(visit: Visit) -> Response:
    found = _group(visit)
    try:
        visit.services.contacts.change_group(
            visit.account,
            found.id,
            rules.group_name(visit.field("name"), required=True),
            rules.group_num(visit.field("num")),
        )
    except NotFound:
        raise
    except DomainError as error:
        return _group_page(visit, found, visit.refusal(error))
    return visit.redirect(f"/groups/{found.id}", visit.gettext("Group saved"))


def delete_group(visit: Visit) -> Response:
    visit.services.contacts.delete_groups(visit.account, [visit.path_int("group_id")])
    return visit.redirect("/groups", visit.gettext("Group deleted; its contacts stay"))


def add_members(visit: Visit) -> Response:
    """Existing contacts join the group, named by their phone numbers."""
    found = _group(visit)
    phones = visit.field("phones")
    try:
        keys = ContactKeys(phones=tuple(rules.phone_list(phones, visit.account.region, "phones")))
        if not keys.phones:
            raise InvalidParameter("%(field)s: required", field="phones")
        visit.services.contacts.move(visit.account, keys, [found.id], MoveMode.ADD)
    except DomainError as error:
        # The group is the account's (checked above): a miss here is a number it has no
        # contact for.
        message = "no contact has one of these numbers" if isinstance(error, NotFound) else ""
        return _group_page(visit, found, message or visit.refusal(error), phones=phones)
    return visit.redirect(f"/groups/{found.id}", visit.gettext("Members added"))


def remove_member(visit: Visit) -> Response:
    group_id = visit.path_int("group_id")
    contact_id = visit.path_int("contact_id")
    visit.services.contacts.move(
        visit.account, ContactKeys(ids=(contact_id,)), [group_id], MoveMode.REMOVE
    )
    return visit.redirect(f"/groups/{group_id}", visit.gettext("Removed from the group"))


PAGE = PageModule(NAV, routes)

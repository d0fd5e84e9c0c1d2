"""The Russian catalogue against the code: every string the cabinet's code and templates
and the command line's code mark for translation (extracted now, with babel.cfg) must be in
messages.po, translated, not fuzzy, with the same placeholders as its English — else Russian
visitors and operators would read English, or a page or a command would fail on a missing
%(name)s."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from tidings.web.i18n import po_path

ROOT = Path(__file__).resolve().parents[2]
# babel.cfg's patterns are relative to it: web/**.py, cli/**.py, web/templates/**.html.
SOURCES = ROOT / "src" / "tidings"
# A printf placeholder as gettext's python-format sees it: %(name)s, %s, %d, %%.
PLACEHOLDER = re.compile(r"%(?:\(\w+\))?[-#0 +]*\d*(?:\.\d+)?[sdifr%]")

Msgid = str | tuple[str, str]
# A marked string and its context (pgettext: the same English meaning two things), if any.
Marked = tuple[Msgid, str | None]


def extracted() -> list[Marked]:
    """The strings marked in src/tidings/web and src/tidings/cli now, as
    `pybabel extract -F babel.cfg src/tidings` sees them."""
    with (ROOT / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    found: dict[Marked, None] = {}
    for _file, _line, message, _comments, context in extract_from_dir(
        SOURCES, method_map, options_map
    ):
        msgid: Msgid = message if isinstance(message, str) else (message[0], message[1])
        if msgid:
            found[(msgid, context)] = None
    return list(found)


def russian() -> Catalog:
    with po_path("ru").open("rb") as po:
        return read_po(po, locale="ru")


def placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text))


def problems(marked: Iterable[Marked], catalog: Catalog) -> Iterator[str]:
    """What is wrong with each marked string's entry in the catalogue."""
    for msgid, context in marked:
        key = msgid[0] if isinstance(msgid, tuple) else msgid
        entry = catalog.get(key, context=context)
        if entry is None:
            yield f"missing: {msgid!r}"
            continue
        if entry.fuzzy:
            yield f"fuzzy: {msgid!r}"
        raw = entry.string if isinstance(entry.string, tuple | list) else (entry.string,)
        forms = tuple(str(form or "") for form in raw)
        if isinstance(msgid, tuple) != isinstance(entry.id, tuple):
            yield f"plural forms differ from the code's: {msgid!r}"
        if not all(forms) or (isinstance(msgid, tuple) and len(forms) != catalog.num_plurals):
            yield f"untranslated: {msgid!r}"
            continue
        english = placeholders(" ".join(msgid) if isinstance(msgid, tuple) else msgid)
        for form in forms:
            if placeholders(form) != english:
                yield f"placeholders {sorted(placeholders(form))} ≠ {sorted(english)}: {msgid!r}"


def test_every_cabinet_and_command_line_string_is_translated_into_russian() -> None:
    found = list(problems(extracted(), russian()))
    assert not found, "update messages.po (docs/architecture.md):\n" + "\n".join(found)


def test_the_catalogue_check_finds_what_it_should() -> None:
    """The check above can fail: a new string, an empty or fuzzy entry, a lost placeholder."""
    catalog = Catalog(locale="ru")
    catalog.add("Empty", "")
    catalog.add("Fuzzy", "Нечётко", flags=["fuzzy"])
    catalog.add("%(n)s sent", "отправлено")
    catalog.add(("%(num)s run", "%(num)s runs"), ("%(num)s запуск", "%(num)s запуска", ""))
    catalog.add("Name", "Название")
    marked: list[Marked] = [
        ("A string added today", None),
        ("Empty", None),
        ("Fuzzy", None),
        ("%(n)s sent", None),
        (("%(num)s run", "%(num)s runs"), None),
        ("Name", "person"),  # translated without this context only
    ]
    found = list(problems(marked, catalog))
    assert [p.split(":")[0] for p in found] == [
        "missing",
        "untranslated",
        "fuzzy",
        "placeholders [] ≠ ['%(n)s']",
        "untranslated",
        "missing",
    ]


@pytest.mark.parametrize(
    "marked",
    [
        ("Mailing lists", None),
        (("%(num)s SMS part", "%(num)s SMS parts"), None),
        ("Name", "person"),
        ("created account %(login)s (id %(id)s)", None),
        ("Manage accounts.", None),
    ],
)
def test_the_extraction_sees_python_and_templates(marked: Marked) -> None:
    """A menu title (N_() in a page module), a template's ngettext and pgettext, and the
    command line's messages and help texts (_() in src/tidings/cli) are found."""
    assert marked in extracted()

"""The Russian catalogue against the code: every string the cabinet's code and templates
mark for translation (extracted now, with babel.cfg) must be in messages.po, translated,
not fuzzy, with the same placeholders as its English — else Russian visitors would read
English, or a page would fail on a missing %(name)s."""

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
WEB = ROOT / "src" / "tidings" / "web"
# A printf placeholder as gettext's python-format sees it: %(name)s, %s, %d, %%.
PLACEHOLDER = re.compile(r"%(?:\(\w+\))?[-#0 +]*\d*(?:\.\d+)?[sdifr%]")

Msgid = str | tuple[str, str]


def extracted() -> list[Msgid]:
    """The strings marked in src/tidings/web now, as `pybabel extract -F babel.cfg` sees them."""
    with (ROOT / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    found: dict[Msgid, None] = {}
    for _file, _line, message, _comments, _context in extract_from_dir(
        WEB, method_map, options_map
    ):
        msgid: Msgid = message if isinstance(message, str) else (message[0], message[1])
        if msgid:
            found[msgid] = None
    return list(found)


def russian() -> Catalog:
    with po_path("ru").open("rb") as po:
        return read_po(po, locale="ru")


def placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text))


def problems(msgids: Iterable[Msgid], catalog: Catalog) -> Iterator[str]:
    """What is wrong with each msgid's entry in the catalogue ("" when nothing)."""
    for msgid in msgids:
        key = msgid[0] if isinstance(msgid, tuple) else msgid
        entry = catalog.get(key)
        if entry is None:
            yield f"missing: {msgid!r}"
            continue
        if entry.fuzzy:
            yield f"fuzzy: {msgid!r}"
        forms = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        if isinstance(msgid, tuple) != isinstance(entry.id, tuple):
            yield f"plural forms differ from the code's: {msgid!r}"
        if not all(forms) or (isinstance(msgid, tuple) and len(forms) != catalog.num_plurals):
            yield f"untranslated: {msgid!r}"
            continue
        english = (
            placeholders(msgid[0]) | placeholders(msgid[1])
            if isinstance(msgid, tuple)
            else placeholders(msgid)
        )
        for form in forms:
            if placeholders(form) != english:
                yield f"placeholders {sorted(placeholders(form))} ≠ {sorted(english)}: {msgid!r}"


def test_every_cabinet_string_is_translated_into_russian() -> None:
    found = list(problems(extracted(), russian()))
    assert not found, "update messages.po (docs/architecture.md):\n" + "\n".join(found)


def test_the_catalogue_check_finds_what_it_should() -> None:
    """The check above can fail: a new string, an empty or fuzzy entry, a lost placeholder."""
    catalog = Catalog(locale="ru")
    catalog.add("Empty", "")
    catalog.add("Fuzzy", "Нечётко", flags=["fuzzy"])
    catalog.add("%(n)s sent", "отправлено")
    catalog.add(("%(num)s run", "%(num)s runs"), ("%(num)s запуск", "%(num)s запуска", ""))
    msgids: list[Msgid] = [
        "A string added today",
        "Empty",
        "Fuzzy",
        "%(n)s sent",
        ("%(num)s run", "%(num)s runs"),
    ]
    found = list(problems(msgids, catalog))
    assert [p.split(":")[0] for p in found] == [
        "missing",
        "untranslated",
        "fuzzy",
        "placeholders [] ≠ ['%(n)s']",
        "untranslated",
    ]


@pytest.mark.parametrize("msgid", ["Mailing lists", ("%(num)s SMS part", "%(num)s SMS parts")])
def test_the_extraction_sees_python_and_templates(msgid: Msgid) -> None:
    """A menu title (N_() in a page module) and a template's ngettext are both found."""
    assert msgid in extracted()

"""Every refusal a cabinet visitor can meet is said in Russian: the domain's, the store's and
the cabinet's own DomainErrors — and the reasons a contacts import gives for a row it leaves
out — are made of a constant template and its values (errors.DomainError), and each
template is in the cabinet's table of refusals (web/refusals.py), so in its catalogue,
translated. The HTTP API's and the doors' own refusals (tidings.api, tidings.doors) reach
API clients only, in the API's English."""

from __future__ import annotations

import ast
import importlib
import inspect
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

import tidings.errors
from tests.unit.test_catalogue import russian
from tidings.domain.callback_urls import CallbackPolicy
from tidings.domain.contact_import import RejectedRow, parse_row
from tidings.errors import DomainError, InvalidParameter
from tidings.web.i18n import language as Language
from tidings.web.refusals import REFUSALS, VALUE_TEXTS, refusal_text
from tidings.web.templating import build_templates

SRC = Path(__file__).resolve().parents[2] / "src"
# The layers a cabinet form's request goes through.
WALKED = ("tidings/domain", "tidings/store", "tidings/web")
# The domain errors, and the rows a contacts import leaves out (said the same way).
ERRORS = {
    name
    for name, kind in vars(tidings.errors).items()
    if inspect.isclass(kind) and issubclass(kind, DomainError)
} | {"RejectedRow"}
# Where the template is among the arguments (a rejected row's line comes first).
TEMPLATE_AT = {"RejectedRow": 1}


def _module(path: Path) -> str:
    return ".".join(path.relative_to(SRC).with_suffix("").parts)


def raised() -> Iterator[tuple[str, int, str | None]]:
    """(module, line, template) of every refusal made in the walked layers; the
    template is None when it is not a constant (an f-string, say)."""
    for layer in WALKED:
        for path in sorted((SRC / layer).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            module = None
            for node in ast.walk(tree):
                if not isinstance(node, ast.Call):
                    continue
                func = node.func
                name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
                at = TEMPLATE_AT.get(name, 0)
                if name not in ERRORS or len(node.args) <= at:
                    continue
                first = node.args[at]
                template: str | None = None
                if isinstance(first, ast.Constant) and isinstance(first.value, str):
                    template = first.value
                elif isinstance(first, ast.Name):
                    module = module or importlib.import_module(_module(path))
                    value = getattr(module, first.id, None)
                    template = value if isinstance(value, str) else None
                yield _module(path), node.lineno, template


def test_every_refusal_is_a_constant_template() -> None:
    found = [f"{module}:{line}" for module, line, template in raised() if template is None]
    assert not found, "raise a template and its values, not an f-string:\n" + "\n".join(found)


def test_every_refusal_is_in_the_cabinets_table() -> None:
    known = set(REFUSALS)
    missing = sorted({t for _m, _l, t in raised() if t is not None and t not in known})
    assert not missing, "add to REFUSALS in web/refusals.py:\n" + "\n".join(missing)


def test_every_refusal_and_word_in_it_has_a_russian_translation() -> None:
    catalog = russian()
    untranslated = [
        text
        for text in (*REFUSALS, *VALUE_TEXTS.values())
        if (entry := catalog.get(text)) is None or not entry.string or entry.fuzzy
    ]
    assert not untranslated, "translate in messages.po:\n" + "\n".join(untranslated)


@pytest.mark.parametrize("template", sorted(REFUSALS))
def test_each_refusal_reads_in_russian_and_in_english(template: str) -> None:
    """Filled with sample values, the template makes the same English the API answers,
    and Russian that is not that English."""
    values = {name: "x" for name in _placeholders(template)}
    error = InvalidParameter(template, **values)
    assert refusal_text(Language("en"), error) == error.description
    said = refusal_text(Language("ru"), error)
    assert (said and said != error.description) or not _has_latin_words(said)


def _placeholders(template: str) -> list[str]:
    return re.findall(r"%\((\w+)\)[sr]", template)


def _has_latin_words(text: str) -> bool:
    return re.search(r"[A-Za-z]{4,}", text) is not None


def test_the_field_and_the_words_the_domain_fills_in_are_translated() -> None:
    error = InvalidParameter("%(field)s: required for %(what)s", field="subj", what="an e-mail")
    assert refusal_text(Language("ru"), error) == "Тема: обязательное поле для письма"
    assert refusal_text(Language("en"), error) == "subj: required for an e-mail"


def test_a_refused_callback_url_says_why_in_russian() -> None:
    with pytest.raises(InvalidParameter) as refused:
        CallbackPolicy().check("hooks.test", ["127.0.0.1"])
    english = "callback URL: hooks.test is not allowed (127.0.0.1 is a loopback address)"
    assert refused.value.description == english
    assert refusal_text(Language("ru"), refused.value) == (
        "Адрес уведомлений: hooks.test не разрешён (127.0.0.1 — локальный (loopback) адрес)"
    )


def test_a_rejected_import_row_reads_in_russian() -> None:
    row = parse_row(7, {"phone": "12-34", "name": "", "email": ""}, "RU")
    assert isinstance(row, RejectedRow) and row.reason == "not a phone number: 12-34"
    said = build_templates("ru").from_string("{{ _(row.template, **row.values) }}")
    assert said.render(row=row) == "это не номер телефона: 12-34"

"""docs/production.md's settings reference: one row for every setting config.py defines, with
its real default, and none for a setting that does not exist — so it cannot drift."""

from __future__ import annotations

import dataclasses
import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from tests.unit.test_settings_file import _setting_names
from tidings.config import Settings, SmppUpstream, SmtpUpstream

DOC = Path(__file__).resolve().parents[2] / "docs" / "production.md"
ROW = re.compile(r"^\| `([\w.]+)` \| (.*?) \| (.+) \|$", re.MULTILINE)
UPSTREAMS: dict[str, type[Any]] = {"smpp": SmppUpstream, "smtp": SmtpUpstream}
REQUIRED = "required"
REFERENCE = "\n## Settings reference\n"  # the last section: its tables are the reference


def rendered(value: object) -> str:
    """A default as the reference writes it: the TOML value, in backticks; `unset` for none."""
    return "unset" if value is None else f"`{_toml(value)}`"


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | Decimal):
        return json.dumps(str(value), ensure_ascii=False)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, dict):
        inner = ", ".join(f"{k} = {_toml(v)}" for k, v in value.items())
        return f"{{ {inner} }}" if inner else "{}"
    return repr(value)


def default_of(name: str) -> str:
    head, _, rest = name.partition(".")
    if head in UPSTREAMS:
        found = {f.name: f for f in dataclasses.fields(UPSTREAMS[head])}[rest]
        if found.default is not dataclasses.MISSING:
            return rendered(found.default)
        return REQUIRED
    model: type[BaseModel] = Settings
    parts = name.split(".")
    for part in parts[:-1]:
        annotation = model.model_fields[part].annotation
        assert isinstance(annotation, type) and issubclass(annotation, BaseModel)
        model = annotation
    return rendered(model.model_fields[parts[-1]].get_default(call_default_factory=True))


def _rows() -> dict[str, tuple[str, str]]:
    text = DOC.read_text(encoding="utf-8")
    assert REFERENCE in text
    rows: dict[str, tuple[str, str]] = {}
    for key, default, meaning in ROW.findall(text.split(REFERENCE, 1)[1]):
        assert key not in rows, f"{key} has two rows"
        rows[key] = (default.strip(), meaning.strip())
    return rows


def test_the_reference_has_a_row_for_every_setting_and_no_other() -> None:
    rows = _rows()
    names = _setting_names()
    assert len(names) > 100
    assert sorted(names - rows.keys()) == [], "settings missing from docs/production.md"
    assert sorted(rows.keys() - names) == [], "rows for settings that do not exist"


def test_each_default_in_the_reference_is_the_real_one() -> None:
    wrong = {
        key: (shown, default_of(key))
        for key, (shown, _meaning) in _rows().items()
        if shown != default_of(key)
    }
    assert wrong == {}, "key: (in the doc, the real default)"


def test_each_row_says_what_the_setting_does() -> None:
    assert [key for key, (_d, meaning) in _rows().items() if len(meaning) < 8] == []


def test_the_reference_renders_defaults_as_toml() -> None:
    assert default_of("dispatch.callbacks.deadline_s") == "`10.0`"
    assert default_of("tariff.default_price") == '`"2.00"`'
    assert default_of("http.trusted_proxies") == "`[]`"
    assert default_of("virtual.failures") == "`{}`"
    assert default_of("smpp.name") == REQUIRED
    assert default_of("smpp.source_ton") == "unset"
    assert default_of("web.cookie_secure") == "`false`"

"""The settings file: the sample `tidings config init` writes names every setting with its
real default, and a misspelt key anywhere is refused rather than ignored."""

from __future__ import annotations

import dataclasses
import re
import tomllib
from pathlib import Path
from typing import Any, get_args

import pytest
from pydantic import BaseModel

from tidings.cli.config_sample import SAMPLE
from tidings.config import Settings, SettingsError, SmppUpstream, SmtpUpstream, load_settings

# Settings a file sample cannot show usefully: a DKIM key as bytes (the sample shows the path).
NOT_IN_SAMPLE = {"smtp.dkim_private_key"}
UPSTREAM_MARK = "# Upstreams:"


def _sections() -> dict[str, type[BaseModel]]:
    found = {}
    for name, field in Settings.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            found[name] = annotation
    return found


def _model_names(prefix: str, model: type[BaseModel]) -> set[str]:
    """`prefix.key` for each setting of a table, and of the tables nested in it."""
    names = set()
    for inner, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            names |= _model_names(f"{prefix}.{inner}", annotation)
        else:
            names.add(f"{prefix}.{inner}")
    return names


def _setting_names() -> set[str]:
    names = set()
    sections = _sections()
    for name in Settings.model_fields:
        if name in sections:
            names |= _model_names(name, sections[name])
        elif name not in ("smpp", "smtp"):
            names.add(name)
    for prefix, upstream in (("smpp", SmppUpstream), ("smtp", SmtpUpstream)):
        names |= {f"{prefix}.{f.name}" for f in dataclasses.fields(upstream)}
    return names


def _sample_names() -> set[str]:
    names, table = set(), ""
    for line in SAMPLE.splitlines():
        header = re.match(r"^#?\s*\[\[?([\w.]+)\]\]?", line)
        if header:
            table = header.group(1)
            continue
        key = re.match(r"^# (\w+) = ", line)
        if key:
            names.add(f"{table}.{key.group(1)}" if table else key.group(1))
    return names


def test_the_sample_names_every_setting() -> None:
    assert _sample_names() == _setting_names() - NOT_IN_SAMPLE


def test_each_default_in_the_sample_is_the_real_default(tmp_path: Path) -> None:
    """Uncomment every setting above the upstream examples: the file must read as the
    defaults exactly."""
    head, _upstreams = SAMPLE.split(UPSTREAM_MARK, 1)
    uncommented = re.sub(r"^# (\w+ = )", r"\1", head, flags=re.MULTILINE)
    parsed = tomllib.loads(uncommented)
    assert len(parsed) > 10
    path = tmp_path / "tidings.toml"
    path.write_text(uncommented)
    assert load_settings(str(path)).model_dump() == Settings().model_dump()


def test_the_upstream_examples_read_as_valid_upstreams(tmp_path: Path) -> None:
    _head, upstreams = SAMPLE.split(UPSTREAM_MARK, 1)
    examples = upstreams.split("\n", 1)[1]  # after the line that introduces them
    uncommented = re.sub(r"^# ?", "", examples, flags=re.MULTILINE)
    path = tmp_path / "tidings.toml"
    path.write_text(uncommented)
    settings = load_settings(str(path))
    assert [u.name for u in settings.smpp] == ["main"]
    assert [u.name for u in settings.smtp] == ["relay"]


def test_the_sample_as_written_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "tidings.toml"
    path.write_text(SAMPLE)
    assert load_settings(str(path)).model_dump() == Settings().model_dump()


@pytest.mark.parametrize("name", sorted(_sections()))
def test_a_misspelt_key_in_any_table_is_refused(tmp_path: Path, name: str) -> None:
    path = tmp_path / "tidings.toml"
    path.write_text(f"[{name}]\nno_such_key = 1\n")
    with pytest.raises(SettingsError, match=rf"{name}\.no_such_key: unknown setting"):
        load_settings(str(path))


@pytest.mark.parametrize("kind", ["smpp", "smtp"])
def test_a_misspelt_key_in_an_upstream_is_refused(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "tidings.toml"
    path.write_text(
        f'[[{kind}]]\nname = "a"\nhost = "h"\nport = 1\nsystem_id = "x"\n'
        'password = "p"\nno_such_key = 2\n'
    )
    with pytest.raises(SettingsError, match=r"no_such_key: unknown setting"):
        load_settings(str(path))


def test_every_table_is_strict() -> None:
    """A table added later without the strict config would ignore misspelt keys again."""

    def loose(model: type[BaseModel]) -> list[str]:
        found = [] if model.model_config.get("extra") == "forbid" else [model.__name__]
        for field in model.model_fields.values():
            annotation = field.annotation
            if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                found += loose(annotation)
        return found

    problems: list[Any] = [n for model in _sections().values() for n in loose(model)]
    assert not problems
    assert get_args(Settings.model_fields["smpp"].annotation) == (SmppUpstream,)


def test_a_variable_for_one_key_of_a_table_keeps_the_file_s_other_keys(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # docs/operations.md: `redis_url = …` "or TIDINGS_GUARDS__REDIS_URL". Setting that
    # variable once replaced the file's whole [guards] table with the defaults: the limits
    # written beside it (here 1000 requests in flight per login) silently fell back to 14.
    path = tmp_path / "tidings.toml"
    path.write_text(
        "[guards]\nmax_concurrent_per_login = 1000\n[dispatch.callbacks]\ndeadline_s = 7\n"
    )
    monkeypatch.setenv("TIDINGS_GUARDS__REDIS_URL", "redis://127.0.0.1:6379/0")
    monkeypatch.setenv("TIDINGS_DISPATCH__CALLBACKS__CONCURRENCY", "9")
    settings = load_settings(str(path))
    assert settings.guards.redis_url == "redis://127.0.0.1:6379/0"
    assert settings.guards.max_concurrent_per_login == 1000
    assert settings.dispatch.callbacks.concurrency == 9
    assert settings.dispatch.callbacks.deadline_s == 7


def test_a_variable_still_wins_over_the_same_key_in_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "tidings.toml"
    path.write_text("[guards]\nmax_concurrent_per_login = 1000\n")
    monkeypatch.setenv("TIDINGS_GUARDS__MAX_CONCURRENT_PER_LOGIN", "20")
    assert load_settings(str(path)).guards.max_concurrent_per_login == 20

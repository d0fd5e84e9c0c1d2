"""Shared by fmt 0 and 1: one record is one line."""

from __future__ import annotations

from collections.abc import Sequence


def one_line(value: str | int) -> str:
    """[choice] jobs.md §3: a line break is written as the two characters `\\n`, `\\` as `\\\\`."""
    text = str(value)
    if "\\" in text:
        text = text.replace("\\", "\\\\")
    if "\n" in text or "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\\n")
    return text


def join_record(record: Sequence[tuple[str, str | int]], separator: str) -> str:
    return separator.join(one_line(value) for _name, value in record)

"""The request rules jobs.php `add`, send.php and the cabinet's create form share, on plain
values (no HTTP)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tidings.domain.accounts import Account
from tidings.domain.job_request import new_job
from tidings.domain.send_request import new_send
from tidings.errors import InvalidParameter

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
ACCOUNT = Account(1, "shop", "Europe/Moscow", "RU", "RUB", 0, True, False, None, "")
MAIL = {"name": "News", "mail": "1", "phones": "a@example.com", "mes": "Hi"}


@pytest.mark.parametrize("subject", ["s" * 256, " " + "s" * 256 + " "])
def test_a_subject_over_255_characters_is_refused_by_both_rules(subject: str) -> None:
    values = {**MAIL, "subj": subject}
    with pytest.raises(InvalidParameter) as by_jobs:
        new_job(values, ACCOUNT, NOW)
    with pytest.raises(InvalidParameter) as by_send:
        new_send(values, ACCOUNT, NOW, None)
    assert by_jobs.value.description == by_send.value.description
    assert by_send.value.description == "subj: at most 255 characters"


def test_a_subject_of_255_characters_is_kept_whole_by_both_rules() -> None:
    values = {**MAIL, "subj": " " + "s" * 255 + " "}
    assert new_job(values, ACCOUNT, NOW).subject == "s" * 255
    assert new_send(values, ACCOUNT, NOW, None).subject == "s" * 255

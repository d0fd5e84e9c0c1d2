"""jobs.php `add` and send.php share their request rules (domain/message_rules.py): one
input, one answer, whichever door it came through."""

from __future__ import annotations

from tests.conftest import Server

LONGEST_SUBJECT = "s" * 255


def test_jobs_and_send_refuse_a_subject_over_255_characters_alike(server: Server, ip: str) -> None:
    acc, psw = server.account()
    mail = {"login": acc.login, "psw": psw, "mail": 1, "phones": "a@example.com", "mes": "Hi"}
    too_long = LONGEST_SUBJECT + "s"
    for fmt in (0, 3):
        by_jobs = server.call("jobs", ip=ip, add=1, name="News", subj=too_long, fmt=fmt, **mail)
        by_send = server.call("send", ip=ip, subj=too_long, fmt=fmt, **mail)
        assert by_jobs == by_send
    assert by_send == '{"error": "subj: at most 255 characters", "error_code": 1}'
    # Refused, not cut: nothing was stored or queued.
    assert server.call("jobs", ip=ip, get_all=1, **mail) == "NO JOBS"
    assert server.call("get", ip=ip, get_messages=1, **mail) == "NO MESSAGES"


def test_jobs_and_send_take_a_subject_of_255_characters(server: Server, ip: str) -> None:
    acc, psw = server.account()
    mail = {"login": acc.login, "psw": psw, "mail": 1, "phones": "a@example.com", "mes": "Hi"}
    assert server.call("jobs", ip=ip, add=1, name="News", subj=LONGEST_SUBJECT, **mail).startswith(
        "OK"
    )
    assert server.call("send", ip=ip, subj=LONGEST_SUBJECT, **mail).startswith("OK")
    job = server.call("jobs", ip=ip, get=1, id=1, fmt=3, **mail)
    assert f'"subject": "{LONGEST_SUBJECT}"' in job

"""Which SMPP upstream a number takes (tidings.domain.routing.Routes): the longest matching
prefix; else the first upstream without prefixes; else the first one. (These cases were
checked on a second router in channels/smpp, never used by the dispatcher, removed.)"""

from __future__ import annotations

from tidings.domain.routing import UNROUTED, VIRTUAL, Routes

UPSTREAMS = (
    ("default", ()),
    ("russia", ("7",)),
    ("mts", ("7910", "7915", "7916")),
    ("kz", ("77",)),
)


def test_longest_prefix_wins_and_catch_all_is_the_fallback() -> None:
    routes = Routes(smpp=UPSTREAMS)
    picks = {
        address: routes.channel_for(address, mail=False, test_mode=False)
        for address in ("79101234567", "79161234567", "79991234567", "77011234567", "380501234567")
    }
    assert picks == {
        "79101234567": "mts",
        "79161234567": "mts",
        "79991234567": "russia",
        "77011234567": "kz",
        "380501234567": "default",
    }


def test_without_a_catch_all_an_unmatched_number_takes_the_first_upstream() -> None:
    routes = Routes(smpp=(("ru", ("7",)), ("ua", ("380",))))
    assert routes.channel_for("4915112345678", mail=False, test_mode=False) == "ru"
    assert routes.channel_for("380501234567", mail=False, test_mode=False) == "ua"


def test_test_mode_takes_the_virtual_upstream_and_a_live_account_without_one_waits() -> None:
    assert Routes(smpp=UPSTREAMS).channel_for("79101234567", mail=False, test_mode=True) == VIRTUAL
    assert Routes().channel_for("79101234567", mail=False, test_mode=False) == UNROUTED
    assert Routes(smpp=UPSTREAMS).channel_for("a@b.example", mail=True, test_mode=False) == UNROUTED
    assert Routes().channel_for("a@b.example", mail=True, test_mode=True) == VIRTUAL
    staging = Routes(virtual_for_live=True)
    assert staging.channel_for("79101234567", mail=False, test_mode=False) == VIRTUAL
    assert not Routes(smpp=UPSTREAMS).takes(mail=True) and Routes(smpp=UPSTREAMS).takes(mail=False)

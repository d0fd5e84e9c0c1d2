"""Scheduling rules of jobs.php: `time`, `tz`, `rpt`, `rptn`, `period`, `freq`, `valid`."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tidings.domain.schedule import (
    MOSCOW,
    FirstRun,
    HourWindow,
    Repeat,
    format_local,
    next_run,
    parse_date,
    parse_freq,
    parse_period,
    parse_rpt,
    parse_rptn,
    parse_time,
    parse_tz,
    parse_valid,
    portion_offsets,
    portion_plan,
    runs_remaining,
    validate_spread,
)
from tidings.errors import InvalidDate, InvalidParameter

BERLIN = ZoneInfo("Europe/Berlin")
# A Monday; Moscow 15:00. Never the system clock.
NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
# Before both 2026 DST changes in Berlin (29 March and 25 October).
WINTER_NOW = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)


def utc(year: int, month: int, day: int, hour: int, minute: int, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def fixed(hours: int) -> timezone:
    return timezone(timedelta(hours=hours))


# --- parse_tz -----------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [None, "", "  "])
def test_tz_absent_gives_the_account_default(value: str | None) -> None:
    assert parse_tz(value, BERLIN) is BERLIN


@pytest.mark.parametrize(
    ("value", "utc_hours"),
    [("0", 3), ("-1", 2), ("9", 12), ("+2", 5), (" 4 ", 7), ("11", 14), ("-15", -12)],
)
def test_tz_offset_is_relative_to_moscow(value: str, utc_hours: int) -> None:
    zone = parse_tz(value, MOSCOW)
    assert zone.utcoffset(None) == timedelta(hours=utc_hours)


def test_tz_accepts_an_iana_name() -> None:
    assert parse_tz("Europe/Berlin", MOSCOW) == BERLIN
    assert parse_tz("UTC", MOSCOW) == ZoneInfo("UTC")


@pytest.mark.parametrize(
    "value",
    ["12", "-16", "1.5", "Mars/Olympus", "Europe", "europe/berlin", "../etc/passwd", "/etc/x", "+"],
)
def test_tz_unknown_is_an_invalid_date(value: str) -> None:
    with pytest.raises(InvalidDate, match="invalid tz"):
        parse_tz(value, MOSCOW)


# --- parse_time ---------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [None, "", "0", "  "])
def test_time_absent_or_zero_is_now(value: str | None) -> None:
    assert parse_time(value, MOSCOW, NOW) == FirstRun(at=NOW, window=None)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2512261430", utc(2026, 12, 25, 11, 30)),
        ("25.12.26 14:30", utc(2026, 12, 25, 11, 30)),
        ("25.12.2026 14:30", utc(2026, 12, 25, 11, 30)),
        ("25.12.2026 14:30:15", utc(2026, 12, 25, 11, 30, 15)),
        (" 25.12.2026 14:30 ", utc(2026, 12, 25, 11, 30)),
    ],
)
def test_time_wall_clock_forms_are_read_in_the_zone(value: str, expected: datetime) -> None:
    assert parse_time(value, MOSCOW, NOW) == FirstRun(at=expected)


def test_time_wall_clock_uses_the_given_tz() -> None:
    kamchatka = parse_tz("9", MOSCOW)
    assert parse_time("25.12.26 14:30", kamchatka, NOW).at == utc(2026, 12, 25, 2, 30)
    assert parse_time("25.12.26 14:30", BERLIN, NOW).at == utc(2026, 12, 25, 13, 30)


def test_time_result_is_utc_even_when_now_is_not() -> None:
    first = parse_time("+30", MOSCOW, NOW.astimezone(MOSCOW))
    assert first.at == NOW + timedelta(minutes=30)
    assert first.at.tzinfo is UTC


def test_time_unix_timestamp_is_zone_independent() -> None:
    expected = datetime.fromtimestamp(1_800_000_000, UTC)
    assert parse_time("01800000000", MOSCOW, NOW).at == expected
    assert parse_time("01800000000", parse_tz("9", MOSCOW), NOW).at == expected


@pytest.mark.parametrize("value", ["01764000000", "00", "01", "15.06.2026 14:59", "0106261200"])
def test_time_in_the_past_is_now(value: str) -> None:
    assert parse_time(value, MOSCOW, NOW) == FirstRun(at=NOW)


def test_time_plus_minutes_counts_from_now() -> None:
    assert parse_time("+30", MOSCOW, NOW).at == NOW + timedelta(minutes=30)
    assert parse_time("+525600", MOSCOW, NOW).at == NOW + timedelta(days=365)


@pytest.mark.parametrize(
    ("value", "window"),
    [("9-18", HourWindow(9, 18)), ("22-6", HourWindow(22, 6)), ("0-24", HourWindow(0, 24))],
)
def test_time_hour_window_sends_now_within_the_window(value: str, window: HourWindow) -> None:
    assert parse_time(value, MOSCOW, NOW) == FirstRun(at=NOW, window=window)


@pytest.mark.parametrize(
    "value",
    [
        "31.02.26 10:00",
        "25.12.26 25:00",
        "25.12.26 14:60",
        "3212261430",
        "2512261460",
        "25.12.26",
        "25.12.26 14:30:15",
        "25-12-2026 10:00",
        "5.1.2026 10:00",
        "garbage",
        "+0",
        "+525601",
        "+",
        "-30",
        "25-3",
        "9-9",
        "9-",
        "0" + "9" * 13,
        "0999999999999",
    ],
)
def test_time_unparsable_is_an_invalid_date(value: str) -> None:
    with pytest.raises(InvalidDate, match="invalid time format"):
        parse_time(value, MOSCOW, NOW)


def test_time_in_a_dst_gap_moves_forward_by_the_gap() -> None:
    # 02:30 does not exist in Berlin on 29 March 2026; it becomes 03:30 CEST.
    first = parse_time("29.03.2026 02:30", BERLIN, WINTER_NOW)
    assert first.at == utc(2026, 3, 29, 1, 30)
    assert format_local(first.at, BERLIN) == "29.03.2026 03:30:00"


def test_ambiguous_time_takes_the_first_occurrence() -> None:
    # 02:30 happens twice in Berlin on 25 October 2026; the first is still summer time (UTC+2).
    assert parse_time("25.10.2026 02:30", BERLIN, WINTER_NOW).at == utc(2026, 10, 25, 0, 30)


def test_time_needs_an_aware_now() -> None:
    with pytest.raises(ValueError):
        parse_time("+5", MOSCOW, datetime(2026, 1, 1))


# --- HourWindow ---------------------------------------------------------------------------------


def at(hour: int, minute: int = 0, zone: tzinfo = MOSCOW, day: int = 15) -> datetime:
    return datetime(2026, 6, day, hour, minute, tzinfo=zone)


@pytest.mark.parametrize(
    ("window", "hour", "minute", "is_open"),
    [
        (HourWindow(9, 18), 9, 0, True),
        (HourWindow(9, 18), 17, 59, True),
        (HourWindow(9, 18), 18, 0, False),
        (HourWindow(9, 18), 8, 59, False),
        (HourWindow(22, 6), 23, 0, True),
        (HourWindow(22, 6), 0, 0, True),
        (HourWindow(22, 6), 5, 59, True),
        (HourWindow(22, 6), 6, 0, False),
        (HourWindow(22, 6), 21, 59, False),
        (HourWindow(22, 24), 23, 59, True),
        (HourWindow(22, 24), 0, 0, False),
        (HourWindow(24, 6), 0, 0, True),
        (HourWindow(0, 24), 3, 0, True),
        (HourWindow(0, 24), 23, 59, True),
    ],
)
def test_window_contains(window: HourWindow, hour: int, minute: int, is_open: bool) -> None:
    assert window.contains(at(hour, minute)) is is_open


@pytest.mark.parametrize(("start", "end"), [(9, 9), (0, 0), (24, 24), (25, 3), (3, 25), (-1, 3)])
def test_window_rejects_empty_or_out_of_range_hours(start: int, end: int) -> None:
    with pytest.raises(InvalidDate):
        HourWindow(start, end)


def test_next_open_is_the_time_itself_when_open() -> None:
    local = at(10, 17)
    assert HourWindow(9, 18).next_open(local) is local


@pytest.mark.parametrize(
    ("window", "local", "expected"),
    [
        (HourWindow(9, 18), at(7, 15), at(9)),
        (HourWindow(9, 18), at(19), at(9, day=16)),
        (HourWindow(22, 6), at(12), at(22)),
        (HourWindow(22, 6), at(6), at(22)),
        (HourWindow(24, 6), at(12), at(0, day=16)),
    ],
)
def test_next_open(window: HourWindow, local: datetime, expected: datetime) -> None:
    assert window.next_open(local) == expected


def test_next_open_keeps_the_callers_zone() -> None:
    local = datetime(2026, 6, 15, 7, 0, tzinfo=BERLIN)
    opened = HourWindow(9, 18).next_open(local)
    assert opened.tzinfo is BERLIN
    assert opened.astimezone(UTC) == utc(2026, 6, 15, 7, 0)


def test_next_open_in_a_dst_gap_opens_after_the_gap() -> None:
    local = datetime(2026, 3, 29, 0, 30, tzinfo=BERLIN)
    opened = HourWindow(2, 5).next_open(local)
    assert opened.astimezone(UTC) == utc(2026, 3, 29, 1, 0)
    assert (opened.hour, opened.minute) == (3, 0)


def test_next_open_skips_a_window_swallowed_by_a_dst_gap() -> None:
    # 02:00-03:00 does not exist in Berlin on 29 March 2026; the window next opens a day later.
    local = datetime(2026, 3, 29, 0, 30, tzinfo=BERLIN)
    opened = HourWindow(2, 3).next_open(local)
    assert opened.astimezone(UTC) == datetime(2026, 3, 30, 2, 0, tzinfo=BERLIN).astimezone(UTC)


# --- rpt, rptn ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, Repeat.NONE), ("", Repeat.NONE), ("0", Repeat.NONE), ("2", Repeat.DAILY), ("7", 7)],
)
def test_parse_rpt(value: str | None, expected: Repeat) -> None:
    assert parse_rpt(value) == expected


@pytest.mark.parametrize("value", ["8", "-1", "x", "1.5", "99999999999"])
def test_parse_rpt_rejects_others(value: str) -> None:
    with pytest.raises(InvalidParameter, match=r"rpt must be 0\.\.7"):
        parse_rpt(value)


@pytest.mark.parametrize(
    ("value", "expected"), [(None, 0), ("", 0), ("0", 0), ("5", 5), ("1000000", 1_000_000)]
)
def test_parse_rptn(value: str | None, expected: int) -> None:
    assert parse_rptn(value) == expected


@pytest.mark.parametrize("value", ["1000001", "-1", "x", "2.0"])
def test_parse_rptn_rejects_others(value: str) -> None:
    with pytest.raises(InvalidParameter):
        parse_rptn(value)


@pytest.mark.parametrize(
    ("rptn", "done", "expected"), [(0, 0, True), (0, 500, True), (3, 2, True), (3, 3, False)]
)
def test_runs_remaining_counts_the_first_run(rptn: int, done: int, expected: bool) -> None:
    assert runs_remaining(rptn, done) is expected


# --- next_run -----------------------------------------------------------------------------------


def berlin(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    """A Berlin wall-clock time as aware UTC."""
    return datetime(year, month, day, hour, minute, tzinfo=BERLIN).astimezone(UTC)


def test_no_repeat_has_no_next_run() -> None:
    assert next_run(NOW, Repeat.NONE, BERLIN) is None


@pytest.mark.parametrize(
    ("previous", "expected"),
    [
        # Spring forward: 09:00 stays 09:00 local, so the UTC hour moves from 08 to 07.
        (utc(2026, 3, 28, 8, 0), utc(2026, 3, 29, 7, 0)),
        # Fall back: 09:00 stays 09:00 local, so the UTC hour moves from 07 to 08.
        (utc(2026, 10, 24, 7, 0), utc(2026, 10, 25, 8, 0)),
    ],
)
def test_daily_keeps_local_wall_clock_across_dst(previous: datetime, expected: datetime) -> None:
    following = next_run(previous, Repeat.DAILY, BERLIN)
    assert following == expected
    assert format_local(following, BERLIN).endswith("09:00:00")


def test_daily_into_a_dst_gap_moves_forward_and_stays_there() -> None:
    previous = berlin(2026, 3, 28, 2, 30)
    assert previous == utc(2026, 3, 28, 1, 30)
    on_gap_day = next_run(previous, Repeat.DAILY, BERLIN)
    assert on_gap_day == utc(2026, 3, 29, 1, 30)
    assert format_local(on_gap_day, BERLIN) == "29.03.2026 03:30:00"
    # The original 02:30 is not remembered (documented): the next day is 03:30 again.
    assert on_gap_day is not None
    assert next_run(on_gap_day, Repeat.DAILY, BERLIN) == berlin(2026, 3, 30, 3, 30)


def test_daily_into_an_ambiguous_time_takes_the_first_occurrence() -> None:
    following = next_run(berlin(2026, 10, 24, 2, 30), Repeat.DAILY, BERLIN)
    assert following == utc(2026, 10, 25, 0, 30)


def test_hourly_adds_real_hours_across_fall_back() -> None:
    first = utc(2026, 10, 25, 0, 30)  # 02:30 CEST
    second = next_run(first, Repeat.HOURLY, BERLIN)
    assert second == utc(2026, 10, 25, 1, 30)  # 02:30 CET, the same wall clock an hour later
    assert format_local(first, BERLIN) == format_local(second, BERLIN) == "25.10.2026 02:30:00"


def test_hourly_adds_real_hours_across_spring_forward() -> None:
    second = next_run(utc(2026, 3, 29, 0, 30), Repeat.HOURLY, BERLIN)  # 01:30 CET
    assert second == utc(2026, 3, 29, 1, 30)
    assert format_local(second, BERLIN) == "29.03.2026 03:30:00"


def test_next_run_accepts_a_non_utc_previous_and_returns_utc() -> None:
    following = next_run(NOW.astimezone(BERLIN), Repeat.HOURLY, BERLIN)
    assert following == NOW + timedelta(hours=1)
    assert following is not None and following.tzinfo is UTC


@pytest.mark.parametrize(
    ("previous", "expected"),
    [
        # Friday 27 March → Monday 30 March, across the spring-forward weekend.
        (berlin(2026, 3, 27, 9, 0), berlin(2026, 3, 30, 9, 0)),
        (berlin(2026, 3, 30, 9, 0), berlin(2026, 3, 31, 9, 0)),
        (berlin(2026, 3, 28, 9, 0), berlin(2026, 3, 30, 9, 0)),
    ],
)
def test_workdays(previous: datetime, expected: datetime) -> None:
    assert next_run(previous, Repeat.WORKDAYS, BERLIN) == expected


@pytest.mark.parametrize(
    ("previous", "expected"),
    [
        # Sunday 25 October (fall back) → Saturday 31 October.
        (berlin(2026, 10, 25, 9, 0), berlin(2026, 10, 31, 9, 0)),
        (berlin(2026, 10, 24, 9, 0), berlin(2026, 10, 25, 9, 0)),
        (berlin(2026, 10, 21, 9, 0), berlin(2026, 10, 24, 9, 0)),
    ],
)
def test_weekends(previous: datetime, expected: datetime) -> None:
    assert next_run(previous, Repeat.WEEKENDS, BERLIN) == expected


def test_weekly_keeps_local_wall_clock_across_dst() -> None:
    following = next_run(berlin(2026, 3, 25, 9, 0), Repeat.WEEKLY, BERLIN)
    assert following == utc(2026, 4, 1, 7, 0)


@pytest.mark.parametrize(
    ("previous", "expected"),
    [
        (berlin(2026, 1, 31, 9, 0), berlin(2026, 2, 28, 9, 0)),
        (berlin(2028, 1, 31, 9, 0), berlin(2028, 2, 29, 9, 0)),
        (berlin(2026, 3, 15, 9, 0), utc(2026, 4, 15, 7, 0)),
        (berlin(2026, 12, 31, 9, 0), berlin(2027, 1, 31, 9, 0)),
        # Clamped days are not remembered (documented): 28 Feb → 28 Mar.
        (berlin(2026, 2, 28, 9, 0), berlin(2026, 3, 28, 9, 0)),
    ],
)
def test_monthly(previous: datetime, expected: datetime) -> None:
    assert next_run(previous, Repeat.MONTHLY, BERLIN) == expected


@pytest.mark.parametrize(
    ("previous", "expected"),
    [
        (berlin(2028, 2, 29, 9, 0), berlin(2029, 2, 28, 9, 0)),
        (berlin(2026, 6, 15, 9, 0), berlin(2027, 6, 15, 9, 0)),
    ],
)
def test_yearly(previous: datetime, expected: datetime) -> None:
    assert next_run(previous, Repeat.YEARLY, BERLIN) == expected


def test_daily_in_a_fixed_offset_zone_is_24_hours() -> None:
    assert next_run(NOW, Repeat.DAILY, fixed(12)) == NOW + timedelta(days=1)


# --- valid --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "minutes"),
    [
        (None, 0),
        ("", 0),
        ("1", 60),
        ("24", 1440),
        ("00:01", 1),
        ("24:00", 1440),
        ("1:30", 90),
        ("12:05", 725),
    ],
)
def test_parse_valid(value: str | None, minutes: int) -> None:
    assert parse_valid(value) == minutes


@pytest.mark.parametrize("value", ["25", "00:00", "24:01", "12:60", "abc", "1.5", "-1", "1:5"])
def test_parse_valid_rejects_others(value: str) -> None:
    with pytest.raises(InvalidParameter, match="valid must be"):
        parse_valid(value)


# --- period, freq, portions ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, "0"),
        ("", "0"),
        ("2.5", "2.5"),
        ("2,5", "2.5"),
        ("3", "3"),
        ("0.1", "0.1"),
        ("720", "720"),
        ("2.50", "2.5"),
        ("3.0", "3"),
    ],
)
def test_parse_period(value: str | None, expected: str) -> None:
    assert parse_period(value) == expected


@pytest.mark.parametrize("value", ["0.09", "720.5", "721", "x", "-1", "1e2", ".5", "NaN"])
def test_parse_period_rejects_others(value: str) -> None:
    with pytest.raises(InvalidParameter, match="period"):
        parse_period(value)


@pytest.mark.parametrize(("value", "expected"), [(None, 0), ("", 0), ("1", 1), ("1440", 1440)])
def test_parse_freq(value: str | None, expected: int) -> None:
    assert parse_freq(value) == expected


@pytest.mark.parametrize("value", ["1441", "x", "1.5", "-5"])
def test_parse_freq_rejects_others(value: str) -> None:
    with pytest.raises(InvalidParameter, match="freq"):
        parse_freq(value)


@pytest.mark.parametrize(("period", "freq"), [("0", 0), ("1", 15), ("2.5", 1440)])
def test_spread_given_together_or_not_at_all(period: str, freq: int) -> None:
    validate_spread(period, freq)


@pytest.mark.parametrize(("period", "freq"), [("1", 0), ("0", 15)])
def test_spread_needs_both(period: str, freq: int) -> None:
    with pytest.raises(InvalidParameter, match="period and freq"):
        validate_spread(period, freq)


@pytest.mark.parametrize(
    ("total", "period", "freq", "plan"),
    [
        (10, "1", 15, [3, 3, 2, 2]),
        (2, "1", 15, [1, 1, 0, 0]),
        (0, "1", 15, [0, 0, 0, 0]),
        (7, Decimal("2.5"), 60, [3, 2, 2]),
        (5, 0.1, 7, [5]),
        (9, "1", 7, [1] * 9),
        (100, "2,5", 1440, [100]),
    ],
)
def test_portion_plan(
    total: int, period: Decimal | float | str, freq: int, plan: list[int]
) -> None:
    assert portion_plan(total, period, freq) == plan


@given(
    total=st.integers(min_value=0, max_value=100_000),
    tenths=st.integers(min_value=1, max_value=7200),
    freq=st.integers(min_value=1, max_value=1440),
)
def test_portion_plan_is_balanced(total: int, tenths: int, freq: int) -> None:
    plan = portion_plan(total, Decimal(tenths) / 10, freq)
    assert sum(plan) == total
    assert max(plan) - min(plan) <= 1
    assert plan == sorted(plan, reverse=True)
    assert len(plan) == len(portion_offsets(Decimal(tenths) / 10, freq))


@pytest.mark.parametrize(("period", "freq"), [("0", 15), ("1", 0), ("x", 15)])
def test_portion_plan_rejects_an_empty_spread(period: str, freq: int) -> None:
    with pytest.raises(InvalidParameter):
        portion_plan(10, period, freq)


def test_portion_offsets() -> None:
    assert portion_offsets("1", 15) == [timedelta(minutes=m) for m in (0, 15, 30, 45)]
    assert portion_offsets(0.1, 7) == [timedelta(0)]


# --- dates in requests and responses ------------------------------------------------------------


def test_parse_date() -> None:
    assert parse_date("01.02.2026") == date(2026, 2, 1)
    assert parse_date(" 29.02.2028 ") == date(2028, 2, 29)


@pytest.mark.parametrize("value", ["31.02.2026", "1.2.2026", "2026-02-01", "01.02.26", "", "x"])
def test_parse_date_rejects_others(value: str) -> None:
    with pytest.raises(InvalidDate):
        parse_date(value)


def test_format_local() -> None:
    moment = utc(2026, 12, 25, 11, 30, 5)
    assert format_local(moment, MOSCOW) == "25.12.2026 14:30:05"
    assert format_local(moment, BERLIN) == "25.12.2026 12:30:05"
    assert format_local(None, MOSCOW) == ""


def test_zero_means_absent_for_valid_period_and_freq() -> None:
    # Clients echo `get` output back (period "0", frequency 0): "0" is "not given", not an error.
    assert parse_valid("0") == 0
    assert parse_period("0") == "0"
    assert parse_freq("0") == 0


def test_unescaped_plus_in_form_body_still_means_minutes_from_now() -> None:
    now = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    assert parse_time(" 30", MOSCOW, now).at == now + timedelta(minutes=30)


@pytest.mark.parametrize(("total", "portions"), [(10, 4), (3, 5), (7, 7), (100, 3), (1, 1)])
def test_portion_index_splits_like_portion_plan(total: int, portions: int) -> None:
    from tidings.domain.schedule import portion_index

    counts = [0] * portions
    for position in range(total):
        counts[portion_index(position, total, portions)] += 1
    # `portions` hours at one portion an hour → exactly `portions` portions.
    assert counts == portion_plan(total, Decimal(portions), 60)

"""Scheduling rules of a mailing list: when it first runs, how it repeats, how a run is spread.

Pure logic for the jobs.php parameters `time`, `tz`, `rpt`, `rptn`, `period`, `freq` and `valid`
(spec/jobs.md §1 and §4). Nothing here reads the clock: every function that needs "now" takes it
as an aware datetime, so the rules can be tested at any instant, DST changes included.

Wall-clock times are turned into instants by one rule, kept in `_localise`: a local time that does
not exist (spring-forward gap) moves forward by the length of the gap, and an ambiguous one
(fall-back) means its first occurrence.
"""

from __future__ import annotations

import calendar
import enum
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from tidings.errors import InvalidDate, InvalidParameter

MOSCOW = ZoneInfo("Europe/Moscow")

# `tz` is relative to Moscow, which has been UTC+3 all year round since 2014.
_MOSCOW_UTC_OFFSET_HOURS = 3
_MIN_UTC_OFFSET_HOURS = -12
_MAX_UTC_OFFSET_HOURS = 14

_MAX_DELAY_MINUTES = 60 * 24 * 365
_MAX_RPTN = 1_000_000
_MAX_VALID_MINUTES = 24 * 60
_MIN_PERIOD_HOURS = Decimal("0.1")
_MAX_PERIOD_HOURS = Decimal(720)
_MAX_FREQ_MINUTES = 24 * 60

_INVALID_TIME = "invalid time format"

_TZ_OFFSET = re.compile(r"[+-]?\d{1,2}")
# Restricting the characters keeps path tricks ("../", absolute paths) away from ZoneInfo,
# which looks keys up on the file system.
_TZ_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_+\-]*(?:/[A-Za-z0-9_+\-]+)*")
_INT = re.compile(r"[+-]?\d{1,9}")


# --- time zones ---------------------------------------------------------------------------------


def parse_tz(value: str | None, default: tzinfo) -> tzinfo:
    """Zone of the `tz` parameter: hours relative to Moscow, or an IANA name; empty → `default`."""
    text = (value or "").strip()
    if not text:
        return default
    if _TZ_OFFSET.fullmatch(text):
        return _offset_from_moscow(int(text))
    if len(text) <= 64 and _TZ_NAME.fullmatch(text):
        return _iana_zone(text)
    raise InvalidDate("invalid tz")


def _offset_from_moscow(hours: int) -> tzinfo:
    utc_hours = _MOSCOW_UTC_OFFSET_HOURS + hours
    if not _MIN_UTC_OFFSET_HOURS <= utc_hours <= _MAX_UTC_OFFSET_HOURS:
        raise InvalidDate("invalid tz")
    return timezone(timedelta(hours=utc_hours))


def _iana_zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    # KeyError: unknown key; ValueError: malformed key or not a TZif file; OSError: a directory.
    except (KeyError, ValueError, OSError) as exc:
        raise InvalidDate("invalid tz") from exc


def _localise(wall: datetime, zone: tzinfo) -> datetime:
    """Instant (aware UTC) of a wall-clock time in `zone`; the tzinfo of `wall` is ignored.

    fold=0 gives both project rules at once: zoneinfo reads a time in a gap with the offset from
    before the transition, which lands after the gap, and an ambiguous time as its first occurrence.
    """
    return wall.replace(tzinfo=zone, fold=0).astimezone(UTC)


def _require_aware(moment: datetime, name: str) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime")


# --- hour windows (`time=h1-h2`) ----------------------------------------------------------------


@dataclass(frozen=True)
class HourWindow:
    """Hours of the day when messages may be handed over: [start_hour, end_hour) local time.

    A window with start_hour > end_hour wraps midnight (22-6 = 22:00 to 05:59:59). Hour 24 is
    midnight, so 0-24 is the whole day and 22-24 the last two hours of it.
    """

    start_hour: int
    end_hour: int

    def __post_init__(self) -> None:
        in_range = 0 <= self.start_hour <= 24 and 0 <= self.end_hour <= 24
        empty = self.start_hour % 24 == self.end_hour % 24 and not self._whole_day
        if not in_range or empty:
            raise InvalidDate(_INVALID_TIME)

    @property
    def _whole_day(self) -> bool:
        return {self.start_hour, self.end_hour} == {0, 24}

    def contains(self, local: datetime) -> bool:
        """Whether the window is open at `local` (judged by its wall-clock hour)."""
        if self._whole_day:
            return True
        start, end = self.start_hour % 24, self.end_hour % 24
        if start < end:
            return start <= local.hour < end
        return local.hour >= start or local.hour < end

    def next_open(self, local: datetime) -> datetime:
        """Earliest time ≥ `local` when the window is open, in the zone of `local`."""
        _require_aware(local, "local")
        if self.contains(local):
            return local
        zone = local.tzinfo
        assert zone is not None  # checked by _require_aware; narrows the type for mypy
        after = local.astimezone(UTC)
        # Three days suffice: the opening hour recurs daily, and a DST gap can swallow it
        # (window 2-3 on a spring-forward day) at most once in a row.
        for days in range(3):
            wall = local.replace(tzinfo=None) + timedelta(days=days)
            opening = _localise(
                wall.replace(hour=self.start_hour % 24, minute=0, second=0, microsecond=0), zone
            )
            candidate = opening.astimezone(zone)
            if opening > after and self.contains(candidate):
                return candidate
        raise AssertionError("an hour window opens within three days")


# --- first run (`time`) -------------------------------------------------------------------------


@dataclass(frozen=True)
class FirstRun:
    """When a mailing list first runs (aware UTC), and the hour window it is limited to, if any."""

    at: datetime
    window: HourWindow | None = None


_DIGITS_10 = re.compile(r"(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})")
# Seconds only with a four-digit year: the forms the spec lists, and nothing looser.
_DOTTED_SHORT = re.compile(r"(\d{2})\.(\d{2})\.(\d{2}) (\d{2}):(\d{2})")
_DOTTED_LONG = re.compile(r"(\d{2})\.(\d{2})\.(\d{4}) (\d{2}):(\d{2})(?::(\d{2}))?")
# A 12-digit timestamp already reaches past year 9999, the limit of datetime.
_UNIX = re.compile(r"0(\d{1,12})")
_DELAY = re.compile(r"\+(\d{1,6})")
_WINDOW = re.compile(r"(\d{1,2})-(\d{1,2})")


def parse_time(value: str | None, zone: tzinfo, now: datetime) -> FirstRun:
    """First run from the `time` parameter; wall-clock forms are read in `zone`.

    Absent, "0" or a time in the past means now. Unparsable → InvalidDate.
    """
    _require_aware(now, "now")
    now_utc = now.astimezone(UTC)
    raw = value or ""
    # An unescaped '+' in a form-encoded body arrives as a space: " 30" was "+30".
    text = "+" + raw.strip() if raw[:1] == " " and raw.strip().isdigit() else raw.strip()
    if text in ("", "0"):
        return FirstRun(at=now_utc)
    window_match = _WINDOW.fullmatch(text)
    if window_match:
        start, end = (int(group) for group in window_match.groups())
        return FirstRun(at=now_utc, window=HourWindow(start, end))
    return FirstRun(at=max(_parse_instant(text, zone, now_utc), now_utc))


def _parse_instant(text: str, zone: tzinfo, now_utc: datetime) -> datetime:
    # Ten digits are always DDMMYYhhmm, even with a leading zero: as a "0<unix ts>" they would
    # name a moment in 1973 at the latest, which means "now" anyway.
    parsers: tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], datetime]], ...] = (
        (_DIGITS_10, lambda m: _localise(_wall_clock(*m.groups()), zone)),
        (_DOTTED_SHORT, lambda m: _localise(_wall_clock(*m.groups()), zone)),
        (_DOTTED_LONG, lambda m: _localise(_wall_clock(*m.groups()), zone)),
        (_UNIX, lambda m: _from_unix(m.group(1))),
        (_DELAY, lambda m: now_utc + _delay(m.group(1))),
    )
    for pattern, parse in parsers:
        match = pattern.fullmatch(text)
        if match:
            return parse(match)
    raise InvalidDate(_INVALID_TIME)


def _wall_clock(
    day: str, month: str, year: str, hour: str, minute: str, second: str | None = None
) -> datetime:
    """Naive wall-clock time from its text fields; a two-digit year is in the 2000s."""
    full_year = int(year) + 2000 if len(year) == 2 else int(year)
    try:
        return datetime(full_year, int(month), int(day), int(hour), int(minute), int(second or 0))
    except ValueError as exc:
        raise InvalidDate(_INVALID_TIME) from exc


def _from_unix(seconds: str) -> datetime:
    try:
        return datetime.fromtimestamp(int(seconds), UTC)
    except (OverflowError, ValueError, OSError) as exc:
        raise InvalidDate(_INVALID_TIME) from exc


def _delay(minutes: str) -> timedelta:
    count = int(minutes)
    if not 1 <= count <= _MAX_DELAY_MINUTES:
        raise InvalidDate(_INVALID_TIME)
    return timedelta(minutes=count)


# --- repeats (`rpt`, `rptn`) --------------------------------------------------------------------


class Repeat(enum.IntEnum):
    """The `rpt` parameter."""

    NONE = 0
    HOURLY = 1
    DAILY = 2
    WORKDAYS = 3
    WEEKENDS = 4
    WEEKLY = 5
    MONTHLY = 6
    YEARLY = 7


def _parse_int(value: str | None) -> int | None:
    """Integer of a parameter, None when absent or empty; raises ValueError when malformed."""
    text = (value or "").strip()
    if not text:
        return None
    if not _INT.fullmatch(text):
        raise ValueError(text)
    return int(text)


def parse_rpt(value: str | None) -> Repeat:
    """The `rpt` parameter; absent → Repeat.NONE."""
    try:
        number = _parse_int(value)
        return Repeat.NONE if number is None else Repeat(number)
    except ValueError as exc:
        raise InvalidParameter("rpt must be 0..7") from exc


def parse_rptn(value: str | None) -> int:
    """The `rptn` parameter: runs in all, first included; absent or 0 → unlimited (0)."""
    try:
        number = _parse_int(value)
    except ValueError:
        number = -1
    if number is None:
        return 0
    if not 0 <= number <= _MAX_RPTN:
        raise InvalidParameter("rptn must be 0..%(n)s", n=_MAX_RPTN)
    return number


def runs_remaining(rptn: int, runs_done: int) -> bool:
    """Whether another run is due after `runs_done` runs; `rptn` counts the first, 0 = no limit."""
    return rptn == 0 or runs_done < rptn


def next_run(previous: datetime, repeat: Repeat, zone: tzinfo) -> datetime | None:
    """Next scheduled run (aware UTC) after the run scheduled at `previous`; None if no repeat.

    Hourly runs follow real time. Every other repeat keeps the local wall-clock time in `zone`
    across DST changes: the calendar step is taken on the local wall clock and the result is
    localised again. The step starts from the previous run as it was actually scheduled, so a run
    pushed out of a DST gap (02:30 → 03:30) stays at 03:30 afterwards, and a monthly run clamped
    to a short month (31 Jan → 28 Feb) stays on the 28th: the original day is not remembered.
    """
    _require_aware(previous, "previous")
    repeat = Repeat(repeat)  # a plain int read back from storage works too
    if repeat is Repeat.NONE:
        return None
    if repeat is Repeat.HOURLY:
        return previous.astimezone(UTC) + timedelta(hours=1)
    wall = previous.astimezone(zone).replace(tzinfo=None)
    return _localise(_CALENDAR_STEPS[repeat](wall), zone)


def _next_day_where(wall: datetime, wanted: Callable[[datetime], bool]) -> datetime:
    step = wall + timedelta(days=1)
    while not wanted(step):
        step += timedelta(days=1)
    return step


def _add_months(wall: datetime, months: int) -> datetime:
    """Same day `months` later, clamped to the last day of a shorter month."""
    index = wall.year * 12 + wall.month - 1 + months
    year, month = divmod(index, 12)
    last_day = calendar.monthrange(year, month + 1)[1]
    return wall.replace(year=year, month=month + 1, day=min(wall.day, last_day))


_SATURDAY = 5

_CALENDAR_STEPS: dict[Repeat, Callable[[datetime], datetime]] = {
    Repeat.DAILY: lambda wall: wall + timedelta(days=1),
    Repeat.WORKDAYS: lambda wall: _next_day_where(wall, lambda d: d.weekday() < _SATURDAY),
    Repeat.WEEKENDS: lambda wall: _next_day_where(wall, lambda d: d.weekday() >= _SATURDAY),
    Repeat.WEEKLY: lambda wall: wall + timedelta(weeks=1),
    Repeat.MONTHLY: lambda wall: _add_months(wall, 1),
    # Twelve months with clamping turns 29 Feb into 28 Feb of a common year.
    Repeat.YEARLY: lambda wall: _add_months(wall, 12),
}


# --- message lifetime (`valid`) -----------------------------------------------------------------

_VALID_HOURS = re.compile(r"\d{1,2}")
_VALID_CLOCK = re.compile(r"(\d{1,2}):(\d{2})")
_VALID_ERROR = "valid must be 1-24 hours or hh:mm 00:01-24:00"


def parse_valid(value: str | None) -> int:
    """Message lifetime in minutes from `valid`; absent or "0" → 0 (the default lifetime)."""
    text = (value or "").strip()
    if text in ("", "0"):
        return 0
    minutes = _valid_minutes(text)
    if minutes is None or not 1 <= minutes <= _MAX_VALID_MINUTES:
        raise InvalidParameter(_VALID_ERROR)
    return minutes


def _valid_minutes(text: str) -> int | None:
    if _VALID_HOURS.fullmatch(text):
        hours = int(text)
        # "0" would be 0 minutes, which the output reserves for "default lifetime"; not accepted.
        return hours * 60 if hours >= 1 else None
    clock = _VALID_CLOCK.fullmatch(text)
    if clock:
        hours, minutes = int(clock.group(1)), int(clock.group(2))
        return hours * 60 + minutes if minutes < 60 else None
    return None


# --- spreading a run (`period`, `freq`) ---------------------------------------------------------

_DECIMAL = re.compile(r"\d{1,4}(?:[.,]\d{1,6})?")
_PERIOD_ERROR = "period must be 0.1-720 hours"
_FREQ_ERROR = "freq must be 1-1440 minutes"


def parse_period(value: str | None) -> str:
    """Spread period in hours from `period`, canonical ("2,50" → "2.5"); absent/"0" → "0"."""
    text = (value or "").strip()
    if text in ("", "0"):
        return "0"
    if not _DECIMAL.fullmatch(text):
        raise InvalidParameter(_PERIOD_ERROR)
    hours = Decimal(text.replace(",", "."))
    if not _MIN_PERIOD_HOURS <= hours <= _MAX_PERIOD_HOURS:
        raise InvalidParameter(_PERIOD_ERROR)
    # normalize() drops trailing zeros; format "f" avoids the exponent it may add (720 → 7.2E+2).
    return format(hours.normalize(), "f")


def parse_freq(value: str | None) -> int:
    """Minutes between portions from `freq`; absent → 0."""
    try:
        number = _parse_int(value)
    except ValueError as exc:
        raise InvalidParameter(_FREQ_ERROR) from exc
    if number is None or number == 0:
        return 0
    if not 1 <= number <= _MAX_FREQ_MINUTES:
        raise InvalidParameter(_FREQ_ERROR)
    return number


def validate_spread(period: str, freq: int) -> None:
    """`period` and `freq` only make sense together (as parsed: "0" / 0 mean absent)."""
    if (_to_decimal(period) != 0) != (freq != 0):
        raise InvalidParameter("period and freq must be given together")


def _to_decimal(value: Decimal | float | str) -> Decimal:
    # str() first so a float such as 0.1 becomes Decimal("0.1"), not its binary expansion.
    try:
        return Decimal(str(value).strip().replace(",", "."))
    except InvalidOperation as exc:
        raise InvalidParameter(_PERIOD_ERROR) from exc


def _portion_count(period_hours: Decimal | float | str, freq_minutes: int) -> int:
    period = _to_decimal(period_hours)
    if not period > 0:
        raise InvalidParameter(_PERIOD_ERROR)
    if freq_minutes < 1:
        raise InvalidParameter(_FREQ_ERROR)
    return math.ceil(period * 60 / freq_minutes)


def portion_plan(total: int, period_hours: Decimal | float | str, freq_minutes: int) -> list[int]:
    """Recipients per portion: sizes differ by at most one, larger first, summing to `total`."""
    if total < 0:
        raise InvalidParameter("total must not be negative")
    portions = _portion_count(period_hours, freq_minutes)
    size, larger = divmod(total, portions)
    return [size + 1] * larger + [size] * (portions - larger)


def portion_offsets(period_hours: Decimal | float | str, freq_minutes: int) -> list[timedelta]:
    """Start of each portion relative to the start of the run: 0, freq, 2·freq, …"""
    portions = _portion_count(period_hours, freq_minutes)
    return [timedelta(minutes=k * freq_minutes) for k in range(portions)]


# --- dates in requests and responses ------------------------------------------------------------

_DATE = re.compile(r"(\d{2})\.(\d{2})\.(\d{4})")


def parse_date(value: str) -> date:
    """A `DD.MM.YYYY` date (get_all `start`, `end`)."""
    match = _DATE.fullmatch(value.strip())
    if not match:
        raise InvalidDate("invalid date format")
    day, month, year = (int(group) for group in match.groups())
    try:
        return date(year, month, day)
    except ValueError as exc:
        raise InvalidDate("invalid date format") from exc


def format_local(dt: datetime | None, zone: tzinfo) -> str:
    """`DD.MM.YYYY hh:mm:ss` in `zone`; "" when there is no time."""
    if dt is None:
        return ""
    _require_aware(dt, "dt")
    local = dt.astimezone(zone)
    # Not strftime: its %Y does not zero-pad years before 1000 on every platform.
    return (
        f"{local.day:02d}.{local.month:02d}.{local.year:04d} "
        f"{local.hour:02d}:{local.minute:02d}:{local.second:02d}"
    )


_OFFSET_NAME = re.compile(r"([+-])(\d{2}):(\d{2})")


def zone_name(zone: tzinfo) -> str:
    """How a zone is stored: its IANA name, or a fixed offset as "+HH:MM"."""
    if isinstance(zone, ZoneInfo):
        return zone.key
    offset = zone.utcoffset(None)
    if offset is None:
        raise ValueError("a zone without a fixed offset must be a ZoneInfo")
    minutes = int(offset.total_seconds() // 60)
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def zone_from_name(name: str) -> tzinfo:
    """The inverse of `zone_name`."""
    match = _OFFSET_NAME.fullmatch(name)
    if match:
        sign = -1 if match.group(1) == "-" else 1
        minutes = int(match.group(2)) * 60 + int(match.group(3))
        return timezone(sign * timedelta(minutes=minutes))
    return ZoneInfo(name)


def portion_index(position: int, total: int, portions: int) -> int:
    """The portion of the recipient at `position` (0-based) when `total` recipients are split
    as `portion_plan` splits them: larger portions first."""
    size, larger = divmod(total, portions)
    if position < larger * (size + 1):
        return position // (size + 1)
    return larger + (position - larger * (size + 1)) // max(size, 1)

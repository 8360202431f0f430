"""EventBridge schedule expressions, and the clock that fires the template's Schedule events.

`rate(N unit)`: minute(s), hour(s) or day(s), singular exactly when N is 1 (as AWS insists); the
first run is one period after the local cloud starts. `cron(min hour day-of-month month
day-of-week year)`: AWS's six fields in UTC, with `?` in one of the two day fields, day-of-week
1-7 = SUN-SAT, `L` (last day of month, or `5L` last Thursday), `W` (`15W`) and `#` (`2#1`, first
Monday); `LW` is not supported here and says so.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from croniter import croniter

from local.console import Console
from local.functions import ScheduleEvent


class ScheduleError(ValueError):
    """An expression AWS would reject."""


class UnsupportedSchedule(ScheduleError):
    """A valid expression the local cloud cannot compute."""


class Timing(Protocol):
    def first_after(self, start: datetime) -> datetime | None: ...

    def next_after(self, fired: datetime) -> datetime | None: ...


_RATE = re.compile(r"^rate\(\s*(\d+)\s+([a-z]+)\s*\)$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}
_DAY_NAMES = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")


@dataclass(frozen=True)
class Rate:
    seconds: int

    def first_after(self, start: datetime) -> datetime | None:
        return start + timedelta(seconds=self.seconds)

    def next_after(self, fired: datetime) -> datetime | None:
        return fired + timedelta(seconds=self.seconds)


@dataclass(frozen=True)
class Cron:
    expression: str
    """The five fields croniter understands (day-of-week 0-6 = SUN-SAT)."""
    years: tuple[tuple[int, int, int], ...] = ()
    """Allowed years as (first, last, step) ranges; empty means every year."""

    def _year_ok(self, year: int) -> bool:
        if not self.years:
            return True
        return any(first <= year <= last and (year - first) % step == 0 for first, last, step in self.years)

    def next_after(self, fired: datetime) -> datetime | None:
        last_year = max((last for _, last, _ in self.years), default=None)
        it = croniter(self.expression, fired)
        for _ in range(10_000):
            candidate: datetime = it.get_next(datetime)
            if last_year is not None and candidate.year > last_year:
                return None
            if self._year_ok(candidate.year):
                return candidate
        return None

    def first_after(self, start: datetime) -> datetime | None:
        return self.next_after(start)


def parse_schedule(expression: str) -> Rate | Cron:
    """A rate() or cron() expression; ScheduleError says what AWS would reject."""
    text = expression.strip()
    if text.startswith("rate("):
        return _parse_rate(text)
    if text.startswith("cron(") and text.endswith(")"):
        return _parse_cron(text[5:-1])
    if text.startswith("at("):
        raise UnsupportedSchedule(f"{expression}: one-time at() schedules are EventBridge Scheduler only")
    raise ScheduleError(f"{expression!r} is neither rate(...) nor cron(...)")


def _parse_rate(text: str) -> Rate:
    match = _RATE.match(text)
    if not match:
        raise ScheduleError(f"{text}: expected rate(N minute[s]|hour[s]|day[s])")
    value, unit = int(match.group(1)), match.group(2)
    singular = unit.rstrip("s")
    if singular not in _UNIT_SECONDS or unit not in (singular, singular + "s"):
        raise ScheduleError(f"{text}: the unit must be minute(s), hour(s) or day(s)")
    if value < 1:
        raise ScheduleError(f"{text}: the value must be a positive number")
    if value == 1 and unit != singular:
        raise ScheduleError(f"{text}: AWS requires the singular for 1: rate(1 {singular})")
    if value > 1 and unit == singular:
        raise ScheduleError(f"{text}: AWS requires the plural above 1: rate({value} {singular}s)")
    return Rate(value * _UNIT_SECONDS[singular])


_FIELD_CHARS = {
    "minutes": r"[0-9,\-*/]+",
    "hours": r"[0-9,\-*/]+",
    "day-of-month": r"[0-9,\-*?/LW]+",
    "month": r"[0-9A-Za-z,\-*/]+",
    "day-of-week": r"[0-9A-Za-z,\-*?/L#]+",
    "year": r"[0-9,\-*/]+",
}


def _parse_cron(body: str) -> Cron:
    fields = body.split()
    where = f"cron({body})"
    if len(fields) != 6:
        raise ScheduleError(
            f"{where}: AWS cron has 6 fields (minutes hours day-of-month month day-of-week year)"
        )
    for (name, pattern), value in zip(_FIELD_CHARS.items(), fields, strict=True):
        if not re.fullmatch(pattern, value):
            raise ScheduleError(f"{where}: invalid {name} field {value!r}")
    minutes, hours, dom, month, dow, year = fields
    if (dom == "?") == (dow == "?"):
        raise ScheduleError(f"{where}: exactly one of day-of-month and day-of-week must be '?'")
    if "LW" in dom or re.search(r"L-\d", dom):
        raise UnsupportedSchedule(f"{where}: 'LW' and 'L-n' in day-of-month are not supported locally")
    dom = "*" if dom == "?" else dom
    dow = "*" if dow == "?" else ",".join(_day_of_week(item, where) for item in dow.split(","))
    expression = f"{minutes} {hours} {dom} {month} {dow}"
    try:
        croniter(expression, datetime(2000, 1, 1, tzinfo=UTC)).get_next(datetime)
    except (ValueError, KeyError) as exc:
        raise ScheduleError(f"{where}: {exc}") from None
    return Cron(expression, _years(year, where))


def _day_number(token: str, where: str) -> str:
    """An AWS day-of-week (1-7 = SUN-SAT, or a name) in croniter's numbering (0-6)."""
    if token.isdigit():
        number = int(token)
        if not 1 <= number <= 7:
            raise ScheduleError(f"{where}: day-of-week {number} is not 1-7")
        return str(number - 1)
    if token.upper() not in _DAY_NAMES:
        raise ScheduleError(f"{where}: unknown day-of-week {token!r}")
    return token.upper()


def _day_of_week(item: str, where: str) -> str:
    if item == "*":
        return item
    if item == "L":
        return "6"  # alone, L is the last day of the week: Saturday
    if "#" in item:
        day, _, nth = item.partition("#")
        if not nth.isdigit() or not 1 <= int(nth) <= 5:
            raise ScheduleError(f"{where}: {item!r}: # takes 1-5")
        return f"{_day_number(day, where)}#{nth}"
    if item.endswith("L"):
        day = _day_number(item[:-1], where)
        if not day.isdigit():
            raise UnsupportedSchedule(f"{where}: {item!r}: use a day number with L (for example 6L)")
        return f"L{day}"
    base, slash, step = item.partition("/")
    if "-" in base:
        first, _, last = base.partition("-")
        base = f"{_day_number(first, where)}-{_day_number(last, where)}"
    elif base != "*":
        base = _day_number(base, where)
    return f"{base}{slash}{step}"


def _years(field_text: str, where: str) -> tuple[tuple[int, int, int], ...]:
    if field_text == "*":
        return ()
    ranges: list[tuple[int, int, int]] = []
    for item in field_text.split(","):
        base, _, step_text = item.partition("/")
        step = int(step_text) if step_text else 1
        if base == "*":
            first, last = 1970, 2199
        elif "-" in base:
            first_text, _, last_text = base.partition("-")
            first, last = int(first_text), int(last_text)
        else:
            first = int(base)
            last = 2199 if step_text else first
        if not 1970 <= first <= last <= 2199 or step < 1:
            raise ScheduleError(f"{where}: invalid year {item!r} (1970-2199)")
        ranges.append((first, last, step))
    return tuple(ranges)


# -------------------------------------------------------------------------------- the clock


@dataclass
class ScheduledEntry:
    event: ScheduleEvent
    timing: Timing | None
    error: str | None = None
    next_fire: datetime | None = None
    last_fire: datetime | None = None
    fired: int = 0
    fired_on_schedule: int = 0  # by the clock, as opposed to on demand

    @property
    def key(self) -> tuple[str, str]:
        return (self.event.function, self.event.event)

    def describe(self) -> dict[str, Any]:
        return {
            "function": self.event.function,
            "event": self.event.event,
            "rule": self.event.rule_name,
            "schedule": self.event.expression,
            "enabled": self.event.enabled and self.timing is not None,
            "input": self.event.input,
            "nextFire": _iso(self.next_fire),
            "lastFire": _iso(self.last_fire),
            "fired": self.fired,
            "firedOnSchedule": self.fired_on_schedule,
            "error": self.error,
        }


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Scheduler:
    """Fires each enabled schedule on time, each firing in its own thread (as async invokes run)."""

    def __init__(
        self,
        events: list[ScheduleEvent],
        fire: Callable[[ScheduleEvent], Any],
        console: Console,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        fire_now: Callable[[ScheduleEvent], Any] | None = None,
    ) -> None:
        #: On schedule: ``fire`` (asynchronous, with retries, in the local cloud); `make fire`:
        #: ``fire_now`` when given (one synchronous attempt whose outcome the caller sees).
        self._fire = fire
        self._fire_now = fire_now or fire
        self._console = console
        self._clock = clock
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.entries: dict[tuple[str, str], ScheduledEntry] = {}
        start = clock()
        for event in events:
            try:
                timing: Timing | None = parse_schedule(event.expression)
                error = None
            except ScheduleError as exc:
                timing, error = None, str(exc)
            entry = ScheduledEntry(event, timing, error)
            if timing is not None and event.enabled:
                entry.next_fire = timing.first_after(start)
            self.entries[entry.key] = entry

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="scheduler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=2)

    def listing(self) -> list[dict[str, Any]]:
        with self._lock:
            return [entry.describe() for entry in self.entries.values()]

    def get(self, function: str, event: str) -> ScheduledEntry | None:
        return self.entries.get((function, event))

    def fire_now(self, function: str, event: str) -> Any:
        """Fire one schedule now, in this thread; returns what `fire` returns."""
        entry = self.entries[(function, event)]
        with self._lock:
            entry.last_fire = self._clock()
            entry.fired += 1
        return self._fire_now(entry.event)

    def due(self, now: datetime) -> list[ScheduledEntry]:
        """Entries whose time has come; advances their next fire time."""
        fired: list[ScheduledEntry] = []
        with self._lock:
            for entry in self.entries.values():
                if entry.timing is None or entry.next_fire is None or entry.next_fire > now:
                    continue
                scheduled = entry.next_fire
                entry.last_fire = now
                entry.fired += 1
                entry.fired_on_schedule += 1
                upcoming = entry.timing.next_after(scheduled)
                while upcoming is not None and upcoming <= now:  # slept through some: fire once
                    upcoming = entry.timing.next_after(upcoming)
                entry.next_fire = upcoming
                fired.append(entry)
        return fired

    def _seconds_to_next(self, now: datetime) -> float:
        with self._lock:
            upcoming = [entry.next_fire for entry in self.entries.values() if entry.next_fire is not None]
        if not upcoming:
            return 3600.0
        return max(0.0, min(60.0, (min(upcoming) - now).total_seconds()))

    def _run(self) -> None:
        while not self._stop.is_set():
            now = self._clock()
            for entry in self.due(now):
                self._console.line("schedule", f"{entry.event.rule_name} → {entry.event.function}")
                threading.Thread(target=self._fire, args=(entry.event,), daemon=True).start()
            self._wake.wait(self._seconds_to_next(self._clock()) + 0.01)
            self._wake.clear()

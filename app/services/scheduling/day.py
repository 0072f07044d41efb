"""Learner days: the day rolls over at an hour of the learner's own time zone.

A "day" is a calendar date in the learner's zone, shifted back by the rollover
hour (default 04:00, as Anki), so a session past midnight still counts as the
evening's day. Wall-clock arithmetic through zoneinfo keeps daylight-saving
changes right: a day may last 23 or 25 hours.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo


@lru_cache(maxsize=256)
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def local_day(instant: datetime, tz: str, rollover_hour: int) -> date:
    """The learner day that `instant` (tz-aware) falls in."""
    wall = instant.astimezone(zone(tz)).replace(tzinfo=None)
    return (wall - timedelta(hours=rollover_hour)).date()


def day_start(day: date, tz: str, rollover_hour: int) -> datetime:
    """The UTC instant at which learner day `day` begins.

    If the rollover hour does not exist that night (spring forward), zoneinfo maps
    it to the first instant after the gap, which still belongs to `day`.
    """
    wall = datetime.combine(day, time(rollover_hour), tzinfo=zone(tz))
    start = wall.astimezone(UTC)
    # A nonexistent wall time (fold=0) converts with the pre-gap offset and lands
    # after the gap; an ambiguous one (fall back) takes its first occurrence. Both
    # satisfy local_day(start) == day, which the tests check over many zones.
    return start


def day_bounds(instant: datetime, tz: str, rollover_hour: int) -> tuple[datetime, datetime]:
    """[start, end) of the learner day containing `instant`, in UTC."""
    today = local_day(instant, tz, rollover_hour)
    return day_start(today, tz, rollover_hour), day_start(
        today + timedelta(days=1), tz, rollover_hour
    )

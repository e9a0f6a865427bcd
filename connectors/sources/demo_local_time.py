"""Local wall time <-> UTC for millions of instants, through a table of zone offsets.

`zoneinfo` converts one datetime at a time, far too slow for 20 million events. The offsets
of a zone only change at its DST transitions, so we ask `zoneinfo` once per zone and day over
the generation window (and once per 15 minutes on the few days whose offset changes), keep the
answers in a (zone, 15-minute slot) table, and convert whole arrays with one gather. Every
transition of the zones we use falls on a quarter hour, so the table is exact.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
from numpy.typing import NDArray

Micros = NDArray[np.int64]

SECOND_US = 1_000_000
MINUTE_US = 60 * SECOND_US
HOUR_US = 60 * MINUTE_US
DAY_US = 24 * HOUR_US
SLOT_US = 15 * MINUTE_US
_SLOTS_PER_DAY = DAY_US // SLOT_US
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _offset_seconds(zone: ZoneInfo, epoch_seconds: int) -> int:
    moment = _EPOCH + timedelta(seconds=epoch_seconds)
    offset = moment.astimezone(zone).utcoffset()
    assert offset is not None  # a ZoneInfo always knows its offset
    return int(offset.total_seconds())


class ZoneOffsets:
    """UTC offsets of `zones` (addressed by position) from `start_us` to `end_us` (UTC)."""

    def __init__(self, zones: Sequence[str], start_us: int, end_us: int) -> None:
        if end_us <= start_us:
            raise ValueError("the offset table window must end after it starts")
        self.zones = tuple(zones)
        self.first_day_us = (start_us // DAY_US) * DAY_US
        days = -(-(end_us - self.first_day_us) // DAY_US)
        self.end_us = self.first_day_us + days * DAY_US
        table = np.empty((len(self.zones), days * _SLOTS_PER_DAY), dtype=np.int32)
        for row, name in enumerate(self.zones):
            table[row] = self._zone_row(ZoneInfo(name), days)
        self._table = table

    def _zone_row(self, zone: ZoneInfo, days: int) -> NDArray[np.int32]:
        first_s = self.first_day_us // SECOND_US
        day_s = DAY_US // SECOND_US
        slot_s = SLOT_US // SECOND_US
        at_midnight = [_offset_seconds(zone, first_s + d * day_s) for d in range(days + 1)]
        row = np.repeat(np.asarray(at_midnight[:days], dtype=np.int32), _SLOTS_PER_DAY)
        for day in range(days):
            if at_midnight[day] != at_midnight[day + 1]:  # a transition happens that day
                day_start = first_s + day * day_s
                row[day * _SLOTS_PER_DAY : (day + 1) * _SLOTS_PER_DAY] = [
                    _offset_seconds(zone, day_start + slot * slot_s)
                    for slot in range(_SLOTS_PER_DAY)
                ]
        return row

    def offsets(self, zone_codes: NDArray[np.int64], utc_us: Micros) -> Micros:
        """The UTC offset in microseconds of each zone at each UTC instant."""
        if utc_us.size and (utc_us.min() < self.first_day_us or utc_us.max() >= self.end_us):
            raise ValueError("instant outside the window the zone offset table was built for")
        slots = (utc_us - self.first_day_us) // SLOT_US
        return self._table[zone_codes, slots].astype(np.int64) * SECOND_US

    def to_local(self, zone_codes: NDArray[np.int64], utc_us: Micros) -> Micros:
        """Local wall time (as microseconds since a naive epoch) of each UTC instant."""
        return utc_us + self.offsets(zone_codes, utc_us)

    def to_utc(self, zone_codes: NDArray[np.int64], local_us: Micros) -> Micros:
        """The UTC instant of each local wall time.

        Two passes settle the offset on either side of a transition; a wall time skipped by a
        spring-forward lands an hour later, as clocks do.
        """
        guess = local_us - self.offsets(zone_codes, local_us)
        return local_us - self.offsets(zone_codes, guess)

    def at_local_time_of_day(
        self, zone_codes: NDArray[np.int64], utc_us: Micros, local_time_us: Micros
    ) -> Micros:
        """Move each instant to the given local time of day on its own local date."""
        local = self.to_local(zone_codes, utc_us)
        midnight = (local // DAY_US) * DAY_US
        return self.to_utc(zone_codes, midnight + local_time_us)


def utc_microseconds(moment: datetime) -> int:
    """Microseconds since the epoch of a naive-UTC or aware datetime."""
    aware = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    delta = aware - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * SECOND_US + delta.microseconds

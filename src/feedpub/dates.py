"""Dates as people write them → aware datetimes.

ISO forms (`2021-03-30`, `2021-03-30T09:15:00-04:00`, `2021-03-30 09:15`) are
read by the standard library; anything else by python-dateutil, imported only
then, so that a build whose articles are all in ISO form never loads it.
"""

from __future__ import annotations

import re
import warnings
from datetime import UTC, datetime, tzinfo

_ISO = re.compile(r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?)?(Z|[+-]\d{2}:\d{2})?\Z")
# Two defaults that differ in year, month and day: a text that leaves any of
# them out parses to two different days and is refused as incomplete (a time
# left out is midnight).
_DEFAULTS = (datetime(2000, 1, 1), datetime(2001, 2, 2))
MAX_DATE_CHARS = 100  # the longest date people write is far shorter; dateutil is not fast


def parse_date(text: str, zone: tzinfo) -> datetime:
    """A date or date-time as dateutil reads it; naive values are placed in `zone`.

    Raises ValueError with a message saying what was wrong.
    """
    text = text.strip()
    if len(text) > MAX_DATE_CHARS:
        raise ValueError(f"is not a date (more than {MAX_DATE_CHARS} characters)")
    value = _parse(text, zone)
    if 1000 < value.year < 9998:  # a day from the calendar's edges: no zone can move it off
        return value
    try:  # a date at the edge of the calendar cannot be moved to UTC or the site's zone
        value.astimezone(UTC)
        value.astimezone(zone)
    except (OverflowError, ValueError):
        raise ValueError("is too far in the past or the future") from None
    if not 1000 <= value.year <= 9998:
        raise ValueError("is too far in the past or the future") from None
    return value


def _parse(text: str, zone: tzinfo) -> datetime:
    if _ISO.match(text):  # the common case, read in C; dateutil for everything else
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            raise ValueError("is not a date") from None
        if value.tzinfo is None:
            return value.replace(tzinfo=zone, microsecond=0)
        return value.replace(microsecond=0) if value.microsecond else value
    from dateutil import parser as dateparser  # only for dates not in ISO form

    results = []
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for default in _DEFAULTS:
            try:
                results.append(dateparser.parse(text, default=default))
            except dateparser.UnknownTimezoneWarning:
                raise ValueError(
                    "names a time zone that is not known; give an offset such as -04:00"
                ) from None
            except (ValueError, OverflowError):
                raise ValueError("is not a date") from None
    first, second = results
    if first.date() != second.date():
        raise ValueError("is not a complete date (a year, a month and a day are needed)")
    value = first
    if value.tzinfo is None or value.utcoffset() is None:
        value = value.replace(tzinfo=zone)
    return value.replace(microsecond=0)

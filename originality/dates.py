"""Publication dates as crawlers and feeds carry them, normalised to one sortable form.

The index orders candidate sources by ``published`` as *strings*, so every date must be
stored in one form that sorts as time does:

* a calendar date alone ("2017-12-09", "December 9, 2017") stays a date: ``YYYY-MM-DD``;
* a moment with a time zone ("Sat, 09 Dec 2017 10:00:00 +0100", "2017-12-09T10:00:00-05:00")
  is converted to UTC: ``YYYY-MM-DDTHH:MM:SS+00:00``, so that two offsets compare right;
* a moment without a zone is taken as UTC (feeds that omit it mostly mean UTC; we cannot
  know better, and the page still sorts within a day of the truth).

Parsing is left to well-kept code: ``datetime.fromisoformat`` for ISO 8601, the standard
library's RFC 2822 parser (``email.utils``, what every mail and RSS reader uses, which also
knows the obsolete "EST"/"PDT" zones; a zone it does not know is read as UTC, as RFC 2822
says of unknown zones) and python-dateutil for written-out dates. dateutil
fills whatever a string lacks from a default date ("Tuesday" becomes a Tuesday this week),
so a string is refused unless it names a year, a month and a day itself: it is parsed with
two different defaults and must give the same calendar date both times. Numeric dates with
slashes are read month first ("03/04/2017" is March 4), as US feeds write them.
"""

from __future__ import annotations

import re
import warnings
from datetime import date, datetime, timezone
from email.utils import parsedate_to_datetime

_DEFAULT_A = datetime(2001, 1, 1)
_DEFAULT_B = datetime(2002, 2, 2)
_FORMS = "ISO 8601, RFC 2822 or a written date such as 'December 9, 2017'"


class DateError(ValueError):
    """A ``published`` value that is not a full calendar date we can read."""


def _moment(dt: datetime) -> str:
    """A datetime in the stored form: UTC, second precision, explicit offset."""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(timezone.utc).replace(microsecond=0).isoformat()


def _has_time(s: str) -> bool:
    """Does the string carry a clock time (a colon between digits)?"""
    return any(s[i] == ":" and s[i - 1].isdigit() and s[i + 1].isdigit()
               for i in range(1, len(s) - 1))


def _iso(s: str) -> str | None:
    try:
        if len(s) == 10:
            return date.fromisoformat(s).isoformat()
        return _moment(datetime.fromisoformat(s.replace("Z", "+00:00").replace("z", "+00:00")))
    except ValueError:
        return None


#: the shape of an RFC 2822 date-time: [weekday,] day month-name year hh:mm[:ss] [zone].
#: The standard library's parser is lenient (it would read "December 9, 2017 4:30 PM" as
#: 04:30), so only strings of this shape are given to it; the rest go to dateutil.
_RFC2822_RE = re.compile(r"^(?:[A-Za-z]{3},\s*)?\d{1,2}\s+[A-Za-z]{3}\s+\d{2,4}\s+"
                         r"\d{1,2}:\d{2}(?::\d{2})?(?:\s+(?:[+-]\d{4}|[A-Za-z]{1,5}))?$")


def _rfc2822(s: str) -> str | None:
    if not _RFC2822_RE.match(s):
        return None
    try:
        dt = parsedate_to_datetime(s)
    except (TypeError, ValueError, IndexError):
        return None
    return _moment(dt) if dt is not None else None


def _written(s: str) -> str:
    from dateutil import parser
    from dateutil.parser import ParserError, UnknownTimezoneWarning

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", UnknownTimezoneWarning)
            a = parser.parse(s, default=_DEFAULT_A)
            b = parser.parse(s, default=_DEFAULT_B)
    except UnknownTimezoneWarning as exc:
        raise DateError(f"published {s!r} has a time zone we cannot place ({exc}); "
                        "give it as an offset (+0100)") from None
    except (ParserError, ValueError, OverflowError):
        raise DateError(f"published {s!r} is not a date ({_FORMS})") from None
    if a.date() != b.date():
        raise DateError(f"published {s!r} is not a full date: it lacks a year, month or day "
                        f"({_FORMS})")
    return _moment(a) if _has_time(s) else a.date().isoformat()


def normalise_published(value) -> str | None:
    """The stored form of a ``published`` value (see the module docstring), or None.

    Raises :class:`DateError` (a ``ValueError``) with the value and the forms we read.
    """
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return _moment(value)
    if isinstance(value, date):
        return value.isoformat()
    if not isinstance(value, str):
        raise DateError(f"published must be a date string ({_FORMS}), "
                        f"got {type(value).__name__}")
    s = value.strip()
    if not s:
        return None
    return _iso(s) or _rfc2822(s) or _written(s)

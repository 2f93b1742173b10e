"""
The one check for time-zone name arguments: an IANA name, or a typed error naming the argument.

``zoneinfo.ZoneInfo`` alone is no check: it raises ``OSError`` for a name too long for a
file name, ``IsADirectoryError`` for ``"Europe"``, ``ValueError`` for a path or a data
file of the zone database (``"zone.tab"``), and accepts files that are no IANA name
(``"localtime"``, ``"posixrules"``). :func:`check_tz_name` accepts exactly the names
``zoneinfo.available_timezones()`` lists (a ``ZoneInfo`` gives its key) and refuses
everything else with :class:`~crmlifecycle.errors.ValidationError`.
"""

from __future__ import annotations

import functools
import re
from typing import Final
from zoneinfo import ZoneInfo, available_timezones

from crmlifecycle.errors import ValidationError, did_you_mean

__all__ = ["check_tz_name"]

_MAX_LENGTH: Final = 64  # the longest IANA name has 32 characters
_SHAPE: Final = re.compile(r"^[A-Za-z][A-Za-z0-9_+\-]*(?:/[A-Za-z0-9_+\-]+)*$")
_EXPECTED: Final = "an IANA time zone name such as 'Europe/Berlin'"
_LOCAL: Final = frozenset({"localtime", "posixrules"})  # this machine's zone, not a name
_HINT: Final = "use a name from zoneinfo.available_timezones(), e.g. 'Europe/Berlin' or 'UTC'."


@functools.cache
def _names() -> frozenset[str]:
    return frozenset(available_timezones()) - _LOCAL


def check_tz_name(value: object, name: str = "tz") -> str:
    """
    Return ``value`` as an IANA time-zone name, or refuse it naming the argument ``name``.

    Args:
        value: the name (text, or a ``zoneinfo.ZoneInfo`` whose key is used).
        name: the argument or field, for the message.

    Raises:
        ValidationError: naming ``name``, for anything but a known IANA name.

    Examples:
        >>> check_tz_name("Europe/Berlin")
        'Europe/Berlin'
        >>> check_tz_name("x" * 5000, "calendar.tz")
        Traceback (most recent call last):
        ...
        crmlifecycle.errors.ValidationError: 'calendar.tz' must be an IANA time zone name ...
    """
    key = value.key if isinstance(value, ZoneInfo) else value
    if not isinstance(key, str) or not key.strip():
        raise ValidationError.for_field(name, value, _EXPECTED, hint=_HINT)
    known = _names()
    fits = len(key) <= _MAX_LENGTH and _SHAPE.match(key) is not None
    # without a zone list (no tzdata installed) ZoneInfo alone decides
    if fits and key not in _LOCAL and (key in known or not known):
        try:
            ZoneInfo(key)
        except (KeyError, ValueError, OSError):  # not found, not a zone file, a bad path
            pass
        else:
            return key
    hint = did_you_mean(key, known) if fits else ""
    raise ValidationError.for_field(name, value, f"{_EXPECTED}{hint}", hint=_HINT)

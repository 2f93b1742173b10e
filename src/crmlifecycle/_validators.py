"""
Validator factories for attrs fields.

Each public factory returns a private, frozen, callable class with a useful
``__repr__`` (the shape of ``attrs.validators.instance_of``). A failing check
raises :class:`~crmlifecycle.errors.ValidationError` naming the field.
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Callable, Collection, Sequence
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, Final, TypeGuard

import attrs
import numpy as np

from crmlifecycle.errors import ValidationError

#: The largest decimal exponent (in size) of a number the library keeps (``values.MAX_EXPONENT``):
#: far inside the default decimal context, and what an event's JSON reads back.
MAX_EXPONENT: Final = 1000

_EMAIL: Final = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z0-9-]{2,}$")

Validator = Callable[[Any, "attrs.Attribute[Any]", Any], None]


@attrs.frozen(repr=False)
class _NonEmptyStr:
    def __call__(self, _inst: object, attr: attrs.Attribute[Any], value: object) -> None:
        if not isinstance(value, str) or not value.strip():
            raise ValidationError.for_field(attr.name, value, "a non-empty string")

    def __repr__(self) -> str:
        return "<non_empty_str validator>"


def non_empty_str() -> Validator:
    """Require a string that is not empty or only whitespace."""
    return _NonEmptyStr()


@attrs.frozen(repr=False)
class _AwareDatetime:
    def __call__(self, _inst: object, attr: attrs.Attribute[Any], value: object) -> None:
        if not isinstance(value, datetime):
            raise ValidationError.for_field(attr.name, value, "a datetime")
        if not is_aware(value):
            raise ValidationError.for_field(
                attr.name,
                value,
                "a timezone-aware datetime",
                hint="attach a zone, e.g. datetime(..., tzinfo=timezone.utc).",
            )

    def __repr__(self) -> str:
        return "<aware_datetime validator>"


def is_aware(value: object) -> TypeGuard[datetime]:
    """
    Whether ``value`` is a timezone-aware :class:`~datetime.datetime` (``NaT`` is not).

    Examples:
        >>> from datetime import datetime, timezone
        >>> is_aware(datetime(2026, 1, 1, tzinfo=timezone.utc)), is_aware(datetime(2026, 1, 1))
        (True, False)
    """
    return (
        isinstance(value, datetime)
        and value.tzinfo is not None
        and value == value  # noqa: PLR0124 - pandas' NaT is a datetime unequal to itself
        and value.utcoffset() is not None
    )


def aware_datetime() -> Validator:
    """Require a timezone-aware :class:`datetime.datetime`."""
    return _AwareDatetime()


@attrs.frozen(repr=False)
class _Email:
    def __call__(self, _inst: object, attr: attrs.Attribute[Any], value: object) -> None:
        if not isinstance(value, str) or not _EMAIL.match(value):
            raise ValidationError.for_field(attr.name, value, "a valid e-mail address")

    def __repr__(self) -> str:
        return "<email validator>"


def email() -> Validator:
    """Require a plausible e-mail address (``local@domain.tld``, no spaces)."""
    return _Email()


@attrs.frozen(repr=False)
class _InRange:
    low: float | Decimal
    high: float | Decimal
    integral: bool

    def __call__(self, _inst: object, attr: attrs.Attribute[Any], value: object) -> None:
        kind = "an integer" if self.integral else "a number"
        expected = f"{kind} from {self.low} to {self.high}"
        if not is_finite_number(value, integral=self.integral):
            raise ValidationError.for_field(attr.name, value, expected)
        if isinstance(value, Decimal) and not _exponent_in_bound(value):
            raise ValidationError.for_field(
                attr.name,
                value,
                f"{expected}, with a decimal exponent of at most {MAX_EXPONENT} in size",
                hint="write the number in plain notation; values this large or small are not data.",
            )
        number = python_number(value)
        if not self.low <= number <= self.high:  # type: ignore[operator]
            raise ValidationError.for_field(attr.name, value, expected)

    def __repr__(self) -> str:
        return f"<in_range validator {self.low}..{self.high}>"


def is_finite_number(value: object, *, integral: bool = False) -> bool:
    """
    Whether ``value`` is a finite number (an integer if ``integral``), never a bool.

    NumPy scalars count as the number they hold (``np.int64(3)``, ``np.float32(0.5)``);
    NaN and infinities of every kind (``float``, ``Decimal('NaN')``, ``Decimal('sNaN')``,
    ``np.float64('inf')``) do not.

    Examples:
        >>> from decimal import Decimal
        >>> is_finite_number(Decimal("NaN")), is_finite_number(True), is_finite_number(2.5)
        (False, False, True)
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real | Decimal):
        return False  # NumPy's bool is not a numbers.Real
    if isinstance(value, numbers.Integral):
        return True  # however long: never converted to float
    if integral:
        return False
    if isinstance(value, Decimal):
        return value.is_finite()
    return math.isfinite(value)


def python_number(value: object) -> object:
    """
    Return a NumPy number as the Python ``int`` or ``float`` it holds; anything else as given.

    Comparing a small NumPy float (``np.float16``) with a Python bound casts the bound to
    the small type (``RuntimeWarning: overflow encountered in cast``); a Python number
    compares exactly. A ``np.longdouble`` is kept: a ``float`` may not hold it.

    Examples:
        >>> import numpy as np
        >>> type(python_number(np.float16(2))).__name__, python_number(7)
        ('float', 7)
    """
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating) and value.dtype.itemsize <= 8:  # noqa: PLR2004
        return float(value)
    return value


def _exponent_in_bound(value: Decimal) -> bool:
    """Whether a finite ``Decimal``'s exponent is within :data:`MAX_EXPONENT` in size."""
    exponent = value.as_tuple().exponent
    return (
        isinstance(exponent, int)
        and abs(exponent) <= MAX_EXPONENT
        and abs(value.adjusted()) <= MAX_EXPONENT
    )


def in_range(low: float | Decimal, high: float | Decimal, *, integral: bool = False) -> Validator:
    """
    Require a finite number (an integer if ``integral``) with ``low <= value <= high``.

    The number may be a NumPy scalar (a frame cell; see :func:`is_finite_number`), compared
    as the Python number it holds. A ``Decimal`` must also have a decimal exponent of at most
    :data:`MAX_EXPONENT` in size (``Decimal('1E-5000')`` is refused), the bound of every
    number a document holds, so the record always makes its JSON event.
    """
    return _InRange(low, high, integral)


@attrs.frozen(repr=False)
class _OneOf:
    options: tuple[object, ...]

    def __call__(self, _inst: object, attr: attrs.Attribute[Any], value: object) -> None:
        if value not in self.options:
            shown = ", ".join(repr(o) for o in self.options)
            raise ValidationError.for_field(attr.name, value, f"one of {shown}")

    def __repr__(self) -> str:
        return f"<one_of validator {self.options!r}>"


def one_of(options: Collection[object]) -> Validator:
    """Require one of a fixed set of values."""
    return _OneOf(tuple(options))


@attrs.frozen(repr=False)
class _Optional:
    inner: Validator

    def __call__(self, _inst: object, attr: attrs.Attribute[Any], value: object) -> None:
        if value is not None:
            self.inner(_inst, attr, value)

    def __repr__(self) -> str:
        return f"<optional validator {self.inner!r}>"


def optional(inner: Validator) -> Validator:
    """Allow ``None``; otherwise apply ``inner``."""
    return _Optional(inner)


@attrs.frozen(repr=False)
class _InstanceOf:
    kind: type
    expected: str

    def __call__(self, _inst: object, attr: attrs.Attribute[Any], value: object) -> None:
        # bool is an int subclass; never accept it where a number is wanted, nor 1 for a bool
        if not isinstance(value, self.kind) or (self.kind is not bool and isinstance(value, bool)):
            raise ValidationError.for_field(attr.name, value, self.expected)

    def __repr__(self) -> str:
        return f"<instance_of validator {self.kind.__name__}>"


def instance_of(kind: type, expected: str) -> Validator:
    """Require an instance of ``kind``; ``expected`` words the message (``'a bool'``)."""
    return _InstanceOf(kind, expected)


# -- argument checks at public entry points -------------------------------------------------------
# One rule for wrong-typed arguments: a public function checks the type of what it is handed
# before using it, and refuses it with a ValidationError naming the argument (never a bare
# TypeError/AttributeError from deep inside). ``bool`` never passes for a number.


def check_arg(
    name: str,
    value: object,
    kind: type | tuple[type, ...],
    expected: str,
    *,
    hint: str | None = None,
) -> None:
    """
    Refuse an argument that is not a ``kind`` (a ``bool`` only where ``kind`` holds ``bool``).

    Args:
        name: the argument's name, as the caller spells it.
        value: what the caller passed.
        kind: the accepted type(s).
        expected: what the argument must be, phrased to follow "must be" (``"a str"``).
        hint: what to do, after ``Hint:`` (default: "pass <name>= as <expected>.").

    Raises:
        ValidationError: naming ``name``.

    Examples:
        >>> check_arg("top", "3", int, "an integer")
        Traceback (most recent call last):
        ...
        crmlifecycle.errors.ValidationError: 'top' must be an integer (got '3'). Hint: ...
    """
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
        raise ValidationError.for_field(name, value, expected, hint=hint)


def check_name(name: str, value: object, *, hint: str | None = None) -> str:
    """Refuse anything but a non-empty, non-blank ``str``; return it."""
    if not isinstance(value, str) or not value.strip():
        raise ValidationError.for_field(name, value, "a non-empty string", hint=hint)
    return value


def check_count(name: str, value: object, *, low: int = 0, hint: str | None = None) -> int:
    """Refuse anything but an ``int`` (not a ``bool``) of at least ``low``; return it."""
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ValidationError.for_field(name, value, f"an integer >= {low}", hint=hint)
    return value


def check_names(name: str, value: object, *, hint: str | None = None) -> tuple[str, ...]:
    """
    Refuse anything but a name or a sequence of names (non-empty text); return them as a tuple.

    The one check of an argument that names things (a stage, a column, the segments of
    ``by=``, a kind): a frame, a number or a mapping given there is refused by name before it
    reaches pandas (where it would be "unhashable" or "not 1-dimensional").

    Raises:
        ValidationError: naming ``name`` (or ``name[i]`` for an item).

    Examples:
        >>> check_names("by", "region"), check_names("by", ["region", "plan"])
        (('region',), ('region', 'plan'))
        >>> check_names("by", [["region"]])
        Traceback (most recent call last):
        ...
        crmlifecycle.errors.ValidationError: 'by[0]' must be a non-empty string ...
    """
    if isinstance(value, str):
        return (check_name(name, value, hint=hint),)
    if not isinstance(value, list | tuple):
        raise ValidationError.for_field(
            name, value, "a name or a list of names (non-empty text)", hint=hint
        )
    return tuple(
        check_name(f"{name}[{index}]", item, hint=hint) for index, item in enumerate(value)
    )


def check_items(
    name: str,
    value: object,
    kind: type | tuple[type, ...],
    expected: str,
    *,
    hint: str | None = None,
) -> tuple[Any, ...]:
    """
    Refuse anything but a list or tuple (or another non-text sequence) of ``kind``; return a tuple.

    Args:
        name: the argument's name.
        value: what the caller passed.
        kind: the accepted type(s) of each item.
        expected: what each item must be, phrased to follow "must be" (``"a Rule"``).
        hint: what to do, after ``Hint:``.

    Raises:
        ValidationError: naming ``name`` (not a sequence) or ``name[i]`` (an item).

    Examples:
        >>> check_items("rules", 5, int, "an integer")
        Traceback (most recent call last):
        ...
        crmlifecycle.errors.ValidationError: 'rules' must be a list or tuple, each item ...
    """
    if isinstance(value, str | bytes | bytearray) or not isinstance(value, Sequence):
        raise ValidationError.for_field(
            name, value, f"a list or tuple, each item {expected}", hint=hint
        )
    for index, item in enumerate(value):
        check_arg(f"{name}[{index}]", item, kind, expected, hint=hint)
    return tuple(value)


def check_real(name: str, value: object, *, hint: str | None = None) -> float:
    """
    Refuse anything but a real number (not a ``bool``) a ``float`` can hold; return the float.

    The one door check of a number argument: text, ``None``, a list or a frame is refused by
    name, and so is an integer too large for a float (``2**1100``, never an
    ``OverflowError``). NaN and infinities pass: the caller states its own range.

    Raises:
        ValidationError: naming ``name``.

    Examples:
        >>> check_real("horizon", 52)
        52.0
        >>> check_real("horizon", "x")
        Traceback (most recent call last):
        ...
        crmlifecycle.errors.ValidationError: 'horizon' must be a number (got 'x'). Hint: ...
    """
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
        raise ValidationError.for_field(name, value, "a number", hint=hint)
    try:
        return float(value)
    except OverflowError:
        raise ValidationError.for_field(
            name, value, "a number within the range of a float (about 1.8e308)", hint=hint
        ) from None


def event_instant(value: object) -> object:
    """
    An instant as an event's JSON reads it back: a plain ``datetime`` with a fixed UTC offset.

    A step stores its ``at`` this way in the event and in the record alike (``state_since``,
    ``updated_at``), so replaying the events rebuilds the record exactly.

    A ``zoneinfo`` time in a daylight-saving fold or gap never equals a time in another zone
    (PEP 495), so an event holding one would not equal itself read back from JSON; a
    ``pandas.Timestamp``'s nanoseconds do not survive JSON either. Anything else is left to
    the validator.
    """
    if type(value) is datetime and type(value.tzinfo) is timezone:
        return value  # already a fixed offset (what a step and every decoded event hold)
    if not is_aware(value):
        return value
    offset = value.utcoffset()
    assert offset is not None  # noqa: S101 - is_aware
    if type(value) is not datetime:  # a pandas Timestamp (or another subclass)
        value = datetime(  # noqa: DTZ001 - the offset is attached below
            value.year,
            value.month,
            value.day,
            value.hour,
            value.minute,
            value.second,
            value.microsecond,
            fold=value.fold,
        )
    return value.replace(tzinfo=timezone(offset), fold=0)

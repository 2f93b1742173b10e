"""
Small value objects used by the entities: :class:`Money` and :class:`Period`.

Examples:
    >>> from crmlifecycle.values import Money
    >>> price = Money("19.99", "EUR")
    >>> price * 3
    Money(amount=Decimal('59.97'), currency='EUR')
    >>> Money("10", "EUR") + Money("5", "USD")
    Traceback (most recent call last):
    ...
    crmlifecycle.errors.CurrencyMismatchError: cannot combine EUR with USD. Hint: ...
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Context, Decimal, InvalidOperation, localcontext
from typing import Final, final, overload

import attrs

from crmlifecycle._currencies import MINOR_UNITS
from crmlifecycle._validators import MAX_EXPONENT as _VALIDATED_EXPONENT
from crmlifecycle._validators import aware_datetime, is_aware
from crmlifecycle.errors import CurrencyMismatchError, ValidationError

__all__ = ["MAX_AMOUNT", "MAX_AMOUNT_PLACES", "MAX_EXPONENT", "Money", "Period", "to_decimal"]

#: Every amount of :class:`Money` lies strictly between ``-MAX_AMOUNT`` and ``MAX_AMOUNT``.
MAX_AMOUNT: Final = Decimal(10) ** 15
#: The most decimal places an amount keeps (finer than any currency's minor unit).
MAX_AMOUNT_PLACES: Final = 12
#: The longest numeric text :func:`to_decimal` reads.
_MAX_NUMBER_TEXT: Final = 100
#: The largest decimal exponent (in size) of a number :func:`to_decimal` returns: far inside
#: the default decimal context (``Emax=999999``), so arithmetic on the result never overflows.
MAX_EXPONENT: Final = _VALIDATED_EXPONENT  # one bound: ranged fields (Lead.score) check it too
#: Numeric text: plain ASCII decimal notation, as JSON, CSV and ``str(Decimal)`` write it. Python's
#: ``Decimal`` would also read ``'1_000'`` and digits of any script (``'١٢٣'``, ``'１２３'``).
_NUMBER_TEXT: Final = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_BLANKS: Final = " \t\r\n"
_PLACES: Final = Decimal(1).scaleb(-MAX_AMOUNT_PLACES)
# Arithmetic never traps: an overflow or an invalid result comes back as a non-finite
# value, which the amount check turns into a ValidationError.
_ARITHMETIC: Final = Context(prec=28, rounding=ROUND_HALF_EVEN, traps=[])


def to_decimal(value: object, *, field: str = "amount") -> Decimal:
    """
    Convert ``value`` to a finite :class:`~decimal.Decimal` without float surprises.

    Floats are converted through their shortest ``repr`` (``0.1`` becomes
    ``Decimal('0.1')``, not ``0.1000000000000000055...``). NumPy scalars (a frame
    cell: ``np.float64``, ``np.float32``, ``np.int64``, ...) are read like the
    Python number they hold. Booleans, NaN, infinities, numeric text longer
    than 100 characters and numbers whose decimal exponent exceeds
    :data:`MAX_EXPONENT` in size are rejected. Numeric text is plain ASCII decimal
    notation (``'12.50'``, ``'-3'``, ``'1e-3'``): underscores (``'1_000'``) and digits
    of other scripts (``'١٢٣'``, full-width ``'１２３'``), which Python's ``Decimal``
    would read, are refused. A negative zero comes back as zero.

    Args:
        value: the number to convert: a ``Decimal``, ``int``, ``float``, NumPy number
            or numeric ``str`` (surrounding ASCII blanks allowed).
        field: the field name the error names when ``value`` is rejected.

    Examples:
        >>> to_decimal(0.1)
        Decimal('0.1')
        >>> to_decimal("12.50")
        Decimal('12.50')
        >>> import numpy as np
        >>> to_decimal(np.float32(1.1)), to_decimal(np.int64(7))
        (Decimal('1.1'), Decimal('7'))
        >>> to_decimal(float("nan"))
        Traceback (most recent call last):
        ...
        crmlifecycle.errors.ValidationError: 'amount' must be a finite number ...

    Raises:
        ValidationError: if the value is not a finite number.
    """
    expected = "a finite number (int, str or Decimal)"
    if isinstance(value, bool):
        raise ValidationError.for_field(field, value, expected)
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, numbers.Integral):  # int and NumPy integers (not NumPy's bool)
        result = Decimal(int(value))
    elif isinstance(value, float):
        # float.__repr__: numpy 2's repr of np.float64(1.5) (a float) is 'np.float64(1.5)'
        if not math.isfinite(value):
            raise ValidationError.for_field(field, value, expected)
        result = _parse(float.__repr__(value), field, value, expected)
    elif _is_binary_float(value):  # the other NumPy floats: their own shortest text
        result = _parse(str(value), field, value, expected)
    elif isinstance(value, str):
        if len(value) > _MAX_NUMBER_TEXT:
            raise ValidationError.for_field(
                field, f"{value[:20]}...", f"{expected} of at most {_MAX_NUMBER_TEXT} characters"
            )
        result = _parse_text(value.strip(_BLANKS), field, value, expected)
    else:
        raise ValidationError.for_field(field, value, expected)
    if not result.is_finite():
        raise ValidationError.for_field(field, value, expected)
    return _bounded(result, field, value)


def _parse_decimal_text(text: str, field: str) -> Decimal:
    """
    Read exact decimal text (an event's ``$decimal``, a ``$money`` amount).

    The rule of :func:`to_decimal`, without surrounding blanks: what ``str(Decimal)`` writes.

    Raises:
        ValidationError: the text is not plain ASCII decimal notation of at most 100
            characters with an exponent of at most :data:`MAX_EXPONENT` in size.
    """
    expected = "decimal text (ASCII digits, e.g. '12.50')"
    if len(text) > _MAX_NUMBER_TEXT:
        raise ValidationError.for_field(
            field, text, f"{expected} of at most {_MAX_NUMBER_TEXT} characters"
        )
    return _bounded(_parse_text(text, field, text, expected), field, text)


def _parse_text(text: str, field: str, value: object, expected: str) -> Decimal:
    if _NUMBER_TEXT.fullmatch(text) is None:
        raise ValidationError.for_field(
            field,
            value,
            expected,
            hint="write plain decimal notation with ASCII digits and a '.' point "
            "(no '_', no thousands separators, no digits of other scripts).",
        )
    return _parse(text, field, value, expected)


def _bounded(result: Decimal, field: str, value: object) -> Decimal:
    """A finite decimal whose exponent is within ``MAX_EXPONENT``; ``-0`` becomes ``0``."""
    exponent = result.as_tuple().exponent
    assert isinstance(exponent, int)  # noqa: S101 - finite: checked by the callers
    if abs(exponent) > MAX_EXPONENT or abs(result.adjusted()) > MAX_EXPONENT:
        raise ValidationError.for_field(
            field,
            value,
            f"a number with a decimal exponent of at most {MAX_EXPONENT} in size",
            hint="write the number in plain notation; values this large or small are not data.",
        )
    return _unsigned_zero(result)


def _unsigned_zero(value: Decimal) -> Decimal:
    """``Decimal('-0.00')`` -> ``Decimal('0.00')``: a zero amount has no sign."""
    return value.copy_abs() if value.is_zero() and value.is_signed() else value


def _is_binary_float(value: object) -> bool:
    """A float of any width (``float``, ``np.float32``, ``np.longdouble``), not a fraction."""
    return isinstance(value, numbers.Real) and not isinstance(value, numbers.Rational)


def _parse(text: str, field: str, value: object, expected: str) -> Decimal:
    try:
        return Decimal(text)
    except InvalidOperation as err:
        raise ValidationError.for_field(field, value, expected) from err


def _amount(value: object) -> Decimal:
    """An amount of :class:`Money`: finite, below ``MAX_AMOUNT`` in size, at most 12 places."""
    result = to_decimal(value)
    if abs(result) >= MAX_AMOUNT:
        raise ValidationError.for_field(
            "amount",
            value,
            "a number of size below 10**15",
            hint="amounts are bounded to |amount| < 10**15; check the units of the value.",
        )
    if _is_binary_float(value):
        # a float carries no more digits than this; round its repr's tail
        if result.as_tuple().exponent < -MAX_AMOUNT_PLACES:  # type: ignore[operator]
            result = result.quantize(_PLACES, rounding=ROUND_HALF_EVEN, context=_ARITHMETIC)
    elif result.as_tuple().exponent < -MAX_AMOUNT_PLACES:  # type: ignore[operator]
        raise ValidationError.for_field(
            "amount",
            value,
            f"a number with at most {MAX_AMOUNT_PLACES} decimal places",
            hint="round the amount first, e.g. Decimal(x).quantize(Decimal('0.01')).",
        )
    return _unsigned_zero(result)


def _result(compute: Callable[[], Decimal], what: str) -> Decimal:
    """Run ``compute`` without decimal traps; a result outside the amount domain is refused."""
    with localcontext(_ARITHMETIC):
        result = compute()
    if not result.is_finite() or abs(result) >= MAX_AMOUNT:
        raise ValidationError.for_field(
            "amount",
            result,
            "a number of size below 10**15",
            hint=f"the {what} leaves the amount domain |amount| < 10**15.",
        )
    if result.as_tuple().exponent < -MAX_AMOUNT_PLACES:  # type: ignore[operator]
        result = result.quantize(_PLACES, rounding=ROUND_HALF_EVEN, context=_ARITHMETIC)
    return _unsigned_zero(result)


def _currency(value: object) -> str:
    if not isinstance(value, str) or value.upper() not in MINOR_UNITS:
        raise ValidationError.for_field(
            "currency",
            value,
            "an ISO 4217 currency code",
            hint="use a three-letter code such as 'EUR', 'USD' or 'JPY'.",
        )
    return value.upper()


@final
@attrs.frozen(order=False)
class Money:
    """
    An exact amount of money in one ISO 4217 currency.

    Arithmetic (``+``, ``-``) and ordering work only between amounts of the same
    currency; mixing currencies raises
    :class:`~crmlifecycle.errors.CurrencyMismatchError`, and adding, subtracting
    or comparing anything that is not ``Money`` raises
    :class:`~crmlifecycle.errors.ValidationError` naming ``other``. Multiplying or
    dividing by an exact number (``int``, ``Decimal``, NumPy integer, numeric text)
    scales the amount; a binary float factor is refused the same way (write
    ``Decimal('0.1')``). Equality across currencies is simply ``False``. A zero
    amount has no sign (``Money('-0', 'EUR')`` is ``0 EUR``).

    Args:
        amount: a ``Decimal``, ``int``, numeric ``str``, ``float`` (converted
            through its shortest repr) or NumPy number; NaN and infinity are rejected.
            Amounts lie in a bounded domain: ``|amount| < 10**15`` (:data:`MAX_AMOUNT`)
            with at most 12 decimal places (:data:`MAX_AMOUNT_PLACES`; a float's
            longer tail is rounded half to even, exact input with more places is
            refused). Arithmetic whose result leaves the domain raises
            :class:`~crmlifecycle.errors.ValidationError`; a product or quotient
            with more places is rounded half to even to 12 places.
        currency: an ISO 4217 code, case-insensitive (stored upper case).

    Examples:
        >>> Money(10, "usd")
        Money(amount=Decimal('10'), currency='USD')
        >>> Money("10.005", "USD").rounded()
        Money(amount=Decimal('10.00'), currency='USD')
        >>> Money("100", "JPY") > Money("99", "JPY")
        True
        >>> Money.sum([Money(1, "EUR"), Money("2.5", "EUR")], currency="EUR")
        Money(amount=Decimal('3.5'), currency='EUR')

    .. versionadded:: 0.1
    """

    amount: Decimal = attrs.field(converter=_amount)
    currency: str = attrs.field(converter=_currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        """
        Return zero in ``currency``.

        Args:
            currency: an ISO 4217 code, case-insensitive.
        """
        return cls(Decimal(0), currency)

    @classmethod
    def sum(cls, amounts: Iterable[Money], *, currency: str) -> Money:
        """
        Add up ``amounts`` (all in ``currency``); an empty iterable gives zero.

        Args:
            amounts: the amounts to add; one in another currency raises
                :class:`~crmlifecycle.errors.CurrencyMismatchError`.
            currency: the ISO 4217 code of the total, which an empty ``amounts`` still needs.
        """
        total = cls.zero(currency)
        given: object = amounts  # untrusted at run time
        if isinstance(given, str | bytes | Money) or not isinstance(given, Iterable):
            raise ValidationError.for_field("amounts", amounts, "an iterable of Money")
        for index, amount in enumerate(amounts):
            if not isinstance(amount, Money):
                raise ValidationError.for_field(
                    f"amounts[{index}]", amount, f"Money in {total.currency}"
                )
            total = total + amount
        return total

    @property
    def minor_units(self) -> int:
        """Digits after the decimal point in this currency (2 for EUR, 0 for JPY)."""
        return MINOR_UNITS[self.currency]

    def rounded(self) -> Money:
        """Round to the currency's minor unit, half to even (banker's rounding)."""
        exponent = Decimal(1).scaleb(-self.minor_units)
        amount = self.amount
        return Money(
            _result(lambda: amount.quantize(exponent, rounding=ROUND_HALF_EVEN), "rounding"),
            self.currency,
        )

    def is_negative(self) -> bool:
        """Return whether the amount is below zero."""
        return self.amount < 0

    def _same(self, other: object) -> Money:
        if not isinstance(other, Money):
            raise ValidationError.for_field(
                "other",
                other,
                f"Money in {self.currency}",
                hint="add, subtract and compare Money with Money; scale it by a number.",
            )
        if other.currency != self.currency:
            raise CurrencyMismatchError(self.currency, other.currency)
        return other

    def __add__(self, other: Money) -> Money:
        right = self._same(other).amount
        return Money(_result(lambda: self.amount + right, "sum"), self.currency)

    def __sub__(self, other: Money) -> Money:
        right = self._same(other).amount
        return Money(_result(lambda: self.amount - right, "difference"), self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __abs__(self) -> Money:
        return Money(abs(self.amount), self.currency)

    def __mul__(self, factor: int | Decimal) -> Money:
        right = _scale(factor, "factor")
        return Money(_result(lambda: self.amount * right, "product"), self.currency)

    __rmul__ = __mul__

    @overload
    def __truediv__(self, divisor: Money) -> Decimal: ...
    @overload
    def __truediv__(self, divisor: int | Decimal) -> Money: ...
    def __truediv__(self, divisor: Money | int | Decimal) -> Money | Decimal:
        """Divide by a number (gives ``Money``) or by ``Money`` (gives a ``Decimal`` ratio)."""
        if isinstance(divisor, Money):
            right = _nonzero(self._same(divisor).amount)
            with localcontext(_ARITHMETIC):
                return self.amount / right
        right = _nonzero(_scale(divisor, "divisor"))
        return Money(_result(lambda: self.amount / right, "quotient"), self.currency)

    def __lt__(self, other: Money) -> bool:
        return self.amount < self._same(other).amount

    def __le__(self, other: Money) -> bool:
        return self.amount <= self._same(other).amount

    def __gt__(self, other: Money) -> bool:
        return self.amount > self._same(other).amount

    def __ge__(self, other: Money) -> bool:
        return self.amount >= self._same(other).amount

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"


def _scale(value: object, field: str) -> Decimal:
    """A factor or divisor of Money: an exact number (int, Decimal, NumPy integer or text)."""
    if isinstance(value, Money):
        raise ValidationError.for_field(
            field,
            value,
            "a number",
            hint="Money times Money has no meaning; divide to get a ratio.",
        )
    if _is_binary_float(value):
        raise ValidationError.for_field(
            field,
            value,
            "an exact number (int, Decimal or numeric text), not a binary float",
            hint=f"a float brings binary rounding into money; pass Decimal({str(value)!r}).",
        )
    return to_decimal(value, field=field)


def _nonzero(divisor: Decimal) -> Decimal:
    if divisor == 0:
        raise ValidationError.for_field("divisor", divisor, "a non-zero number")
    return divisor


@final
@attrs.frozen
class Period:
    """
    A half-open span of time ``[start, end)`` between two timezone-aware datetimes.

    Order, :attr:`duration` and :meth:`contains` go by instants (in UTC), so a period
    across a daylight-saving change has its elapsed length (25 hours for the autumn
    day in Europe/Berlin) and the two 02:30s of a fold are an hour apart.

    Args:
        start: the first instant in the period (timezone-aware).
        end: the first instant after the period (timezone-aware, later than ``start``).

    Examples:
        >>> from datetime import datetime, timezone
        >>> jan = Period(datetime(2026, 1, 1, tzinfo=timezone.utc),
        ...              datetime(2026, 2, 1, tzinfo=timezone.utc))
        >>> jan.contains(datetime(2026, 1, 31, 23, 59, tzinfo=timezone.utc))
        True
        >>> jan.contains(jan.end)
        False
        >>> jan.duration.days
        31

    .. versionadded:: 0.1
    """

    start: datetime = attrs.field(validator=aware_datetime())
    end: datetime = attrs.field(validator=aware_datetime())

    def __attrs_post_init__(self) -> None:
        if _utc(self.end) <= _utc(self.start):
            raise ValidationError.for_field(
                "end", self.end, f"after start ({self.start.isoformat()})"
            )

    @property
    def duration(self) -> timedelta:
        """The length of the period as a :class:`datetime.timedelta`."""
        return _utc(self.end) - _utc(self.start)

    def contains(self, at: datetime) -> bool:
        """
        Return whether something that happens ``at`` falls in the period: ``start <= at < end``.

        Args:
            at: when the thing happens (a timezone-aware datetime).

        Raises:
            ValidationError: ``at`` is not a timezone-aware datetime.

        Examples:
            >>> from datetime import datetime, timezone
            >>> june = Period(datetime(2026, 6, 1, tzinfo=timezone.utc),
            ...               datetime(2026, 7, 1, tzinfo=timezone.utc))
            >>> late = datetime(2026, 6, 30, 23, tzinfo=timezone.utc)
            >>> june.contains(late), june.contains(june.end)
            (True, False)
        """
        if not is_aware(at):
            raise ValidationError.for_field(
                "at", at, "a timezone-aware datetime", hint="attach a zone, e.g. tzinfo=UTC."
            )
        return _utc(self.start) <= _utc(at) < _utc(self.end)


def _utc(value: datetime) -> datetime:
    """
    ``value`` in UTC: the instant it names.

    Python compares and subtracts two datetimes of the same zone by their wall clocks,
    so across a daylight-saving change (a fold or gap) a 1-hour window would read as
    0 hours, or an end before its start as after it; in UTC every comparison is by instant.
    """
    return value.astimezone(UTC)

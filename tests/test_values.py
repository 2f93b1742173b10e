from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmlifecycle.errors import CrmError, CurrencyMismatchError, ValidationError
from crmlifecycle.values import Money, Period, to_decimal

amounts = st.decimals(
    allow_nan=False, allow_infinity=False, places=2, min_value=-(10**9), max_value=10**9
)


class TestToDecimal:
    def test_float_goes_through_shortest_repr(self) -> None:
        # Decimal(0.1) would be 0.1000000000000000055511151231257827...
        assert to_decimal(0.1) == Decimal("0.1")

    @pytest.mark.parametrize(
        "bad", [float("nan"), float("inf"), "NaN", "Infinity", "abc", True, None, []]
    )
    def test_rejects_non_finite_and_non_numbers(self, bad: object) -> None:
        with pytest.raises(ValidationError) as info:
            to_decimal(bad, field="price")
        assert info.value.field == "price"
        assert info.value.value is bad


class TestMoney:
    def test_currency_is_normalised_and_checked(self) -> None:
        assert Money(1, "eur").currency == "EUR"
        with pytest.raises(ValidationError) as info:
            Money(1, "EURO")
        assert info.value.field == "currency"
        assert "ISO 4217" in str(info.value)

    def test_addition_within_currency(self) -> None:
        assert Money("0.10", "EUR") + Money("0.20", "EUR") == Money("0.30", "EUR")

    def test_mixing_currencies_is_an_error(self) -> None:
        with pytest.raises(CurrencyMismatchError) as info:
            _ = Money(1, "EUR") - Money(1, "USD")
        assert (info.value.left, info.value.right) == ("EUR", "USD")
        with pytest.raises(CurrencyMismatchError):
            _ = Money(1, "EUR") < Money(1, "USD")
        assert isinstance(info.value, CrmError)
        assert isinstance(info.value, ValueError)

    def test_equality_across_currencies_is_false(self) -> None:
        assert Money(1, "EUR") != Money(1, "USD")

    def test_scaling_and_ratio(self) -> None:
        assert Money("19.99", "EUR") * 3 == Money("59.97", "EUR")
        assert 2 * Money("1.5", "EUR") == Money("3.0", "EUR")
        assert Money(10, "EUR") / 4 == Money("2.5", "EUR")
        assert Money(10, "EUR") / Money(4, "EUR") == Decimal("2.5")

    def test_float_factor_is_refused(self) -> None:
        # a typed refusal naming the factor (it used to be Python's bare TypeError)
        with pytest.raises(ValidationError, match="'factor'"):
            _ = Money(1, "EUR") * 0.1  # type: ignore[operator]

    def test_rounding_uses_minor_units(self) -> None:
        # half to even: 10.005 -> 10.00 (0 is even), 10.015 -> 10.02
        assert Money("10.005", "USD").rounded().amount == Decimal("10.00")
        assert Money("10.015", "USD").rounded().amount == Decimal("10.02")
        assert Money("100.5", "JPY").rounded().amount == Decimal(100)
        assert Money("1.0005", "KWD").rounded().amount == Decimal("1.000")

    def test_sum_and_zero(self) -> None:
        assert Money.sum([], currency="EUR") == Money.zero("EUR")
        assert Money.sum([Money(1, "EUR"), Money(2, "EUR")], currency="EUR") == Money(3, "EUR")
        with pytest.raises(CurrencyMismatchError):
            Money.sum([Money(1, "USD")], currency="EUR")

    def test_str_abs_neg(self) -> None:
        assert str(Money("12.50", "EUR")) == "12.50 EUR"
        assert abs(Money(-3, "EUR")) == Money(3, "EUR")
        assert (-Money(3, "EUR")).is_negative()

    @given(a=amounts, b=amounts, c=amounts)
    def test_addition_is_associative_and_exact(self, a: Decimal, b: Decimal, c: Decimal) -> None:
        x, y, z = Money(a, "EUR"), Money(b, "EUR"), Money(c, "EUR")
        assert (x + y) + z == x + (y + z)
        assert (x + y - y) == x

    @given(a=amounts, b=amounts)
    def test_ordering_matches_amounts(self, a: Decimal, b: Decimal) -> None:
        assert (Money(a, "USD") < Money(b, "USD")) == (a < b)
        assert (Money(a, "USD") >= Money(b, "USD")) == (a >= b)


class TestPeriod:
    start = datetime(2026, 1, 1, tzinfo=UTC)

    def test_half_open(self) -> None:
        period = Period(self.start, self.start + timedelta(days=31))
        assert period.contains(self.start)
        assert not period.contains(period.end)
        assert period.duration == timedelta(days=31)

    def test_end_must_follow_start(self) -> None:
        with pytest.raises(ValidationError) as info:
            Period(self.start, self.start)
        assert info.value.field == "end"

    def test_naive_datetimes_rejected(self) -> None:
        with pytest.raises(ValidationError) as info:
            Period(datetime(2026, 1, 1), self.start)
        assert info.value.field == "start"

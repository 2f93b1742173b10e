"""
Converting a churn rate between period lengths: by compounding, never by multiplying.

``annual = 1 - (1 - monthly) ** 12`` (a constant churn rate per period is assumed).
"""

from __future__ import annotations

from crmlifecycle._finite import finite_float
from crmlifecycle._frames import period_alias
from crmlifecycle.errors import ValidationError
from crmlifecycle.metrics._common import check_fraction

__all__ = ["convert_churn_rate"]

_MONTHS = {"M": 1, "Q": 3, "Y": 12}


def convert_churn_rate(
    rate: float,
    *,
    periods: float | None = None,
    from_freq: str | None = None,
    to_freq: str | None = None,
) -> float:
    """
    Convert a churn rate to another period length by compounding.

    ``1 - (1 - rate) ** periods``: a 2% monthly churn is
    ``1 - 0.98 ** 12 = 21.5%`` a year, not 24%. Give either ``periods`` (how
    many source periods make one target period; may be fractional, e.g.
    ``1/12`` from annual to monthly) or ``from_freq``/``to_freq`` among
    ``"M"``, ``"Q"`` and ``"Y"`` (days and weeks do not divide calendar
    months evenly, so pass ``periods`` for them). The same formula converts
    retention as ``retention ** periods``. This assumes a constant churn rate.

    Args:
        rate: the churn rate per source period, in [0, 1].
        periods: how many source periods make one target period (positive, may be
            fractional); ``None`` derives it from ``from_freq`` and ``to_freq``.
        from_freq: the source period, ``"M"``, ``"Q"`` or ``"Y"`` (only without ``periods``).
        to_freq: the target period, ``"M"``, ``"Q"`` or ``"Y"`` (only without ``periods``).

    Raises:
        ValidationError: a rate outside [0, 1], or a bad period specification.

    Examples:
        >>> round(convert_churn_rate(0.02, from_freq="M", to_freq="Y"), 4)
        0.2153
        >>> round(convert_churn_rate(0.2153, periods=1 / 12), 4)
        0.02
    """
    value = check_fraction(rate, "rate")
    if periods is None:
        if from_freq is None or to_freq is None:
            raise ValidationError.for_field(
                "periods", periods, "a number, or from_freq= and to_freq= together"
            )
        source, target = _MONTHS.get(period_alias(from_freq)), _MONTHS.get(period_alias(to_freq))
        if source is None or target is None:
            raise ValidationError.for_field(
                "from_freq/to_freq",
                (from_freq, to_freq),
                "'M', 'Q' or 'Y'",
                hint="for days or weeks pass periods= explicitly (e.g. 52 weeks a year).",
            )
        periods = target / source
    if finite_float(periods) is None or periods <= 0:  # never an OverflowError for 10**400
        raise ValidationError.for_field("periods", periods, "a positive finite number")
    return float(1.0 - (1.0 - value) ** periods)

"""Simulate customer bases from the CLV models with known parameters."""

from __future__ import annotations

from typing import Final

import numpy as np
import pandas as pd

from crmlifecycle._validators import check_count, check_real
from crmlifecycle.errors import DataError, ValidationError, short_repr
from crmlifecycle.metrics.clv._base import MAX_OPPORTUNITIES

__all__ = [
    "simulate_bgbb",
    "simulate_bgnbd",
    "simulate_gamma_gamma",
    "simulate_pareto_nbd",
    "simulate_sbg",
]


#: most customers one call draws (the draws are held in memory)
MAX_CUSTOMERS: Final = 10_000_000
#: most periods of an sBG cohort drawn by one call
MAX_PERIODS: Final = 1_000_000
#: customers x opportunities drawn at once by simulate_bgbb (bounds its memory)
_CELLS: Final = 1 << 22


def _count(name: str, value: object, high: int, hint: str) -> int:
    """An ``int`` between 0 and ``high`` (a ValidationError naming ``name`` otherwise)."""
    count = check_count(name, value)
    if count > high:
        raise ValidationError(
            f"{name} must be at most {high:,}, got {count:,}. Hint: {hint}.",
            field=name,
            value=count,
        )
    return count


def _customers(n: object) -> int:
    return _count("n", n, MAX_CUSTOMERS, "draw the customers in several calls with other seeds")


def _positive(**params: float) -> None:
    for name, given in params.items():
        value = check_real(name, given, hint="pass the fitted parameter, a number > 0.")
        if not (np.isfinite(value) and value > 0):
            raise DataError(
                f"{name} must be positive and finite, got {short_repr(value)}. Hint: pass "
                "the fitted parameters (all > 0)."
            )


def _frequencies(frequency: object) -> np.ndarray:
    """The repeat purchases of each customer: numbers (a sequence or array) >= 0."""
    hint = "pass the frequency column of a summary, e.g. summary['frequency'].to_numpy()."
    try:
        x = np.asarray(frequency, dtype="float64")
    except (ValueError, TypeError, OverflowError) as err:
        raise ValidationError.for_field(
            "frequency", frequency, "numbers (counts of repeat purchases)", hint=hint
        ) from err
    if not bool(np.all(np.isfinite(x) & (x >= 0))):
        raise ValidationError.for_field(
            "frequency", frequency, "finite counts >= 0 (no NaN)", hint=hint
        )
    return x


def _poisson(rng: np.random.Generator, lam: np.ndarray) -> np.ndarray:
    """Poisson draws; a mean too large for a draw (huge rates or ages) is a ``DataError``."""
    try:
        return rng.poisson(lam)
    except ValueError as err:  # NumPy: "lam value too large"
        raise DataError(
            "the simulated purchase counts are too large to draw (the rates times the ages "
            "exceed about 1e18). Hint: pass the fitted parameters and ages in the summary's "
            "time unit."
        ) from err


def _ages(n: int, age: float | np.ndarray) -> np.ndarray:
    hint = "pass T as a number > 0, or an array of n numbers > 0."
    if not isinstance(age, np.ndarray):
        age = check_real("T", age, hint=hint)
    elif age.dtype.kind not in "iuf":
        raise ValidationError.for_field("T", age, "numbers (an array of ints or floats)", hint=hint)
    try:
        ages = np.broadcast_to(np.asarray(age, dtype="float64"), (n,)).copy()
    except ValueError as err:
        raise ValidationError.for_field("T", age, f"a number or {n} numbers", hint=hint) from err
    if not bool(np.all(np.isfinite(ages) & (ages > 0))):
        raise DataError("T must be > 0 for every simulated customer.")
    return ages


def simulate_bgnbd(
    n: int,
    *,
    r: float,
    alpha: float,
    a: float,
    b: float,
    T: float | np.ndarray,
    seed: int,
) -> pd.DataFrame:
    """
    Draw ``n`` RFM histories ``(frequency, recency, T)`` from the BG/NBD model.

    The model of Fader, Hardie & Lee (2005), "Counting Your Customers the Easy Way",
    *Marketing Science* 24(2).

    Args:
        n: how many customers to draw (at most 10,000,000).
        r: shape of the gamma distribution of purchase rates.
        alpha: scale of the gamma distribution of purchase rates.
        a: first shape of the beta distribution of drop-out probabilities.
        b: second shape of the beta distribution of drop-out probabilities.
        T: each customer's observation length (one number, or one per customer).
        seed: the seed of the random generator (the draws are reproducible).

    Raises:
        ValidationError: naming the integer argument (count, periods, seed) that is
            not an integer >= 0 or is above its bound, or the parameter (``T``,
            ``frequency``) that is not a number.
        DataError: a parameter that is not finite and > 0, or counts too large to draw.

    Examples:
        >>> simulate_bgnbd(3, r=0.25, alpha=4.0, a=0.8, b=2.4, T=39.0, seed=1).columns.tolist()
        ['frequency', 'recency', 'T']
    """
    _customers(n)
    check_count("seed", seed)
    _positive(r=r, alpha=alpha, a=a, b=b)
    rng = np.random.default_rng(seed)
    ages = _ages(n, T)
    rate = rng.gamma(r, 1 / alpha, n)
    p = rng.beta(a, b, n)
    arrivals = _poisson(rng, rate * ages)
    lifetime_purchases = rng.geometric(p)  # drops out right after this purchase
    x = np.minimum(arrivals, lifetime_purchases)
    # the x-th of `arrivals` uniform points in (0, T]
    t_x = np.where(x > 0, ages * rng.beta(np.maximum(x, 1), np.maximum(arrivals - x + 1, 1)), 0.0)
    return pd.DataFrame({"frequency": x.astype("int64"), "recency": t_x, "T": ages})


def simulate_pareto_nbd(
    n: int,
    *,
    r: float,
    alpha: float,
    s: float,
    beta: float,
    T: float | np.ndarray,
    seed: int,
) -> pd.DataFrame:
    """
    Draw ``n`` RFM histories ``(frequency, recency, T)`` from the Pareto/NBD model.

    The model of Schmittlein, Morrison & Colombo (1987), "Counting Your Customers:
    Who Are They and What Will They Do Next?", *Management Science* 33(1).

    Args:
        n: how many customers to draw (at most 10,000,000).
        r: shape of the gamma distribution of purchase rates.
        alpha: scale of the gamma distribution of purchase rates.
        s: shape of the gamma distribution of drop-out rates.
        beta: scale of the gamma distribution of drop-out rates.
        T: each customer's observation length (one number, or one per customer).
        seed: the seed of the random generator (the draws are reproducible).

    Raises:
        ValidationError: naming the integer argument (count, periods, seed) that is
            not an integer >= 0 or is above its bound, or the parameter (``T``,
            ``frequency``) that is not a number.
        DataError: a parameter that is not finite and > 0, or counts too large to draw.

    Examples:
        >>> len(simulate_pareto_nbd(5, r=0.5, alpha=10.0, s=0.6, beta=12.0, T=39.0, seed=1))
        5
    """
    _customers(n)
    check_count("seed", seed)
    _positive(r=r, alpha=alpha, s=s, beta=beta)
    rng = np.random.default_rng(seed)
    ages = _ages(n, T)
    rate = rng.gamma(r, 1 / alpha, n)
    death = rng.exponential(1 / rng.gamma(s, 1 / beta, n))
    window = np.minimum(death, ages)
    x = _poisson(rng, rate * window)
    t_x = np.where(x > 0, window * rng.beta(np.maximum(x, 1), 1.0), 0.0)
    return pd.DataFrame({"frequency": x.astype("int64"), "recency": t_x, "T": ages})


def simulate_gamma_gamma(
    frequency: np.ndarray, *, p: float, q: float, gamma: float, seed: int
) -> np.ndarray:
    """
    Draw the mean repeat-purchase value of customers with these frequencies (0 where x = 0).

    Each transaction's value is gamma(``p``, ``nu``) with ``nu`` gamma(``q``, ``gamma``)
    across customers (shapes and rates; Fader & Hardie 2013, "The Gamma-Gamma Model of
    Monetary Value").

    Args:
        frequency: the number of repeat purchases of each customer.
        p: the shape of the gamma distribution of a customer's transaction values (> 0).
        q: the shape of the gamma distribution of ``nu`` across customers (> 0).
        gamma: the rate of the gamma distribution of ``nu`` across customers (> 0).
        seed: the seed of the random generator (the draws are reproducible).

    Raises:
        ValidationError: naming the integer argument (count, periods, seed) that is
            not an integer >= 0 or is above its bound, or the parameter (``T``,
            ``frequency``) that is not a number.
        DataError: a parameter that is not finite and > 0, or counts too large to draw.

    Examples:
        >>> import numpy as np
        >>> values = simulate_gamma_gamma(np.array([0, 3]), p=6.0, q=4.0, gamma=15.0, seed=1)
        >>> float(values[0]), bool(values[1] > 0)
        (0.0, True)
    """
    check_count("seed", seed)
    _positive(p=p, q=q, gamma=gamma)
    rng = np.random.default_rng(seed)
    x = _frequencies(frequency)
    nu = rng.gamma(q, 1 / gamma, x.size)
    safe = np.maximum(x, 1)
    mean = rng.gamma(p * safe, 1 / (nu * safe))  # mean of x gamma(p, nu) draws
    result: np.ndarray = np.where(x > 0, mean, 0.0)
    return result


def simulate_bgbb(
    n: int, *, alpha: float, beta: float, gamma: float, delta: float, periods: int, seed: int
) -> pd.DataFrame:
    """
    Draw ``n`` BG/BB histories ``(frequency, recency, T)`` over ``periods`` opportunities.

    The model of Fader, Hardie & Shang (2010), "Customer-Base Analysis in a
    Discrete-Time Noncontractual Setting", *Marketing Science* 29(6).

    Args:
        n: how many customers to draw (at most 10,000,000).
        alpha: first shape of the beta distribution of transaction probabilities.
        beta: second shape of the beta distribution of transaction probabilities.
        gamma: first shape of the beta distribution of drop-out probabilities.
        delta: second shape of the beta distribution of drop-out probabilities.
        periods: the number of transaction opportunities observed (at most 10,000).
        seed: the seed of the random generator (the draws are reproducible).

    Raises:
        ValidationError: naming the integer argument (count, periods, seed) that is
            not an integer >= 0 or is above its bound, or the parameter (``T``,
            ``frequency``) that is not a number.
        DataError: a parameter that is not finite and > 0, or counts too large to draw.

    Examples:
        >>> draws = simulate_bgbb(4, alpha=1.2, beta=0.75, gamma=0.66, delta=2.8, periods=6, seed=1)
        >>> draws["T"].tolist()
        [6, 6, 6, 6]
    """
    _customers(n)
    check_count("seed", seed)
    _positive(alpha=alpha, beta=beta, gamma=gamma, delta=delta)
    _count("periods", periods, MAX_OPPORTUNITIES, "BG/BB counts discrete opportunities")
    rng = np.random.default_rng(seed)
    p = rng.beta(alpha, beta, n)
    theta = rng.beta(gamma, delta, n)
    alive_through = np.minimum(rng.geometric(theta) - 1, periods)  # opportunities while alive
    opportunity = np.arange(1, periods + 1)
    x = np.zeros(n, dtype="int64")
    t_x = np.zeros(n, dtype="int64")
    rows = max(1, _CELLS // max(periods, 1))
    for start in range(0, n, rows):  # blocks of customers: the same draws, bounded memory
        block = slice(start, min(start + rows, n))
        size = block.stop - block.start
        buys = (rng.random((size, periods)) < p[block, None]) & (
            opportunity <= alive_through[block, None]
        )
        x[block] = buys.sum(axis=1)
        t_x[block] = np.max(np.where(buys, opportunity, 0), axis=1, initial=0)
    return pd.DataFrame(
        {"frequency": x.astype("int64"), "recency": t_x.astype("int64"), "T": np.full(n, periods)}
    )


def simulate_sbg(n: int, *, alpha: float, beta: float, periods: int, seed: int) -> np.ndarray:
    """
    Draw survivor counts ``[n, S1, ..., S_periods]`` of one sBG cohort of ``n`` customers.

    Args:
        n: the cohort size (at most 10,000,000).
        alpha: first shape of the beta distribution of churn probabilities (> 0).
        beta: second shape of the beta distribution of churn probabilities (> 0).
        periods: the number of periods after acquisition to count survivors for
            (at most 1,000,000).
        seed: the seed of the random generator (the draws are reproducible).

    Raises:
        ValidationError: naming the integer argument (count, periods, seed) that is
            not an integer >= 0 or is above its bound, or the parameter (``T``,
            ``frequency``) that is not a number.
        DataError: a parameter that is not finite and > 0, or counts too large to draw.

    Examples:
        >>> simulate_sbg(100, alpha=0.7, beta=1.2, periods=3, seed=1)[0]
        np.int64(100)
    """
    _customers(n)
    check_count("seed", seed)
    _positive(alpha=alpha, beta=beta)
    _count("periods", periods, MAX_PERIODS, "count survivors over fewer periods")
    rng = np.random.default_rng(seed)
    lifetime = rng.geometric(rng.beta(alpha, beta, n))  # cancels at the end of this period
    # survivors after t periods: the customers whose lifetime exceeds t (linear in n + periods)
    ended = np.bincount(np.minimum(lifetime, periods + 1), minlength=periods + 2)
    result: np.ndarray = n - np.cumsum(ended)[: periods + 1]
    return result

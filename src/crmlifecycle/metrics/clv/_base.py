"""
Maximum-likelihood machinery, input checks and prediction plumbing shared by the CLV models.

:class:`FittedModel` fits log-parameters by maximum likelihood;
:class:`HistoryModel` adds the conversion and broadcasting of customer
histories ``(frequency, recency, T)`` (and a horizon) that the BG/NBD,
Pareto/NBD and BG/BB predictions share.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from typing import Any, Final, Self

import numpy as np
import pandas as pd
from scipy import optimize, stats
from threadpoolctl import ThreadpoolController

from crmlifecycle._frames import check_numeric, require_columns
from crmlifecycle._validators import check_real
from crmlifecycle.errors import DataError, FitError, ValidationError, short_repr

__all__ = [
    "MAX_DISCOUNT_RATE",
    "MAX_INTERVAL_DECADES",
    "MAX_OPPORTUNITIES",
    "MAX_STEPS",
    "Arrays3",
    "FittedModel",
    "HistoryModel",
    "Objective",
    "as_float_array",
    "as_float_arrays",
    "check_horizon",
    "check_margin",
    "check_rate",
    "check_spend",
    "collapse",
    "identified",
    "numeric_columns",
    "read_summary",
]

#: (log-parameters) -> (negative mean log-likelihood, its gradient w.r.t. the log-parameters)
Objective = Callable[[np.ndarray], tuple[float, np.ndarray]]
#: three arrays of the same shape, e.g. a history (frequency, recency, T)
Arrays3 = tuple[np.ndarray, np.ndarray, np.ndarray]

_Z95: Final = float(stats.norm.ppf(0.975))
#: largest |gradient| of the mean log-likelihood (per log-parameter) accepted as converged
_GRADIENT_TOLERANCE: Final = 1e-4


def as_float_array(value: object, name: str, *, non_negative: bool = True) -> np.ndarray:
    """Turn a scalar, list, array or Series into a float array, refusing NaN and negatives."""
    array = np.asarray(value, dtype="float64")
    if not np.all(np.isfinite(array)):
        raise DataError(
            f"{name} holds NaN or infinite values. Hint: drop or fill them before predicting.",
            column=name,
        )
    if non_negative and bool(np.any(array < 0)):
        raise DataError(
            f"{name} holds negative values (e.g. {float(array[array < 0].flat[0])!r}). "
            "Hint: counts and times are >= 0.",
            column=name,
            value=float(array[array < 0].flat[0]),
        )
    return array


def as_float_arrays(**values: object) -> tuple[np.ndarray, ...]:
    """:func:`as_float_array` on each value (named by its keyword in errors), broadcast together."""
    arrays = [as_float_array(value, name) for name, value in values.items()]
    return tuple(np.broadcast_arrays(*arrays))


def numeric_columns(frame: pd.DataFrame, *columns: str) -> list[np.ndarray]:
    """Each column of ``frame`` as an array, checked to be numeric and non-negative."""
    return [check_numeric(frame[col], col, non_negative=True).to_numpy() for col in columns]


def read_summary(
    frame: pd.DataFrame,
    columns: dict[str, str],
    *,
    weights_col: str | None,
    integer: Sequence[str] = ("x",),
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """
    Read and check the numeric columns a model fits on; return them and the weights.

    ``columns`` maps the model's names (``x``, ``t_x``...) to the frame's
    columns; ``weights_col`` names the weight column, or ``None`` for one
    customer per row.
    """
    names = list(columns.values()) + ([weights_col] if weights_col else [])
    require_columns(frame, names, frame_name="summary")
    if len(frame) == 0:
        raise DataError("the summary frame is empty. Hint: fit on at least a few customers.")
    values = dict(zip(columns, numeric_columns(frame, *columns.values()), strict=True))
    for key in integer:
        array = values[key]
        fractional = array != np.round(array)
        if bool(fractional.any()):
            raise DataError.malformed(
                columns[key],
                "must hold whole numbers (counts of repeat purchases)",
                rows=list(frame.index[fractional][:20]),
                value=float(array[fractional][0]),
                hint="use the frequency column of rfm_summary().",
            )
    if weights_col:
        (weights,) = numeric_columns(frame, weights_col)
    else:
        weights = np.ones(len(frame))
    return values, weights


def collapse(
    arrays: Sequence[np.ndarray], weights: np.ndarray
) -> tuple[list[np.ndarray], np.ndarray]:
    """
    Merge identical rows into one row each, adding up their weights.

    Rows are matched by hashing (one factorisation per column, then of the combined
    codes), not by sorting: when most rows are distinct, as with many customers, a
    sort costs several times the merge it enables. Rows come out in order of first
    appearance.
    """
    count = len(weights)
    key = np.zeros(count, dtype=np.int64)
    for values in arrays:
        codes, uniques = pd.factorize(np.asarray(values))
        if len(uniques) and int(key.max(initial=0)) >= _KEY_LIMIT // len(uniques):
            key = np.asarray(pd.factorize(key)[0], dtype=np.int64)  # keep the key compact
        key = key * len(uniques) + codes
    group, distinct = pd.factorize(key)
    merged = np.bincount(group, weights=weights, minlength=len(distinct))
    row = np.empty(len(distinct), dtype=np.int64)
    row[group] = np.arange(count)  # any row of a group will do: its rows are equal
    keep = merged > 0
    return [np.asarray(values)[row[keep]] for values in arrays], merged[keep]


#: the combined row key stays below this before it is compacted (no int64 overflow)
_KEY_LIMIT: Final = 2**62


#: the optimiser's box on every log-parameter: exp(+-23) is about 1e-10 .. 1e10
_LOG_BOUND: Final = 23.0
#: a log-parameter this close to the box is "at the bound" (ran off to 0 or infinity)
_AT_BOUND: Final = _LOG_BOUND - 0.1
#: widest accepted 95% interval of a parameter, in orders of magnitude (upper / lower <= 10^4)
MAX_INTERVAL_DECADES: Final = 4.0
#: step of the central differences of the gradient, in log-parameters
_LOG_STEP: Final = 1e-4


def identified(
    model: str,
    names: Sequence[str],
    objective: Objective,
    log_estimate: np.ndarray,
    total_weight: float,
    *,
    hint: str,
    diagnostics: dict[str, Any],
) -> pd.DataFrame:
    """
    The covariance of a maximum-likelihood fit, or a ``FitError`` when the data do not identify it.

    The one rule every CLV model's fit goes through. A parameter is *not
    identified*, and the fit refused, when

    1. its log is at the optimiser's box (``|log theta| >= 22.9``: it ran off to
       0 or infinity);
    2. the observed information (the negative Hessian of the total
       log-likelihood in the log-parameters, by central differences of the
       analytic gradient) is not finite, or not positive definite (the
       parameters named are those of its flat or wrong-way directions);
    3. its 95% Wald interval spans more than :data:`MAX_INTERVAL_DECADES`
       orders of magnitude (``upper / lower > 10^4``, a standard error of the
       log-parameter above 2.35): the likelihood is nearly flat along it, e.g.
       a parameter running to infinity along a ridge.

    These are scale-free (the same whatever the time or currency unit). The
    covariance returned is of the parameters themselves (delta method from the
    log-parameters).

    Raises:
        FitError: naming the parameters and why, with ``hint``; its
            ``diagnostics`` hold ``not_identified``, ``reason``, the
            parameters reached and the optimiser's attempts.
    """
    theta = np.exp(log_estimate)
    k = theta.size

    def refuse(bad: Sequence[str], reason: str, **extra: Any) -> FitError:
        listed = ", ".join(bad) if bad else ", ".join(names)
        return FitError(
            f"{model}: the data do not identify {listed}: {reason}. Hint: {hint}.",
            diagnostics={
                **diagnostics,
                "not_identified": list(bad) or list(names),
                "reason": reason,
                "last_parameters": dict(zip(names, theta.tolist(), strict=True)),
                **extra,
            },
        )

    at_bound = np.abs(log_estimate) >= _AT_BOUND
    if bool(at_bound.any()):
        raise refuse(
            [n for n, b in zip(names, at_bound, strict=True) if b],
            "the optimiser drove them to 0 or infinity (to its bound exp(+-23))",
        )
    information = np.empty((k, k))
    with np.errstate(all="ignore"):
        for j in range(k):  # central differences of the gradient: 2k evaluations
            up, down = log_estimate.copy(), log_estimate.copy()
            up[j] += _LOG_STEP
            down[j] -= _LOG_STEP
            information[:, j] = (objective(up)[1] - objective(down)[1]) / (2 * _LOG_STEP)
    information = (information + information.T) / 2 * total_weight
    if not bool(np.all(np.isfinite(information))):
        raise refuse([], "the curvature of the likelihood is not finite at the estimate")
    eigenvalues, vectors = np.linalg.eigh(information)
    flat = eigenvalues <= 1e-12 * max(float(np.abs(eigenvalues).max()), 1e-300)
    if bool(flat.any()):
        weight = np.abs(vectors[:, flat]).max(axis=1)
        raise refuse(
            [n for n, w in zip(names, weight, strict=True) if w > 0.3],  # noqa: PLR2004
            "the likelihood is flat or has no maximum along them (the observed information is "
            "not positive definite)",
            information=information.tolist(),
        )
    log_covariance = (vectors / eigenvalues) @ vectors.T
    log_se = np.sqrt(np.diag(log_covariance))
    decades = 2 * _Z95 * log_se / np.log(10)
    wide = decades > MAX_INTERVAL_DECADES
    if bool(wide.any()):
        shown = ", ".join(
            f"{n} {t * math.exp(-_Z95 * s):.3g} to {t * math.exp(min(_Z95 * s, 700)):.3g}"
            for n, t, s, w in zip(names, theta.tolist(), log_se, wide, strict=True)
            if w
        )
        raise refuse(
            [n for n, w in zip(names, wide, strict=True) if w],
            f"their 95% intervals span more than {MAX_INTERVAL_DECADES:g} orders of magnitude "
            f"({shown})",
            interval_decades=dict(zip(names, decades.tolist(), strict=True)),
        )
    covariance = log_covariance * np.outer(theta, theta)
    return pd.DataFrame(covariance, index=list(names), columns=list(names))


@functools.cache
def _thread_pools() -> ThreadpoolController:
    """The BLAS thread pools loaded in this process (looked up once)."""
    return ThreadpoolController()


def _minimise(objective: Objective, x0: np.ndarray, scale: np.ndarray | None) -> Any:
    """
    L-BFGS-B on the log-parameters, on one BLAS thread.

    The optimiser's own steps are tiny vector operations on a handful of
    parameters; a multi-threaded BLAS only adds synchronisation to each, which on
    a busy machine cost a CDNOW Gamma-Gamma fit 50 times its arithmetic.
    """
    with _thread_pools().limit(limits=1, user_api="blas"):
        return _lbfgsb(objective, x0, scale)


def _lbfgsb(objective: Objective, x0: np.ndarray, scale: np.ndarray | None) -> Any:
    """L-BFGS-B on the log-parameters, optionally in coordinates ``x = x0 + scale @ y``."""
    if scale is None:
        return optimize.minimize(
            objective,
            x0,
            jac=True,
            method="L-BFGS-B",
            bounds=[(-_LOG_BOUND, _LOG_BOUND)] * len(x0),
            options={"maxiter": 5000, "ftol": 1e-15, "gtol": 1e-9, "maxcor": 20},
        )

    def scaled(y: np.ndarray) -> tuple[float, np.ndarray]:
        value, grad = objective(x0 + scale @ y)
        return value, scale.T @ grad

    result = optimize.minimize(
        scaled,
        np.zeros(x0.size),
        jac=True,
        method="L-BFGS-B",
        options={"maxiter": 5000, "ftol": 1e-15, "gtol": 1e-9, "maxcor": 20},
    )
    result.x = x0 + scale @ result.x
    result.fun, result.jac = objective(result.x)
    return result


class FittedModel:
    """
    Base class of the CLV models: maximum likelihood on log-parameters.

    Subclasses set ``_param_names`` and implement ``_objective``. Fitting
    minimises the negative mean log-likelihood with L-BFGS-B on the logs of the
    (positive) parameters, from sensible starting values, falling back to other
    starting points when an attempt does not converge (every model supplies
    the exact gradient of its log-likelihood); standard errors come
    from the inverse of the observed information (the negative Hessian of the
    total log-likelihood, by forward differences of the gradient), and the 95%
    intervals are Wald intervals on the log scale, mapped back (so they stay
    positive).
    """

    _param_names: tuple[str, ...] = ()
    _loglik_convention: str = ""
    #: what to do when the data do not identify the model (ends the ``FitError`` of a fit)
    _identification_hint: str = (
        "fit on more customers, or on customers who differ more; or build the model from "
        "parameters you know with from_params(...)"
    )

    def __init__(self) -> None:
        self.params_: pd.Series | None = None
        self.log_likelihood_: float = float("nan")
        self.covariance_: pd.DataFrame | None = None
        self.n_customers_: float = 0.0
        self.n_rows_: int = 0
        self.diagnostics_: dict[str, Any] = {}
        self.time_unit_: str | None = None

    # -- fitting -------------------------------------------------------------------------
    def _maximise(
        self,
        objective: Objective,
        starts: Sequence[Sequence[float]],
        total_weight: float,
        *,
        precondition: np.ndarray | None = None,
    ) -> None:
        best: Any = None
        tried: list[dict[str, Any]] = []
        for number, start in enumerate(starts):
            x0 = np.log(np.asarray(start, dtype="float64"))
            scale = precondition if number == 0 and precondition is not None else None
            try:
                with np.errstate(all="ignore"):
                    result = _minimise(objective, x0, scale)
            except (FitError, FloatingPointError, ValueError, ZeroDivisionError) as err:
                # FitError: a series of the likelihood did not converge at a trial point
                tried.append({"start": list(start), "message": str(err)})
                continue
            ok = bool(np.all(np.isfinite(result.x))) and bool(np.isfinite(result.fun))
            gradient = np.abs(np.asarray(result.jac, dtype="float64"))
            # Converged: a finite optimum where the gradient is flat, reached before the
            # iteration limit (L-BFGS-B status 1). Its "abnormal line search" stop (status 2)
            # is accepted when the gradient is flat: that is the optimum met at machine precision.
            small = ok and bool(np.all(gradient < _GRADIENT_TOLERANCE)) and result.status != 1
            tried.append(
                {
                    "start": list(start),
                    "message": str(result.message),
                    "iterations": int(result.nit),
                    "neg_mean_log_likelihood": float(result.fun),
                    "max_abs_gradient": float(gradient.max()) if ok else float("nan"),
                }
            )
            if ok and small and (best is None or result.fun < best.fun):
                best = result
                break  # the next starting points are fallbacks for a failed start
        if best is None:
            raise FitError(
                f"{type(self).__name__} did not converge from any starting point (the "
                "diagnostics list each attempt), so the data do not identify it. Hint: "
                f"{self._identification_hint}.",
                diagnostics={"attempts": tried},
            )
        self.diagnostics_ = {
            "attempts": tried,
            "iterations": int(best.nit),
            "message": str(best.message),
            "optimizer_success": bool(best.success),
            "gradient": "analytic",
        }
        covariance = identified(
            type(self).__name__,
            self._param_names,
            objective,
            best.x,
            total_weight,
            hint=self._identification_hint,
            diagnostics=self.diagnostics_,
        )
        estimate = np.exp(best.x)
        self.params_ = pd.Series(estimate, index=list(self._param_names), name="estimate")
        self.log_likelihood_ = -float(best.fun) * total_weight
        self.covariance_ = covariance

    # -- results -------------------------------------------------------------------------
    def _fitted(self) -> pd.Series:
        if self.params_ is None:
            raise FitError(
                f"this {type(self).__name__} is not fitted yet. Hint: call .fit(...) first, "
                "or build it with .from_params(...)."
            )
        return self.params_

    def _values(self) -> tuple[float, ...]:
        """The fitted parameters as floats, in the order of ``_param_names``."""
        params = self._fitted()
        return tuple(float(params[name]) for name in self._param_names)

    @property
    def summary(self) -> pd.DataFrame:
        """
        Parameters with standard errors and 95% confidence intervals.

        Columns: ``estimate``, ``se`` (from the inverse observed information),
        ``lower_95`` and ``upper_95`` (Wald interval for the log-parameter,
        exponentiated).
        """
        params = self._fitted()
        if self.covariance_ is None:
            se = np.full(len(params), np.nan)
        else:
            se = np.sqrt(np.diag(self.covariance_.to_numpy()))
        log_se = se / params.to_numpy()
        return pd.DataFrame(
            {
                "estimate": params.to_numpy(),
                "se": se,
                "lower_95": params.to_numpy() * np.exp(-_Z95 * log_se),
                "upper_95": params.to_numpy() * np.exp(_Z95 * log_se),
            },
            index=params.index,
        )

    @classmethod
    def from_params(cls, **params: float) -> Self:
        """
        Build a model with known parameters (e.g. published ones) without fitting.

        Raises:
            DataError: when a parameter is missing, unknown or not positive.
        """
        names = set(cls._param_names)
        if set(params) != names:
            raise DataError(
                f"{cls.__name__} needs exactly the parameters {list(cls._param_names)}, got "
                f"{sorted(params)}. Hint: pass them as keyword arguments."
            )
        values = [float(params[n]) for n in cls._param_names]
        if not all(np.isfinite(v) and v > 0 for v in values):
            raise DataError(f"{cls.__name__} parameters must be positive and finite, got {params}.")
        model = cls()
        model.params_ = pd.Series(values, index=list(cls._param_names), name="estimate")
        return model

    def __repr__(self) -> str:
        if self.params_ is None:
            return f"<{type(self).__name__}: not fitted>"
        shown = ", ".join(f"{k}={v:.4g}" for k, v in self.params_.items())
        return f"<{type(self).__name__}: {shown}>"


#: largest discount rate per time unit accepted (100 %: value halves every time unit)
MAX_DISCOUNT_RATE: Final = 1.0
#: most discrete opportunities (periods) a BG/BB history or simulation may span
MAX_OPPORTUNITIES: Final = 10_000
#: largest number of discounting steps ``horizon / step`` of customer_lifetime_value
MAX_STEPS: Final = 10_000


def _number(name: str, value: object, hint: str) -> float:
    """``value`` as a float, refusing bools, strings and other non-numbers (naming ``name``)."""
    return check_real(name, value, hint=hint)


def check_rate(discount_rate: object, *, allow_zero: bool = False) -> float:
    """
    Check a discount rate per time unit: a finite number in ``(0, 1]`` (or ``[0, 1]``).

    Raises:
        ValidationError: naming ``discount_rate``: not a number, NaN, infinite,
            negative (or 0 without ``allow_zero``), or above :data:`MAX_DISCOUNT_RATE`.
    """
    hint = (
        "pass the rate per time unit of the summary, e.g. 0.1 per year is "
        "1.1 ** (1 / 52) - 1 per week"
    )
    rate = _number("discount_rate", discount_rate, hint)
    low_ok = rate >= 0 if allow_zero else rate > 0
    if not (math.isfinite(rate) and low_ok and rate <= MAX_DISCOUNT_RATE):
        low = ">= 0" if allow_zero else "> 0 (the remaining life is unbounded)"
        raise ValidationError(
            f"discount_rate must be {low} and <= {MAX_DISCOUNT_RATE:g} (100 % per time unit), "
            f"got {short_repr(discount_rate)}. Hint: {hint}.",
            field="discount_rate",
            value=discount_rate,
        )
    return rate


def check_margin(margin: object) -> float:
    """
    Check a margin: the share of the spend that is value, a finite number in ``[0, 1]``.

    Raises:
        ValidationError: naming ``margin``.
    """
    hint = "a margin is a share of the spend, e.g. 0.3 for a 30 % gross margin"
    share = _number("margin", margin, hint)
    if not (math.isfinite(share) and 0 <= share <= 1):
        raise ValidationError(
            f"margin must be between 0 and 1, got {short_repr(margin)}. Hint: {hint}.",
            field="margin",
            value=margin,
        )
    return share


def check_spend(spend: object) -> float:
    """
    Check a constant value per purchase: a finite number >= 0.

    Raises:
        ValidationError: naming ``spend``.
    """
    hint = "pass a fitted GammaGammaModel or the value of one purchase, in currency units"
    value = _number("spend", spend, hint)
    if not (math.isfinite(value) and value >= 0):
        raise ValidationError(
            f"spend must be a finite value >= 0, got {short_repr(spend)}. Hint: {hint}.",
            field="spend",
            value=spend,
        )
    return value


def check_horizon(horizon: object, step: object) -> int:
    """
    Check a horizon and a step length; return the number of steps ``ceil(horizon / step)``.

    Raises:
        ValidationError: naming ``horizon`` or ``step``: not a number, not finite,
            not > 0, or more than :data:`MAX_STEPS` steps.
    """
    hint = "both are in the summary's time unit, e.g. horizon=52 weeks with step=1"
    values = {"horizon": _number("horizon", horizon, hint), "step": _number("step", step, hint)}
    for name, value in values.items():
        if not (math.isfinite(value) and value > 0):
            raise ValidationError(
                f"{name} must be finite and > 0, got {short_repr(value)}. Hint: {hint}.",
                field=name,
                value=value,
            )
    count = math.ceil(values["horizon"] / values["step"] - 1e-12)
    if count > MAX_STEPS:
        name = "step" if values["step"] < 1 else "horizon"
        raise ValidationError(
            f"horizon / step asks for {count:.3g} discounting steps, more than {MAX_STEPS:,} "
            f"(horizon={short_repr(horizon)}, step={short_repr(step)}). Hint: use a longer "
            "step (e.g. 4 weeks "
            "instead of 1) or a shorter horizon.",
            field=name,
            value=values[name],
        )
    return count


class HistoryModel(FittedModel):
    """
    Base of the models that predict from customer histories ``(frequency, recency, T)``.

    Subclasses set ``_check_history``, the consistency rules of their kind of
    history; :meth:`_history` and :meth:`_history_and` turn scalars, lists,
    arrays or Series into checked float arrays broadcast together.
    """

    @staticmethod
    def _check_history(x: np.ndarray, t_x: np.ndarray, big_t: np.ndarray, /) -> None:
        raise NotImplementedError

    def _history(self, frequency: object, recency: object, T: object) -> Arrays3:
        """Check and broadcast one or many (frequency, recency, T) histories."""
        x, t_x, big_t = as_float_arrays(frequency=frequency, recency=recency, T=T)
        self._check_history(x, t_x, big_t)
        return x, t_x, big_t

    def _history_and(
        self,
        value: object,
        name: str,
        frequency: object,
        recency: object,
        T: object,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """A history and one more argument (``name`` in errors, e.g. a horizon), broadcast."""
        x, t_x, big_t = self._history(frequency, recency, T)
        extra = as_float_array(value, name)
        x, t_x, big_t, extra = np.broadcast_arrays(x, t_x, big_t, extra)
        return x, t_x, big_t, extra

"""
Maximum-likelihood machinery, input checks and prediction plumbing shared by the CLV models.

:class:`FittedModel` fits log-parameters by maximum likelihood;
:class:`HistoryModel` adds the conversion and broadcasting of customer
histories ``(frequency, recency, T)`` (and a horizon) that the BG/NBD,
Pareto/NBD and BG/BB predictions share.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Final, Self

import numpy as np
import pandas as pd
from scipy import optimize, stats

from crmlifecycle._frames import check_numeric, require_columns
from crmlifecycle.errors import DataError, FitError

__all__ = [
    "Arrays3",
    "FittedModel",
    "HistoryModel",
    "Objective",
    "as_float_array",
    "as_float_arrays",
    "check_rate",
    "collapse",
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
    """Merge identical rows into one row each, adding up their weights."""
    stacked = np.column_stack(arrays)
    order = np.lexsort(stacked.T[::-1])
    ordered = stacked[order]
    new = np.r_[True, np.any(ordered[1:] != ordered[:-1], axis=1)]
    group = np.cumsum(new) - 1
    merged = np.bincount(group, weights=weights[order])
    rows = ordered[new]
    keep = merged > 0
    return [rows[keep, i] for i in range(rows.shape[1])], merged[keep]


def _minimise(objective: Objective, x0: np.ndarray, scale: np.ndarray | None) -> Any:
    """L-BFGS-B on the log-parameters, optionally in coordinates ``x = x0 + scale @ y``."""
    if scale is None:
        return optimize.minimize(
            objective,
            x0,
            jac=True,
            method="L-BFGS-B",
            bounds=[(-23.0, 23.0)] * len(x0),
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
            small = bool(np.all(gradient < _GRADIENT_TOLERANCE)) if ok else False
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
                f"{type(self).__name__} did not converge from any starting point. Hint: check "
                "the summary (units, enough repeat buyers); the diagnostics list each attempt.",
                diagnostics={"attempts": tried},
            )
        estimate = np.exp(best.x)
        at_bound = np.abs(best.x) > 22.9  # noqa: PLR2004 - the bound above
        if bool(at_bound.any()):
            raise FitError(
                f"{type(self).__name__}: parameter(s) "
                f"{[n for n, b in zip(self._param_names, at_bound, strict=True) if b]} ran off "
                "to 0 or infinity. Hint: the data do not identify this model (e.g. no repeat "
                "purchases, or no drop-out visible); try a simpler model or more data.",
                diagnostics={"attempts": tried, "last_parameters": estimate.tolist()},
            )
        self.params_ = pd.Series(estimate, index=list(self._param_names), name="estimate")
        self.log_likelihood_ = -float(best.fun) * total_weight
        self.diagnostics_ = {
            "attempts": tried,
            "iterations": int(best.nit),
            "message": str(best.message),
            "gradient": "analytic",
        }
        self.covariance_ = self._covariance(objective, best.x, total_weight)

    def _covariance(self, objective: Objective, x: np.ndarray, total_weight: float) -> pd.DataFrame:
        theta = np.exp(x)
        k = theta.size

        def natural_gradient(values: np.ndarray) -> np.ndarray:
            _, grad_log = objective(np.log(values))
            return np.asarray(-grad_log / values * total_weight)  # total log-likelihood's

        hessian = np.empty((k, k))
        at_estimate = natural_gradient(theta)
        for j in range(k):  # forward differences of the gradient: k evaluations
            step = 1e-6 * theta[j]
            up = theta.copy()
            up[j] += step
            hessian[:, j] = (natural_gradient(up) - at_estimate) / step
        hessian = (hessian + hessian.T) / 2
        names = list(self._param_names)
        try:
            np.linalg.cholesky(-hessian)
            covariance = np.linalg.inv(-hessian)
        except np.linalg.LinAlgError as err:
            raise FitError(
                f"{type(self).__name__}: the maximum is not unique (the observed information "
                "is not positive definite), so the data do not identify every parameter. "
                "Hint: check that some customers buy again and some stop; try more data.",
                diagnostics={
                    **self.diagnostics_,
                    "last_parameters": theta.tolist(),
                    "hessian": hessian.tolist(),
                },
            ) from err
        return pd.DataFrame(covariance, index=names, columns=names)

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


def check_rate(discount_rate: float, *, allow_zero: bool = False) -> float:
    """Check a discount rate per time unit: finite and > 0 (or >= 0)."""
    rate = float(discount_rate)
    low_ok = rate >= 0 if allow_zero else rate > 0
    if not (np.isfinite(rate) and low_ok):
        bound = ">= 0" if allow_zero else "> 0 (the remaining life is unbounded)"
        raise DataError(
            f"discount_rate must be {bound}, got {discount_rate!r}. "
            "Hint: pass the rate per time unit of the summary, e.g. 0.1 per year is "
            "1.1 ** (1 / 52) - 1 per week."
        )
    return rate


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

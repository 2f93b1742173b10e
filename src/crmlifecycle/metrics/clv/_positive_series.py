"""
``log 2F1(a, b; c; z)`` for positive parameters, summed term by term in log space.

For ``a, b, c > 0`` and ``0 <= z < 1`` every term of the Gauss series is positive,
so the sum can be carried as a logarithm: no overflow when the terms first grow
by hundreds of orders of magnitude (large ``a`` and ``b`` against ``c``) and no
cancellation. scipy's ``hyp2f1`` overflows or loses all digits in parts of that
region, which the BG/NBD predictions reach for long horizons or near-homogeneous
dropout. The stopping rule is a rigorous tail bound: after term ``m`` the ratio of
consecutive terms, ``(a+m)(b+m) z / ((c+m)(m+1))``, is a product of two factors
that move monotonically towards 1 (times ``z``), so
``rho = max((a+m)/(m+1), 1) * max((b+m)/(c+m), 1) * z`` bounds every later ratio and
the tail is at most ``t_m * rho / (1 - rho)``.
"""

from __future__ import annotations

from typing import Final

import numpy as np
from scipy import special

from crmlifecycle.errors import FitError

__all__ = ["log_hyp2f1_positive"]

_RELATIVE_TAIL: Final = 1e-16
_MAX_TERMS: Final = 1 << 22
_CELLS: Final = 1 << 22  # rows x terms held in memory per step


def log_hyp2f1_positive(a: np.ndarray, b: np.ndarray, c: np.ndarray, z: np.ndarray) -> np.ndarray:
    """
    Return ``log 2F1(a, b; c; z)`` elementwise, for ``a, b, c > 0`` and ``0 <= z < 1``.

    Raises:
        FitError: a row needs more than about four million terms (``z`` extremely close to 1).

    Examples:
        >>> import numpy as np
        >>> # 2F1(1, 1; 2; z) = -log(1 - z) / z
        >>> z = np.array([0.5, 0.999])
        >>> ours = np.exp(log_hyp2f1_positive(np.ones(2), np.ones(2), 2 * np.ones(2), z))
        >>> bool(np.allclose(ours, -np.log1p(-z) / z, rtol=1e-13))
        True
    """
    a, b, c, z = (np.asarray(v, dtype="float64") for v in np.broadcast_arrays(a, b, c, z))
    shape = a.shape
    a, b, c, z = a.ravel(), b.ravel(), c.ravel(), z.ravel()
    log_sum = np.zeros(a.size)  # the series starts with the term 1
    log_term = np.zeros(a.size)
    active = np.flatnonzero(z > 0)
    log_z = np.log(np.where(z > 0, z, 1.0))
    start = 0
    while active.size:
        if start >= _MAX_TERMS:
            worst = int(active[np.argmax(z[active])])
            raise FitError(
                f"the series of 2F1({a[worst]:.6g}, {b[worst]:.6g}; {c[worst]:.6g}; "
                f"{z[worst]:.12g}) did not converge in {_MAX_TERMS} terms. Hint: the horizon "
                "is extremely long against alpha + T; predict over a shorter horizon.",
                diagnostics={"a": a[worst], "b": b[worst], "c": c[worst], "z": z[worst]},
            )
        width = int(min(8192, max(64, _CELLS // active.size)))
        m = start + np.arange(width, dtype="float64")
        aa, bb, cc = a[active, None], b[active, None], c[active, None]
        step = np.log(aa + m) + np.log(bb + m) - np.log(cc + m) - np.log1p(m) + log_z[active, None]
        logs = log_term[active, None] + np.cumsum(step, axis=1)
        log_sum[active] = np.logaddexp(log_sum[active], special.logsumexp(logs, axis=1))
        log_term[active] = logs[:, -1]
        start += width
        rho = (
            np.maximum((a[active] + start) / (start + 1.0), 1.0)
            * np.maximum((b[active] + start) / (c[active] + start), 1.0)
            * z[active]
        )
        below = rho < 1
        log_tail = np.full(active.size, np.inf)
        log_tail[below] = log_term[active][below] + np.log(rho[below]) - np.log1p(-rho[below])
        done = log_tail < log_sum[active] + np.log(_RELATIVE_TAIL)
        active = active[~done]
    result: np.ndarray = log_sum.reshape(shape)
    return result

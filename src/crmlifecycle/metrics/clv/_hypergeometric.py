"""
The Gauss hypergeometric function ``2F1(1, p; q; z)`` with exact derivatives in p, q and z.

The Pareto/NBD likelihood (Fader & Hardie 2005, "A Note on Deriving the
Pareto/NBD Model and Related Expressions", eq. 19-20) needs
``2F1(r+s+x, b; r+s+x+1; z)`` with ``0 <= z < 1``. Euler's transformation
``2F1(a, b; a+1; z) = (1-z)^(1-b) 2F1(1, a+1-b; a+1; z)`` leaves
``H(p, q, z) = 2F1(1, p; q; z) = sum_k (p)_k / (q)_k z^k`` with ``0 < p < q``:
every term is positive and at most ``z^k``, so the series is summed directly,
and differentiating it term by term gives the derivatives (DLMF 15.2.1, 15.5.1,
and ``d/dp (p)_k = (p)_k [psi(p+k) - psi(p)]``, DLMF 5.15):

- ``dH/dp = sum_k t_k [psi(p+k) - psi(p)]``,
- ``dH/dq = -sum_k t_k [psi(q+k) - psi(q)]``,
- ``dH/dz = sum_k k t_k / z`` (which is ``(p/q) 2F1(2, p+1; q+1; z)``),

with ``t_k = (p)_k / (q)_k z^k`` and ``psi(p+k) - psi(p) = sum_{j<k} 1/(p+j)``.
"""

from __future__ import annotations

from typing import Final

import numpy as np

from crmlifecycle.errors import FitError

__all__ = ["MAX_TERMS", "log_hyp2f1_unit"]

#: relative accuracy at which the series stop (a rigorous bound on the remaining tail)
_TOLERANCE: Final = 1e-15
#: hard cap on the number of terms (z within ~1e-5 of 1 would need more)
MAX_TERMS: Final = 1 << 20
#: terms summed one at a time (vectorised over rows) before switching to chunks of terms
_LOOP_TERMS: Final = 64
_FIRST_CHUNK: Final = 256
_LARGEST_CHUNK: Final = 4096


def log_hyp2f1_unit(
    p: np.ndarray | float,
    q: np.ndarray | float,
    z: np.ndarray | float,
    one_minus_z: np.ndarray | float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """
    Return ``log H`` and its derivatives in ``p``, ``q`` and ``z``, for ``H = 2F1(1, p; q; z)``.

    Needs ``0 < p < q`` and ``0 <= z < 1`` (``one_minus_z`` is ``1 - z``, computed
    without cancellation by the caller). Rows stop once a rigorous bound on the
    remaining tail of each of the four sums is below ``1e-15`` of the sum; the
    first terms are added one at a time over all rows, the rows that need more
    (``z`` near 1) continue in chunks of terms.

    Raises:
        FitError: when a row needs more than ``MAX_TERMS`` terms (``z`` within
            about 1e-5 of 1).

    Examples:
        >>> import numpy as np
        >>> one = np.array([1.0])
        >>> # 2F1(1, 1; 2; z) = -log(1 - z) / z, so H(1/2) = 2 log 2
        >>> value, d_p, d_q, d_z = log_hyp2f1_unit(one, 2 * one, 0.5 * one, 0.5 * one)
        >>> bool(np.isclose(np.exp(value[0]), 2 * np.log(2), rtol=1e-15))
        True
    """
    arrays = np.broadcast_arrays(*(np.asarray(a, dtype="float64") for a in (p, q, z, one_minus_z)))
    shape = arrays[0].shape
    series = _Series(*(a.ravel() for a in arrays))
    active = np.flatnonzero(series.z > 0)
    while active.size and series.start < _LOOP_TERMS:
        active = series.loop(active, 16 if series.start == 0 else 8)
    width = _FIRST_CHUNK
    while active.size:
        if series.start >= MAX_TERMS:
            raise series.not_converged(active)
        active = series.chunk(active, width)
        width = min(2 * width, _LARGEST_CHUNK)
    return tuple(part.reshape(shape) for part in series.result())  # type: ignore[return-value]


class _Series:
    """Running sums of the series and its derivatives, and the state at term ``start``."""

    def __init__(self, p: np.ndarray, q: np.ndarray, z: np.ndarray, gap: np.ndarray) -> None:
        self.p, self.q, self.z, self.gap = p, q, z, gap
        self.total = np.ones(p.size)  # sum_k t_k, with t_0 = 1
        self.sum_p = np.zeros(p.size)  # sum_k t_k [psi(p+k) - psi(p)]
        self.sum_q = np.zeros(p.size)  # sum_k t_k [psi(q+k) - psi(q)]
        self.sum_k = np.zeros(p.size)  # sum_k k t_k
        self.term = np.ones(p.size)  # t_K, K = start
        self.psi_p = np.zeros(p.size)  # psi(p+K) - psi(p)
        self.psi_q = np.zeros(p.size)
        self.start = 0

    def loop(self, active: np.ndarray, count: int) -> np.ndarray:
        """Add ``count`` terms one at a time to the active rows; return those still running."""
        p, q, z = self.p[active], self.q[active], self.z[active]
        term, psi_p, psi_q = self.term[active], self.psi_p[active], self.psi_q[active]
        total, sum_p = self.total[active], self.sum_p[active]
        sum_q, sum_k = self.sum_q[active], self.sum_k[active]
        step, inv_p, inv_q = np.empty(p.size), np.empty(p.size), np.empty(p.size)
        for k in range(self.start, self.start + count):
            if k:  # add t_k (t_0 = 1 is in total already)
                total += term
                sum_p += np.multiply(term, psi_p, out=step)
                sum_q += np.multiply(term, psi_q, out=step)
                sum_k += np.multiply(term, k, out=step)
            np.add(p, k, out=step)
            np.reciprocal(step, out=inv_p)
            term *= step  # t_{k+1} = t_k z (p+k)/(q+k)
            np.add(q, k, out=step)
            np.reciprocal(step, out=inv_q)
            term *= inv_q
            term *= z
            psi_p += inv_p
            psi_q += inv_q
        self.term[active], self.psi_p[active], self.psi_q[active] = term, psi_p, psi_q
        self.total[active], self.sum_p[active] = total, sum_p
        self.sum_q[active], self.sum_k[active] = sum_q, sum_k
        self.start += count
        running: np.ndarray = active[~self._converged(active)]
        return running

    def chunk(self, active: np.ndarray, width: int) -> np.ndarray:
        """Add ``width`` terms to the active rows at once; return those still running."""
        k = self.start + np.arange(width, dtype="float64")
        p, q, z = self.p[active, None], self.q[active, None], self.z[active, None]
        inv_p, inv_q = 1 / (p + k), 1 / (q + k)
        ratios = z * (p + k) * inv_q  # t_{k+1} / t_k
        products = np.cumprod(ratios, axis=1)
        terms = self.term[active, None] * np.concatenate(
            [np.ones((active.size, 1)), products[:, :-1]], axis=1
        )
        harmonic_p = self.psi_p[active, None] + np.cumsum(inv_p, axis=1) - inv_p
        harmonic_q = self.psi_q[active, None] + np.cumsum(inv_q, axis=1) - inv_q
        self.total[active] += terms.sum(axis=1) - (1.0 if self.start == 0 else 0.0)
        self.sum_p[active] += np.einsum("ij,ij->i", terms, harmonic_p)
        self.sum_q[active] += np.einsum("ij,ij->i", terms, harmonic_q)
        self.sum_k[active] += terms @ k
        self.term[active] = terms[:, -1] * ratios[:, -1]
        self.psi_p[active] = harmonic_p[:, -1] + inv_p[:, -1]
        self.psi_q[active] = harmonic_q[:, -1] + inv_q[:, -1]
        self.start += width
        running: np.ndarray = active[~self._converged(active)]
        return running

    def _converged(self, active: np.ndarray) -> np.ndarray:
        # After K terms, t_{K+j} <= t_K z^j and psi(p+K+j) - psi(p) <= S_p + j/(p+K), so the
        # tails are at most t_K/(1-z) times: 1; S_p + 1/((p+K)(1-z)); S_q + ...; K + 1/(1-z).
        start, gap = self.start, self.gap[active]
        tail = self.term[active] / gap
        tail_p = tail * (self.psi_p[active] + 1 / ((self.p[active] + start) * gap))
        tail_q = tail * (self.psi_q[active] + 1 / ((self.q[active] + start) * gap))
        done: np.ndarray = (
            (tail <= _TOLERANCE * self.total[active])
            & (tail_p <= _TOLERANCE * self.sum_p[active])
            & (tail_q <= _TOLERANCE * self.sum_q[active])
            & (tail * (start + 1 / gap) <= _TOLERANCE * self.sum_k[active])
        )
        return done

    def not_converged(self, active: np.ndarray) -> FitError:
        """The error for rows that would need more than ``MAX_TERMS`` terms."""
        worst = int(active[np.argmax(self.z[active])])
        p, q, z = float(self.p[worst]), float(self.q[worst]), float(self.z[worst])
        return FitError(
            f"the hypergeometric series 2F1(1, p; q; z) did not converge in {MAX_TERMS} terms "
            f"(p={p:.6g}, q={q:.6g}, 1-z={float(self.gap[worst]):.3g}). Hint: the optimiser "
            "reached purchase and drop-out scales (alpha, beta) about 1e5 or more apart; check "
            "the time unit of recency and T, or fit the BG/NBD model.",
            diagnostics={"p": p, "q": q, "z": z},
        )

    def result(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """``log H``, ``d log H / dp``, ``d log H / dq``, ``d log H / dz``."""
        total, z = self.total, self.z
        positive = z > 0
        d_z = np.where(positive, self.sum_k / np.where(positive, z, 1.0), self.p / self.q)
        return np.log(total), self.sum_p / total, -self.sum_q / total, d_z / total

"""
RFM scoring: recency, frequency and monetary quintile scores and named segments.

RFM scoring ranks customers on three numbers taken from their order history
(Hughes, *Strategic Database Marketing*, 1994): how recently they bought, how
often, and how much. Each number becomes a score from 1 to 5 by quintiles of the
scored population, the three digits form the RFM code (``"545"``), and a grid
over the scores names segments.

The quintile rule, chosen so that ties are handled deterministically and the
result does not depend on row order: a customer's score is
``1 + floor(5 * share of customers with a strictly worse value)``. With distinct
values this gives five equal groups (when the count divides by 5); tied values
always share one score. Equivalently, with the population sorted ascending as
``v[1] <= ... <= v[n]``, the four edges are ``e_s = v[ceil((s - 1) * n / 5)]``
for ``s = 2..5`` and the score is ``1 + #{s : value > e_s}``. Recency is scored
on ``-days since the last order`` so that recent buyers score 5.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final, Literal, Self, final

import numpy as np
import pandas as pd

from crmlifecycle._config import check_keys, load_text
from crmlifecycle._finite import NS_PER_DAY, elapsed, finite_float, finite_sum
from crmlifecycle._frames import (
    as_utc,
    check_numeric,
    require_columns,
    utc_nanoseconds,
    utc_timestamp,
)
from crmlifecycle._ids import check_ids
from crmlifecycle._types import Instant
from crmlifecycle.errors import DataError, FitError, SpecError, ValidationError, short_repr
from crmlifecycle.schema import OrderColumns
from crmlifecycle.scoring._config import as_list, check_text, scorer_settings
from crmlifecycle.scoring._protocol import CONTRIB_PREFIX, Contribution, ScoreCard, read_field

__all__ = ["DEFAULT_RFM_SEGMENTS", "RfmScorer", "rfm_edges", "rfm_scores"]

_DIMS: Final = ("recency", "frequency", "monetary")

#: The default segment grid over (R, F), first match wins. It follows the widely used
#: R x F grid of RFM segmentation (champions, loyal, potential loyalists, new, promising,
#: need attention, about to sleep, at risk, cannot lose, hibernating), with ``lost`` for
#: the least recent, least frequent customers.
DEFAULT_RFM_SEGMENTS: Final[tuple[dict[str, Any], ...]] = (
    {"segment": "champions", "r": [5, 5], "f": [4, 5]},
    {"segment": "loyal", "r": [3, 4], "f": [4, 5]},
    {"segment": "potential_loyalists", "r": [4, 5], "f": [2, 3]},
    {"segment": "new_customers", "r": [5, 5], "f": [1, 1]},
    {"segment": "promising", "r": [4, 4], "f": [1, 1]},
    {"segment": "need_attention", "r": [3, 3], "f": [3, 3]},
    {"segment": "about_to_sleep", "r": [3, 3], "f": [1, 2]},
    {"segment": "cannot_lose", "r": [1, 2], "f": [5, 5]},
    {"segment": "at_risk", "r": [1, 2], "f": [3, 4]},
    {"segment": "hibernating", "r": [2, 2], "f": [1, 2]},
    {"segment": "lost", "r": [1, 1], "f": [1, 2]},
)

_CODES: Final = tuple(f"{r}{f}{m}" for r in range(1, 6) for f in range(1, 6) for m in range(1, 6))


def rfm_edges(values: np.ndarray[Any, np.dtype[np.float64]]) -> tuple[float, float, float, float]:
    """
    Return the four quintile edges ``e_2..e_5`` of ``values`` (see the module rule).

    Examples:
        >>> rfm_edges(np.arange(1.0, 11.0))
        (2.0, 4.0, 6.0, 8.0)
    """
    n = len(values)
    if n == 0:
        raise DataError("cannot compute RFM quintiles of no customers. Hint: pass orders.")
    # ceil((s - 1) * n / 5) in integers, as a 0-based position
    positions = [-(-(s - 1) * n // 5) - 1 for s in range(2, 6)]
    picked = np.partition(values, positions)[positions]
    e2, e3, e4, e5 = (float(x) for x in picked)
    return (e2, e3, e4, e5)


def rfm_scores(
    values: np.ndarray[Any, np.dtype[np.float64]], edges: Sequence[float]
) -> np.ndarray[Any, np.dtype[np.int8]]:
    """
    Map values to 1..5 given the edges: ``1 + #{s : value > e_s}``.

    Examples:
        >>> rfm_scores(np.array([1.0, 2.0, 3.0, 9.0, 10.0]), (2.0, 4.0, 6.0, 8.0)).tolist()
        [1, 1, 2, 5, 5]
    """
    return (np.searchsorted(np.asarray(edges, dtype="float64"), values, side="left") + 1).astype(
        np.int8
    )


def _segment_table(segments: Sequence[Mapping[str, Any]]) -> tuple[list[str], np.ndarray]:
    """Compile the grid into names and a 125-entry lookup (index (r-1)*25 + (f-1)*5 + (m-1))."""
    names: list[str] = []
    lookup = np.full(125, -1, dtype=np.int16)
    grid = np.arange(125)
    r_of, f_of, m_of = grid // 25 + 1, grid // 5 % 5 + 1, grid % 5 + 1
    for i, entry in enumerate(as_list(segments, path="segments")):
        path = f"segments[{i}]"
        check_keys(entry, required=("segment",), optional=("r", "f", "m"), path=path)
        name = check_text(entry["segment"], path=f"{path}.segment")
        hit = lookup == -1
        for dim, scores in (("r", r_of), ("f", f_of), ("m", m_of)):
            low, high = _score_range(entry.get(dim, [1, 5]), path=f"{path}.{dim}")
            hit &= (scores >= low) & (scores <= high)
        code = names.index(name) if name in names else len(names)
        if code == len(names):
            names.append(name)
        lookup[hit] = code
    uncovered = [_CODES[i] for i in np.flatnonzero(lookup == -1)]
    if uncovered:
        raise SpecError(
            f"the grid leaves RFM codes without a segment, e.g. {uncovered[:5]} "
            f"({len(uncovered)} in all). Hint: add a catch-all entry such as "
            "{segment: other} (no ranges) at the end.",
            path="segments",
        )
    return names, lookup


def _score_range(value: object, *, path: str) -> tuple[int, int]:
    ok = (
        isinstance(value, list | tuple)
        and len(value) == 2  # noqa: PLR2004
        and all(isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= 5 for v in value)  # noqa: PLR2004
        and value[0] <= value[1]
    )
    if not ok:
        raise SpecError(
            f"must be a range [low, high] of scores within 1..5 (got {short_repr(value)}). "
            "Hint: e.g. [4, 5].",
            path=path,
        )
    pair: Sequence[int] = value  # type: ignore[assignment]
    return int(pair[0]), int(pair[1])


@final
class RfmScorer:
    """
    Score customers by recency, frequency and monetary value (quintiles 1..5) into segments.

    The definitions (Hughes 1994; quintile rule in the module docstring): recency is
    the days from the last order to ``as_of``, frequency the number of orders, monetary
    the total (or, with ``monetary="mean"``, the average) order amount, all over the
    orders placed at or before ``as_of``. The RFM code concatenates the three scores
    (``"545"``), the score is their sum (3..15) and the segment comes from the grid.
    The orders' columns are named by an :class:`~crmlifecycle.schema.OrderColumns`
    record (``orders_columns=``).

    Args:
        monetary: ``"sum"`` (default) or ``"mean"`` of the order amounts.
        segments: the segment grid, a list of ``{segment, r, f, m}`` entries with score
            ranges ``[low, high]`` (an omitted range means 1..5); the first match wins and
            every one of the 125 codes must be covered. Defaults to
            :data:`DEFAULT_RFM_SEGMENTS`.
        edges: previously fitted quintile edges (as :meth:`to_dict` writes them).

    Examples:
        >>> import pandas as pd
        >>> orders = pd.DataFrame({
        ...     "customer_id": ["a", "a", "b", "c", "c", "c", "d", "e"],
        ...     "at": pd.to_datetime(["2026-01-05", "2026-03-01", "2026-02-01", "2026-01-10",
        ...                           "2026-02-10", "2026-03-10", "2025-06-01", "2025-12-01"],
        ...                          utc=True),
        ...     "amount": [10.0, 20.0, 100.0, 5.0, 5.0, 5.0, 50.0, 40.0],
        ... })
        >>> scored = RfmScorer().score_frame(orders, as_of=pd.Timestamp("2026-04-01", tz="UTC"))
        >>> scored[["r", "f", "m", "code", "segment"]]
                     r  f  m code              segment
        customer_id
        a            4  4  2  442                loyal
        b            3  1  5  315       about_to_sleep
        c            5  5  1  551            champions
        d            1  1  4  114                 lost
        e            2  1  3  213          hibernating
    """

    name: str = "rfm"

    def __init__(
        self,
        *,
        monetary: Literal["sum", "mean"] = "sum",
        segments: Sequence[Mapping[str, Any]] = DEFAULT_RFM_SEGMENTS,
        edges: Mapping[str, Sequence[float]] | None = None,
    ) -> None:
        check_text(monetary, path="monetary")
        if monetary not in {"sum", "mean"}:
            raise SpecError(
                f"must be 'sum' or 'mean' (got {short_repr(monetary)}). Hint: use monetary='sum'.",
                path="monetary",
            )
        self.monetary = monetary
        self._names, self._lookup = _segment_table(segments)  # checks the grid first
        self.segments = tuple(dict(s) for s in segments)
        self.edges_: dict[str, tuple[float, ...]] | None = None
        if edges is not None:
            check_keys(edges, required=_DIMS, path="edges")
            self.edges_ = {d: _read_edges(edges[d], path=f"edges.{d}") for d in _DIMS}

    def __repr__(self) -> str:
        fitted = "fitted" if self.edges_ is not None else "not fitted"
        return f"RfmScorer(monetary={self.monetary!r}, segments={len(self._names)}, {fitted})"

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """
        Build a scorer from plain data (as :meth:`to_dict` writes it).

        Args:
            data: the configuration: ``monetary``, ``segments`` and fitted ``edges`` (each
                optional) and ``scorer`` (``"rfm"`` if present).

        Raises:
            SpecError: naming the path of the problem (``segments[2].r``).

        Examples:
            >>> RfmScorer.from_dict({"monetary": "mean"}).monetary
            'mean'
        """
        optional = ("monetary", "segments", "edges")
        return cls(**scorer_settings(data, scorer=cls.name, optional=optional))

    @classmethod
    def from_text(cls, text: str) -> Self:
        """
        Build a scorer from JSON or YAML text (see :meth:`from_dict`).

        Args:
            text: the configuration as JSON or YAML text.

        Examples:
            >>> RfmScorer.from_text('{"scorer": "rfm", "monetary": "mean"}').monetary
            'mean'
        """
        return cls.from_dict(load_text(text, what="an RFM scorer configuration"))

    def to_dict(self) -> dict[str, Any]:
        """
        Return the configuration (and fitted edges, if any) as plain data.

        Examples:
            >>> sorted(RfmScorer().to_dict())
            ['monetary', 'scorer', 'segments']
        """
        config: dict[str, Any] = {
            "scorer": self.name,
            "monetary": self.monetary,
            "segments": [dict(s) for s in self.segments],
        }
        if self.edges_ is not None:
            config["edges"] = {d: list(e) for d, e in self.edges_.items()}
        return config

    def summarize(
        self,
        orders: pd.DataFrame,
        *,
        as_of: Instant,
        orders_columns: OrderColumns = OrderColumns(),
    ) -> pd.DataFrame:
        """
        Return recency (days), frequency and monetary value per customer, as of ``as_of``.

        Orders after ``as_of`` are left out (scoring as of a past date is allowed).
        The result's index is named after the orders' customer column.

        Args:
            orders: one row per order; not modified.
            as_of: the moment to look from: orders after it are left out and recency is
                counted up to it.
            orders_columns: the columns of ``orders`` (``customer_id``, ``at`` and ``amount``
                are read).

        Examples:
            >>> import pandas as pd
            >>> orders = pd.DataFrame({"customer_id": ["a", "a"], "amount": [5.0, 7.0],
            ...     "at": pd.to_datetime(["2026-01-01", "2026-01-11"], utc=True)})
            >>> RfmScorer().summarize(orders, as_of=pd.Timestamp("2026-01-21", tz="UTC"))
                         recency_days  frequency  monetary
            customer_id
            a                    10.0          2      12.0
        """
        customer_col, at_col, amount_col = (
            orders_columns.customer_id,
            orders_columns.at,
            orders_columns.amount,
        )
        require_columns(orders, [customer_col, at_col, amount_col], frame_name="orders")
        when = utc_timestamp(as_of, name="as_of")
        check_ids(orders, customer_col, frame_name="orders", what="customer ids")
        stamps = utc_nanoseconds(as_utc(orders[at_col], at_col))
        amounts = check_numeric(orders[amount_col], amount_col, non_negative=True)
        finite_sum(amounts, name="the sum of the order amounts", inputs=[amount_col])
        when_ns = when.as_unit("ns").value
        keep = stamps <= when_ns
        frame = pd.DataFrame(
            {"customer": orders[customer_col].array, "at": stamps, "amount": amounts.to_numpy()}
        )
        if not keep.all():
            frame = frame[keep]
        if frame.empty:
            raise DataError(
                f"orders has no order at or before as_of={when.isoformat()}. "
                "Hint: pass a later as_of, or check the order dates.",
                column=at_col,
            )
        grouped = frame.groupby("customer", sort=True).agg(
            last=("at", "max"), frequency=("at", "size"), monetary=("amount", self.monetary)
        )
        days = elapsed(when_ns, grouped["last"].to_numpy(dtype="int64"), unit_ns=NS_PER_DAY)
        return pd.DataFrame(
            {
                "recency_days": days.astype("float64"),
                "frequency": grouped["frequency"].to_numpy(),
                "monetary": grouped["monetary"].to_numpy(dtype="float64"),
            },
            index=grouped.index.rename(customer_col),
        )

    def fit(
        self,
        orders: pd.DataFrame,
        *,
        as_of: Instant,
        orders_columns: OrderColumns = OrderColumns(),
    ) -> Self:
        """
        Learn the quintile edges of a reference population so single records can be scored.

        Args:
            orders: one row per order; not modified.
            as_of: the moment to look from: orders after it are left out and recency is
                counted up to it.
            orders_columns: the columns of ``orders`` (``customer_id``, ``at`` and ``amount``
                are read).

        Examples:
            >>> import pandas as pd
            >>> orders = pd.DataFrame({"customer_id": list("abcde"), "amount": [1.0, 2, 3, 4, 5],
            ...     "at": pd.to_datetime(["2026-01-01"] * 5, utc=True)})
            >>> fitted = RfmScorer().fit(orders, as_of=pd.Timestamp("2026-02-01", tz="UTC"))
            >>> fitted.edges_["monetary"]
            (1.0, 2.0, 3.0, 4.0)
        """
        summary = self.summarize(orders, as_of=as_of, orders_columns=orders_columns)
        self.edges_ = {d: rfm_edges(v) for d, v in zip(_DIMS, _values(summary), strict=True)}
        return self

    def score_frame(
        self,
        orders: pd.DataFrame,
        *,
        as_of: Instant,
        orders_columns: OrderColumns = OrderColumns(),
    ) -> pd.DataFrame:
        """
        Score every customer of an orders frame, quintiles taken over those customers.

        Returns one row per customer (index: the customer column, sorted) with the columns
        ``recency_days``, ``frequency``, ``monetary``, ``r``, ``f``, ``m``, ``code``,
        ``segment``, ``score`` (r + f + m), ``grade`` (the code), ``label`` (the
        segment) and ``contrib:recency``, ``contrib:frequency``, ``contrib:monetary``.

        Args:
            orders: one row per order; not modified.
            as_of: the moment to look from: orders after it are left out and recency is
                counted up to it.
            orders_columns: the columns of ``orders`` (``customer_id``, ``at`` and ``amount``
                are read).

        Examples:
            >>> import pandas as pd
            >>> orders = pd.DataFrame({"customer_id": ["x"], "amount": [9.0],
            ...     "at": pd.to_datetime(["2026-01-01"], utc=True)})
            >>> scored = RfmScorer().score_frame(orders, as_of=pd.Timestamp("2026-01-02", tz="UTC"))
            >>> scored["code"].tolist(), scored["segment"].tolist()
            (['111'], ['lost'])
        """
        summary = self.summarize(orders, as_of=as_of, orders_columns=orders_columns)
        values = _values(summary)
        r, f, m = (rfm_scores(v, rfm_edges(v)) for v in values)
        cell = (r.astype(np.int16) - 1) * 25 + (f - 1) * 5 + (m - 1)
        code = pd.Categorical.from_codes(cell, categories=pd.Index(_CODES))
        segment = pd.Categorical.from_codes(self._lookup[cell], categories=pd.Index(self._names))
        result = summary.assign(r=r, f=f, m=m, code=code, segment=segment)
        result["score"] = (r.astype(np.int64) + f + m).astype("float64")
        result["grade"] = code
        result["label"] = segment
        for dim, scores in zip(_DIMS, (r, f, m), strict=True):
            result[f"{CONTRIB_PREFIX}{dim}"] = scores.astype("float64")
        return result

    def score(self, record: object, *, as_of: Instant) -> ScoreCard:
        """
        Score one customer summary with the fitted edges.

        ``record`` gives ``recency_days`` (or ``last_order_at``), ``frequency`` and
        ``monetary``, as a mapping or attributes; ``as_of`` turns a ``last_order_at``
        into days.

        Args:
            record: the customer summary: a mapping or an object with those fields.
            as_of: the moment recency is counted up to (used only with ``last_order_at``).

        Raises:
            FitError: the scorer has no edges (call :meth:`fit` first).
            ValidationError: a field is missing or not a number.

        Examples:
            >>> scorer = RfmScorer(edges={"recency": [-40, -30, -20, -10],
            ...     "frequency": [1, 2, 3, 4], "monetary": [10, 20, 30, 40]})
            >>> card = scorer.score({"recency_days": 5, "frequency": 5, "monetary": 35},
            ...     as_of=pd.Timestamp("2026-01-01", tz="UTC"))
            >>> card.grade, card.label, card.total
            ('554', 'champions', 14.0)
        """
        if self.edges_ is None:
            raise FitError(
                "RfmScorer.score needs quintile edges of a reference population. "
                "Hint: call fit(orders, as_of=...) first, or pass edges= from a saved config."
            )
        days = read_field(record, "recency_days")
        if days is None and (last := read_field(record, "last_order_at")) is not None:
            last_utc = utc_timestamp(last, name="last_order_at")
            days = float(
                elapsed(utc_timestamp(as_of, name="as_of"), last_utc, unit_ns=NS_PER_DAY)[0]
            )
        inputs = {
            "recency": -_number(days, "recency_days"),
            "frequency": _number(read_field(record, "frequency"), "frequency"),
            "monetary": _number(read_field(record, "monetary"), "monetary"),
        }  # each a finite number >= 0: negative recency, frequency or monetary value is refused
        scores = {d: int(rfm_scores(np.array([inputs[d]]), self.edges_[d])[0]) for d in _DIMS}
        r, f, m = scores["recency"], scores["frequency"], scores["monetary"]
        segment = self._names[int(self._lookup[(r - 1) * 25 + (f - 1) * 5 + (m - 1)])]
        notes = {
            "recency": f"{-inputs['recency']:g} days since the last order",
            "frequency": f"{inputs['frequency']:g} orders",
            "monetary": f"{inputs['monetary']:g} {self.monetary}",
        }
        contributions = tuple(
            Contribution(
                rule=d,
                points=float(scores[d]),
                value=-inputs[d] if d == "recency" else inputs[d],
                note=notes[d],
            )
            for d in _DIMS
        )
        return ScoreCard(
            total=float(r + f + m), grade=f"{r}{f}{m}", label=segment, contributions=contributions
        )


def _values(summary: pd.DataFrame) -> list[np.ndarray[Any, np.dtype[np.float64]]]:
    return [
        -summary["recency_days"].to_numpy(dtype="float64"),
        summary["frequency"].to_numpy(dtype="float64"),
        summary["monetary"].to_numpy(dtype="float64"),
    ]


def _number(value: object, field: str) -> float:
    """A customer summary's recency, frequency or monetary value: a finite number >= 0."""
    number = finite_float(value)  # None for text, bools, NaN, infinities, ints beyond a float
    if number is None or number < 0:
        hint = (
            "recency is days since the last order, never after as_of; frequency counts orders; "
            "monetary is the order value, refunds excluded (as the CLV models require)."
        )
        raise ValidationError.for_field(field, value, "a finite number >= 0", hint=hint)
    return number


def _read_edges(value: object, *, path: str) -> tuple[float, ...]:
    numbers: list[float] = []
    if isinstance(value, list | tuple) and len(value) == 4:  # noqa: PLR2004 - four edges
        read = [finite_float(v) for v in value if isinstance(v, int | float)]
        numbers = [v for v in read if v is not None]
    if len(numbers) != 4 or numbers != sorted(numbers) or not all(np.isfinite(numbers)):  # noqa: PLR2004
        raise SpecError(
            f"must be four ascending finite numbers (got {short_repr(value)}). "
            "Hint: use the edges that fit() computed (to_dict() writes them).",
            path=path,
        )
    return tuple(numbers)

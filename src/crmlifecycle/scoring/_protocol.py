"""
The scorer extension point: :class:`Scorer`, :class:`ScoreCard` and :class:`Contribution`.

Every scorer, built in or shipped by another package, scores one record into a
:class:`ScoreCard` (the total, a grade and a label, and the contributions that
made it) and scores a whole frame at once into a DataFrame whose
``contrib:<rule>`` columns carry the same explanation without a per-row loop.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol, Self, final, runtime_checkable

import attrs
import pandas as pd

from crmlifecycle._finite import finite, optional_probability
from crmlifecycle._types import Instant

__all__ = ["CONTRIB_PREFIX", "Contribution", "ScoreCard", "Scorer"]

#: Prefix of the per-rule explanation columns in the frames ``score_frame`` returns.
CONTRIB_PREFIX = "contrib:"


@final
@attrs.frozen(kw_only=True)
class Contribution:
    """
    One reason behind a score: which rule, how many points, from which value.

    Attributes:
        rule: the rule's name (a fit rule, an engagement category, an RFM dimension,
            a predictive feature).
        points: what the rule added to the total (may be negative; finite, else a
            ``ValidationError``).
        value: the input value the rule looked at (a field value, a count, a bin).
        note: a short human-readable detail (e.g. ``"3 interactions, capped at 10"``).

    Examples:
        >>> c = Contribution(rule="budget known", points=10.0, value={"budget": 5000.0})
        >>> c.points
        10.0
        >>> str(c)
        "+10 budget known ({'budget': 5000.0})"
    """

    rule: str
    points: float = attrs.field(validator=finite())
    value: object = None
    note: str = ""

    def __str__(self) -> str:
        detail = self.note or (repr(self.value) if self.value is not None else "")
        return f"{self.points:+g} {self.rule}" + (f" ({detail})" if detail else "")


@final
@attrs.frozen(kw_only=True)
class ScoreCard:
    """
    The score of one record and its explanation.

    Attributes:
        total: the score, a finite number; for point-based scorers it equals the sum of the
            contributions.
        grade: a grade such as ``"A"`` (or the RFM code such as ``"545"``), or ``None``.
        label: a lifecycle label such as ``"MQL"`` (or an RFM segment), or ``None``.
        contributions: the reasons, in rule order.
        probability: for predictive scorers, the probability of winning, in [0, 1] (NaN,
            infinities and values outside are a ``ValidationError``).

    Examples:
        >>> card = ScoreCard(
        ...     total=12.0,
        ...     grade="B",
        ...     label="MQL",
        ...     contributions=(
        ...         Contribution(rule="industry", points=10.0),
        ...         Contribution(rule="email", points=2.0),
        ...     ),
        ... )
        >>> card.top(1)
        (Contribution(rule='industry', points=10.0, value=None, note=''),)
        >>> print(card.explain())
        12 (grade B, MQL): +10 industry; +2 email
    """

    total: float = attrs.field(validator=finite())
    grade: str | None = None
    label: str | None = None
    contributions: tuple[Contribution, ...] = ()
    probability: float | None = attrs.field(
        default=None, validator=optional_probability("fraction")
    )

    def top(self, n: int = 3) -> tuple[Contribution, ...]:
        """
        Return the ``n`` contributions with the largest absolute points.

        Args:
            n: how many contributions to return (fewer when the card has fewer).

        Examples:
            >>> card = ScoreCard(total=1.0, contributions=(Contribution(rule="a", points=1.0),))
            >>> [c.rule for c in card.top(5)]
            ['a']
        """
        ranked = sorted(self.contributions, key=lambda c: -abs(c.points))
        return tuple(ranked[:n])

    def explain(self, n: int | None = None) -> str:
        """
        Return a one-line explanation: the total, grade, label and the reasons.

        Args:
            n: show only the ``n`` largest contributions (``None``: all); zero ones are
                never shown.

        Examples:
            >>> ScoreCard(total=3.0, grade="C").explain()
            '3 (grade C): no contributions'
        """
        tags = [f"grade {self.grade}"] if self.grade is not None else []
        tags += [self.label] if self.label not in {None, self.grade} else []
        head = f"{self.total:g}" + (f" ({', '.join(tags)})" if tags else "")
        chosen = self.top(n) if n is not None else self.contributions
        body = "; ".join(str(c) for c in chosen if c.points != 0) or "no contributions"
        return f"{head}: {body}"


@runtime_checkable
class Scorer(Protocol):
    """
    What every scorer provides (built-in or from a plugin).

    A scorer takes its configuration in its constructor and never changes it;
    ``score`` and ``score_frame`` are pure. Both score *as of* a moment the caller
    gives (``as_of``, an :data:`~crmlifecycle.typing.Instant`): a scorer never
    reads a clock. Its configuration is plain data: ``from_dict`` reads what
    ``to_dict`` writes (``scorer`` names the registered type). The built-in
    scorers also read JSON or YAML text (``from_text``);
    :func:`~crmlifecycle.scoring.build_scorer` reads text for any scorer.
    ``score_frame`` returns one row per scored entity with at least the columns
    ``score``, ``grade`` and ``label``, plus one ``contrib:<rule>`` column per
    rule so the explanation of every row is available without a per-row Python
    loop. The record and the frame are positional (a scorer may name them after
    what it reads, e.g. ``orders``); a scorer may take more keywords, such as
    the frame's ``X_columns`` record.

    Examples:
        >>> from crmlifecycle.scoring import RfmScorer
        >>> isinstance(RfmScorer(), Scorer)
        True
    """

    name: str

    def score(self, record: object, /, *, as_of: Instant) -> ScoreCard:
        """
        Score one record (an attrs entity or a mapping) as of ``as_of``.

        Args:
            record: the record to score: an attrs entity or a mapping of its fields.
            as_of: the moment the score is computed from.
        """
        ...

    def score_frame(self, frame: pd.DataFrame, /, *, as_of: Instant) -> pd.DataFrame:
        """
        Score every row of ``frame`` as of ``as_of`` (vectorised).

        Args:
            frame: one row per record to score; not modified.
            as_of: the moment the scores are computed from.
        """
        ...

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], /) -> Self:
        """
        Build the scorer from plain data (what :meth:`to_dict` returns).

        Args:
            data: the configuration; its ``scorer`` key, when present, names this type.
        """
        ...

    def to_dict(self) -> dict[str, Any]:
        """Return the configuration as plain data (``scorer`` names the registered type)."""
        ...


def read_field(record: object, field: str) -> object:
    """
    Read ``field`` from a mapping or an attrs/plain object, ``None`` when absent.

    Examples:
        >>> read_field({"a": 1}, "a"), read_field({"a": 1}, "b")
        (1, None)
    """
    if isinstance(record, Mapping):
        return record.get(field)
    return getattr(record, field, None)

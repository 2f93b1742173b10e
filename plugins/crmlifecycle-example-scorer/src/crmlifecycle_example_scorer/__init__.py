"""
An example crmlifecycle scorer plugin: points for a company e-mail domain.

Leads that write from a free-mail domain (``gmail.com``, ``outlook.com`` ...)
are less likely to be buyers than leads that write from their company's domain.
The scorer gives ``company_points`` to a company domain, ``free_points`` to a
free-mail domain and nothing to a missing address.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final, final

import numpy as np
import pandas as pd

from crmlifecycle.errors import MissingColumnError, SpecError
from crmlifecycle.scoring import Contribution, ScoreCard
from crmlifecycle.typing import Instant

__all__ = ["FREE_MAIL_DOMAINS", "EmailDomainScorer"]

FREE_MAIL_DOMAINS: Final = ("gmail.com", "yahoo.com", "outlook.com", "hotmail.com", "gmx.de")
_KEYS: Final = ("scorer", "free_domains", "company_points", "free_points")


@final
class EmailDomainScorer:
    """
    Score a lead by whether its e-mail domain is a company's or a free-mail provider's.

    Examples:
        >>> import pandas as pd
        >>> scorer = EmailDomainScorer()
        >>> as_of = pd.Timestamp("2026-03-01", tz="UTC")
        >>> scorer.score({"email": "ada@example.org"}, as_of=as_of).total
        10.0
    """

    name: str = "email_domain"

    def __init__(
        self,
        *,
        free_domains: Sequence[str] = FREE_MAIL_DOMAINS,
        company_points: float = 10.0,
        free_points: float = -5.0,
    ) -> None:
        if isinstance(free_domains, str):
            raise SpecError(
                "must be a list of domains. Hint: e.g. [gmail.com].", path="free_domains"
            )
        self.free_domains = tuple(d.lower() for d in free_domains)
        self.company_points = float(company_points)
        self.free_points = float(free_points)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EmailDomainScorer:
        """Build the scorer from plain data (what :meth:`to_dict` returns)."""
        unknown = sorted(set(data) - set(_KEYS))
        if unknown:
            raise SpecError(
                f"unknown key {unknown[0]!r}. Hint: use {list(_KEYS)}.", path=unknown[0]
            )
        return cls(**{k: v for k, v in data.items() if k != "scorer"})

    def to_dict(self) -> dict[str, Any]:
        """Return the configuration as plain data (the input of :meth:`from_dict`)."""
        return {
            "scorer": self.name,
            "free_domains": list(self.free_domains),
            "company_points": self.company_points,
            "free_points": self.free_points,
        }

    def _points(self, domains: pd.Series) -> np.ndarray[Any, np.dtype[np.float64]]:
        free = domains.isin(self.free_domains).to_numpy(dtype=bool)
        known = domains.notna().to_numpy(dtype=bool)
        return np.where(free, self.free_points, np.where(known, self.company_points, 0.0))

    def score(self, record: object, *, as_of: Instant) -> ScoreCard:
        """Score one lead (a mapping or an entity with an ``email`` field)."""
        del as_of  # the e-mail domain does not age
        if isinstance(record, Mapping):
            email = record.get("email")
        else:
            email = getattr(record, "email", None)
        domain = str(email).rsplit("@", 1)[-1].lower() if email else None
        points = float(self._points(pd.Series([domain], dtype=object))[0])
        return ScoreCard(
            total=points,
            contributions=(Contribution(rule="email domain", points=points, value=domain),),
        )

    def score_frame(self, frame: pd.DataFrame, *, as_of: Instant) -> pd.DataFrame:
        """Score every lead of a frame with an ``email`` column (vectorised)."""
        del as_of
        if "email" not in frame.columns:
            raise MissingColumnError(["email"], frame.columns, frame="leads")
        domains = frame["email"].str.rsplit("@", n=1).str[-1].str.lower()
        points = self._points(domains)
        return pd.DataFrame(
            {"score": points, "grade": None, "label": None, "contrib:email domain": points},
            index=frame.index,
        )

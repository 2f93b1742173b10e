"""
The knobs of the synthetic world, with sensible defaults.

Every rate and distribution the generator uses that a user may want to change.
"""

from __future__ import annotations

import math
from typing import Any, final

import attrs

from crmlifecycle._validators import in_range, optional

__all__ = ["WorldParams"]

_BIG = 1e9


def _positive(default: float) -> float:
    return attrs.field(default=default, validator=in_range(1e-9, _BIG))


def _real(default: float) -> float:
    return attrs.field(default=default, validator=in_range(-100.0, 100.0))


@final
@attrs.frozen(kw_only=True)
class WorldParams:
    """
    Parameters of :func:`~crmlifecycle.synth.generate`: funnel rates, purchase process, service.

    The defaults give a B2B SaaS-like world: about 30% of leads become
    opportunities, about a third of the closed ones are won, customers place a
    repeat order every five weeks or so until they drop out, and open a support
    case every few months.

    Funnel (lead status and opportunity pipeline). Each lead has a latent *fit*
    (a sum of effects of industry, company size, job title, budget and channel,
    plus noise); ``fit_weight`` scales how much it drives qualification and winning.

    Attributes:
        n_campaigns: number of campaigns (``None``: about the square root of the
            number of leads, at least one per channel).
        contact_rate: share of leads that sales contacts.
        qualify_logit: log-odds of a contacted lead of average fit being qualified.
        fit_weight: weight of the fit score in the qualification and win log-odds
            (0 makes the fit attributes useless for prediction).
        convert_rate: share of qualified leads converted to an opportunity.
        recycle_rate: share of disqualified leads recycled to ``open`` for nurturing.
        win_logit: log-odds of an opportunity of average fit being won.
        reopen_rate: share of lost opportunities reopened later.
        stage_days: mean days an opportunity spends in a pipeline stage.
        interactions_per_lead: mean interactions (e-mail opens, visits, ...) of a lead.
        engagement_lift: factor on the interaction rate of leads that get qualified.

    Purchases (the BG/NBD story of Fader, Hardie & Lee 2005, with the Gamma-Gamma
    spend model of Fader, Hardie & Lee 2005 and Fader & Hardie 2013). The first order
    is placed at acquisition; repeat orders follow a Poisson process whose weekly rate
    is drawn from Gamma(shape ``purchase_r``, rate ``purchase_alpha``); after each
    repeat order the customer drops out with a probability drawn from
    Beta(``dropout_a``, ``dropout_b``). Each customer's mean spend is p/nu with nu
    drawn from Gamma(shape ``spend_q``, rate ``spend_gamma``) and each order amount from
    Gamma(shape ``spend_p``, rate nu), so the mean order is
    ``spend_p * spend_gamma / (spend_q - 1)`` EUR.

    Attributes:
        purchase_r: shape of the gamma distribution of weekly purchase rates.
        purchase_alpha: rate (in weeks) of the gamma distribution of purchase rates.
        dropout_a: first shape of the beta distribution of dropout probabilities.
        dropout_b: second shape of the beta distribution of dropout probabilities.
        spend_p: shape of each order's gamma-distributed amount.
        spend_q: shape of the gamma distribution of customers' spend rates.
        spend_gamma: rate (EUR) of the gamma distribution of customers' spend rates.
        churn_lag_days: days between dropping out and cancelling the subscription
            (the ``churn`` event).
        win_back_rate: share of churned customers won back later.
        loyalty_orders: repeat orders after which a customer is promoted to ``loyalty``.
        expansion_rate: monthly chance that a customer's MRR grows (by 10-50%).
        contraction_rate: monthly chance that a customer's MRR shrinks (by 10-40%).

    Service and feedback.

    Attributes:
        cases_per_year: mean support cases a customer opens per year.
        waiting_rate: share of cases that wait on the customer once.
        escalation_rate: share of cases (below ``urgent``) escalated once.
        case_reopen_rate: share of resolved cases reopened once.
        nps_per_year: mean NPS surveys a customer answers per year.
        survey_rate: share of resolved cases followed by a CSAT answer (CES: half that).
        churn_sentiment: how much lower (in standard deviations of the latent
            satisfaction) customers who drop out score in feedback.

    Examples:
        >>> from crmlifecycle.synth import WorldParams
        >>> WorldParams().contact_rate
        0.85
        >>> WorldParams(contact_rate=1.5)
        Traceback (most recent call last):
        ...
        crmlifecycle.errors.ValidationError: 'contact_rate' must be a number from 0.0 to 1.0 ...
    """

    n_campaigns: int | None = attrs.field(
        default=None, validator=optional(in_range(1, 1_000_000, integral=True))
    )
    contact_rate: float = attrs.field(default=0.85, validator=in_range(0.0, 1.0))
    qualify_logit: float = _real(-0.4)
    fit_weight: float = attrs.field(default=1.0, validator=in_range(0.0, 10.0))
    convert_rate: float = attrs.field(default=0.8, validator=in_range(0.0, 1.0))
    recycle_rate: float = attrs.field(default=0.1, validator=in_range(0.0, 1.0))
    win_logit: float = _real(-1.4)
    reopen_rate: float = attrs.field(default=0.05, validator=in_range(0.0, 1.0))
    stage_days: float = _positive(12.0)
    interactions_per_lead: float = attrs.field(default=3.0, validator=in_range(0.0, 1000.0))
    engagement_lift: float = attrs.field(default=2.0, validator=in_range(0.0, 100.0))

    purchase_r: float = _positive(0.8)
    purchase_alpha: float = _positive(4.0)
    dropout_a: float = _positive(0.8)
    dropout_b: float = _positive(6.0)
    spend_p: float = _positive(6.0)
    spend_q: float = attrs.field(default=4.0, validator=in_range(1.0 + 1e-6, _BIG))
    spend_gamma: float = _positive(75.0)
    churn_lag_days: float = attrs.field(default=30.0, validator=in_range(0.0, 3650.0))
    win_back_rate: float = attrs.field(default=0.1, validator=in_range(0.0, 1.0))
    loyalty_orders: int = attrs.field(default=6, validator=in_range(1, 1_000_000, integral=True))
    expansion_rate: float = attrs.field(default=0.03, validator=in_range(0.0, 1.0))
    contraction_rate: float = attrs.field(default=0.02, validator=in_range(0.0, 1.0))

    cases_per_year: float = attrs.field(default=3.0, validator=in_range(0.0, 1000.0))
    waiting_rate: float = attrs.field(default=0.3, validator=in_range(0.0, 1.0))
    escalation_rate: float = attrs.field(default=0.05, validator=in_range(0.0, 1.0))
    case_reopen_rate: float = attrs.field(default=0.08, validator=in_range(0.0, 1.0))
    nps_per_year: float = attrs.field(default=1.0, validator=in_range(0.0, 1000.0))
    survey_rate: float = attrs.field(default=0.4, validator=in_range(0.0, 1.0))
    churn_sentiment: float = attrs.field(default=1.0, validator=in_range(0.0, 10.0))

    def mean_order_value(self) -> float:
        """
        Return the expected order amount in EUR, ``spend_p * spend_gamma / (spend_q - 1)``.

        Examples:
            >>> WorldParams().mean_order_value()
            150.0
        """
        return self.spend_p * self.spend_gamma / (self.spend_q - 1.0)

    def as_dict(self) -> dict[str, Any]:
        """
        Return the parameters as a plain dict (JSON-friendly).

        Examples:
            >>> WorldParams().as_dict()["loyalty_orders"]
            6
        """
        return {
            key: (None if isinstance(value, float) and math.isnan(value) else value)
            for key, value in attrs.asdict(self).items()
        }

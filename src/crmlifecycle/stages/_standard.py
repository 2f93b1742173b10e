"""
The four standard lifecycles, written as specs (so they double as examples).

Sources: the five stages of the customer life cycle (reach, acquisition,
conversion, retention, loyalty) with churn recorded rather than hidden (HubSpot's
forward-only stages never record it); lead status types after
Frappe CRM (open, ongoing, on hold, won, lost); opportunity stages and default
probabilities after EspoCRM (10/20/50/80/100/0) with Salesforce's forecast
categories; the case statuses of common help desks, where an agent taking up a
new case is its first response (the moment the first-response SLA clock stops).
"""

from __future__ import annotations

from typing import Any, Final

from crmlifecycle.stages._lifecycle import Lifecycle

__all__ = [
    "CASE_STATUS",
    "CUSTOMER_LIFECYCLE",
    "LEAD_STATUS",
    "OPPORTUNITY_PIPELINE",
    "STANDARD_SPECS",
]

_OPEN_DEAL: Final = ["prospecting", "qualification", "proposal", "negotiation"]

CUSTOMER_SPEC: Final[dict[str, Any]] = {
    "name": "customer",
    "initial": "reach",
    "states": [
        {"name": "reach", "type": "open", "description": "aware of us, not yet a lead"},
        {"name": "acquisition", "type": "ongoing", "description": "engaged, being won"},
        {"name": "conversion", "type": "won", "description": "bought for the first time"},
        {"name": "retention", "type": "won", "description": "buys again"},
        {"name": "loyalty", "type": "won", "description": "a loyal advocate"},
        {"name": "churned", "type": "lost", "description": "stopped buying"},
    ],
    "transitions": [
        {"trigger": "acquire", "source": "reach", "dest": "acquisition"},
        {"trigger": "convert", "source": "acquisition", "dest": "conversion"},
        {"trigger": "retain", "source": "conversion", "dest": "retention"},
        {"trigger": "promote", "source": "retention", "dest": "loyalty"},
        {
            "trigger": "churn",
            "source": ["acquisition", "conversion", "retention", "loyalty"],
            "dest": "churned",
        },
        {"trigger": "win_back", "source": "churned", "dest": "conversion"},
    ],
}

LEAD_SPEC: Final[dict[str, Any]] = {
    "name": "lead",
    "initial": "open",
    "states": [
        {"name": "open", "type": "open"},
        {"name": "contacted", "type": "ongoing"},
        {"name": "qualified", "type": "ongoing"},
        {"name": "unqualified", "type": "lost"},
        {"name": "converted", "type": "won"},
    ],
    "transitions": [
        {"trigger": "contact", "source": "open", "dest": "contacted"},
        {"trigger": "qualify", "source": "contacted", "dest": "qualified"},
        {"trigger": "disqualify", "source": ["open", "contacted"], "dest": "unqualified"},
        {"trigger": "recycle", "source": "unqualified", "dest": "open"},
        {"trigger": "convert", "source": "qualified", "dest": "converted"},
    ],
}

OPPORTUNITY_SPEC: Final[dict[str, Any]] = {
    "name": "opportunity",
    "initial": "prospecting",
    "states": [
        {"name": "prospecting", "type": "open", "probability": 10, "forecast": "pipeline"},
        {"name": "qualification", "type": "ongoing", "probability": 20, "forecast": "pipeline"},
        {"name": "proposal", "type": "ongoing", "probability": 50, "forecast": "best_case"},
        {"name": "negotiation", "type": "ongoing", "probability": 80, "forecast": "commit"},
        {"name": "won", "type": "won", "probability": 100, "forecast": "closed"},
        {"name": "lost", "type": "lost", "probability": 0, "forecast": "omitted"},
    ],
    "transitions": [
        {"trigger": "qualify", "source": "prospecting", "dest": "qualification"},
        {"trigger": "propose", "source": "qualification", "dest": "proposal"},
        {"trigger": "negotiate", "source": "proposal", "dest": "negotiation"},
        {"trigger": "win", "source": _OPEN_DEAL, "dest": "won"},
        {"trigger": "lose", "source": _OPEN_DEAL, "dest": "lost"},
        {"trigger": "reopen", "source": "lost", "to_last_open": True},
    ],
}

CASE_SPEC: Final[dict[str, Any]] = {
    "name": "case",
    "initial": "new",
    "states": [
        {"name": "new", "type": "open"},
        {"name": "in_progress", "type": "ongoing"},
        {"name": "waiting_on_customer", "type": "on_hold"},
        {"name": "resolved", "type": "won"},
        {"name": "closed", "type": "won"},
    ],
    "transitions": [
        {
            "trigger": "start",
            "source": "new",
            "dest": "in_progress",
            "after": "stamp_first_response",
        },
        {"trigger": "wait", "source": "in_progress", "dest": "waiting_on_customer"},
        {"trigger": "resume", "source": "waiting_on_customer", "dest": "in_progress"},
        {
            "trigger": "resolve",
            "source": ["in_progress", "waiting_on_customer"],
            "dest": "resolved",
            "after": "stamp_resolution",
        },
        {
            "trigger": "reopen",
            "source": "resolved",
            "dest": "in_progress",
            "after": "clear_resolution",
        },
        {"trigger": "close", "source": "resolved", "dest": "closed"},
        {
            "trigger": "escalate",
            "source": ["new", "in_progress", "waiting_on_customer"],
            "internal": True,
            "after": "raise_priority",
        },
    ],
}

#: The customer life cycle: reach → acquisition → conversion → retention → loyalty,
#: churn from any stage after reach, win-back from churned to conversion.
CUSTOMER_LIFECYCLE: Final = Lifecycle.from_dict(CUSTOMER_SPEC)
#: Lead statuses: open → contacted → qualified / unqualified; qualified → converted;
#: unqualified → open (recycle).
LEAD_STATUS: Final = Lifecycle.from_dict(LEAD_SPEC)
#: The sales pipeline: prospecting → qualification → proposal → negotiation → won / lost;
#: reopen from lost to the last open stage. Default probabilities 10/20/50/80/100/0.
OPPORTUNITY_PIPELINE: Final = Lifecycle.from_dict(OPPORTUNITY_SPEC)
#: Support cases: new → in_progress ⇄ waiting_on_customer → resolved → closed; reopen
#: from resolved; escalate raises the priority. Starting work is the first response
#: (``start`` stamps ``first_response_at``, once); resolving stamps ``resolved_at``
#: and reopening clears it.
CASE_STATUS: Final = Lifecycle.from_dict(CASE_SPEC)
#: The standard specs by lifecycle name.
STANDARD_SPECS: Final[dict[str, dict[str, Any]]] = {
    "case": CASE_SPEC,
    "customer": CUSTOMER_SPEC,
    "lead": LEAD_SPEC,
    "opportunity": OPPORTUNITY_SPEC,
}

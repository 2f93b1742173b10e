"""
SLA policies: per-priority first-response and resolution targets on a business calendar.

Which case states pause or stop the clocks is not restated here: it is read from
the case lifecycle's stage metadata (:data:`crmlifecycle.stages.CASE_STATUS` by
default, or the ``lifecycle`` a policy is given): a stage of type ``on_hold``
pauses the clocks, a closed stage (type ``won`` or ``lost``) stops them, and the
lifecycle's initial state is the state a case opens in.
A policy is configuration: ``SlaPolicy.from_dict``, ``from_text`` (JSON or YAML)
and ``to_dict`` round-trip it as plain data.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final, TypeVar, final

import attrs
import pandas as pd

from crmlifecycle._config import check_keys, load_text
from crmlifecycle._frozen import FrozenMapping
from crmlifecycle._validators import check_arg, non_empty_str
from crmlifecycle.errors import DataError, SpecError, ValidationError, did_you_mean
from crmlifecycle.sla._calendar import BusinessCalendar
from crmlifecycle.sla._durations import read_duration
from crmlifecycle.stages import CASE_STATUS, Lifecycle

__all__ = [
    "DEFAULT_PAUSE_STATES",
    "DEFAULT_STOP_STATES",
    "SlaPolicy",
    "SlaTarget",
    "pause_states_of",
    "stop_states_of",
]


def pause_states_of(lifecycle: Lifecycle) -> tuple[str, ...]:
    """
    Return the states of ``lifecycle`` that pause SLA clocks: its stages of type ``on_hold``.

    Args:
        lifecycle: a case lifecycle.

    Examples:
        >>> from crmlifecycle.stages import CASE_STATUS
        >>> pause_states_of(CASE_STATUS)
        ('waiting_on_customer',)
    """
    check_arg("lifecycle", lifecycle, Lifecycle, "a Lifecycle")
    return tuple(stage.name for stage in lifecycle.stages if stage.type == "on_hold")


def stop_states_of(lifecycle: Lifecycle) -> tuple[str, ...]:
    """
    Return the states of ``lifecycle`` that stop SLA clocks: its closed (won or lost) stages.

    Args:
        lifecycle: a case lifecycle.

    Examples:
        >>> from crmlifecycle.stages import CASE_STATUS
        >>> stop_states_of(CASE_STATUS)
        ('resolved', 'closed')
    """
    check_arg("lifecycle", lifecycle, Lifecycle, "a Lifecycle")
    return tuple(stage.name for stage in lifecycle.stages if stage.closed)


#: Case states in which the SLA clocks are paused: the ``on_hold`` stages of ``CASE_STATUS``.
DEFAULT_PAUSE_STATES: Final = pause_states_of(CASE_STATUS)
#: Case states in which the SLA clocks are stopped (the case is done, until reopened):
#: the closed stages of ``CASE_STATUS``.
DEFAULT_STOP_STATES: Final = stop_states_of(CASE_STATUS)

T = TypeVar("T")


def build_from_spec(cls: Callable[..., T], spec: object, *, keys: Iterable[str], path: str) -> T:
    """Call ``cls(**spec)`` for a mapping with known ``keys``, turning errors into SpecError."""
    settings = check_keys(spec, optional=tuple(keys), path=path)
    try:
        return cls(**settings)
    except ValidationError as err:
        raise SpecError(str(err), path=f"{path}.{err.field}" if path else err.field) from err


def _target_duration(value: object, field: str) -> pd.Timedelta | None:
    if value is None:
        return None
    expected = "a positive duration (timedelta or text such as '4h', '1h30min') or None"
    hint = "write durations with a unit, e.g. '90min' or '8h'."
    delta = read_duration(value, field, expected=expected, hint=hint)
    if delta.value <= 0:
        raise ValidationError.for_field(field, value, expected, hint=hint)
    return delta


def _first_response(value: object) -> pd.Timedelta | None:
    return _target_duration(value, "first_response")


def _resolution(value: object) -> pd.Timedelta | None:
    return _target_duration(value, "resolution")


def _text(delta: pd.Timedelta | None) -> str | None:
    if delta is None:
        return None
    seconds, nanos = divmod(delta.value, 10**9)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{hours}h" if hours else "", f"{minutes}min" if minutes else ""]
    parts.append(f"{secs}s" if secs else "")
    if nanos:  # keep what is below a second, in the largest unit that holds it whole
        unit, size = next(
            (u, n) for u, n in (("ms", 10**6), ("us", 10**3), ("ns", 1)) if not nanos % n
        )
        parts.append(f"{nanos // size}{unit}")
    return "".join(parts) or "0s"


@final
@attrs.frozen(kw_only=True)
class SlaTarget:
    """
    The targets of one priority, as business durations (``None``: no target).

    Args:
        first_response: business time from opening to the first response.
        resolution: business time from opening to resolution, not counting
            time paused (waiting on the customer) or stopped (resolved).

    Each is a positive ``timedelta`` or text: units (``"4h"``, ``"1h30min"``, ``"2d"``), ISO 8601
    (``"PT4H"``) or a clock (``"04:00:00"``).

    Raises:
        ValidationError: naming the field, for anything else (a bare number, ``"5M"``, zero).

    Examples:
        >>> target = SlaTarget(first_response="1h", resolution="1 days 2h")
        >>> target.first_response, target.resolution
        (Timedelta('0 days 01:00:00'), Timedelta('1 days 02:00:00'))

    .. versionadded:: 0.1
    """

    first_response: pd.Timedelta | None = attrs.field(default=None, converter=_first_response)
    resolution: pd.Timedelta | None = attrs.field(default=None, converter=_resolution)

    def to_dict(self) -> dict[str, str | None]:
        """
        Return the targets as text durations.

        Examples:
            >>> SlaTarget(first_response="90min").to_dict()
            {'first_response': '1h30min', 'resolution': None}
        """
        return {"first_response": _text(self.first_response), "resolution": _text(self.resolution)}


def _targets(value: object) -> Mapping[str, SlaTarget]:
    if not isinstance(value, Mapping) or not value:
        raise ValidationError.for_field(
            "targets",
            value,
            "a non-empty mapping of priority to targets",
            hint="e.g. {'urgent': {'first_response': '1h', 'resolution': '4h'}, ...}.",
        )
    result: dict[str, SlaTarget] = {}
    for priority, target in value.items():
        if not isinstance(priority, str) or not priority:
            raise ValidationError.for_field("targets", priority, "priority names as strings")
        if isinstance(target, SlaTarget):
            result[priority] = target
        else:
            result[priority] = build_from_spec(
                SlaTarget, target, keys=("first_response", "resolution"), path=f"targets.{priority}"
            )
    return FrozenMapping.adopt(result)


def _states(value: object, field: str) -> tuple[str, ...]:
    expected = "a list of non-empty state names"
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise ValidationError.for_field(field, value, expected)
    states = tuple(value)
    if not all(isinstance(s, str) and s for s in states):
        raise ValidationError.for_field(field, value, expected)
    return states


def _pause_states(value: object) -> tuple[str, ...]:
    return _states(value, "pause_states")


def _stop_states(value: object) -> tuple[str, ...]:
    states = _states(value, "stop_states")
    if not states:
        raise ValidationError.for_field("stop_states", value, "at least one state name")
    return states


def _lifecycle(value: object) -> Lifecycle:
    # a converter, not a validator: the state defaults below read it during __init__
    if isinstance(value, str) and value == CASE_STATUS.name:
        return CASE_STATUS
    if isinstance(value, Mapping):
        return Lifecycle.from_dict(value)
    if not isinstance(value, Lifecycle):
        raise ValidationError.for_field(
            "lifecycle",
            value,
            "a Lifecycle (the case pipeline whose stages pause and stop the clocks), "
            f"its spec as a mapping, or {CASE_STATUS.name!r}",
            hint="pass e.g. lifecycle=Lifecycle.from_dict({...}) or leave the default CASE_STATUS.",
        )
    return value


def check_log_states(policy: SlaPolicy, states: Iterable[object], column: str) -> None:
    """
    Require every state of a case log to be a state of the policy's lifecycle.

    A state the lifecycle does not know would count as a running state without a
    word (neither paused nor stopped), so it is an error naming it.

    Raises:
        DataError: naming ``column``, the unknown states and the lifecycle's states.
    """
    known = set(policy.lifecycle.states)
    unknown = sorted({str(s) for s in states} - known)
    if unknown:
        raise DataError.malformed(
            column,
            f"holds state(s) {unknown[:5]} that are not states of the "
            f"{policy.lifecycle.name!r} lifecycle (states: {list(policy.lifecycle.states)})",
            value=unknown[0],
            hint="give the policy the lifecycle= the case events were recorded with.",
        )


def _default_pause_states(policy: SlaPolicy) -> tuple[str, ...]:
    return pause_states_of(policy.lifecycle)


def _default_stop_states(policy: SlaPolicy) -> tuple[str, ...]:
    return stop_states_of(policy.lifecycle)


def _default_initial_state(policy: SlaPolicy) -> str:
    return policy.lifecycle.initial


def _calendar(value: object) -> BusinessCalendar:
    if isinstance(value, BusinessCalendar):
        return value
    if isinstance(value, Mapping):
        return BusinessCalendar.from_dict(value)
    raise ValidationError.for_field(
        "calendar", value, "a BusinessCalendar or a mapping with tz/hours/holidays"
    )


@final
@attrs.frozen(kw_only=True)
class SlaPolicy:
    """
    Per-priority SLA targets measured on one business calendar.

    The first-response clock runs from the case's opening until its first
    response; the resolution clock runs from opening until the case enters a
    stop state (resolved, closed), resumes if it is reopened, and both clocks
    pause while the case is in a pause state (waiting on the customer). Time
    counts only inside the calendar's working hours. The pause and stop states
    and the opening state come from the case ``lifecycle``'s stages (see the
    module documentation), so a custom case pipeline needs no restating. A priority that must have
    no SLA is listed with empty targets; a priority not listed at all is an
    error when a case has it (a typo should not silently switch the SLA off).

    Args:
        targets: priority name -> :class:`SlaTarget` (or a mapping of its fields).
        calendar: the :class:`BusinessCalendar` (or its ``to_dict`` form);
            default Monday–Friday 09:00–17:00 UTC.
        lifecycle: the case lifecycle whose stage metadata names the pause, stop
            and initial states; default :data:`crmlifecycle.stages.CASE_STATUS`.
        pause_states: case states that pause the clocks; default the lifecycle's
            ``on_hold`` stages.
        stop_states: case states that stop the clocks; default the lifecycle's
            closed (``won``/``lost``) stages.
        initial_state: the state a case is in when opened (before any event);
            default the lifecycle's initial state. It may not be a stop state, and no
            state may both pause and stop the clocks (``ValidationError``).

    Examples:
        >>> policy = SlaPolicy.from_dict({
        ...     "calendar": {"tz": "Europe/Berlin", "hours": {"mon-fri": "09:00-17:00"}},
        ...     "targets": {"urgent": {"first_response": "1h", "resolution": "4h"},
        ...                 "low": {"first_response": "8h"}},
        ... })
        >>> policy.target("urgent").resolution
        Timedelta('0 days 04:00:00')
        >>> policy.to_dict()["targets"]["low"]
        {'first_response': '8h', 'resolution': None}
        >>> policy.pause_states, policy.stop_states, policy.initial_state
        (('waiting_on_customer',), ('resolved', 'closed'), 'new')

        A custom case pipeline brings its own state names:

        >>> from crmlifecycle.stages import Lifecycle
        >>> tickets = Lifecycle.from_dict({"name": "ticket", "initial": "open", "states": [
        ...     {"name": "open", "type": "open"}, {"name": "parked", "type": "on_hold"},
        ...     {"name": "done", "type": "won"}, {"name": "dropped", "type": "lost"}],
        ...     "transitions": [{"trigger": "park", "source": "open", "dest": "parked"},
        ...                     {"trigger": "finish", "source": "open", "dest": "done"},
        ...                     {"trigger": "drop", "source": "open", "dest": "dropped"}]})
        >>> custom = SlaPolicy(targets={"high": {"resolution": "8h"}}, lifecycle=tickets)
        >>> custom.pause_states, custom.stop_states, custom.initial_state
        (('parked',), ('done', 'dropped'), 'open')

    .. versionadded:: 0.1
    """

    targets: Mapping[str, SlaTarget] = attrs.field(converter=_targets)
    calendar: BusinessCalendar = attrs.field(factory=BusinessCalendar, converter=_calendar)
    lifecycle: Lifecycle = attrs.field(default=CASE_STATUS, converter=_lifecycle)
    pause_states: tuple[str, ...] = attrs.field(
        default=attrs.Factory(_default_pause_states, takes_self=True), converter=_pause_states
    )
    stop_states: tuple[str, ...] = attrs.field(
        default=attrs.Factory(_default_stop_states, takes_self=True), converter=_stop_states
    )
    initial_state: str = attrs.field(
        default=attrs.Factory(_default_initial_state, takes_self=True), validator=non_empty_str()
    )

    def __attrs_post_init__(self) -> None:
        known = self.lifecycle.states
        for field, states in (
            ("pause_states", self.pause_states),
            ("stop_states", self.stop_states),
            ("initial_state", (self.initial_state,)),
        ):
            unknown = [s for s in states if s not in known]
            if unknown:
                raise ValidationError.for_field(
                    field,
                    unknown[0],
                    f"a state of the {self.lifecycle.name!r} lifecycle ({list(known)})",
                    hint="name states of the policy's lifecycle=, or leave the field to its "
                    "default (read from the lifecycle's stage types).",
                )
        if self.initial_state in self.stop_states:  # every case would open with its clocks stopped
            raise ValidationError.for_field(
                "initial_state",
                self.initial_state,
                "a state that does not stop the clocks (a case opens with its clocks running)",
                hint=f"take {self.initial_state!r} out of stop_states, or open cases in "
                "another state.",
            )
        both = sorted(set(self.pause_states) & set(self.stop_states))
        if both:  # a clock cannot be paused and stopped at once: which would resume it?
            raise ValidationError.for_field(
                "pause_states",
                both[0],
                "states that do not also stop the clocks (a state pauses or stops, not both)",
                hint=f"take {both[0]!r} out of pause_states or out of stop_states.",
            )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SlaPolicy:
        """
        Build a policy from plain data, e.g. a parsed JSON or YAML document.

        Keys: ``targets`` (required), ``calendar``, ``lifecycle`` (the case
        lifecycle's spec, as :meth:`Lifecycle.to_dict <crmlifecycle.stages.Lifecycle.to_dict>`
        writes it; default the standard ``case`` lifecycle), ``pause_states``,
        ``stop_states``, ``initial_state``. Durations are text with a unit
        (``"4h"``, ``"90min"``, ``"1 days"`` = 24 business hours).

        Args:
            data: the policy as plain data, e.g. a parsed JSON or YAML document.

        Raises:
            SpecError: naming the path of the offending entry.

        Examples:
            >>> SlaPolicy.from_dict({"targets": {"high": {"resolution": "two hours"}}})
            Traceback (most recent call last):
            ...
            crmlifecycle.errors.SpecError: targets.high.resolution: 'resolution' must be ...
        """
        document = check_keys(
            data,
            required=("targets",),
            optional=("calendar", "lifecycle", "pause_states", "stop_states", "initial_state"),
        )
        return build_from_spec(cls, document, keys=document, path="")

    @classmethod
    def from_text(cls, text: str) -> SlaPolicy:
        r"""
        Build a policy from JSON or YAML text (see :meth:`from_dict`).

        Args:
            text: the policy as JSON or YAML text.

        Raises:
            SpecError: invalid JSON/YAML (with line and column) or an invalid policy.

        Examples:
            >>> policy = SlaPolicy.from_text("targets:\n  urgent: {first_response: 1h}")
            >>> policy.target("urgent").first_response
            Timedelta('0 days 01:00:00')
        """
        return cls.from_dict(load_text(text, what="an SLA policy"))

    def to_dict(self) -> dict[str, Any]:
        """
        Return the policy as plain data that :meth:`from_dict` reads back to an equal policy.

        Examples:
            >>> policy = SlaPolicy(targets={"high": SlaTarget(resolution="8h")})
            >>> policy.to_dict()["targets"]
            {'high': {'first_response': None, 'resolution': '8h'}}
            >>> SlaPolicy.from_dict(policy.to_dict()) == policy
            True
        """
        custom = {} if self.lifecycle == CASE_STATUS else {"lifecycle": self.lifecycle.to_dict()}
        return {
            "targets": {p: t.to_dict() for p, t in self.targets.items()},
            "calendar": self.calendar.to_dict(),
            **custom,
            "pause_states": list(self.pause_states),
            "stop_states": list(self.stop_states),
            "initial_state": self.initial_state,
        }

    def target(self, priority: str) -> SlaTarget:
        """
        Return the targets of ``priority``.

        Args:
            priority: a priority the policy lists.

        Raises:
            ValidationError: if the policy does not list that priority.

        Examples:
            >>> SlaPolicy(targets={"high": SlaTarget(resolution="8h")}).target("hihg")
            Traceback (most recent call last):
            ...
            crmlifecycle.errors.ValidationError: 'priority' must be one of ['high'] ...
        """
        try:
            return self.targets[priority]
        except (KeyError, TypeError):  # not listed, or not even a name (a list)
            names = list(self.targets)
            raise ValidationError.for_field(
                "priority",
                priority,
                f"one of {names}{did_you_mean(str(priority), names)}",
                hint="add the priority to the policy's targets "
                "(a priority with no targets has no SLA).",
            ) from None

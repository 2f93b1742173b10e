"""
The definition of a lifecycle: its stages, guards, hooks and transitions.

These are plain frozen ``attrs`` records, plus the vocabularies their metadata
draws from (:data:`STATUS_TYPES`, :data:`FORECAST_CATEGORIES`) and the rule for
state and trigger names. :mod:`crmlifecycle.stages._compile` checks and compiles
them; :class:`~crmlifecycle.stages.Lifecycle` is what users hold.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, Final, final

import attrs
import numpy as np
import pandas as pd

from crmlifecycle._validators import instance_of, optional
from crmlifecycle.errors import DataError, SpecError, ValidationError
from crmlifecycle.rules import Condition

__all__ = [
    "FORECAST_CATEGORIES",
    "STATUS_TYPES",
    "Guard",
    "Hook",
    "Stage",
    "StepInfo",
    "TransitionDef",
]

#: Status types that custom state names roll up to (Frappe CRM's lead status types).
STATUS_TYPES: Final = ("open", "ongoing", "on_hold", "won", "lost")
#: Forecast categories of pipeline stages (Salesforce's names).
FORECAST_CATEGORIES: Final = ("pipeline", "best_case", "commit", "closed", "omitted")
#: State and trigger names: identifiers (they become ``transitions`` attributes and diagram ids).
NAME_PATTERN: Final = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")

_TEXT: Final = instance_of(str, "a str")
_OPTIONAL_TEXT: Final = optional(_TEXT)


def _is_callable(_inst: object, attr: attrs.Attribute[Any], value: object) -> None:
    if not callable(value):
        raise ValidationError.for_field(
            attr.name, value, "a callable", hint=f"pass {attr.name}= as a function."
        )


def _as_tuple(value: object) -> object:
    """A list (or tuple) as a tuple; anything else is left for the validator to refuse."""
    return tuple(value) if isinstance(value, list | tuple) else value


@attrs.frozen
class _TupleOf:
    """Validator: a tuple whose every item is a ``kind`` (naming the item that is not)."""

    kind: type | tuple[type, ...]
    expected: str

    def __call__(self, _inst: object, attr: attrs.Attribute[Any], value: object) -> None:
        if not isinstance(value, tuple):
            raise ValidationError.for_field(
                attr.name, value, f"a tuple or list of {self.expected}", hint=None
            )
        for i, item in enumerate(value):
            if not isinstance(item, self.kind):
                raise ValidationError.for_field(f"{attr.name}[{i}]", item, self.expected)


FrameGuard = Callable[[pd.DataFrame, pd.Timestamp], "pd.Series[bool] | np.ndarray[Any, Any]"]
FrameHook = Callable[[pd.DataFrame, pd.Timestamp], Mapping[str, Any]]


@final
@attrs.frozen(kw_only=True)
class Stage:
    """
    One state of a lifecycle and the metadata analytics read instead of its name.

    Attributes:
        name: the state's name.
        order: its position in the lifecycle's state list (0-based).
        type: the status type it rolls up to: one of :data:`STATUS_TYPES`.
        probability: the default win probability in percent (pipeline stages), or ``None``.
        forecast: the forecast category (:data:`FORECAST_CATEGORIES`), or ``None``.
        description: free text for people.

    Examples:
        >>> from crmlifecycle.stages import OPPORTUNITY_PIPELINE
        >>> won = OPPORTUNITY_PIPELINE.stage("won")
        >>> (won.order, won.type, won.probability, won.forecast, won.closed, won.won)
        (4, 'won', 100, 'closed', True, True)

    .. versionadded:: 0.1
    """

    name: str = attrs.field(validator=_TEXT)
    order: int = attrs.field(validator=instance_of(int, "an integer"))
    type: str = attrs.field(default="ongoing", validator=_TEXT)
    probability: int | None = attrs.field(
        default=None, validator=optional(instance_of(int, "an integer percent from 0 to 100"))
    )
    forecast: str | None = attrs.field(default=None, validator=_OPTIONAL_TEXT)
    description: str | None = attrs.field(default=None, validator=_OPTIONAL_TEXT)

    @property
    def closed(self) -> bool:
        """Whether the stage is closed (its type is ``won`` or ``lost``)."""
        return self.type in {"won", "lost"}

    @property
    def won(self) -> bool:
        """Whether the stage counts as won."""
        return self.type == "won"


@final
@attrs.frozen(kw_only=True)
class StepInfo:
    """
    What guards and hooks are told about the step being taken.

    Attributes:
        trigger: the trigger being fired.
        source: the entity's state before the step.
        dest: the state after it (``source`` for an internal trigger).
        at: when the step happens (timezone-aware).
        context: the keyword arguments the caller passed to ``fire`` (read-only).

    Examples:
        >>> from datetime import datetime, timezone
        >>> info = StepInfo(trigger="lose", source="proposal", dest="lost",
        ...                 at=datetime(2026, 3, 1, tzinfo=timezone.utc),
        ...                 context={"lost_reason": "price"})
        >>> info.context["lost_reason"]
        'price'

    .. versionadded:: 0.1
    """

    trigger: str = attrs.field(validator=_TEXT)
    source: str = attrs.field(validator=_TEXT)
    dest: str = attrs.field(validator=_TEXT)
    # None only when the ``transitions`` machine itself is fired without an ``at``
    at: datetime = attrs.field(
        validator=optional(instance_of(datetime, "a timezone-aware datetime"))
    )
    context: Mapping[str, Any] = attrs.field(
        factory=dict, validator=instance_of(Mapping, "a mapping")
    )


def _step_info_from_event(event_data: Any) -> StepInfo:
    kwargs = dict(event_data.kwargs)
    at = kwargs.pop("at", None)
    transition = event_data.transition
    dest = transition.dest if transition.dest is not None else transition.source
    return StepInfo(
        trigger=event_data.event.name, source=transition.source, dest=dest, at=at, context=kwargs
    )


@final
@attrs.frozen(kw_only=True)
class Guard:
    """
    A condition on a transition: a Python callable, or a rule-language condition.

    Build one with :meth:`Guard.when` (a condition string, safe for specs) or
    :meth:`Guard.of` (a Python callable ``func(entity, info) -> bool``). A
    callable guard can carry a vectorised form ``frame(frame, at) -> bool
    array`` so that :meth:`~crmlifecycle.stages.Lifecycle.fire_frame` can use
    it; without one, bulk steps through that transition are refused with a
    :class:`~crmlifecycle.errors.DataError`.

    A guard object is also a valid ``transitions`` condition (called with the
    ``EventData`` when the machine uses ``send_event=True``).

    Attributes:
        name: the name shown in errors and diagrams.
        func: the record form: ``func(entity, info) -> bool``.
        frame: the vectorised form: ``frame(frame, at) -> bool array``.
        condition: a rule-language condition (set by :meth:`when`).

    Examples:
        >>> big = Guard.of(lambda deal, info: deal.amount.amount >= 10_000, name="big_deal")
        >>> big.name, big.vectorised
        ('big_deal', False)

    .. versionadded:: 0.1
    """

    name: str = attrs.field(validator=_TEXT)
    func: Callable[[Any, StepInfo], bool] | None = attrs.field(
        default=None, validator=optional(_is_callable)
    )
    frame: FrameGuard | None = attrs.field(default=None, validator=optional(_is_callable))
    condition: Condition | None = attrs.field(
        default=None, validator=optional(instance_of(Condition, "a rules Condition"))
    )

    @classmethod
    def of(
        cls,
        func: Callable[[Any, StepInfo], bool],
        *,
        name: str | None = None,
        frame: FrameGuard | None = None,
    ) -> Guard:
        """
        Wrap a Python callable ``func(entity, info) -> bool`` (and its optional frame form).

        Args:
            func: ``func(entity, info) -> bool``, called with the record and the step's
                :class:`StepInfo`.
            name: the guard's name (default: the function's name).
            frame: an optional vectorised form ``frame(frame, at) -> bool array`` for bulk steps.

        Examples:
            >>> Guard.of(lambda lead, info: lead.score is not None).name
            '<lambda>'
        """
        label = name or getattr(func, "__qualname__", None) or repr(func)
        return cls(name=label, func=func, frame=frame)

    @classmethod
    def when(cls, text: str, *, path: str = "") -> Guard:
        """
        Parse a rule-language condition (``"score >= 50"``) into a guard.

        The condition reads the entity's fields; ``at`` is the step's time.

        Args:
            text: a rule-language condition on the record's fields.
            path: where the condition sits in a spec, for error messages.

        Raises:
            RuleSyntaxError: the text is not a valid condition.
            UnsafeRule: the text uses something the rule language forbids.
            SpecError: the text is not a string, or is blank.

        Examples:
            >>> Guard.when("score >= 50").name
            'score >= 50'
        """
        raw: object = text
        if not isinstance(raw, str) or not raw.strip():
            raise SpecError(
                f"a condition must be a non-empty string (got {text!r}). "
                'Hint: write e.g. "score >= 50".',
                path=path,
            )
        return cls(name=text, condition=Condition.parse(text))

    @property
    def vectorised(self) -> bool:
        """Whether the guard can be evaluated on a whole frame."""
        return self.condition is not None or self.frame is not None

    def check(self, entity: Any, info: StepInfo) -> bool:
        """Evaluate the guard for one entity.

        Args:
            entity: the record being stepped.
            info: the step: trigger, source, dest, ``at`` and context.

        """
        if self.condition is not None:
            return bool(self.condition.evaluate(entity, as_of=info.at))
        assert self.func is not None  # noqa: S101 - construction guarantees one of the two
        return bool(self.func(entity, info))

    def check_frame(self, frame: pd.DataFrame, at: pd.Timestamp) -> np.ndarray[Any, Any]:
        """Evaluate the guard on every row of ``frame``; a bool array.

        Args:
            frame: one row per record being stepped.
            at: when the steps happen (the condition's ``as_of``).

        """
        result: pd.Series | np.ndarray[Any, Any]
        if self.condition is not None:
            result = self.condition.evaluate_frame(frame, as_of=at.to_pydatetime())
        elif self.frame is not None:
            result = self.frame(frame, at)
        else:
            raise DataError(
                f"guard {self.name!r} is a Python callable without a vectorised form. "
                "Hint: build it with Guard.of(func, frame=vectorised_func), or use a "
                "rule-language condition, or step the entities one by one with fire()."
            )
        return np.asarray(result, dtype=bool)

    def __call__(self, event_data: Any) -> bool:
        """Evaluate as a ``transitions`` condition (``send_event=True``)."""
        return self.check(event_data.model, _step_info_from_event(event_data))

    def __repr__(self) -> str:
        return f"Guard({self.name!r})"


@final
@attrs.frozen(kw_only=True)
class Hook:
    """
    A ``before`` or ``after`` callback on a transition.

    ``func(entity, info)`` returns a mapping of field updates (or ``None``); the
    lifecycle applies them with :func:`attrs.evolve`. ``before`` hooks see the
    entity before the state change, ``after`` hooks see it after (the
    ``transitions`` semantics). A hook may carry a vectorised form
    ``frame(frame, at) -> {column: values}`` for bulk steps. In specs, hooks are
    referred to by name only, from the built-in hooks and those the host passes
    to :meth:`~crmlifecycle.stages.Lifecycle.from_dict`.

    Attributes:
        name: the name specs refer to it by.
        func: the record form: ``func(entity, info) -> updates or None``.
        frame: the vectorised form: ``frame(frame, at) -> {column: values}``.

    Examples:
        >>> stamp = Hook.of(lambda case, info: {"resolved_at": info.at}, name="stamp_resolution")
        >>> stamp.name
        'stamp_resolution'

    .. versionadded:: 0.1
    """

    name: str = attrs.field(validator=_TEXT)
    func: Callable[[Any, StepInfo], Mapping[str, Any] | None] = attrs.field(validator=_is_callable)
    frame: FrameHook | None = attrs.field(default=None, validator=optional(_is_callable))

    @classmethod
    def of(
        cls,
        func: Callable[[Any, StepInfo], Mapping[str, Any] | None],
        *,
        name: str | None = None,
        frame: FrameHook | None = None,
    ) -> Hook:
        """
        Wrap a Python callable ``func(entity, info) -> updates | None``.

        Args:
            func: ``func(entity, info) -> updates or None``, called with the record and the step's
                :class:`StepInfo`.
            name: the hook's name (default: the function's name).
            frame: an optional vectorised form ``frame(frame, at) -> {column: values}`` for bulk
                steps.

        Examples:
            >>> def note(entity, info):
            ...     return None
            >>> Hook.of(note).name
            'note'
        """
        label = name or getattr(func, "__qualname__", None) or repr(func)
        return cls(name=label, func=func, frame=frame)

    def __call__(self, event_data: Any) -> None:
        """Run as a ``transitions`` callback on a mutable model (``send_event=True``)."""
        updates = self.func(event_data.model, _step_info_from_event(event_data))
        for key, value in (updates or {}).items():
            setattr(event_data.model, key, value)

    def __repr__(self) -> str:
        return f"Hook({self.name!r})"


def _tuple_of_names(value: str | Sequence[str]) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else _as_tuple(value)  # type: ignore[return-value]


@final
@attrs.frozen(kw_only=True)
class TransitionDef:
    """
    One transition of a lifecycle, as declared.

    ``dest=None`` with ``internal=True`` is an internal transition (hooks run,
    the state stays). ``to_last_open=True`` sends the entity back to the open
    stage it was in when it was lost (its ``last_open_stage`` field): the
    lifecycle expands it into one guarded transition per open stage.

    Attributes:
        trigger: the name of the trigger that fires it.
        source: the states it leaves from (a name or several; ``"*"`` for every state).
        dest: the state it enters (``None`` for an internal transition).
        conditions: guards that must all pass.
        unless: guards that must all fail.
        before: hooks run before the state changes; they may return field updates.
        after: hooks run after the state changed; they may return field updates.
        internal: whether the state stays (only the hooks run).
        to_last_open: whether it returns a lost entity to the open stage it left.

    Examples:
        >>> t = TransitionDef(trigger="qualify", source="contacted", dest="qualified")
        >>> t.source
        ('contacted',)

    .. versionadded:: 0.1
    """

    trigger: str = attrs.field(validator=_TEXT)
    source: tuple[str, ...] = attrs.field(
        converter=_tuple_of_names, validator=_TupleOf(str, "state names (str)")
    )
    dest: str | None = attrs.field(default=None, validator=_OPTIONAL_TEXT)
    conditions: tuple[Guard, ...] = attrs.field(
        default=(), converter=_as_tuple, validator=_TupleOf(Guard, "Guards")
    )
    unless: tuple[Guard, ...] = attrs.field(
        default=(), converter=_as_tuple, validator=_TupleOf(Guard, "Guards")
    )
    before: tuple[Hook, ...] = attrs.field(
        default=(), converter=_as_tuple, validator=_TupleOf(Hook, "Hooks")
    )
    after: tuple[Hook, ...] = attrs.field(
        default=(), converter=_as_tuple, validator=_TupleOf(Hook, "Hooks")
    )
    internal: bool = attrs.field(default=False, validator=instance_of(bool, "true or false"))
    to_last_open: bool = attrs.field(default=False, validator=instance_of(bool, "true or false"))

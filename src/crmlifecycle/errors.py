"""
The exceptions crmlifecycle raises.

Every error derives from :class:`CrmError`, so a host can catch everything the
library raises in one place, and each also derives from the builtin that fits
its meaning (``ValueError``, ``KeyError``, ``TypeError``, ``RuntimeError``), so
existing ``except ValueError`` code keeps working. The offending field, column,
value or position is attached as attributes, and every message ends with a
``Hint:`` saying what to do.

Examples:
    >>> from crmlifecycle.errors import CrmError, ValidationError
    >>> err = ValidationError.for_field("email", "not-an-email", "a valid e-mail address")
    >>> err.field, err.value
    ('email', 'not-an-email')
    >>> isinstance(err, CrmError) and isinstance(err, ValueError)
    True
    >>> print(err)
    'email' must be a valid e-mail address (got 'not-an-email'). Hint: ...
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

__all__ = [
    "CrmError",
    "CurrencyMismatchError",
    "DataError",
    "EventLogError",
    "FitError",
    "GuardRejected",
    "InvalidTransition",
    "LifecycleVersionError",
    "MissingColumnError",
    "MissingDependencyError",
    "PluginError",
    "RuleError",
    "RuleSyntaxError",
    "RuleTypeError",
    "SpecError",
    "UnknownFieldError",
    "UnsafeRule",
    "ValidationError",
    "did_you_mean",
    "short_repr",
]


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """
    Return a ``" (did you mean 'x'?)"`` suffix for the closest candidate, or ``""``.

    Args:
        name: the name that was not found (a mistyped field, trigger, column...).
        candidates: the names that exist; the closest one with a similarity ratio of at least
            0.6 is suggested.

    Examples:
        >>> did_you_mean("scroe", ["score", "source"])
        " (did you mean 'score'?)"
        >>> did_you_mean("zzz", ["score"])
        ''
        >>> did_you_mean(None, 5)  # a message helper never raises: nothing to suggest
        ''
    """
    given: object = candidates  # untrusted: composing one error must not raise another
    wanted: object = name
    if (
        not isinstance(wanted, str)
        or isinstance(given, str | bytes)
        or not isinstance(given, Iterable)
    ):
        return ""
    names = [c for c in given if isinstance(c, str)]
    close = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


#: The longest ``repr`` of an offending value a message shows in full.
_MAX_SHOWN: int = 80


def short_repr(value: object) -> str:
    """
    Return ``repr(value)`` for a message, shortened when long (one rule for every message).

    Every message of the library that shows a value it was given goes through this helper,
    so no message shows a value in more than about 80 characters: a longer ``repr`` keeps its
    first 60 characters and says how long it was, and an integer too long for Python to print
    is shown as its number of digits.

    Args:
        value: the value to show (anything; this helper never raises for a printable value).

    Examples:
        >>> short_repr("x" * 200)[-24:]
        'xxxx... (202 characters)'
        >>> short_repr(3)
        '3'
        >>> short_repr(10**400)
        '100000000000000000000000000000000000000000000000000000000000... (401 characters)'
    """
    text = _number_repr(value)
    if len(text) <= _MAX_SHOWN:
        return text
    return f"{text[: _MAX_SHOWN - 20]}... ({len(text)} characters)"


class CrmError(Exception):
    """Base class of every error raised by crmlifecycle."""

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        # Subclasses take keyword-only arguments (field=, path=...), which the default
        # pickling of exceptions drops: rebuild from the message and the attributes instead.
        return (_rebuild_error, (type(self), self.args, dict(vars(self))))


def _rebuild_error(cls: type[CrmError], args: tuple[Any, ...], state: dict[str, Any]) -> CrmError:
    """Unpickle a :class:`CrmError` without calling its ``__init__``."""
    error = cls.__new__(cls, *args)
    error.args = args
    vars(error).update(state)
    return error


def _number_repr(value: object) -> str:
    """``repr(value)``, but an integer too long to print (Python's digit limit) is summarised."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 4000:  # noqa: PLR2004
        return f"an integer of about {int(value.bit_length() * 0.30103)} digits"
    return repr(value)


class _FormattedKeyError(KeyError):
    """A ``KeyError`` whose ``str()`` is the message, not its ``repr``."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class ValidationError(CrmError, ValueError):
    """
    A value given to an entity or value object breaks one of its rules.

    Args:
        message: the full message, ending with a ``Hint:``.

    Attributes:
        field: the name of the field (``"email"``, ``"amount"``, ...).
        value: the value that was rejected.
    """

    def __init__(self, message: str, *, field: str, value: object) -> None:
        super().__init__(message)
        self.field = field
        self.value = value

    @classmethod
    def for_field(
        cls, field: str, value: object, expected: str, *, hint: str | None = None
    ) -> ValidationError:
        """
        Build the standard message ``'field' must be <expected> (got value)``.

        Args:
            field: the name of the field that was given the value.
            value: the rejected value (shown with ``repr``).
            expected: what the field must be, phrased to follow "must be"
                (``"a valid e-mail address"``).
            hint: what to do, after ``Hint:``; ``None`` says "pass <field>= as <expected>."
        """
        hint = hint or f"pass {field}= as {expected}."
        return cls(
            f"{field!r} must be {expected} (got {short_repr(value)}). Hint: {hint}",
            field=field,
            value=value,
        )


class CurrencyMismatchError(CrmError, ValueError):
    """
    Two amounts in different currencies were added, subtracted or compared.

    Args:
        left: the ISO 4217 code of the first amount's currency (kept as ``.left``).
        right: the ISO 4217 code of the second amount's currency (kept as ``.right``).
    """

    def __init__(self, left: str, right: str) -> None:
        super().__init__(
            f"cannot combine {left} with {right}. "
            "Hint: convert one amount first; crmlifecycle never converts currencies implicitly."
        )
        self.left = left
        self.right = right


class InvalidTransition(CrmError, ValueError):  # noqa: N818 - the name the design and users use
    """
    A trigger is unknown, or not allowed from the entity's current state.

    Attributes:
        trigger: the trigger that was fired.
        state: the state the entity was in.
        allowed: the triggers that are allowed from that state.
        kind: the lifecycle's name.
    """

    def __init__(self, *, trigger: str, state: str, allowed: Sequence[str], kind: str = "") -> None:
        allowed_text = ", ".join(repr(t) for t in allowed) or "none (a final state)"
        where = f"{kind} " if kind else ""
        hint = did_you_mean(trigger, allowed)
        super().__init__(
            f"trigger {trigger!r} is not allowed from {where}state {state!r}{hint}. "
            f"Hint: allowed triggers from {state!r} are {allowed_text}."
        )
        self.trigger = trigger
        self.state = state
        self.allowed = tuple(allowed)
        self.kind = kind


class GuardRejected(CrmError, ValueError):  # noqa: N818 - the name the design and users use
    """
    A guard (condition) on a transition said no.

    Attributes:
        trigger: the trigger that was fired.
        state: the state the entity was in.
        guard: a readable name of the guard that rejected (its condition text or function name).
        kind: the lifecycle's name (``""`` when unknown; it is then left out of the message).
    """

    def __init__(self, *, trigger: str, state: str, guard: str, kind: str = "") -> None:
        where = f"{kind} " if kind else ""
        super().__init__(
            f"guard {guard!r} rejected trigger {trigger!r} from {where}state {state!r}. "
            "Hint: check the entity's fields and the context passed to fire(); "
            "use can_fire() to ask first."
        )
        self.trigger = trigger
        self.state = state
        self.guard = guard
        self.kind = kind


class SpecError(CrmError, ValueError):
    """
    A configuration document (lifecycle spec, rule set, scorer config) is invalid.

    Args:
        message: what is wrong, ending with a ``Hint:``; kept as ``.reason``, and prefixed
            with ``path`` in the message when a path is given.

    Attributes:
        path: where in the document the problem is, e.g. ``"states[2].name"``.
    """

    def __init__(self, message: str, *, path: str = "") -> None:
        prefix = f"{path}: " if path else ""
        super().__init__(f"{prefix}{message}")
        self.path = path
        self.reason = message


class RuleError(CrmError, ValueError):
    """
    Base class of errors in a rule-language condition.

    Attributes:
        text: the condition text.
        position: 0-based character offset of the problem in ``text`` (or ``None``).
        reason: the message without the position marker.
    """

    def __init__(self, reason: str, *, text: str = "", position: int | None = None) -> None:
        self.reason = reason
        self.text = text
        self.position = position
        super().__init__(self._format())

    def _format(self) -> str:
        if self.position is None or not self.text:
            return self.reason
        snippet = self.text if len(self.text) <= 120 else self.text[:117] + "..."  # noqa: PLR2004
        caret = " " * min(self.position, len(snippet)) + "^"
        return f"{self.reason} (at position {self.position})\n  {snippet}\n  {caret}"


class RuleSyntaxError(RuleError):
    """
    The condition text is not valid in the rule language.

    Args:
        reason: what is wrong, without the position marker.
        text: the condition text (``""`` when unknown).
        position: 0-based character offset of the problem in ``text``, or ``None``.
    """


class UnsafeRule(RuleError):  # noqa: N818 - the name the design and users use
    """
    The condition uses something the rule language forbids, or exceeds a safety limit.

    Args:
        reason: what is forbidden or which limit is exceeded, without the position marker.
        text: the condition text (``""`` when unknown).
        position: 0-based character offset of the problem in ``text``, or ``None``.
    """


class RuleTypeError(RuleError, TypeError):
    """
    An operation in the condition is applied to values of the wrong type.

    Args:
        reason: which operation got which types, without the position marker.
        text: the condition text (``""`` when unknown).
        position: 0-based character offset of the problem in ``text``, or ``None``.
    """


class UnknownFieldError(RuleError, _FormattedKeyError):
    """
    A condition names a field the schema (entity, mapping or frame) does not have.

    Args:
        field: the unknown field name (kept as ``.field``).
        available: the schema's field names; kept sorted and deduplicated as ``.available``,
            and the closest one is suggested.
        text: the condition text (``""`` when unknown).
        position: 0-based character offset of the field in ``text``, or ``None``.
    """

    def __init__(
        self,
        field: str,
        available: Iterable[str],
        *,
        text: str = "",
        position: int | None = None,
    ) -> None:
        names = sorted(set(available))
        self.field = field
        self.available = tuple(names)
        reason = f"unknown field {field!r}{did_you_mean(field, names)}"
        super().__init__(reason, text=text, position=position)


class DataError(CrmError, ValueError):
    """
    A DataFrame given to the library is missing columns or holds malformed values.

    Args:
        message: the full message, ending with a ``Hint:``.

    Attributes:
        column: the offending column (or ``None``).
        rows: a few offending row labels (possibly empty).
        value: an example offending value (or ``None``).
    """

    def __init__(
        self,
        message: str,
        *,
        column: str | None = None,
        rows: Sequence[Any] = (),
        value: object = None,
    ) -> None:
        super().__init__(message)
        self.column = column
        self.rows = tuple(rows)
        self.value = value

    @classmethod
    def malformed(
        cls,
        column: str,
        problem: str,
        *,
        rows: Sequence[Any] = (),
        value: object = None,
        hint: str,
    ) -> DataError:
        """
        Build the standard message for a column holding bad values.

        Args:
            column: the offending column's name.
            problem: what is wrong, phrased to follow the column name
                (``"holds negative amounts"``).
            rows: the offending row labels; the message shows the first five and counts the rest.
            value: an example offending value, or ``None`` to show none.
            hint: what to do, after ``Hint:``.
        """
        shown = list(rows[:5])
        where = f" in rows {shown}" if shown else ""
        more = f" (and {len(rows) - 5} more)" if len(rows) > 5 else ""  # noqa: PLR2004
        example = f", e.g. {short_repr(value)}" if value is not None else ""
        return cls(
            f"column {column!r} {problem}{where}{more}{example}. Hint: {hint}",
            column=column,
            rows=rows,
            value=value,
        )


class EventLogError(DataError):
    """
    An event log cannot be replayed: it is not one entity's complete, ordered history.

    Raised by :meth:`~crmlifecycle.stages.Lifecycle.replay`,
    :meth:`~crmlifecycle.stages.Lifecycle.state_at` and
    :meth:`~crmlifecycle.stages.Lifecycle.replay_frame` before anything is applied:
    an event of another entity, kind or lifecycle, a repeated ``event_id``, a gap or
    repeat in the ``sequence`` numbers, time going backwards, or a logged step this
    lifecycle cannot take.

    Args:
        message: the full message, ending with a ``Hint:``.
        entity_id: the entity whose log it is (kept as ``.entity_id``).
        index: the position of the offending event in the log, or its row label in a
            frame (kept as ``.index``).
        event_id: the offending event's ``event_id`` (``None`` when it has none).

    Examples:
        >>> err = EventLogError("bad log. Hint: fix it.", entity_id="L-1", index=2,
        ...                     event_id="lead/L-1/2")
        >>> (err.entity_id, err.index, err.event_id), isinstance(err, DataError)
        (('L-1', 2, 'lead/L-1/2'), True)
    """

    def __init__(
        self, message: str, *, entity_id: object, index: object, event_id: str | None
    ) -> None:
        super().__init__(message, column="events", rows=(index,), value=event_id)
        self.entity_id = entity_id
        self.index = index
        self.event_id = event_id


class LifecycleVersionError(EventLogError):
    """
    An event was recorded under another version of the lifecycle than the one replaying it.

    Pass ``trust=True`` to replay such history as it was recorded (guards are not
    re-run; see :meth:`~crmlifecycle.stages.Lifecycle.replay`).

    Args:
        message: the full message, ending with a ``Hint:``.
        entity_id: the entity whose log it is.
        index: the position (or row label) of the event.
        event_id: the event's ``event_id`` (``None`` when it has none).
        recorded: the ``lifecycle_version`` the event names (kept as ``.recorded``).
        expected: the replaying lifecycle's ``version`` (kept as ``.expected``).
    """

    def __init__(
        self,
        message: str,
        *,
        entity_id: object,
        index: object,
        event_id: str | None,
        recorded: str,
        expected: str,
    ) -> None:
        super().__init__(message, entity_id=entity_id, index=index, event_id=event_id)
        self.recorded = recorded
        self.expected = expected


class MissingColumnError(DataError, _FormattedKeyError):
    """
    A DataFrame lacks columns the computation needs.

    Args:
        missing: the names of the columns the frame lacks (the first is kept as ``.column``).
        available: the frame's column names; the closest to each missing name is suggested.
        frame: the name of the frame parameter (``"events"``), used in the message and in the
            default hint's ``<frame>_columns=`` keyword; ``""`` when unknown.
        hint: what to do, after ``Hint:``; ``None`` says to rename the columns or pass the
            frame's column record.
    """

    def __init__(
        self,
        missing: Sequence[str],
        available: Iterable[str],
        *,
        frame: str = "",
        hint: str | None = None,
    ) -> None:
        available = [str(c) for c in available]
        hints = "".join(did_you_mean(m, available) for m in missing)
        which = f"{frame} " if frame else ""
        if hint is None:
            keyword = f"{frame}_columns=" if frame.isidentifier() else "the frame's X_columns="
            hint = (
                f"rename the columns, or say which columns hold them with {keyword} "
                "and the frame's column record (see the function's Args)."
            )
        message = (
            f"{which}frame is missing column(s) {list(missing)}{hints}; it has {available}. "
            f"Hint: {hint}"
        )
        DataError.__init__(self, message, column=missing[0] if missing else None)
        self.missing = tuple(missing)
        self.available = tuple(available)


class FitError(CrmError, RuntimeError):
    """
    A statistical model could not be fitted (no convergence, degenerate data).

    Args:
        message: what failed, ending with a ``Hint:``.

    Attributes:
        diagnostics: what the optimiser reported (message, iterations, last parameters...).
    """

    def __init__(self, message: str, *, diagnostics: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.diagnostics = dict(diagnostics or {})


class PluginError(CrmError, TypeError):
    """
    A plugin (scorer, metric) does not satisfy the protocol it was registered under.

    Args:
        message: what the plugin lacks or does wrong; the message is prefixed with the plugin's
            name.

    Attributes:
        plugin: the name the plugin was registered or discovered under.
    """

    def __init__(self, message: str, *, plugin: str) -> None:
        super().__init__(f"plugin {plugin!r}: {message}")
        self.plugin = plugin


class MissingDependencyError(CrmError, ImportError):
    """
    A feature needs an optional dependency (a packaging extra) that is not installed.

    Attributes:
        package: the missing import name (``"matplotlib"``).
        extra: the crmlifecycle extra that installs it (``"plot"``).
        feature: what needs the package, phrased to start the message (``"plotting"``).
    """

    def __init__(self, *, package: str, extra: str, feature: str) -> None:
        super().__init__(
            f"{feature} needs {package}, which is not installed. "
            f"Hint: pip install 'crmlifecycle[{extra}]'."
        )
        self.package = package
        self.extra = extra

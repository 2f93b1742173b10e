"""
The metric registry: built-in KPIs, KPIs registered in code, and KPIs from other packages.

Other installed packages publish metrics in the ``crmlifecycle.metrics``
entry-point group; the object an entry point names is a :class:`Metric`
instance, or a class (or other callable) that builds one without arguments.
The registry is the library's one registry class (shared with the scorers):
entry points are listed once per process, a plugin is imported when first
needed, a bad one raises :class:`~crmlifecycle.errors.PluginError` naming the
plugin, and a name belongs to one owner (a plugin or a registration that reuses
a built-in's name is an error naming both).
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final

import pandas as pd

from crmlifecycle._finite import ensure_finite
from crmlifecycle._frames import require_columns
from crmlifecycle._registry import Registry
from crmlifecycle.errors import (
    DataError,
    MissingColumnError,
    PluginError,
    ValidationError,
    short_repr,
)
from crmlifecycle.metrics._builtin import BUILTIN_METRICS
from crmlifecycle.metrics._protocol import FunctionMetric, KpiReport, Metric
from crmlifecycle.schema import FRAME_COLUMNS, ColumnSpec

__all__ = [
    "ENTRY_POINT_GROUP",
    "available_metrics",
    "compute_kpis",
    "get_metric",
    "register_metric",
]

#: The entry-point group other packages register metrics in.
ENTRY_POINT_GROUP: Final = "crmlifecycle.metrics"


def _validate(name: str, candidate: object) -> Metric:
    """Check that ``candidate`` (a plugin's object) is a usable :class:`Metric`."""
    obj: Any = candidate  # untrusted: whatever a plugin names
    if inspect.isclass(obj) or (not isinstance(obj, Metric) and callable(obj)):
        try:
            obj = obj()
        except Exception as err:
            raise PluginError(
                f"building the metric failed ({type(err).__name__}: {err}). "
                "Hint: the entry point must name a Metric instance or a class whose "
                "constructor takes no arguments.",
                plugin=name,
            ) from err
    if not isinstance(obj, Metric):
        missing = [a for a in ("name", "description", "requires", "compute") if not hasattr(obj, a)]
        raise PluginError(
            f"{type(obj).__name__} is not a Metric (missing {missing}). "
            "Hint: see crmlifecycle.metrics.Metric: name, description, requires, "
            "compute(frames, **options).",
            plugin=name,
        )
    declared: object = obj.name
    if declared != name:
        raise PluginError(
            f"its name is {short_repr(declared)} but it is registered as {short_repr(name)}. "
            "Hint: make the entry-point name and Metric.name the same.",
            plugin=name,
        )
    requires: Any = obj.requires  # untrusted
    valid = isinstance(requires, Mapping) and all(
        isinstance(frame, str)
        and not isinstance(columns, str)
        and isinstance(columns, Iterable)
        and all(isinstance(c, str) for c in columns)
        for frame, columns in requires.items()
    )
    if not valid:
        raise PluginError(
            f"requires={short_repr(requires)} must map frame names to sequences of column names. "
            "Hint: e.g. requires={'orders': ('customer_id', 'amount')}.",
            plugin=name,
        )
    compute: object = obj.compute
    if not callable(compute):
        raise PluginError("compute is not callable.", plugin=name)
    metric: Metric = obj
    return metric


#: The metrics by name: built-ins, registrations in code, ``crmlifecycle.metrics`` plugins.
_METRICS: Final = Registry[Metric](
    kind="metric",
    group=ENTRY_POINT_GROUP,
    builtins=lambda: {m.name: m for m in BUILTIN_METRICS},
    validate=_validate,
)


def register_metric(metric: Metric, *, replace: bool = False) -> None:
    """
    Register a metric in this process, under its own ``name``.

    Args:
        metric: a :class:`Metric` (validated first).
        replace: replace an earlier registration of the same name made in code.

    Raises:
        PluginError: the object is not a valid :class:`Metric`, or its name belongs to
            a built-in metric, an installed plugin or (without ``replace``) an earlier
            registration.

    Examples:
        >>> from crmlifecycle.metrics import FunctionMetric
        >>> register_metric(FunctionMetric(
        ...     name="orders_count", description="Number of orders.",
        ...     requires={"orders": ("order_id",)},
        ...     function=lambda frames: len(frames["orders"]),
        ... ), replace=True)
        >>> "orders_count" in available_metrics()
        True
        >>> register_metric(get_metric("win_rate"))
        Traceback (most recent call last):
        ...
        crmlifecycle.errors.PluginError: plugin 'win_rate': a registration in code registers ...
    """
    name: object = getattr(metric, "name", None)
    _METRICS.register(metric, name=name if isinstance(name, str) else "", replace=replace)


def available_metrics() -> list[str]:
    """
    Return the names of the built-in metrics (in the library's order), then the others sorted.

    Examples:
        >>> names = available_metrics()
        >>> names[:3]
        ['new_customers', 'cac_blended', 'cac_paid']
    """
    return _METRICS.names()


def get_metric(name: str) -> Metric:
    """
    Return the metric registered as ``name`` (built-in, registered in code, or plugin).

    Args:
        name: the metric's registered name (``"win_rate"``).

    Raises:
        ValidationError: no metric has that name (with a did-you-mean).
        PluginError: the plugin cannot be imported or is not a Metric, or its
            name is claimed twice (by a built-in and a plugin, or by two plugins).

    Examples:
        >>> get_metric("win_rate").requires["opportunities"]
        ('opportunity_id', 'created_at', 'state', 'amount')
        >>> get_metric("win_rat")
        Traceback (most recent call last):
        ...
        crmlifecycle.errors.ValidationError: 'name' must be a registered metric ...
    """
    return _METRICS.get(name)


def _accepted(metric: Metric) -> tuple[set[str], bool]:
    """Return the option names ``metric`` accepts and whether it takes any (``**options``)."""
    target = metric.function if isinstance(metric, FunctionMetric) else metric.compute
    try:
        parameters = list(inspect.signature(target).parameters.values())
    except (TypeError, ValueError):  # pragma: no cover - builtins without a signature
        return set(), True
    names = {p.name for p in parameters[1:] if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)}
    return names, any(p.kind is p.VAR_KEYWORD for p in parameters)


def _frames_of(dataset: object) -> Mapping[str, pd.DataFrame]:
    frames = getattr(dataset, "frames", None)
    if callable(frames):
        dataset = frames()
    if not isinstance(dataset, Mapping):
        raise DataError(
            f"compute_kpis needs a Dataset or a mapping of frame name to DataFrame, "
            f"got {type(dataset).__name__}. Hint: pass e.g. {{'orders': orders_df}}."
        )
    return {str(k): v for k, v in dataset.items() if v is not None}


def _with_contract_names(
    frames: Mapping[str, pd.DataFrame], columns: Mapping[str, ColumnSpec]
) -> dict[str, pd.DataFrame]:
    """Give each frame's columns the contract's names, as its column record says (copies)."""
    renamed = dict(frames)
    for name, spec in columns.items():
        if name not in frames:
            raise ValidationError.for_field(
                "columns",
                name,
                f"the name of a frame of the data set ({sorted(frames)})",
                hint="key the records by frame name, e.g. columns={'orders': OrderColumns(...)}.",
            )
        expected = FRAME_COLUMNS.get(name, ColumnSpec)
        if not isinstance(spec, expected):
            raise ValidationError.for_field(
                f"columns[{short_repr(name)}]",
                spec,
                f"a {expected.__name__} record",
                hint=f"e.g. columns={{{short_repr(name)}: {expected.__name__}(...)}}.",
            )
        renamed[name] = spec.to_contract(frames[name], frame_name=name)
    return renamed


def _require(frame: pd.DataFrame, needed: Iterable[str], name: str) -> None:
    try:
        require_columns(frame, list(needed), frame_name=name)
    except MissingColumnError as err:
        record = FRAME_COLUMNS.get(name, ColumnSpec).__name__
        raise MissingColumnError(
            err.missing,
            err.available,
            frame=name,
            hint=f"rename the columns, or say which columns hold them with "
            f"columns={{{short_repr(name)}: {record}({err.missing[0]}=...)}}.",
        ) from err


def compute_kpis(
    dataset: object,
    names: Sequence[str] | None = None,
    *,
    columns: Mapping[str, ColumnSpec] | None = None,
    **options: Any,
) -> KpiReport:
    """
    Compute built-in and plugged-in KPIs over a data set, skipping those it cannot.

    ``dataset`` is a ``crmlifecycle.synth.Dataset`` (its ``frames()`` are
    used) or a mapping of frame name (``"customers"``, ``"orders"``,
    ``"spend"``...) to DataFrame. ``columns`` names, per frame, the columns of a
    frame whose names are not the contract's, with the frame's column record from
    :mod:`crmlifecycle.schema` (``{"orders": OrderColumns(at="date")}``); the frames
    are read through copies with the contract's names. ``names`` picks metrics (default: all
    available, built-ins first). A metric whose frames are absent, or that
    needs an option not given (``gross_margin``, ``sla_policy``), is skipped
    with a note; a present frame lacking a required column raises
    :class:`~crmlifecycle.errors.MissingColumnError`. Options
    (``as_of``, ``gross_margin``, ``start``, ``end``, ``sla_policy``, or any a
    plugin names) go to each metric whose signature accepts them.

    Args:
        dataset: a ``crmlifecycle.synth.Dataset`` or a mapping of frame name to DataFrame;
            frames that are ``None`` count as absent.
        names: the registered names of the metrics to compute, in order (``None``: all).
        columns: frame name → the frame's column record, for frames whose columns are not
            named as in the contract (``None``: every frame uses the contract's names).
        **options: keyword options passed to every selected metric that accepts them.

    Raises:
        ValidationError: an unknown metric name, an option no selected metric accepts,
            or a ``columns`` entry that names no frame or holds another frame's record.
        MissingColumnError: a frame lacks a column a selected metric reads.
        PluginError: a plugin fails to load or is not a Metric.
        DataError: a metric's value holds an infinity (it overflowed a 64-bit float).

    Examples:
        >>> import pandas as pd
        >>> customers = pd.DataFrame({
        ...     "customer_id": ["a", "b"], "channel": ["ads", "web"],
        ...     "acquired_at": pd.to_datetime(["2026-01-05", "2026-02-01"], utc=True),
        ... })
        >>> report = compute_kpis({"customers": customers}, names=["new_customers", "cac_paid"])
        >>> report["new_customers"]
        2
        >>> report.skipped["cac_paid"]
        "needs frame 'spend'"
        >>> from crmlifecycle.schema import CustomerColumns
        >>> export = customers.rename(columns={"acquired_at": "signed_up"})
        >>> columns = {"customers": CustomerColumns(acquired_at="signed_up")}
        >>> report = compute_kpis({"customers": export}, names=["new_customers"], columns=columns)
        >>> report["new_customers"]
        2
    """
    frames = _frames_of(dataset)
    if columns:
        frames = _with_contract_names(frames, columns)
    selected = [get_metric(n) for n in (available_metrics() if names is None else names)]
    used: set[str] = set()
    values: dict[str, object] = {}
    skipped: dict[str, str] = {}
    descriptions: dict[str, str] = {}
    for metric in selected:
        accepted, takes_any = _accepted(metric)
        used |= set(options) if takes_any else accepted & set(options)
    unknown = sorted(set(options) - used)
    if unknown:
        raise ValidationError.for_field(
            "options",
            unknown,
            "options that at least one selected metric accepts",
            hint="common options are as_of, gross_margin, start, end and sla_policy.",
        )
    for metric in selected:
        descriptions[metric.name] = metric.description
        absent = [frame for frame in metric.requires if frame not in frames]
        if absent:
            skipped[metric.name] = f"needs frame {absent[0]!r}"
            continue
        lacking = [o for o in getattr(metric, "needs_options", ()) if o not in options]
        if lacking:
            skipped[metric.name] = f"needs option {lacking[0]}="
            continue
        for frame, needed in metric.requires.items():
            _require(frames[frame], needed, frame)
        accepted, takes_any = _accepted(metric)
        given = options if takes_any else {k: v for k, v in options.items() if k in accepted}
        # the one net under every metric, plug-ins included: never a silent infinity
        values[metric.name] = ensure_finite(
            metric.compute(frames, **given), name=metric.name, inputs=list(metric.requires)
        )
    return KpiReport(values=values, skipped=skipped, descriptions=descriptions)

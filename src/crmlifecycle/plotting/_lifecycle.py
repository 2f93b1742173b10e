"""
A lifecycle's state diagram drawn with matplotlib.

The Mermaid text of the same diagram comes from ``Lifecycle.to_mermaid()``.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Final, final

import attrs

from crmlifecycle.errors import ValidationError
from crmlifecycle.plotting._backend import PALETTE, new_axes

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.patches import FancyBboxPatch

    from crmlifecycle.stages import Lifecycle

__all__ = ["plot_lifecycle"]

#: Node colours by the status type a state rolls up to.
TYPE_COLOURS: Final[dict[str, str]] = {
    "open": PALETTE["sky"],
    "ongoing": PALETTE["blue"],
    "on_hold": PALETTE["yellow"],
    "won": PALETTE["green"],
    "lost": PALETTE["red"],
}
_ROW_GAP: Final = 2.2
_COLUMN_GAP: Final = 3.0
_REVERSE_BEND: Final = 0.25
_SKIP_BEND: Final = 0.3
_LAST_OPEN_BEND: Final = 0.45


def _bend(edge: _Edge, start: tuple[float, float], end: tuple[float, float], paired: bool) -> float:
    """
    The ``arc3`` curvature of an edge.

    Two opposite edges between the same states curve to either side; an edge
    skipping columns arcs towards its destination's side (below when level);
    a return to the last open stage arcs below, wider than the others.
    """
    (x1, y1), (x2, y2) = start, end
    if paired and not edge.to_last_open:
        return _REVERSE_BEND
    if edge.to_last_open:
        magnitude, side = _LAST_OPEN_BEND, -1.0
    elif abs(x2 - x1) > _COLUMN_GAP:
        magnitude, side = _SKIP_BEND, 1.0 if y2 > y1 else -1.0
    else:
        return 0.0
    # arc3 puts the control point at the middle + rad * (dy, -dx): its height is -rad * dx
    direction = 1.0 if x2 >= x1 else -1.0
    return -side * direction * magnitude


@final
@attrs.frozen
class _Edge:
    source: str
    dest: str
    label: str
    to_last_open: bool


def _edges(lifecycle: Lifecycle) -> list[_Edge]:
    """One edge per (source, dest) pair; trigger names joined; internal transitions left out."""
    labels: dict[tuple[str, str, bool], list[str]] = defaultdict(list)
    open_states = [s.name for s in lifecycle.stages if not s.closed]
    for transition in lifecycle.transitions:
        if transition.internal:
            continue
        targets = open_states if transition.to_last_open else [str(transition.dest)]
        for source in transition.source:
            for dest in targets:
                if dest == source:
                    continue
                names = labels[(source, dest, transition.to_last_open)]
                if transition.trigger not in names:
                    names.append(transition.trigger)
    return [
        _Edge(source=s, dest=d, label=", ".join(names), to_last_open=back)
        for (s, d, back), names in labels.items()
    ]


def _layers(lifecycle: Lifecycle, edges: list[_Edge]) -> dict[str, int]:
    """
    Column of each state: the longest forward path from the initial state.

    "Forward" follows the declared state order, so back edges (reopen,
    win-back, resume) never push a state to the right.
    """
    order = {s.name: s.order for s in lifecycle.stages}
    forward = sorted(
        ((e.source, e.dest) for e in edges if order[e.source] < order[e.dest]),
        key=lambda pair: order[pair[0]],
    )
    layer = dict.fromkeys(lifecycle.states, -1)
    layer[lifecycle.initial] = 0
    for source, dest in forward:  # sources sorted by order: a topological order of the DAG
        if layer[source] >= 0:
            layer[dest] = max(layer[dest], layer[source] + 1)
    last = max(layer.values())
    return {name: (value if value >= 0 else last + 1) for name, value in layer.items()}


def _positions(lifecycle: Lifecycle, layers: dict[str, int]) -> dict[str, tuple[float, float]]:
    columns: dict[int, list[str]] = defaultdict(list)
    for name in lifecycle.states:  # declared order within a column
        columns[layers[name]].append(name)
    positions = {}
    for column, names in columns.items():
        middle = (len(names) - 1) / 2
        for row, name in enumerate(names):
            positions[name] = (column * _COLUMN_GAP, (middle - row) * _ROW_GAP)
    return positions


def plot_lifecycle(
    lifecycle: Lifecycle,
    *,
    ax: Axes | None = None,
    title: str | None = None,
) -> Axes:
    """
    Draw a lifecycle's state diagram: states as boxes coloured by status type, triggers as arrows.

    States are laid out left to right by the longest forward path from the
    initial state (following the declared state order, so back edges such as
    ``reopen`` or ``win_back`` curve back instead of moving states), and
    stacked within a column in declared order. Arrows carry the trigger
    names; a transition back to the remembered last open stage (``reopen`` of
    the opportunity pipeline) is dashed, one arrow per open stage it may
    return to, labelled once. Internal transitions (which do not change the state, e.g.
    ``escalate``) are not drawn. For a text diagram use
    :meth:`Lifecycle.to_mermaid <crmlifecycle.stages.Lifecycle.to_mermaid>`.

    Args:
        lifecycle: the lifecycle to draw (a standard one or one built with ``from_dict``).
        ax: the matplotlib Axes to draw on (a new figure when omitted).
        title: the plot title (default: the lifecycle's name).

    Returns:
        The Axes; ``ax.texts`` holds one box per state (in state order), then
        for each drawn edge its arrow (an ``Annotation``) and, except for repeated
        returns to the last open stage, its trigger label.

    Raises:
        ValidationError: ``lifecycle`` is not a :class:`~crmlifecycle.stages.Lifecycle`.

    Examples:
        >>> from matplotlib.figure import Figure
        >>> from crmlifecycle.stages import LEAD_STATUS
        >>> ax = plot_lifecycle(LEAD_STATUS, ax=Figure().subplots())
        >>> [t.get_text() for t in ax.texts[:5]]
        ['open', 'contacted', 'qualified', 'unqualified', 'converted']
    """
    from crmlifecycle.stages import Lifecycle

    if not isinstance(lifecycle, Lifecycle):
        raise ValidationError.for_field(
            "lifecycle",
            lifecycle,
            "a crmlifecycle.stages.Lifecycle",
            hint="build one with Lifecycle.from_dict(...) or use a standard lifecycle.",
        )
    edges = _edges(lifecycle)
    positions = _positions(lifecycle, _layers(lifecycle, edges))
    width = max(x for x, _ in positions.values()) + _COLUMN_GAP
    height = max(abs(y) for _, y in positions.values()) * 2 + _ROW_GAP * 2
    axes = new_axes(ax, figsize=(min(2.0 + 1.6 * width / _COLUMN_GAP, 16.0), 1.5 + height))
    boxes: dict[str, FancyBboxPatch] = {}
    for stage in lifecycle.stages:
        x, y = positions[stage.name]
        text = axes.text(
            x,
            y,
            stage.name,
            ha="center",
            va="center",
            fontsize="small",
            color="black" if stage.type in {"open", "on_hold"} else "white",
            bbox={
                "boxstyle": "round,pad=0.5",
                "facecolor": TYPE_COLOURS.get(stage.type, PALETTE["grey"]),
                "edgecolor": "black" if stage.name == lifecycle.initial else "none",
                "linewidth": 1.5,
            },
            zorder=3,
        )
        patch = text.get_bbox_patch()
        if patch is not None:
            boxes[stage.name] = patch
    pairs = {(e.source, e.dest) for e in edges}
    labelled_last_open = False
    for edge in edges:
        (x1, y1), (x2, y2) = positions[edge.source], positions[edge.dest]
        bend = _bend(edge, (x1, y1), (x2, y2), (edge.dest, edge.source) in pairs)
        axes.annotate(
            "",
            xy=(x2, y2),
            xytext=(x1, y1),
            arrowprops={
                "arrowstyle": "-|>",
                "color": PALETTE["grey"] if edge.to_last_open else "black",
                "linestyle": "--" if edge.to_last_open else "-",
                "linewidth": 0.9,
                "connectionstyle": f"arc3,rad={bend}",
                "patchA": boxes.get(edge.source),
                "patchB": boxes.get(edge.dest),
                "shrinkA": 2,
                "shrinkB": 2,
            },
            zorder=2,
        )
        if edge.to_last_open:
            if labelled_last_open:
                continue
            labelled_last_open = True
        # the middle of the quadratic Bézier arc (equal aspect: data ~ display direction)
        mid_x = (x1 + x2) / 2 + bend * (y2 - y1) / 2
        mid_y = (y1 + y2) / 2 - bend * (x2 - x1) / 2
        axes.text(
            mid_x,
            mid_y,
            f"{edge.label} (to the last open stage)" if edge.to_last_open else edge.label,
            ha="center",
            va="center",
            fontsize="x-small",
            color=PALETTE["grey"] if edge.to_last_open else "#333333",
            bbox={"boxstyle": "round,pad=0.1", "facecolor": "white", "edgecolor": "none"},
            zorder=4,
        )
    _legend(axes, lifecycle)
    axes.set_xlim(-_COLUMN_GAP / 2, width - _COLUMN_GAP / 2)
    axes.set_ylim(-height / 2, height / 2)
    axes.set_aspect("equal")
    axes.set_axis_off()
    axes.set_title(title if title is not None else f"{lifecycle.name} lifecycle")
    return axes


def _legend(axes: Axes, lifecycle: Lifecycle) -> None:
    from matplotlib.patches import Patch

    present = [t for t in TYPE_COLOURS if any(s.type == t for s in lifecycle.stages)]
    handles = [Patch(facecolor=TYPE_COLOURS[t], label=t.replace("_", " ")) for t in present]
    axes.legend(
        handles=handles,
        loc="lower center",
        bbox_to_anchor=(0.5, -0.08),
        ncols=len(handles),
        frameon=False,
        fontsize="x-small",
    )

from __future__ import annotations

import pathlib

import pytest
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.text import Annotation

from crmlifecycle.errors import ValidationError
from crmlifecycle.plotting import plot_lifecycle
from crmlifecycle.plotting._lifecycle import TYPE_COLOURS, _edges, _layers
from crmlifecycle.stages import (
    CASE_STATUS,
    CUSTOMER_LIFECYCLE,
    LEAD_STATUS,
    OPPORTUNITY_PIPELINE,
    Lifecycle,
)


def _axes() -> Axes:
    return Figure(figsize=(10, 4)).subplots()


def _save(ax: Axes, path: pathlib.Path) -> None:
    figure = ax.get_figure(root=True)
    assert isinstance(figure, Figure)
    figure.savefig(path, dpi=60)


def _arrows(ax: Axes) -> list[Annotation]:
    return [t for t in ax.texts if isinstance(t, Annotation)]


def test_lead_status_boxes_arrows_and_labels(tmp_path: pathlib.Path) -> None:
    ax = plot_lifecycle(LEAD_STATUS, ax=_axes())
    boxes = [t.get_text() for t in ax.texts[:5]]
    assert boxes == ["open", "contacted", "qualified", "unqualified", "converted"]
    # contact, qualify, disqualify from open, disqualify from contacted, recycle, convert
    assert len(_arrows(ax)) == 6
    labels = [t.get_text() for t in ax.texts[5:] if not isinstance(t, Annotation)]
    assert sorted(labels) == [
        "contact",
        "convert",
        "disqualify",
        "disqualify",
        "qualify",
        "recycle",
    ]
    assert ax.get_title() == "lead lifecycle"
    path = tmp_path / "lead.png"
    _save(ax, path)
    assert path.stat().st_size > 5_000


def test_boxes_are_coloured_by_status_type_and_the_initial_state_is_outlined() -> None:
    ax = plot_lifecycle(OPPORTUNITY_PIPELINE, ax=_axes())
    colours = {}
    for text in ax.texts[:6]:
        patch = text.get_bbox_patch()
        assert patch is not None
        colours[text.get_text()] = patch.get_facecolor()
    from matplotlib.colors import to_rgba

    assert colours["won"] == to_rgba(TYPE_COLOURS["won"])
    assert colours["lost"] == to_rgba(TYPE_COLOURS["lost"])
    assert colours["prospecting"] == to_rgba(TYPE_COLOURS["open"])
    first = ax.texts[0].get_bbox_patch()
    assert first is not None
    assert first.get_edgecolor() == to_rgba("black")


def test_reopen_to_the_last_open_stage_is_one_dashed_arrow_per_open_stage() -> None:
    edges = _edges(OPPORTUNITY_PIPELINE)
    back = sorted(e.dest for e in edges if e.to_last_open)
    assert back == ["negotiation", "proposal", "prospecting", "qualification"]
    # qualify, propose, negotiate + win x4 + lose x4 + reopen x4
    assert len(edges) == 15
    ax = plot_lifecycle(OPPORTUNITY_PIPELINE, ax=_axes())
    assert len(_arrows(ax)) == 15
    labels = [t.get_text() for t in ax.texts[6:] if not isinstance(t, Annotation)]
    assert labels.count("reopen (to the last open stage)") == 1
    assert labels.count("win") == 4


def test_internal_transitions_are_not_drawn() -> None:
    edges = _edges(CASE_STATUS)
    assert "escalate" not in {e.label for e in edges}
    # start, wait, resume, resolve x2, reopen, close
    assert len(edges) == 7


def test_layers_follow_the_longest_forward_path() -> None:
    assert _layers(OPPORTUNITY_PIPELINE, _edges(OPPORTUNITY_PIPELINE)) == {
        "prospecting": 0,
        "qualification": 1,
        "proposal": 2,
        "negotiation": 3,
        "won": 4,
        "lost": 4,
    }
    # win_back (churned -> conversion) goes back and does not move conversion
    assert _layers(CUSTOMER_LIFECYCLE, _edges(CUSTOMER_LIFECYCLE)) == {
        "reach": 0,
        "acquisition": 1,
        "conversion": 2,
        "retention": 3,
        "loyalty": 4,
        "churned": 5,
    }


def test_a_custom_lifecycle_with_an_unreachable_state() -> None:
    spec = {
        "name": "ticket",
        "states": ["todo", "doing", "done", "archived"],
        "transitions": [
            {"trigger": "start", "source": "todo", "dest": "doing"},
            {"trigger": "finish", "source": "doing", "dest": "done"},
        ],
    }
    lifecycle = Lifecycle.from_dict(spec)
    layers = _layers(lifecycle, _edges(lifecycle))
    assert layers == {"todo": 0, "doing": 1, "done": 2, "archived": 3}  # unreachable: last column
    ax = plot_lifecycle(lifecycle, ax=_axes(), title="Tickets")
    assert ax.get_title() == "Tickets"
    assert len(_arrows(ax)) == 2


def test_every_standard_lifecycle_renders(tmp_path: pathlib.Path) -> None:
    for lifecycle in (CUSTOMER_LIFECYCLE, LEAD_STATUS, OPPORTUNITY_PIPELINE, CASE_STATUS):
        ax = plot_lifecycle(lifecycle)
        path = tmp_path / f"{lifecycle.name}.png"
        _save(ax, path)
        assert path.stat().st_size > 5_000


def test_rejects_something_that_is_not_a_lifecycle() -> None:
    with pytest.raises(
        ValidationError, match=r"'lifecycle' must be a crmlifecycle\.stages\.Lifecycle"
    ):
        plot_lifecycle({"states": []}, ax=_axes())  # type: ignore[arg-type]

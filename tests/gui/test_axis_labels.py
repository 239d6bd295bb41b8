"""Token labels on the axes: relabelling is cheap, and what it shows is what pyqtgraph would paint."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtGui import QPainter, QPicture

from attnviz.gui.pixel_cache import CachedAxisItem
from tests.gui.test_plot_pixels import cut, from_scratch, on_screen, pixel_rect, settle, shown_heatmap

N = 64
LABELS = [f"w{i}" for i in range(N)]


@pytest.fixture
def heatmap(qtbot):
    h = shown_heatmap(qtbot, 330, 420)
    h.set_matrix(np.zeros((N, N)), LABELS, LABELS, (-1.0, 1.0))
    settle()
    return h


def specs(axis: pg.AxisItem, generate) -> tuple:
    picture = QPicture()
    painter = QPainter(picture)
    try:
        painter.setFont(axis.style["tickFont"])
        result = generate(painter)
    finally:
        painter.end()
    if result is None:
        return None
    (pen, a, b), ticks, texts = result
    return (
        (pen.color().name(), a.x(), a.y(), b.x(), b.y()),
        [(p.color().rgba(), p1.x(), p1.y(), p2.x(), p2.y()) for p, p1, p2 in ticks],
        [(r.getRect(), int(flags), text) for r, flags, text in texts],
    )


def counting_specs(axis: CachedAxisItem, monkeypatch) -> list[int]:
    calls = [0]
    original = axis.generateDrawSpecs

    def generate(p):
        calls[0] += 1
        return original(p)

    monkeypatch.setattr(axis, "generateDrawSpecs", generate)
    return calls


@pytest.mark.parametrize("name", ["left", "top"])
@pytest.mark.parametrize(
    "ticks",
    [
        None,  # the heatmap's own thinned, elided labels
        [(j, f"token number {j}") for j in range(0, N, 2)],  # long texts: some overhang and are left out
        [(-5, "before"), (3, "in"), (N + 10, "after"), (7.5, "")],  # outside the range, and an empty text
    ],
)
def test_string_ticks_lay_out_as_pyqtgraph_lays_them_out(heatmap, name, ticks):
    axis = heatmap.plot.getAxis(name)
    if ticks is not None:
        axis.setTicks([ticks])
    expected = specs(axis, lambda p: pg.AxisItem.generateDrawSpecs(axis, p))
    assert expected is not None and expected[1]  # some ticks are drawn
    text_width = axis.textWidth, axis.textHeight
    assert specs(axis, axis._string_specs) == expected
    assert (axis.textWidth, axis.textHeight) == text_width
    assert specs(axis, axis._string_specs) == expected  # and again, from the memo of text sizes


def test_a_label_change_that_no_axis_shows_leaves_the_axes_alone(heatmap, monkeypatch):
    _numbers, col_step, row_step = heatmap._fit
    assert col_step > 1 and row_step > 1  # some labels are left out
    hidden = next(k for k in range(N) if k % col_step and k % row_step)
    axes = [heatmap.plot.getAxis(name) for name in ("left", "top")]
    pictures = [axis.picture for axis in axes]
    calls = [counting_specs(axis, monkeypatch) for axis in axes]
    labels = list(LABELS)
    labels[hidden] = "changed"
    heatmap.set_matrix(np.zeros((N, N)), labels, labels, (-1.0, 1.0))
    settle()
    assert heatmap._labels[0][hidden] == "changed"
    assert [c[0] for c in calls] == [0, 0]
    assert [axis.picture for axis in axes] == pictures
    np.testing.assert_array_equal(on_screen(heatmap), from_scratch(heatmap))


def test_a_shown_label_change_repaints_its_axis(heatmap, monkeypatch):
    _numbers, col_step, row_step = heatmap._fit
    shown = next(k for k in range(N) if k % row_step == 0 and k % col_step)  # on the left axis only
    left, top = heatmap.plot.getAxis("left"), heatmap.plot.getAxis("top")
    left_calls, top_calls = counting_specs(left, monkeypatch), counting_specs(top, monkeypatch)
    box = pixel_rect(heatmap, left.sceneBoundingRect())
    before = on_screen(heatmap)
    labels = list(LABELS)
    labels[shown] = "new"
    heatmap.set_matrix(np.zeros((N, N)), labels, labels, (-1.0, 1.0))
    settle()
    after = on_screen(heatmap)
    assert (shown, "new") in left._tickLevels[0]
    assert left_calls[0] >= 1 and top_calls[0] == 0
    assert (cut(before, box) != cut(after, box)).any()
    np.testing.assert_array_equal(after, from_scratch(heatmap))


def test_typing_at_the_end_of_a_long_sentence_relabels_every_plot(window, qtbot):
    sentence = " ".join(f"w{i}" for i in range(22))  # the last token is labelled on every axis that thins
    window.sentence_edit.setText("")
    qtbot.keyClicks(window.sentence_edit, sentence)
    qtbot.waitUntil(lambda: len(window.model.result.tokens) == 22)
    settle()
    panels = (window.scores, window.weights, window.output)
    axes = [p.plot.getAxis("left") for p in panels]
    last = len(window.model.result.tokens) - 1
    assert all(any(v == last for v, _ in axis._tickLevels[0]) for axis in axes)
    boxes = [pixel_rect(p, a.sceneBoundingRect()) for p, a in zip(panels, axes, strict=True)]
    before = [on_screen(p) for p in panels]
    qtbot.keyClicks(window.sentence_edit, "qq")
    qtbot.waitUntil(lambda: window.model.result.tokens[-1] == "w21qq")
    for panel, axis, box, old in zip(panels, axes, boxes, before, strict=True):
        assert [t for v, t in axis._tickLevels[0] if v == last] == ["w21qq"], panel.objectName()
        new = on_screen(panel)
        assert (cut(old, box) != cut(new, box)).any(), panel.objectName()
        # what the screen shows equals a fresh paint, but for at most the end pixel of an axis line
        # that moved (a known one-pixel difference of the cached axes after a relayout)
        stale = (new != from_scratch(panel)).any(axis=2)
        assert stale.sum() <= 2, (panel.objectName(), int(stale.sum()))

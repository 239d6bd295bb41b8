"""Axis labels: relabelling is cheap, and what an axis shows is what pyqtgraph would paint.

Token axes lay their string ticks out themselves; numeric axes (the colour
bars') keep the pictures of their last few layouts.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPicture, QTransform
from PySide6.QtWidgets import QApplication, QStyleFactory

from attnviz.gui.numbers import MINUS, parse_shown
from attnviz.gui.pixel_cache import CachedAxisItem, _exact
from tests.gui.test_plot_pixels import (
    colour_bar_labels,
    cut,
    from_scratch,
    on_screen,
    pixel_rect,
    settle,
    shown_heatmap,
)

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


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    labels=st.lists(st.text(alphabet="abwxyz019 .é日😀", max_size=14), min_size=1, max_size=40),
    size=st.sampled_from([(330, 420), (250, 280), (520, 610)]),
    name=st.sampled_from(["left", "top"]),
)
def test_token_labels_are_drawn_as_pyqtgraphs_picture_draws_them(heatmap, labels, size, name):
    heatmap.resize(*size)
    heatmap.set_matrix(np.zeros((len(labels), len(labels))), labels, labels, (-1.0, 1.0))
    settle()
    axis = heatmap.plot.getAxis(name)
    axis.picture = None
    axis._measured.clear()
    ours = axis_image(axis)  # laid out and drawn straight from the specs
    axis.picture = None
    axis._measured.clear()
    theirs = axis_image(axis, paint=pg.AxisItem.paint)  # recorded into a QPicture and played back
    axis.picture = None
    axis.update()
    np.testing.assert_array_equal(ours, theirs)


def text_specs(axis: CachedAxisItem) -> list:
    """Where the axis shows its labels now."""
    return [(rect.getRect(), int(flags), text) for rect, flags, text in axis._specs[2]]


@pytest.mark.parametrize("name", ["left", "top"])
def test_token_labels_laid_out_while_painting_elsewhere_are_laid_out_as_on_screen(heatmap, name):
    """An SVG export paints at 72 dpi: the layout it makes is kept for the screen, and so are the sizes it measures."""
    words = ["iterations", "baby", *LABELS[2:]]
    heatmap.set_matrix(np.zeros((N, N)), words, words, (-1.0, 1.0))  # not painted yet: a panel in a background tab
    axis = heatmap.plot.getAxis(name)
    axis._measured.clear()
    image = QImage(400, 400, QImage.Format.Format_ARGB32_Premultiplied)
    image.setDotsPerMeterX(round(72 / 0.0254))
    image.setDotsPerMeterY(round(72 / 0.0254))
    painter = QPainter(image)
    try:
        axis.paint(painter, None, None)
    finally:
        painter.end()
    shown = text_specs(axis)
    assert len(shown) > 3
    # (the axis rounds pyqtgraph's coordinates to a millionth of a pixel: see pixel_cache._exact)
    assert shown == specs(axis, lambda p: _exact(pg.AxisItem.generateDrawSpecs(axis, p)))[2]
    axis.picture = None  # a later relayout reads the remembered sizes
    axis_image(axis)
    assert text_specs(axis) == shown


@pytest.mark.parametrize("name", ["left", "top"])
def test_token_labels_without_a_tick_font_are_drawn_in_the_default_font(heatmap, name):
    """As pyqtgraph's picture draws them, whatever font the painter came with."""
    axis = heatmap.plot.getAxis(name)
    axis.setStyle(tickFont=None)
    settle()

    def drawn(paint) -> np.ndarray:
        rect = axis.boundingRect().toAlignedRect()
        image = QImage(rect.size(), QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(0)
        painter = QPainter(image)
        try:
            painter.translate(-rect.x(), -rect.y())
            big = QFont()
            big.setPointSize(20)
            painter.setFont(big)
            axis.picture = None
            paint(axis, painter, None, None)
        finally:
            painter.end()
        return np.frombuffer(image.constBits(), np.uint8).copy()

    np.testing.assert_array_equal(drawn(type(axis).paint), drawn(pg.AxisItem.paint))


@pytest.mark.parametrize("name", ["left", "top"])
def test_painting_token_labels_leaves_the_painter_as_it_was(heatmap, name):
    """As pyqtgraph's played-back picture does: the items painted after an axis get the painter unchanged."""
    axis = heatmap.plot.getAxis(name)
    image = QImage(50, 50, QImage.Format.Format_ARGB32_Premultiplied)
    painter = QPainter(image)
    states = []
    try:
        painter.setPen(QColor("red"))
        for antialiased, relaid in ((False, True), (False, False), (True, False)):
            painter.setRenderHint(QPainter.RenderHint.Antialiasing, antialiased)
            if relaid:
                axis.picture = None
            axis.paint(painter, None, None)
            states.append((painter.hasClipping(), painter.pen().color().name(),
                           painter.testRenderHint(QPainter.RenderHint.Antialiasing)))
    finally:
        painter.end()
    assert states == [(False, "#ff0000", False), (False, "#ff0000", False), (False, "#ff0000", True)]


# ---- numeric axes: kept layouts ---------------------------------------------------
def axis_image(axis: CachedAxisItem, picture: QPicture | None = None, paint=None) -> np.ndarray:
    """``picture`` (or what ``paint``, by default ``axis.paint``, draws now) as RGBA pixels over the axis's bounds."""
    rect = axis.boundingRect().toAlignedRect()
    image = QImage(rect.size(), QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(0)
    painter = QPainter(image)
    painter.translate(-rect.x(), -rect.y())
    if picture is not None:
        picture.play(painter)
    else:
        (paint or type(axis).paint)(axis, painter, None, None)
    painter.end()
    return np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.bytesPerLine() // 4, 4).copy()


def laid_out_afresh(axis: CachedAxisItem) -> tuple[np.ndarray, tuple[float, float]]:
    """The axis laid out and drawn by pyqtgraph now, with no kept layout, and the text size it asks for."""
    kept, picture = axis._layouts, axis.picture
    axis._layouts, axis.picture = {}, None
    try:
        return axis_image(axis), (axis.textWidth, axis.textHeight)
    finally:
        axis._layouts, axis.picture = kept, picture


def assert_shows_its_layout(axis: CachedAxisItem) -> None:
    if axis.picture is None:  # pyqtgraph forgot it without asking for a repaint (same size): paint as a repaint would
        axis_image(axis)
    shown, size = axis_image(axis, axis.picture), (axis.textWidth, axis.textHeight)
    fresh, fresh_size = laid_out_afresh(axis)
    assert size == fresh_size
    np.testing.assert_array_equal(shown, fresh)


@pytest.fixture
def colorbar_axis(qtbot):
    app_font = QFont(QApplication.font())
    h = shown_heatmap(qtbot, 330, 420)
    h.set_matrix(np.zeros((4, 4)), list("abcd"), list("abcd"), (-1.5, 1.5))
    settle()
    yield h, h.colorbar.getAxis("right")
    QApplication.setFont(app_font)


def test_a_colour_bar_flipping_between_scales_reuses_their_layouts(colorbar_axis, monkeypatch):
    h, axis = colorbar_axis
    calls = counting_specs(axis, monkeypatch)
    # labels of very different widths: the axis widens and narrows with them
    flips = [(-2.0, 2.0), (-1.5, 1.5), (-0.0015, 0.0015), (-250.0, 250.0)] * 2
    for levels in flips:  # each scale laid out at each width it takes
        h.colorbar.setLevels(levels)
        settle()
    assert calls[0] >= 3
    widths = set()
    for levels in flips:
        before = calls[0]
        h.colorbar.setLevels(levels)
        settle()
        assert tuple(axis.range) == levels
        assert calls[0] == before, levels  # painted from a kept layout
        assert_shows_its_layout(axis)  # (which lays the axis out afresh, to compare)
        widths.add(axis.textWidth)
    assert len(widths) > 1
    np.testing.assert_array_equal(on_screen(h), from_scratch(h))


def test_a_colour_bar_widens_for_labels_wider_than_it_and_narrows_back(colorbar_axis, qtbot):
    h, axis = colorbar_axis
    assert axis.width() == 45  # pyqtgraph's width for a colour bar's axis
    h.set_matrix(np.zeros((4, 4)), list("abcd"), list("abcd"), (-150000.0, 150000.0))
    # every label, the widest at both ends included, rather than the two that fit 45 px
    qtbot.waitUntil(lambda: {"−150000", "150000"} <= set(colour_bar_labels(h)))
    assert axis.width() > 45 and axis.width() == round(axis.width())  # whole pixels: see ColorBarAxisItem
    settle()
    np.testing.assert_array_equal(on_screen(h), from_scratch(h))
    h.set_matrix(np.zeros((4, 4)), list("abcd"), list("abcd"), (-1.5, 1.5))
    qtbot.waitUntil(lambda: axis.width() == 45)  # and back, so the plot beside it is where it was
    assert {"−1.5", "1.5"} <= set(colour_bar_labels(h))
    settle()
    np.testing.assert_array_equal(on_screen(h), from_scratch(h))


def test_a_colour_bar_labels_negative_numbers_with_a_real_minus(colorbar_axis, monkeypatch):
    """As the cells, tables and calculation print them ("−0.5", not "-0.5"), from its kept layouts too.

    The token axes beside it show their texts as typed, hyphens and all.
    """
    h, axis = colorbar_axis
    calls = counting_specs(axis, monkeypatch)
    scales = [(-1.5, 1.5), (-150000.0, 150000.0), (-0.0015, 0.0015), (-4e-05, 4e-05), (-250.0, 0.0)]
    for rounds in range(3):  # two to lay each scale out at each width it takes, then one from the kept layouts
        for levels in scales:
            before = calls[0]
            h.colorbar.setLevels(levels)
            settle()
            laid_out = calls[0] - before
            labels = colour_bar_labels(h)  # (laid out afresh, as pyqtgraph lays it out)
            negative = [text for text in labels if parse_shown(text) < 0]
            assert negative and all(text.startswith(MINUS) for text in negative), (levels, labels)
            assert not any(text.startswith("-") for text in labels), (levels, labels)
            if rounds == 2:
                assert laid_out == 0, levels
                assert_shows_its_layout(axis)
    np.testing.assert_array_equal(on_screen(h), from_scratch(h))
    words = ["-1", "a-b", "c", "d"]
    h.set_matrix(np.zeros((4, 4)), words, words, (-1.5, 1.5))
    settle()
    for name in ("left", "top"):
        assert [text for *_, text in text_specs(h.plot.getAxis(name))] == words, name


def test_cached_ticks_land_on_the_rows_the_axis_paints_directly(colorbar_axis):
    """pyqtgraph puts ticks on pixel boundaries with floating-point noise (99 as 98.99999999999999): from the
    cached pixmap's offset such a tick filled the row above the one painted directly, every 30 px of height."""
    h, _axis = colorbar_axis
    differing = []
    for height in range(300, 480, 3):
        h.resize(330, height)
        settle()
        if (on_screen(h) != from_scratch(h)).any():
            differing.append(height)
    assert differing == []


def test_a_kept_layout_is_not_reused_for_other_units(colorbar_axis):
    """With units, pyqtgraph scales the ticks by an SI prefix (mV): the same range, other labels."""
    h, axis = colorbar_axis
    h.colorbar.setLevels((-0.0015, 0.0015))
    for units in ("", "V", "", "V"):
        axis.setLabel(units=units)
        settle()
        assert axis.autoSIPrefixScale == (1000.0 if units else 1.0)
        assert_shows_its_layout(axis)


def pyqtgraph_bounds(axis: CachedAxisItem):
    """pyqtgraph's own bounds of the axis, and the pixel the cached pixels keep for the axis line's end."""
    return pg.AxisItem.boundingRect(axis).adjusted(-1, -1, 1, 1)


BOUNDS_CHANGES = {
    "as built": lambda h, a: None,
    "inward ticks": lambda h, a: a.setStyle(tickLength=-7),
    "longer ticks": lambda h, a: a.setStyle(tickLength=12),
    "overlapping labels hidden": lambda h, a: a.setStyle(hideOverlappingLabels=True),
    "labels may overhang 4 px": lambda h, a: a.setStyle(hideOverlappingLabels=4),
    "grid": lambda h, a: a.setGrid(128),
    "grid, then a new size": lambda h, a: (a.setGrid(128), h.resize(420, 300)),
    "a new size": lambda h, a: h.resize(260, 500),
    "a new style for the scene": lambda h, a: h.scene().setStyle(SCENE_STYLE),  # Qt drops frame margins then
    "grid, then unlinked": lambda h, a: (a.setGrid(128), a.unlinkFromView()),
    "grid, linked again, a new size": lambda h, a: (a.setGrid(128), a.unlinkFromView(), a.linkToView(h.plot.vb),
                                                    h.resize(400, 300)),
    "a refused style": lambda h, a: refused_style(a),
}
SCENE_STYLE = QStyleFactory.create("fusion")


def refused_style(axis: CachedAxisItem) -> None:
    with pytest.raises(TypeError):
        axis.setStyle(tickLength=-9, stopAxisAtTick=(1, 2))  # the length is taken before the stops are refused


@pytest.mark.parametrize("change", BOUNDS_CHANGES.values(), ids=BOUNDS_CHANGES.keys())
def test_an_axis_s_bounds_are_pyqtgraph_s_without_asking_python(heatmap, change):
    # Qt's QGraphicsWidget.boundingRect answers, grown by window frame margins the axis keeps up to date
    assert CachedAxisItem.boundingRect is pg.QtWidgets.QGraphicsWidget.boundingRect
    axes = [heatmap.plot.getAxis("left"), heatmap.plot.getAxis("top"), heatmap.colorbar.axis]
    for axis in axes:
        change(heatmap, axis)
    settle()
    for axis in axes:
        assert axis.boundingRect() == pyqtgraph_bounds(axis), axis.orientation


def test_an_axis_linked_when_built_follows_its_view_s_size(qtbot):
    view = pg.GraphicsLayoutWidget()
    qtbot.addWidget(view)
    box = view.addViewBox()
    axis = CachedAxisItem("left", linkView=box)
    view.addItem(axis, row=0, col=0)
    axis.setGrid(128)
    view.resize(300, 200)
    view.show()
    settle()
    view.resize(500, 420)
    settle()
    assert axis.boundingRect() == pyqtgraph_bounds(axis)


def test_only_linear_numeric_axes_are_kept_by_layout(heatmap):
    axis = heatmap.plot.getAxis("left")
    assert axis._layout_key() is None  # token labels
    axis.setTicks(None)  # numeric now
    assert axis._layout_key() is not None
    axis.setLogMode(True)  # (its layout reads more than the key holds)
    assert axis._layout_key() is None
    axis.setLogMode(False)
    axis.setGrid(128)
    assert axis._layout_key() is None


STEPS = st.one_of(
    st.tuples(st.just("levels"), st.sampled_from([(-1.5, 1.5), (-2.0, 2.0), (0.0, 1.0), (-250.0, 250.0),
                                                 (-0.001, 0.001), (-2e4, 2e4)])),
    st.tuples(st.just("size"), st.sampled_from([(330, 420), (300, 260), (420, 520)])),
    st.tuples(st.just("pen"), st.sampled_from(["#444", "#c00"])),
    st.tuples(st.just("text pen"), st.sampled_from(["#222", "#06c"])),
    st.tuples(st.just("font"), st.sampled_from([None, 7, 9])),
    st.tuples(st.just("app font"), st.sampled_from([8, 11])),
    st.tuples(st.just("tick pen"), st.sampled_from(["#444", "#0a0"])),
    st.tuples(st.just("width"), st.sampled_from([None, 22])),
    st.tuples(st.just("zoom"), st.sampled_from([1.0, 1.6])),
    st.tuples(st.just("units"), st.sampled_from(["", "V"])),  # "V": ticks in mV or kV, as the range asks
    st.tuples(st.just("tick length"), st.sampled_from([5, -5, 9])),
    st.tuples(st.just("text offset"), st.sampled_from([2, 6])),
    st.tuples(st.just("scale"), st.sampled_from([1.0, 0.01])),
    st.tuples(st.just("density"), st.sampled_from([1.0, 2.5])),
    st.tuples(st.just("spacing"), st.sampled_from([None, (100.0, 50.0)])),
)


def apply_step(h, axis: CachedAxisItem, step: tuple) -> None:
    kind, value = step
    if kind == "levels":
        h.colorbar.setLevels(value)
    elif kind == "size":
        h.resize(*value)
    elif kind == "pen":
        axis.setPen(value)
    elif kind == "text pen":
        axis.setTextPen(value)
    elif kind == "font":
        font = None if value is None else QFont()
        if font is not None:
            font.setPointSize(value)
        axis.setStyle(tickFont=font)  # None: the application's font
    elif kind == "app font":
        font = QFont(QApplication.font())
        font.setPointSize(value)
        QApplication.setFont(font)
        axis.picture = None  # pyqtgraph lays out again only for its own reasons; give it one
        axis.update()
    elif kind == "zoom":  # the view's own transform (a resize sets it back)
        h.setTransform(QTransform.fromScale(value, value))
        axis.picture = None
        axis.update()
    elif kind == "tick pen":
        axis.setTickPen(value)
    elif kind == "units":
        axis.setLabel(units=value)
    elif kind == "width":
        axis.setWidth(value)
    elif kind == "tick length":
        axis.setStyle(tickLength=value)
    elif kind == "text offset":
        axis.setStyle(tickTextOffset=value)
    elif kind == "scale":
        axis.setScale(value)
    elif kind == "density":
        axis.setTickDensity(value)
    else:
        axis.setTickSpacing(*(value or (None, None)))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(STEPS, min_size=1, max_size=12))
def test_a_kept_layout_is_the_layout_pyqtgraph_would_make(colorbar_axis, steps):
    """Random changes, many of them back to a state seen before: each shows what a fresh layout draws.

    The heatmap is shared by the examples, so each starts where the last left off.
    """
    h, axis = colorbar_axis
    for step in steps:
        apply_step(h, axis, step)
        settle()
        assert_shows_its_layout(axis)

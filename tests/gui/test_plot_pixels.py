"""The plots checked by their pixels: cell numbers, and the plot parts kept as cached pixmaps.

"On screen" is the window's backing store as the offscreen platform holds it:
what the last repaints left there, not a fresh paint. Every check that a
change shows compares it with the same widget painted from scratch (no
cached pixmaps), so a stale cache or a missing update() fails.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import QPoint, QRect, QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPicture, QPixmap
from PySide6.QtWidgets import QApplication, QGraphicsItem

from attnviz.engine.examples import load_example
from attnviz.gui.cell_numbers import CellNumbers
from attnviz.gui.export import export_plot
from attnviz.gui.heatmap import MASKED_LABEL, Heatmap
from attnviz.gui.kept_view import painted_directly
from attnviz.gui.numbers import parse_shown, signed
from attnviz.gui.palette import DIVERGING, SEQUENTIAL, color_table, dark_text_on, nice_levels, table_rows
from attnviz.gui.pixel_cache import painted_afresh

CACHED = QGraphicsItem.CacheMode.DeviceCoordinateCache
INK = 150  # a pixel this far (sum over R, G, B) from its cell's background is text


# ---- pixels -------------------------------------------------------------------
def rgb(pixmap: QPixmap) -> np.ndarray:
    image = pixmap.toImage().convertToFormat(QImage.Format.Format_RGB32)
    rows = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.bytesPerLine() // 4, 4)
    return rows[:, : image.width(), 2::-1].copy()  # B, G, R, A in memory


def settle() -> None:
    for _ in range(3):
        QApplication.processEvents()


def on_screen(widget) -> np.ndarray:
    """What the screen shows of ``widget`` now (no repaint of its own)."""
    settle()
    window = widget.window()
    corner = widget.mapTo(window, QPoint(0, 0))
    return rgb(window.screen().grabWindow(window.winId(), corner.x(), corner.y(), widget.width(), widget.height()))


def from_scratch(view) -> np.ndarray:
    """``view`` painted now with every item painting itself, and the view walking its scene."""
    with painted_afresh(view.scene()), painted_directly(view):
        return rgb(view.grab())


def pixel_rect(view, scene_rect: QRectF) -> QRect:
    return view.mapFromScene(scene_rect).boundingRect().translated(view.viewport().pos())


def cut(pixels: np.ndarray, r: QRect) -> np.ndarray:
    return pixels[max(r.top(), 0) : r.bottom() + 1, max(r.left(), 0) : r.right() + 1]


def cell_rect(heatmap: Heatmap, i: int, j: int) -> QRect:
    scene = heatmap.plot.vb.mapViewToScene(QRectF(j - 0.5, i - 0.5, 1, 1)).boundingRect()
    return pixel_rect(heatmap, scene)


def luminance(color) -> float:
    r, g, b = (float(c) / 255 for c in color[:3])
    return 0.299 * r + 0.587 * g + 0.114 * b


def ink_in_cell(pixels: np.ndarray, r: QRect) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(background colour, ink mask, offset) of cell ``r``, its 3-pixel border left out."""
    inner = r.adjusted(3, 3, -3, -3)
    cell = cut(pixels, inner).astype(int)
    background = np.median(cell.reshape(-1, 3), axis=0)
    return background, np.abs(cell - background).sum(axis=2) > INK, np.array([inner.left(), inner.top()])


def check_cells(heatmap: Heatmap, values: np.ndarray, masked: np.ndarray | None = None) -> list[int]:
    """Each cell's number reads on its colour, sits in its centre, and the colour is the value's.

    Returns the height in pixels of each cell's text.
    """
    pixels = on_screen(heatmap)
    np.testing.assert_array_equal(pixels, from_scratch(heatmap))
    lo, hi = heatmap.colorbar.levels()
    colors = heatmap.cell_numbers.colors()
    heights = []
    for k, (i, j) in enumerate(np.ndindex(values.shape)):
        r = cell_rect(heatmap, i, j)
        background, ink, offset = ink_in_cell(pixels, r)
        ys, xs = np.nonzero(ink)
        assert len(xs) > 10, f"no text in cell {(i, j)}"
        centre = np.array([(xs.min() + xs.max()) / 2, (ys.min() + ys.max()) / 2]) + offset
        assert np.abs(centre - [r.center().x(), r.center().y()]).max() <= 2.0, (i, j)
        heights.append(int(ys.max() - ys.min() + 1))
        if masked is not None and masked[i, j]:
            assert colors[k] == QColor("#555")
            continue
        # the colour map, not the code under test, says what colour the cell is
        t = min(max((values[i, j] - lo) / (hi - lo), 0.0), 1.0)
        expected = DIVERGING.map(t, mode="qcolor")
        assert np.abs(background - [expected.red(), expected.green(), expected.blue()]).max() <= 6, (i, j)
        text = QColor("black") if luminance(background) > 0.55 else QColor("white")
        assert colors[k] == text, (i, j)
        ink_luminance = np.mean([luminance(c) for c in cut(pixels, r.adjusted(3, 3, -3, -3))[ink]])
        assert (ink_luminance < luminance(background)) == (text == QColor("black")), (i, j)
    return heights


# ---- one heatmap ----------------------------------------------------------------
VALUES = np.array([[1.5, -0.25, 0.0], [-1.5, 0.75, 0.125]])


def shown_heatmap(qtbot, width: int, height: int) -> Heatmap:
    """An empty diverging Heatmap of this size, on screen."""
    h = Heatmap(DIVERGING)
    qtbot.addWidget(h)
    h.resize(width, height)
    h.show()
    qtbot.waitExposed(h)
    return h


@pytest.fixture
def heatmap(qtbot):
    return shown_heatmap(qtbot, 480, 400)


def show(h: Heatmap, a: np.ndarray, masked: np.ndarray | None = None, levels=(-1.5, 1.5)) -> None:
    h.set_matrix(a, [f"row {i}" for i in range(a.shape[0])], [f"col {j}" for j in range(a.shape[1])], levels, masked)
    settle()


def test_cell_numbers_are_the_values_row_by_row_centred_and_readable(heatmap):
    show(heatmap, VALUES)
    assert heatmap.numbers() == ["1.50", "−0.25", "0.00", "−1.50", "0.75", "0.12"]
    check_cells(heatmap, VALUES)
    np.testing.assert_array_equal(heatmap.image_data(), VALUES.astype(np.float32))


def test_new_values_replace_the_numbers_on_screen(heatmap):
    show(heatmap, VALUES)
    before = on_screen(heatmap)
    show(heatmap, -VALUES[:, ::-1])
    assert heatmap.numbers() == ["0.00", "0.25", "−1.50", "−0.12", "−0.75", "1.50"]
    assert (before != on_screen(heatmap)).any()
    check_cells(heatmap, -VALUES[:, ::-1])


def test_new_texts_alone_repaint_the_cells(heatmap):
    show(heatmap, VALUES)
    before = on_screen(heatmap)
    heatmap.cell_numbers.set_cells(["8"] * 6, [QColor("black")] * 6, (2, 3))  # the image stays as it was
    after = on_screen(heatmap)
    assert (before != after).any()
    np.testing.assert_array_equal(after, from_scratch(heatmap))


def test_the_text_keeps_its_size_when_the_cells_grow(heatmap, qtbot):
    show(heatmap, VALUES)
    small, small_cell = check_cells(heatmap, VALUES), cell_rect(heatmap, 0, 0)
    heatmap.resize(900, 700)
    qtbot.waitUntil(lambda: heatmap.plot.vb.width() > 700)
    settle()
    assert cell_rect(heatmap, 0, 0).height() > 1.5 * small_cell.height()
    large = check_cells(heatmap, VALUES)
    assert max(large) <= 20 and abs(max(large) - max(small)) <= 1


def test_masked_cells_print_a_grey_cross(heatmap):
    masked = np.array([[False, True, False], [False, False, True]])
    show(heatmap, VALUES, masked)
    assert heatmap.numbers() == ["1.50", MASKED_LABEL, "0.00", "−1.50", "0.75", MASKED_LABEL]
    assert np.isnan(heatmap.image_data()[masked]).all()
    check_cells(heatmap, VALUES, masked)


def test_a_cell_without_a_value_prints_dark_text_on_the_white_showing_through(heatmap):
    values = VALUES.copy()
    values[0, 2] = np.nan  # not masked: no colour at all
    show(heatmap, values)
    background, ink, _offset = ink_in_cell(on_screen(heatmap), cell_rect(heatmap, 0, 2))
    assert luminance(background) > 0.95 and ink.sum() > 10
    assert heatmap.cell_numbers.colors()[2] == QColor("black")
    assert heatmap.cell_numbers.colors()[0] == QColor("white")  # 1.5 on the darkest red


def test_numbers_leave_the_screen_when_the_cells_get_too_small(heatmap, qtbot):
    show(heatmap, VALUES)
    heatmap.resize(230, 220)
    qtbot.waitUntil(lambda: heatmap.numbers() == [])
    pixels = on_screen(heatmap)
    np.testing.assert_array_equal(pixels, from_scratch(heatmap))
    for i, j in np.ndindex(VALUES.shape):
        _background, ink, _offset = ink_in_cell(pixels, cell_rect(heatmap, i, j))
        assert min(ink.shape) >= 10  # room for a stale digit to show
        assert not ink.any(), f"a stale number in cell {(i, j)}"


def test_more_than_sixteen_rows_print_no_numbers(heatmap, qtbot):
    heatmap.resize(1200, 1200)
    qtbot.waitUntil(lambda: heatmap.plot.vb.width() > 1000)
    show(heatmap, np.zeros((17, 2)))
    assert heatmap.numbers() == []


def test_cell_numbers_refuse_a_count_that_does_not_fill_the_grid():
    with pytest.raises(ValueError):
        CellNumbers(QApplication.font()).set_cells(["1"], [QColor("black")], (2, 2))


# ---- the colour lookup ------------------------------------------------------------
@pytest.mark.parametrize("colormap", [DIVERGING, SEQUENTIAL])
def test_table_rows_pick_the_colour_an_image_item_paints(qapp, colormap):
    lo, hi = -2.0, 3.0
    values = np.linspace(lo - 1, hi + 1, 501).astype(np.float32)
    image = pg.ImageItem(values[None, :], axisOrder="row-major", levels=(lo, hi))
    image.setColorMap(colormap)
    image.render()
    painted = rgb(QPixmap.fromImage(image.qimage))[0]
    np.testing.assert_array_equal(color_table(colormap)[table_rows(values, lo, hi)], painted)
    assert (table_rows(np.array([np.nan]), lo, hi) == -1).all()


def test_dark_text_on_agrees_with_text_color_on():
    from attnviz.gui.palette import text_color_on

    rng = np.random.default_rng(1)
    colors = rng.integers(0, 256, (500, 3))
    expected = [text_color_on(QColor(*c)) == QColor("black") for c in colors.tolist()]
    np.testing.assert_array_equal(dark_text_on(colors), expected)


# ---- the window ---------------------------------------------------------------------
def reference_output(doc, tokens: tuple[str, ...]) -> np.ndarray:
    """One head, no W_o, no residual, sinusoidal PE: softmax(q·kᵀ/√d_k)·v, from the formula."""
    rows = [doc.vocab.index(t.lower()) for t in tokens]
    x = doc.embeddings[rows].copy()
    n, d = x.shape
    for p in range(n):
        for i in range(d):
            x[p, i] += math.sin(p / 10000 ** (i / d)) if i % 2 == 0 else math.cos(p / 10000 ** ((i - 1) / d))
    q, k, v = x @ doc.W_q[0], x @ doc.W_k[0], x @ doc.W_v[0]
    logits = q @ k.T / math.sqrt(q.shape[1])
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return (e / e.sum(axis=1, keepdims=True)) @ v


def load(window, qtbot, name: str) -> None:
    window.model.load(load_example(name))
    qtbot.waitUntil(lambda: window.output.image_data().shape[0] == window.model.result.n_tokens)
    settle()


def test_output_numbers_and_image_match_an_independent_forward_pass(window, qtbot):
    load(window, qtbot, "pizza")
    doc = window.model.document()
    assert doc.W_o is None and not doc.config.residual and doc.W_q.shape[0] == 1
    expected = reference_output(doc, window.model.result.tokens)
    np.testing.assert_allclose(window.output.image_data(), expected, rtol=1e-5, atol=1e-6)
    shown = np.array([parse_shown(t) for t in window.output.numbers()]).reshape(expected.shape)
    np.testing.assert_allclose(shown, expected, atol=0.005 + 1e-9)
    check_cells(window.output, expected)


def test_an_edit_shows_new_numbers_and_colour_bar_levels(window, qtbot):
    load(window, qtbot, "pizza")
    output, scores = window.output, window.scores
    colorbar_axis = pixel_rect(scores, scores.colorbar.axis.sceneBoundingRect())
    numbers = pixel_rect(output, output.plot.vb.sceneBoundingRect())
    before_scores, before_output = on_screen(scores), on_screen(output)
    levels = scores.colorbar.levels()
    table = window.tables["W_q"].model()
    assert table.setData(table.index(0, 0), "3", Qt.ItemDataRole.EditRole)
    qtbot.waitUntil(lambda: scores.colorbar.levels() != levels)
    settle()
    after_scores, after_output = on_screen(scores), on_screen(output)
    assert (cut(before_scores, colorbar_axis) != cut(after_scores, colorbar_axis)).any()
    assert (cut(before_output, numbers) != cut(after_output, numbers)).any()
    np.testing.assert_array_equal(after_scores, from_scratch(scores))
    np.testing.assert_array_equal(after_output, from_scratch(output))
    expected = reference_output(window.model.document(), window.model.result.tokens)
    shown = np.array([parse_shown(t) for t in output.numbers()]).reshape(expected.shape)
    np.testing.assert_allclose(shown, expected, atol=0.005 + 1e-9)


def colour_bar_labels(heatmap: Heatmap) -> list[str]:
    """The labels the colour bar's axis draws at its size now, laid out as pyqtgraph lays them out."""
    picture = QPicture()
    painter = QPainter(picture)
    try:
        specs = heatmap.colorbar.axis.generateDrawSpecs(painter)
    finally:
        painter.end()
    return [text for _rect, _flags, text in specs[2]]


@pytest.mark.parametrize("typed", ["1e5", "1e300"])
def test_a_large_scale_is_labelled_in_full_at_both_ends(window, qtbot, typed):
    scores = window.scores
    table = window.tables["W_q"].model()
    assert table.setData(table.index(0, 0), typed, Qt.ItemDataRole.EditRole)
    values = window.model.result.scores[0]
    lo, hi = nice_levels(values)  # ±150000, ±1.5e+300
    qtbot.waitUntil(lambda: scores.colorbar.levels() == (lo, hi))  # the scale itself, not one float32 can hold
    ends = [signed(f"{lo:g}"), f"{hi:g}"]  # as pyqtgraph writes them, with the app's minus sign
    # the axis widens for labels wider than it (a layout or two later), rather than leaving them out
    qtbot.waitUntil(lambda: set(ends) <= set(colour_bar_labels(scores)))
    labels = colour_bar_labels(scores)
    assert "0" in labels and len(labels) >= 5, labels
    settle()
    np.testing.assert_array_equal(on_screen(scores), from_scratch(scores))
    check_cells(scores, values)  # each cell coloured by its value on that scale


def test_axis_labels_follow_a_sentence_change(window, qtbot):
    scores = window.scores
    top = pixel_rect(scores, scores.plot.getAxis("top").sceneBoundingRect())
    left = pixel_rect(scores, scores.plot.getAxis("left").sceneBoundingRect())
    before = on_screen(scores)
    window.sentence_edit.setText("")
    qtbot.keyClicks(window.sentence_edit, "go Let's")
    qtbot.waitUntil(lambda: window.model.result.tokens == ("go", "Let's"))
    after = on_screen(scores)
    assert (cut(before, top) != cut(after, top)).any()
    assert (cut(before, left) != cut(after, left)).any()
    np.testing.assert_array_equal(after, from_scratch(scores))


def test_the_highlight_follows_a_token_click(window, qtbot):
    panels = (window.scores, window.weights, window.output)
    before = [on_screen(p) for p in panels]
    window.scores.rowClicked.emit(1)
    assert window.view.token == 1
    for panel, old in zip(panels, before, strict=True):
        assert panel.highlight.rect().center().y() == 1
        box = pixel_rect(panel, panel.plot.vb.sceneBoundingRect())
        new = on_screen(panel)
        assert (cut(old, box) != cut(new, box)).any(), panel.objectName()
        np.testing.assert_array_equal(new, from_scratch(panel))


def test_the_bar_chart_follows_the_selected_token(window, qtbot):
    selected = window.selected
    title = pixel_rect(selected, selected.getPlotItem().titleLabel.sceneBoundingRect())
    before = on_screen(selected)
    window.view.set_token(1)
    qtbot.waitUntil(lambda: np.allclose(selected.heights(), window.model.result.weights[0, 1]))
    after = on_screen(selected)
    assert (cut(before, title) != cut(after, title)).any()
    np.testing.assert_array_equal(after, from_scratch(selected))
    weights = window.model.result.weights[0, 1]
    assert [parse_shown(t) for t in selected.numbers_shown()] == pytest.approx(weights, abs=0.005 + 1e-9)


def test_cached_parts_look_painted_afresh_after_the_layout_moves_them(window, qtbot):
    # half-pixel moves of the centred title and of the axes: a cached pixmap
    # that were only shifted by whole pixels would be off by one
    start = window.width()
    for dx in (1, 2, 3, 5):
        window.resize(start + dx, window.height())
        qtbot.waitUntil(lambda dx=dx: window.width() == start + dx)
        for panel in (window.selected, window.scores):
            np.testing.assert_array_equal(on_screen(panel), from_scratch(panel), err_msg=f"{panel.objectName()} +{dx}")


def test_the_positional_encoding_title_follows_the_option(window, qtbot):
    window.show_panel("pe")
    pe = window.findChild(object, "plot:pe")
    qtbot.waitUntil(pe.on_screen)
    pe.ensure_fresh()
    graphics = pe.graphics
    title = pixel_rect(graphics, pe.plot.titleLabel.sceneBoundingRect())
    before = on_screen(graphics)
    window.options.pe.click()
    qtbot.waitUntil(pe.is_off)
    after = on_screen(graphics)
    assert (cut(before, title) != cut(after, title)).any()
    np.testing.assert_array_equal(after, from_scratch(graphics))


def test_static_plot_parts_are_cached_and_changing_ones_are_not(window):
    for panel in (window.scores, window.weights, window.output):
        for name in ("left", "top"):
            assert panel.plot.getAxis(name).cacheMode() == CACHED
        assert panel.colorbar.axis.cacheMode() == CACHED and panel.colorbar.bar.cacheMode() == CACHED
        for item in (panel.image, panel.mask, panel.cell_numbers, panel.highlight):
            assert item.cacheMode() != CACHED
    plot = window.selected.getPlotItem()
    assert plot.getAxis("left").cacheMode() == CACHED and plot.getAxis("left").label.cacheMode() == CACHED
    assert plot.titleLabel.item.cacheMode() == CACHED
    assert window.selected.bars.cacheMode() != CACHED
    assert window.selected.numbers.cacheMode() != CACHED


def test_heatmap_pictures_are_kept_in_the_format_qt_scales_fast_and_their_views_repaint_whole(window):
    # ARGB32 premultiplied is scaled by a fast path that rounds cell edges by the clip; a view
    # repainting whole keeps partial repaints from shifting them (the typing test in
    # test_axis_labels.py shows the seams without it)
    from PySide6.QtWidgets import QGraphicsView

    for panel in (window.scores, window.weights, window.output):
        assert panel.image.qimage.format() == QImage.Format.Format_ARGB32_Premultiplied
        assert panel.viewportUpdateMode() == QGraphicsView.ViewportUpdateMode.FullViewportUpdate


def test_svg_export_draws_axes_as_vectors_and_keeps_the_cache(window, tmp_path):
    export_plot(window.scores, tmp_path / "scores.svg")
    svg = (tmp_path / "scores.svg").read_text(encoding="utf-8")
    assert len(re.findall(r"<image\b", svg)) == 2  # the heatmap and the colour bar's gradient, nothing else
    texts = re.findall(r"<text\b[^>]*>([^<]*)</text>", svg)
    assert "go" in [t.strip() for t in texts] and "1.49" in [t.strip() for t in texts]
    assert window.scores.plot.getAxis("top").cacheMode() == CACHED

"""A kept plot view pastes the pixels of its last paint: they must always be what painting the scene gives."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PySide6.QtCore import QPoint, QPointF, QRect, QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPixmap, QTransform
from PySide6.QtWidgets import QApplication, QGraphicsItem, QGraphicsView

from attnviz.gui.kept_view import KeptView, painted_directly
from attnviz.gui.pixel_cache import painted_afresh
from tests.gui.test_plot_pixels import rgb, settle, shown_heatmap

WORDS = ["the", "cat", "sat", "on", "a", "mat", "elephant", "."]


def settle_view(view) -> None:
    """Process events until the view holds a picture of its last paint, twice running (layouts settle in steps)."""
    if not view.viewport().devicePixelRatio().is_integer():  # nothing is kept there
        settle()
        return
    view.viewport().update()  # the window repaints it, as after an expose
    held = 0
    for _ in range(40):
        QApplication.processEvents()
        held = held + 1 if view.holds_picture() else 0
        if held == 2:
            return
    raise AssertionError("the view never kept a picture")


def shown(view) -> np.ndarray:
    """``view`` as a repaint of it shows it now (the kept picture, if it has one)."""
    return rgb(view.viewport().grab())


def direct(view) -> np.ndarray:
    """``view`` painted now by Qt's own QGraphicsView, every item painting itself."""
    with painted_afresh(view.scene()), painted_directly(view):
        return rgb(view.viewport().grab())


def qt_paint(view) -> np.ndarray:
    """``view`` painted now by Qt's own QGraphicsView, cached items pasting their pixmaps."""
    with painted_directly(view):
        return rgb(view.viewport().grab())


def show_matrix(heatmap, rows: int, cols: int, seed: int = 0, causal: bool = False) -> None:
    a = np.random.default_rng(seed).normal(size=(rows, cols))
    masked = np.triu(np.ones((rows, cols), bool), 1) if causal else None
    heatmap.set_matrix(a, WORDS[:rows], WORDS[:cols], (-2.0, 2.0), masked)


@pytest.fixture
def heatmap(qtbot):
    h = shown_heatmap(qtbot, 420, 360)
    show_matrix(h, 4, 4)
    settle_view(h)
    return h


def test_the_window_s_paint_is_kept_and_a_repaint_pastes_it(heatmap):
    show_matrix(heatmap, 4, 4, seed=1)
    settle_view(heatmap)  # the window paints the change, and keeps it
    kept = heatmap.pictures_kept
    assert kept > 0
    for _ in range(3):
        heatmap.viewport().repaint()
    picture = shown(heatmap)
    assert heatmap.pictures_kept == kept  # the repaints and the grab pasted it
    np.testing.assert_array_equal(picture, qt_paint(heatmap))


def test_a_grab_keeps_nothing(heatmap):
    show_matrix(heatmap, 4, 4, seed=1)
    kept = heatmap.pictures_kept
    shown(heatmap)
    assert heatmap.pictures_kept == kept


@pytest.mark.parametrize("change", [
    lambda h: show_matrix(h, 4, 4, seed=1),
    lambda h: h.set_highlighted_row(2),
    lambda h: h.set_marked_cell(1, 3),
], ids=["matrix", "highlighted row", "marked cell"])
def test_a_grab_straight_after_a_change_shows_the_change(heatmap, change):
    before = shown(heatmap)
    change(heatmap)  # no event processed before the grab
    after = shown(heatmap)
    assert (after != before).any()
    np.testing.assert_array_equal(after, direct(heatmap))


def test_a_paint_of_part_of_the_view_is_not_kept(heatmap):
    show_matrix(heatmap, 4, 4, seed=1)
    heatmap.viewport().repaint(QRect(0, 0, 60, 60))  # the window repaints a corner only (an expose, say)
    np.testing.assert_array_equal(shown(heatmap), direct(heatmap))


def test_a_grab_after_the_layout_pass_shows_the_new_layout(heatmap):
    # the layout moves the plot's parts one turn of the event loop before the scene reports it
    a = np.random.default_rng(0).normal(size=(4, 4))
    heatmap.set_matrix(a, ["elephantine", "hippopotamus", "rhinoceros", "crocodile"], WORDS[:4], (-2.0, 2.0))
    QApplication.processEvents()  # the window paints the edit (and keeps it)
    QApplication.processEvents()  # the layout makes room for the longer labels
    np.testing.assert_array_equal(shown(heatmap), qt_paint(heatmap))


def test_a_part_added_after_the_first_picture_is_watched_too(heatmap):
    import pyqtgraph as pg

    label = pg.LabelItem("added later", color="#000")  # a layout item (QGraphicsWidget), as a plot's title is
    label.setParentItem(heatmap.plot)
    label.setGeometry(QRectF(10, 10, 120, 24))
    settle_view(heatmap)  # painted with the label, and kept
    label.setGeometry(QRectF(150, 200, 120, 24))  # moved at once, as a layout moves its items
    np.testing.assert_array_equal(shown(heatmap), direct(heatmap))


def test_new_render_hints_paint_again(heatmap):
    heatmap.set_highlighted_row(1)  # a thick outline, whose edges antialiasing changes
    settle_view(heatmap)
    before = shown(heatmap)
    heatmap.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    after = shown(heatmap)
    assert (after != before).any()
    np.testing.assert_array_equal(after, qt_paint(heatmap))


def test_a_render_at_another_scale_paints_afresh(heatmap):
    def rendered_at_twice_the_scale() -> np.ndarray:
        image = QImage(heatmap.viewport().size() * 2, QImage.Format.Format_ARGB32_Premultiplied)
        image.setDevicePixelRatio(2)
        heatmap.viewport().render(image)
        return rgb(QPixmap.fromImage(image))

    assert heatmap.holds_picture()
    kept = rendered_at_twice_the_scale()
    with painted_directly(heatmap):
        np.testing.assert_array_equal(kept, rendered_at_twice_the_scale())


def test_a_scaled_render_paints_afresh(heatmap):
    def rendered_through_a_zoom() -> np.ndarray:
        image = QImage(heatmap.viewport().size() * 2, QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(0)
        painter = QPainter(image)
        painter.scale(2, 2)
        heatmap.viewport().render(painter, QPoint())
        painter.end()
        return rgb(QPixmap.fromImage(image))

    assert heatmap.holds_picture()
    kept = rendered_through_a_zoom()
    with painted_directly(heatmap):
        np.testing.assert_array_equal(kept, rendered_through_a_zoom())


def test_an_svg_of_the_window_gets_the_plots_as_vectors(qtbot, tmp_path):
    from attnviz.engine.examples import load_example
    from attnviz.gui.export import export_plot
    from attnviz.gui.main_window import MainWindow

    window = MainWindow(load_example("lets-go"))
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    settle_view(window.scores)
    assert "1.49" in window.scores.numbers()
    export_plot(window, tmp_path / "window.svg")
    assert ">1.49<" in (tmp_path / "window.svg").read_text()  # the cell's number as text, not in a bitmap


def test_an_item_changed_behind_the_view_s_back_paints_again(heatmap):
    # not through Heatmap's setters: only the scene's `changed` can tell
    before = shown(heatmap)
    heatmap.highlight.setRect(QRectF(-0.5, 0.5, 4, 1))
    heatmap.highlight.setVisible(True)
    settle()
    after = shown(heatmap)
    assert (after != before).any()
    np.testing.assert_array_equal(after, direct(heatmap))


def test_a_new_view_transform_alone_paints_again(heatmap):
    # a view transform moves no item: neither the scene nor the layout tells
    before = shown(heatmap)
    heatmap.setTransform(QTransform.fromScale(1.5, 1.5))
    after = shown(heatmap)
    assert (after != before).any()
    np.testing.assert_array_equal(after, qt_paint(heatmap))


def test_a_new_background_paints_again_and_a_see_through_one_is_never_kept(heatmap):
    heatmap.setBackground("#ffe0e0")
    np.testing.assert_array_equal(shown(heatmap), direct(heatmap))
    heatmap.setBackground(None)
    settle()
    kept = heatmap.pictures_kept
    show_matrix(heatmap, 4, 4, seed=1)
    for _ in range(5):
        settle()
    np.testing.assert_array_equal(shown(heatmap), direct(heatmap))
    assert heatmap.pictures_kept == kept


def test_an_opaque_view_paints_every_pixel_itself_and_qt_does_not_fill_it_first(heatmap):
    viewport = heatmap.viewport()
    assert viewport.testAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
    palette = viewport.palette()
    palette.setColor(viewport.backgroundRole(), QColor("magenta"))  # what Qt would fill the viewport with
    viewport.setPalette(palette)
    show_matrix(heatmap, 3, 5, seed=2)
    settle_view(heatmap)
    pasted, painted = shown(heatmap), qt_paint(heatmap)  # grabs: no fill where the view paints nothing
    viewport.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, False)
    np.testing.assert_array_equal(pasted, qt_paint(heatmap))
    np.testing.assert_array_equal(painted, qt_paint(heatmap))
    assert not (pasted == (255, 0, 255)).all(axis=-1).any()


def test_the_background_is_filled_not_copied_from_a_cached_pixmap_and_looks_the_same(heatmap):
    assert heatmap.cacheMode() == QGraphicsView.CacheModeFlag.CacheNone
    filled = direct(heatmap)
    heatmap.setCacheMode(QGraphicsView.CacheModeFlag.CacheBackground)  # pyqtgraph's own choice
    np.testing.assert_array_equal(direct(heatmap), filled)


def test_a_see_through_background_has_qt_fill_the_viewport_first(heatmap):
    opaque = Qt.WidgetAttribute.WA_OpaquePaintEvent
    heatmap.setBackground(None)
    assert not heatmap.viewport().testAttribute(opaque)
    heatmap.setBackground("#ffe0e0")
    assert heatmap.viewport().testAttribute(opaque)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_after_any_sequence_of_changes_the_picture_is_a_fresh_paint(qtbot, data):
    heatmap = shown_heatmap(qtbot, 420, 360)
    for _ in range(data.draw(st.integers(1, 6), label="steps")):
        step = data.draw(st.sampled_from(["matrix", "row", "cell", "resize", "mouse", "digits"]), label="step")
        if step == "matrix":
            n = data.draw(st.integers(1, 8), label="rows")
            show_matrix(heatmap, n, data.draw(st.integers(1, 8), label="cols"), data.draw(st.integers(0, 9)),
                        data.draw(st.booleans(), label="causal"))
        elif step == "row":
            heatmap.set_highlighted_row(data.draw(st.integers(-1, 8), label="row"))
        elif step == "cell":
            heatmap.set_marked_cell(data.draw(st.integers(-1, 8), label="row"), data.draw(st.integers(-1, 8)))
        elif step == "resize":
            heatmap.resize(data.draw(st.integers(200, 500), label="w"), data.draw(st.integers(150, 400), label="h"))
        elif step == "mouse":
            x, y = data.draw(st.floats(0, 1), label="x"), data.draw(st.floats(0, 1), label="y")
            heatmap.scene().sigMouseMoved.emit(QPointF(x * heatmap.width(), y * heatmap.height()))
        else:
            heatmap.digits = data.draw(st.integers(0, 4), label="digits")
        if data.draw(st.booleans(), label="events first"):
            settle()
        # Qt's own paint is the reference, item pixmaps included: straight after
        # a resize, before the layout has run, a cached axis can be a pixel off
        # a fresh paint, which is pixel_cache's business, not this view's
        np.testing.assert_array_equal(shown(heatmap), qt_paint(heatmap), err_msg=step)
        settle_view(heatmap)  # the comparisons forgot the picture: keep one for the next step to outdate


def test_the_bar_chart_keeps_its_picture_too(qtbot):
    from attnviz.gui.main_window import MainWindow

    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    panel = window.selected
    settle_view(panel)
    kept = panel.pictures_kept
    before = shown(panel)
    window.grab()
    window.view.set_token(1 if window.view.token != 1 else 0)  # a grab straight after, no events between
    after = shown(panel)
    assert (after != before).any()
    np.testing.assert_array_equal(after, direct(panel))
    settle_view(panel)
    assert panel.pictures_kept > kept
    np.testing.assert_array_equal(shown(panel), direct(panel))


def test_no_plot_in_the_window_has_an_item_the_scene_would_not_report(qtbot):
    # Qt updates an item that ignores the view's transformation, or has a
    # bounding-region granularity, without `changed`
    from attnviz.engine.examples import load_example
    from attnviz.gui.main_window import MainWindow

    window = MainWindow(load_example("pizza"))
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    settle()
    views = window.findChildren(KeptView)
    assert len(views) >= 4
    for view in views:
        for item in view.scene().items():
            assert not item.flags() & QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations, type(item).__name__
            assert item.boundingRegionGranularity() == 0, type(item).__name__


def test_at_a_fractional_screen_scale_the_view_paints_directly(heatmap):
    if heatmap.viewport().devicePixelRatio().is_integer():
        pytest.skip("needs a fractional screen scale: run by the screen-scale test below")
    show_matrix(heatmap, 4, 4, seed=1)
    for _ in range(5):
        settle()
    assert heatmap.pictures_kept == 0


def test_at_a_fractional_screen_scale_a_zoomed_view_leaves_no_pixel_unpainted(heatmap):
    if heatmap.viewport().devicePixelRatio().is_integer():
        pytest.skip("needs a fractional screen scale: run by the screen-scale test below")
    heatmap.resize(301, 237)  # an odd size: at 1.5 its last device row is half a pixel of it
    heatmap.setRange(QRectF(3.3, 2.7, 301 / 1.37, 237 / 1.37), padding=0)  # a view transform
    heatmap.setBackground("#ffe0e0")
    settle()
    image = heatmap.grab().toImage().convertToFormat(QImage.Format.Format_ARGB32)
    pixels = np.frombuffer(image.constBits(), np.uint32).reshape(image.height(), -1)[:, :image.width()]
    assert (pixels >> 24 == 255).all()  # a grab's pixmap starts out undefined where nothing paints
    assert (pixels[-1] == pixels[-2]).all() and (pixels[:, -1] == pixels[:, -2]).all()


@pytest.mark.parametrize("scale", ["1.5", "2"])
def test_the_kept_picture_is_right_at_other_screen_scales(scale):
    # Qt takes the scale at start-up
    import os
    import subprocess
    import sys

    env = {**os.environ, "QT_SCALE_FACTOR": scale, "QT_QPA_PLATFORM": "offscreen"}
    tests = "any_sequence or fractional" + (" or repaint_pastes" if scale == "2" else "")  # (and the zoomed view)
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-k", tests, __file__],
                          env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:]

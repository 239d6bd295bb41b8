"""Plots whose bounds Qt answers in C++ paint, clip and lay out as pyqtgraph's own plot items and views do."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import QRectF
from PySide6.QtWidgets import QApplication, QGraphicsRectItem

from attnviz.gui.plot_bounds import RectPlotItem, RectViewBox, rect_plot
from tests.gui.test_plot_pixels import rgb

SIZES = [(333, 257), (420, 301), (181, 413)]


def pyqtgraph_bounds(item) -> QRectF:
    """What pyqtgraph's own Python method answers for ``item``'s bounds (its shape is a path around them)."""
    return (pg.ViewBox if isinstance(item, pg.ViewBox) else pg.GraphicsWidget).boundingRect(item)


def plot_in_window(qtbot, plot: pg.PlotItem, size) -> pg.GraphicsLayoutWidget:
    widget = pg.GraphicsLayoutWidget()
    widget.setBackground("w")
    widget.addItem(plot, row=0, col=0)
    plot.setTitle("a title")
    image = pg.ImageItem(np.arange(12, dtype=float).reshape(3, 4), axisOrder="row-major")
    image.setLevels((0, 11))
    plot.addItem(image)
    # a rectangle over the view's right and bottom edges: the view's clip decides where it ends
    over = QGraphicsRectItem(QRectF(2, 1, 9, 9))
    over.setPen(pg.mkPen("#c00", width=3))
    plot.addItem(over, ignoreBounds=True)
    plot.setRange(xRange=(0, 4), yRange=(0, 3), padding=0)
    plot.vb.setMouseEnabled(False, False)
    qtbot.addWidget(widget)
    widget.resize(*size)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


@pytest.mark.parametrize("sizes", [SIZES, SIZES[::-1]])
def test_a_rect_plot_paints_what_pyqtgraphs_plot_paints_at_every_size(qtbot, sizes):
    ours = plot_in_window(qtbot, rect_plot(enableMenu=False), sizes[0])
    theirs = plot_in_window(qtbot, pg.PlotItem(enableMenu=False), sizes[0])
    assert isinstance(ours.ci.getItem(0, 0).vb, RectViewBox)
    for size in sizes:  # a resize moves the view's edges: its clip must follow
        for widget in (ours, theirs):
            widget.resize(*size)
        qtbot.waitUntil(lambda s=size: all((w.width(), w.height()) == s for w in (ours, theirs)))
        QApplication.processEvents()
        a, b = rgb(ours.grab()), rgb(theirs.grab())
        assert (a != 255).any(axis=2).sum() > 1000  # something drawn
        np.testing.assert_array_equal(a, b)


def test_bounds_and_shapes_are_pyqtgraphs_through_resizes(qtbot):
    widget = plot_in_window(qtbot, rect_plot(enableMenu=False), SIZES[0])
    plot = widget.ci.getItem(0, 0)
    for size in SIZES:
        widget.resize(*size)
        qtbot.waitUntil(lambda s=size: (widget.width(), widget.height()) == s)
        QApplication.processEvents()
        for item in (plot, plot.vb):
            ours = item.boundingRect(), item.shape().boundingRect()  # (asked first: pyqtgraph's resets its caches)
            assert ours == (pyqtgraph_bounds(item),) * 2, type(item).__name__
            assert ours[0].width() > 100
            item.shape()  # as a paint asks: a shape kept from here must not outlive the size
    assert plot.vb.boundingRect() == plot.vb.rect().adjusted(0, 0, 0.5, 0.5)  # pyqtgraph's view grows by half a pixel
    assert isinstance(plot, RectPlotItem)


def test_a_view_keeps_its_half_pixel_through_a_new_style(qtbot):
    """Qt drops a widget's window frame margins on a style change (a style set on the scene reaches it)."""
    from PySide6.QtWidgets import QStyleFactory

    ours = plot_in_window(qtbot, rect_plot(enableMenu=False), SIZES[0])
    theirs = plot_in_window(qtbot, pg.PlotItem(enableMenu=False), SIZES[0])
    for widget in (ours, theirs):
        style = QStyleFactory.create("Fusion")
        style.setParent(widget)  # a scene does not own its style: it lives as long as the widget
        widget.scene().setStyle(style)
        widget.resize(*SIZES[1])
    qtbot.waitUntil(lambda: all((w.width(), w.height()) == SIZES[1] for w in (ours, theirs)))
    QApplication.processEvents()
    view = ours.ci.getItem(0, 0).vb
    assert view.boundingRect() == pyqtgraph_bounds(view) == view.rect().adjusted(0, 0, 0.5, 0.5)
    np.testing.assert_array_equal(rgb(ours.grab()), rgb(theirs.grab()))


def test_every_colour_bar_in_the_window_lays_out_its_bar(window):
    """A colour bar made with a view of ours never laid its bar out: a bar 1 px wide and 256 px tall, unscaled."""
    window.docks["pe"].raise_()
    for bar in (window.scores.colorbar, window.weights.colorbar, window.output.colorbar, window.pe.colorbar):
        QApplication.processEvents()
        view, gradient = bar.vb.sceneBoundingRect(), bar.bar.sceneBoundingRect()
        assert view.height() > 100
        assert abs(gradient.height() - view.height()) <= 1 and abs(gradient.width() - view.width()) <= 1

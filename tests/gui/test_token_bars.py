"""Bars grouped by colour look exactly like pyqtgraph's bars coloured one by one."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtGui import QColor

from attnviz.gui.palette import MASKED, token_color
from attnviz.gui.token_bars import TokenBars
from tests.gui.test_plot_pixels import rgb


def plot(qtbot, y_range=(0, 1.1)) -> pg.PlotWidget:
    widget = pg.PlotWidget(background="w")
    widget.resize(420, 260)
    widget.getPlotItem().setRange(xRange=(-0.6, 19.6), yRange=y_range, padding=0)
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitExposed(widget)
    return widget



def reference(qtbot, heights, colours, y_range=(0, 1.1)) -> np.ndarray:
    """The same bars as one BarGraphItem with a pen and a brush per bar (pyqtgraph's own way)."""
    widget = plot(qtbot, y_range)
    widget.addItem(pg.BarGraphItem(x=np.arange(len(heights)), height=heights, width=0.7,
                                   brushes=colours, pens=colours))
    return rgb(widget.grab())


def test_grouped_bars_match_bars_coloured_one_by_one(qtbot):
    rng = np.random.default_rng(5)
    widget = plot(qtbot)
    bars = TokenBars(width=0.7)
    widget.addItem(bars)
    heights = rng.uniform(0, 1, 20)
    colours = [MASKED if j % 7 == 3 else token_color(j) for j in range(20)]  # colours repeat every 8
    bars.set_bars(heights, colours)
    assert bars.groups() == 9  # eight token colours and the masked grey
    np.testing.assert_array_equal(rgb(widget.grab()), reference(qtbot, heights, colours))
    # new heights keep the colours; fewer bars and fewer colours hide the groups left over
    heights = rng.uniform(0, 1, 20)
    bars.set_bars(heights)
    np.testing.assert_array_equal(rgb(widget.grab()), reference(qtbot, heights, colours))
    heights, colours = heights[:5], [token_color(j) for j in range(5)]
    bars.set_bars(heights, colours)
    np.testing.assert_array_equal(rgb(widget.grab()), reference(qtbot, heights, colours))
    assert bars.heights().tolist() == heights.tolist()
    assert [QColor(c).name() for c in bars.colours()] == [c.name() for c in colours]


def test_bars_below_zero_and_a_resized_view_match_too(qtbot):
    rng = np.random.default_rng(6)
    y_range = (-1.1, 1.1)
    widget = plot(qtbot, y_range)
    bars = TokenBars(width=0.7)
    widget.addItem(bars)
    heights, colours = rng.uniform(-1, 1, 20), [token_color(j) for j in range(20)]
    bars.set_bars(heights, colours)
    np.testing.assert_array_equal(rgb(widget.grab()), reference(qtbot, heights, colours, y_range))
    # a new scale moves the half-pixel padding of the bounds: what is shown must still be whole
    widget.resize(300, 200)
    qtbot.waitUntil(lambda: widget.width() == 300)
    expected = plot(qtbot, y_range)
    expected.resize(300, 200)
    expected.addItem(pg.BarGraphItem(x=np.arange(20), height=heights, width=0.7, brushes=colours, pens=colours))
    qtbot.waitUntil(lambda: expected.width() == 300)
    np.testing.assert_array_equal(rgb(widget.grab()), rgb(expected.grab()))


def test_heights_without_colours_must_keep_the_number_of_bars(qapp):
    bars = TokenBars(width=0.7)
    bars.set_bars([0.5, 0.5], [token_color(0), token_color(1)])
    with pytest.raises(ValueError, match="3 bars but 2 colours"):
        bars.set_bars([0.2, 0.3, 0.5])


def test_the_kept_bounds_follow_new_heights_a_resize_and_a_new_range(qtbot):
    widget = plot(qtbot)
    bars = TokenBars(width=0.7)
    widget.addItem(bars)

    def kept_is_fresh() -> bool:
        return bars.boundingRect() == bars._padded()

    bars.set_bars([0.2] * 5, [token_color(j) for j in range(5)])
    qtbot.waitUntil(kept_is_fresh)
    bars.boundingRect()
    bars.set_bars([0.9] * 5)  # taller: the kept bounds must not be the old ones
    assert kept_is_fresh() and bars.boundingRect().bottom() > 0.9
    before = bars._padded()
    widget.resize(200, 120)  # the half-pixel padding is another size in data units
    qtbot.waitUntil(lambda: bars._padded() != before)
    assert kept_is_fresh()
    widget.getPlotItem().setRange(yRange=(0, 3), padding=0)
    assert kept_is_fresh()


def test_a_view_that_ranges_itself_follows_the_bars_as_it_does_bar_graph_items(qtbot):
    ranges = []
    for make in (TokenBars, pg.BarGraphItem):
        widget = pg.PlotWidget()
        widget.resize(300, 200)
        qtbot.addWidget(widget)
        widget.show()
        qtbot.waitExposed(widget)
        if make is TokenBars:
            item = TokenBars(width=0.7)
            widget.addItem(item)
            item.set_bars([1, 2], [token_color(0), token_color(1)])
        else:
            item = pg.BarGraphItem(x=[0, 1], height=[1, 2], width=0.7)
            widget.addItem(item)
        vb = widget.getPlotItem().vb
        qtbot.waitUntil(lambda vb=vb: 2 < vb.viewRange()[1][1] < 3)  # ranged to the first bars
        if make is TokenBars:
            item.set_bars([5, 9])
        else:
            item.setOpts(height=[5, 9])
        qtbot.waitUntil(lambda vb=vb: vb.viewRange()[1][1] > 9)
        ranges.append(vb.viewRange())
    np.testing.assert_allclose(ranges[0], ranges[1], atol=0.02)


def test_a_height_that_is_not_finite_draws_no_bar_and_keeps_the_bounds_finite(qtbot):
    # the NaN weights of an overflowed pass: a NaN rectangle must never reach Qt's painter or scene index
    widget = plot(qtbot)
    bars = TokenBars(width=0.7)
    widget.addItem(bars)
    colours = [token_color(j) for j in range(4)]
    bars.set_bars([0.5, np.nan, np.inf, 0.25], colours)
    bounds = bars.boundingRect()
    assert all(np.isfinite([bounds.left(), bounds.top(), bounds.width(), bounds.height()]))
    assert bars.dataBounds(1) == (0.0, 0.5)
    np.testing.assert_array_equal(rgb(widget.grab()), reference(qtbot, [0.5, 0.0, 0.0, 0.25], colours))
    assert np.isnan(bars.heights()[1])  # what was given, for tests and export

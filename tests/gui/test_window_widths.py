"""How the window's width is shared between the sentence, controls and tables and the plots beside them,
as the user resizes the window, drags a separator, restores the layout or restarts."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QSettings, Qt
from PySide6.QtTest import QTest

from attnviz.engine.examples import load_example
from attnviz.gui.main_window import MainWindow
from tests.gui.conftest import _discard_changes


def widths(window) -> tuple[int, ...]:
    """The central column's width and the two plot columns'."""
    return window.centralWidget().width(), window.docks["scores"].width(), window.docks["weights"].width()


def drag_separator(window, dx: int) -> None:
    """Drag the separator between the central column and the plots ``dx`` pixels, as a mouse does."""
    central, plots = window.centralWidget().geometry(), window.docks["scores"].geometry()
    start = QPoint((central.right() + plots.left()) // 2, plots.center().y())
    handle, left, none = window.windowHandle(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    QTest.mouseMove(handle, start)
    QTest.mousePress(handle, left, none, start)
    for step in range(1, 11):
        QTest.mouseMove(handle, start + QPoint(dx * step // 10, 0))
    QTest.mouseRelease(handle, left, none, start + QPoint(dx, 0))


@pytest.fixture
def opened(qtbot):
    """A window as `attnviz --size` opens it: sized before it is first shown."""

    def open_at(width: int, height: int, example: str = "lets-go") -> MainWindow:
        window = MainWindow(load_example(example), example=example, use_settings=False)
        qtbot.addWidget(window, before_close_func=_discard_changes)
        window.resize(width, height)
        window.show()
        qtbot.waitExposed(window)
        return window

    return open_at


def test_a_wider_window_gives_most_of_the_width_it_gains_to_the_plots(window):
    central, scores, weights = widths(window)
    assert window.width() == 1280 and (central, scores, weights) == (528, 370, 370)  # the layout as it was made
    window.resize(1920, 1080)
    wider = widths(window)
    # all 640 pixels went to the central column: at 1160 px its tables were mostly empty space
    assert wider[0] - central <= 640 // 4 + 1
    assert wider[1] + wider[2] - scores - weights >= 3 * 640 // 4 - 2
    assert abs(wider[1] - wider[2]) <= 1  # the two plot columns share it evenly, as they were


def test_a_window_opened_wide_shows_every_token_on_the_heatmaps(opened):
    # `attnviz --size 1920x1080 --example pizza`: the squeezed heatmaps labelled every other token
    window = opened(1920, 1080, "pizza")
    tokens = list(window.model.result.tokens)
    assert len(tokens) == 12
    for panel in (window.scores, window.weights):
        top = panel.plot.getAxis("top")._tickLevels[0]
        assert [label for _, label in top] == tokens, panel.objectName()


def test_a_window_opened_at_a_size_looks_as_one_resized_to_it(window, opened):
    for width, height in ((1920, 1080), (1024, 640), (800, 600)):
        window.resize(width, height)
        assert widths(opened(width, height)) == widths(window), (width, height)
    assert min(widths(opened(1920, 1080))[1:]) >= 1.5 * 370  # the plots grew with the window


def test_resizing_the_window_and_back_gives_the_layout_back(window):
    # at 800 px the first plot column stops at its minimum (the attention lines tabbed under it),
    # and the second takes what is left: coming back, both are as they were
    start = widths(window)
    for width in (800, 1920, 1100, 2560, 1280):
        window.resize(width, 800)
    assert widths(window) == start


def test_a_separator_the_user_dragged_is_kept_as_the_window_is_resized(window):
    drag_separator(window, 100)  # the central column wider, the plots narrower
    dragged = widths(window)
    assert dragged[0] == 528 + 100
    window.resize(1600, 800)
    # the user's layout is the one that grows: the central column by a quarter of the 320 pixels gained
    assert abs(widths(window)[0] - (dragged[0] + 80)) <= 1
    window.resize(1280, 800)
    assert widths(window) == dragged
    drag_separator(window, -150)
    assert widths(window)[0] == dragged[0] - 150  # a second drag is not fought either


def test_restore_layout_gives_the_default_layout_for_the_windows_width(window, opened):
    window.resize(1920, 1080)
    drag_separator(window, 200)
    window.docks["weights"].close()
    window.restore_layout_action.trigger()
    assert widths(window) == widths(opened(1920, 1080))
    assert widths(window)[1] > 370  # the plots' share of a wide window, not the 1280 px window's sizes
    window.resize(1280, 800)
    assert widths(window) == (528, 370, 370)


def test_a_layout_saved_in_a_narrow_window_comes_back_as_made_when_widened(qtbot):
    # at 790 px the central column stops at its minimum; what the layout was made for is kept with it
    first = MainWindow()
    qtbot.addWidget(first, before_close_func=_discard_changes)
    first.show()
    qtbot.waitExposed(first)
    first.resize(790, 560)  # inside the offscreen screen (800x600): restoreGeometry clamps to it
    first.close()
    second = MainWindow()
    qtbot.addWidget(second, before_close_func=_discard_changes)
    second.show()
    qtbot.waitExposed(second)
    assert abs(second.width() - 790) <= 10
    second.resize(1280, 800)
    assert widths(second) == (528, 370, 370)


@pytest.mark.parametrize("saved", [[1280, float("inf"), 370, 370], [1280, 100000, 370, 370], [1280, 528, 1000, 100]],
                         ids=["infinite", "central wider than the window", "columns wider than the window"])
def test_saved_layout_widths_that_cannot_be_are_not_taken(qtbot, saved):
    # an infinite width stopped every start with "OverflowError"; widths past the window's kept the
    # plots at their minimum at every width, and were saved back each session
    first = MainWindow()
    qtbot.addWidget(first, before_close_func=_discard_changes)
    first.show()
    qtbot.waitExposed(first)
    first.close()
    QSettings().setValue("layoutWidths", saved)
    second = MainWindow()
    qtbot.addWidget(second, before_close_func=_discard_changes)
    second.show()
    qtbot.waitExposed(second)  # (at most 800 px wide: restoreGeometry keeps it on the offscreen screen)
    second.resize(1280, 800)
    qtbot.waitUntil(lambda: widths(second) == (528, 370, 370))
    second.resize(1920, 1080)
    qtbot.waitUntil(lambda: widths(second)[0] == 688)


@pytest.mark.parametrize("how", ["closed", "floated"])
def test_a_plot_column_brought_back_is_the_layout_kept(window, qtbot, how):
    # shown again (or docked again), a column was measured at its old place before Qt had laid it out:
    # the layout kept was one the user never saw, and resizing there and back changed the plots' widths
    column = [window.docks[key] for key in ("weights", "output", "pe")]
    for away in (True, False):  # taken out of the window, then brought back
        for dock in column:
            if how == "closed":
                dock.toggleViewAction().trigger()
            else:
                dock.setFloating(away)
        qtbot.wait(10)
    shown = widths(window)
    assert window.widths.basis.columns == shown[1:]
    window.resize(1600, 800)
    qtbot.wait(10)
    window.resize(1280, 800)
    qtbot.waitUntil(lambda: widths(window) == shown)

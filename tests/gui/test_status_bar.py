"""The status bar's message never runs into the shapes, the time or the overflow warning on its right."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

READY = "Ready. Edit any number, type a sentence, or click a token."


def first_widget_shown(bar) -> QWidget:
    return min((w for w in (bar.window().overflow_label, bar.window().shape_label, bar.window().time_label)
                if w.isVisible()), key=lambda w: w.x())


def last_ink_before(bar, x: int) -> int:
    """The last column left of ``x`` where the bar draws anything on its background (the message's end)."""
    image = bar.grab().toImage()
    background = image.pixelColor(2, image.height() // 2)
    rows = range(3, image.height() - 3)  # clear of the panel's edges
    for column in range(x - 1, -1, -1):
        if any(image.pixelColor(column, y) != background for y in rows):
            return column
    return -1


def assert_clear_of_the_widgets(bar) -> int:
    """The message's last column: at least a space before the first widget shown on its right."""
    first = first_widget_shown(bar)
    end = last_ink_before(bar, first.x())
    assert first.x() - end > bar.fontMetrics().horizontalAdvance(" "), (first.objectName(), first.x(), end)
    return end


def assert_whole(bar, message: str) -> None:
    assert bar.currentMessage() == message
    end = assert_clear_of_the_widgets(bar)
    # it is drawn from 6 px in; a cut or elided message ends well before its own width
    assert end >= 6 + bar.fontMetrics().horizontalAdvance(message) - 3
    assert bar.toolTip() == ""


def test_the_ready_message_does_not_run_into_the_shapes_in_a_narrow_window(window):
    bar = window.statusBar()
    bar.showMessage(READY, 5000)
    assert_whole(bar, READY)  # at 1280 px there is room for everything
    assert window.shape_label.isVisible() and window.time_label.isVisible()
    window.resize(800, 600)
    assert_whole(bar, READY)
    assert window.time_label.isVisible()
    bar.clearMessage()
    assert window.shape_label.isVisible() and window.shape_label.text().startswith("2 tokens")


def test_a_refused_cell_value_is_read_whole_in_the_narrowest_window(window, qtbot):
    bar = window.statusBar()
    window.resize(window.minimumSizeHint().width(), 600)
    table = window.tables["W_k"].model()
    assert not table.setData(table.index(1, 0), "abc", Qt.ItemDataRole.EditRole)
    message = bar.currentMessage()
    assert message.startswith("W_k[x₂, k₁]") and message.endswith("(write e.g. 0.5, -1.25 or 3e-2)")
    assert_whole(bar, message)
    # the refusal answered by a value taken, the shapes are back where they were
    assert table.setData(table.index(1, 0), "0.5", Qt.ItemDataRole.EditRole)
    window.model.flush()
    assert bar.currentMessage() == "" and window.shape_label.isVisible()


def test_a_message_too_long_for_the_bar_is_elided_and_whole_in_the_tooltip(window, qtbot):
    bar = window.statusBar()
    window.model.set_cell("W_v", 0, 0, 0, 1e308)
    window.model.set_cell("W_v", 0, 1, 0, 1e308)
    window.model.flush()
    assert window.overflow_label.isVisible()
    window.resize(800, 600)
    message = "; ".join(["residual needs the output width (3) to equal d_model (2)"] * 3)
    window.show_error_in_status(message)
    assert bar.currentMessage() == message  # the status bar still holds it whole
    assert window.overflow_label.isVisible()  # the warning does not step aside
    assert_clear_of_the_widgets(bar)
    assert bar.toolTip() == message
    window.resize(1920, 800)  # room again: the message whole, the shapes back, the tooltip gone
    assert_whole(bar, message)
    assert window.shape_label.isVisible() and window.time_label.isVisible()


def _grow_the_shapes_under_a_message(qtbot):
    """A window 836 px wide showing "Ready…", which fits; then the shapes beside it grow (a longer
    sentence, a wider model). Returns the window once its status bar has painted that."""
    from attnviz.gui.main_window import MainWindow
    from tests.gui.conftest import _discard_changes

    window = MainWindow(use_settings=False)
    qtbot.addWidget(window, before_close_func=_discard_changes)
    window.resize(836, 600)
    window.show()
    qtbot.waitExposed(window)
    bar = window.statusBar()
    bar.showMessage(READY, 60000)
    bar.grab()
    assert window.shape_label.isVisible() and bar.toolTip() == ""  # it fits beside them
    window.model.set_sentence("The dog found some pizza next to the baby and ate it")
    window.dimensions.d_model.setValue(512)
    window.model.flush()
    bar.grab()
    return window


def test_the_shapes_step_aside_when_they_grow_under_a_message(qtbot):
    # shown when it fitted, a message was cut with "…" once the shapes beside it grew, where the same
    # message shown then would have had the shapes step aside
    window = _grow_the_shapes_under_a_message(qtbot)
    qtbot.waitUntil(lambda: not window.shape_label.isVisible())
    assert_whole(window.statusBar(), READY)


def test_right_to_left_the_shapes_growing_under_a_message_step_aside_too(qtbot):
    # where the message fits was kept by the widgets' left edges: right to left the shapes grow from
    # their right edge towards the message, which then ran into them mid-letter
    from PySide6.QtWidgets import QApplication

    QApplication.setLayoutDirection(Qt.LayoutDirection.RightToLeft)
    try:
        window = _grow_the_shapes_under_a_message(qtbot)
        bar = window.statusBar()
        qtbot.waitUntil(lambda: not window.shape_label.isVisible())
        bar.grab()
        assert bar.message_rect().width() >= bar.fontMetrics().horizontalAdvance(READY)
        assert bar.toolTip() == ""
    finally:
        QApplication.setLayoutDirection(Qt.LayoutDirection.LeftToRight)

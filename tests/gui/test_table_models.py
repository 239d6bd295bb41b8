"""The matrix tables show what the document holds after every kind of change.

The table models keep each cell's text and colours once painted, so every
check here first paints and reads the table (filling that cache), then
changes something as a user would, then compares every cell with the value
formatted and coloured from scratch by the formulas below.
"""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QAbstractItemView, QLineEdit, QRadioButton, QSpinBox, QStyle, QStyledItemDelegate

from attnviz.engine import Document
from attnviz.engine.examples import load_example
from attnviz.gui import table_models
from attnviz.gui.matrix_view import NumberDelegate

BACKGROUND = Qt.ItemDataRole.BackgroundRole
FOREGROUND = Qt.ItemDataRole.ForegroundRole
# the diverging map's three stops: blue at the lowest level, near-white at 0, red at the highest
BLUE, WHITE, RED = (33, 102, 172), (247, 247, 247), (178, 24, 43)
# the tables use a 256-step lookup of the map: within one step of the exact colour
COLOR_TOLERANCE = 2


def expected_text(value: float, digits: int) -> str:
    text = f"{value:.{digits}f}"
    if float(text) == 0:
        text = text.lstrip("-")  # no "−0.00"
    return text.replace("-", "−")


def expected_background(value: float, matrix: np.ndarray) -> tuple[float, float, float]:
    """Linear between the map's stops, on levels ±max|matrix| (white is 0)."""
    m = float(np.abs(matrix).max()) or 1.0
    t = (value + m) / (2 * m)
    low, high, u = (BLUE, WHITE, 2 * t) if t <= 0.5 else (WHITE, RED, 2 * t - 1)
    return tuple(a + (b - a) * u for a, b in zip(low, high, strict=True))


def assert_table_shows(view, matrix: np.ndarray, digits: int) -> None:
    """Paint the table, then check the text and colours of every cell against ``matrix``."""
    view.viewport().grab()
    table = view.model()
    assert (table.rowCount(), table.columnCount()) == matrix.shape
    for row in range(matrix.shape[0]):
        for col in range(matrix.shape[1]):
            value, index = float(matrix[row, col]), table.index(row, col)
            where = f"{view.objectName()}[{row}, {col}] = {value!r}"
            assert table.data(index) == expected_text(value, digits), where
            background = table.data(index, BACKGROUND)
            want = expected_background(value, matrix)
            got = (background.red(), background.green(), background.blue())
            assert max(abs(g - w) for g, w in zip(got, want, strict=True)) <= COLOR_TOLERANCE, f"{where}: {got}"
            luminance = (0.299 * want[0] + 0.587 * want[1] + 0.114 * want[2]) / 255
            if abs(luminance - 0.55) > 0.02:  # clearly light or dark: dark text on light cells
                assert table.data(index, FOREGROUND).lightness() == (0 if luminance > 0.55 else 255), where


@pytest.fixture
def pizza(window, qtbot):
    window.model.load(load_example("pizza"))
    qtbot.waitUntil(lambda: window.tables["embeddings"].model().rowCount() == 12)
    return window


def W_q(window) -> np.ndarray:
    return window.model.document().W_q[window.view.head]


def precision_box(window) -> QSpinBox:
    return window.findChild(QSpinBox, "calc:precision")


def type_into_cell(qtbot, view, row: int, col: int, text: str) -> None:
    """Double-click the cell, type ``text`` over its value, press Enter."""
    assert view.isVisible()
    rect = view.visualRect(view.model().index(row, col))
    # a double-click reaches the view as a click, then a double-click event
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    (editor,) = [e for e in view.findChildren(QLineEdit, "cellEditor") if e.isVisible()]
    editor.selectAll()
    qtbot.keyClicks(editor, text)
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    # the delegate commits and closes the editor on the next event-loop turn
    qtbot.waitUntil(lambda: view.state() != QAbstractItemView.State.EditingState)


def test_an_edit_through_the_cell_editor_and_its_undo_show_at_once(pizza, qtbot):
    view = pizza.tables["W_q"]
    pizza.tabs.setCurrentWidget(view)
    assert_table_shows(view, W_q(pizza), 2)
    before = W_q(pizza).copy()
    # beyond the largest value: every other cell's colour moves too
    type_into_cell(qtbot, view, 1, 0, "-3.5")
    assert W_q(pizza)[1, 0] == -3.5
    assert view.model().data(view.model().index(1, 0)) == "−3.50"
    assert_table_shows(view, W_q(pizza), 2)
    # within the range: only that cell changes
    type_into_cell(qtbot, view, 2, 1, "0.75")
    assert_table_shows(view, W_q(pizza), 2)
    pizza.undo_action.trigger()
    pizza.undo_action.trigger()
    np.testing.assert_array_equal(W_q(pizza), before)
    assert_table_shows(view, before, 2)
    pizza.redo_action.trigger()
    assert_table_shows(view, W_q(pizza), 2)


def test_a_filled_matrix_shows_its_new_values(pizza, dialogs):
    view = pizza.tables["W_q"]
    assert_table_shows(view, W_q(pizza), 2)
    dialogs.answer("getDouble", (0.25, True))
    next(a for a in view.build_menu(view.model().index(1, 1)).actions() if a.objectName() == "fill:column").trigger()
    assert (W_q(pizza)[:, 1] == 0.25).all()
    assert_table_shows(view, W_q(pizza), 2)
    next(a for a in view.build_menu(view.model().index(0, 0)).actions() if a.objectName() == "fill:identity").trigger()
    assert_table_shows(view, W_q(pizza), 2)


def test_precision_changes_every_cell(pizza):
    views = (pizza.tables["embeddings"], pizza.tables["W_q"])
    for view in views:
        assert_table_shows(view, view.model().values(), 2)
    precision_box(pizza).setValue(5)
    assert pizza.view.precision == 5
    assert_table_shows(views[0], pizza.model.result.embeddings, 5)
    assert_table_shows(views[1], W_q(pizza), 5)
    precision_box(pizza).setValue(3)
    assert_table_shows(views[0], pizza.model.result.embeddings, 3)
    assert_table_shows(views[1], W_q(pizza), 3)


def test_embedding_pe_and_x_each_show_their_own_numbers(pizza):
    view = pizza.tables["embeddings"]
    r = pizza.model.result
    assert_table_shows(view, r.embeddings, 2)
    for mode, matrix in (("pe", r.pe), ("x", r.x), ("embedding", r.embeddings), ("x", r.x)):
        pizza.findChild(QRadioButton, f"embeddingMode:{mode}").click()
        assert view.model().mode == mode
        assert_table_shows(view, matrix, 2)


def test_an_embedding_edit_shows_in_embedding_and_x(pizza, qtbot):
    view = pizza.tables["embeddings"]
    pizza.findChild(QRadioButton, "embeddingMode:x").click()
    assert_table_shows(view, pizza.model.result.x, 2)
    pizza.findChild(QRadioButton, "embeddingMode:embedding").click()
    assert_table_shows(view, pizza.model.result.embeddings, 2)
    type_into_cell(qtbot, view, 4, 2, "2.5")  # "pizza", beyond the largest value
    qtbot.waitUntil(lambda: pizza.model.result.embeddings[4, 2] == 2.5)
    assert_table_shows(view, pizza.model.result.embeddings, 2)
    pizza.findChild(QRadioButton, "embeddingMode:x").click()
    assert_table_shows(view, pizza.model.result.x, 2)
    pizza.undo_action.trigger()
    qtbot.waitUntil(lambda: pizza.model.result.embeddings[4, 2] != 2.5)
    assert_table_shows(view, pizza.model.result.x, 2)


def test_the_sentence_changes_the_rows(pizza, qtbot):
    view = pizza.tables["embeddings"]
    assert_table_shows(view, pizza.model.result.embeddings, 2)
    pizza.sentence_edit.selectAll()
    qtbot.keyClicks(pizza.sentence_edit, "pizza dog pizza")
    qtbot.waitUntil(lambda: view.model().rowCount() == 3)
    assert view.model().headerData(2, Qt.Orientation.Vertical).endswith("pizza")
    assert_table_shows(view, pizza.model.result.embeddings, 2)


def test_switching_head_shows_that_heads_matrices(window, qtbot):
    window.model.load(load_example("two-heads"))
    qtbot.waitUntil(lambda: window.model.n_heads == 2)
    views = [window.tables[name] for name in ("W_q", "W_k", "W_v")]
    doc = window.model.document()
    for view, name in zip(views, ("W_q", "W_k", "W_v"), strict=True):
        assert_table_shows(view, getattr(doc, name)[0], 2)
    window.dimensions.head.setValue(2)
    assert window.view.head == 1
    for view, name in zip(views, ("W_q", "W_k", "W_v"), strict=True):
        assert_table_shows(view, getattr(doc, name)[1], 2)
    # an edit of head 1 is not shown in head 2's table, and is when head 1 is back
    window.model.set_cell("W_q", 0, 0, 0, 5.0)
    assert_table_shows(views[0], window.model.document().W_q[1], 2)
    window.dimensions.head.setValue(1)
    assert_table_shows(views[0], window.model.document().W_q[0], 2)


def test_a_new_shape_shows_every_cell(pizza, qtbot):
    view = pizza.tables["W_q"]
    assert_table_shows(view, W_q(pizza), 2)
    pizza.dimensions.d_model.setValue(6)
    qtbot.waitUntil(lambda: view.model().rowCount() == 6)
    assert_table_shows(view, W_q(pizza), 2)
    qtbot.waitUntil(lambda: pizza.tables["embeddings"].model().columnCount() == 6)
    assert_table_shows(pizza.tables["embeddings"], pizza.model.result.embeddings, 2)
    pizza.undo_action.trigger()
    assert_table_shows(view, W_q(pizza), 2)


def test_cells_outside_the_table_have_no_data(pizza):
    table = pizza.tables["W_q"].model()
    for role in (Qt.ItemDataRole.DisplayRole, BACKGROUND, FOREGROUND, Qt.ItemDataRole.EditRole,
                 Qt.ItemDataRole.ToolTipRole, Qt.ItemDataRole.TextAlignmentRole):
        assert table.data(QModelIndex(), role) is None
        assert table.data(table.index(99, 0), role) is None
    assert table.data(table.index(0, 0), Qt.ItemDataRole.DecorationRole) is None


def test_the_row_header_marks_the_selected_token_and_unknown_words(pizza, qtbot):
    table = pizza.tables["embeddings"].model()
    pizza.sentence_edit.selectAll()
    qtbot.keyClicks(pizza.sentence_edit, "pizza zebra")
    qtbot.waitUntil(lambda: table.rowCount() == 2)
    font = Qt.ItemDataRole.FontRole
    pizza.view.set_token(0)
    assert table.headerData(0, Qt.Orientation.Vertical, font).bold()
    assert not table.headerData(1, Qt.Orientation.Vertical, font).bold()
    assert table.headerData(1, Qt.Orientation.Vertical, font).italic()  # "zebra" is not in the vocabulary
    assert not table.headerData(0, Qt.Orientation.Vertical, font).italic()
    pizza.view.set_token(1)
    assert table.headerData(1, Qt.Orientation.Vertical, font).bold()
    assert not table.headerData(0, Qt.Orientation.Vertical, font).bold()


def test_a_large_table_works_out_only_the_cells_it_shows(window, qtbot, monkeypatch):
    d = 512
    rng = np.random.default_rng(0)
    doc = Document(vocab=("a", "b"), embeddings=rng.normal(size=(2, d)), W_q=rng.normal(size=(1, d, d)),
                   W_k=rng.normal(size=(1, d, d)), W_v=rng.normal(size=(1, d, 8)), sentence="a b")
    formatted = []
    real_format = table_models.format_number
    monkeypatch.setattr(table_models, "format_number", lambda x, digits: formatted.append(x) or real_format(x, digits))
    window.model.load(doc)
    view = window.tables["W_q"]
    window.tabs.setCurrentWidget(view)
    view.scrollTo(view.model().index(d - 1, d - 1))
    view.viewport().grab()
    visible = (view.viewport().height() // 24 + 2) * (view.viewport().width() // 68 + 2)
    assert 0 < len(formatted) <= 2 * visible
    index = view.model().index(d - 1, d - 1)
    assert view.model().data(index) == expected_text(doc.W_q[0, d - 1, d - 1], 2)


def test_cells_look_as_the_style_would_paint_them(pizza):
    """The delegate's own painting of plain cells matches the style's, selection included."""

    class StyledPaint(NumberDelegate):
        paint = QStyledItemDelegate.paint

    view = pizza.tables["embeddings"]
    own_paint, styled_paint = view.itemDelegate(), StyledPaint(view)
    view.selectRow(2)
    precision_box(pizza).setValue(6)
    view.horizontalHeader().resizeSection(0, 40)  # too narrow: its numbers are cut off with "…"
    table = view.model()
    texts = [table.data(table.index(row, 0)) for row in range(table.rowCount())]
    assert any(view.fontMetrics().horizontalAdvance(t) > view.columnWidth(0) for t in texts)

    def picture(delegate) -> QImage:
        view.setItemDelegate(delegate)
        return view.viewport().grab().toImage().convertToFormat(QImage.Format.Format_RGB32)

    assert picture(own_paint) == picture(styled_paint)
    view.setItemDelegate(own_paint)
    font = view.font()
    font.setPointSize(font.pointSize() + 5)
    view.setFont(font)
    assert picture(own_paint) == picture(styled_paint)


def test_a_new_word_repaints_its_own_row_and_keeps_the_table(pizza, qtbot):
    """Typing in a word of the same sentence length changes one row: no reset, no repaint of the rest."""
    view = pizza.tables["embeddings"]
    table = view.model()
    assert_table_shows(view, pizza.model.result.embeddings, 2)
    resets, headers, cells = [], [], []
    table.modelReset.connect(lambda: resets.append(True))
    table.headerDataChanged.connect(lambda orientation, first, last: headers.append((orientation, first, last)))
    table.dataChanged.connect(lambda top, bottom, roles=(): cells.append((top.row(), bottom.row())))
    before = pizza.model.result.embeddings.copy()
    levels = table._levels
    pizza.sentence_edit.setFocus()
    pizza.sentence_edit.end(False)
    qtbot.keyClick(pizza.sentence_edit, Qt.Key.Key_S)  # "it" -> "its", a word not in the vocabulary
    qtbot.waitUntil(lambda: pizza.model.result.tokens[-1] == "its")
    after = pizza.model.result.embeddings
    assert table.headerData(11, Qt.Orientation.Vertical) == "12 its*"
    assert not resets
    assert headers == [(Qt.Orientation.Vertical, 11, 11)]
    changed = {int(i) for i in np.flatnonzero((after != before).any(axis=1))}
    assert changed == {11}
    # the colour range of "its" is wider: every cell's colour moved (the swap below keeps the range)
    assert table._levels != levels
    assert cells == [(0, 11)]
    assert_table_shows(view, after, 2)
    qtbot.keyClick(pizza.sentence_edit, Qt.Key.Key_Backspace)
    qtbot.waitUntil(lambda: pizza.model.result.tokens[-1] == "it")
    assert table.headerData(11, Qt.Orientation.Vertical) == "12 it"
    assert not resets
    assert_table_shows(view, pizza.model.result.embeddings, 2)


def test_a_word_swapped_in_the_middle_shows_in_every_mode(pizza, qtbot):
    view = pizza.tables["embeddings"]
    table = view.model()
    for mode in ("x", "pe", "embedding"):
        pizza.findChild(QRadioButton, f"embeddingMode:{mode}").click()
        assert_table_shows(view, getattr(pizza.model.result, table_models._RESULT_FIELD[mode]), 2)
    resets, cells = [], []
    table.modelReset.connect(lambda: resets.append(True))
    table.dataChanged.connect(lambda top, bottom, roles=(): cells.append((top.row(), bottom.row())))
    levels = table._levels
    # "dog" and "baby" change places: the same vectors, so the colour range holds and rows 1 to 8 repaint
    pizza.sentence_edit.selectAll()
    qtbot.keyClicks(pizza.sentence_edit, "The baby found some pizza next to the dog and ate it")
    qtbot.waitUntil(lambda: pizza.model.result.tokens[1] == "baby")
    assert not resets
    assert table._levels == levels
    assert cells == [(1, 8)]
    assert [table.headerData(i, Qt.Orientation.Vertical) for i in (1, 8)] == ["2 baby", "9 dog"]
    assert_table_shows(view, pizza.model.result.embeddings, 2)
    pizza.findChild(QRadioButton, "embeddingMode:x").click()
    assert_table_shows(view, pizza.model.result.x, 2)
    pizza.sentence_edit.selectAll()
    qtbot.keyClicks(pizza.sentence_edit, "The dog found some pizza next to the baby and ate it")  # and back
    qtbot.waitUntil(lambda: pizza.model.result.tokens[1] == "dog")
    assert not resets
    assert_table_shows(view, pizza.model.result.x, 2)


def test_the_row_header_widens_for_a_longer_word(pizza, qtbot):
    view = pizza.tables["embeddings"]
    header = view.verticalHeader()
    view.grab()
    narrow = header.width()
    pizza.sentence_edit.setFocus()
    pizza.sentence_edit.end(False)
    qtbot.keyClicks(pizza.sentence_edit, "erations")  # "it" -> "iterations", one key at a time
    qtbot.waitUntil(lambda: pizza.model.result.tokens[-1] == "iterations")
    label = view.model().headerData(11, Qt.Orientation.Vertical)
    assert label == "12 iterations*"
    qtbot.waitUntil(lambda: header.width() > narrow)
    assert header.width() >= header.fontMetrics().horizontalAdvance(label)
    assert header.width() == header.sizeHint().width()


def test_a_cell_is_named_as_its_headers_name_it_in_refusals_tooltips_and_undo(window, qtbot):
    """The headers count from 1 (x₃, q₂, "1 Let's"): so do the messages that name a cell."""
    window.model.load(load_example("two-heads"))
    qtbot.waitUntil(lambda: window.model.n_heads == 2)
    window.dimensions.head.setValue(2)
    view = window.tables["W_q"]
    window.tabs.setCurrentWidget(view)
    table = view.model()
    assert (table.headerData(2, Qt.Orientation.Vertical), table.headerData(1, Qt.Orientation.Horizontal)) == \
        ("x₃", "q₂")
    type_into_cell(qtbot, view, 2, 1, "x")
    message = first = window.statusBar().currentMessage()
    assert message.startswith("W_q[x₃, q₂] (head 2): 'x' is not a number") and "\n" not in message
    type_into_cell(qtbot, view, 2, 1, "0.5")
    assert window.undo_action.text() == "&Undo Edit W_q[x₃, q₂] (head 2)"
    assert table.data(table.index(2, 1), Qt.ItemDataRole.ToolTipRole) == "W_q[x₃, q₂] (head 2) = 0.5"

    window.model.load(load_example("lets-go"))
    view = window.tables["embeddings"]
    window.tabs.setCurrentIndex(0)
    table = view.model()
    qtbot.waitUntil(lambda: table.rowCount() == 2)
    assert [table.headerData(1, o) for o in (Qt.Orientation.Vertical, Qt.Orientation.Horizontal)] == ["2 go", "d₂"]
    type_into_cell(qtbot, view, 1, 1, "x")
    message = window.statusBar().currentMessage()
    assert message != first and message.startswith("embedding['go', d₂]: 'x' is not a number")  # as undo names it
    type_into_cell(qtbot, view, 1, 1, "2")
    assert window.undo_action.text() == "&Undo Edit embedding['go', d₂]"
    assert table.data(table.index(1, 1), Qt.ItemDataRole.ToolTipRole) == "embedding['go', d₂] = 2.0"
    assert table.headerData(1, Qt.Orientation.Vertical, Qt.ItemDataRole.ToolTipRole) == \
        "'go': word 2 of the sentence, vocabulary entry 2"


def elided_texts(view) -> list[str]:
    """Paint the table as it is on screen; the texts its delegate shortened with "…" to fit their cells."""
    laid_out = view.itemDelegate()._laid_out  # every text it painted since it was cleared
    laid_out.clear()
    view.viewport().grab()
    return [text for text in laid_out if "…" in text]


def numbers_cut_off(view) -> list[str]:
    """The numbers of every cell (on screen or not) that do not fit the room their cell leaves for text."""
    table, metrics = view.model(), view.fontMetrics()
    margin = view.style().pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None, view) + 1
    return [
        text
        for row in range(table.rowCount())
        for col in range(table.columnCount())
        if metrics.horizontalAdvance(text := table.data(table.index(row, col)))
        > view.visualRect(table.index(row, col)).width() - 2 * margin
    ]


@pytest.mark.parametrize("example", ["lets-go", "pizza", "two-heads"])
def test_every_number_shows_in_full_at_every_precision(window, qtbot, example):
    window.model.load(load_example(example))
    qtbot.waitUntil(lambda: window.tables["embeddings"].model().rowCount() == window.model.result.n_tokens)
    for digits in (6, 2, 4, 5, 3, 6):
        precision_box(window).setValue(digits)
        assert window.view.precision == digits
        for index, name in enumerate(("embeddings", "W_q", "W_k", "W_v", "W_o")):
            view = window.tables[name]
            window.tabs.setCurrentIndex(index)
            assert numbers_cut_off(view) == [], (name, digits)
            assert elided_texts(view) == [], (name, digits)


def test_columns_widen_for_a_larger_number_and_an_edit_within_their_width_leaves_them(pizza, qtbot):
    view = pizza.tables["W_q"]
    pizza.tabs.setCurrentWidget(view)
    precision_box(pizza).setValue(6)
    resized = []
    view.horizontalHeader().sectionResized.connect(lambda *args: resized.append(args))
    type_into_cell(qtbot, view, 1, 0, "-0.5")  # within the largest magnitude: the same widths
    type_into_cell(qtbot, view, 2, 1, "1.25")
    assert resized == []
    assert numbers_cut_off(view) == [] and elided_texts(view) == []
    narrow = view.columnWidth(0)
    type_into_cell(qtbot, view, 2, 1, "-12345.5")
    assert view.model().data(view.model().index(2, 1)) == "−12345.500000"
    assert view.columnWidth(0) > narrow
    assert numbers_cut_off(view) == [] and elided_texts(view) == []
    pizza.undo_action.trigger()  # back within the old magnitude: back to the old width
    assert view.columnWidth(0) == narrow


def test_an_unknown_words_embedding_cell_is_named_as_its_undo_step_names_it(window, qtbot):
    view = window.tables["embeddings"]
    window.sentence_edit.selectAll()
    qtbot.keyClicks(window.sentence_edit, "Supercalifragilistic go")  # not in the vocabulary
    table = view.model()
    qtbot.waitUntil(lambda: table.rowCount() == 2 and table.token(0) == "Supercalifragilistic")
    type_into_cell(qtbot, view, 0, 1, "x")
    refused = window.statusBar().currentMessage()
    type_into_cell(qtbot, view, 0, 1, "0.5")
    name = "embedding['supercalifragilistic', d₂]"
    assert refused.startswith(name + ": ")
    assert window.undo_action.text() == f"&Undo Edit {name}"
    assert table.data(table.index(0, 1), Qt.ItemDataRole.ToolTipRole) == f"{name} = 0.5"

"""The main window driven as a user drives it: typing, editing cells, toggling options."""

from __future__ import annotations

import itertools
import math
import re
import warnings

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPoint, Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QAbstractSpinBox, QApplication, QLabel, QRadioButton

from attnviz.engine.examples import load_example
from attnviz.gui.heatmap import MASKED_LABEL
from attnviz.gui.main_window import MainWindow
from tests.gui.event_log import EventLog
from tests.gui.test_plot_pixels import rgb


def reference_weights(emb, W_q, W_k, scale=True, temperature=1.0, causal=False, pe=True):
    """Scaled dot-product attention weights for one head, written from the formula."""
    n, d = emb.shape
    x = emb.copy()
    if pe:
        for p in range(n):
            for i in range(d):
                x[p, i] += math.sin(p / 10000 ** (i / d)) if i % 2 == 0 else math.cos(p / 10000 ** ((i - 1) / d))
    q, k = x @ W_q, x @ W_k
    logits = q @ k.T / (math.sqrt(W_q.shape[1]) if scale else 1.0) / temperature
    if causal:
        logits[np.triu_indices(n, 1)] = -np.inf
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def window_weights(window, **options):
    doc = window.model.document()
    rows = [doc.vocab.index(t.lower()) for t in window.model.result.tokens]
    return reference_weights(doc.embeddings[rows], doc.W_q[window.view.head], doc.W_k[window.view.head], **options)


def shown(panel):
    """What a heatmap shows, with masked cells (NaN in the image) as 0 weight."""
    return np.nan_to_num(panel.image_data().astype(float), nan=0.0)


def matches(panel, expected) -> bool:
    """The panel shows ``expected`` (shapes may lag one event-loop turn behind)."""
    a = shown(panel)
    return a.shape == expected.shape and np.allclose(a, expected, rtol=1e-6, atol=1e-12)


def test_opens_on_lets_go_with_every_panel_showing_its_numbers(window):
    assert window.model.result.tokens == ("Let's", "go")
    assert "lets-go" in window.windowTitle()
    np.testing.assert_allclose(shown(window.weights), window_weights(window), rtol=1e-6)
    assert window.weights.numbers() and all(n for n in window.weights.numbers())


def test_typing_a_sentence_retokenizes_everything(window, qtbot):
    window.sentence_edit.end(False)
    qtbot.keyClicks(window.sentence_edit, " now, pizza!")
    qtbot.waitUntil(lambda: window.model.result.n_tokens == 6)
    assert window.model.result.tokens == ("Let's", "go", "now", ",", "pizza", "!")
    embeddings = window.tables["embeddings"].model()
    qtbot.waitUntil(lambda: embeddings.rowCount() == 6)
    assert embeddings.headerData(2, Qt.Orientation.Vertical).endswith("now*")  # unknown word marked
    qtbot.waitUntil(lambda: window.scores.image_data().shape == (6, 6))
    assert window.weights.image_data().shape == (6, 6)
    assert "pizza" in window.sentence.chips.text()
    # one undo step for the whole run of typing
    window.undo_action.trigger()
    qtbot.waitUntil(lambda: window.model.result.tokens == ("Let's", "go"))
    assert window.sentence_edit.text() == "Let's go"


def test_editing_a_weight_cell_updates_the_heatmaps_as_the_formula_says(window, qtbot):
    table = window.tables["W_q"].model()
    assert table.setData(table.index(0, 1), "1.5", Qt.ItemDataRole.EditRole)
    assert window.model.document().W_q[0, 0, 1] == 1.5
    expected = window_weights(window)
    qtbot.waitUntil(lambda: matches(window.weights, expected))
    doc = window.model.document()
    rows = [doc.vocab.index(t.lower()) for t in window.model.result.tokens]
    x = window.model.result.x
    np.testing.assert_allclose(x - window.model.result.pe, doc.embeddings[rows])
    scores = (x @ doc.W_q[0]) @ (x @ doc.W_k[0]).T
    np.testing.assert_allclose(window.scores.image_data(), scores, rtol=1e-6)
    assert table.data(table.index(0, 1)) == "1.50"


@pytest.mark.parametrize("text", ["abc", "nan", "inf", "1e999", "", "--1", "\u0663", "\uff11.5", "1,000"])
def test_invalid_cell_text_is_refused_and_explained(window, qtbot, text):
    table = window.tables["W_k"].model()
    before = window.model.document()
    with qtbot.waitSignal(table.editRejected) as refusal:
        assert not table.setData(table.index(1, 0), text, Qt.ItemDataRole.EditRole)
    assert "W_k[x₂, k₁]" in refusal.args[1] and "\n" not in refusal.args[1]
    assert window.model.document().equals(before)
    assert window.model.undo_stack.count() == 0
    assert "W_k[x₂, k₁]" in window.statusBar().currentMessage()


def test_editing_through_the_cell_editor(window, qtbot):
    view = window.tables["W_v"]
    window.tabs.setCurrentWidget(view)
    index = view.model().index(1, 1)
    view.setCurrentIndex(index)
    view.edit(index)
    editor = view.findChild(type(window.sentence_edit), "cellEditor")
    assert editor is not None
    editor.selectAll()
    qtbot.keyClicks(editor, "-0.25")
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.model.document().W_v[0, 1, 1] == -0.25)


def test_undo_and_redo_round_trip_exact_values(window, qtbot):
    original = window.model.document()
    table = window.tables["embeddings"].model()
    table.setData(table.index(0, 0), "3.25")
    table.setData(table.index(0, 0), "4.5")  # same cell: merges into one step
    window.tables["W_k"].model().setData(window.tables["W_k"].model().index(0, 0), "2")
    edited = window.model.document()
    assert window.isWindowModified() and window.model.undo_stack.count() == 2
    window.undo_action.trigger()
    window.undo_action.trigger()
    assert window.model.document().equals(original)
    assert not window.isWindowModified()
    window.redo_action.trigger()
    window.redo_action.trigger()
    assert window.model.document().equals(edited)
    qtbot.waitUntil(lambda: matches(window.weights, window_weights(window)))


def test_options_change_the_weights_as_the_formula_says(window, qtbot):
    window.sentence_edit.setText("")
    qtbot.keyClicks(window.sentence_edit, "let's go go let's")
    window.options.scale.click()
    qtbot.waitUntil(lambda: matches(window.weights, window_weights(window, scale=False)))
    window.options.causal.click()
    expected = window_weights(window, scale=False, causal=True)
    qtbot.waitUntil(lambda: matches(window.weights, expected))
    assert np.isnan(window.weights.image_data()[0, 1])  # masked cells are shown apart
    assert MASKED_LABEL in window.weights.numbers()
    window.options.temperature.setValue(0.5)
    expected = window_weights(window, scale=False, causal=True, temperature=0.5)
    qtbot.waitUntil(lambda: matches(window.weights, expected))
    assert window.model.config.temperature == 0.5
    assert window.options.slider.value() == round(math.log10(0.5) * 50)
    window.options.pe.click()
    expected = window_weights(window, scale=False, causal=True, temperature=0.5, pe=False)
    qtbot.waitUntil(lambda: matches(window.weights, expected))


def test_head_selector_switches_tables_and_plots(qtbot, window):
    window.model.load(load_example("two-heads"))
    qtbot.waitUntil(lambda: window.model.n_heads == 2)
    W_q = window.model.document().W_q
    table = window.tables["W_q"].model()
    assert float(table.data(table.index(0, 0), Qt.ItemDataRole.EditRole)) == W_q[0, 0, 0]
    window.dimensions.head.setValue(2)
    assert window.view.head == 1
    assert float(table.data(table.index(0, 0), Qt.ItemDataRole.EditRole)) == W_q[1, 0, 0]
    qtbot.waitUntil(lambda: matches(window.weights, window.model.result.weights[1]))
    assert not np.allclose(window.model.result.weights[0], window.model.result.weights[1])
    # an edit in head 2's table changes head 2 only
    table.setData(table.index(0, 0), "9")
    assert window.model.document().W_q[1, 0, 0] == 9 and window.model.document().W_q[0, 0, 0] == W_q[0, 0, 0]


def test_selecting_a_token_updates_the_bar_chart(window, qtbot):
    chips = window.sentence.chips
    qtbot.mouseClick(chips, Qt.MouseButton.LeftButton, pos=chips.chip_rect(1).center().toPoint())
    assert window.view.token == 1
    qtbot.waitUntil(lambda: np.allclose(window.selected.heights(), window.model.result.weights[0, 1]))
    assert "go" in window.selected.getPlotItem().titleLabel.text
    window.view.set_token(0)
    qtbot.waitUntil(lambda: np.allclose(window.selected.heights(), window.model.result.weights[0, 0]))


def test_clicking_a_heatmap_row_selects_its_token(window):
    window.scores.rowClicked.emit(1)
    assert window.view.token == 1
    assert window.scores.highlight.isVisible()


def test_dimension_changes_keep_existing_values(window, qtbot):
    before = window.model.document()
    window.dimensions.d_model.setValue(4)
    qtbot.waitUntil(lambda: window.model.d_model == 4)
    after = window.model.document()
    np.testing.assert_array_equal(after.W_q[:, :2, :], before.W_q)
    assert window.tables["W_q"].model().rowCount() == 4
    window.dimensions.d_k.setValue(3)
    assert window.model.d_k == window.model.d_v == 3
    window.dimensions.n_heads.setValue(2)
    assert window.model.n_heads == 2 and window.dimensions.head.maximum() == 2
    qtbot.waitUntil(lambda: window.scores.image_data().shape == (2, 2))


def test_refused_dimension_change_reverts_the_control(window, qtbot):
    window.options.residual.click()  # d_v = d_model = 2 without W_o: allowed
    assert window.model.config.residual
    window.dimensions.d_k.setValue(3)  # would break residual: refused
    assert window.model.d_k == 2 and window.dimensions.d_k.value() == 2
    assert "residual" in window.statusBar().currentMessage()


def test_context_menu_fills_a_matrix(window):
    view = window.tables["W_q"]
    menu = view.build_menu(view.model().index(0, 0))
    next(a for a in menu.actions() if a.objectName() == "fill:identity").trigger()
    np.testing.assert_array_equal(window.model.document().W_q[0], np.eye(2))
    next(a for a in menu.actions() if a.objectName() == "fill:zeros").trigger()
    np.testing.assert_array_equal(window.model.document().W_q[0], np.zeros((2, 2)))
    window.undo_action.trigger()
    np.testing.assert_array_equal(window.model.document().W_q[0], np.eye(2))


def test_embedding_table_shows_pe_and_x(window):
    table = window.tables["embeddings"].model()
    window.findChild(type(window.embedding_mode.buttons()[0]), "embeddingMode:pe").click()
    assert table.mode == "pe"
    assert float(table.data(table.index(1, 0), Qt.ItemDataRole.EditRole)) == pytest.approx(math.sin(1))
    assert not table.flags(table.index(1, 0)) & Qt.ItemFlag.ItemIsEditable
    window.findChild(type(window.embedding_mode.buttons()[0]), "embeddingMode:x").click()
    doc = window.model.document()
    assert float(table.data(table.index(1, 1), Qt.ItemDataRole.EditRole)) == pytest.approx(
        doc.embeddings[doc.vocab.index("go"), 1] + math.cos(1)
    )


def test_editing_an_unknown_words_embedding_adds_it_to_the_vocabulary(window, qtbot):
    window.sentence_edit.setText("")
    qtbot.keyClicks(window.sentence_edit, "Let's eat")
    table = window.tables["embeddings"].model()
    qtbot.waitUntil(lambda: table.rowCount() == 2)
    assert table.setData(table.index(1, 0), "0.75")
    assert "eat" in window.model.vocab
    doc = window.model.document()
    assert doc.embeddings[doc.vocab.index("eat"), 0] == 0.75
    window.undo_action.trigger()
    assert "eat" not in window.model.vocab


def test_status_bar_shows_shapes_and_how_long_the_pass_took(window, qtbot):
    text = window.shape_label.text()
    assert "2 tokens" in text and "d_model 2" in text and "1 head" in text
    assert re.fullmatch(r"computed in \d+\.\d\d ms", window.time_label.text())
    # the time changes on every edit without moving anything in the status bar, even when slow
    label = window.time_label
    width = label.width()
    window.model.set_sentence("Let's go go")
    qtbot.waitUntil(lambda: "3 tokens" in window.shape_label.text())
    assert label.width() == width
    assert label.fontMetrics().horizontalAdvance("computed in 12345.68 ms") <= label.contentsRect().width()
    # a bigger font makes room for the same text again
    font = label.font()
    font.setPointSizeF(font.pointSizeF() * 1.6)
    label.setFont(font)
    metrics = label.fontMetrics()
    assert metrics.horizontalAdvance("computed in 12345.68 ms") <= label.contentsRect().width()
    assert metrics.height() <= label.contentsRect().height()


def test_an_edit_repaints_the_time_alone_not_the_whole_status_bar(window, qtbot):
    qtbot.waitExposed(window)
    paints = EventLog(QEvent.Type.Paint)
    painted = paints.objects
    for widget in (window.statusBar(), window.time_label, window.shape_label):
        widget.installEventFilter(paints)
    times = set()
    for value in (0.25, 0.5, 0.75, 1.0, 1.25):
        passes = window.model.recompute_count
        window.model.set_cell("W_q", 0, 0, 0, value)
        qtbot.waitUntil(lambda passes=passes: window.model.recompute_count > passes)
        qtbot.wait(20)  # the repaint
        times.add(window.time_label.text())
    assert len(times) > 1 and window.time_label in painted  # the times differ to the hundredth of a ms
    assert window.statusBar() not in painted and window.shape_label not in painted


@pytest.mark.parametrize("temperature, shown", [(0.005, "0.005"), (250.0, "250.00"), (2.5, "2.50")])
def test_a_files_temperature_is_shown_as_it_is(window, temperature, shown):
    doc = load_example("lets-go")
    window.model.load(doc.replace(config=doc.config.__class__(temperature=temperature)))
    assert window.options.temperature.text() == shown
    assert window.model.config.temperature == temperature  # showing it did not change it
    assert f"÷ {temperature:g}" in window.calculation.to_plain_text()


def test_a_very_long_word_does_not_widen_the_window(window, qtbot):
    word = "supercalifragilistic" * 10
    window.sentence_edit.setText("")
    qtbot.keyClicks(window.sentence_edit, f"go {word} go")
    qtbot.waitUntil(lambda: window.model.result.n_tokens == 3)
    window.show_panel("selected")
    qtbot.wait(10)
    assert window.minimumSizeHint().width() <= 1000
    assert len(window.tables["embeddings"].model().headerData(1, Qt.Orientation.Vertical)) < 25
    assert window.model.result.tokens[1] == word  # only the labels are shortened


def test_the_embeddings_table_has_the_fill_menu_too(window, qtbot, dialogs):
    window.sentence_edit.setText("")
    qtbot.keyClicks(window.sentence_edit, "go eat go")
    view = window.tables["embeddings"]
    qtbot.waitUntil(lambda: view.model().rowCount() == 3)
    menu = view.build_menu(view.model().index(1, 0))
    next(a for a in menu.actions() if a.objectName() == "fill:zeros").trigger()
    doc = window.model.document()
    assert "eat" in doc.vocab  # the unknown word joined the vocabulary
    for word in ("go", "eat"):
        np.testing.assert_array_equal(doc.embeddings[doc.vocab.index(word)], np.zeros(2))
    dialogs.answer("getDouble", (0.5, True))
    next(a for a in view.build_menu(view.model().index(1, 1)).actions() if a.objectName() == "fill:column").trigger()
    doc = window.model.document()
    assert doc.embeddings[doc.vocab.index("eat"), 1] == 0.5 and doc.embeddings[doc.vocab.index("go"), 1] == 0.5
    window.undo_action.trigger()
    window.undo_action.trigger()
    assert "eat" not in window.model.vocab
    window.findChild(QRadioButton, "embeddingMode:pe").click()
    assert view.build_menu(view.model().index(0, 0)) is None  # PE is computed, not edited


def test_fill_row_of_a_weight_matrix(window, dialogs):
    view = window.tables["W_v"]
    dialogs.answer("getDouble", (-1.5, True))
    actions = {a.objectName(): a for a in view.build_menu(view.model().index(1, 0)).actions()}
    # the menu names the row and column as their headers do, counting from 1 (it said "row 1", "column 0")
    assert (actions["fill:row"].text(), actions["fill:column"].text()) == ("Fill row x₂…", "Fill column v₁…")
    actions["fill:row"].trigger()
    np.testing.assert_array_equal(window.model.document().W_v[0, 1], [-1.5, -1.5])
    assert dialogs.names() == ["getDouble"]
    assert window.undo_action.text() == "&Undo Fill W_v row x₂"


def test_the_embeddings_menu_names_a_row_by_its_token(window, dialogs):
    """It used the row's label ('2 &*': number, token, unknown-word mark), and its & underlined the next letter."""
    window.model.set_sentence("rock & roll")
    view = window.tables["embeddings"]
    window.model.flush()
    actions = {a.objectName(): a for a in view.build_menu(view.model().index(1, 0)).actions()}
    assert actions["fill:row"].text() == "Fill row 2 '&&'…"  # shown as "Fill row 2 '&'…"
    dialogs.answer("getDouble", (0.25, True))
    actions["fill:row"].trigger()
    assert window.undo_action.text() == "&Undo Fill embeddings row 2 '&'"


def test_hovering_a_weights_cell_describes_it(window):
    text = window.weights.describe_cell(0, 1)
    r = window.model.result
    assert "query \"Let's\"" in text and "key 'go'" in text
    score = f"{r.scores[0, 0, 1]:.2f}".replace("-", "−")
    assert f"weight = {r.weights[0, 0, 1]:.2f}" in text and f"q·k = {score}" in text


def test_pasting_a_book_is_refused_and_the_sentence_kept(window, qtbot):
    from attnviz.engine.tokenizer import MAX_TOKENS

    before = window.model.document()
    window.sentence_edit.selectAll()
    window.sentence_edit.insert("word " * (MAX_TOKENS + 5))  # as a paste does: emits textEdited
    assert window.sentence_edit.text() == "Let's go"
    assert window.model.document().equals(before) and window.model.undo_stack.count() == 0
    assert f"at most {MAX_TOKENS}" in window.statusBar().currentMessage()


@pytest.mark.parametrize("temperature", [0.015, 1.0471285480508996, 12.345, 1234.5])
def test_enter_in_an_untouched_temperature_box_changes_nothing(window, temperature):
    from PySide6.QtTest import QTest

    doc = load_example("lets-go")
    window.model.load(doc.replace(config=doc.config.__class__(temperature=temperature)))
    window.options.temperature.setFocus()
    QTest.keyClick(window.options.temperature, Qt.Key.Key_Return)
    assert window.model.config.temperature == temperature
    assert window.model.undo_stack.count() == 0 and not window.isWindowModified()


@pytest.mark.parametrize("typed", ["0", "-1", "nan", "abc", "2,5", "1e7", "0.0000001"])
def test_the_temperature_box_refuses_what_is_not_a_positive_number(window, typed):
    from PySide6.QtTest import QTest

    box = window.options.temperature
    box.selectAll()
    QTest.keyClicks(box.lineEdit(), typed)
    assert box.text() == typed  # every key kept as typed: nothing silently dropped
    QTest.keyClick(box, Qt.Key.Key_Return)
    assert window.model.config.temperature == 1.0 and box.text() == "1.00"
    message = window.statusBar().currentMessage()
    assert "temperature" in message and repr(typed) in message and len(message.splitlines()) == 1


@pytest.mark.parametrize("typed", ["0.05", "0.001", "0.5", "2.5", "1e-3", "0.000001", "1000000", ".25"])
def test_a_typed_temperature_is_taken_as_typed(window, qtbot, typed):
    """The box once refused each "0" after the point key by key: 0.05 became .5."""
    from PySide6.QtTest import QTest

    box = window.options.temperature
    box.selectAll()
    QTest.keyClicks(box.lineEdit(), typed)
    QTest.keyClick(box, Qt.Key.Key_Return)
    assert window.model.config.temperature == float(typed)
    expected = window_weights(window, temperature=float(typed))
    qtbot.waitUntil(lambda: matches(window.weights, expected))


@pytest.mark.parametrize(("temperature", "shown"), [(1e-9, "1e-09"), (5e-324, "4.94066e-324"), (1e9, "1e+09")])
def test_a_files_temperature_past_what_can_be_typed_is_shown_as_it_is(window, temperature, shown):
    from PySide6.QtTest import QTest

    doc = load_example("lets-go")
    window.model.load(doc.replace(config=doc.config.__class__(temperature=temperature)))
    box = window.options.temperature
    assert box.text() == shown
    box.setFocus()
    QTest.keyClick(box, Qt.Key.Key_Return)  # untouched: nothing changes
    assert window.model.config.temperature == temperature and window.model.undo_stack.count() == 0
    window.model.load(doc)
    assert box.text() == "1.00"


@pytest.mark.parametrize(("temperature", "typed"), [(1e9, "1e6"), (1e-9, "0.000001")])
def test_typing_the_end_the_box_holds_for_a_temperature_beyond_it_sets_it(window, temperature, typed):
    """The box held 1e6 for a file's 1e9, so typing 1e6 was no change in Qt's eyes: nothing happened."""
    doc = load_example("lets-go")
    window.model.load(doc.replace(config=doc.config.__class__(temperature=temperature)))
    type_into(window.options.temperature, typed)
    assert window.model.config.temperature == float(typed) and window.options.temperature.text() == \
        window.options.temperature.textFromValue(float(typed))
    assert window.model.undo_stack.count() == 1


def test_token_chips_follow_the_words_their_vocabulary_and_the_selected_token(window, qtbot):
    def chips() -> list[tuple[str, bool]]:
        """(text, selected) of each token's chip."""
        return [(c.text, c.selected) for c in window.sentence.chips.chips() if c.token >= 0]

    assert chips() == [("Let's", True), ("go", False)]
    assert window.sentence.chips.text() == "2 tokens: Let's  ·  go"
    window.sentence_edit.setText("")
    qtbot.keyClicks(window.sentence_edit, "go eat")
    qtbot.waitUntil(lambda: chips() == [("go", True), ("eat*", False)])  # * : not in the vocabulary
    window.view.set_token(1)
    assert chips() == [("go", False), ("eat*", True)]
    # giving "eat" an embedding keeps the words and changes only the chip's mark
    embeddings = window.tables["embeddings"].model()
    assert embeddings.setData(embeddings.index(1, 0), "0.5")
    qtbot.waitUntil(lambda: chips() == [("go", False), ("eat", True)])
    window.undo_action.trigger()
    qtbot.waitUntil(lambda: chips() == [("go", False), ("eat*", True)])


def test_a_click_on_a_chip_selects_its_token_and_a_click_between_chips_does_nothing(window, qtbot):
    chips = window.sentence.chips
    window.sentence_edit.setText("")
    qtbot.keyClicks(window.sentence_edit, "go go go now")
    qtbot.waitUntil(lambda: len(chips.chips()) == 5)
    for token in (3, 0, 2):
        rect = chips.chip_rect(token)
        assert chips.rect().contains(rect.toRect())  # drawn inside the widget
        qtbot.mouseClick(chips, Qt.MouseButton.LeftButton, pos=rect.center().toPoint())
        assert window.view.token == token
    gap = (chips.chip_rect(0).right() + chips.chip_rect(1).left()) / 2  # on the separator
    qtbot.mouseClick(chips, Qt.MouseButton.LeftButton, pos=QPoint(int(gap), int(chips.chip_rect(0).center().y())))
    assert window.view.token == 2


def test_the_keyboard_alone_follows_another_token(window, qtbot):
    """Tab from the sentence box to the chips, then the arrows, Home and End; Ctrl+] and Ctrl+[ from anywhere."""
    chips, edit, page = window.sentence.chips, window.sentence_edit, window.calculation.text
    edit.setText("")
    qtbot.keyClicks(edit, "go go go now")
    qtbot.waitUntil(lambda: len(chips.chips()) == 5)
    assert window.view.token == 0
    qtbot.keyClick(edit, Qt.Key.Key_Tab)
    assert QApplication.focusWidget() is chips
    for key, token in ((Qt.Key.Key_Right, 1), (Qt.Key.Key_Down, 2), (Qt.Key.Key_Left, 1), (Qt.Key.Key_End, 3),
                       (Qt.Key.Key_Right, 3), (Qt.Key.Key_Home, 0), (Qt.Key.Key_Up, 0)):
        qtbot.keyClick(chips, key)
        assert window.view.token == token, key
    qtbot.keyClick(chips, Qt.Key.Key_End)
    qtbot.waitUntil(lambda: "word 4 of 4" in page.toPlainText())  # the calculation follows
    assert window.scores.highlight.rect().center().y() == 3  # and the heatmaps' outline
    edit.setFocus()
    for sequence, token in (("Ctrl+[", 2), ("Ctrl+[", 1), ("Ctrl+]", 2)):
        qtbot.keyClick(edit, *_key_and_modifiers(sequence))
        assert window.view.token == token, sequence
    assert edit.text() == "go go go now"  # the box took none of those keys
    # the View menu offers only the steps there are
    enabled = lambda: (window.previous_token_action.isEnabled(), window.next_token_action.isEnabled())  # noqa: E731
    assert enabled() == (True, True)
    window.view.set_token(3)
    assert enabled() == (True, False)
    window.view.set_token(0)
    assert enabled() == (False, True)
    edit.setText("")
    qtbot.keyClicks(edit, "go")
    qtbot.waitUntil(lambda: window.model.result.n_tokens == 1)
    assert enabled() == (False, False)
    edit.clear()
    edit.textEdited.emit("")
    qtbot.waitUntil(lambda: window.model.result.n_tokens == 0)
    assert enabled() == (False, False)


def _key_and_modifiers(sequence: str) -> tuple[Qt.Key, Qt.KeyboardModifier]:
    combination = QKeySequence(sequence)[0]
    return combination.key(), combination.keyboardModifiers()


def test_a_click_on_a_chip_leaves_the_focus_in_the_sentence_box(window, qtbot):
    chips, edit = window.sentence.chips, window.sentence_edit
    edit.setFocus()
    qtbot.waitUntil(edit.hasFocus)
    qtbot.mouseClick(chips, Qt.MouseButton.LeftButton, pos=chips.chip_rect(1).center().toPoint())
    assert window.view.token == 1
    assert edit.hasFocus()  # typing goes on where it was


def test_a_token_past_the_chips_shown_is_marked_on_the_chip_that_stands_for_them(window, qtbot):
    chips, edit = window.sentence.chips, window.sentence_edit
    edit.setText(" ".join(["go"] * 70))
    edit.textEdited.emit(edit.text())
    qtbot.waitUntil(lambda: window.model.result.n_tokens == 70)
    edit.setFocus()
    qtbot.keyClick(edit, Qt.Key.Key_Tab)
    qtbot.keyClick(chips, Qt.Key.Key_End)
    assert window.view.token == 69
    more = chips.chips()[-1]
    assert more.text.startswith("… and") and more.selected  # bold and underlined, and framed
    assert not any(c.selected for c in chips.chips()[:-1])
    assert "token 70 of 70" in chips.accessibleDescription()  # what a screen reader says
    qtbot.keyClick(chips, Qt.Key.Key_Home)
    assert chips.chips()[1].selected and not chips.chips()[-1].selected
    assert "token 1 of 70" in chips.accessibleDescription()


def test_in_a_short_window_every_chip_shown_can_be_clicked_and_one_stands_for_the_rest(window, qtbot):
    chips, edit = window.sentence.chips, window.sentence_edit
    edit.setText(" ".join(["the dog found some pizza next to the baby and ate it"] * 6) + " then slept")
    edit.textEdited.emit(edit.text())
    qtbot.waitUntil(lambda: window.model.result.n_tokens == 74)
    window.resize(1100, 700)
    qtbot.waitUntil(lambda: window.height() == 700 and chips.height() < chips.heightForWidth(chips.width()))
    *kept, more = chips.shown_chips()
    tokens = [c.token for c in kept if c.token >= 0]
    assert more.text == f"… and {74 - len(tokens)} more" and tokens == list(range(len(tokens)))
    visible = chips.visibleRegion().boundingRect()
    for token in (0, tokens[-1]):
        rect = chips.chip_rect(token)
        assert visible.contains(rect.toRect()), token  # on screen, not cut off by the window
        qtbot.mouseClick(chips, Qt.MouseButton.LeftButton, pos=rect.center().toPoint())
        assert window.view.token == token
    qtbot.keyClick(edit, *_key_and_modifiers("Ctrl+]"))  # to the first token without a chip
    assert window.view.token == tokens[-1] + 1
    assert chips.shown_chips()[-1].selected and not any(c.selected for c in chips.shown_chips()[:-1])
    window.resize(1280, 1000)  # room again: every chip up to the sentence box's own limit
    qtbot.waitUntil(lambda: chips.shown_chips() == chips.chips())


def test_with_no_tokens_the_chips_still_show_the_focus(window, qtbot):
    chips, edit = window.sentence.chips, window.sentence_edit
    edit.setText("")
    edit.textEdited.emit("")
    qtbot.waitUntil(lambda: window.model.result.n_tokens == 0)
    edit.setFocus()
    qtbot.keyClick(edit, Qt.Key.Key_Tab)
    assert chips.hasFocus()
    focused = rgb(chips.grab())
    chips.clearFocus()
    qtbot.waitUntil(lambda: not chips.hasFocus())
    assert (focused != rgb(chips.grab())).any()
    assert chips.accessibleDescription() == "No token selected."


def test_chips_wrap_to_the_width_and_ask_for_the_height_they_need(window, qtbot):
    chips = window.sentence.chips
    window.sentence_edit.setText("")
    qtbot.keyClicks(window.sentence_edit, " ".join(["word"] * 60))
    qtbot.waitUntil(lambda: len(chips.chips()) == 61)
    line = chips.chip_rect(0).height()
    qtbot.waitUntil(lambda: chips.height() >= chips.heightForWidth(chips.width()) > line)  # lines, all shown
    rects = [chips.chip_rect(i) for i in range(60)]
    assert all(chips.rect().contains(r.toRect()) for r in rects)
    # in reading order, never overlapping: each chip right of the one before, or on a lower line
    for a, b in itertools.pairwise(rects):
        assert (b.top() == a.top() and b.left() >= a.right()) or b.top() >= a.bottom()
    assert chips.heightForWidth(100_000) == int(line + 0.999)  # one line when wide enough


def type_into(box, text: str) -> None:
    from PySide6.QtTest import QTest

    box.setFocus()
    box.selectAll()
    QTest.keyClicks(box.lineEdit(), text)
    QTest.keyClick(box, Qt.Key.Key_Return)


@pytest.mark.parametrize(("box", "typed"), [("spin:d_model", "5000"), ("spin:d_k", "4097"), ("spin:heads", "0"),
                                           ("spin:d_model", "abc"), ("spin:heads", "2.5"), ("spin:head", "3")])
def test_a_dimension_that_cannot_be_typed_is_named_not_cut(window, box, typed):
    """Qt dropped the key that took a number past the range: 5000 became 500, and d_model was resized to it."""
    from PySide6.QtWidgets import QAbstractSpinBox

    spin = window.findChild(QAbstractSpinBox, box)
    before, value = window.model.document(), spin.value()
    type_into(spin, typed)
    assert window.model.document().equals(before) and spin.value() == value and window.view.head == 0
    message = window.statusBar().currentMessage()
    assert "must be a whole number from 1 to" in message and repr(typed) in message


def test_a_resize_too_large_for_memory_is_named_and_the_boxes_stay_true(window):
    boxes = window.dimensions
    type_into(boxes.d_k, "4096")
    type_into(boxes.d_model, "4096")  # 4096 × 4096 numbers in W_q: past what a matrix may hold
    assert (window.model.d_model, window.model.d_k) == (2, 4096)
    assert (boxes.d_model.value(), boxes.d_k.value()) == (2, 4096)
    message = window.statusBar().currentMessage()
    assert "W_q would hold" in message and "at most" in message
    type_into(boxes.n_heads, "4096")
    assert window.model.n_heads == 1 and boxes.n_heads.value() == 1


def test_a_slider_moved_out_and_back_leaves_the_window_unmodified(window):
    from PySide6.QtTest import QTest

    slider = window.options.slider
    slider.setFocus()
    for key in [Qt.Key.Key_Right] * 3:
        QTest.keyClick(slider, key)
    assert window.model.config.temperature != 1.0 and window.isWindowModified()
    for key in [Qt.Key.Key_Left] * 3:
        QTest.keyClick(slider, key)
    assert window.model.config.temperature == 1.0
    assert not window.isWindowModified() and window.model.undo_stack.count() == 0
    assert not window.undo_action.isEnabled()


def test_ctrl_z_in_the_sentence_box_undoes_the_document_not_the_boxs_text(window, qtbot):
    """The box's own undo used to retype the sentence as a new edit: a step that changed nothing, and [*]."""
    from PySide6.QtTest import QTest

    edit = window.sentence_edit
    window.tables["W_q"].model().setData(window.tables["W_q"].model().index(0, 0), "0.5", Qt.ItemDataRole.EditRole)
    edit.setFocus()
    edit.end(False)
    QTest.keyClicks(edit, " now")
    assert window.model.sentence == "Let's go now" and window.model.undo_stack.count() == 2
    QTest.keyClick(edit, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert window.model.sentence == "Let's go" == edit.text() and window.model.undo_stack.index() == 1
    QTest.keyClick(edit, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)  # then the W_q edit, from the box too
    assert window.model.undo_stack.index() == 0 and not window.isWindowModified()
    for redo in (Qt.Key.Key_Y, Qt.Key.Key_Z):  # Ctrl+Y and Ctrl+Shift+Z both redo
        shift = Qt.KeyboardModifier.ShiftModifier if redo == Qt.Key.Key_Z else Qt.KeyboardModifier.NoModifier
        QTest.keyClick(edit, redo, Qt.KeyboardModifier.ControlModifier | shift)
    assert window.model.undo_stack.index() == 2 and edit.text() == "Let's go now"


@pytest.mark.parametrize("redo", [False, True])
def test_undo_keys_with_nothing_to_undo_leave_the_sentence_box_alone(window, redo):
    """With the window's Undo greyed out the key reached the box, whose own undo retyped the sentence."""
    from PySide6.QtTest import QTest

    edit = window.sentence_edit
    edit.setFocus()
    edit.end(False)
    QTest.keyClicks(edit, "x")
    QTest.keyClick(edit, Qt.Key.Key_Backspace)  # back where it started: no step is left
    assert window.model.undo_stack.count() == 0 and not window.undo_action.isEnabled()
    keys = (Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier) if redo else (
        Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    QTest.keyClick(edit, *keys)
    assert edit.text() == window.model.sentence == "Let's go"
    assert window.model.undo_stack.count() == 0 and not window.isWindowModified()


@pytest.mark.parametrize("box", ["spin:temperature", "spin:d_model"])
def test_ctrl_z_right_after_a_number_box_edit_undoes_it(window, qtbot, box):
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QAbstractSpinBox

    spin = window.findChild(QAbstractSpinBox, box)
    before = window.model.document()
    type_into(spin, "3")
    assert not window.model.document().equals(before)
    QTest.keyClick(spin, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)  # the focus is still in the box
    assert window.model.document().equals(before) and not window.isWindowModified()
    assert spin.text() in ("1.00", "2")


@pytest.mark.parametrize("key", [Qt.Key.Key_Tab, Qt.Key.Key_Backtab])
def test_tab_goes_round_every_control_on_screen_and_back(window, qtbot, key):
    """Tab stuck in the tables (cell to cell) and in the calculation page (link to link), and went into the
    docks behind other docks' tabs, out of sight: Digits and Copy could not be reached from the keyboard."""
    from PySide6.QtCore import QPoint, QRect
    from PySide6.QtTest import QTest

    window.sentence_edit.setFocus()
    qtbot.waitUntil(window.sentence_edit.hasFocus)
    visited = []
    for _ in range(60):
        QTest.keyClick(QApplication.focusWidget(), key)
        focus = QApplication.focusWidget()
        if focus is window.sentence_edit:
            break
        where = QRect(focus.mapTo(window, QPoint(0, 0)), focus.size())
        assert window.rect().intersects(where), f"{focus.objectName()} has the focus out of sight"
        assert focus not in visited, f"Tab stays in {focus.objectName()}"  # one stop per control
        visited.append(focus)
    else:
        pytest.fail("Tab did not come back to the sentence box")
    names = {w.objectName() for w in visited}
    assert {"calc:precision", "calc:copy", "calc:text", "table:embeddings", "spin:temperature"} <= names


def test_the_d_k_box_leaves_a_files_own_d_v_alone(window):
    """d_v follows d_k while they are equal; a file with d_v ≠ d_k had its W_v resized behind the user's back."""
    type_into(window.dimensions.d_k, "3")
    assert window.model.d_k == window.model.d_v == 3
    window.model.resize(d_v=5)
    before = window.model.document().W_v.copy()
    type_into(window.dimensions.d_k, "4")
    assert (window.model.d_k, window.model.d_v) == (4, 5)
    np.testing.assert_array_equal(window.model.document().W_v, before)


def test_number_boxes_under_a_locale_with_its_own_digits_take_what_they_show(qtbot):
    """Under ar_EG the boxes show ٢: they refused their own text as 'not a whole number'."""
    from PySide6.QtCore import QLocale
    from PySide6.QtTest import QTest

    from attnviz.gui.main_window import MainWindow

    previous = QLocale()
    QLocale.setDefault(QLocale("ar_EG"))
    try:
        w = MainWindow(use_settings=False)
        qtbot.addWidget(w, before_close_func=lambda m: m.model.undo_stack.setClean())
        w.show()
        box = w.dimensions.d_model
        assert box.text() == QLocale("ar_EG").toString(2) != "2"  # the case is there
        box.setFocus()
        QTest.keyClick(box, Qt.Key.Key_Return)
        QTest.keyClick(box, Qt.Key.Key_Tab)
        assert "whole number" not in w.statusBar().currentMessage() and w.model.undo_stack.count() == 0
    finally:
        QLocale.setDefault(previous)


def test_weights_whose_scores_overflow_get_a_warning_that_undo_takes_away(window, qtbot):
    from tests.gui.test_table_models import type_into_cell

    view = window.tables["W_q"]
    window.tabs.setCurrentWidget(view)
    warning = window.findChild(QLabel, "status:overflow")
    assert warning.isHidden()
    # q = x W_q overflows to ±inf; inf meets inf and 0 in q·k: scores ±inf and NaN, so NaN weights,
    # whose bars and numbers once crashed the window
    for row, col, text in ((0, 0, "1e308"), (1, 0, "1e308"), (0, 1, "-1e308")):
        type_into_cell(qtbot, view, row, col, text)
    window.model.flush()
    qtbot.waitUntil(lambda: warning.isVisible())
    assert warning.text() == "⚠ The similarity scores overflow a 64-bit float"
    assert np.isnan(window.model.result.weights).any()
    assert "NaN" in window.selected.numbers.texts()
    window.grab()
    for _ in range(3):
        window.undo_action.trigger()
    window.model.flush()
    assert warning.isHidden() and window.model.result.overflow() is None


def test_a_narrow_window_shortens_the_bar_charts_title_and_keeps_every_bar(qtbot):
    # the title label was as wide as its text, and the plot as wide as its title: at 900 px the
    # chart ran past its panel and the last two bars were out of view
    window = MainWindow(load_example("pizza"), use_settings=False)
    qtbot.addWidget(window, before_close_func=lambda w: w.model.undo_stack.setClean())
    window.resize(900, 650)
    window.show()
    qtbot.waitExposed(window)
    panel = window.selected
    plot = panel.getPlotItem()
    qtbot.waitUntil(lambda: plot.titleLabel.text.endswith("…"))
    assert plot.titleLabel.text.startswith("What 'The' attends to")
    assert plot.geometry().width() <= panel.viewport().width()
    left, right = plot.vb.viewRange()[0]
    assert left < -0.35 and right > len(window.model.result.tokens) - 0.65  # every bar's whole width
    window.resizeDocks([window.docks["selected"]], [420], Qt.Orientation.Horizontal)  # room again
    qtbot.waitUntil(lambda: plot.titleLabel.text == "What 'The' attends to (head 1)")


@pytest.mark.parametrize(("sentence", "chips", "status"), [
    ("go", "1 token: go", "1 token · d_model 2"),
    ("go go", "2 tokens: go  ·  go", "2 tokens · d_model 2"),
])
def test_one_token_is_counted_in_the_singular(window, qtbot, sentence, chips, status):
    window.sentence_edit.selectAll()
    qtbot.keyClicks(window.sentence_edit, sentence)
    qtbot.waitUntil(lambda: window.sentence.chips.text() == chips)
    assert window.shape_label.text().startswith(status)
    assert window.shape_label.text().endswith("· 1 head ·")


def test_a_refusal_leaves_the_status_bar_once_a_value_is_taken(window, qtbot):
    box = window.findChild(QAbstractSpinBox, "spin:temperature")
    box.setFocus()
    box.selectAll()
    qtbot.keyClicks(box, "abc")
    qtbot.keyClick(box, Qt.Key.Key_Return)
    assert "temperature" in window.statusBar().currentMessage()
    box.selectAll()
    qtbot.keyClicks(box, "0.5")
    qtbot.keyClick(box, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.model.config.temperature == 0.5)
    window.model.flush()
    assert window.statusBar().currentMessage() == ""
    # a message that is not the refusal stays
    window.statusBar().showMessage("Saved x.json", 4000)
    window.model.set_option("temperature", 0.75)
    window.model.flush()
    assert window.statusBar().currentMessage() == "Saved x.json"


@pytest.mark.parametrize("value", [6e307, -1.7e308])
def test_values_near_the_largest_float_keep_a_colour_bar_that_paints(window, qtbot, value):
    # an output of 8.7e307 rounds its colour-bar end up to 1e308: the span of ±1e308 overflowed
    # inside pyqtgraph's ticks, at every paint (and the process crashed under --screenshot)
    window.model.set_cell("W_v", 0, 0, 0, value)
    window.model.flush()
    lo, hi = window.output.colorbar.levels()
    assert math.isfinite(hi - lo)
    window.grab()  # pytest-qt fails the test on an exception inside a paint
    assert window.output.colorbar.levels() == (lo, hi)


@pytest.mark.parametrize("value", [1e-40, -1e-310, 5e-324])
def test_tiny_values_get_their_colours_in_the_heatmaps(window, value):
    # below ≈ 4e-37 the colour steps per unit overflowed float32: every cell took the top colour,
    # or none (NaN), with a RuntimeWarning on stderr
    window.model.fill_matrix("W_q", 0, "zeros")
    window.model.set_cell("W_q", 0, 0, 0, value)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        window.model.flush()
        window.grab()
        rows = window.scores.image.table_rows(256)
    scores = window.model.result.scores[0]
    lo, hi = window.scores.colorbar.levels()
    expected = np.clip(np.floor((scores / 2 - lo / 2) / (hi / 2 - lo / 2) * 256), 0, 255)  # as an ImageItem maps
    assert (rows >= 0).all()
    assert np.abs(rows - expected).max() <= 1, (rows, expected)

"""After an edit the calculation panel updates the blocks on screen at once and the rest when edits pause.

What is on screen must always be the current page, block for block, and the
whole page must be current after the pause, or as soon as a block not yet
updated is painted (a scroll, a resize, a zoom) or the reader selects all or
copies (keys or context menu). "Current" is checked against a
QTextDocument built afresh from the panel's page.
"""

from __future__ import annotations

import time

import pytest
from PySide6.QtCore import QEvent, QPoint, QRectF, Qt
from PySide6.QtGui import (
    QContextMenuEvent,
    QGuiApplication,
    QKeyEvent,
    QTextCursor,
    QTextDocument,
    QTextDocumentFragment,
)
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from attnviz.gui.calculation_document import CalculationDocument
from attnviz.gui.calculation_panel import REST_DELAY_MS
from tests.gui.test_calculation_panel import make_panel, random_doc


def built(panel, page) -> QTextDocument:
    document = QTextDocument()
    document.setDefaultFont(panel.text.document().defaultFont())
    CalculationDocument(document).show(page)
    return document


def fresh_blocks(panel) -> list[str]:
    return block_texts(built(panel, panel.to_page()))


def block_texts(document) -> list[str]:
    out, block = [], document.begin()
    while block.isValid():
        out.append(block.text())
        block = block.next()
    return out


def blocks_in_view(panel) -> list[int]:
    """Every block any part of which lies in the viewport, found from the layout independently of the panel."""
    document = panel.text.document()
    layout = document.documentLayout()
    top = panel.text.verticalScrollBar().value()
    seen = QRectF(0, top, 1, panel.text.viewport().height())
    out = []
    for b in range(document.blockCount()):
        rect = layout.blockBoundingRect(document.findBlockByNumber(b))
        if rect.top() < seen.bottom() and rect.bottom() > seen.top():
            out.append(b)
    return out


def short_panel(qtbot, doc, width: int = 700):
    """A panel showing the top of a page far taller than its view."""
    model, view, panel = make_panel(qtbot, doc, show=True)
    panel.resize(width, 260)
    qtbot.waitUntil(lambda: panel.text.verticalScrollBar().maximum() > 3 * panel.text.viewport().height())
    panel.regenerate()
    return model, view, panel


def wrapping_panel(qtbot):
    """A narrow panel at 8 digits, whose vectors' lines wrap (fewer digits unwrap them)."""
    _, view, panel = short_panel(qtbot, random_doc(63, 8, 8, 8, 1, 5), width=330)
    view.set_precision(8)
    panel.regenerate()
    return view, panel


def assert_on_screen_is_current(panel) -> None:
    new, shown = fresh_blocks(panel), block_texts(panel.text.document())
    on_screen = blocks_in_view(panel)
    assert [shown[b] for b in on_screen] == [new[b] for b in on_screen]


def focus_text(qtbot, panel) -> None:
    panel.activateWindow()
    panel.text.setFocus()
    qtbot.waitUntil(panel.text.hasFocus)


def wait_for_the_rest(qtbot, panel, whole: int) -> None:
    """Wait for the whole-page update that follows a pause (``whole``: the count before it)."""
    qtbot.waitUntil(lambda: panel.regenerations > whole, timeout=5 * REST_DELAY_MS + 2000)


def edited_once(qtbot, panel, change) -> None:
    """Make a change and wait for the panel's next update, whichever kind it is."""
    before = panel.on_screen_updates + panel.regenerations
    change()
    qtbot.waitUntil(lambda: panel.on_screen_updates + panel.regenerations > before)


def test_an_edit_updates_the_blocks_on_screen_at_once_and_the_rest_after_a_pause(qtbot):
    doc = random_doc(61, 4, 4, 4, 1, 8)
    model, _, panel = short_panel(qtbot, doc)
    whole_before = panel.regenerations
    old = block_texts(panel.text.document())
    edited_once(qtbot, panel, lambda: model.set_cell("W_q", 0, 0, 0, 2.75))
    assert panel.regenerations == whole_before  # only the part on screen so far
    new, shown = fresh_blocks(panel), block_texts(panel.text.document())
    on_screen = blocks_in_view(panel)
    assert [shown[b] for b in on_screen] == [new[b] for b in on_screen]
    # off screen, the q·k lines still hold the old numbers (the edit changed them)
    off = [b for b in range(len(new)) if b not in on_screen and new[b] != old[b]]
    assert off and all(shown[b] == old[b] for b in off)
    wait_for_the_rest(qtbot, panel, whole_before)
    assert block_texts(panel.text.document()) == fresh_blocks(panel)


def test_the_blocks_on_screen_are_found_again_after_any_change_of_contents(qtbot):
    """Even one that keeps the page's size: lines more in the first block, as many less in the last."""
    _, _, panel = short_panel(qtbot, random_doc(61, 4, 4, 4, 1, 8))
    document = panel.text.document()
    layout = document.documentLayout()
    look = QTextCursor(document.firstBlock()).charFormat()
    lines = "\u2028x" * 6  # six lines in the first block's font, enough to move the last block on screen off it
    last = QTextCursor(document.lastBlock())
    last.movePosition(QTextCursor.MoveOperation.EndOfBlock)
    last.insertText(lines, look)  # to be taken away below
    QApplication.processEvents()
    size, before = layout.documentSize(), panel._blocks_on_screen()
    assert before == blocks_in_view(panel)
    QTextCursor(document.firstBlock()).insertText(lines, look)
    last = QTextCursor(document.lastBlock())
    last.movePosition(QTextCursor.MoveOperation.EndOfBlock)
    last.movePosition(QTextCursor.MoveOperation.Left, QTextCursor.MoveMode.KeepAnchor, len(lines))
    last.removeSelectedText()
    assert layout.documentSize() == size and panel.text.verticalScrollBar().value() == 0
    assert blocks_in_view(panel) != before
    assert panel._blocks_on_screen() == blocks_in_view(panel)


@pytest.mark.parametrize("how", ["scroll", "resize", "zoom"])
def test_the_rest_follows_before_a_block_not_yet_updated_is_painted(qtbot, how):
    doc = random_doc(62, 4, 4, 4, 1, 8)
    model, _, panel = short_panel(qtbot, doc)
    edited_once(qtbot, panel, lambda: model.set_cell("W_k", 0, 1, 1, -1.5))
    assert block_texts(panel.text.document()) != fresh_blocks(panel)
    if how == "scroll":
        panel.text.verticalScrollBar().setValue(panel.text.verticalScrollBar().maximum())
    elif how == "resize":
        panel.resize(700, 500)
    else:
        panel.text.zoomOut(4)  # as Ctrl+wheel does: more blocks on screen, the same scroll position
    QApplication.processEvents()  # the paint, long before the pause is over
    assert block_texts(panel.text.document()) == fresh_blocks(panel)


def test_a_paint_while_an_edit_awaits_its_recompute_leaves_it_to_the_recompute(qtbot):
    # recomputing from inside the text's paint would run every panel's handlers there
    doc = random_doc(62, 4, 4, 4, 1, 8)
    model, _, panel = short_panel(qtbot, doc)
    edited_once(qtbot, panel, lambda: model.set_cell("W_k", 0, 1, 1, -1.5))
    updates = panel.on_screen_updates + panel.regenerations
    model.set_cell("W_k", 0, 2, 2, 2.5)  # recomputed a turn of the event loop later
    panel.text.verticalScrollBar().setValue(panel.text.verticalScrollBar().maximum())
    panel.text.viewport().repaint()  # a paint before that turn
    assert model.recompute_pending
    # that turn: the recompute, then the update of what is on screen
    qtbot.waitUntil(lambda: panel.on_screen_updates + panel.regenerations > updates)
    assert_on_screen_is_current(panel)


def test_once_the_page_is_whole_paints_and_keys_do_no_more_work(qtbot):
    doc = random_doc(62, 4, 4, 4, 1, 8)
    model, _, panel = short_panel(qtbot, doc)
    whole = panel.regenerations
    edited_once(qtbot, panel, lambda: model.set_cell("W_k", 0, 1, 1, -1.5))
    wait_for_the_rest(qtbot, panel, whole)
    whole = panel.regenerations
    panel.text.verticalScrollBar().setValue(panel.text.verticalScrollBar().maximum())
    panel.text.viewport().repaint()
    QTest.keyClick(panel.text, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    assert panel.regenerations == whole


def test_keys_other_than_select_all_and_copy_leave_the_rest_for_the_pause(qtbot):
    # e.g. Ctrl+Z pressed while reading: the undo brings its own update, so rebuilding first is wasted
    doc = random_doc(62, 4, 4, 4, 1, 8)
    model, _, panel = short_panel(qtbot, doc)
    focus_text(qtbot, panel)
    whole = panel.regenerations
    edited_once(qtbot, panel, lambda: model.set_cell("W_k", 0, 1, 1, -1.5))
    for key, modifiers in ((Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier),
                           (Qt.Key.Key_Y, Qt.KeyboardModifier.ControlModifier),
                           (Qt.Key.Key_X, Qt.KeyboardModifier.NoModifier),
                           (Qt.Key.Key_Control, Qt.KeyboardModifier.ControlModifier)):
        QTest.keyClick(panel.text, key, modifiers)
    assert panel.regenerations == whole


def test_an_update_keeps_the_horizontal_scroll(qtbot):
    doc = random_doc(62, 8, 8, 8, 1, 8)
    model, _, panel = short_panel(qtbot, doc, width=330)
    hbar = panel.text.horizontalScrollBar()
    assert hbar.maximum() > 40
    hbar.setValue(40)
    whole = panel.regenerations
    edited_once(qtbot, panel, lambda: model.set_cell("W_q", 0, 1, 1, 3.5))
    assert hbar.value() == 40
    wait_for_the_rest(qtbot, panel, whole)
    assert hbar.value() == 40


def test_a_paint_of_blocks_already_updated_leaves_the_rest_for_the_pause(qtbot):
    doc = random_doc(62, 4, 4, 4, 1, 8)
    model, _, panel = short_panel(qtbot, doc)
    whole = panel.regenerations
    edited_once(qtbot, panel, lambda: model.set_cell("W_k", 0, 1, 1, -1.5))
    panel.text.viewport().repaint()
    panel.window().grab()
    assert panel.regenerations == whole


def test_select_all_and_copy_from_the_keyboard_copy_the_current_page(qtbot):
    doc = random_doc(68, 4, 4, 4, 1, 8)
    model, _, panel = short_panel(qtbot, doc)
    focus_text(qtbot, panel)
    edited_once(qtbot, panel, lambda: model.set_cell("W_q", 0, 0, 1, 4.5))  # e.g. Ctrl+Z while reading
    QTest.keyClick(panel.text, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    QTest.keyClick(panel.text, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    whole = QTextDocumentFragment(built(panel, panel.to_page())).toPlainText()
    assert QGuiApplication.clipboard().text() == whole


@pytest.mark.parametrize("kind", [QEvent.Type.KeyPress, QEvent.Type.ShortcutOverride])
@pytest.mark.parametrize("key", [Qt.Key.Key_A, Qt.Key.Key_C])
def test_either_event_of_select_all_or_copy_brings_the_rest(qtbot, kind, key):
    # a shortcut reaches the focused text as a ShortcutOverride, then (if the text takes it) a KeyPress
    doc = random_doc(68, 4, 4, 4, 1, 8)
    model, _, panel = short_panel(qtbot, doc)
    edited_once(qtbot, panel, lambda: model.set_cell("W_q", 0, 0, 1, 4.5))
    QApplication.sendEvent(panel.text, QKeyEvent(kind, key, Qt.KeyboardModifier.ControlModifier))
    assert block_texts(panel.text.document()) == fresh_blocks(panel)


def test_the_context_menu_sees_the_current_page(qtbot):
    doc = random_doc(69, 4, 4, 4, 1, 8)
    model, _, panel = short_panel(qtbot, doc)
    edited_once(qtbot, panel, lambda: model.set_cell("W_q", 0, 0, 1, 4.5))
    viewport, point = panel.text.viewport(), QPoint(10, 10)
    QApplication.sendEvent(viewport, QContextMenuEvent(QContextMenuEvent.Reason.Mouse, point,
                                                       viewport.mapToGlobal(point)))
    menu = QApplication.activePopupWidget()
    assert menu is not None  # its Select All and Copy act on the page as it is now:
    assert block_texts(panel.text.document()) == fresh_blocks(panel)
    menu.close()


def test_updates_keep_the_first_block_on_screen_in_place(qtbot):
    # narrow: the vectors' lines wrap, and fewer digits make the blocks above the view shorter
    view, panel = wrapping_panel(qtbot)
    kinds = [kind for kind, _ in panel.page.shown]
    first = kinds.index("h3", kinds.index("math"))  # a step's title below the first (wrapped) vector
    document, bar = panel.text.document(), panel.text.verticalScrollBar()

    def top() -> float:
        return document.documentLayout().blockBoundingRect(document.findBlockByNumber(first)).top()

    bar.setValue(int(top()))
    above, whole = top(), panel.regenerations
    assert blocks_in_view(panel)[0] == first
    edited_once(qtbot, panel, lambda: view.set_precision(0))
    assert top() - bar.value() == 0
    wait_for_the_rest(qtbot, panel, whole)
    assert top() < above  # the blocks above it shrank ...
    assert top() - bar.value() == 0  # ... and it stayed where the reader had it
    assert block_texts(document) == fresh_blocks(panel)


def test_a_view_scrolled_to_the_bottom_stays_consistent_while_patches_shrink_the_page(qtbot):
    view, panel = wrapping_panel(qtbot)
    bar = panel.text.verticalScrollBar()
    bar.setValue(bar.maximum())  # a shorter page pulls the scroll bar back while a patch runs
    for digits in (5, 0, 3):
        edited_once(qtbot, panel, lambda d=digits: view.set_precision(d))
        # the document holds exactly the page the panel has recorded as shown
        assert block_texts(panel.text.document()) == block_texts(built(panel, panel.page.shown))
        assert_on_screen_is_current(panel)


def test_blocks_a_patch_brings_on_screen_are_updated_too(qtbot):
    # a narrow panel wraps the vectors' lines; fewer digits unwrap them, and blocks from below move up
    view, panel = wrapping_panel(qtbot)
    # the view ends just above the block after the first vector (a "math" block, which wraps)
    document = panel.text.document()
    math = next(b for b, (kind, _) in enumerate(panel.page.shown) if kind == "math")
    below = document.documentLayout().blockBoundingRect(document.findBlockByNumber(math + 1)).top()
    panel.text.verticalScrollBar().setValue(int(below) - 8 - panel.text.viewport().height())
    before = blocks_in_view(panel)
    assert before[-1] == math
    edited_once(qtbot, panel, lambda: view.set_precision(0))
    after = blocks_in_view(panel)
    assert after[-1] > before[-1]  # the update brought further blocks on screen
    assert_on_screen_is_current(panel)


def test_a_change_of_shape_on_screen_updates_the_whole_page_at_once(qtbot):
    doc = random_doc(64, 4, 4, 4, 1, 8)
    model, _, panel = short_panel(qtbot, doc)
    whole_before = panel.regenerations
    # an unknown first word: its step 1 (on screen) gains the "not in vocabulary" note
    edited_once(qtbot, panel, lambda: model.set_sentence("zebra " + doc.sentence.split(" ", 1)[1]))
    assert panel.regenerations == whole_before + 1
    assert block_texts(panel.text.document()) == fresh_blocks(panel)


def test_a_change_of_shape_off_screen_waits_for_the_pause(qtbot):
    doc = random_doc(64, 4, 4, 4, 1, 8)
    model, _, panel = short_panel(qtbot, doc)
    whole_before, rebuilds = panel.regenerations, panel.page.rebuilds
    edited_once(qtbot, panel, lambda: model.set_option("causal", True))  # the causal note joins step 3
    assert panel.regenerations == whole_before
    assert len(block_texts(panel.text.document())) < len(fresh_blocks(panel))
    wait_for_the_rest(qtbot, panel, whole_before)
    assert panel.page.rebuilds == rebuilds + 1
    assert block_texts(panel.text.document()) == fresh_blocks(panel)


def test_a_panel_hidden_before_the_pause_is_whole_when_shown_again(qtbot):
    doc = random_doc(65, 4, 4, 4, 1, 8)
    model, _, panel = short_panel(qtbot, doc)
    edited_once(qtbot, panel, lambda: model.set_cell("W_v", 0, 2, 2, 3.0))
    panel.hide()
    qtbot.wait(2 * REST_DELAY_MS)
    assert block_texts(panel.text.document()) != fresh_blocks(panel)  # hidden: no work done
    panel.show()
    qtbot.waitExposed(panel)
    assert block_texts(panel.text.document()) == fresh_blocks(panel)


def test_a_burst_of_edits_costs_one_update_on_screen_and_one_of_the_rest(qtbot):
    doc = random_doc(66, 4, 4, 4, 1, 8)
    model, _, panel = short_panel(qtbot, doc)
    on_screen, whole = panel.on_screen_updates, panel.regenerations
    for k in range(50):
        model.set_cell("W_q", 0, k % 4, k % 3, 0.01 * k)
    wait_for_the_rest(qtbot, panel, whole)
    qtbot.wait(2 * REST_DELAY_MS)
    assert (panel.on_screen_updates - on_screen, panel.regenerations - whole) == (1, 1)
    assert block_texts(panel.text.document()) == fresh_blocks(panel)


@pytest.mark.parametrize("second", ["cell", "digits"])
def test_a_change_that_arrives_when_the_pause_is_due_is_shown_on_screen_first(qtbot, second):
    doc = random_doc(67, 4, 4, 4, 1, 8)
    model, view, panel = short_panel(qtbot, doc)
    edited_once(qtbot, panel, lambda: model.set_cell("W_q", 0, 1, 1, 1.25))
    time.sleep(2 * REST_DELAY_MS / 1000)  # the event loop was busy: the pause's timer is due, not yet run
    whole = panel.regenerations
    change = (lambda: model.set_cell("W_q", 0, 2, 2, -1.25)) if second == "cell" else (lambda: view.set_precision(4))
    edited_once(qtbot, panel, change)
    assert panel.regenerations == whole  # the new change did not wait for the whole page
    wait_for_the_rest(qtbot, panel, whole)
    assert block_texts(panel.text.document()) == fresh_blocks(panel)

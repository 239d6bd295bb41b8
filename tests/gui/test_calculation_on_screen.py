"""After an edit the calculation panel updates the blocks on screen at once and the rest when edits pause.

What is on screen must always be the current page, block for block, and the
whole page must be current after the pause, or as soon as the reader scrolls,
resizes the panel or clicks into the text. "Current" is checked against a
QTextDocument built afresh from the panel's page.
"""

from __future__ import annotations

import time

import pytest
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QTextDocument

from attnviz.gui.calculation_document import CalculationDocument
from attnviz.gui.calculation_panel import REST_DELAY_MS
from tests.gui.test_calculation_panel import make_panel, random_doc


def fresh_blocks(panel) -> list[str]:
    document = QTextDocument()
    document.setDefaultFont(panel.text.document().defaultFont())
    CalculationDocument(document).show(panel.to_page())
    return block_texts(document)


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
    qtbot.waitUntil(lambda: panel.regenerations > whole_before, timeout=5 * REST_DELAY_MS + 2000)
    assert block_texts(panel.text.document()) == fresh_blocks(panel)


@pytest.mark.parametrize("how", ["scroll", "resize", "focus"])
def test_the_rest_follows_at_once_when_the_reader_reaches_for_it(qtbot, how):
    doc = random_doc(62, 4, 4, 4, 1, 8)
    model, _, panel = short_panel(qtbot, doc)
    edited_once(qtbot, panel, lambda: model.set_cell("W_k", 0, 1, 1, -1.5))
    assert block_texts(panel.text.document()) != fresh_blocks(panel)
    if how == "scroll":
        panel.text.verticalScrollBar().setValue(panel.text.verticalScrollBar().maximum())
    elif how == "resize":
        panel.resize(700, 500)
    else:
        panel.activateWindow()
        panel.text.setFocus(Qt.FocusReason.MouseFocusReason)
        qtbot.waitUntil(panel.text.hasFocus)
    # no waiting for the pause
    assert block_texts(panel.text.document()) == fresh_blocks(panel)


def test_blocks_a_patch_brings_on_screen_are_updated_too(qtbot):
    # a narrow panel wraps the vectors' lines; fewer digits unwrap them, and blocks from below move up
    doc = random_doc(63, 8, 8, 8, 1, 5)
    _, view, panel = short_panel(qtbot, doc, width=330)
    view.set_precision(8)
    qtbot.waitUntil(lambda: "0.00000" in panel.text.toPlainText() or "0." in panel.text.toPlainText())
    panel.regenerate()
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
    new, shown = fresh_blocks(panel), block_texts(panel.text.document())
    assert [shown[b] for b in after] == [new[b] for b in after]


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
    qtbot.waitUntil(lambda: panel.regenerations > whole_before, timeout=5 * REST_DELAY_MS + 2000)
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
    qtbot.waitUntil(lambda: panel.regenerations > whole, timeout=5 * REST_DELAY_MS + 2000)
    qtbot.wait(2 * REST_DELAY_MS)
    assert (panel.on_screen_updates - on_screen, panel.regenerations - whole) == (1, 1)
    assert block_texts(panel.text.document()) == fresh_blocks(panel)


def test_an_edit_that_arrives_when_the_pause_is_due_is_shown_on_screen_first(qtbot):
    doc = random_doc(67, 4, 4, 4, 1, 8)
    model, _, panel = short_panel(qtbot, doc)
    edited_once(qtbot, panel, lambda: model.set_cell("W_q", 0, 1, 1, 1.25))
    time.sleep(2 * REST_DELAY_MS / 1000)  # the event loop was busy: the pause's timer is due, not yet run
    whole = panel.regenerations
    edited_once(qtbot, panel, lambda: model.set_cell("W_q", 0, 2, 2, -1.25))
    assert panel.regenerations == whole  # the new edit did not wait for the whole page
    qtbot.waitUntil(lambda: panel.regenerations > whole, timeout=5 * REST_DELAY_MS + 2000)
    assert block_texts(panel.text.document()) == fresh_blocks(panel)

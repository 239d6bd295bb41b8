"""A seeded random walk through the window, driven as a user drives it.

Each seed performs a few hundred actions chosen at random among everything a
user can do to the document (typing, cell edits with good and bad text, option
toggles, temperature, dimensions, head, fills from the context menu, token
selection, embedding-table modes, undo/redo, Edit ▸ Randomize, opening an
example) and checks at checkpoints that every view agrees with a fresh
``forward(model.document())``. Every action is logged; a failure prints the
seed and the actions that led to it, so it can be replayed.

Exceptions raised inside Qt slots or virtual methods are caught per action
(``qtbot.capture_exceptions``) and fail the test on the spot, naming the action.

Seed 1 used to reach a crash early (fewer heads than the head being shown);
it stays in the list, and the crash has a test of its own below.
"""

from __future__ import annotations

import math
import os
import random
import sys
import traceback

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QModelIndex, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMessageBox, QRadioButton

from attnviz.engine import Document, forward
from attnviz.engine.attention import causal_mask
from attnviz.engine.examples import EXAMPLES, load_example
from attnviz.gui.heatmap import DISPLAY_LIMIT
from attnviz.gui.numbers import parse_number

SEEDS = (1, 11, 23, 37)
N_ACTIONS = 250
CHECK_EVERY = 30
MAX_SENTENCE = 20  # keeps the calculation panel's text short, so a walk stays quick
# ATTNVIZ_WALK_TRACE=1 prints every action as it happens (for a crash that leaves no report).
TRACE = bool(os.environ.get("ATTNVIZ_WALK_TRACE"))

# calculation is the costly one: hiding it now and then also keeps the run short
DOCKS = ("scores", "weights", "selected", "output", "lines", "pe", "calculation", "calculation", "calculation")
RESULT_FIELDS = (
    "embeddings", "pe", "x", "q", "k", "v", "scores", "logits", "weights", "heads", "concat", "output",
)
TYPED_PIECES = (
    *"abcdegilnorstz", " ", " ", " ", "'", ",", ".", "!", "?", "é", "’",
    "go ", "let's ", "pizza ", "it ", "the ", "cat ", "sat ", "on ", "mat ", "Dog ", "ATE ",
)
# 1e200 is finite, but the scores overflow: the views must show inf, not fail
GOOD_NUMBERS = ("1e200", "0", "1", "-1", "0.5", "−0.25", "3e-2", " 2.75 ", "-0.125", "1e3")
BAD_NUMBERS = ("abc", "nan", "1e999", "inf", "", "--1", "1..2", "1,000", "1_000")

class Walker:
    """Performs random user actions on ``window`` and checks its consistency."""

    def __init__(self, window, qtbot, dialogs, seed: int) -> None:
        self.w, self.qtbot, self.dialogs = window, qtbot, dialogs
        self.seed = seed
        self.rng = random.Random(seed)
        self.log: list[str] = []
        self.baseline: Document = window.model.document()
        self.examples_loaded = 0
        self.actions = [
            (self.type_text, 7),
            (self.backspace, 4),
            (self.edit_cell, 10),
            (self.toggle_option, 5),
            (self.set_temperature, 3),
            (self.set_dimension, 4),
            (self.set_head, 3),
            (self.context_fill, 4),
            (self.select_token, 3),
            (self.embedding_mode, 2),
            (self.undo, 5),
            (self.redo, 3),
            (self.randomize, 1),
            (self.open_example, 1),
            (self.toggle_dock, 3),
        ]

    # ---- bookkeeping -----------------------------------------------------
    def note(self, text: str) -> None:
        self.log.append(text)
        if TRACE:
            print(f"[seed {self.seed}] {len(self.log) - 1}: {text}", file=sys.stderr, flush=True)

    def where(self) -> str:
        tail = "\n".join(f"  {i}: {a}" for i, a in list(enumerate(self.log))[-25:])
        return f"seed {self.seed}, after {len(self.log)} actions; the last ones:\n{tail}"

    def process(self) -> None:
        QApplication.processEvents()

    def run_action(self, action) -> None:
        failure = None
        with self.qtbot.capture_exceptions() as exceptions:
            try:
                action()
                if self.rng.random() < 0.25:
                    self.process()
            except AssertionError as e:  # an exception inside Qt is the better explanation
                failure = e
        if exceptions:
            text = "".join("".join(traceback.format_exception(*e)) for e in exceptions)
            pytest.fail(f"exception inside Qt during the last action ({self.where()}):\n{text}")
        if failure is not None:
            raise failure

    def step(self) -> None:
        funcs, weights = zip(*self.actions, strict=True)
        self.run_action(self.rng.choices(funcs, weights)[0])

    # ---- actions ---------------------------------------------------------
    def type_text(self) -> None:
        edit = self.w.sentence_edit
        if len(edit.text()) >= MAX_SENTENCE:
            self.backspace()
            return
        pos = self.rng.randint(0, len(edit.text()))
        piece = self.rng.choice(TYPED_PIECES)
        self.note(f"type {piece!r} at {pos}")
        edit.setCursorPosition(pos)
        if piece.isascii():
            self.qtbot.keyClicks(edit, piece)
        else:  # QTest maps ASCII only: send the key event a keyboard layout would
            for event_type in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
                event = QKeyEvent(event_type, Qt.Key.Key_unknown, Qt.KeyboardModifier.NoModifier, piece)
                QApplication.sendEvent(edit, event)
        assert self.w.model.sentence == edit.text(), self.where()

    def backspace(self) -> None:
        edit = self.w.sentence_edit
        pos = self.rng.randint(0, len(edit.text()))
        key = self.rng.choice((Qt.Key.Key_Backspace, Qt.Key.Key_Backspace, Qt.Key.Key_Delete))
        count = self.rng.randint(1, 4)
        self.note(f"{key.name} x{count} at {pos}")
        edit.setCursorPosition(pos)
        for _ in range(count):
            self.qtbot.keyClick(edit, key)
        assert self.w.model.sentence == edit.text(), self.where()

    def edit_cell(self) -> None:
        names = [n for n, t in self.w.tables.items() if t.model().rowCount() and t.model().columnCount()]
        name = self.rng.choice(names)
        table = self.w.tables[name].model()
        row, col = self.rng.randrange(table.rowCount()), self.rng.randrange(table.columnCount())
        roll = self.rng.random()
        if roll < 0.15:
            text = self.rng.choice(BAD_NUMBERS)
        elif roll < 0.35:
            text = self.rng.choice(GOOD_NUMBERS)
        else:
            text = f"{self.rng.uniform(-3, 3):.{self.rng.randint(0, 4)}f}"
        mode = getattr(table, "mode", "embedding")
        self.note(f"setData {name}[{row}, {col}] (head {self.w.view.head}, mode {mode}) = {text!r}")
        try:
            value = parse_number(text)
        except Exception:
            value = None
        editable = bool(table.flags(table.index(row, col)) & Qt.ItemFlag.ItemIsEditable)
        before = self.w.model.document()
        ok = table.setData(table.index(row, col), text, Qt.ItemDataRole.EditRole)
        assert ok == (value is not None and editable), f"setData returned {ok} ({self.where()})"
        if ok:
            assert table.rowCount() > row and table.columnCount() > col, self.where()
            self.w.model.result  # an embedding edit shows after the recompute
            assert float(table.values()[row, col]) == value, self.where()
        else:
            assert self.w.model.document().equals(before), f"a refused edit changed the document ({self.where()})"

    def toggle_option(self) -> None:
        o = self.w.options
        name = self.rng.choice(("scale", "causal", "pe", "residual", "W_o"))
        box = getattr(o, name)
        self.note(f"click {name} (was {box.isChecked()})")
        box.click()
        self.check_controls()

    def set_temperature(self) -> None:
        if self.rng.random() < 0.7:
            t = round(10 ** self.rng.uniform(-2, 2), 2)
            self.note(f"temperature spin box = {t}")
            self.w.options.temperature.setValue(t)
        else:
            p = self.rng.randint(self.w.options.slider.minimum(), self.w.options.slider.maximum())
            self.note(f"temperature slider = {p}")
            self.w.options.slider.setValue(p)
        self.check_controls()

    def set_dimension(self) -> None:
        name = self.rng.choice(("d_model", "d_k", "n_heads"))
        n = self.rng.randint(1, 6)
        self.note(f"spin {name} = {n}")
        getattr(self.w.dimensions, name).setValue(n)
        self.check_controls()

    def set_head(self) -> None:
        n = self.rng.randint(1, self.w.model.n_heads)
        self.note(f"show head {n}")
        self.w.dimensions.head.setValue(n)
        assert self.w.view.head == n - 1, self.where()

    def context_fill(self) -> None:
        names = [n for n in ("W_q", "W_k", "W_v", "W_o") if self.w.tables[n].model().rowCount()]
        name = self.rng.choice(names)
        view = self.w.tables[name]
        table = view.model()
        index = QModelIndex()
        if self.rng.random() < 0.6:
            index = table.index(self.rng.randrange(table.rowCount()), self.rng.randrange(table.columnCount()))
        menu = view.build_menu(index)
        assert menu is not None, self.where()
        actions = [a for a in menu.actions() if not a.isSeparator()]
        action = self.rng.choice(actions)
        answer = None
        if action.objectName() in ("fill:row", "fill:column") and self.rng.random() < 0.7:
            answer = round(self.rng.uniform(-2, 2), 2)
            self.dialogs.answer("getDouble", (answer, True))
        where = f"[{index.row()}, {index.column()}]" if index.isValid() else "(no cell)"
        self.note(f"menu {name}{where} (head {self.w.view.head}) -> {action.objectName()} value {answer}")
        action.trigger()
        menu.deleteLater()

    def select_token(self) -> None:
        n = self.w.model.result.n_tokens
        if n and self.rng.random() < 0.5:
            i = self.rng.randrange(n)
            self.note(f"click chip token:{i}")
            chips = self.w.sentence.chips
            rect = chips.chip_rect(i)
            if rect.isEmpty():  # past the chips shown
                chips.tokenClicked.emit(i)
            else:
                QTest.mouseClick(chips, Qt.MouseButton.LeftButton, pos=rect.center().toPoint())
            assert self.w.view.token == i, self.where()
        elif n and self.rng.random() < 0.5:
            before = self.w.view.token
            forward = self.rng.random() < 0.5
            self.note(f"{'next' if forward else 'previous'} token (from {before})")
            (self.w.next_token_action if forward else self.w.previous_token_action).trigger()
            expected = 0 if before < 0 else min(max(before + (1 if forward else -1), 0), n - 1)
            assert self.w.view.token == expected, self.where()
        else:
            i = self.rng.randint(-1, n)
            self.note(f"view.set_token({i})")
            self.w.view.set_token(i)

    def embedding_mode(self) -> None:
        mode = self.rng.choice(("embedding", "pe", "x"))
        self.note(f"embedding table mode {mode}")
        self.w.findChild(QRadioButton, f"embeddingMode:{mode}").click()
        assert self.w.tables["embeddings"].model().mode == mode, self.where()

    def toggle_dock(self) -> None:
        """View ▸ <panel>: a hidden panel must catch up when shown again."""
        key = self.rng.choice(DOCKS)
        action = self.w.docks[key].toggleViewAction()
        self.note(f"View > {key} (was {'shown' if action.isChecked() else 'hidden'})")
        action.trigger()

    def undo(self) -> None:
        self.note(f"undo ({self.w.model.undo_stack.undoText()!r})")
        self.w.undo_action.trigger()

    def redo(self) -> None:
        self.note(f"redo ({self.w.model.undo_stack.redoText()!r})")
        self.w.redo_action.trigger()

    def randomize(self) -> None:
        ok = self.rng.random() < 0.8
        seed = self.rng.randint(0, 10_000)
        self.note(f"Edit > Randomize seed {seed} ok={ok}")
        self.dialogs.answer("getInt", (seed, ok))
        self.w.randomize_action.trigger()

    def open_example(self) -> None:
        name = self.rng.choice(list(EXAMPLES))
        clean = self.w.model.undo_stack.isClean()
        discard = clean or self.rng.random() < 0.7
        if not clean:
            button = QMessageBox.StandardButton.Discard if discard else QMessageBox.StandardButton.Cancel
            self.dialogs.answer("warning", button)
        self.note(f"open example {name} (clean={clean}, discard={discard})")
        before = self.w.model.document()
        prompts = self.dialogs.names().count("warning")
        self.w.open_example(name)
        assert self.dialogs.names().count("warning") == prompts + (not clean), self.where()
        if discard:
            self.baseline = load_example(name)
            self.examples_loaded += 1
            assert self.w.model.document().equals(self.baseline), self.where()
            assert self.w.model.undo_stack.count() == 0 and not self.w.isWindowModified(), self.where()
            assert name in self.w.windowTitle(), self.where()
        else:
            assert self.w.model.document().equals(before), f"cancelled open changed the document ({self.where()})"

    # ---- checks ----------------------------------------------------------
    def check_controls(self) -> None:
        w, m = self.w, self.w.model
        c = m.config
        o, d = w.options, w.dimensions
        shown = (o.scale.isChecked(), o.causal.isChecked(), o.pe.isChecked(), o.residual.isChecked(), o.W_o.isChecked())
        wanted = (c.scale, c.causal, c.positional_encoding != "none", c.residual, m.has_W_o)
        assert shown == wanted, f"checkboxes {shown} but the document says {wanted} ({self.where()})"
        assert abs(o.temperature.value() - c.temperature) < 0.005 + 1e-9, self.where()
        assert o.slider.value() == round(math.log10(c.temperature) * 50), self.where()
        dims = (d.d_model.value(), d.d_k.value(), d.n_heads.value())
        assert dims == (m.d_model, m.d_k, m.n_heads), f"spin boxes {dims} ({self.where()})"
        assert d.head.maximum() == m.n_heads and d.head.value() == w.view.head + 1, self.where()

    def check(self, label: str) -> None:
        w, m = self.w, self.w.model
        for _ in range(3):
            self.process()
        r = m.result
        self.process()
        doc = m.document()
        with np.errstate(all="ignore"):
            fresh = forward(doc)
        where = f"{label}: {self.where()}"
        assert (r.tokens, r.token_ids) == (fresh.tokens, fresh.token_ids), where
        for name in RESULT_FIELDS:
            a, b = getattr(r, name), getattr(fresh, name)
            assert a.shape == b.shape, f"result.{name} has shape {a.shape}, fresh {b.shape} ({where})"
            assert np.allclose(a, b, rtol=1e-12, atol=1e-12, equal_nan=True), f"result.{name} is stale ({where})"

        # tables
        n, head = r.n_tokens, w.view.head
        assert 0 <= head < m.n_heads, where
        assert -1 <= w.view.token < max(n, 1), where
        shapes = {
            "embeddings": (n, m.d_model),
            "W_q": (m.d_model, m.d_k),
            "W_k": (m.d_model, m.d_k),
            "W_v": (m.d_model, m.d_v),
            "W_o": doc.W_o.shape if doc.W_o is not None else (0, 0),
        }
        for name, shape in shapes.items():
            t = w.tables[name].model()
            got = (t.rowCount(), t.columnCount())
            assert got == shape, f"table {name} is {got}, the document says {shape} ({where})"
        for name in ("W_q", "W_k", "W_v", "W_o"):
            t = w.tables[name].model()
            if t.rowCount():
                i, j = self.rng.randrange(t.rowCount()), self.rng.randrange(t.columnCount())
                a = getattr(doc, name)
                want = a[head, i, j] if name != "W_o" else a[i, j]
                assert float(t.data(t.index(i, j), Qt.ItemDataRole.EditRole)) == want, f"{name}[{i},{j}] ({where})"
        emb = w.tables["embeddings"].model()
        wanted_emb = {"embedding": r.embeddings, "pe": r.pe, "x": r.x}[emb.mode]
        if emb.rowCount():
            i, j = self.rng.randrange(emb.rowCount()), self.rng.randrange(emb.columnCount())
            got = float(emb.data(emb.index(i, j), Qt.ItemDataRole.EditRole))
            assert got == wanted_emb[i, j], f"embeddings table ({emb.mode}) [{i},{j}] ({where})"

        # heatmaps of the current head, NaN where the causal mask hides a key; a hidden one catches up when shown
        for key in ("scores", "weights"):
            if not w.docks[key].isVisible():
                w.docks[key].show()
        self.process()
        masked = ~causal_mask(n) if doc.config.causal else np.zeros((n, n), dtype=bool)
        for panel, values in ((w.scores, r.scores), (w.weights, r.weights)):
            assert panel.isVisible(), where
            with np.errstate(over="ignore"):
                # huge values saturate at the display limit instead of overflowing float32
                clipped = np.clip(values[head], -DISPLAY_LIMIT, DISPLAY_LIMIT)
                expected = np.where(masked, np.nan, clipped).astype(np.float32)
            image = panel.image_data()
            assert image is not None and image.shape == expected.shape, (
                f"{panel.objectName()} shows {None if image is None else image.shape}, wanted {expected.shape} "
                f"({where})"
            )
            assert np.array_equal(image, expected, equal_nan=True), f"{panel.objectName()} is stale ({where})"

        # controls, sentence, modified flag
        self.check_controls()
        assert w.sentence_edit.text() == m.sentence, where
        assert "[*]" in w.windowTitle(), where
        assert w.isWindowModified() == (not m.undo_stack.isClean()), where
        assert w.undo_action.isEnabled() == m.undo_stack.canUndo(), where
        assert w.redo_action.isEnabled() == m.undo_stack.canRedo(), where


@pytest.mark.parametrize("seed", SEEDS)
def test_random_user_actions_keep_every_view_consistent(window, qtbot, dialogs, seed):
    _walk(window, qtbot, dialogs, seed)


def _walk(window, qtbot, dialogs, seed: int) -> None:
    walker = Walker(window, qtbot, dialogs, seed)
    walker.check("at start")
    for i in range(N_ACTIONS):
        walker.step()
        if (i + 1) % CHECK_EVERY == 0:
            walker.check(f"checkpoint {i + 1}")
    walker.check("after the last action")

    # Undo everything: back to the document we started from (or last opened example).
    stack = window.model.undo_stack
    final = window.model.document()
    steps = stack.index()
    walker.note(f"undo all ({steps} steps)")
    for _ in range(steps):
        window.undo_action.trigger()
        if walker.rng.random() < 0.3:
            walker.process()
    assert not stack.canUndo()
    assert window.model.document().equals(walker.baseline), (
        f"undoing every step did not restore the starting document "
        f"(examples opened on the way: {walker.examples_loaded}; {walker.where()})"
    )
    assert stack.isClean() and not window.isWindowModified(), walker.where()
    walker.check("after undoing everything")

    # ... and redo everything: back to where the walk ended.
    walker.note(f"redo {steps} steps")
    for _ in range(steps):
        window.redo_action.trigger()
    assert window.model.document().equals(final), walker.where()
    walker.check("after redoing everything")


@pytest.mark.parametrize("how", ["spin box", "undo"])
def test_going_down_to_fewer_heads_than_the_shown_head(window, qtbot, how):
    """Two heads, show head 2, go down to one head: the tables must follow, not crash."""
    if how == "spin box":
        window.open_example("two-heads")
    else:
        window.dimensions.n_heads.setValue(2)  # lets-go has one head
    window.dimensions.head.setValue(2)
    assert window.view.head == 1
    with qtbot.capture_exceptions() as exceptions:
        if how == "spin box":
            window.dimensions.n_heads.setValue(1)
        else:
            window.undo_action.trigger()
        qtbot.wait(0)
    assert window.model.n_heads == 1
    assert not exceptions, "".join("".join(traceback.format_exception(*e)) for e in exceptions)
    assert window.view.head == 0 and window.dimensions.head.value() == 1
    for name in ("W_q", "W_k", "W_v"):
        table = window.tables[name].model()
        assert (table.rowCount(), table.columnCount()) == window.model.matrix(name, 0).shape
        assert float(table.data(table.index(0, 0), Qt.ItemDataRole.EditRole)) == window.model.matrix(name, 0)[0, 0]

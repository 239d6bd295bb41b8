"""The attention-lines view: one line per (query, key), opacity from the weight."""

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt

from attnviz.engine import Document
from attnviz.gui.lines_view import KEY, MODE_SELECTED, QUERY, LinesView
from attnviz.gui.view_state import ViewState
from attnviz.model import DocumentModel


def make_doc(sentence="the dog ate it", heads=2, d=4, seed=0):
    rng = np.random.default_rng(seed)
    vocab = ("the", "dog", "ate", "it", ",")
    return Document(
        vocab=vocab,
        embeddings=rng.normal(size=(len(vocab), d)),
        W_q=rng.normal(size=(heads, d, 3)),
        W_k=rng.normal(size=(heads, d, 3)),
        W_v=rng.normal(size=(heads, d, 3)),
        sentence=sentence,
    )


@pytest.fixture
def setup(qtbot):
    model = DocumentModel(make_doc())
    view = ViewState(model)
    widget = LinesView(model, view)
    qtbot.addWidget(widget)
    widget.resize(600, 400)
    widget.show()
    qtbot.waitExposed(widget)
    return model, view, widget


def center(widget, side, i):
    return widget.token_rect(side, i).center().toPoint()


def test_object_names(setup):
    _, _, w = setup
    assert w.objectName() == "plot:lines"
    assert w.findChild(type(w.mode), "lines:mode") is w.mode
    assert w.findChild(type(w.all_heads), "lines:allHeads") is w.all_heads


def test_one_line_per_pair_for_current_head(setup):
    model, view, w = setup
    n = model.result.n_tokens
    view.set_head(1)
    items = w.line_items()
    assert len(items) == n * n
    assert {(q, k) for _, q, k, _, _ in items} == {(q, k) for q in range(n) for k in range(n)}
    assert all(h == 1 for h, *_ in items)
    for h, q, k, weight, _ in items:
        assert weight == model.result.weights[h, q, k]


def test_all_heads_overlay(setup):
    model, _, w = setup
    w.all_heads.setChecked(True)
    n, H = model.result.n_tokens, model.result.n_heads
    items = w.line_items()
    assert len(items) == H * n * n
    assert {h for h, *_ in items} == set(range(H))


def test_opacity_monotone_in_weight(setup):
    _, _, w = setup
    w.all_heads.setChecked(True)
    pairs = sorted((weight, opacity) for _, _, _, weight, opacity in w.line_items())
    opacities = [o for _, o in pairs]
    assert opacities == sorted(opacities)
    assert all(0.0 <= o <= 1.0 for o in opacities)


def test_selected_mode_shows_only_selected_token(setup):
    model, view, w = setup
    n = model.result.n_tokens
    view.set_token(2)
    w.set_mode(MODE_SELECTED)
    items = w.line_items()
    assert len(items) == n
    assert {q for _, q, *_ in items} == {2}
    view.set_token(1)
    assert {q for _, q, *_ in w.line_items()} == {1}


def test_hover_isolates_lines(setup, qtbot):
    model, _, w = setup
    n = model.result.n_tokens
    qtbot.mouseMove(w.canvas, center(w, QUERY, 1))
    qtbot.waitUntil(lambda: w.hover == (QUERY, 1))  # (a real window system moves the pointer, then says so)
    items = w.line_items()
    assert len(items) == n and {q for _, q, *_ in items} == {1}

    qtbot.mouseMove(w.canvas, center(w, KEY, 3))
    qtbot.waitUntil(lambda: w.hover == (KEY, 3))
    items = w.line_items()
    assert len(items) == n and {k for _, _, k, *_ in items} == {3}

    w.set_hover(None, -1)
    assert len(w.line_items()) == n * n


def test_click_query_selects_it(setup, qtbot):
    _, view, w = setup
    with qtbot.waitSignal(view.tokenChanged) as blocker:
        qtbot.mouseClick(w.canvas, Qt.MouseButton.LeftButton, pos=center(w, QUERY, 3))
    assert blocker.args == [3]
    # A key click is not a selection.
    qtbot.mouseClick(w.canvas, Qt.MouseButton.LeftButton, pos=center(w, KEY, 1))
    assert view.token == 3
    # Nor is a click on empty space.
    qtbot.mouseClick(w.canvas, Qt.MouseButton.LeftButton, pos=QPoint(w.canvas.width() // 2, 2))
    assert view.token == 3


def test_updates_after_set_cell(setup, qtbot):
    model, view, w = setup
    before = {(h, q, k): x for h, q, k, x, _ in w.line_items()}
    with qtbot.waitSignal(model.resultChanged):
        model.set_cell("W_q", view.head, 0, 0, 25.0)
    after = {(h, q, k): x for h, q, k, x, _ in w.line_items()}
    assert after != before
    for (h, q, k), x in after.items():
        assert x == model.result.weights[h, q, k]


def test_hidden_view_does_no_work_until_shown(qtbot):
    model = DocumentModel(make_doc())
    view = ViewState(model)
    w = LinesView(model, view)
    qtbot.addWidget(w)
    w.resize(600, 400)
    w.show()
    qtbot.waitExposed(w)
    w.hide()
    count = w.refresh_count
    model.set_sentence("the dog")
    model.flush()
    assert w.refresh_count == count
    w.show()
    assert w.refresh_count == count + 1
    assert len(w.line_items()) == 4


def test_empty_sentence(setup, qtbot):
    model, _, w = setup
    model.set_sentence("")
    model.flush()
    assert w.line_items() == []
    w.all_heads.setChecked(True)
    assert w.line_items() == []
    assert not w.grab().isNull()  # paints the hint without raising
    qtbot.mouseClick(w.canvas, Qt.MouseButton.LeftButton, pos=QPoint(100, 100))


def test_many_tokens_renders(qtbot):
    model = DocumentModel(make_doc(" ".join(["the dog ate it"] * 16), heads=4))
    view = ViewState(model)
    w = LinesView(model, view)
    qtbot.addWidget(w)
    w.resize(600, 400)
    w.all_heads.setChecked(True)
    w.show()
    qtbot.waitExposed(w)
    assert len(w.line_items()) == 4 * 64 * 64
    assert not w.grab().isNull()

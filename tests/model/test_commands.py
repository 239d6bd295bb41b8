"""Undo commands name what they change as a person sees it on screen."""

from __future__ import annotations

import numpy as np
import pytest

from attnviz.engine import Document
from attnviz.engine.examples import load_example
from attnviz.model import DocumentModel


@pytest.fixture
def model(qtbot):
    m = DocumentModel(load_example("two-heads"))  # 2 heads, d_model 4, d_k = d_v = 2, with W_o
    yield m
    m.deleteLater()


@pytest.mark.parametrize(
    ("name", "head", "row", "col", "text"),
    [
        # the tables' headers count from 1: row x₃ and column q₂ of head 2
        ("W_q", 1, 2, 1, "Edit W_q[x₃, q₂] (head 2)"),
        ("W_k", 0, 0, 0, "Edit W_k[x₁, k₁] (head 1)"),
        ("W_v", 1, 3, 1, "Edit W_v[x₄, v₂] (head 2)"),
        # W_o's rows are the heads' outputs side by side: row 3 is component 2 of head 2's
        ("W_o", -1, 3, 0, "Edit W_o[h2·v₂, y₁]"),
        # an embedding row is a word of the vocabulary
        ("embeddings", -1, 1, 3, "Edit embedding['cat', d₄]"),
    ],
)
def test_a_cell_edit_is_named_from_1_as_the_headers_name_it(model, name, head, row, col, text):
    model.set_cell(name, head, row, col, 9.5)
    assert model.undo_stack.undoText() == text
    model.set_cell(name, head, row, col, 8.5)  # merged into the same step: the same name
    assert model.undo_stack.count() == 1 and model.undo_stack.undoText() == text


def test_a_component_past_nine_is_numbered_in_full(qtbot):
    rng = np.random.default_rng(0)
    doc = Document(vocab=("a",), embeddings=rng.normal(size=(1, 12)), W_q=rng.normal(size=(1, 12, 11)),
                   W_k=rng.normal(size=(1, 12, 11)), W_v=rng.normal(size=(1, 12, 3)), sentence="a")
    m = DocumentModel(doc)
    m.set_cell("W_q", 0, 11, 10, 0.5)
    assert m.undo_stack.undoText() == "Edit W_q[x₁₂, q₁₁] (head 1)"
    m.deleteLater()

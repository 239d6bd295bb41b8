"""The positional-encoding heatmap: right numbers, sentence rows marked, "none" said."""

import math

import numpy as np
import pytest

from attnviz.engine import Config, Document
from attnviz.gui.pe_view import MIN_POSITIONS, PositionalEncodingView
from attnviz.gui.view_state import ViewState
from attnviz.model import DocumentModel


def make_doc(sentence="let's go", d=6, kind="sinusoidal"):
    vocab = ("let's", "go", "now")
    rng = np.random.default_rng(1)
    return Document(
        vocab=vocab,
        embeddings=rng.normal(size=(3, d)),
        W_q=rng.normal(size=(1, d, 2)),
        W_k=rng.normal(size=(1, d, 2)),
        W_v=rng.normal(size=(1, d, 2)),
        config=Config(positional_encoding=kind),
        sentence=sentence,
    )


def expected_pe(positions, d):
    """The formula from the paper, written out independently of the engine."""
    pe = np.zeros((positions, d))
    for p in range(positions):
        for c in range(d):
            angle = p / 10000 ** ((c - c % 2) / d)
            pe[p, c] = math.sin(angle) if c % 2 == 0 else math.cos(angle)
    return pe


@pytest.fixture
def make_view(qtbot):
    def make(doc):
        model = DocumentModel(doc)
        w = PositionalEncodingView(model, ViewState(model))
        qtbot.addWidget(w)
        w.resize(600, 400)
        w.show()
        qtbot.waitExposed(w)
        return model, w

    return make


@pytest.mark.parametrize("d", [1, 2, 5, 6])
def test_image_matches_formula(make_view, d):
    _, w = make_view(make_doc(d=d))
    data = w.image_data()
    assert data.shape == (MIN_POSITIONS, d)
    np.testing.assert_allclose(data, expected_pe(MIN_POSITIONS, d), rtol=0, atol=1e-12)


def test_image_fixed_levels_and_cells_centered(make_view):
    _, w = make_view(make_doc())
    assert tuple(w.image.getLevels()) == (-1.0, 1.0)
    rect = w.image.mapRectToParent(w.image.boundingRect())
    assert (rect.left(), rect.top()) == (-0.5, -0.5)
    assert w.objectName() == "plot:pe"


def test_marks_follow_sentence(make_view):
    model, w = make_view(make_doc())
    assert w.marked_rows() == 2
    assert w.y_tick_labels()[0].startswith("let's")
    assert w.y_tick_labels()[1].startswith("go")

    model.set_sentence("let's go now now")
    model.flush()
    assert w.marked_rows() == 4
    assert w.y_tick_labels()[3].startswith("now")

    long = " ".join(["go"] * 40)
    model.set_sentence(long)
    model.flush()
    assert w.marked_rows() == 40
    assert w.image_data().shape == (40, 6)
    np.testing.assert_allclose(w.image_data(), expected_pe(40, 6), atol=1e-12)

    model.set_sentence("")
    model.flush()
    assert w.marked_rows() == 0
    assert w.image_data().shape == (MIN_POSITIONS, 6)


def test_none_is_said_and_zero(make_view):
    model, w = make_view(make_doc(kind="none"))
    assert w.is_off()
    assert w.off_label.isVisible()
    assert "off" in w.off_label.toPlainText()
    assert not w.image_data().any()

    model.set_option("positional_encoding", "sinusoidal")
    model.flush()
    assert not w.is_off()
    assert w.image_data().any()


def test_hidden_view_waits_for_show(make_view):
    model, w = make_view(make_doc())
    w.hide()
    count = w.refresh_count
    model.set_sentence("go")
    model.flush()
    assert w.refresh_count == count
    w.show()
    assert w.refresh_count == count + 1
    assert w.marked_rows() == 1

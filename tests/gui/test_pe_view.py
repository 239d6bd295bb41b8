"""The positional-encoding heatmap: right numbers, sentence rows marked, "none" said, names counted from 1."""

import itertools
import math

import numpy as np
import pytest
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QHelpEvent, QImage, QPainter
from PySide6.QtWidgets import QApplication, QToolTip

from attnviz.engine import Config, Document
from attnviz.gui.pe_view import MIN_POSITIONS, PositionalEncodingView
from attnviz.gui.table_models import EmbeddingTableModel
from attnviz.gui.view_state import ViewState
from attnviz.model import DocumentModel
from attnviz.model.naming import component


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
    assert w.y_tick_labels()[0] == "1 let's"
    assert w.y_tick_labels()[1] == "2 go"

    model.set_sentence("let's go now now")
    model.flush()
    assert w.marked_rows() == 4
    assert w.y_tick_labels()[3] == "4 now"

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


def x_tick_labels(w: PositionalEncodingView) -> dict[int, str]:
    """Column -> label shown on the dimension axis."""
    w.ensure_fresh()
    return dict(w.plot.getAxis("bottom")._tickLevels[0])


@pytest.mark.parametrize("d", [1, 6, 40])
def test_rows_and_dimensions_are_named_from_1_as_the_tables_name_them(make_view, d):
    """1 let's, 2 go, d₁, d₂ …: as the embeddings table heads the same positions and dimensions."""
    model, w = make_view(make_doc(d=d))
    table = EmbeddingTableModel(model, w.view)
    rows, columns = w.y_tick_labels(), x_tick_labels(w)
    for row in range(len(model.result.tokens)):
        assert rows[row] == table.headerData(row, Qt.Orientation.Vertical), row
    assert rows[2] == "3" and rows[MIN_POSITIONS - 1] == str(MIN_POSITIONS)  # rows past the sentence
    assert 0 in columns and len(columns) >= min(d, 10)  # (a wide model labels every few columns)
    for column, label in columns.items():  # column k is the table's d_k
        assert f"d{component(int(label) - 1)}" == table.headerData(column, Qt.Orientation.Horizontal), column
    assert columns[0] == "1"


def test_the_tooltip_says_how_the_names_from_1_meet_the_formula_counting_from_0(make_view):
    """The formula is the calculation page's, in 0-based indices; the axes name rows and columns from 1."""
    _, w = make_view(make_doc())
    viewport = w.graphics.viewport()
    centre = viewport.rect().center()
    QApplication.sendEvent(viewport, QHelpEvent(QEvent.Type.ToolTip, centre, viewport.mapToGlobal(centre)))
    try:
        shown = QToolTip.text() if QToolTip.isVisible() else ""
    finally:
        QToolTip.hideText()
    assert "PE[p, 2m] = sin(p / 10000^(2m/d))" in shown and "PE[p, 2m+1] = cos(p / 10000^(2m/d))" in shown
    assert "counts both from 0" in shown
    assert "row 1 is the first token" in shown and "row k is position p = k − 1" in shown
    assert "d₁ is 2m = 0 (a sine)" in shown and "d₂ is 2m+1 = 1" in shown
    data = w.image_data()  # what it says of the first row: sin(0) = 0 under d₁, cos(0) = 1 under d₂
    assert (data[0, 0], data[0, 1]) == (0.0, 1.0)


def test_a_long_axis_labels_the_first_row_and_then_round_numbers(make_view):
    """Thinned labels read 1, 4, 8 … 40 as the names count from 1 (not 1, 5, 9 … 37)."""
    model, w = make_view(make_doc(sentence=" ".join(["go"] * 40), d=40))
    table = EmbeddingTableModel(model, w.view)
    rows, columns = w.y_tick_labels(), x_tick_labels(w)
    every_fourth = [1, *range(4, 41, 4)]
    assert [int(label.split()[0]) for _, label in sorted(rows.items())] == every_fourth
    numbers = [int(label) for _, label in sorted(columns.items())]
    assert numbers[0] == 1 and len({b - a for a, b in itertools.pairwise(numbers[1:])}) == 1  # then evenly
    for row, label in rows.items():
        assert label == table.headerData(row, Qt.Orientation.Vertical), row


def drawn_column_labels(w: PositionalEncodingView) -> list[tuple[float, float, str]]:
    """(left, right, text) of each number the dimension axis draws, left to right."""
    image = QImage(8, 8, QImage.Format.Format_ARGB32)
    painter = QPainter(image)  # pyqtgraph measures the texts with the painter it is given
    try:
        _, _, texts = w.plot.getAxis("bottom").generateDrawSpecs(painter)
    finally:
        painter.end()
    return sorted((rect.left(), rect.right(), text) for rect, _, text in texts)


@pytest.mark.parametrize("d", [4, 16, 32, 40, 64, 100, 512, 4096])
@pytest.mark.parametrize("width", [260, 600, 1200])
def test_dimension_numbers_never_overlap_and_the_first_is_drawn(make_view, qtbot, d, width):
    # d₁₀d₁₁d₁₂ ran together at d_model 16 in the window, and the first column's name was dropped
    _, w = make_view(make_doc(d=d))
    w.resize(width, 400)
    qtbot.waitUntil(lambda: abs(w.plot.vb.width() - (width - 100)) < 60)
    w.ensure_fresh()
    drawn = drawn_column_labels(w)
    assert drawn[0][2] == "1"
    assert drawn[-1][2] == x_tick_labels(w)[max(x_tick_labels(w))]  # the last number set is drawn too
    assert len(drawn) >= min(d, 4)
    for (_, right, _), (left, _, _) in itertools.pairwise(drawn):
        assert right + 2 <= left  # a gap between every two numbers


@pytest.mark.parametrize("width", [260, 330, 600])
def test_positional_encoding_off_is_said_within_the_plot(make_view, qtbot, width):
    # at 13 pt on one line it ran past both sides of the plot in the window's dock ("ositional encoding is of")
    _, w = make_view(make_doc(kind="none"))
    w.resize(width, 400)
    qtbot.waitUntil(lambda: abs(w.plot.vb.width() - (width - 100)) < 60)
    w.ensure_fresh()
    assert w.is_off() and w.off_label.toPlainText() == "positional encoding\nis off"
    w.graphics.grab()  # (pyqtgraph places a text item as it paints it)
    viewport = w.graphics.viewportTransform()  # where each lands on screen (the label ignores the zoom)
    view = viewport.mapRect(w.plot.vb.sceneBoundingRect())
    text = w.off_label.textItem.deviceTransform(viewport).mapRect(w.off_label.textItem.boundingRect())
    assert view.contains(text), (view, text)
    assert text.height() < 3 * w.off_label.textItem.font().pointSize() * 2  # two lines, not three

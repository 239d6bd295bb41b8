"""The teaching panels inside the window: calculation links, primer links, exports."""

from __future__ import annotations

import csv
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QRect, Qt, QUrl
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QApplication, QMessageBox

from attnviz.gui.numbers import format_number


def test_every_panel_is_in_the_window(window):
    for name in ("plot:scores", "plot:weights", "plot:selected", "plot:output", "plot:lines", "plot:pe",
                 "panel:calculation", "sentenceEdit", "table:embeddings", "table:W_q", "table:W_k", "table:W_v",
                 "table:W_o"):
        assert window.findChild(object, name) is not None, name


def test_default_layout_shows_sentence_table_both_heatmaps_and_the_calculation(window):
    for widget in (window.sentence_edit, window.tables["embeddings"], window.scores, window.weights,
                   window.calculation):
        assert widget.isVisible(), widget.objectName()
        rect = QRect(widget.mapTo(window, QPoint(0, 0)), widget.size())
        assert window.rect().contains(rect) and rect.height() >= 20 and rect.width() > 250, widget.objectName()
    assert window.scores.width() > 250 and window.scores.height() > 250


def test_clicking_a_weight_number_in_the_calculation_selects_its_table_cell(window):
    window.calculation.sourceRequested.emit("W_k", 0, 1, 0)
    view = window.tables["W_k"]
    assert window.tabs.currentWidget() is view
    assert (view.currentIndex().row(), view.currentIndex().column()) == (1, 0)


def test_clicking_an_embedding_number_selects_the_tokens_row(window):
    go = window.model.vocab.index("go")
    window.calculation.sourceRequested.emit("embeddings", -1, go, 1)
    view = window.tables["embeddings"]
    assert (view.currentIndex().row(), view.currentIndex().column()) == (1, 1)  # "go" is the sentence's token 2


def test_clicking_a_score_marks_its_heatmap_cell(window):
    window.calculation.sourceRequested.emit("scores", 0, 0, 1)
    assert window.scores.marker.isVisible()
    rect = window.scores.marker.rect()
    assert (rect.center().x(), rect.center().y()) == (1, 0)


def test_links_in_the_calculation_text_reach_the_window(window):
    html = window.calculation.findChild(object, "calc:text").toHtml()
    assert 'href="src:W_q:0:' in html
    window.calculation.findChild(object, "calc:text").anchorClicked.emit(QUrl("src:W_v:0:1:1"))
    assert window.tabs.currentWidget() is window.tables["W_v"]


def test_the_primer_opens_and_its_links_raise_panels(window, qtbot):
    window.primer_action.trigger()
    primer = window.findChild(object, "dialog:primer")
    assert primer is not None and primer.isVisible()
    window.docks["lines"].hide()
    primer.panelRequested.emit("lines")
    assert window.docks["lines"].isVisible()
    primer.panelRequested.emit("W_q")
    assert window.tabs.currentWidget() is window.tables["W_q"]
    primer.close()


def test_view_menu_hides_and_shows_panels(window):
    toggle = window.docks["weights"].toggleViewAction()
    toggle.trigger()
    assert not window.docks["weights"].isVisible()
    toggle.trigger()
    assert window.docks["weights"].isVisible()


@pytest.mark.parametrize("key", ["scores", "weights", "selected", "output", "lines", "pe"])
def test_each_plot_exports_to_png_and_svg(window, dialogs, tmp_path, key):
    window.show_panel(key)
    png, svg = tmp_path / f"{key}.png", tmp_path / f"{key}.svg"
    dialogs.answer("getSaveFileName", (str(png), ""), (str(svg), ""))
    assert window.export_picture(key)
    assert window.export_picture(key)
    image = QImage(str(png))
    assert not image.isNull() and image.width() > 100
    ET.parse(svg)  # well-formed XML
    assert dialogs.names() == ["getSaveFileName", "getSaveFileName"]


def test_the_positional_encoding_plot_is_made_when_first_wanted_and_exports_as_when_shown(window, dialogs,
                                                                                         tmp_path):
    """Behind the Output tab at start-up, the PE view has no plot yet (it would cost every start);
    File ▸ Export makes it there, laid out at the panel's size, as raising the tab would."""
    import pyqtgraph as pg

    assert not window.pe.findChildren(pg.GraphicsLayoutWidget)
    hidden, shown = tmp_path / "hidden.png", tmp_path / "shown.png"
    dialogs.answer("getSaveFileName", (str(hidden), ""), (str(shown), ""))
    assert window.export_picture("pe")
    assert window.pe.findChildren(pg.GraphicsLayoutWidget)
    window.show_panel("pe")
    QApplication.processEvents()
    assert window.export_picture("pe")
    before, after = QImage(str(hidden)), QImage(str(shown))
    assert before.width() > 100 and before.height() > 100
    assert before == after
    np.testing.assert_allclose(window.pe.image_data()[:2], window.model.result.pe, atol=1e-6)


@pytest.mark.parametrize(("key", "front"), [("output", "pe"), ("pe", "output")])
def test_a_panel_changed_behind_a_tab_exports_as_it_then_looks(window, dialogs, tmp_path, key, front):
    """Raised for the export and redrawn, a plot was pictured before its axes had measured the new
    labels: the two long rows came out unlabelled."""
    window.show_panel(key)
    QApplication.processEvents()
    window.show_panel(front)
    QApplication.processEvents()
    window.model.set_sentence("Supercalifragilistic antidisestablishmentarianism go")
    window.model.flush()
    QApplication.processEvents()
    first, settled = tmp_path / "first.png", tmp_path / "settled.png"
    dialogs.answer("getSaveFileName", (str(first), ""), (str(settled), ""))
    assert window.export_picture(key)
    for _ in range(5):
        QApplication.processEvents()
    assert window.export_picture(key)
    argb = QImage.Format.Format_ARGB32
    assert QImage(str(first)).convertToFormat(argb) == QImage(str(settled)).convertToFormat(argb)


def test_tab_reaches_the_positional_encoding_plot_where_its_dock_stands(window):
    """Made when first drawn, the plot went to the end of the window's Tab order, after the
    calculation page's dock, rather than after the panels made before it."""
    window.show_panel("pe")
    QApplication.processEvents()
    order, widget = [], window.nextInFocusChain()
    while widget is not window:
        order.append(widget)
        widget = widget.nextInFocusChain()

    def first_of(dock):
        tab = Qt.FocusPolicy.TabFocus
        return next(i for i, w in enumerate(order) if dock.isAncestorOf(w) and w.focusPolicy() & tab)

    assert first_of(window.docks["selected"]) < first_of(window.docks["pe"]) < first_of(window.docks["calculation"])


@pytest.mark.parametrize("name", ["embeddings", "W_q", "W_k", "W_v", "scores", "weights", "output"])
def test_each_matrix_exports_to_csv_with_its_numbers(window, dialogs, tmp_path, name):
    path = tmp_path / f"{name}.csv"
    dialogs.answer("getSaveFileName", (str(path), ""))
    assert window.export_csv(name)
    rows = list(csv.reader(path.open(encoding="utf-8")))
    values = np.array([[float(v) for v in row[1:]] for row in rows[1:]])
    r, doc = window.model.result, window.model.document()
    expected = {"embeddings": r.embeddings, "W_q": doc.W_q[0], "W_k": doc.W_k[0], "W_v": doc.W_v[0],
                "scores": r.scores[0], "weights": r.weights[0], "output": r.output}[name]
    np.testing.assert_array_equal(values, expected)
    if name in ("scores", "weights"):
        assert rows[0][1:] == list(r.tokens) and [row[0] for row in rows[1:]] == list(r.tokens)
    if name == "output":  # headed as the Output panel heads its columns, from 1
        assert rows[0][1:] == ["y₁", "y₂"]


def test_the_calculation_exports_as_markdown_and_text(window, dialogs, tmp_path):
    dialogs.answer("getSaveFileName", (str(tmp_path / "calc.md"), ""), (str(tmp_path / "calc.txt"), ""))
    assert window.export_calculation()
    assert window.export_calculation()
    markdown = (tmp_path / "calc.md").read_text(encoding="utf-8")
    text = (tmp_path / "calc.txt").read_text(encoding="utf-8")
    assert markdown == window.calculation.to_markdown() and text == window.calculation.to_plain_text()
    assert "Softmax" in text and "Let's" in text


def test_an_export_to_a_missing_folder_says_so_in_one_line(window, dialogs, tmp_path):
    dialogs.answer("getSaveFileName", (str(tmp_path / "no" / "such" / "w.csv"), ""))
    assert not window.export_csv("weights")
    message = dialogs.texts("critical")[0]
    assert "w.csv" in message and "\n" not in message.strip()


def test_export_the_whole_window(window, dialogs, tmp_path):
    dialogs.answer("getSaveFileName", (str(tmp_path / "win.png"), ""))
    assert window.export_window()
    assert QImage(str(tmp_path / "win.png")).width() >= 1000


def test_panels_in_background_tabs_do_no_work_until_raised(window, qtbot):
    assert not window.lines.on_screen() and window.selected.on_screen()  # default: lines is behind "selected"
    lines_before, selected_before = window.lines.refresh_count, window.selected.refresh_count
    table = window.tables["W_q"].model()
    table.setData(table.index(0, 0), "0.125")
    qtbot.waitUntil(lambda: window.selected.refresh_count > selected_before)
    assert window.lines.refresh_count == lines_before
    window.show_panel("lines")
    qtbot.waitUntil(lambda: window.lines.refresh_count == lines_before + 1)
    weights = {(q, k): w for _h, q, k, w, _o in window.lines.line_items()}
    assert weights[(0, 1)] == pytest.approx(window.model.result.weights[0, 0, 1])


def test_only_the_two_dock_tab_bars_in_use_are_shown(window, qtbot):
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QTabBar

    def shown_bars():
        bars = window.findChildren(QTabBar, options=Qt.FindChildOption.FindDirectChildrenOnly)
        return sorted(tuple(b.tabText(i) for i in range(b.count())) for b in bars if b.isVisible())

    expected = [("Output", "Positional encoding"), ("Selected token's weights", "Attention lines")]
    qtbot.waitUntil(lambda: shown_bars() == expected)
    window.restore_layout_action.trigger()
    qtbot.waitUntil(lambda: shown_bars() == expected)


def test_bar_colours_follow_the_causal_mask_both_ways(window, qtbot):
    """Bars keep their colours between edits and recolour when the mask changes."""
    from attnviz.gui.palette import MASKED, token_color

    def colours() -> list[str]:
        return [QColor(c).name() for c in window.selected.bars.colours()]

    n = len(window.model.result.tokens)
    window.view.set_token(0)
    qtbot.waitUntil(lambda: window.selected.refresh_count > 0)
    assert colours() == [token_color(j).name() for j in range(n)]
    window.findChild(object, "check:causal").click()  # the first token may only look at itself
    qtbot.waitUntil(lambda: colours()[1:] == [MASKED.name()] * (n - 1))
    assert colours()[0] == token_color(0).name()
    before = window.selected.refresh_count
    window.model.set_cell("W_q", 0, 0, 0, 0.75)  # an edit alone keeps the mask's colours
    qtbot.waitUntil(lambda: window.selected.refresh_count > before)
    assert colours()[1:] == [MASKED.name()] * (n - 1)
    window.findChild(object, "check:causal").click()
    qtbot.waitUntil(lambda: colours() == [token_color(j).name() for j in range(n)])


def test_a_right_click_on_a_plot_or_a_colour_bar_opens_no_menu_and_keeps_its_colours(window, qtbot):
    """pyqtgraph's own menus (view range, plot options, colour maps) are not attnviz's: a colour
    bar's would let a heatmap take another map than its text colours and legend are made for."""
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication, QMenu

    window.docks["pe"].raise_()
    qtbot.waitUntil(window.pe.isVisible)
    heatmaps = {"scores": window.scores, "weights": window.weights, "output": window.output}
    targets = [(name, view, item) for name, view in heatmaps.items() for item in (view.plot.vb, view.colorbar.bar)]
    targets += [("selected", window.selected, window.selected.getPlotItem().vb),
                ("pe", window.pe.graphics, window.pe.plot.vb), ("pe", window.pe.graphics, window.pe.colorbar.bar)]
    tables = [(view.image, view.image.lut) for view in heatmaps.values()] + [(window.pe.image, window.pe.image.lut)]
    for name, view, item in targets:
        spot = view.mapFromScene(item.mapToScene(item.boundingRect().center()))
        assert view.viewport().rect().contains(spot), name
        QTest.mouseClick(view.viewport(), Qt.MouseButton.RightButton, Qt.KeyboardModifier.NoModifier, spot)
        QApplication.processEvents()
        assert [w for w in QApplication.topLevelWidgets() if isinstance(w, QMenu) and w.isVisible()] == [], name
    assert all(image.lut is lut for image, lut in tables)


@pytest.mark.parametrize(("export", "typed", "chosen", "written"), [
    ("picture", "scores", "SVG drawing (*.svg)", "scores.svg"),
    ("picture", "scores", "", "scores.png"),
    ("csv", "weights", "CSV (*.csv)", "weights.csv"),
    ("calculation", "calc", "Plain text (*.txt)", "calc.txt"),
    ("window", "shot", "PNG image (*.png)", "shot.png"),
    ("picture", "scores.final", "PNG image (*.png)", "scores.final.png"),
])
def test_an_export_named_without_its_extension_gets_the_chosen_ones(window, dialogs, tmp_path, export, typed, chosen,
                                                                      written):
    """A picture named 'scores' was refused, and a CSV named 'weights' was written without .csv."""
    dialogs.answer("getSaveFileName", (str(tmp_path / typed), chosen))
    run = {"picture": lambda: window.export_picture("scores"), "csv": lambda: window.export_csv("weights"),
           "calculation": window.export_calculation, "window": window.export_window}[export]
    assert run()
    assert [p.name for p in tmp_path.iterdir()] == [written]
    assert not dialogs.texts("critical")


def test_embeddings_export_with_the_tokens_as_row_labels(window, dialogs, tmp_path):
    """The rows were the table's labels: numbered, shortened past the column width, marked * when unknown."""
    window.sentence_edit.setText("")
    window.model.set_sentence("supercalifragilisticexpialidocious , go")
    path = tmp_path / "e.csv"
    dialogs.answer("getSaveFileName", (str(path), ""))
    assert window.export_csv("embeddings")
    rows = list(csv.reader(path.open(encoding="utf-8")))
    assert [row[0] for row in rows[1:]] == ["supercalifragilisticexpialidocious", ",", "go"]


def test_the_bar_chart_of_an_empty_sentence_has_no_made_up_ticks(window, qtbot):
    """With no tokens the bar chart's x axis showed pyqtgraph's own 0.2 … 0.8, which mean nothing here."""
    axis = window.selected.getPlotItem().getAxis("bottom")  # its ticks as given (pyqtgraph's own when None)
    window.model.set_sentence("")
    window.model.flush()
    window.selected.ensure_fresh()
    assert axis._tickLevels == [[]]  # explicit: no ticks at all
    window.model.set_sentence("Let's go")
    window.model.flush()
    window.selected.ensure_fresh()
    assert [text for _x, text in axis._tickLevels[0]] == ["Let's", "go"]
    from attnviz.engine.examples import load_example
    from attnviz.gui.main_window import MainWindow

    empty = MainWindow(load_example("lets-go").replace(sentence=""), use_settings=False)  # empty from the start
    qtbot.addWidget(empty)
    empty.selected.ensure_fresh()
    empty_axis = empty.selected.getPlotItem().getAxis("bottom")
    assert empty_axis._tickLevels == [[]]
    for w in (window, empty):
        w.show()
        for _ in range(2):  # a paint lays the axes out, and the layout follows in the next turn
            w.grab()
            QApplication.processEvents()
    # and the axis keeps the room for labels: the chart does not grow over it (its 0 was cut off)
    assert empty_axis.height() == axis.height() > 10


def test_a_panel_behind_another_docks_tab_is_raised_and_exports_as_it_looks_there(window, dialogs, tmp_path):
    """Behind a tab the lines panel is disabled (it takes no focus there), and keeps the size it had
    before the window was laid out: its export came out greyed, and then at that stale size."""
    assert not window.lines.isEnabled()
    stale = window.lines.size()
    behind = tmp_path / "behind.png"
    dialogs.answer("getSaveFileName", (str(behind), ""))
    assert window.export_picture("lines")
    QApplication.processEvents()
    assert window.lines.isEnabled() and window.lines.on_screen()  # raised: the user sees what was exported
    assert window.lines.size() != stale  # the case is there: the tab area is not the size it had behind
    looks = window.lines.grab().toImage().convertToFormat(QImage.Format.Format_ARGB32)
    exported = QImage(str(behind)).convertToFormat(QImage.Format.Format_ARGB32)
    assert exported == looks


@pytest.mark.parametrize("answer", [QMessageBox.StandardButton.Yes, QMessageBox.StandardButton.No])
def test_an_extension_added_after_the_dialog_asks_before_replacing_a_file(window, dialogs, tmp_path, answer):
    """The dialog asked about 'scores', the name typed; 'scores.png' was then replaced without a word."""
    existing = tmp_path / "scores.png"
    existing.write_bytes(b"keep me")
    dialogs.answer("getSaveFileName", (str(tmp_path / "scores"), "PNG image (*.png)"))
    dialogs.answer("question", answer)
    replaced = window.export_picture("scores")
    assert "scores.png already exists" in dialogs.texts("question")[0]
    assert replaced == (answer == QMessageBox.StandardButton.Yes)
    assert (existing.read_bytes() != b"keep me") == replaced


@pytest.mark.parametrize("export", ["picture", "csv"])
def test_an_export_shows_the_value_typed_a_moment_ago(window, dialogs, tmp_path, qtbot, export):
    from tests.gui.test_file_flows import start_typing_in_a_cell

    start_typing_in_a_cell(window, qtbot, "50")  # W_q's first cell, no Enter
    path = tmp_path / f"output.{'png' if export == 'picture' else 'csv'}"
    dialogs.answer("getSaveFileName", (str(path), ""))
    assert window.export_picture("output") if export == "picture" else window.export_csv("output")
    assert window.model.document().W_q[0, 0, 0] == 50
    expected = window.model.result.output  # the pass with the 50
    if export == "csv":
        rows = list(csv.reader(path.open(encoding="utf-8")))
        np.testing.assert_array_equal([[float(v) for v in row[1:]] for row in rows[1:]], expected)
    else:  # as exported once the edit has surely landed
        again = tmp_path / "again.png"
        dialogs.answer("getSaveFileName", (str(again), ""))
        assert window.export_picture("output")
        assert QImage(str(path)) == QImage(str(again))
        assert window.output.numbers()[0] == format_number(expected[0, 0], window.view.precision)


def test_an_export_to_a_symbolic_link_writes_through_it(window, dialogs, tmp_path):
    real, link = tmp_path / "real.csv", tmp_path / "link.csv"
    real.write_text("old", encoding="utf-8")
    link.symlink_to(real)
    dialogs.answer("getSaveFileName", (str(link), ""))
    assert window.export_csv("scores")
    assert link.is_symlink() and real.read_text(encoding="utf-8").startswith(",")


def test_an_emoji_sequence_is_named_as_it_is_written(window, qtbot):
    # the family is three emoji held together by zero-width joiners, one token; titles, tooltips and
    # undo texts showed it as '👨\u200d👩\u200d👧'
    word = "👨\u200d👩\u200d👧"
    window.model.set_sentence(f"{word} pizza")
    plot = window.selected.getPlotItem()
    qtbot.waitUntil(lambda: plot.titleLabel.text == f"What '{word}' attends to (head 1)")
    table = window.tables["embeddings"].model()
    assert table.headerData(0, Qt.Orientation.Vertical, Qt.ItemDataRole.ToolTipRole).startswith(f"'{word}' is not")
    assert table.setData(table.index(0, 1), "0.5")
    assert window.model.undo_stack.undoText() == f"Edit embedding['{word}', d₂]"


@pytest.mark.parametrize("token", ["<", "&"])
def test_a_token_that_reads_as_html_is_shown_as_typed_in_the_bar_charts_title(window, qtbot, token):
    # pyqtgraph takes a title as HTML: "<" emptied it to "What '"
    window.model.set_sentence(f"a {token} b")
    window.view.set_token(1)
    label = window.selected.getPlotItem().titleLabel.item
    qtbot.waitUntil(lambda: label.toPlainText() == f"What '{token}' attends to (head 1)")

"""File ▸ Export helpers: valid PNG/SVG, exact CSV round trip, clean failures."""

import csv
import io
import os
import stat
import xml.etree.ElementTree as ET

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QLabel

from attnviz.engine import AttnvizError
from attnviz.gui.export import export_matrix_csv, export_plot, export_text, matrix_to_csv, save_png

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def plot(qtbot):
    w = pg.PlotWidget()
    qtbot.addWidget(w)
    w.resize(400, 300)
    w.plot([0, 1, 2, 3], [1, 3, 2, 4])
    img = pg.ImageItem(np.arange(12.0).reshape(3, 4))
    w.addItem(img)
    w.show()
    qtbot.waitExposed(w)
    return w


def check_png(path):
    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC
    img = QImage(str(path))
    assert not img.isNull() and img.width() > 0 and img.height() > 0


def check_svg(path):
    root = ET.parse(path).getroot()
    assert root.tag.endswith("svg")


def test_png_from_plot_widget_and_item(plot, tmp_path):
    export_plot(plot, tmp_path / "a.png")
    check_png(tmp_path / "a.png")
    export_plot(plot.getPlotItem(), tmp_path / "b.PNG")
    check_png(tmp_path / "b.PNG")


def test_svg_from_plot_is_xml(plot, tmp_path):
    export_plot(plot, tmp_path / "a.svg")
    check_svg(tmp_path / "a.svg")


def test_svg_text_has_the_size_it_has_on_screen(qtbot, tmp_path):
    """A heatmap's 8 pt numbers are 8 × dpi / 72 pixels on screen; the SVG must not shrink them to 8."""
    from PySide6.QtWidgets import QApplication

    from attnviz.gui.heatmap import Heatmap
    from attnviz.gui.palette import DIVERGING

    heatmap = Heatmap(DIVERGING)
    qtbot.addWidget(heatmap)
    heatmap.resize(330, 420)
    heatmap.show()
    heatmap.set_matrix(np.zeros((3, 3)), ["The", "baby", "ate"], ["a", "b", "c"], (-1.5, 1.5))
    QApplication.processEvents()
    assert heatmap.numbers()[0] == "0.00"
    export_plot(heatmap, tmp_path / "h.svg")
    numbers = [t for t in ET.parse(tmp_path / "h.svg").getroot().iter() if t.tag.endswith("text") and t.text == "0.00"]
    assert len(numbers) == 9
    dpi = QApplication.primaryScreen().logicalDotsPerInch()
    assert {round(float(t.get("font-size")), 3) for t in numbers} == {round(8 * dpi / 72, 3)}


def test_plain_widget(qtbot, tmp_path):
    label = QLabel("softmax → weights")
    qtbot.addWidget(label)
    label.resize(200, 50)
    export_plot(label, tmp_path / "w.png")
    check_png(tmp_path / "w.png")
    export_plot(label, tmp_path / "w.svg")
    check_svg(tmp_path / "w.svg")


def test_unknown_extension(plot, tmp_path):
    with pytest.raises(AttnvizError) as err:
        export_plot(plot, tmp_path / "a.jpg")
    assert "\n" not in str(err.value)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root can write anywhere")
def test_unwritable_folder_png(plot, tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        with pytest.raises(AttnvizError) as err:
            export_plot(plot, locked / "a.png")
        assert "\n" not in str(err.value)
        assert list(locked.iterdir()) == []
    finally:
        locked.chmod(0o700)


def test_missing_folder_is_one_line_error_and_no_file(plot, tmp_path):
    target = tmp_path / "no" / "such" / "dir" / "a.png"
    for call in (
        lambda: export_plot(plot, target),
        lambda: export_text(target.with_suffix(".md"), "x"),
        lambda: export_matrix_csv(target.with_suffix(".csv"), np.zeros((1, 1)), ["a"], ["b"]),
    ):
        with pytest.raises(AttnvizError) as err:
            call()
        msg = str(err.value)
        assert "\n" not in msg and "cannot write" in msg
    assert list(tmp_path.iterdir()) == []


def test_parent_is_a_file(plot, tmp_path):
    blocker = tmp_path / "notes.txt"
    blocker.write_text("x", encoding="utf-8")
    with pytest.raises(AttnvizError) as err:
        export_plot(plot, blocker / "a.svg")
    assert "\n" not in str(err.value)
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def test_failed_write_leaves_old_file_and_no_temp(tmp_path, monkeypatch):
    target = tmp_path / "calc.md"
    target.write_text("old", encoding="utf-8")

    def boom(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("pathlib.Path.write_text", boom)
    with pytest.raises(AttnvizError, match="No space left"):
        export_text(target, "new")
    monkeypatch.undo()
    assert target.read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["calc.md"]


def parse(text):
    rows = list(csv.reader(io.StringIO(text)))
    header, body = rows[0], rows[1:]
    return header, [r[0] for r in body], np.array([[float(x) for x in r[1:]] for r in body])


def test_csv_round_trip_exact_with_awkward_labels():
    rng = np.random.default_rng(3)
    m = rng.normal(size=(3, 4)) * 10.0 ** rng.integers(-8, 8, size=(3, 4))
    m[0, 1] = -np.inf
    m[2, 3] = 1 / 3
    rows = [",", 'say "hi"', "Let's"]
    cols = ["a,b", ",", "naïve", "\n"]
    header, labels, values = parse(matrix_to_csv(m, rows, cols))
    assert header == ["", *cols]
    assert labels == rows
    assert np.array_equal(values, m)
    assert "-inf" in matrix_to_csv(m, rows, cols)


def test_export_matrix_csv_file(tmp_path):
    m = np.array([[0.1, 0.2], [0.7, -np.inf]])
    path = tmp_path / "weights.csv"
    export_matrix_csv(path, m, ["go", ","], ["go", ","])
    with open(path, newline="", encoding="utf-8") as f:
        _, labels, values = parse(f.read())
    assert labels == ["go", ","]
    assert np.array_equal(values, m)


def test_csv_shape_mismatch():
    with pytest.raises(AttnvizError):
        matrix_to_csv(np.zeros((2, 2)), ["a"], ["b", "c"])
    with pytest.raises(AttnvizError):
        matrix_to_csv(np.zeros(3), ["a", "b", "c"], ["x"])


def test_export_text_utf8(tmp_path):
    text = "# Query for “it”\n\nq·k / √d_k = 0.5\n"
    path = tmp_path / "calc.md"
    export_text(path, text)
    assert path.read_bytes() == text.encode("utf-8")
    # Not the private 0600 of the temporary file: what a plain open() would give.
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask


@pytest.fixture
def label(qtbot) -> QLabel:
    widget = QLabel("softmax → weights")
    qtbot.addWidget(widget)
    widget.resize(200, 50)
    return widget


def test_a_screenshot_that_cannot_be_written_keeps_the_old_png_and_says_why(label, tmp_path, monkeypatch, capfd):
    target = tmp_path / "shot.png"
    save_png(label, target)
    old = target.read_bytes()
    check_png(target)

    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("pathlib.Path.write_bytes", full)
    label.setText("another picture")
    with pytest.raises(AttnvizError, match=r"^cannot write .*shot\.png: No space left on device$"):
        save_png(label, target)
    monkeypatch.undo()
    assert target.read_bytes() == old
    assert [p.name for p in tmp_path.iterdir()] == ["shot.png"]
    assert capfd.readouterr().err == ""  # nothing from libpng


def test_a_screenshot_is_a_png_whatever_its_name(label, tmp_path):
    save_png(label, tmp_path / "shot.jpg")
    assert (tmp_path / "shot.jpg").read_bytes()[:8] == PNG_MAGIC


def test_an_export_does_not_replace_a_read_only_file_or_a_named_pipe(label, tmp_path, monkeypatch):
    from attnviz.engine import atomic

    kept = tmp_path / "kept.png"
    save_png(label, kept)
    before = kept.read_bytes()
    real_access = os.access
    monkeypatch.setattr(atomic.os, "access", lambda p, mode: False if str(p) == str(kept) else real_access(p, mode))
    with pytest.raises(AttnvizError, match=r"^cannot write .*kept\.png: the file is read-only$"):
        save_png(label, kept)
    with pytest.raises(AttnvizError, match="read-only"):
        export_text(kept, "text")
    monkeypatch.undo()
    assert kept.read_bytes() == before
    if hasattr(os, "mkfifo"):
        pipe = tmp_path / "pipe.png"
        os.mkfifo(pipe)
        with pytest.raises(AttnvizError, match=r"pipe\.png: it is not a regular file$"):
            save_png(label, pipe)
        assert stat.S_ISFIFO(os.stat(pipe).st_mode)

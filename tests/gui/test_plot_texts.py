"""PlotTexts (the numbers on the plots) paints exactly what QPainter.drawText paints.

It draws each text from glyphs it shaped once; the reference here is the
plain drawText of the same text at the place the item's docstring defines
(the anchor point of its line box on the point, on whole pixels).
"""

from __future__ import annotations

import string

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PySide6.QtCore import QBuffer, QIODevice, QPointF, QRectF, QSize
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QImage, QPainter
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import QApplication

from attnviz.gui import cell_numbers
from attnviz.gui.cell_numbers import PlotTexts
from attnviz.gui.numbers import format_number

SIZE = (240, 160)
COLORS = [QColor("black"), QColor(200, 30, 40), QColor(255, 255, 255)]

numbers = st.builds(format_number, st.floats(-1e7, 1e7) | st.sampled_from([np.inf, -np.inf, np.nan]),
                    st.integers(0, 4))
plain = st.text(st.sampled_from(string.printable.strip() + " −∞"), min_size=1, max_size=8)  # drawn from glyphs
# and not; no lone combining marks: drawText itself draws "a0\u0301" a pixel off now and then
words = st.text(st.sampled_from("AVaTgé注意力🙂ﻣﺮﺣﺒﺎ−.0123456789 "), min_size=1, max_size=8)


def blank(ratio: float) -> QImage:
    image = QImage(int(SIZE[0] * ratio), int(SIZE[1] * ratio), QImage.Format.Format_ARGB32_Premultiplied)
    image.setDevicePixelRatio(ratio)
    image.fill(QColor(90, 140, 200))
    return image


def drawn_by_item(font, anchor, lift, texts, colors, points, ratio) -> QImage:
    item = PlotTexts(font, anchor, lift)
    item.set_texts(texts, colors, np.array(points), QRectF(0, 0, *SIZE))
    for image in (blank(ratio), blank(ratio)):  # the second from what the first shaped and placed
        painter = QPainter(image)
        item.paint(painter, None, None)
        painter.end()
    return image


def drawn_by_qt(font, anchor, lift, texts, colors, points, ratio) -> QImage:
    # twice, as the item: Qt can draw a text its first time a pixel off its later times ("a0\u0301")
    for image in (blank(ratio), blank(ratio)):
        metrics = QFontMetricsF(font)
        painter = QPainter(image)
        painter.setFont(font)
        # one colour after another, in the order each first appears (texts may overlap)
        for pen in dict.fromkeys(c.rgba() for c in colors):
            painter.setPen(QColor.fromRgba(pen))
            for text, color, (x, y) in zip(texts, colors, points, strict=True):
                if color.rgba() == pen:
                    left = round(x - anchor[0] * metrics.horizontalAdvance(text))
                    baseline = round(y - anchor[1] * (metrics.ascent() + metrics.descent()) + metrics.ascent() - lift)
                    painter.drawText(QPointF(left, baseline), text)
        painter.end()
    return image


def font_of(pixels: int, bold: bool) -> QFont:
    font = QFont()
    font.setPixelSize(pixels)
    font.setBold(bold)
    return font


@settings(max_examples=60, deadline=None)
@given(
    texts=st.lists(numbers | plain | words, min_size=1, max_size=12),
    data=st.data(),
    pixels=st.integers(7, 16),
    bold=st.booleans(),
    anchor=st.sampled_from([(0.5, 0.5), (0.5, 1.0), (0.0, 0.0)]),
    lift=st.sampled_from([0.0, 4.0]),
    ratio=st.sampled_from([1.0, 1.25, 1.5, 2.0]),
)
def test_texts_look_as_drawtext_draws_them(qapp, texts, data, pixels, bold, anchor, lift, ratio):
    points = data.draw(st.lists(st.tuples(st.floats(0, SIZE[0]), st.floats(0, SIZE[1])),
                                min_size=len(texts), max_size=len(texts)))
    colors = data.draw(st.lists(st.sampled_from(COLORS), min_size=len(texts), max_size=len(texts)))
    args = (font_of(pixels, bold), anchor, lift, texts, colors, points, ratio)
    assert drawn_by_item(*args) == drawn_by_qt(*args)


def test_texts_beyond_the_memo_are_shaped_again(qapp, monkeypatch):
    monkeypatch.setattr(cell_numbers, "_SHAPED_MAX", 3)
    texts = [format_number(v, 2) for v in np.linspace(-2, 2, 10)]
    points = [(20 + 20 * k, 40 + 9 * k) for k in range(10)]
    font = font_of(11, False)
    args = (font, (0.5, 0.5), 0.0, texts, [COLORS[0]] * 10, points, 1.0)
    assert drawn_by_item(*args) == drawn_by_qt(*args)
    item = PlotTexts(font)
    item.set_texts(texts, [COLORS[0]] * 10, np.array(points), QRectF(0, 0, *SIZE))
    image = blank(1.0)  # (named: a painter does not keep its device alive)
    painter = QPainter(image)
    item.paint(painter, None, None)
    painter.end()
    assert 0 < len(item._shapes) <= 3


def test_numbers_follow_an_application_font_change(qapp):
    """The plots' fonts set a size and leave the family to the view, which follows the application."""
    old = QApplication.font()
    font = QFont()
    font.setPointSize(8)  # as heatmap._cell_font()
    texts, points = ["0.25", "−1.50", "12.00"], [(60, 50), (150, 90), (100, 130)]
    item = PlotTexts(font)
    item.set_texts(texts, COLORS, np.array(points), QRectF(0, 0, *SIZE))
    image = blank(1.0)
    painter = QPainter(image)
    item.paint(painter, None, None)  # shaped in the old family
    painter.end()
    changed = QFont(old)
    changed.setFamily("DejaVu Serif" if "Serif" not in old.family() else "DejaVu Sans Mono")
    QApplication.setFont(changed)
    try:
        image = blank(1.0)
        painter = QPainter(image)
        item.paint(painter, None, None)
        painter.end()
        now = font.resolve(QApplication.font())  # what drawText draws with now
        assert now.family() != QFont(font).resolve(old).family()
        assert image == drawn_by_qt(now, (0.5, 0.5), 0.0, texts, COLORS, points, 1.0)
    finally:
        QApplication.setFont(old)


def svg_of(paint) -> str:
    """What ``paint(painter)`` draws, as SVG text."""
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    generator = QSvgGenerator()
    generator.setOutputDevice(buffer)
    generator.setSize(QSize(*SIZE))
    painter = QPainter(generator)
    paint(painter)
    painter.end()
    return bytes(buffer.data()).decode("utf-8")


def test_an_svg_gets_the_numbers_as_text_where_drawtext_puts_them(qapp):
    font = font_of(11, False)
    texts, points = ["0.25", "−1.50", "ﻣﺮ 1"], [(60.0, 50.0), (150.0, 90.0), (100.0, 130.0)]
    item = PlotTexts(font)
    item.set_texts(texts, COLORS, np.array(points), QRectF(0, 0, *SIZE))
    ours = svg_of(lambda painter: item.paint(painter, None, None))
    metrics = QFontMetricsF(font)

    def reference(painter: QPainter) -> None:
        painter.save()
        painter.resetTransform()
        painter.setFont(font)
        for text, color, (x, y) in zip(texts, COLORS, points, strict=True):
            painter.setPen(color)
            left = round(x - 0.5 * metrics.horizontalAdvance(text))
            baseline = round(y - 0.5 * (metrics.ascent() + metrics.descent()) + metrics.ascent())
            painter.drawText(QPointF(left, baseline), text)
        painter.restore()

    assert ours.count("<text") >= 3 and "0.25" in ours and "1.50" in ours
    assert ours == svg_of(reference)


@pytest.mark.parametrize("ratio", [1.0, 2.0])
def test_new_texts_replace_the_old_ones(qapp, ratio):
    font = font_of(11, False)
    item = PlotTexts(font)
    item.set_texts(["0.25", "−1.50"], COLORS[:2], np.array([(60, 50), (150, 90)]), QRectF(0, 0, *SIZE))
    item.set_texts(["0.75", "8.00"], COLORS[:2], np.array([(60, 50), (150, 90)]), QRectF(0, 0, *SIZE))
    image = blank(ratio)
    painter = QPainter(image)
    item.paint(painter, None, None)
    painter.end()
    expected = drawn_by_qt(font, (0.5, 0.5), 0.0, ["0.75", "8.00"], COLORS[:2], [(60, 50), (150, 90)], ratio)
    assert image == expected


def painted_once(item: PlotTexts, ratio: float) -> QImage:
    image = blank(ratio)
    painter = QPainter(image)
    item.paint(painter, None, None)
    painter.end()
    return image


@settings(max_examples=40, deadline=None)
@given(
    steps=st.lists(st.tuples(st.lists(numbers | plain, min_size=1, max_size=5), st.booleans(), st.booleans()),
                   min_size=2, max_size=5),
    data=st.data(),
    ratio=st.sampled_from([1.0, 2.0]),
)
def test_each_paint_shows_the_latest_texts_and_points(qapp, steps, data, ratio):
    """New texts at the old points, points moved, the caller's own array changed in place and given again."""
    font = font_of(11, False)
    item = PlotTexts(font, (0.5, 1.0), 4.0)  # as the bar chart's numbers
    points = np.zeros((0, 2))
    for texts, move, in_place in steps:
        if move or len(points) != len(texts):
            new = data.draw(st.lists(st.tuples(st.floats(0, SIZE[0]), st.floats(0, SIZE[1])),
                                     min_size=len(texts), max_size=len(texts)))
            if in_place and len(points) == len(texts):
                points[:] = new  # the same array, moved
            else:
                points = np.array(new, dtype=float)
        colors = [COLORS[k % 2] for k in range(len(texts))]
        item.set_texts(texts, colors, points, QRectF(0, 0, *SIZE))
        expected = drawn_by_qt(font, (0.5, 1.0), 4.0, texts, colors, points.tolist(), ratio)
        assert painted_once(item, ratio) == expected


# cases where QTextLayout's glyphs are not what drawText draws (right-to-left in a
# left-to-right run, fallback fonts): the item must draw these with drawText
OTHER_SCRIPTS = [
    ("ﺒT8A", 8, False, 1.0, (90.48419177631392, 80.32639837011214)),
    ("9−V.意7", 7, False, 1.0, (74.88185310321332, 44.49161258094)),
    ("gAﺮﺒ0ﻣ", 15, False, 1.5, (144.90257640752316, 93.377908046032)),
    ("70意a", 7, True, 1.0, (39.9726121026059, 86.11339832898162)),
    ("Aﺣ4注ﺒ", 7, True, 2.0, (105.09302247613729, 79.3299586210961)),
]


@pytest.mark.parametrize(("text", "pixels", "bold", "ratio", "point"), OTHER_SCRIPTS)
def test_other_scripts_look_as_drawtext_draws_them(qapp, text, pixels, bold, ratio, point):
    args = (font_of(pixels, bold), (0.5, 0.5), 0.0, [text], [COLORS[0]], [point], ratio)
    assert drawn_by_item(*args) == drawn_by_qt(*args)


@pytest.mark.parametrize("line", ["setUnderline", "setStrikeOut", "setOverline"])
@pytest.mark.parametrize("ratio", [1.0, 1.5, 2.0])
def test_a_font_with_lines_draws_them_as_drawtext_does(qapp, line, ratio):
    font = QFont()
    font.setPointSize(8)
    getattr(font, line)(True)
    texts = [format_number(v, d) for v in (-1.5, 0.25, 12345.678, np.inf) for d in (0, 2)] + ["AVa.Tg", "Wave"]
    points = [(20 + (k % 6) * 38, 12 + (k // 6) * 22) for k in range(len(texts))]
    args = (font, (0.5, 0.5), 0.0, texts, [COLORS[0]] * len(texts), points, ratio)
    assert drawn_by_item(*args) == drawn_by_qt(*args)


@pytest.mark.parametrize("bad", [(np.nan, 50.0), (60.0, np.nan), (np.inf, 50.0), (60.0, -np.inf)])
def test_a_text_at_a_point_that_is_not_finite_is_left_out_and_the_rest_drawn(qapp, bad):
    # an overflowed pass gives NaN weights, and a bar's number stands at its weight;
    # Qt's painter given a NaN place crashed the process
    font = font_of(11, False)
    item = PlotTexts(font)
    item.set_texts(["NaN", "0.50"], COLORS[:2], np.array([bad, (150, 90)]), QRectF(0, 0, *SIZE))
    expected = drawn_by_qt(font, (0.5, 0.5), 0.0, ["0.50"], COLORS[1:2], [(150, 90)], 1.0)
    assert painted_once(item, 1.0) == painted_once(item, 1.0) == expected

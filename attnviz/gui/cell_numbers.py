"""Numbers printed on a plot, all of them painted by one graphics item."""

from __future__ import annotations

import string
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QGlyphRun, QPaintEngine, QPainter, QTextLayout, QTransform
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

# Texts shaped per item before the memo starts again: a heatmap of 16 × 16 cells at two
# digits shows a few hundred distinct numbers, and they recur edit after edit. An entry
# holds its glyph runs, ≈ 3.5 kB: four full grids' worth is 3.5 MB an item.
_SHAPED_MAX = 1024
_RASTER = QPaintEngine.Type.Raster


# Texts of these characters come out of QTextLayout's glyphs exactly as drawText draws them
# (tests/gui/test_plot_texts.py); others, say a right-to-left word, are drawn by drawText,
# and so is every text in a font with lines (underline, strike-out, overline): glyph runs
# draw those lines their own way.
_AS_GLYPHS = frozenset(string.printable.strip() + " −∞")


class Shaped(NamedTuple):
    """A text shaped once: its advance, its glyphs, and how far its baseline is below their origin.

    ``runs`` is None for a text drawn by drawText; its ``ascent`` is 0, so that its place
    (the glyphs' origin, see ``_places_on``) is its baseline.
    """

    width: float
    runs: list[QGlyphRun] | None
    ascent: float


def _shape(text: str, font: QFont, metrics: QFontMetricsF) -> Shaped:
    width = metrics.horizontalAdvance(text)
    if not _AS_GLYPHS.issuperset(text) or font.underline() or font.strikeOut() or font.overline():
        return Shaped(width, None, 0.0)
    layout = QTextLayout(text, font)
    layout.beginLayout()
    line = layout.createLine()
    layout.endLayout()
    return Shaped(width, layout.glyphRuns(), line.ascent())


class PlotTexts(QGraphicsItem):
    """Short texts at points of a view, at a fixed size in pixels whatever the view's scale.

    One item paints them all: a pg.TextItem per number costs a Python paint
    call, a text document and a scene-index entry each, which was most of a
    heatmap's repaint. Paint maps the points to the device and draws there
    with no world transform, on whole pixels so the glyphs stay crisp.

    ``anchor`` is the point of each text's line box put on its point ((0.5,
    0.5) centres it), ``lift`` a further shift up in pixels. The item covers
    and clips to ``area`` (view coordinates), so a text that overhangs it is
    cut rather than left behind outside the area an update repaints.

    Each distinct text is shaped once and drawn from its glyphs: an edit
    changes every number, but the numbers themselves recur, and shaping was
    half of a ``drawText`` and all of a width (at 432 numbers, ≈ 1.2 ms of
    drawing and ≈ 1.5 ms of widths per edit). The pixels are ``drawText``'s.
    """

    def __init__(
        self,
        font: QFont,
        anchor: tuple[float, float] = (0.5, 0.5),
        lift: float = 0.0,
        parent: QGraphicsItem | None = None,
    ) -> None:
        super().__init__(parent)
        self._font = QFont(font)
        self._metrics = QFontMetricsF(self._font)
        self._anchor, self._lift = anchor, lift
        self._texts: list[str] = []
        self._colors: list[QColor] = []
        self._points = np.zeros((0, 2))
        self._shapes: dict[str, Shaped] = {}
        self._shaped_in = QFont(font)
        self._runs: list[tuple[QColor, list[int]]] = []  # the texts drawn with each pen
        self._area = QRectF()
        # Where the texts go on the device, in two steps: what the points and the transform
        # decide (the anchor points on the device: lefts before the widths, baselines), and
        # the texts' own widths and ascents. An edit changes the texts, rarely the points.
        self._anchored_for: tuple[float, ...] = ()  # the item-to-device transform _anchors are for
        self._anchors: list[tuple[float, float] | None] = []  # (x, baseline) per point
        self._places: list[tuple[QPointF, Shaped] | None] | None = None
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemClipsToShape)

    def set_texts(self, texts: Sequence[str], colors: Sequence[QColor], points: np.ndarray, area: QRectF) -> None:
        """Show ``texts[k]`` in ``colors[k]`` at view point ``points[k]`` (x, y), inside ``area``."""
        texts = list(texts)
        points = np.array(points, dtype=float).reshape(-1, 2)  # a copy: the caller may change its array later
        if not len(texts) == len(colors) == len(points):
            raise ValueError(f"{len(texts)} texts, {len(colors)} colours and {len(points)} points")
        area = QRectF(area) if texts else QRectF()
        if area != self._area:
            self.prepareGeometryChange()
            self._area = area
        runs: dict[int, list[int]] = {}
        for k, color in enumerate(colors):
            runs.setdefault(color.rgba(), []).append(k)
        self._runs = [(QColor.fromRgba(rgba), cells) for rgba, cells in runs.items()]
        if not _same_points(points, self._points):
            self._points, self._anchored_for = points, ()
        self._texts, self._colors, self._places = texts, list(colors), None
        self.update()

    def clear(self) -> None:
        if self._texts:
            self.set_texts([], [], np.zeros((0, 2)), QRectF())

    def texts(self) -> list[str]:
        """The texts shown, in the order they were given."""
        return list(self._texts)

    def colors(self) -> list[QColor]:
        return list(self._colors)

    def boundingRect(self) -> QRectF:
        return QRectF(self._area)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        if not self._texts:
            return
        painter.save()
        painter.setFont(self._font)
        self._follow(painter.font())  # the font as the device resolves it (its family follows the app's)
        places = self._places_on(painter.worldTransform())
        painter.resetTransform()
        texts = self._texts
        vector = painter.paintEngine().type() != _RASTER  # an SVG keeps the numbers as text
        for color, cells in self._runs:
            painter.setPen(color)
            for k in cells:
                if places[k] is None:
                    continue
                place, shape = places[k]
                if shape.runs is None or vector:
                    painter.drawText(place + QPointF(0.0, shape.ascent), texts[k])
                    continue
                for run in shape.runs:
                    painter.drawGlyphRun(place, run)
        painter.restore()

    def _follow(self, font: QFont) -> None:
        """Shape and measure again in ``font`` if it is not the font the texts were shaped in
        (the item's font leaves the family to the view, which follows the application's)."""
        if font == self._shaped_in:
            return
        self._shaped_in, self._metrics, self._shapes = QFont(font), QFontMetricsF(font), {}
        self._anchored_for, self._places = (), None

    def _shaped(self, text: str) -> Shaped:
        shaped = self._shapes.get(text)
        if shaped is None:
            if len(self._shapes) >= _SHAPED_MAX:
                self._shapes.clear()
            shaped = self._shapes[text] = _shape(text, self._shaped_in, self._metrics)
        return shaped

    def _places_on(self, to_device: QTransform) -> list[tuple[QPointF, Shaped] | None]:
        """Where each text's glyphs start on the device (its baseline's left end on whole pixels, less its
        ascent), each with the shape it was placed by; None for a text at a point that is not finite."""
        key = (to_device.m11(), to_device.m12(), to_device.m21(), to_device.m22(), to_device.dx(), to_device.dy())
        if key != self._anchored_for:
            self._anchors = self._anchors_on(key)
            self._anchored_for, self._places = key, None
        if self._places is None:
            ax, shaped = self._anchor[0], self._shaped
            self._places = [
                None if anchor is None
                else (QPointF(round(anchor[0] - ax * shape.width), anchor[1] - shape.ascent), shape)
                for anchor, shape in zip(self._anchors, map(shaped, self._texts), strict=True)
            ]
        return self._places

    def _anchors_on(self, to_device: tuple[float, ...]) -> list[tuple[float, float] | None]:
        """Each point on the device (x), and the baseline of a line box anchored there, on whole pixels;
        None where either is not finite (a NaN point), which Qt's painter must never be given."""
        m11, m12, m21, m22, dx, dy = to_device
        px, py = self._points[:, 0], self._points[:, 1]
        ascent, descent = self._metrics.ascent(), self._metrics.descent()
        with np.errstate(invalid="ignore", over="ignore"):  # an infinite point (× 0): left out below
            x = m11 * px + m21 * py + dx
            y = m12 * px + m22 * py + dy
            # as Qt places a line: its box is ascent + descent high, the baseline an ascent below its top
            baseline = np.round(y - self._anchor[1] * (ascent + descent) + ascent - self._lift)
        finite = (np.isfinite(x) & np.isfinite(baseline)).tolist()
        return [(a, b) if ok else None for a, b, ok in zip(x.tolist(), baseline.tolist(), finite, strict=True)]


def _same_points(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and bool((a == b).all())


class CellNumbers(PlotTexts):
    """Texts centred in the cells of a grid whose cell (i, j) is centred on view point (j, i)."""

    def __init__(self, font: QFont, parent: QGraphicsItem | None = None) -> None:
        super().__init__(font, (0.5, 0.5), 0.0, parent)

    def set_cells(self, texts: Sequence[str], colors: Sequence[QColor], shape: tuple[int, int]) -> None:
        """Show ``texts`` (row by row over a ``shape`` grid) in ``colors``."""
        n_rows, n_cols = shape
        if len(texts) != n_rows * n_cols:
            raise ValueError(f"{len(texts)} texts for a {n_rows} × {n_cols} grid")
        rows, cols = np.divmod(np.arange(n_rows * n_cols), max(n_cols, 1))
        self.set_texts(texts, colors, np.column_stack([cols, rows]), QRectF(-0.5, -0.5, n_cols, n_rows))

"""Bars in token colours, drawn as one graphics item, one ``drawRects`` per colour.

pyqtgraph's BarGraphItem given a colour per bar paints its bars one by one
from Python (a pen, a brush and a rectangle each, recorded into a QPicture on
every change); given one colour it hands all its rectangles to a single
``drawRects``. Token colours repeat every eight tokens, so grouping the bars
by colour needs at most nine such calls (eight colours and the masked grey),
and the picture is the same pixel for pixel: the bars never overlap. One item
rather than one BarGraphItem per colour, because the scene asks every item
for its bounding rectangle several times a paint, and BarGraphItem works
that out from the view's pixel size each time.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from pyqtgraph.Qt.internals import PrimitiveArray
from PySide6.QtCore import QRectF
from PySide6.QtGui import QColor, QPainter


class _Group:
    """The bars of one colour: their pen, brush and rectangles."""

    def __init__(self, colour: str, bars: np.ndarray) -> None:
        self.pen = pg.mkPen(QColor(colour))  # cosmetic, 1 px: as BarGraphItem makes it
        self.brush = pg.mkBrush(QColor(colour))
        self.bars = bars
        self.rects = PrimitiveArray(QRectF, 4)


class TokenBars(pg.GraphicsObject):
    """Bars at x = 0, 1, … from 0 up (or down) to each height, each bar in its own colour."""

    def __init__(self, width: float) -> None:
        super().__init__()
        self._width = width
        self._groups: list[_Group] = []
        self._colours: list[str] = []
        self._heights = np.zeros(0)
        self._data_rect = QRectF()  # the bars' extent in data coordinates
        self._bounds: QRectF | None = None  # that, padded by half a pen; depends on the view's scale

    def set_bars(self, heights, colours: list[QColor] | None = None) -> None:
        """Show ``heights``; pass ``colours`` (one per bar) whenever they or the number of bars change."""
        heights = np.asarray(heights, dtype=float)
        n_colours = len(self._colours if colours is None else colours)
        if len(heights) != n_colours:
            raise ValueError(f"{len(heights)} bars but {n_colours} colours")
        if colours is not None:
            self._regroup([QColor(c).name(QColor.NameFormat.HexArgb) for c in colours])
        self._heights = heights
        self.prepareGeometryChange()
        self._place(heights)
        self._bounds = None
        self.update()
        self.informViewBoundsChanged()  # a view that ranges itself to its items follows

    def heights(self) -> np.ndarray:
        return self._heights

    def colours(self) -> list[str]:
        """Each bar's colour as ``#aarrggbb``, left to right."""
        return list(self._colours)

    def groups(self) -> int:
        """How many colours the bars have, each one ``drawRects`` per paint."""
        return len(self._groups)

    def _regroup(self, colours: list[str]) -> None:
        self._colours = colours
        bars_of: dict[str, list[int]] = {}
        for j, name in enumerate(colours):
            bars_of.setdefault(name, []).append(j)
        self._groups = [_Group(name, np.array(bars)) for name, bars in bars_of.items()]

    def _place(self, heights: np.ndarray) -> None:
        # a height that is not finite (a NaN weight of an overflowed pass) draws no bar:
        # Qt's painter and scene index must never see a NaN or infinite rectangle
        heights = np.where(np.isfinite(heights), heights, 0.0)
        # the arithmetic of BarGraphItem._getNormalizedCoords, so edges round the same way
        half = self._width / 2.0
        for g in self._groups:
            x = g.bars.astype(float)
            h = heights[g.bars]
            x0, x1 = x - half, x + half
            y0, y1 = np.minimum(0.0, h), np.maximum(0.0, h)
            g.rects.resize(len(x))
            memory = g.rects.ndarray()
            memory[:, 0], memory[:, 1], memory[:, 2], memory[:, 3] = x0, y0, x1 - x0, y1 - y0
        if len(heights):
            n = len(heights)
            top, bottom = max(float(heights.max()), 0.0), min(float(heights.min()), 0.0)
            self._data_rect = QRectF(-half, bottom, n - 1 + self._width, top - bottom)
        else:
            self._data_rect = QRectF()

    def dataBounds(self, ax: int, frac: float = 1.0, orthoRange=None) -> tuple[float | None, float | None]:
        """The bars' extent along x (``ax`` 0) or y, for a view's auto-range."""
        r = self._data_rect
        if r.isNull():
            return None, None
        return (r.left(), r.right()) if ax == 0 else (r.top(), r.bottom())

    def pixelPadding(self) -> float:
        """Half the 1 px outline, in pixels: what a view's auto-range leaves around the bars."""
        return 0.5

    def viewTransformChanged(self) -> None:
        # the padding is half a pixel in data units: it changes with the view's scale
        self.prepareGeometryChange()
        self._bounds = None
        super().viewTransformChanged()

    def boundingRect(self) -> QRectF:
        if self._bounds is None:
            self._bounds = self._padded()
        return QRectF(self._bounds)

    def _padded(self) -> QRectF:
        r = self._data_rect
        if r.isNull():
            return QRectF()
        px, py = self.pixelVectors()
        pad = self.pixelPadding()
        px = 0.0 if px is None else px.length() * pad
        py = 0.0 if py is None else py.length() * pad
        return r.adjusted(-px, -py, px, py)

    def paint(self, p: QPainter, *args) -> None:
        for g in self._groups:
            p.setPen(g.pen)
            p.setBrush(g.brush)
            p.drawRects(*g.rects.drawargs())

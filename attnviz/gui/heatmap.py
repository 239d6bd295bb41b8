"""A long-lived matrix heatmap, after pyqtgraph's MatrixDisplayExample.

One ImageItem, translated by −0.5 so cell (i, j) is centred on tick (j, i),
with the y axis inverted so row 0 is at the top, token labels on the left and
top axes, and a ColorBarItem. Updates only call ``setImage(...,
autoLevels=False)`` and move existing items: nothing is recreated per edit.
Numbers are printed in the cells while they are readable, by one
CellNumbers item.
"""

from __future__ import annotations

import functools
import math
import sys
from collections.abc import Callable, Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QTransform
from PySide6.QtWidgets import QGraphicsRectItem, QToolTip, QWidget

from attnviz.gui.cell_numbers import CellNumbers
from attnviz.gui.image_item import ImageItem
from attnviz.gui.kept_view import KeptView
from attnviz.gui.numbers import format_number
from attnviz.gui.palette import MASKED, SELECTION, color_table, dark_text_on
from attnviz.gui.pixel_cache import CachedColorBarItem, cached_axes
from attnviz.gui.plot_bounds import rect_plot

# Beyond this many rows or columns the cell numbers are never printed (they
# would cost more than the picture is worth).
MAX_NUMBERED = 16
# Printed in a masked cell (the word "masked" does not fit; the tooltip says it).
MASKED_LABEL = "✕"
# Colours are computed in float32; beyond this a value only saturates the map, and levels
# past it are shown by an image of the values divided by the largest level (_display_scale).
DISPLAY_LIMIT = 1e30
# Levels beyond this saturate the map: a span of two levels must not overflow a float.
_LEVEL_LIMIT = sys.float_info.max / 2
# Levels closer than this are widened to it: values within it of each other are one colour.
_LEAST_SPAN = 2e-300
_BLACK, _WHITE, _MASKED_TEXT = QColor("black"), QColor("white"), QColor("#555")


def _cell_font() -> QFont:
    font = QFont()
    font.setPointSize(8)
    return font


@functools.lru_cache(maxsize=16)
def _number_box(digits: int) -> tuple[int, int]:
    """The room a number at ``digits`` digits needs: the widest one's width with a margin, and a line's height."""
    fm = QFontMetrics(_cell_font())
    return fm.horizontalAdvance("−" + "8" * (digits + 2)) + 4, fm.height()


@functools.lru_cache(maxsize=4096)
def _shortest_label_width(label: str) -> int:
    """How wide ``label`` is at the least it is shortened to: three characters and an ellipsis."""
    return QFontMetrics(_cell_font()).horizontalAdvance(label[:3] + "…")


@functools.lru_cache(maxsize=4096)
def _elided(label: str, width: int) -> str:
    """``label`` cut with an ellipsis to ``width`` pixels, as an axis shows it."""
    return QFontMetrics(_cell_font()).elidedText(label, Qt.TextElideMode.ElideRight, width)


def _display_scale(levels: tuple[float, float]) -> float:
    """What the image's values and levels are divided by: 1, or the largest level where it is past
    DISPLAY_LIMIT (float32 cannot hold it) or below its inverse (the colour steps per unit, steps ÷
    span, overflow float32 below ≈ 4e-37); the colour bar shows the levels themselves."""
    m = max(abs(levels[0]), abs(levels[1]))
    return m if DISPLAY_LIMIT < m < math.inf or 0 < m < 1 / DISPLAY_LIMIT else 1.0


def _clipped(a: np.ndarray) -> np.ndarray:
    """``a`` as contiguous float32, huge values saturated rather than overflowed to ±inf."""
    return np.ascontiguousarray(np.clip(a, -DISPLAY_LIMIT, DISPLAY_LIMIT), dtype=np.float32)


class Heatmap(KeptView, pg.GraphicsLayoutWidget):
    """Shows a 2-D array with labelled rows and columns; knows nothing of attention."""

    rowClicked = Signal(int)

    def __init__(self, colormap: pg.ColorMap, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setBackground("w")
        self.colormap = colormap
        self.plot = rect_plot(axisItems=cached_axes("left", "top"), enableMenu=False)
        self.addItem(self.plot, row=0, col=0)
        self.plot.invertY(True)
        self.plot.showAxis("top")
        self.plot.hideAxis("bottom")
        self.plot.hideButtons()
        for axis in ("left", "top"):
            self.plot.getAxis(axis).setPen(pg.mkPen("#444"))
            self.plot.getAxis(axis).setTextPen(pg.mkPen("#222"))
            self.plot.getAxis(axis).setStyle(tickFont=_cell_font())
        self.setViewportUpdateMode(self.ViewportUpdateMode.FullViewportUpdate)  # see gui/image_item.py
        self.image = ImageItem(axisOrder="row-major")
        self.image.setTransform(QTransform.fromTranslate(-0.5, -0.5))
        self.plot.addItem(self.image)
        self.mask = ImageItem(axisOrder="row-major")
        self.mask.setTransform(QTransform.fromTranslate(-0.5, -0.5))
        self.plot.addItem(self.mask)
        # The bar is not tied to the image: it shows the levels, and the image may show them divided
        # by a scale (_display_scale).
        self.image.setColorMap(colormap)
        self.colorbar = CachedColorBarItem(colorMap=colormap, interactive=False, width=12)
        self.colorbar.setImageItem([], insert_in=self.plot)
        self.highlight = QGraphicsRectItem()
        self.highlight.setPen(pg.mkPen(SELECTION, width=3))
        self.highlight.setZValue(20)
        self.highlight.setVisible(False)
        self.plot.addItem(self.highlight)
        self.marker = QGraphicsRectItem()
        self.marker.setPen(pg.mkPen("#000", width=3, style=Qt.PenStyle.DashLine))
        self.marker.setZValue(21)
        self.marker.setVisible(False)
        self.plot.addItem(self.marker)
        self.cell_numbers = CellNumbers(_cell_font())
        self.cell_numbers.setZValue(10)
        self.plot.addItem(self.cell_numbers, ignoreBounds=True)
        self._colors = color_table(colormap)  # what the image colours each cell with
        self._dark_on = dark_text_on(self._colors)  # per colour: whether black text reads on it
        self._labels: tuple[tuple[str, ...], tuple[str, ...]] = ((), ())
        self._data: tuple[np.ndarray, np.ndarray | None] = (np.zeros((0, 0)), None)
        self._fit: tuple[bool, int, int] | None = None  # numbers shown, column label step, row label step
        self._shape: tuple[int, ...] = (0, 0)
        self._levels = (0.0, 1.0)
        self.digits = 2
        self.tooltip_for: Callable[[int, int], str] | None = None
        self.plot.vb.sigResized.connect(self._on_view_resized)
        self.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self.scene().sigMouseClicked.connect(self._on_mouse_clicked)

    # ---- data -----------------------------------------------------------
    def set_matrix(
        self,
        a: np.ndarray,
        rows: Sequence[str],
        cols: Sequence[str],
        levels: tuple[float, float],
        masked: np.ndarray | None = None,
    ) -> None:
        """Show ``a`` (rows × cols) on fixed ``levels``; ``masked`` cells are greyed out."""
        shown = np.where(masked, np.nan, a) if masked is not None else a
        # at most half the largest float each way, and at least 1e-300 apart: pyqtgraph's colour-bar
        # ticks need the span as a float, and divide by it
        lo, hi = max(float(levels[0]), -_LEVEL_LIMIT), min(float(levels[1]), _LEVEL_LIMIT)
        if hi - lo < _LEAST_SPAN:
            middle = lo / 2 + hi / 2
            lo, hi = middle - _LEAST_SPAN / 2, middle + _LEAST_SPAN / 2
        levels = (lo, hi)
        scale = _display_scale(levels)
        if scale != 1.0:
            shown = shown / scale
        # (within ±DISPLAY_LIMIT: the levels are, or are divided by the larger of them)
        self.image.setImage(_clipped(shown), autoLevels=False, levels=(levels[0] / scale, levels[1] / scale))
        if levels != self._levels:
            self._levels = levels
            self.colorbar.setLevels(levels)
        self._set_mask(masked, a.shape)
        self._data = (a, masked)
        if a.shape != self._shape:
            self._shape = a.shape
            self.plot.vb.setRange(
                xRange=(-0.5, max(a.shape[1], 1) - 0.5), yRange=(-0.5, max(a.shape[0], 1) - 0.5), padding=0.02
            )
        labels = (tuple(rows), tuple(cols))
        fit = self._measure_fit(labels)
        if labels != self._labels or fit != self._fit:
            self._labels, self._fit = labels, fit
            self._set_ticks()
        self._set_numbers(a, masked)
        self.forget_picture()

    def _on_view_resized(self) -> None:
        fit = self._measure_fit(self._labels)
        if fit != self._fit:
            self._fit = fit
            self._set_ticks()
            self._set_numbers(*self._data)

    def _measure_fit(self, labels: tuple[tuple[str, ...], tuple[str, ...]]) -> tuple[bool, int, int]:
        """What is readable at the current size: cell numbers, and every how many labels."""
        n_rows, n_cols = self._shape[:2]
        if not n_rows or not n_cols:
            return (False, 1, 1)
        size = self.plot.vb.size()
        cell_w, cell_h = size.width() / n_cols, size.height() / n_rows
        number_w, line_h = _number_box(self.digits)
        numbers = max(n_rows, n_cols) <= MAX_NUMBERED and cell_w >= number_w and cell_h >= line_h
        # labels are shortened to the cell width, down to three characters
        label_w = max(map(_shortest_label_width, labels[1]), default=0) + 4
        col_step = max(1, math.ceil(label_w / max(cell_w, 1e-9)))
        row_step = max(1, math.ceil(line_h / max(cell_h, 1e-9)))
        return (numbers, col_step, row_step)

    def set_highlighted_row(self, row: int) -> None:
        n_rows, n_cols = self._shape[:2]
        if 0 <= row < n_rows:
            self.highlight.setRect(QRectF(-0.5, row - 0.5, n_cols, 1))
            self.highlight.setVisible(True)
        else:
            self.highlight.setVisible(False)
        self.forget_picture()

    def set_marked_cell(self, row: int, col: int) -> None:
        """Outline one cell, e.g. where a number in the calculation came from."""
        n_rows, n_cols = self._shape[:2]
        inside = 0 <= row < n_rows and 0 <= col < n_cols
        if inside:
            self.marker.setRect(QRectF(col - 0.5, row - 0.5, 1, 1))
        self.marker.setVisible(inside)
        self.forget_picture()

    def image_data(self) -> np.ndarray:
        """What the image shows (float32, NaN where masked; divided by the largest level past DISPLAY_LIMIT)."""
        return self.image.image

    def numbers(self) -> list[str]:
        """The texts printed in the cells, row by row (empty when not printed)."""
        return self.cell_numbers.texts()

    def _set_mask(self, masked: np.ndarray | None, shape: tuple[int, ...]) -> None:
        if masked is None or not masked.any():
            self.mask.setVisible(False)
            return
        rgba = np.zeros((*shape, 4), dtype=np.ubyte)
        rgba[masked] = MASKED.getRgb()
        self.mask.setImage(rgba, autoLevels=False)
        self.mask.setVisible(True)

    def _set_ticks(self) -> None:
        """Token labels on both axes, thinned out where they would overlap.

        Called only when the labels or the size change: laying out axis text
        is the costly part of an update.
        """
        rows, cols = self._labels
        _numbers, col_step, row_step = self._fit or (False, 1, 1)
        n_cols = max(len(cols), 1)
        width = max(int(self.plot.vb.size().width() / n_cols * col_step) - 4, 8)
        top = [(j, _elided(cols[j], width)) for j in range(0, len(cols), col_step)]
        left = [(i, _elided(rows[i], 90)) for i in range(0, len(rows), row_step)]
        self.plot.getAxis("left").setTicks([left])
        self.plot.getAxis("top").setTicks([top])

    def _set_numbers(self, a: np.ndarray, masked: np.ndarray | None) -> None:
        if not (self._fit and self._fit[0]):
            self.cell_numbers.clear()
            return
        # the text colour reads on the colour the image gives the cell: the same
        # table row, looked up for all cells at once
        rows = self.image.table_rows(len(self._colors))
        dark = self._dark_on[rows] | (rows < 0)  # NaN: no colour, white shows through
        is_masked = masked if masked is not None else np.zeros(a.shape, dtype=bool)
        texts, colors = [], []
        cells = zip(a.ravel().tolist(), is_masked.ravel().tolist(), dark.ravel().tolist(), strict=True)
        for value, hidden, on_light in cells:
            texts.append(MASKED_LABEL if hidden else format_number(value, self.digits))
            colors.append(_MASKED_TEXT if hidden else _BLACK if on_light else _WHITE)
        self.cell_numbers.set_cells(texts, colors, a.shape)

    # ---- mouse ----------------------------------------------------------
    def cell_at(self, scene_pos: QPointF) -> tuple[int, int] | None:
        if not self.plot.sceneBoundingRect().contains(scene_pos):
            return None
        p = self.plot.vb.mapSceneToView(scene_pos)
        i, j = round(p.y()), round(p.x())
        n_rows, n_cols = self._shape[:2]
        return (i, j) if 0 <= i < n_rows and 0 <= j < n_cols else None

    def _on_mouse_moved(self, scene_pos: QPointF) -> None:
        cell = self.cell_at(scene_pos)
        if cell is None or self.tooltip_for is None:
            QToolTip.hideText()
            return
        global_pos = self.mapToGlobal(self.mapFromScene(scene_pos))
        QToolTip.showText(global_pos, self.tooltip_for(*cell), self)

    def _on_mouse_clicked(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        cell = self.cell_at(event.scenePos())
        if cell is not None:
            self.rowClicked.emit(cell[0])

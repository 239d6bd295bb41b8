"""The positional-encoding panel: the sine/cosine pattern added to each token.

A heatmap of PE (positions down, model dimensions across) for at least 16
positions, so the wave pattern is visible even for a two-token sentence; the
rows the sentence actually uses are boxed and labelled with its tokens.

The PE rows past the sentence are not in ``model.result`` (which only holds
the sentence's n rows), so this view asks the engine's
``positional_encoding`` for them; that is a pure function of (positions,
d_model, kind), not a recomputation of attention. Everything else it shows
comes from ``model.result``.

Rows and columns are numbered from 1 as the tables number them (row 1 Let's;
column 1 is d₁); the formula, as the calculation page writes it, counts from
0, and the tooltip says how the two meet.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QFontMetrics, QPen, QTextOption
from PySide6.QtWidgets import QGraphicsRectItem, QVBoxLayout, QWidget

from attnviz.engine import positional_encoding
from attnviz.gui.lazy_view import LazyView
from attnviz.gui.numbers import short
from attnviz.gui.palette import DIVERGING, SELECTION
from attnviz.gui.pixel_cache import CachedColorBarItem, cache_title, cached_axes
from attnviz.gui.plot_bounds import rect_plot
from attnviz.gui.view_state import ViewState
from attnviz.model import DocumentModel

MIN_POSITIONS = 16  # enough rows to show the pattern, few enough that every row is labelled
MAX_ROW_LABELS = 16
_LABEL_GAP = 6  # px between two column numbers
OFF_POINTS, MIN_OFF_POINTS = 13, 7  # the size of "positional encoding is off", and the least it shrinks to
_OFF_WIDEST_LINE = "positional encoding"  # (then "is off")
# The formula in the letters of the calculation page, which counts positions from 0 ("Position p = 0
# (counting from 0)"), while the axes count rows and dimensions from 1, as the tables do.
TOOLTIP = (
    "The positional encoding added to each token's embedding. Rows are positions and columns the\n"
    "dimensions of d_model, both numbered from 1 as in the tables: row 1 is the first token, d₁ the\n"
    "first dimension. The formula counts both from 0:\n"
    "    PE[p, 2m] = sin(p / 10000^(2m/d)),   PE[p, 2m+1] = cos(p / 10000^(2m/d)),   with d = d_model\n"
    "so row k is position p = k − 1, and dₖ is index k − 1: d₁ is 2m = 0 (a sine), d₂ is 2m+1 = 1\n"
    "(its cosine), d₃ is 2m = 2 (a sine), and so on."
)


class PositionalEncodingView(LazyView, QWidget):
    def __init__(self, model: DocumentModel, view: ViewState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("plot:pe")
        self.setToolTip(TOOLTIP)
        self.model = model
        self.view = view

        self._ticks: dict[int, str] = {}
        self._built = False
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)

        # Config, sentence and size changes all end in resultChanged (documentReset too).
        model.resultChanged.connect(self.refresh)

    def _build(self) -> None:
        """The plot, made when it is first drawn: behind the Output tab at start-up, it would add
        ≈ 18 ms (a plot and a colour bar) to every start for a tab many never open."""
        self.graphics = pg.GraphicsLayoutWidget(self)
        self.graphics.setBackground("w")
        self.plot = rect_plot(axisItems=cached_axes("left", "bottom"), enableMenu=False)
        self.graphics.addItem(self.plot, row=0, col=0)
        self.plot.setTitle("PE[position, dimension]", color="#333")
        self.plot.setLabel("left", "position")
        self.plot.setLabel("bottom", "dimension")
        self._d_model = 0
        self._column_ticks: list[tuple[int, str]] = []
        self.plot.vb.sigResized.connect(self._set_column_ticks)
        self.plot.invertY(True)
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.hideButtons()

        self.image = pg.ImageItem(axisOrder="row-major")
        self.plot.addItem(self.image)
        self.colorbar = CachedColorBarItem(values=(-1.0, 1.0), colorMap=DIVERGING, interactive=False, width=14)
        self.colorbar.setImageItem(self.image)
        self.graphics.addItem(self.colorbar, row=0, col=1)
        cache_title(self.plot)

        # The sentence's rows: a box over rows 0..n-1, spanning every dimension.
        self.mark = QGraphicsRectItem()
        pen = QPen(SELECTION, 2.5)
        pen.setCosmetic(True)  # stays 2.5 px whatever the zoom
        self.mark.setPen(pen)
        self.mark.setZValue(10)
        self.plot.addItem(self.mark, ignoreBounds=True)

        self.off_label = pg.TextItem(f"{_OFF_WIDEST_LINE}\nis off", color="#b2182b", anchor=(0.5, 0.5))
        self.off_label.textItem.document().setDefaultTextOption(QTextOption(Qt.AlignmentFlag.AlignHCenter))
        self._fit_off_label()
        self.plot.vb.sigResized.connect(self._fit_off_label)
        self.off_label.setZValue(20)
        self.plot.addItem(self.off_label, ignoreBounds=True)
        self.off_label.hide()

        self.layout().addWidget(self.graphics)
        # Tab reaches it where it stands in the window, not last (where a widget made late goes)
        before = self.previousInFocusChain()
        while before is not self.window() and not before.focusPolicy() & Qt.FocusPolicy.TabFocus:
            before = before.previousInFocusChain()
        QWidget.setTabOrder(before, self.graphics)
        if self.isVisible():  # (a layout shows a widget added to a visible parent only later)
            self.graphics.show()
            self.layout().activate()
        self._built = True

    # ---- for tests and export -----------------------------------------
    def image_data(self) -> np.ndarray:
        self.ensure_fresh()
        return np.asarray(self.image.image)

    def marked_rows(self) -> int:
        """How many rows the sentence box covers (0 when the sentence is empty)."""
        self.ensure_fresh()
        return round(self.mark.rect().height()) if self.mark.isVisible() else 0

    def y_tick_labels(self) -> dict[int, str]:
        """Row -> label currently shown on the position axis."""
        self.ensure_fresh()
        return dict(self._ticks)

    def is_off(self) -> bool:
        self.ensure_fresh()
        return self.off_label.isVisible()

    def export_target(self) -> pg.GraphicsLayout:
        """The heatmap with its colour bar, for File ▸ Export."""
        self.ensure_fresh()
        return self.graphics.ci

    # ---- updating ------------------------------------------------------
    def redraw(self) -> None:
        if not self._built:
            self._build()
        result = self.model.result
        n = result.n_tokens
        d_model = self.model.d_model
        kind = self.model.config.positional_encoding
        positions = max(n, MIN_POSITIONS)
        pe = positional_encoding(positions, d_model, kind)

        self.image.setImage(pe, autoLevels=False, levels=(-1.0, 1.0))
        # Pixel (r, c) covers [c-0.5, c+0.5] x [r-0.5, r+0.5]: cells centre on the ticks.
        self.image.setRect(QRectF(-0.5, -0.5, d_model, positions))
        self.plot.setRange(xRange=(-0.5, d_model - 0.5), yRange=(-0.5, positions - 0.5), padding=0)

        self.mark.setRect(QRectF(-0.5, -0.5, d_model, n))
        self.mark.setVisible(n > 0)

        self._set_ticks(result.tokens, positions, d_model)

        off = kind == "none"
        self.off_label.setVisible(off)
        self.off_label.setPos(d_model / 2 - 0.5, positions / 2 - 0.5)
        self.plot.setTitle(
            "off: all zeros" if off else "PE[position, dimension]",
            color="#333",
        )

    def _set_ticks(self, tokens: tuple[str, ...], positions: int, d_model: int) -> None:
        # rows and dimensions are numbered from 1, as the tables' headers number them (1 Let's, d₁);
        # a sentence's row names its token
        ticks = {p: (f"{p + 1} {short(tokens[p], 10)}" if p < len(tokens) else str(p + 1))
                 for p in _ticked(positions, MAX_ROW_LABELS)}
        self._ticks = ticks
        self.plot.getAxis("left").setTicks([sorted(ticks.items())])
        self._d_model = d_model
        self._set_column_ticks()

    def _fit_off_label(self, *_args: object) -> None:
        """"positional encoding is off" as large as fits the plot (13 pt at most): the view clips it."""
        font = self.off_label.textItem.font()
        font.setBold(True)
        room = self.plot.vb.width() - 8
        for points in range(OFF_POINTS, MIN_OFF_POINTS - 1, -1):
            font.setPointSize(points)
            widest = QFontMetrics(font).horizontalAdvance(_OFF_WIDEST_LINE)
            if widest <= room:
                break
        if font != self.off_label.textItem.font():
            self.off_label.setFont(font)
            # a width of its own, or Qt does not centre the lines
            margins = 2 * self.off_label.textItem.document().documentMargin()
            self.off_label.setTextWidth(widest + margins + 2)

    def _set_column_ticks(self, *_args: object) -> None:
        """Column numbers, as many as fit the plot's width side by side (the widest with a gap)."""
        if not self._d_model:
            return
        axis = self.plot.getAxis("bottom")
        widest = QFontMetrics(axis.style["tickFont"] or axis.font()).horizontalAdvance(str(self._d_model))
        fit = max(1, int(self.plot.vb.width() // (widest + _LABEL_GAP)))
        ticks = [(c, str(c + 1)) for c in _ticked(self._d_model, fit)]
        if ticks != self._column_ticks:
            self._column_ticks = ticks
            # the first and last numbers sit half a column from the axis's ends: they may stick out
            # by half their width rather than be dropped
            reach = widest // 2 + 2
            if axis.style["hideOverlappingLabels"] != reach:
                axis.setStyle(hideOverlappingLabels=reach)
            axis.setTicks([ticks])


def _ticked(count: int, most: int) -> list[int]:
    """The (0-based) rows or columns to label: every one, or every few, so that at most ``most`` are.

    Their numbers count from 1, so past a step of 2 the first is labelled and then the round
    numbers (1, 4, 8, 12 …), not every step from the first (1, 5, 9, 13 …).
    """
    step = _tick_step(count, most)
    if step <= 2:
        return list(range(0, count, step))  # 1, 2, 3 … or 1, 3, 5 …
    return [0, *range(step - 1, count, step)]


def _tick_step(count: int, most: int) -> int:
    """The smallest round step that labels at most ``most`` of ``count`` (the first one extra)."""
    for step in (1, 2, 4, 5, 8, 10, 16, 20, 25, 32, 50, 64, 100, 128, 256, 512, 1024):
        if count / step <= most - (step > 2):
            return step
    return max(1, count // max(most - 1, 1))

"""Bar chart of the selected query token's softmax weights over the key tokens."""

from __future__ import annotations

import functools
import html
import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics
from PySide6.QtWidgets import QWidget

from attnviz.gui.cell_numbers import PlotTexts
from attnviz.gui.heatmap import MAX_NUMBERED
from attnviz.gui.kept_view import KeptView
from attnviz.gui.lazy_view import LazyView
from attnviz.gui.numbers import format_number, short
from attnviz.gui.palette import MASKED, token_color
from attnviz.gui.pixel_cache import cache_title, cached_axes
from attnviz.gui.plot_bounds import rect_plot
from attnviz.gui.token_bars import TokenBars
from attnviz.gui.view_state import ViewState
from attnviz.model import DocumentModel
from attnviz.model.naming import quoted

TOP = 1.1  # the y range: room above a full bar for its number
_NUMBER_COLOR = QColor("#222")


def _label_font() -> QFont:
    font = QFont()
    font.setPointSize(9)
    return font


_TITLE_POINTS = 10
_TITLE_MARGIN = 6  # px each side: pyqtgraph's label and plot margins


def _title_font() -> QFont:
    font = QFont()
    font.setPointSize(_TITLE_POINTS)
    return font


@functools.lru_cache(maxsize=256)  # an edit sets the same title again
def _elided_title(text: str, room: int) -> str:
    return QFontMetrics(_title_font()).elidedText(text, Qt.TextElideMode.ElideRight, room)


@functools.lru_cache(maxsize=4096)
def _label_width(text: str) -> int:
    return QFontMetrics(_label_font()).horizontalAdvance(text)


class SelectedWeightsPanel(LazyView, KeptView, pg.PlotWidget):
    _full_title = ""  # (the view is resized while it is being built)

    def __init__(self, model: DocumentModel, view: ViewState, parent: QWidget | None = None) -> None:
        super().__init__(parent, background="w",
                         plotItem=rect_plot(axisItems=cached_axes("left", "bottom"), enableMenu=False))
        self.setObjectName("plot:selected")
        self.setToolTip("How much the selected token attends to each token: one row of the softmax weights.")
        self.model, self.view = model, view
        plot = self.getPlotItem()
        plot.hideButtons()
        plot.setMouseEnabled(False, False)
        plot.setYRange(0, TOP, padding=0)
        plot.setLabel("left", "softmax weight")
        # whole repaints, so that each one leaves a picture to keep (gui/kept_view.py)
        self.setViewportUpdateMode(self.ViewportUpdateMode.FullViewportUpdate)
        self.bars = TokenBars(width=0.7)
        plot.addItem(self.bars)
        # each bar's number sits on top of it, 4 px up as a text item's margin had it
        self.numbers = PlotTexts(_label_font(), anchor=(0.5, 1.0), lift=4.0)
        plot.addItem(self.numbers, ignoreBounds=True)
        cache_title(plot)
        plot.getAxis("bottom").setTicks([[]])  # token names only: never pyqtgraph's own 0.2 … 0.8
        self._ticks: list[tuple[int, str]] = []
        self._tokens: tuple[str, ...] = ()
        self._coloured_for: tuple[bool, ...] | None = None  # the mask (per bar) the bars were coloured for
        self._title = ""  # as shown
        self._width = 0.0
        plot.vb.sigResized.connect(self._on_view_resized)
        model.resultChanged.connect(self.refresh)
        view.headChanged.connect(self.refresh)
        view.tokenChanged.connect(self.refresh)
        view.precisionChanged.connect(self.refresh)

    def heights(self) -> np.ndarray:
        """The bar heights shown, for tests and export."""
        return self.bars.heights()

    def redraw(self) -> None:
        self.forget_picture()  # a grab straight after the edit must not wait for the scene's report
        r, i, h = self.model.result, self.view.token, min(self.view.head, self.model.n_heads - 1)
        plot = self.getPlotItem()
        if not 0 <= i < r.n_tokens:
            self.bars.set_bars([], [])
            self._coloured_for = ()
            self._set_title("Type a sentence to see its weights")
            self._show_numbers([], [])
            self._tokens = ()
            self._set_ticks()
            return
        w = r.weights[h, i]
        masked = self.model.masked()[i]
        x = np.arange(r.n_tokens)
        mask = tuple(bool(m) for m in masked)
        if mask != self._coloured_for:  # regrouping the bars by colour is needed only when the mask changes
            self._coloured_for = mask
            self.bars.set_bars(w, [MASKED if m else token_color(j) for j, m in enumerate(masked)])
        else:
            self.bars.set_bars(w)
        self._set_title(f"What {quoted(short(r.tokens[i]))} attends to (head {h + 1})")
        shown = tuple(short(t) for t in r.tokens)
        if shown != self._tokens:
            self._tokens = shown
            plot.setXRange(-0.6, max(r.n_tokens, 1) - 0.4, padding=0)
        self._set_ticks()
        self._show_numbers(x if self._numbers_fit() else [], w)

    def _slot_width(self) -> float:
        return self.getPlotItem().vb.width() / max(len(self._tokens), 1)

    def _numbers_fit(self) -> bool:
        digits = QFontMetrics(_label_font()).horizontalAdvance("0." + "0" * self.view.precision)
        return len(self._tokens) <= MAX_NUMBERED and self._slot_width() >= digits + 2

    def _set_ticks(self) -> None:
        """Token names under the bars, every k-th one where they would overlap."""
        widest = max(map(_label_width, self._tokens), default=0) + 8
        step = max(1, math.ceil(widest / max(self._slot_width(), 1e-9)))
        ticks = [(j, self._tokens[j]) for j in range(0, len(self._tokens), step)]
        if ticks != self._ticks:
            self._ticks = ticks
            self.getPlotItem().getAxis("bottom").setTicks([ticks])

    def _set_title(self, text: str) -> None:
        self._full_title = text
        self._show_title()

    def _show_title(self) -> None:
        """The title, cut short with "…" where the panel is narrower: a title label is as wide as its
        text at least, and a plot as wide as its title, so a long one pushed the last bars out of view."""
        plot = self.getPlotItem()
        # the title sits over the bars' column, right of the weight axis
        room = int(max(self.viewport().width() - plot.getAxis("left").width() - 2 * _TITLE_MARGIN, 0))
        shown = _elided_title(self._full_title, room)
        # setting even the same title relays out the plot, which resizes the view
        if shown != self._title:
            self._title = shown
            # a title is HTML to pyqtgraph: a token "<" or "&" is text here
            plot.setTitle(html.escape(shown, quote=False), color="#222", size=f"{_TITLE_POINTS}pt")

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if self._full_title:
            self._show_title()

    def _on_view_resized(self) -> None:
        width = self.getPlotItem().vb.width()
        if width != self._width:  # whether numbers and labels fit depends on the width only
            self._width = width
            self._set_ticks()
            self.refresh()

    def _show_numbers(self, x, w) -> None:
        """The weight above each bar at ``x`` (none when ``x`` is empty)."""
        texts = [format_number(float(v), self.view.precision) for v in w[: len(x)]]
        heights = np.asarray(w[: len(x)], dtype=float)
        # a weight that is not a number has no bar; its "NaN" stands on the axis
        points = np.column_stack([np.asarray(x, dtype=float), np.where(np.isfinite(heights), heights, 0.0)])
        area = QRectF(-0.6, 0.0, len(x) + 0.2, TOP)  # the view's range
        self.numbers.set_texts(texts, [_NUMBER_COLOR] * len(texts), points, area)

    def numbers_shown(self) -> list[str]:
        """The numbers printed above the bars, left to right (for tests)."""
        return self.numbers.texts()

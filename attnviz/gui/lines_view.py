"""The attention-lines view, after BertViz's "head view".

Queries in a column on the left, keys in a column on the right, and a line
from query i to key j for every pair, drawn more opaque and thicker the more
weight softmax gave key j in query i's row. With all heads overlaid, each
head draws its own set of lines in its palette colour.

It is a custom-painted QWidget rather than a pyqtgraph scene: the picture is
two columns of text and up to H·n² straight lines, which QPainter draws
fastest when lines sharing a pen go to one ``drawLines`` call, and hit
testing a token is a division. The lines are kept as NumPy arrays and only
the pen buckets are built per paint, so 64 tokens × 8 heads stays smooth.

Interaction: hovering a query shows only its outgoing lines, hovering a key
only its incoming ones; clicking a query selects it (``ViewState.set_token``).
Everything shown comes from ``model.result.weights``; nothing is recomputed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QLineF, QPointF, QRectF, QSize, Qt
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetricsF,
    QImage,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
)
from PySide6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QLabel, QSizePolicy, QToolTip, QVBoxLayout, QWidget

from attnviz.gui.lazy_view import LazyView
from attnviz.gui.palette import SELECTION, head_color, token_color
from attnviz.gui.view_state import ViewState
from attnviz.model import DocumentModel

MODE_ALL = "all"
MODE_SELECTED = "selected"
QUERY, KEY = "query", "key"

MAX_WIDTH = 4.0   # px, for weight 1
MIN_WIDTH = 0.5   # px, for weight 0
MAX_ROW_HEIGHT = 30.0
MARGIN = 10.0
HEADER = 22.0     # room for the "query" / "key" captions
LEGEND = 20.0     # room for the head legend in all-heads mode
MAX_SPAN = 420.0  # widest gap between the two columns


def line_opacity(weight: np.ndarray | float) -> np.ndarray:
    """Opacity of a line: the weight itself, as in BertViz (0 = invisible, 1 = solid)."""
    return np.clip(np.nan_to_num(np.asarray(weight, dtype=float), nan=0.0), 0.0, 1.0)


def line_width(weight: np.ndarray | float, max_width: float = MAX_WIDTH) -> np.ndarray:
    return MIN_WIDTH + (max_width - MIN_WIDTH) * line_opacity(weight)


@dataclass
class _Layout:
    """Where things are on the canvas for the current size and token count."""

    top: float
    row_h: float
    left_right: float   # right edge of the query column's text
    right_left: float   # left edge of the key column's text
    text_w: float
    font: QFont
    max_line_w: float   # thinner lines when rows are packed tight

    def row_y(self, i: int | np.ndarray) -> float | np.ndarray:
        return self.top + (np.asarray(i) + 0.5) * self.row_h

    def token_rect(self, side: str, i: int) -> QRectF:
        y = self.top + i * self.row_h
        if side == QUERY:
            return QRectF(self.left_right - self.text_w, y, self.text_w, self.row_h)
        return QRectF(self.right_left, y, self.text_w, self.row_h)


class LinesCanvas(QWidget):
    """The painted part of :class:`LinesView`; all state lives in the view."""

    def __init__(self, owner: LinesView) -> None:
        super().__init__(owner)
        self.setObjectName("lines:canvas")
        self.owner = owner
        self.setMouseTracking(True)  # hover without a pressed button
        self.setAutoFillBackground(True)
        pal = self.palette()
        pal.setColor(self.backgroundRole(), QColor("white"))
        self.setPalette(pal)

    def sizeHint(self) -> QSize:
        return QSize(420, 360)

    def paintEvent(self, event: QPaintEvent) -> None:
        self.owner._paint(self)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        hit = self.owner.token_at(event.position())
        self.owner.set_hover(*(hit or (None, -1)))
        if hit is not None:
            QToolTip.showText(event.globalPosition().toPoint(), self.owner._tooltip(*hit), self)
        else:
            QToolTip.hideText()

    def leaveEvent(self, event) -> None:
        self.owner.set_hover(None, -1)
        super().leaveEvent(event)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        hit = self.owner.token_at(event.position())
        if event.button() == Qt.MouseButton.LeftButton and hit is not None and hit[0] == QUERY:
            self.owner.view.set_token(hit[1])
        super().mousePressEvent(event)


class LinesView(LazyView, QWidget):
    def __init__(self, model: DocumentModel, view: ViewState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("plot:lines")
        self.model = model
        self.view = view
        self._hover: tuple[str | None, int] = (None, -1)
        self._tokens: tuple[str, ...] = ()
        self._weights = np.zeros((1, 0, 0))   # (heads drawn, n, n)
        self._heads = np.zeros(0, dtype=int)  # head index of each drawn slice
        self._version = 0                     # bumps whenever _weights changes
        self._cache: QImage | None = None
        self._cache_key: tuple | None = None

        self.mode = QComboBox(self)
        self.mode.setObjectName("lines:mode")
        self.mode.addItem("All queries", MODE_ALL)
        self.mode.addItem("Selected only", MODE_SELECTED)
        self.mode.setToolTip("Draw the lines of every query, or only of the selected token")
        self.all_heads = QCheckBox("All heads", self)
        self.all_heads.setObjectName("lines:allHeads")
        self.all_heads.setToolTip("Overlay every head's lines, each in its own colour")
        self.caption = QLabel(self)
        self.caption.setObjectName("lines:caption")
        self.caption.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        # a long caption may be clipped rather than widen the whole window
        self.caption.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)

        self.canvas = LinesCanvas(self)

        bar = QHBoxLayout()
        bar.setContentsMargins(4, 4, 4, 0)
        bar.addWidget(self.mode)
        bar.addWidget(self.all_heads)
        bar.addWidget(self.caption, 1)  # takes the spare width, and may clip rather than widen
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(bar)
        layout.addWidget(self.canvas, 1)

        self.mode.currentIndexChanged.connect(self._on_display_change)
        self.all_heads.toggled.connect(self.refresh)
        model.resultChanged.connect(self.refresh)
        model.documentReset.connect(self._on_reset)
        view.headChanged.connect(self.refresh)
        view.tokenChanged.connect(self._on_display_change)

    # ---- public, for the window and for tests ----------------------------
    def line_items(self) -> list[tuple[int, int, int, float, float]]:
        """(head, query, key, weight, opacity) for every line currently drawn."""
        self.ensure_fresh()
        h_idx, q_idx, k_idx = self._visible_lines()
        w = self._weights[h_idx, q_idx, k_idx]
        opacity = line_opacity(w)
        heads = self._heads[h_idx]
        return [
            (int(h), int(q), int(k), float(x), float(o))
            for h, q, k, x, o in zip(heads, q_idx, k_idx, w, opacity, strict=True)
        ]

    def set_mode(self, mode: str) -> None:
        self.mode.setCurrentIndex(self.mode.findData(mode))

    def set_hover(self, side: str | None, index: int) -> None:
        """Isolate one token's lines (``side`` QUERY or KEY), or clear with None."""
        hover = (side, index) if side is not None and 0 <= index < len(self._tokens) else (None, -1)
        if hover != self._hover:
            self._hover = hover
            self.canvas.update()

    @property
    def hover(self) -> tuple[str | None, int]:
        return self._hover

    def token_rect(self, side: str, i: int) -> QRectF:
        """The rectangle of token ``i``'s text on the canvas (for tests and tooltips)."""
        self.ensure_fresh()
        return self._layout().token_rect(side, i)

    def token_at(self, pos: QPointF) -> tuple[str, int] | None:
        """Which token's text (side, index) is under ``pos`` on the canvas, if any."""
        n = len(self._tokens)
        if n == 0:
            return None
        lay = self._layout()
        i = int((pos.y() - lay.top) // lay.row_h)
        if not 0 <= i < n:
            return None
        for side in (QUERY, KEY):
            if lay.token_rect(side, i).contains(pos):
                return side, i
        return None

    # ---- updating ------------------------------------------------------
    def _on_reset(self) -> None:
        # A new document: forget the hover. The resultChanged that always
        # follows documentReset does the refresh, so don't pull the result here.
        self._hover = (None, -1)
        self._stale = True

    def _on_display_change(self) -> None:
        # Mode and selection only filter what is drawn; no new data needed.
        if self.isVisible():
            self.canvas.update()

    def redraw(self) -> None:
        self._version += 1
        result = self.model.result
        if result.n_tokens != len(self._tokens):
            self._hover = (None, -1)  # the hovered index may no longer exist
        self._tokens = result.tokens
        if self.all_heads.isChecked():
            self._heads = np.arange(result.n_heads)
        else:
            self._heads = np.array([min(self.view.head, result.n_heads - 1)])
        self._weights = np.asarray(result.weights)[self._heads]
        if self.all_heads.isChecked() and result.n_heads > 1:
            self.caption.setText(f"{result.n_heads} heads")
        else:
            self.caption.setText(f"head {int(self._heads[0]) + 1} of {result.n_heads}")
        self.canvas.update()

    def _visible_lines(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Indices (head slot, query, key) of the lines that pass the mode and hover filters."""
        n_h, n, _ = self._weights.shape
        h, q, k = (a.ravel() for a in np.indices((n_h, n, n)))
        keep = np.ones(h.shape, dtype=bool)
        side, index = self._hover
        if side == QUERY:
            keep &= q == index  # a hovered query shows its lines even in selected mode
        else:
            if self.mode.currentData() == MODE_SELECTED:
                keep &= q == self.view.token
            if side == KEY:
                keep &= k == index
        return h[keep], q[keep], k[keep]

    # ---- painting ------------------------------------------------------
    def _layout(self) -> _Layout:
        n = max(len(self._tokens), 1)
        w, h = self.canvas.width(), self.canvas.height()
        bottom = LEGEND if len(self._heads) > 1 else 0.0
        row_h = min(MAX_ROW_HEIGHT, max(1.0, (h - 2 * MARGIN - HEADER - bottom) / n))
        top = MARGIN + HEADER + max(0.0, (h - 2 * MARGIN - HEADER - bottom - row_h * n) / 2)
        font = QFont(self.canvas.font())
        font.setPixelSize(int(max(7, min(15, row_h * 0.62))))
        metrics = QFontMetricsF(font)
        widest = max((metrics.horizontalAdvance(t) for t in self._tokens), default=0.0)
        caption_w = QFontMetricsF(self.canvas.font()).horizontalAdvance("query") + 8
        # Text gets at most a third of the width each side, so lines always have room.
        text_w = min(max(widest + 8, caption_w), max(24.0, (w - 2 * MARGIN) / 3))
        # Very long lines make slopes hard to follow: keep the picture at most
        # MAX_SPAN wide and centre it.
        left = MARGIN + max(0.0, (w - 2 * MARGIN - 2 * text_w - MAX_SPAN) / 2)
        return _Layout(
            top=top,
            row_h=row_h,
            left_right=left + text_w,
            right_left=w - left - text_w,
            text_w=text_w,
            font=font,
            max_line_w=min(MAX_WIDTH, max(1.0, row_h * 0.3)),
        )

    def _paint(self, canvas: QWidget) -> None:
        self.ensure_fresh()
        painter = QPainter(canvas)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        lay = self._layout()
        self._paint_captions(painter, lay)
        if self._tokens:
            if self._hover[0] is None:
                painter.drawImage(QPointF(0, 0), self._lines_image(lay))
            else:
                self._paint_lines(painter, lay)  # a hovered token's lines are few: draw them directly
            self._paint_tokens(painter, lay)
        else:
            painter.setPen(QColor("#777"))
            painter.drawText(canvas.rect(), Qt.AlignmentFlag.AlignCenter, "Type a sentence to see its attention lines")
        if len(self._heads) > 1:
            self._paint_legend(painter, lay)
        painter.end()

    def _lines_image(self, lay: _Layout) -> QImage:
        """The un-hovered lines, rendered once per data/size/filter change.

        Thousands of translucent antialiased lines are the one slow thing
        here (64 tokens × 8 heads is 32k lines); hover, tooltips and
        selection repaints reuse this image instead of redrawing them.
        """
        dpr = self.canvas.devicePixelRatioF()
        key = (self.canvas.size(), dpr, self._version, self.mode.currentData(), self.view.token)
        if self._cache_key != key or self._cache is None:
            size = self.canvas.size() * dpr
            image = QImage(size, QImage.Format.Format_ARGB32_Premultiplied)
            image.setDevicePixelRatio(dpr)
            image.fill(Qt.GlobalColor.transparent)
            painter = QPainter(image)
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            self._paint_lines(painter, lay)
            painter.end()
            self._cache, self._cache_key = image, key
        return self._cache

    def _paint_captions(self, painter: QPainter, lay: _Layout) -> None:
        painter.setPen(QColor("#555"))
        y = lay.top - HEADER
        left = QRectF(lay.left_right - lay.text_w, y, lay.text_w, HEADER)
        painter.drawText(left, Qt.AlignmentFlag.AlignRight, "query")
        painter.drawText(QRectF(lay.right_left, y, lay.text_w, HEADER), Qt.AlignmentFlag.AlignLeft, "key")

    def _paint_lines(self, painter: QPainter, lay: _Layout) -> None:
        h_idx, q_idx, k_idx = self._visible_lines()
        w = self._weights[h_idx, q_idx, k_idx]
        alpha = np.round(line_opacity(w) * 255).astype(int)
        # Lines under 2/255 opacity cost as much as any other and show nothing.
        visible = alpha >= 2
        h_idx, q_idx, k_idx, w, alpha = h_idx[visible], q_idx[visible], k_idx[visible], w[visible], alpha[visible]
        # Width in quarter pixels, so lines group into few pens.
        width_q = np.round(line_width(w, lay.max_line_w) * 4).astype(int)
        x0, x1 = lay.left_right + 4, lay.right_left - 4
        y0, y1 = lay.row_y(q_idx), lay.row_y(k_idx)
        keys = np.stack([h_idx, alpha, width_q], axis=1)
        # Draw faint lines first so strong ones end up on top.
        order = np.lexsort((width_q, alpha))
        groups: dict[tuple[int, int, int], list[QLineF]] = {}
        for i in order:
            groups.setdefault(tuple(keys[i]), []).append(QLineF(x0, y0[i], x1, y1[i]))
        for (slot, a, wq), lines in groups.items():
            color = QColor(head_color(int(self._heads[slot])))
            color.setAlpha(int(a))
            pen = QPen(color, wq / 4)
            pen.setCapStyle(Qt.PenCapStyle.RoundCap)
            painter.setPen(pen)
            painter.drawLines(lines)

    def _paint_tokens(self, painter: QPainter, lay: _Layout) -> None:
        painter.setFont(lay.font)
        side, index = self._hover
        selected = self.view.token
        for i, tok in enumerate(self._tokens):
            for s in (QUERY, KEY):
                rect = lay.token_rect(s, i)
                if s == QUERY and i == selected:
                    highlight = QColor(SELECTION)
                    highlight.setAlpha(70)
                    painter.fillRect(rect.adjusted(0, 1, 0, -1), highlight)
                if (s, i) == (side, index):
                    painter.fillRect(rect.adjusted(0, 1, 0, -1), QColor(0, 0, 0, 25))
                painter.setPen(token_color(i))
                align = Qt.AlignmentFlag.AlignRight if s == QUERY else Qt.AlignmentFlag.AlignLeft
                inner = rect.adjusted(4, 0, -4, 0)
                text = QFontMetricsF(lay.font).elidedText(tok, Qt.TextElideMode.ElideRight, inner.width())
                painter.drawText(inner, align | Qt.AlignmentFlag.AlignVCenter, text)

    def _paint_legend(self, painter: QPainter, lay: _Layout) -> None:
        x = MARGIN
        y = self.canvas.height() - MARGIN - 12
        painter.setFont(self.canvas.font())
        for h in self._heads:
            painter.fillRect(QRectF(x, y + 2, 10, 10), head_color(int(h)))
            label = f"head {int(h) + 1}"
            painter.setPen(QColor("#333"))
            painter.drawText(QPointF(x + 14, y + 11), label)
            x += 24 + QFontMetricsF(painter.font()).horizontalAdvance(label)

    def _tooltip(self, side: str, i: int) -> str:
        """The hovered token's weights, so exact numbers are a hover away."""
        digits = self.view.precision
        rows = []
        for slot, h in enumerate(self._heads):
            w = self._weights[slot, i, :] if side == QUERY else self._weights[slot, :, i]
            prefix = f"head {int(h) + 1}: " if len(self._heads) > 1 else ""
            parts = ", ".join(f"{self._tokens[j]} {x:.{digits}f}" for j, x in enumerate(w))
            rows.append(prefix + parts)
        what = "attends to" if side == QUERY else "is attended by"
        return f"{self._tokens[i]} {what}:\n" + "\n".join(rows)


"""The calculation panel: every step of self-attention for one token, with the real numbers.

What it says is built in calculation_steps; this widget shows it in a
QTextBrowser (calculation_page, calculation_document) and offers it as text
or Markdown (calculation_text). Clicking a number that came from a matrix or
heatmap cell emits :attr:`CalculationPanel.sourceRequested` with that cell.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QGuiApplication, QShowEvent, QTextDocument
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMenu,
    QSpinBox,
    QTextBrowser,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from attnviz.gui.calculation_document import CalculationDocument
from attnviz.gui.calculation_page import Page, build_page, message_page, parse_source
from attnviz.gui.calculation_steps import (
    EMPTY_MESSAGE,
    NO_TOKEN_MESSAGE,
    Context,
    Seg,
    build_steps,
    numbers_in,
    shown_keys,
)
from attnviz.gui.calculation_text import render_markdown, render_text
from attnviz.gui.view_state import MAX_DIGITS, MIN_DIGITS, ViewState
from attnviz.model import DocumentModel

__all__ = ["EMPTY_MESSAGE", "CalculationPanel", "parse_source"]


# ---- the widget --------------------------------------------------------------
class CalculationPanel(QWidget):
    """Self-attention for the selected token and head, written out with real numbers."""

    # name, head (-1 when the matrix is not per head), row, col
    sourceRequested = Signal(str, int, int, int)

    def __init__(self, model: DocumentModel, view: ViewState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("panel:calculation")
        self.model = model
        self.view = view
        self.regenerations = 0  # how many times the text was brought up to date (tests check laziness)
        self._dirty = True
        self._show_terms = False
        self._show_all_keys = False
        self._build_ui()
        # Coalesce: a head change and a token change in one event-loop turn cost one rebuild.
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self._regenerate_if_visible)
        model.resultChanged.connect(self._invalidate)
        view.headChanged.connect(self._invalidate)
        view.tokenChanged.connect(self._invalidate)
        view.precisionChanged.connect(self._on_precision)

    def _build_ui(self) -> None:
        title = QLabel("<b>Calculation</b>")
        self.precision_box = QSpinBox(objectName="calc:precision")
        self.precision_box.setRange(MIN_DIGITS, MAX_DIGITS)
        self.precision_box.setToolTip("Digits after the decimal point")
        self.precision_box.setValue(self.view.precision)
        self.precision_box.valueChanged.connect(self.view.set_precision)
        copy = QToolButton(objectName="calc:copy", text="Copy")
        copy.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(copy)
        menu.addAction("Copy as Markdown", lambda: QGuiApplication.clipboard().setText(self.to_markdown()))
        menu.addAction("Copy as plain text", lambda: QGuiApplication.clipboard().setText(self.to_plain_text()))
        copy.setMenu(menu)
        header = QHBoxLayout()
        header.addWidget(title)
        header.addStretch(1)
        header.addWidget(QLabel("Digits:"))
        header.addWidget(self.precision_box)
        header.addWidget(copy)

        self.text = QTextBrowser(objectName="calc:text")
        self.text.setOpenLinks(False)
        self.text.setOpenExternalLinks(False)
        # Scroll bars that came and went with the page's size resized the view,
        # and every resize lays the whole page out again (twice per rebuild).
        for policy in (self.text.setVerticalScrollBarPolicy, self.text.setHorizontalScrollBarPolicy):
            policy(Qt.ScrollBarPolicy.ScrollBarAlwaysOn)
        self.page = CalculationDocument(self.text.document())
        self.text.anchorClicked.connect(self._on_anchor)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(header)
        layout.addWidget(self.text, 1)

    # ---- what is shown, as data -------------------------------------------
    def _context(self) -> Context | None:
        r = self.model.result
        i = self.view.token
        if r.n_tokens == 0 or not 0 <= i < r.n_tokens:
            return None
        head = min(max(self.view.head, 0), r.n_heads - 1)
        keys = shown_keys(r.weights[head, i], i, self._show_all_keys)
        return Context(r, self.model.document(), head, i, self.view.precision, self._show_terms,
                       self._show_all_keys, keys)

    def _message(self) -> str:
        return EMPTY_MESSAGE if self.model.result.n_tokens == 0 else NO_TOKEN_MESSAGE

    def _header(self, ctx: Context) -> list[Seg]:
        d = ctx.doc
        return ["Query token ", ctx.tok(ctx.i), f" (word {ctx.i + 1} of {ctx.r.n_tokens}), "
                f"head {ctx.head + 1} of {d.n_heads}; d_model = {d.d_model}, d_k = {d.d_k}, d_v = {d.d_v}"]

    def steps(self) -> list[dict[str, Any]]:
        """The numbers each step shows: engine floats in ``values``, and every printed number in ``numbers``."""
        ctx = self._context()
        if ctx is None:
            return []
        return [{"number": s.number, "key": s.key, "title": s.title, "formula": s.formula,
                 "values": {k: v.tolist() if isinstance(v, np.ndarray) else v for k, v in s.values.items()},
                 "numbers": [{"value": n.value, "text": n.text, "source": n.source} for n in numbers_in(s.blocks)]}
                for s in build_steps(ctx)]

    def to_plain_text(self) -> str:
        ctx = self._context()
        return self._message() + "\n" if ctx is None else render_text(self._header(ctx), build_steps(ctx))

    def to_markdown(self) -> str:
        ctx = self._context()
        return self._message() + "\n" if ctx is None else render_markdown(self._header(ctx), build_steps(ctx))

    def to_page(self) -> Page:
        ctx = self._context()
        return message_page(self._message()) if ctx is None else build_page(self._header(ctx), build_steps(ctx))

    def to_html(self) -> str:
        """The page as Qt writes it out as HTML (links, token colours), built afresh."""
        document = QTextDocument()
        document.setDefaultFont(self.text.document().defaultFont())
        CalculationDocument(document).show(self.to_page())
        return document.toHtml()

    # ---- folding ------------------------------------------------------------
    @property
    def show_terms(self) -> bool:
        return self._show_terms

    def set_show_terms(self, shown: bool) -> None:
        """Show every term of long sums (more than 8 terms), or fold them."""
        if bool(shown) != self._show_terms:
            self._show_terms = bool(shown)
            self._invalidate()

    def set_show_all_keys(self, shown: bool) -> None:
        """List every key of a long sentence (up to MAX_KEYS_LISTED), or only the heaviest."""
        if bool(shown) != self._show_all_keys:
            self._show_all_keys = bool(shown)
            self._invalidate()

    # ---- regeneration -------------------------------------------------------
    def _invalidate(self, *_: Any) -> None:
        self._dirty = True
        if self.isVisible():
            self._timer.start()

    def _on_precision(self, digits: int) -> None:
        # The view allows 0–8 digits; the box shows the nearest it can without echoing back.
        self.precision_box.blockSignals(True)
        self.precision_box.setValue(digits)
        self.precision_box.blockSignals(False)
        self._invalidate()

    def _regenerate_if_visible(self) -> None:
        if self._dirty and self.isVisible():
            self.regenerate()

    def regenerate(self) -> None:
        """Bring the text up to date now, keeping the scroll position."""
        bar = self.text.verticalScrollBar()
        hbar = self.text.horizontalScrollBar()
        pos, hpos = bar.value(), hbar.value()
        self.page.show(self.to_page())
        bar.setValue(pos)
        hbar.setValue(hpos)
        self._dirty = False
        self.regenerations += 1

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._dirty:
            self.regenerate()

    # ---- links --------------------------------------------------------------
    def _on_anchor(self, url: QUrl) -> None:
        target = url.toString()
        if target == "toggle:terms":
            self.set_show_terms(not self._show_terms)
            return
        if target == "toggle:keys":
            self.set_show_all_keys(not self._show_all_keys)
            return
        parsed = parse_source(target)
        if parsed is not None:
            self.sourceRequested.emit(*parsed)



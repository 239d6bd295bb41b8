"""The calculation panel: every step of self-attention for one token, with the real numbers.

What it says is built in calculation_steps; this widget shows it in a
QTextBrowser (calculation_page, calculation_document) and offers it as text
or Markdown (calculation_text). Clicking a number that came from a matrix or
heatmap cell emits :attr:`CalculationPanel.sourceRequested` with that cell.

An edit changes numbers all over the page, but only ≈ 15 of its ≈ 130 lines
are on screen, and Qt lays out every line a patch touches. So after an edit
the panel builds the steps whose blocks are on screen and patches just those
blocks; the rest of the page is brought up to date once the edits pause for
REST_DELAY_MS, or at once when a block not yet updated is about to be painted
(a scroll, a resize, a zoom) or the reader selects all or copies in the text
(keys or context menu). The Copy button and the exports build
the whole page afresh. An update keeps the first block on screen where it
was, so blocks above it that change height do not move the text being read.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import numpy as np
from PySide6.QtCore import QEvent, QObject, QRectF, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QGuiApplication, QKeySequence, QShowEvent, QTextDocument
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMenu,
    QSpinBox,
    QTextBrowser,
    QTextEdit,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from attnviz.gui.calculation_document import CalculationDocument
from attnviz.gui.calculation_page import Page, header_blocks, message_page, parse_source, step_blocks
from attnviz.gui.calculation_steps import (
    EMPTY_MESSAGE,
    NO_TOKEN_MESSAGE,
    STEPS,
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

# How long edits must pause before the part of the page off screen follows them.
REST_DELAY_MS = 150
# Keys that hand the page's text over (to the clipboard) rather than show it
_HANDING_OVER = (QKeySequence.StandardKey.Copy, QKeySequence.StandardKey.SelectAll)


# ---- the widget --------------------------------------------------------------
class _PageBrowser(QTextBrowser):
    """The page's view. Tab moves on to the next control: every number on the page is a link, and
    stepping through them one Tab at a time took hundreds of presses to get out."""

    def focusNextPrevChild(self, next: bool) -> bool:
        return QTextEdit.focusNextPrevChild(self, next)


class CalculationPanel(QWidget):
    """Self-attention for the selected token and head, written out with real numbers."""

    # name, head (-1 when the matrix is not per head), row, col
    sourceRequested = Signal(str, int, int, int)

    def __init__(self, model: DocumentModel, view: ViewState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("panel:calculation")
        self.model = model
        self.view = view
        self.regenerations = 0  # how many times the whole text was brought up to date (tests check laziness)
        self.on_screen_updates = 0  # how many times only the blocks on screen were
        self._dirty = True
        self._stale: set[int] = set()  # blocks (off screen) that may show an older page
        # the blocks of the page's parts as last built whole: the header, then each step
        self._parts: list[range] = []
        self._show_terms = False
        self._show_all_keys = False
        self._build_ui()
        # Coalesce: a head change and a token change in one event-loop turn cost one rebuild.
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self._update_if_visible)
        self._rest_timer = QTimer(self)
        self._rest_timer.setSingleShot(True)
        self._rest_timer.setInterval(REST_DELAY_MS)
        self._rest_timer.timeout.connect(self._bring_rest_up_to_date)
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

        self.text = _PageBrowser(objectName="calc:text")
        self.text.setTabChangesFocus(True)
        self.text.setOpenLinks(False)
        self.text.setOpenExternalLinks(False)
        # Scroll bars that came and went with the page's size resized the view,
        # and every resize lays the whole page out again (twice per rebuild).
        for policy in (self.text.setVerticalScrollBarPolicy, self.text.setHorizontalScrollBarPolicy):
            policy(Qt.ScrollBarPolicy.ScrollBarAlwaysOn)
        self.page = CalculationDocument(self.text.document())
        # which blocks are on screen, and what that depends on besides the page's contents
        self._on_screen: tuple[tuple, list[int]] | None = None
        self.text.document().contentsChanged.connect(self._forget_blocks_on_screen)
        self.text.anchorClicked.connect(self._on_anchor)
        # what is painted, and what the reader selects to copy, must be the current page
        self.text.installEventFilter(self)
        self.text.viewport().installEventFilter(self)

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
        return self._whole_page()[0]

    def _whole_page(self) -> tuple[Page, list[range]]:
        """The page, and the blocks of its parts (none for a message)."""
        ctx = self._context()
        if ctx is None:
            return message_page(self._message()), []
        parts = [self._part(ctx, k) for k in range(len(STEPS) + 1)]
        return [block for part in parts for block in part], _spans(parts)

    def _part(self, ctx: Context, k: int) -> Page:
        """Part ``k`` of the page: 0 the header, then the steps."""
        return header_blocks(self._header(ctx)) if k == 0 else step_blocks(STEPS[k - 1](ctx))

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
        self._rest_timer.stop()  # the edits have not paused: the next update on screen starts the wait again
        if self.isVisible():
            self._timer.start()

    def _on_precision(self, digits: int) -> None:
        # The view allows 0–8 digits; the box shows the nearest it can without echoing back.
        self.precision_box.blockSignals(True)
        self.precision_box.setValue(digits)
        self.precision_box.blockSignals(False)
        self._invalidate()

    def _update_if_visible(self) -> None:
        if self._dirty and self.isVisible():
            self.update_on_screen()

    def regenerate(self) -> None:
        """Bring the whole text up to date now, keeping the scroll position."""
        self._rest_timer.stop()
        self._stale = set()
        with self._place_kept():
            page, self._parts = self._whole_page()
            self.page.show(page)
        self._dirty = False
        self.regenerations += 1

    def update_on_screen(self) -> None:
        """Bring the blocks on screen up to date now, and the rest once the edits pause."""
        ctx = self._context()
        if ctx is None or not self._parts or self._parts[-1].stop != len(self.page.shown):
            self.regenerate()  # a message, or a page the parts do not describe
            return
        page = list(self.page.shown)
        built: set[int] = set()
        done: set[int] = set()
        reshaped = False
        with self._place_kept():
            # patched blocks can change height and bring others on screen: until none is new
            while todo := [b for b in self._blocks_on_screen() if b not in done]:
                needed = {self._part_of(b) for b in todo} - built
                if not self._fill(ctx, page, needed):
                    reshaped = True
                    break
                built |= needed
                self.page.show(page, only=set(todo))
                done.update(todo)
        if reshaped:
            self.regenerate()
            return
        self._dirty = False
        self.on_screen_updates += 1
        self._stale = set(range(len(page))) - done
        if self._stale:
            self._rest_timer.start()

    def _fill(self, ctx: Context, page: Page, parts: set[int]) -> bool:
        """Build ``parts`` into their places on ``page``; False if one no longer has as many blocks."""
        for k in parts:
            blocks = self._part(ctx, k)
            if len(blocks) != len(self._parts[k]):
                return False
            page[self._parts[k].start:self._parts[k].stop] = blocks
        return True

    def _bring_rest_up_to_date(self) -> None:
        # Hidden: showEvent will. An edit awaiting its recompute (in this turn of the event loop)
        # brings its own update on screen, and the wait starts again; recomputing from here would
        # run every panel's handlers inside this panel's paint.
        if self._stale and self.isVisible() and not self.model.recompute_pending:
            self.regenerate()

    def _blocks_on_screen(self) -> list[int]:
        """The blocks the text view shows; found again only after a change of the page's contents, the scroll
        position, the view's size or the laid-out page's size (a zoom, a font), not at each of an edit's five asks
        (before patching the page, after it, until nothing new comes on screen, and at each paint after it)."""
        document = self.text.document()
        layout = document.documentLayout()
        viewport = self.text.viewport()
        top = self.text.verticalScrollBar().value()
        key = (top, viewport.width(), viewport.height(), layout.documentSize())
        if self._on_screen is None or self._on_screen[0] != key:
            self._on_screen = (key, self._find_blocks_on_screen(document, QRectF(0, top, 1, viewport.height())))
        return list(self._on_screen[1])

    def _forget_blocks_on_screen(self) -> None:
        self._on_screen = None

    @staticmethod
    def _find_blocks_on_screen(document: QTextDocument, seen: QRectF) -> list[int]:
        layout = document.documentLayout()
        out, block = [], document.begin()
        while block.isValid():
            rect = layout.blockBoundingRect(block)
            if rect.top() >= seen.bottom():
                break
            if rect.bottom() > seen.top():
                out.append(block.blockNumber())
            block = block.next()
        return out

    def _part_of(self, block: int) -> int:
        return next(k for k, span in enumerate(self._parts) if block in span)

    @contextlib.contextmanager
    def _place_kept(self) -> Iterator[None]:
        """Keep the first block on screen where it is (the scroll position, if the page changed its blocks)."""
        bar, hbar = self.text.verticalScrollBar(), self.text.horizontalScrollBar()
        pos, hpos = bar.value(), hbar.value()
        count = self.text.document().blockCount()
        on_screen = self._blocks_on_screen()
        first = on_screen[0] if on_screen else None
        offset = self._block_top(first) - pos if first is not None else 0
        try:
            yield
        finally:
            if first is not None and self.text.document().blockCount() == count:
                pos = self._block_top(first) - offset
            bar.setValue(pos)
            hbar.setValue(hpos)

    def _block_top(self, number: int) -> int:
        document = self.text.document()
        return round(document.documentLayout().blockBoundingRect(document.findBlockByNumber(number)).top())

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._dirty or self._stale:
            self.regenerate()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if self._stale and self._reaches_rest(watched, event):
            self._bring_rest_up_to_date()
        return False

    def _reaches_rest(self, watched: QObject, event: QEvent) -> bool:
        """Whether this event shows or hands over blocks that may not be up to date."""
        kind = event.type()
        if watched is self.text:  # select all, copy (other keys either scroll, and paint, or go elsewhere)
            return kind in (QEvent.Type.KeyPress, QEvent.Type.ShortcutOverride) and any(
                event.matches(key) for key in _HANDING_OVER)
        if kind == QEvent.Type.ContextMenu:  # its Select All and Copy
            return True
        return kind == QEvent.Type.Paint and not self._stale.isdisjoint(self._blocks_on_screen())

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


def _spans(parts: list[Page]) -> list[range]:
    """The blocks each part takes on the page they make together."""
    out, start = [], 0
    for part in parts:
        out.append(range(start, start + len(part)))
        start += len(part)
    return out

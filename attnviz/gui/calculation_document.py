"""The calculation page in a QTextDocument, patched in place where it changed.

Writing a page (calculation_page) through QTextCursor is several times
cheaper than parsing the same page as HTML, and it tells us where every run
starts. An edit of a weight changes numbers but rarely the page's shape; a
new sentence or another heaviest key reshapes a few blocks. So when the new
page has as many blocks as the one shown, a block with the same runs (kinds,
styles and links; only texts differ) has just the runs whose text changed
replaced, a block that changed shape is rewritten, and the rest is left
alone. Qt lays out again the whole span an edit block touched, so one edit
block around the patch would also lay out the unchanged blocks between the
first change and the last; an edit block per block costs more when most of
them change (typing). Changes to adjacent blocks share an edit block, and an
unchanged block between two changes splits them.
Another number of blocks rebuilds the page.

``show(page, only=blocks)`` brings just those blocks up to date (the ones on
screen) and leaves the rest as they were; what the document holds is always
the page it reports as ``shown``, so a later ``show`` patches the rest.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import NamedTuple

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont, QTextBlockFormat, QTextCharFormat, QTextCursor, QTextDocument

from attnviz.gui.calculation_page import Page, Run
from attnviz.gui.palette import text_color_on, token_color

MONO_FAMILIES = ["DejaVu Sans Mono", "Menlo", "Consolas", "monospace"]
LINK_COLOR = "#16407a"
TOGGLE_COLOR = "#2060a0"
GREY = "#555"
BODY_POINTS = 10.0


def _utf16_len(text: str) -> int:
    """Length in QString units: characters beyond the BMP (emoji) count twice."""
    if text.isascii():  # most runs; CPython knows this without a scan
        return len(text)
    return len(text.encode("utf-16-le")) >> 1


def _run_len(text: str, style: str) -> int:
    # numbers are the bulk of a page, and format_number writes only BMP characters
    return len(text) if style == "num" else _utf16_len(text)


def _run_lens(runs: list[Run]) -> list[int]:
    return [_run_len(text, style) for text, style, _ in runs]


def _block_formats() -> dict[str, QTextBlockFormat]:
    def block(top: float, bottom: float, keep_lines: bool = False) -> QTextBlockFormat:
        f = QTextBlockFormat()
        # English prose: a line that starts with a Hebrew or Arabic token still runs left to right
        # (Qt would take the direction from the line's first letter)
        f.setLayoutDirection(Qt.LayoutDirection.LeftToRight)
        f.setTopMargin(top)
        f.setBottomMargin(bottom)
        f.setNonBreakableLines(keep_lines)
        return f

    return {"p": block(6, 6), "note": block(6, 6), "math": block(2, 6), "pre": block(2, 6, True),
            "h3": block(14, 4)}


def _char_formats(base: QFont) -> dict[str, QTextCharFormat]:
    def fmt(mono: bool = False, color: str = "", italic: bool = False, bold: bool = False,
            scale: float = 1.0) -> QTextCharFormat:
        f = QTextCharFormat()
        if mono:
            f.setFontFamilies(MONO_FAMILIES)
            f.setFontStyleHint(QFont.StyleHint.Monospace)
            f.setFontFixedPitch(True)
        if color:
            f.setForeground(QColor(color))
        if italic:
            f.setFontItalic(True)
        if bold:
            f.setFontWeight(QFont.Weight.Bold)
        if scale != 1.0:
            f.setFontPointSize(base.pointSizeF() * scale)
        return f

    link = fmt(mono=True, color=LINK_COLOR)
    link.setAnchor(True)
    toggle = fmt(color=TOGGLE_COLOR)
    toggle.setAnchor(True)
    toggle.setFontUnderline(True)
    return {"text": fmt(), "note": fmt(color=GREY, italic=True), "mono": fmt(mono=True), "num": fmt(mono=True),
            "th": fmt(mono=True, color=GREY), "h3": fmt(bold=True, scale=1.2),
            "formula": fmt(mono=True, color=GREY), "link": link, "toggle": toggle}


class RunEdit(NamedTuple):
    """Replace the ``length`` characters at ``start`` (run ``index`` of block ``block``) by ``run``."""

    block: int
    index: int
    start: int
    length: int
    run: Run


class BlockEdit(NamedTuple):
    """Rewrite block ``block``, whose text is the ``length`` characters at ``start``."""

    block: int
    start: int
    length: int
    kind: str
    runs: list[Run]


class CalculationDocument:
    """Shows pages in one QTextDocument; ``show`` patches in place when it can."""

    def __init__(self, document: QTextDocument) -> None:
        self.document = document
        # A read-only view: an undo history would only grow with every edit.
        document.setUndoRedoEnabled(False)
        font = document.defaultFont()
        font.setPointSizeF(BODY_POINTS)
        document.setDefaultFont(font)
        self._blocks = _block_formats()
        self._chars = _char_formats(document.defaultFont())
        self._formats: dict[tuple[str, str], QTextCharFormat] = {}
        self._page: Page = []
        self._run_lengths: list[list[int]] = []  # each shown run's length in QString units, block by block
        self.rebuilds = 0  # full rewrites (the rest were patches)
        self.blocks_rewritten = 0  # blocks that changed shape within a patch

    @property
    def shown(self) -> Page:
        """The page the document holds, block by block (do not modify)."""
        return self._page

    def show(self, page: Page, only: Collection[int] | None = None) -> None:
        """Show ``page``; with ``only``, just those blocks of it, if it has as many blocks as the page shown."""
        edits = self._edits(page, only)
        if edits is None:
            self._rebuild(page)
            self._run_lengths = [_run_lens(runs) for _, runs in page]
            self._page = page
            return
        if edits:
            self._patch(edits)
            self._note_lengths(edits)
        if only is None:
            self._page = page
        else:
            self._page = [page[b] if b in only else shown for b, shown in enumerate(self._page)]

    def _note_lengths(self, edits: list[RunEdit | BlockEdit]) -> None:
        for edit in edits:
            if isinstance(edit, RunEdit):
                self._run_lengths[edit.block][edit.index] = _run_len(edit.run[0], edit.run[1])
            else:
                self._run_lengths[edit.block] = _run_lens(edit.runs)

    def _edits(self, page: Page, only: Collection[int] | None = None) -> list[RunEdit | BlockEdit] | None:
        """What turns the page shown into ``page`` (its blocks in ``only``), in document order.

        None if the block count changed.
        """
        old = self._page
        if len(page) != len(old):
            return None
        edits: list[RunEdit | BlockEdit] = []
        pos = -1  # a block break is one position; the first block has none
        for b, ((kind, runs), (old_kind, old_runs)) in enumerate(zip(page, old, strict=True)):
            pos += 1
            block_len = sum(self._run_lengths[b])
            if (only is not None and b not in only) or (kind == old_kind and runs == old_runs):
                pos += block_len
                continue
            start = pos
            same_shape = kind == old_kind and len(runs) == len(old_runs)
            run_edits = []
            if same_shape:
                for k, (run, (old_text, old_style, old_href), length) in enumerate(
                        zip(runs, old_runs, self._run_lengths[b], strict=True)):
                    if run[1] != old_style or run[2] != old_href:
                        same_shape = False
                        break
                    if run[0] != old_text:
                        run_edits.append(RunEdit(b, k, pos, length, run))
                    pos += length
            pos = start + block_len
            if same_shape:
                edits += run_edits
            else:
                edits.append(BlockEdit(b, start, pos - start, kind, runs))
        return edits

    def _format(self, style: str, href: str) -> QTextCharFormat:
        key = (style, href)
        f = self._formats.get(key)
        if f is None:
            if style.startswith("tok:"):
                f = self._token_format(int(style[4:]))
            else:
                f = QTextCharFormat(self._chars["link" if href and style == "num" else style])
            if href:
                f.setAnchorHref(href)
            if len(self._formats) > 50_000:  # links name cells: bounded by the matrices, but be safe
                self._formats.clear()
            self._formats[key] = f
        return f

    def _token_format(self, index: int) -> QTextCharFormat:
        bg = token_color(index)
        f = QTextCharFormat()
        f.setBackground(bg)
        f.setForeground(text_color_on(bg))
        f.setFontWeight(QFont.Weight.DemiBold)
        return f

    def _rebuild(self, page: Page) -> None:
        self.rebuilds += 1
        self.document.clear()
        cursor = QTextCursor(self.document)
        cursor.beginEditBlock()
        for b, (kind, runs) in enumerate(page):
            if b:
                cursor.insertBlock(self._blocks[kind], self._chars["text"])
            else:
                cursor.setBlockFormat(self._blocks[kind])
            for text, style, href in runs:
                cursor.insertText(text, self._format(style, href))
        cursor.endEditBlock()
        self._keep_glyphs()

    def _keep_glyphs(self) -> None:
        """Let every block keep its shaped text from one paint to the next.

        By default a block's QTextLayout throws its glyphs away after laying
        out and after each paint, to save memory, and shapes its text again
        at the next paint: 40 % of painting the page on screen (0.22 → 0.13 ms
        for lets-go's). The page is painted after every edit. Kept, the glyphs
        cost ≈ 30 bytes a character (+10 MB for the longest page, 512 tokens
        with every term shown). Patches keep their blocks, and with them this.
        """
        block = self.document.begin()
        while block.isValid():
            block.layout().setCacheEnabled(True)
            block = block.next()

    def _patch(self, edits: list[RunEdit | BlockEdit]) -> None:
        cursor = QTextCursor(self.document)
        cursor.beginEditBlock()
        block = edits[-1].block
        # from the end backwards, so the positions still to patch stay valid
        for edit in reversed(edits):
            if edit.block < block - 1:  # unchanged blocks in between: see the module's docstring
                cursor.endEditBlock()
                cursor.beginEditBlock()
            block = edit.block
            cursor.setPosition(edit.start)
            cursor.setPosition(edit.start + edit.length, QTextCursor.MoveMode.KeepAnchor)
            if isinstance(edit, RunEdit):
                text, style, href = edit.run
                cursor.insertText(text, self._format(style, href))
                continue
            self.blocks_rewritten += 1
            cursor.removeSelectedText()
            cursor.setBlockFormat(self._blocks[edit.kind])
            for text, style, href in edit.runs:
                cursor.insertText(text, self._format(style, href))
        cursor.endEditBlock()

"""The calculation as a QTextDocument, patched in place when only numbers change.

The steps (calculation_steps) are flattened into a *page*: a list of blocks,
each a kind (paragraph, note, formula line, preformatted table, heading) and a
list of runs (text, style, link). Writing that page through QTextCursor is
several times cheaper than parsing the same page as HTML, and it tells us
where every run starts. An edit of a weight changes numbers but rarely the
page's shape, so when the new page has the same blocks and runs as the one
shown (same kinds, styles and links; only texts differ), just the runs whose
text changed are replaced, in one edit block. Anything else rebuilds the page.

Tables and dot-product rows are monospace text padded with spaces, not rich-
text tables: Qt's table layout costs several times more. A number that came
from a matrix or heatmap cell is a link ``src:NAME:HEAD:ROW:COL``.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from functools import lru_cache

from PySide6.QtGui import QColor, QFont, QTextBlockFormat, QTextCharFormat, QTextCursor, QTextDocument

from attnviz.gui.calculation_steps import Block, DotRow, Dots, Mono, Num, Para, Seg, Source, Step, Table, Toggle, Tok
from attnviz.gui.numbers import MINUS
from attnviz.gui.palette import text_color_on, token_color

# A run: its text, its style (a key of the char formats; "tok:J" for token J)
# and its link target ("" for none).
Run = tuple[str, str, str]
Page = list[tuple[str, list[Run]]]

LINE_BREAK = "\u2028"  # a line break inside a block, as HTML's <br/> becomes
NBSP = "\xa0"
MONO_FAMILIES = ["DejaVu Sans Mono", "Menlo", "Consolas", "monospace"]
TERMS_PER_LINE = 4  # a long sum wraps between terms, never inside one
STACK_TERMS = 3  # sums with more terms put "= products = result" on a second line, to stay narrow
LINK_COLOR = "#16407a"
TOGGLE_COLOR = "#2060a0"
GREY = "#555"
BODY_POINTS = 10.0


@lru_cache(maxsize=65536)
def source_href(source: Source) -> str:
    name, head, row, col = source
    return f"src:{name}:{head}:{row}:{col}"


def parse_source(href: str) -> Source | None:
    """``"src:W_q:0:1:0"`` → ``("W_q", 0, 1, 0)``; anything else → None."""
    parts = href.split(":")
    if len(parts) != 5 or parts[0] != "src":
        return None
    try:
        return parts[1], int(parts[2]), int(parts[3]), int(parts[4])
    except ValueError:
        return None


# ---- the page ------------------------------------------------------------------
def _run(seg: Seg, mono: bool) -> Run:
    """``mono``: plain text in this block is monospace (formula lines and tables)."""
    kind = type(seg)
    if kind is Num:
        return (seg.text, "num", source_href(seg.source) if seg.source else "")
    if kind is Tok:
        return (f"{NBSP}{seg.text}{NBSP}", f"tok:{seg.index}", "")
    if kind is Mono:
        return (seg.text, "mono", "")
    return (seg, "mono" if mono else "text", "")


def _seg_runs(seg: Seg, mono: bool) -> list[Run]:
    return [_run(seg, mono)]


def _segs_runs(segs: Iterable[Seg], mono: bool = True) -> list[Run]:
    return [_run(s, mono) for s in segs]


@lru_cache(maxsize=8192)
def _cells(text: str) -> int:
    """Monospace cells ``text`` covers: CJK and emoji take two, combining and zero-width marks none."""
    if text.isascii():
        return len(text)
    width = 0
    for c in text:
        if unicodedata.combining(c) or unicodedata.category(c) in ("Mn", "Me", "Cf"):
            continue
        width += 2 if unicodedata.east_asian_width(c) in ("W", "F") else 1
    return width


def _width(segs: Iterable[Seg]) -> int:
    """How many monospace cells ``segs`` take on screen (a token chip has a space each side)."""
    total = 0
    for s in segs:
        if isinstance(s, Num | Mono):
            total += _cells(s.text)
        elif isinstance(s, Tok):
            total += _cells(s.text) + 2
        else:
            total += _cells(s)
    return total


def _mono(text: str) -> Run:
    return (text, "mono", "")


def _signed(num: Num, first: bool) -> list[Run]:
    """A later addend with its sign folded into the operator: ``+ 0.5`` or ``− 0.5``."""
    if first:
        return _seg_runs(num, True)
    sign = f" {MINUS} " if num.value < 0 else " + "
    return [_mono(sign), (num.text.lstrip(MINUS), "num", "")]


def _factor(num: Num, bracket: bool) -> list[Run]:
    """A factor, in parentheses when negative so that "·−" never appears."""
    runs = _seg_runs(num, True)
    return [_mono("("), *runs, _mono(")")] if bracket and num.value < 0 else runs


def _wrap(items: list[list[Run]], sep: str, indent: str) -> list[Run]:
    """Join ``items`` with ``sep``, breaking the line (then ``indent``) every TERMS_PER_LINE items."""
    out: list[Run] = []
    for t, item in enumerate(items):
        if t and t % TERMS_PER_LINE == 0:
            out.append(_mono(sep.rstrip() + LINE_BREAK + indent + ("  " if sep else "")))
        elif t and sep:
            out.append(_mono(sep))
        out += item
    return out


def _terms(row: DotRow, indent: str) -> tuple[list[Run], list[Run]]:
    """(a·b + …, p + …) of one dot product."""
    terms, products = [], []
    for t, (a, b, p) in enumerate(row.terms or []):
        terms.append([*_factor(a, t > 0), _mono("·"), *_factor(b, True)])
        products.append(_signed(p, t == 0))
    for e in row.extra:
        terms.append(_factor(e, bool(terms)))
        products.append(_signed(e, not products))
    return _wrap(terms, " + ", indent), _wrap(products, "", indent)


def _dot_op(row: DotRow) -> str:
    return row.op.lstrip(": ") + " =" if row.op else "="


def _dots_runs(block: Dots) -> list[Run]:
    label_w = max((_width(r.label) for r in block.rows), default=0)
    op_w = max((len(_dot_op(r)) for r in block.rows), default=1)
    indent = " " * (label_w + 1 + op_w + 1)
    out: list[Run] = []
    for row in block.rows:
        if out:
            out.append(_mono(LINE_BREAK))
        out += _segs_runs(row.label)
        out.append(_mono(" " * (label_w - _width(row.label)) + " " + _dot_op(row).ljust(op_w) + " "))
        result = _seg_runs(row.result, True)
        if row.terms is None:
            out += result
        else:
            terms, products = _terms(row, indent)
            n_terms = len(row.terms) + len(row.extra)
            out += terms
            if n_terms > STACK_TERMS:  # "= products = result" on a second line, to stay narrow
                out.append(_mono(LINE_BREAK + " " * (label_w + 1 + op_w - 1) + "= "))
            else:
                out.append(_mono(" = "))
            if row.terms:
                out += [*products, _mono(" = ")]
            out += result
        if row.tail:
            # the follow-up (e.g. the scaled logit) goes on its own line under the sum
            out.append(_mono(LINE_BREAK + indent))
            for k, cell in enumerate(row.tail):
                out += ([_mono(" ")] if k else []) + _segs_runs(cell)
    return out


def _table_runs(block: Table) -> list[Run]:
    # first column is a label; the rest hold numbers, right-aligned so the points line up
    header = [([(h, "th", "")], _cells(h)) for h in block.header]
    cells = [header] + [[(_segs_runs(c), _width(c)) for c in row] for row in block.rows]
    widths = [max(row[c][1] for row in cells) for c in range(len(block.header))]
    out: list[Run] = []
    for r, row in enumerate(cells):
        if r:
            out.append(_mono(LINE_BREAK))
        last = len(row) - 1
        for c, (runs, w) in enumerate(row):
            pad = " " * (widths[c] - w)
            if c == 0:
                out += runs
                if c < last:
                    out.append(_mono(pad + "  "))
            else:
                out.append(_mono(pad))
                out += runs
                if c < last:
                    out.append(_mono("  "))
    return out


def _block(block: Block) -> tuple[str, list[Run]]:
    if isinstance(block, Para):
        if block.kind == "note":
            return "note", [(t, "note" if s == "text" else s, h) for t, s, h in _segs_runs(block.segs, False)]
        if block.kind == "math":
            return "math", _segs_runs(block.segs)
        return "p", _segs_runs(block.segs, False)
    if isinstance(block, Toggle):
        if block.what == "terms":
            lead, href = ("Long sums are folded." if block.terms else "Long vectors are folded."), "toggle:terms"
        else:
            lead, href = ("All keys are listed." if block.shown else "Long sentences are folded."), "toggle:keys"
        return "note", [(lead + " ", "note", ""), (block.link_text(), "toggle", href)]
    if isinstance(block, Table):
        return "pre", _table_runs(block)
    return "pre", _dots_runs(block)


def build_page(header: list[Seg], steps: list[Step]) -> Page:
    """The blocks and runs of the whole calculation, empty runs left out."""
    page: Page = [("p", _segs_runs(header, False))]
    for s in steps:
        page.append(("h3", [(f"{s.number}. {s.title} {NBSP} ", "h3", ""), (s.formula, "formula", "")]))
        page += [_block(b) for b in s.blocks]
    return [(kind, [run for run in runs if run[0]]) for kind, runs in page]


def message_page(message: str) -> Page:
    return [("note", [(message, "note", "")])]


# ---- the document ------------------------------------------------------------------
def _utf16_len(text: str) -> int:
    """Length in QString units: characters beyond the BMP (emoji) count twice."""
    return len(text.encode("utf-16-le")) >> 1


def _block_formats() -> dict[str, QTextBlockFormat]:
    def block(top: float, bottom: float, keep_lines: bool = False) -> QTextBlockFormat:
        f = QTextBlockFormat()
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
        self.rebuilds = 0  # full rewrites (the rest were patches)

    def show(self, page: Page) -> None:
        changed = self._changed_runs(page)
        if changed is None:
            self._rebuild(page)
        elif changed:
            self._patch(changed)
        self._page = page

    def _changed_runs(self, page: Page) -> list[tuple[int, str, Run]] | None:
        """(start, old text, new run) of each run whose text changed; None if the page changed shape."""
        old = self._page
        if len(page) != len(old):
            return None
        changed = []
        pos = -1  # a block break is one position; the first block has none
        for (kind, runs), (old_kind, old_runs) in zip(page, old, strict=True):
            if kind != old_kind or len(runs) != len(old_runs):
                return None
            pos += 1
            for run, (old_text, old_style, old_href) in zip(runs, old_runs, strict=True):
                if run[1] != old_style or run[2] != old_href:
                    return None
                if run[0] != old_text:
                    changed.append((pos, old_text, run))
                # numbers are the bulk of a page, and format_number writes only BMP characters
                pos += len(old_text) if old_style == "num" else _utf16_len(old_text)
        return changed

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

    def _patch(self, changed: list[tuple[int, str, Run]]) -> None:
        cursor = QTextCursor(self.document)
        cursor.beginEditBlock()
        # from the end backwards, so the positions still to patch stay valid
        for start, old_text, (text, style, href) in reversed(changed):
            cursor.setPosition(start)
            cursor.setPosition(start + _utf16_len(old_text), QTextCursor.MoveMode.KeepAnchor)
            cursor.insertText(text, self._format(style, href))
        cursor.endEditBlock()

"""The calculation page's QTextDocument: a page shown over another equals the page built afresh."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PySide6.QtGui import QTextDocument

from attnviz.gui.calculation_document import CalculationDocument

KINDS = ("p", "note", "math", "pre", "h3")
STYLES = ("text", "note", "mono", "th", "h3", "formula", "tok:0", "tok:3", "toggle")
HREFS = ("", "src:W_q:0:1:0", "src:scores:1:0:2")
# plain text may hold anything a sentence can (accents, emoji: two UTF-16 units, line breaks in a block);
# numbers are what format_number writes
TEXT = st.text(alphabet=st.sampled_from("ab .,:=+·#é日😀\u2028\xa0"), min_size=1, max_size=6)
NUMBER = st.text(alphabet=st.sampled_from("0123456789.−e+"), min_size=1, max_size=6)


@st.composite
def runs(draw):
    out = []
    for _ in range(draw(st.integers(0, 5))):
        if draw(st.booleans()):
            out.append((draw(NUMBER), "num", draw(st.sampled_from(HREFS))))
        else:
            style = draw(st.sampled_from(STYLES))
            out.append((draw(TEXT), style, "toggle:terms" if style == "toggle" else ""))
    return out


@st.composite
def pages(draw, n_blocks: int | None = None):
    n = draw(st.integers(1, 6)) if n_blocks is None else n_blocks
    return [(draw(st.sampled_from(KINDS)), draw(runs())) for _ in range(n)]


@st.composite
def edited(draw, page):
    """``page`` with some blocks' texts changed, some blocks reshaped, or (rarely) another block count."""
    if draw(st.integers(0, 4)) == 0:
        return draw(pages())
    out = []
    for kind, block in page:
        change = draw(st.sampled_from(["keep", "keep", "texts", "reshape"]))
        if change == "texts":
            block = [(draw(NUMBER) if style == "num" else draw(TEXT), style, href) for _, style, href in block]
        elif change == "reshape":
            kind, block = draw(st.sampled_from(KINDS)), draw(runs())
        out.append((kind, block))
    return out


def looks(document: QTextDocument) -> list:
    """Every block's position and format, and every fragment's position, text and character format."""
    out = []
    block = document.begin()
    while block.isValid():
        f = block.blockFormat()
        out.append(("block", block.position(), f.topMargin(), f.bottomMargin(), f.nonBreakableLines(),
                    block.charFormat().fontPointSize(), block.charFormat().fontWeight()))
        it = block.begin()
        while not it.atEnd():
            frag = it.fragment()
            c = frag.charFormat()
            out.append((frag.position(), frag.text(), c.anchorHref(), c.foreground().color().name(),
                        c.background().color().name(), c.fontItalic(), c.fontWeight(), c.fontFixedPitch(),
                        c.fontPointSize()))
            it += 1
        block = block.next()
    return out


def blocks_keeping_glyphs(document: QTextDocument) -> list[bool]:
    """Whether each block's layout keeps its shaped text between paints (Qt's default throws it away)."""
    out, block = [], document.begin()
    while block.isValid():
        out.append(block.layout().cacheEnabled())
        block = block.next()
    return out


def built(page) -> QTextDocument:
    document = QTextDocument()
    CalculationDocument(document).show(page)
    return document


def a_shown_page(data):
    """A document, its CalculationDocument, and the random page it shows."""
    document = QTextDocument()
    shown = CalculationDocument(document)
    page = data.draw(pages())
    shown.show(page)
    return document, shown, page


@settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_a_page_shown_over_others_looks_exactly_like_it_built_afresh(qapp, data):
    document, shown, page = a_shown_page(data)
    for _ in range(data.draw(st.integers(1, 4))):
        page = data.draw(edited(page))
        shown.show(page)
        assert document.toPlainText() == built(page).toPlainText()
        assert looks(document) == looks(built(page))
        assert all(blocks_keeping_glyphs(document))  # rebuilt blocks, and patched ones


@settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_showing_some_blocks_of_a_page_leaves_the_others_as_they_were(qapp, data):
    document, shown, page = a_shown_page(data)
    for _ in range(data.draw(st.integers(1, 4))):
        new = data.draw(edited(page))
        only = set(data.draw(st.lists(st.integers(0, len(new) - 1), max_size=len(new))))
        shown.show(new, only=only)
        # some blocks of the new page and the rest of the old; another block count: the new page whole
        same_count = len(new) == len(page)
        page = [new[b] if b in only else block for b, block in enumerate(page)] if same_count else new
        assert shown.shown == page
        assert looks(document) == looks(built(page))


def test_only_blocks_that_changed_shape_are_rewritten(qapp):
    document = QTextDocument()
    shown = CalculationDocument(document)
    shown.show([("p", [("a", "text", "")]), ("pre", [("1.0", "num", "")]), ("note", [("n", "note", "")])])
    shown.show([("p", [("a", "text", "")]), ("pre", [("2.5", "num", "")]), ("note", [("n", "note", "")])])
    assert (shown.rebuilds, shown.blocks_rewritten) == (1, 0)  # one number replaced in place
    shown.show([("p", [("a", "text", "")]), ("math", [("2.5", "num", "")]), ("note", [("n", "note", "")])])
    assert (shown.rebuilds, shown.blocks_rewritten) == (1, 1)  # the middle block changed kind
    shown.show([("p", [("a", "text", "")])])
    assert (shown.rebuilds, shown.blocks_rewritten) == (2, 1)  # another block count: built afresh
    assert looks(document) == looks(built([("p", [("a", "text", "")])]))


def test_a_patch_leaves_the_blocks_between_two_changes_out_of_what_is_laid_out_again(qapp):
    # Qt lays out again the span each change reports: a change in the first and in the last
    # block must not report (and re-lay out) the unchanged blocks between them
    document = QTextDocument()
    document.setTextWidth(400)
    document.documentLayout()  # (a document reports changes once it has a layout, as a shown one has)
    shown = CalculationDocument(document)
    middle = [("pre", [("unchanged " * 20, "mono", "")]) for _ in range(5)]
    shown.show([("p", [("1.0", "num", "")]), *middle, ("p", [("2.0", "num", "")])])
    spans = []
    document.contentsChange.connect(lambda pos, removed, added: spans.append((pos, pos + max(removed, added))))
    shown.show([("p", [("1.5", "num", "")]), *middle, ("p", [("2.5", "num", "")])])
    first, last = document.begin(), document.lastBlock()
    assert spans and all(end <= first.position() + first.length() or pos >= last.position()
                         for pos, end in spans)

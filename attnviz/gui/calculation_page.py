"""The calculation as a page: its steps flattened into blocks of styled text runs.

A page is a list of blocks, each a kind (paragraph, note, formula line,
preformatted table, heading) and a list of runs (text, style, link). Tables
and dot-product rows are monospace text padded with spaces rather than
rich-text tables, whose layout costs several times more. A number that came
from a matrix or heatmap cell links to it as ``src:NAME:HEAD:ROW:COL``.
calculation_document shows a page in a QTextDocument.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from functools import lru_cache

from attnviz.gui.calculation_steps import Block, DotRow, Dots, Mono, Num, Para, Seg, Source, Step, Table, Toggle, Tok
from attnviz.gui.numbers import MINUS

# A run: its text, its style (a key of the document's char formats; "tok:J"
# for token J) and its link target ("" for none).
Run = tuple[str, str, str]
Page = list[tuple[str, list[Run]]]

LINE_BREAK = "\u2028"  # a line break inside a block, as HTML's <br/> becomes
NBSP = "\xa0"
TERMS_PER_LINE = 4  # a long sum wraps between terms, never inside one
STACK_TERMS = 3  # sums with more terms put "= products = result" on a second line, to stay narrow


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


def _segs_runs(segs: Iterable[Seg], mono: bool = True) -> list[Run]:
    """``mono``: as for :func:`_run`; True in tables and formula lines."""
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
        return [_run(num, True)]
    sign = f" {MINUS} " if num.value < 0 else " + "
    return [_mono(sign), (num.text.lstrip(MINUS), "num", "")]


def _factor(num: Num, bracket: bool) -> list[Run]:
    """A factor, in parentheses when negative so that "·−" never appears."""
    runs = [_run(num, True)]
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
        result = [_run(row.result, True)]
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


# The runs of the last pages' tables, by the Table object: calculation_steps hands
# back the same Table for a table that did not change (see _keys_table there).
_RUNS: dict[int, tuple[Block, tuple[str, list[Run]]]] = {}
_RUNS_KEPT = 64


def _block_runs(block: Block) -> tuple[str, list[Run]]:
    """:func:`_block` with empty runs left out; remembered for a Table, the one kind handed back again."""
    found = _RUNS.get(id(block))  # an id stays this block's while the entry holds the block
    if found is not None:
        return found[1]
    kind, runs = _block(block)
    out = (kind, [run for run in runs if run[0]])
    if isinstance(block, Table):  # only tables come back as the same object
        while len(_RUNS) >= _RUNS_KEPT:
            del _RUNS[next(iter(_RUNS))]
        _RUNS[id(block)] = (block, out)
    return out


def header_blocks(header: list[Seg]) -> Page:
    """The page's first block: which token, head and sizes."""
    return [("p", [run for run in _segs_runs(header, False) if run[0]])]


def step_blocks(step: Step) -> Page:
    """One step's blocks: its title line, then its own blocks."""
    title = [(f"{step.number}. {step.title} {NBSP} ", "h3", ""), (step.formula, "formula", "")]
    return [("h3", [run for run in title if run[0]]), *(_block_runs(b) for b in step.blocks)]


def message_page(message: str) -> Page:
    return [("note", [(message, "note", "")])]

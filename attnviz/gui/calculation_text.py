"""The calculation as plain text and as Markdown, for export and the clipboard."""

from __future__ import annotations

from collections.abc import Iterable

from attnviz.gui.calculation_steps import DotRow, Mono, Num, Para, Seg, Step, Table, Toggle, Tok
from attnviz.gui.numbers import MINUS


def _text_seg(seg: Seg, md: bool = False) -> str:
    if isinstance(seg, Num):
        return f"`{seg.text}`" if md else seg.text
    if isinstance(seg, Tok):
        return f"**{seg.text}**" if md else seg.text
    if isinstance(seg, Mono):
        return seg.text
    return seg


def _text_segs(segs: Iterable[Seg], md: bool = False) -> str:
    return "".join(_text_seg(s, md) for s in segs)


def _text_dot(row: DotRow) -> str:
    """One dot-product line, e.g. ``q₁ = 1.16·0.54 + 0.23·(−0.17) = 0.63 − 0.04 = 0.59``."""
    label = _text_segs(row.label) + row.op
    result = row.result.text
    tail = ("  " + " ".join(_text_segs(c) for c in row.tail)) if row.tail else ""
    if row.terms is None:
        return f"{label} = {result}{tail}"
    terms = []
    addends: list[Num] = []
    for t, (a, b, p) in enumerate(row.terms):
        fa = a.text if a.value >= 0 or t == 0 else f"({a.text})"
        fb = b.text if b.value >= 0 else f"({b.text})"
        terms.append(f"{fa}·{fb}")
        addends.append(p)
    for e in row.extra:
        terms.append(e.text if e.value >= 0 or not terms else f"({e.text})")
        addends.append(e)
    signed = addends[0].text + "".join(
        (f" {MINUS} " if a.value < 0 else " + ") + a.text.lstrip(MINUS) for a in addends[1:])
    if not row.terms:
        return f"{label} = {' + '.join(terms)} = {result}{tail}"
    return f"{label} = {' + '.join(terms)} = {signed} = {result}{tail}"


def _text_table(block: Table) -> list[str]:
    cells = [block.header] + [[_text_segs(c) for c in row] for row in block.rows]
    widths = [max(len(r[c]) for r in cells) for c in range(len(block.header))]
    lines = []
    for r in cells:
        # label column left-aligned, number columns right-aligned so decimal points line up
        line = "  ".join(r[c].ljust(widths[c]) if c == 0 else r[c].rjust(widths[c]) for c in range(len(r)))
        lines.append(line.rstrip())
    return lines


def render_text(header: list[Seg], steps: list[Step]) -> str:
    lines = [_text_segs(header), ""]
    for s in steps:
        lines.append(f"{s.number}. {s.title} — {s.formula}")
        for b in s.blocks:
            if isinstance(b, Para):
                lines.append("   " + ("(" + _text_segs(b.segs) + ")" if b.kind == "note" else _text_segs(b.segs)))
            elif isinstance(b, Toggle):
                lines.append(f"   ({b.plain_text()})")
            elif isinstance(b, Table):
                lines += ["   " + t for t in _text_table(b)]
            else:
                lines += ["   " + _text_dot(r) for r in b.rows]
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _md_escape_cell(text: str) -> str:
    return text.replace("|", "\\|")


def render_markdown(header: list[Seg], steps: list[Step]) -> str:
    lines = [_text_segs(header, md=True), ""]
    for s in steps:
        lines += [f"### {s.number}. {s.title}", "", f"`{s.formula}`", ""]
        for b in s.blocks:
            if isinstance(b, Para):
                if b.kind == "math":
                    lines.append(f"`{_text_segs(b.segs)}`")
                elif b.kind == "note":
                    lines.append(f"*{_text_segs(b.segs, md=True)}*")
                else:
                    lines.append(_text_segs(b.segs, md=True))
                lines.append("")
            elif isinstance(b, Toggle):
                lines += [f"*({b.plain_text()})*", ""]
            elif isinstance(b, Table):
                lines.append("| " + " | ".join(h or " " for h in b.header) + " |")
                lines.append("|" + "---|" * len(b.header))
                for row in b.rows:
                    lines.append("| " + " | ".join(_md_escape_cell(_text_segs(c, md=True)) for c in row) + " |")
                lines.append("")
            else:
                lines += [f"- `{_text_dot(r)}`" for r in b.rows]
                lines.append("")
    return "\n".join(lines).rstrip() + "\n"

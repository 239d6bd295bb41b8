"""How numbers are printed and typed in, the same way in every view."""

from __future__ import annotations

import math
import re

from attnviz.engine import AttnvizError
from attnviz.model.naming import component as component  # the views name components as the model does

MINUS = "−"  # U+2212: the typographic minus, which a person may paste back in
# What a person may type in a cell: plain decimal or scientific notation, ASCII digits only
# (no "1,000", "1_000" or full-width digits, which float() would read in surprising ways).
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)
# Past this the fixed-point form is longer than it is useful.
_SCIENTIFIC_FROM = 1e6


def format_number(x: float, digits: int) -> str:
    """``x`` with ``digits`` after the point, a real minus sign, and no "−0.00".

    Huge values switch to scientific notation; non-finite ones print as ∞.
    """
    x, digits = float(x), int(digits)
    if -_SCIENTIFIC_FROM < x < _SCIENTIFIC_FROM:  # the common case first: it runs per printed number
        text = f"{x:.{digits if digits > 0 else 0}f}"
        if text[0] != "-":
            return text
        # -0.001 at 2 digits reads as 0.00, not −0.00 (signed's rule, written out: a call here costs ≈ 10 %)
        return MINUS + text[1:] if text.strip("-0.") else text[1:]
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "∞" if x > 0 else MINUS + "∞"
    text = f"{x:.{max(digits - 1, 1)}e}"
    return text.replace("-", MINUS, 1) if text.startswith("-") else text


def signed(text: str) -> str:
    """A number as Python (or pyqtgraph) writes it, signed as :func:`format_number` signs it: a real
    minus, and none on a zero ("-0.00" → "0.00").

    Only the number's own sign changes: an exponent keeps its hyphen ("−1e-05").
    """
    if not text.startswith("-"):
        return text
    return MINUS + text[1:] if text.strip("-0.") else text[1:]


def parse_shown(text: str) -> float:
    """The inverse of :func:`format_number` (accepts "−" and "∞"), for reading views back."""
    return float(text.strip().replace(MINUS, "-").replace("∞", "inf"))


def parse_number(text: object) -> float:
    """A finite float from a number or numeric text, else AttnvizError naming the text."""
    if isinstance(text, bool):
        raise AttnvizError(f"{text!r} is not a number")
    if isinstance(text, int | float):
        value = float(text)
    else:
        s = "" if text is None else str(text).strip().replace(MINUS, "-")
        if not s:
            raise AttnvizError("an empty cell is not a number")
        if not _NUMBER.fullmatch(s):
            raise AttnvizError(f"{str(text).strip()!r} is not a number (write e.g. 0.5, -1.25 or 3e-2)")
        value = float(s)
    if not math.isfinite(value):
        raise AttnvizError(f"{text!r} is too large: it is not a finite 64-bit number")
    return value


def short(label: str, limit: int = 16) -> str:
    """A token as a label: long ones cut to ``limit`` characters with an ellipsis."""
    return label if len(label) <= limit else label[: limit - 1] + "…"


def counted(n: int, noun: str) -> str:
    """``"1 token"``, ``"2 tokens"``: a count with its noun (a regular plural)."""
    return f"{n} {noun}{'' if n == 1 else 's'}"

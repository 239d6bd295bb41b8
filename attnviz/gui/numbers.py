"""How numbers are typed in and printed, the same way in every view."""

from __future__ import annotations

import math

from attnviz.engine import AttnvizError

MINUS = "−"  # U+2212: the typographic minus a person may paste back in


def format_number(x: float, digits: int) -> str:
    """Fixed-point with ``digits`` decimals; huge or tiny values in scientific form."""
    if not math.isfinite(x):
        return "−∞" if x < 0 else ("∞" if x > 0 else "NaN")
    if x != 0 and (abs(x) >= 1e6 or abs(x) < 10.0 ** -digits / 2):
        s = f"{x:.{max(digits - 1, 1)}e}"
    else:
        s = f"{x:.{digits}f}"
    return "0" + s[2:] if s.startswith("-0") and float(s) == 0 else s


def parse_number(text: object) -> float:
    """A finite float from a number or numeric text, else AttnvizError naming the text."""
    if isinstance(text, bool):
        raise AttnvizError(f"{text!r} is not a number")
    if isinstance(text, int | float):
        value = float(text)
    else:
        s = str(text).strip().replace(MINUS, "-").replace(",", ".") if text is not None else ""
        if not s:
            raise AttnvizError("an empty cell is not a number")
        try:
            value = float(s)
        except ValueError:
            raise AttnvizError(f"{str(text).strip()!r} is not a number") from None
    if not math.isfinite(value):
        raise AttnvizError(f"{text!r} is not a finite number")
    return value

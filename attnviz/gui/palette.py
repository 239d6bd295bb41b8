"""Colours shared by every panel, so a token or a value looks the same everywhere.

Token colours come from a qualitative palette (Okabe–Ito, readable by people
with colour-vision deficiencies). Values use a diverging blue–white–red map
centred on zero; attention weights use a sequential white–purple map on [0, 1].
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QColor

# Okabe–Ito, with its yellow darkened so a yellow token name reads on white,
# and a purple instead of its black, which would look like plain text
_OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#9A8400", "#7F3C8D")
_HEADS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2")

DIVERGING = pg.ColorMap(
    pos=np.array([0.0, 0.5, 1.0]),
    color=np.array([[33, 102, 172, 255], [247, 247, 247, 255], [178, 24, 43, 255]], dtype=np.ubyte),
    name="attnviz-diverging",
)
SEQUENTIAL = pg.ColorMap(
    pos=np.array([0.0, 1.0]),
    color=np.array([[255, 255, 255, 255], [84, 39, 143, 255]], dtype=np.ubyte),
    name="attnviz-weights",
)
MASKED = QColor("#bdbdbd")
SELECTION = QColor("#ff9900")


def token_color(i: int) -> QColor:
    return QColor(_OKABE_ITO[i % len(_OKABE_ITO)])


def head_color(h: int) -> QColor:
    return QColor(_HEADS[h % len(_HEADS)])


def symmetric_levels(a: np.ndarray) -> tuple[float, float]:
    """Levels centred on zero so white means 0 in the diverging map."""
    finite = a[np.isfinite(a)]
    m = float(np.abs(finite).max()) if finite.size else 1.0
    m = m if m > 0 else 1.0
    return -m, m


# Colour-bar ends for a heatmap: the largest |value| rounded up to one of these × 10^k.
_NICE = (1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0)


def nice_levels(a: np.ndarray) -> tuple[float, float]:
    """:func:`symmetric_levels` with the end rounded up to a round number (at most a third more;
    below 1e-323, where the power of ten underflows to 0, the largest |value| itself).

    A heatmap's colour scale then holds still while a person drags a value
    (and its colour bar is not relaid out on every edit); it moves only when
    the values outgrow it or shrink well inside it.
    """
    _, m = symmetric_levels(a)
    scale = 10.0 ** math.floor(math.log10(m))
    nice = next((n * scale for n in _NICE if n * scale >= m * (1 - 1e-12)), m)
    return (-nice, nice) if math.isfinite(nice) else (-m, m)


# Table cells are coloured from a 256-step lookup table: a table paints every
# visible cell on every repaint, and the colour map's own lookup is slow.
_STEPS = 256
_CELL_COLORS = [DIVERGING.map(i / (_STEPS - 1), mode="qcolor") for i in range(_STEPS)]


def cell_color(value: float, lo: float, hi: float) -> QColor:
    """Background colour of a table cell holding ``value`` on levels [lo, hi]."""
    if hi <= lo or not math.isfinite(value):
        t = 0.5
    elif math.isfinite(span := hi - lo):
        t = (value - lo) / span
    else:  # levels beyond ±9e307: their span overflows to inf (and inf / inf is NaN), their halves' does not
        t = (value / 2 - lo / 2) / (hi / 2 - lo / 2)
    return _CELL_COLORS[round(min(max(t, 0.0), 1.0) * (_STEPS - 1)) if math.isfinite(t) else _STEPS // 2]


_BLACK, _WHITE = QColor("black"), QColor("white")
# Black text on backgrounds lighter than this (Rec. 601 luma, 0–1), white on the rest.
_LUMA = (0.299, 0.587, 0.114)
_DARK_TEXT_ABOVE = 0.55


def text_color_on(bg: QColor) -> QColor:
    """Black or white, whichever reads better on ``bg``."""
    luminance = _LUMA[0] * bg.redF() + _LUMA[1] * bg.greenF() + _LUMA[2] * bg.blueF()
    return _BLACK if luminance > _DARK_TEXT_ABOVE else _WHITE


def color_table(colormap: pg.ColorMap, steps: int = _STEPS) -> np.ndarray:
    """``colormap`` as ``steps`` RGB rows (uint8): the table an ImageItem colours a heatmap with."""
    return np.asarray(colormap.getLookupTable(nPts=steps, alpha=False), dtype=np.ubyte)[:, :3]


def table_rows(values: np.ndarray, lo: float, hi: float, steps: int = _STEPS) -> np.ndarray:
    """The row of a ``steps``-row colour table that an ImageItem on levels [lo, hi] uses per value.

    pyqtgraph's ``rescaleData`` step by step, so that a colour edge falls where
    it does in pyqtgraph: in float32 (for values that fit), subtract lo, scale
    to [0, steps), clip, truncate. NaN gets -1. The rows come C-ordered.
    """
    values = np.asarray(values)
    span = hi - lo
    span = 1 if span == 0 else span
    work = np.float32 if np.can_cast(values.dtype, np.float32) else np.float64
    y = np.array(values, dtype=work, order="C")
    y -= float(lo)
    y *= float(steps / span)
    np.clip(y, 0, steps - 1, out=y)
    nan = np.isnan(y)
    with np.errstate(invalid="ignore"):  # NaN: any row, replaced below
        rows = y.astype(np.intp)
    rows[nan] = -1
    return rows


def dark_text_on(rgb: np.ndarray) -> np.ndarray:
    """:func:`text_color_on` for an array of RGB colours (uint8, last axis): True where black reads better."""
    rgb = np.asarray(rgb, dtype=float) / 255.0
    return rgb @ np.array(_LUMA) > _DARK_TEXT_ABOVE

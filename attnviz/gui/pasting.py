"""Whether a kept picture can be pasted in place of painting afresh, pixel for pixel."""

from __future__ import annotations

from PySide6.QtGui import QPaintEngine, QPainter

_RASTER = QPaintEngine.Type.Raster
_SOURCE_OVER = QPainter.CompositionMode.CompositionMode_SourceOver


def pastes_exactly(painter: QPainter, ratio: float) -> bool:
    """Whether an image of pixel ratio ``ratio`` drawn by ``painter`` lands pixel for pixel on its device.

    Only a raster device at the image's own scale (a screen's ratio, not a
    zoomed render), a whole-pixel offset, full opacity and plain
    composition: anything else would resample or blend the picture where
    painting afresh would not.
    """
    if not ratio.is_integer() or painter.paintEngine() is None or painter.paintEngine().type() != _RASTER:
        return False
    if painter.opacity() != 1.0 or painter.compositionMode() != _SOURCE_OVER:
        return False
    t = painter.deviceTransform()
    return (
        (t.m11(), t.m22(), t.m12(), t.m21()) == (ratio, ratio, 0.0, 0.0)
        and float(t.dx()).is_integer() and float(t.dy()).is_integer()
    )

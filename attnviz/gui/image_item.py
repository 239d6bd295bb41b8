"""An ImageItem whose picture is kept in the format Qt paints fastest."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtGui import QImage

_FAST = QImage.Format.Format_ARGB32_Premultiplied


class PremultipliedImageItem(pg.ImageItem):
    """pg.ImageItem, with its QImage converted once per new image rather than once per paint.

    pyqtgraph renders a colour-mapped image as Indexed8 (RGBA8888 for an RGBA
    array); Qt's raster engine converts such an image pixel by pixel on every
    drawImage, which costs about 1 ms per repaint of a heatmap that fills a
    few hundred pixels. Converting to premultiplied ARGB32 after each render
    costs a copy of the small source image instead.
    """

    def render(self) -> None:
        super().render()
        if self.qimage is not None and self.qimage.format() != _FAST:
            self.qimage = self.qimage.convertToFormat(_FAST)

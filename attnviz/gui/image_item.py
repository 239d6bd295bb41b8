"""An ImageItem whose picture is kept in the format Qt paints fastest.

pyqtgraph renders a heatmap to an Indexed8 QImage (the colour map as its
colour table). Qt converts such an image on every paint and then scales it by
its slowest, generic path: ≈ 0.4 ms a paint for a 2 × 2 image filling a
plot, against ≈ 0.07 ms for the same picture in ARGB32 premultiplied, which it
scales by a fast path. That fast path rounds cell edges by the clip, so a
partial repaint could put an edge one pixel away from a full paint; the view
showing such images must repaint whole (``FullViewportUpdate``), which is
cheap when everything else in it is cached pixels.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtGui import QImage

FAST = QImage.Format.Format_ARGB32_Premultiplied


class ImageItem(pg.ImageItem):
    def render(self) -> None:
        super().render()
        if self.qimage is not None and self.qimage.format() != FAST:
            self.qimage = self.qimage.convertToFormat(FAST)  # once per new image, not once per paint

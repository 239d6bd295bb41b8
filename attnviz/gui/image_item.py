"""An ImageItem that colours a heatmap itself, straight into the format Qt paints fastest.

pyqtgraph renders a heatmap to an Indexed8 QImage (the colour map as its
colour table, rebuilt from Python on every render). Qt converts such an
image on every paint and then scales it by its slowest, generic path:
≈ 0.4 ms a paint for a 2 × 2 image filling a plot, against ≈ 0.07 ms for the
same picture in ARGB32 premultiplied, which it scales by a fast path. So a
float image on fixed levels through an opaque colour table is coloured here,
with pyqtgraph's own arithmetic (float32, scaled to the table's rows,
clipped, truncated; NaN transparent), into ARGB32 premultiplied; anything
else goes through pyqtgraph and is converted once. The fast path rounds cell
edges by the clip, so a partial repaint could put an edge one pixel away
from a full paint; the view showing such images must repaint whole
(``FullViewportUpdate``), which is cheap when everything else in it is
cached pixels.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QImage

from attnviz.gui.palette import table_rows

FAST = QImage.Format.Format_ARGB32_Premultiplied
_OPAQUE = np.uint32(0xFF000000)


class ImageItem(pg.ImageItem):
    _argb: np.ndarray | None = None  # the pixels of an image coloured here
    _table_of: np.ndarray | None = None  # the lookup table ``_table`` was made from
    _table: np.ndarray | None = None
    _rows: tuple[tuple, np.ndarray] | None = None  # (the steps and levels they were worked out for, the rows)

    def setImage(self, *args, **kwargs) -> None:
        # the only way to a new image (and the way to the same array, changed in place, again)
        self._rows = None
        super().setImage(*args, **kwargs)

    def table_rows(self, steps: int) -> np.ndarray:
        """The row of a ``steps``-row colour table each pixel of the (float, one-channel) image gets on
        its levels (``palette.table_rows``); its painting and its cell numbers' colours both read them.

        Kept until a new image, or other levels or steps: levels can change without ``setImage``
        (``setLevels(..., update=False)``). Read-only: they are shared.
        """
        key = (steps, tuple(map(float, self.levels)))
        if self._rows is None or self._rows[0] != key:
            rows = table_rows(self.image, *key[1], steps=steps)
            rows.flags.writeable = False
            self._rows = (key, rows)
        return self._rows[1]

    def render(self) -> None:
        if self._colour_here():
            return
        super().render()
        if self.qimage is not None and self.qimage.format() != FAST:
            self.qimage = self.qimage.convertToFormat(FAST)  # once per new image, not once per paint

    def _colour_here(self) -> bool:
        image, lut, levels = self.image, self.lut, self.levels
        if not (
            isinstance(image, np.ndarray) and image.ndim == 2 and image.size and image.dtype == np.float32
            and isinstance(lut, np.ndarray) and lut.dtype == np.uint8 and lut.ndim == 2 and lut.shape[1] == 3
            and 0 < len(lut) <= 256 and levels is not None and np.ndim(levels) == 1
            and self.axisOrder == "row-major" and not self.autoDownsample
        ):
            return False
        if self._table_of is not lut:  # pyqtgraph keeps the table until the colour map changes
            self._table_of, self._table = lut, _argb_table(lut)
        rows = self.table_rows(len(lut))                                 # (h, w), -1 where NaN
        argb = self._table[rows]                                         # (h, w) uint32, opaque
        nan = rows < 0
        if nan.any():
            argb[nan] = 0                                                # transparent
        self._argb = argb  # the QImage below reads this memory
        h, w = argb.shape
        self.qimage = QImage(argb.data, w, h, 4 * w, FAST)
        self._renderRequired = False
        self._unrenderable = False
        return True


def _argb_table(lut: np.ndarray) -> np.ndarray:
    """An (n, 3) uint8 RGB table as opaque 0xAARRGGBB words."""
    rgb = lut.astype(np.uint32)
    return _OPAQUE | (rgb[:, 0] << 16) | (rgb[:, 1] << 8) | rgb[:, 2]

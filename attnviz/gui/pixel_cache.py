"""Keeping the pixels of plot parts that an edit does not change.

Every repaint of a pyqtgraph scene calls each item's paint() again, in
Python for most items, although the axes, colour bars and titles look the
same before and after an edit. With Qt's DeviceCoordinateCache an item is
painted once into a pixmap that later repaints copy; the item's own
``update()`` (which pyqtgraph calls whenever ticks, ranges, levels or text
change) throws the pixmap away, and so does a new size.

Items that change on every edit (images, cell numbers, bars) are left
uncached: for them a cache is one more copy per frame.

Vector output must not use the pixmaps (an SVG would get bitmap axes), so
it renders inside :func:`painted_afresh`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtWidgets import QGraphicsItem, QGraphicsScene, QGraphicsWidget

_CACHED = QGraphicsItem.CacheMode.DeviceCoordinateCache
_NO_CACHE = QGraphicsItem.CacheMode.NoCache
_AXES = ("left", "bottom", "right", "top")


def cache_pixels(*items: QGraphicsItem | None) -> None:
    """Paint each item into a pixmap that is reused until the item calls update()."""
    for item in items:
        if item is None:
            continue
        item.setCacheMode(_CACHED)
        # Qt moves a cached pixmap by whole pixels only: repaint after a move
        # (a layout change), so the item looks exactly as if painted directly
        owner = item if isinstance(item, QGraphicsWidget) else item.parentWidget()
        if owner is not None:
            owner.geometryChanged.connect(item.update)


class CachedAxisItem(pg.AxisItem):
    """An axis (and its label) kept as pixels, with a one-pixel margin.

    pyqtgraph draws the axis line one pixel past the axis's bounding rectangle,
    so that the axes of a frame meet at the corners; a cache of the bare
    rectangle would cut those pixels off.
    """

    def __init__(self, orientation: str, **kwargs) -> None:
        self._bounds_for: tuple | None = None
        self._bounds = QRectF()
        super().__init__(orientation, **kwargs)
        cache_pixels(self, self.label)

    def boundingRect(self) -> QRectF:
        # Qt and pyqtgraph ask for it a hundred times per edit; it depends
        # only on the axis's size and these styles (without a grid)
        size = self.geometry().size()
        key = (size.width(), size.height(), self.style["tickLength"], self.style["hideOverlappingLabels"], self.grid)
        if key != self._bounds_for:
            self._bounds = super().boundingRect().adjusted(-1, -1, 1, 1)
            self._bounds_for = key if self.grid is False else None
        return QRectF(self._bounds)


def cached_axes(*names: str) -> dict[str, CachedAxisItem]:
    """Cached axes for a PlotItem's ``axisItems``; PlotItem shows the axes it is given."""
    return {name: CachedAxisItem(name) for name in names}


def cache_title(plot: pg.PlotItem) -> None:
    """Keep a plot's title as pixels; a new title text repaints it."""
    cache_pixels(plot.titleLabel.item)


class _PlotWithCachedAxes(pg.PlotItem):
    # ColorBarItem builds its PlotItem without axisItems; placed after it in
    # the MRO, this hands PlotItem cached axes instead of plain ones
    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("axisItems", cached_axes(*_AXES))
        super().__init__(*args, **kwargs)


class CachedColorBarItem(pg.ColorBarItem, _PlotWithCachedAxes):
    """A colour bar whose axes and gradient are kept as pixels; new levels repaint its axis."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        cache_pixels(self.bar)


@contextlib.contextmanager
def painted_afresh(scene: QGraphicsScene) -> Iterator[None]:
    """Within the block every item of ``scene`` paints itself instead of pasting its cached pixmap."""
    cached = [(item, item.cacheMode()) for item in scene.items() if item.cacheMode() != _NO_CACHE]
    for item, _mode in cached:
        item.setCacheMode(_NO_CACHE)
    try:
        yield
    finally:
        for item, mode in cached:
            item.setCacheMode(mode)

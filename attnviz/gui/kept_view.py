"""Plot views that keep their last picture while nothing in them changes.

The window repaints a plot for reasons of its own (an expose, a neighbour's
relayout, ``grab()``) although the plot's scene is as it was. pyqtgraph then
walks the scene again: Qt asks every item for its bounds, and most items
paint themselves from Python, cached axes or not: 0.6–0.9 ms a plot here,
with four plots on screen. A kept view copies the pixels its last paint
left in the window's backing store, and pastes them while the picture
cannot have changed:

- the scene reports every change of an item through ``changed`` (once that
  signal is connected, Qt also routes the views' own updates through it, a
  turn of the event loop later; the picture is forgotten first);
- what the view adds itself (size, transform, background, render hints) is
  compared at each paint;
- a plot's layout moves its parts (``geometryChanged`` of any layout item):
  the scene reports those moves only a turn of the event loop later.

The first paint after a change is Qt's own, so the kept pixels are exactly
what Qt paints. A paint that does not land in the backing store (a
``grab()``) or does not cover the whole view keeps nothing, and the picture
is pasted only where it lands pixel for pixel (``pasting.pastes_exactly``:
a raster target at its own scale and a whole-pixel offset, full opacity,
plain composition): an SVG gets the scene painted afresh, as vectors.

The scene reports a change only once the event loop runs again, and
delivering its pending events from inside a paint makes Qt repaint
recursively; so a view that changes its own items calls
:meth:`KeptView.forget_picture` as it does, and a ``grab()`` straight after an
edit shows the edit. Items that ignore the view's transformation, or have a
bounding-region granularity, would be updated by Qt without ``changed``;
these views have none (a test checks).
Views without an opaque background, and views on a screen with a fractional
scale (where a widget's pixels need not start on a device pixel), paint
directly every time.
"""

from __future__ import annotations

import contextlib
import weakref
from collections.abc import Iterator

from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtGui import QBrush, QColor, QImage, QPainter, QPaintEvent, QRegion
from PySide6.QtWidgets import QGraphicsView, QGraphicsWidget

from attnviz.gui.pasting import pastes_exactly


class KeptView:
    """Mix in before a pyqtgraph ``GraphicsView`` class (PlotWidget, GraphicsLayoutWidget)."""

    keep_picture = True  # off: every paint walks the scene, as Qt's own view does
    pictures_kept = 0  # how often a paint was kept (for tests)
    _picture: QImage | None = None
    _picture_key: tuple = ()

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # pyqtgraph caches the background in a pixmap of the whole view; it is one
        # colour here, and filling the view with it is cheaper than copying the pixmap
        self.setCacheMode(QGraphicsView.CacheModeFlag.CacheNone)  # type: ignore[attr-defined]
        self._watched: weakref.WeakSet[QGraphicsWidget] = weakref.WeakSet()
        # the scene's items at the last scan for layout items (it holds their Python wrappers,
        # those of items since removed too, until the next scan)
        self._scanned: list = []
        self.scene().changed.connect(self._scene_changed)

    def setBackgroundBrush(self, brush: QBrush | QColor) -> None:
        super().setBackgroundBrush(brush)  # type: ignore[misc]
        # An opaque background covers every pixel of every paint, and so does a
        # pasted picture: Qt need not fill the viewport with the palette first
        # (≈ 0.03 ms a plot a paint, in the window's repaints and in a grab)
        opaque = QBrush(brush).isOpaque()
        self.viewport().setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, opaque)  # type: ignore[attr-defined]

    def holds_picture(self) -> bool:
        """Whether the next paint pastes a kept picture (for tests)."""
        return self._picture is not None

    def forget_picture(self) -> None:
        """Paint the scene again at the next paint."""
        self._picture = None

    def _scene_changed(self, region: list) -> None:
        if region:  # Qt also reports an empty change after a paint
            self._picture = None

    def paintEvent(self, event: QPaintEvent) -> None:
        if not self.keep_picture or not self._keepable():
            self._fill(event)
            super().paintEvent(event)  # type: ignore[misc]
            return
        key = self._view_key()
        if self._picture is not None and key == self._picture_key and self._pasted():
            return
        super().paintEvent(event)  # type: ignore[misc]
        self._picture = self._painted(event)
        self._picture_key = key
        if self._picture is not None:
            self._watch_layout()

    def _fill(self, event: QPaintEvent) -> None:
        """Fill what this paint covers with the background, where Qt no longer does (an opaque view):
        at a fractional pixel ratio a transformed scene's background can leave the last device pixel out."""
        viewport = self.viewport()  # type: ignore[attr-defined]
        if viewport.testAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent):
            painter = QPainter(viewport)
            painter.fillRect(event.rect(), self.backgroundBrush())  # type: ignore[attr-defined]
            painter.end()

    def _pasted(self) -> bool:
        """Paste the kept picture, if it lands pixel for pixel."""
        painter = QPainter(self.viewport())  # type: ignore[attr-defined]
        fits = pastes_exactly(painter, self._picture.devicePixelRatio())
        if fits:
            painter.drawImage(0, 0, self._picture)
        painter.end()
        return fits

    def _watch_layout(self) -> None:
        """Forget the picture when the layout moves any part of the plot."""
        items = self.scene().items()  # type: ignore[attr-defined]
        if items == self._scanned:  # the same items (by identity first): all of them watched already
            return
        self._scanned = items
        for item in items:
            if isinstance(item, QGraphicsWidget) and item not in self._watched:
                self._watched.add(item)
                item.geometryChanged.connect(self.forget_picture)

    def _keepable(self) -> bool:
        view: QGraphicsView = self  # type: ignore[assignment]
        return view.backgroundBrush().isOpaque() and view.viewport().devicePixelRatio().is_integer()

    def _view_key(self) -> tuple:
        view: QGraphicsView = self  # type: ignore[assignment]
        viewport = view.viewport()
        return (
            viewport.size(),
            view.viewportTransform(),
            view.backgroundBrush(),
            view.renderHints(),
        )

    def _painted(self, event: QPaintEvent) -> QImage | None:
        """The pixels this paint left in the window's backing store, or None if it left none to keep."""
        viewport = self.viewport()  # type: ignore[attr-defined]
        if not (QRegion(viewport.rect()) - event.region()).isEmpty():
            return None  # a partial paint: the rest of the picture is older
        store = viewport.backingStore()
        painter = QPainter(viewport)
        device = painter.paintEngine().paintDevice()
        painter.end()
        if store is None or device is not store.paintDevice() or not isinstance(device, QImage):
            return None  # painted somewhere else (a grab, a render)
        ratio = viewport.devicePixelRatio()
        rect = QRect(viewport.mapTo(viewport.window(), QPoint(0, 0)) * ratio, viewport.size() * ratio)
        if not device.rect().contains(rect):
            return None
        picture = device.copy(rect)  # (a copy keeps the device's pixel ratio)
        self.pictures_kept += 1
        return picture


@contextlib.contextmanager
def painted_directly(view: QGraphicsView) -> Iterator[None]:
    """Within the block ``view`` paints its scene on every paint, as a plain QGraphicsView (for tests)."""
    if not isinstance(view, KeptView):
        yield
        return
    view.keep_picture = False
    try:
        yield
    finally:
        view.keep_picture = True
        view.forget_picture()

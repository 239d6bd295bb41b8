"""pyqtgraph's plot item and view, answering Qt's bounds queries in C++.

Qt asks an item for its bounds several times a paint, and pyqtgraph answers
in Python for each of its widgets: for the window's plot items and views,
≈ 30 calls into Python an edit. For a widget that is neither rotated nor
scaled, which these are, pyqtgraph's answer is Qt's own, the widget's
rectangle, which a view grows by half a pixel to the right and down. So
these classes leave the answer to Qt, the view's half pixel given as
window frame margins (they only grow the bounds of a widget that is not
a window). Their shapes stay pyqtgraph's: worked out from the bounds, and
kept until the geometry changes.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import QEvent
from PySide6.QtWidgets import QGraphicsWidget

_VIEW_GROWS = 0.5  # what pyqtgraph's ViewBox.boundingRect adds to the right and at the bottom


class MarginBounds:
    """Mix in before a pyqtgraph widget whose bounds Qt is to answer: its rectangle grown by window
    frame margins, which ``_grow_bounds`` sets to what pyqtgraph's own ``boundingRect`` adds."""

    boundingRect = QGraphicsWidget.boundingRect

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)  # type: ignore[misc]
        if event.type() == QEvent.Type.StyleChange:  # Qt drops a widget's frame margins on a new style
            self._grow_bounds()

    def _grow_bounds(self) -> None:
        raise NotImplementedError


class RectViewBox(MarginBounds, pg.ViewBox):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._grow_bounds()

    def _grow_bounds(self) -> None:
        self.setWindowFrameMargins(0, 0, _VIEW_GROWS, _VIEW_GROWS)  # type: ignore[attr-defined]


class RectPlotItem(pg.PlotItem):
    boundingRect = QGraphicsWidget.boundingRect


def rect_plot(**kwargs) -> RectPlotItem:
    """A RectPlotItem (``kwargs`` as PlotItem's, but for ``viewBox``) on a RectViewBox.

    (A colour bar keeps pyqtgraph's own view: a ColorBarItem given a view of
    ours, or even pyqtgraph's own one made outside it, gets no scene changes
    for that view, which then never lays out the bar.)
    """
    return RectPlotItem(viewBox=RectViewBox(enableMenu=kwargs.get("enableMenu", True)), **kwargs)

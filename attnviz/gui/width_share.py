"""How a QMainWindow's width is shared between its central widget and the dock columns beside it.

QMainWindow gives all the width a resize adds or takes to its central widget: at
1920 px attnviz's sentence box, controls and tables took 1160 px, mostly empty,
while the plots in the right dock area kept the 750 px they have at 1280 and
dropped every other token label. Here the layout at any width follows from a
basis, the widths of the central widget and of the dock columns at one window
width. Wider than the basis, the central widget takes a quarter of the width
gained and the docks the rest, as a QSplitter with stretch factors 1 and 3 would
share it (the central column's controls and tables have little use for more
width; a plot's token labels and numbers do). Narrower, every column keeps its
share. The dock columns to the left and right of the central widget keep their
proportions to one another.

The basis is the layout the user last made (dragging a separator, closing,
moving or floating a dock): a change of the central widget's or a dock column's
width while the window keeps its own. The window's width alone never changes it,
so resizing the window and back gives the layout back, even past the widths
where some column stops at its minimum.
"""

from __future__ import annotations

from typing import NamedTuple

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QDockWidget, QMainWindow, QWidget

CENTRAL_SHARE_OF_GAIN = 0.25
SIDES = (Qt.DockWidgetArea.LeftDockWidgetArea, Qt.DockWidgetArea.RightDockWidgetArea)


class Basis(NamedTuple):
    window: int  # the window's width
    central: int  # the central widget's width in it
    columns: tuple[int, ...] | None  # the side dock columns' widths, left to right; None: those first laid out


def _width_changed(event: QResizeEvent) -> bool:
    # not the resize a widget had pending when shown (it has no old size): that is the layout's
    return event.oldSize().isValid() and event.size().width() != event.oldSize().width()


class CentralWidget(QWidget):
    """A central widget that says when it changes width, for :class:`WidthShare`.

    QMainWindow's layout resizes it after the docks, so only its own resize sees a
    new layout whole. An event filter would see every event it gets, the key
    releases and paints of typing in the sentence box among them; a Python widget
    answers only the events it overrides.
    """

    widthChanged = Signal()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if _width_changed(event):
            self.widthChanged.emit()


class WidthShare(QObject):
    def __init__(self, window: QMainWindow) -> None:
        """Share ``window``'s width; its central widget is a :class:`CentralWidget`."""
        super().__init__(window)
        self._window = window
        self._basis: Basis | None = None  # None: the layout the next fit finds
        self._fitted = -1  # the window width last fitted: a column changing width at another is the resize's
        self._fitting = False
        self._shape: tuple[int, tuple[int, ...]] | None = None  # the widths as last laid out or measured
        window.centralWidget().widthChanged.connect(self._laid_out)
        for dock in window.findChildren(QDockWidget, options=Qt.FindChildOption.FindDirectChildrenOnly):
            dock.installEventFilter(self)  # (docks get no events while the document is edited)
            # a dock shown again, docked again or moved is placed by a later layout pass: its first
            # resize has no old size, and its geometry is stale until then
            for changed in (dock.visibilityChanged, dock.topLevelChanged, dock.dockLocationChanged):
                changed.connect(self._relaid_later)

    @property
    def basis(self) -> Basis | None:
        return self._basis

    def keep(self, basis: Basis | None = None) -> None:
        """Keep ``basis``, or by default the layout the window has now, laid out first (a hidden window too,
        with the dock sizes it was given). The next fit applies it."""
        if basis is None:
            self._window.layout().activate()
            central, columns = self._measure()
            basis = Basis(self._window.width(), central, columns)
        self._basis = basis
        self._fitted = -1

    def take_next(self) -> None:
        """Keep the layout the window has when next fitted (a restored one, laid out at the window's size)."""
        self._basis = None
        self._fitted = -1

    def fit(self) -> None:
        """Lay the window's width out from the basis (call it from the window's resizeEvent: the window's
        layout has by then given all the change to the central widget, or taken it from the docks where
        the central widget stops at its minimum)."""
        window, central = self._window, self._window.centralWidget()
        window.layout().activate()  # a change not laid out yet (docks shown again, say) is measured too
        width = window.width()
        if width == self._fitted:
            return
        self._fitted = width
        columns = self._columns()
        now = tuple(w for w, _ in columns)
        if self._basis is None:
            self._basis = Basis(width, central.width(), now)
        elif self._basis.columns is None or len(self._basis.columns) != len(now):
            self._basis = self._basis._replace(columns=now)  # (docks closed or moved since: their layout)
        self._shape = (central.width(), now)
        if not columns:
            return
        # no narrower than the layout lets it be: asked for less, the layout takes the difference from
        # whichever column it meets first, and the columns would lose their proportions
        target = max(central_width(self._basis, width), central.minimumSizeHint().width(), central.minimumWidth())
        scale = (sum(now) + central.width() - target) / sum(self._basis.columns)
        docks, sizes = [], []
        for (_, column), made in zip(columns, self._basis.columns, strict=True):
            docks += column
            sizes += [max(1, round(made * scale))] * len(column)
        self._fitting = True
        try:
            window.resizeDocks(docks, sizes, Qt.Orientation.Horizontal)
            window.layout().activate()  # now, so that its resizes are known as this fit's
        finally:
            self._fitting = False
        self._shape = self._measure()

    def _columns(self) -> list[tuple[int, list[QDockWidget]]]:
        """The side docks shown in the window, as columns left to right: (width, docks)."""
        window = self._window
        columns: dict[tuple[int, int], list[QDockWidget]] = {}
        for d in window.findChildren(QDockWidget, options=Qt.FindChildOption.FindDirectChildrenOnly):
            # a dock behind another's tab is moved off the window
            if (not d.isHidden() and not d.isFloating() and window.dockWidgetArea(d) in SIDES
                    and window.rect().intersects(d.geometry())):
                columns.setdefault((d.x(), d.width()), []).append(d)
        return [(width, docks) for (_, width), docks in sorted(columns.items())]

    def _measure(self) -> tuple[int, tuple[int, ...]]:
        return self._window.centralWidget().width(), tuple(w for w, _ in self._columns())

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Resize and _width_changed(event):
            self._laid_out()
        return False

    def _relaid_later(self, *_args) -> None:
        QTimer.singleShot(0, self._relaid)

    def _relaid(self) -> None:
        self._window.layout().activate()
        self._laid_out()

    def _laid_out(self) -> None:
        """A column changed width. If the window kept its own, that is the user's doing: the basis from now
        on (not a dock raised from behind a tab, which leaves the columns as they were)."""
        if self._fitting or self._window.width() != self._fitted:
            return
        shape = self._measure()
        if shape != self._shape:
            self._shape = shape
            self._basis = Basis(self._fitted, *shape)


def central_width(basis: Basis, width: int) -> int:
    """The central widget's width in a window ``width`` wide."""
    if width <= basis.window:
        return round(basis.central * width / basis.window)
    return round(basis.central + CENTRAL_SHARE_OF_GAIN * (width - basis.window))

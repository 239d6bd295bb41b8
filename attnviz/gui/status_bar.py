"""The status bar: a message never runs into the permanent widgets on its right.

QStatusBar draws a message up to 2 px before its first permanent widget and cuts
it off there, mid-letter and flush against that widget's text: at 800 px "Ready.
Edit any number, type a sentence, or click a to" ran into "2 tokens · d_model 2".
Here the widgets named in :meth:`StatusBar.make_way` are hidden while a message
needs their room, as QStatusBar hides its normal widgets for every message (a
refusal such as a cell's bad value must be read whole), and a message that still
does not fit is elided with "…", whole in the tooltip. ``currentMessage()`` is
the whole message all the same.
"""

from __future__ import annotations

from PySide6.QtCore import QRect, Qt, QTimer
from PySide6.QtGui import QPainter, QPaintEvent, QResizeEvent, QShowEvent
from PySide6.QtWidgets import QSizeGrip, QStatusBar, QStyle, QStyleOption, QWidget

MARGIN = 6  # QStatusBar's, before the message


class StatusBar(QStatusBar):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._yielding: list[QWidget] = []
        self._made_way: list[QWidget] = []  # those hidden for the message shown
        self._watched: list[QWidget] = []  # the permanent widgets: where they stand bounds the message
        self._room_key: tuple = ()
        self._elided: tuple[QRect, str] | None = None  # (where, what) when the message is cut short
        self.messageChanged.connect(self._make_room)

    def make_way(self, *widgets: QWidget) -> None:
        """Permanent ``widgets`` that are hidden, in this order, while a message needs their room."""
        self._yielding = list(widgets)
        self._watched = self.findChildren(QWidget, options=Qt.FindChildOption.FindDirectChildrenOnly)
        self._make_room()

    def message_rect(self) -> QRect:
        """Where the message is drawn: up to a gap of two spaces before the first widget shown."""
        gap = self.fontMetrics().horizontalAdvance("  ")
        shown = [w.geometry() for w in self._shown()]
        if self.layoutDirection() == Qt.LayoutDirection.RightToLeft:
            left = max((g.right() + 1 + gap for g in shown), default=MARGIN)
            return QRect(left, 0, self.width() - MARGIN - left, self.height())
        right = min((g.left() - gap for g in shown), default=self.width() - MARGIN)
        return QRect(MARGIN, 0, right - MARGIN, self.height())

    def _shown(self) -> list[QWidget]:
        """The widgets shown on the bar (while a message shows, only permanent ones and the size grip are)."""
        return [w for w in self.findChildren(QWidget, options=Qt.FindChildOption.FindDirectChildrenOnly)
                if w.isVisible()]

    def _fits(self, message: str) -> bool:
        return self.fontMetrics().horizontalAdvance(message) <= self.message_rect().width()

    def _make_room(self, *_args) -> None:
        if not self.isVisible():
            return  # the widgets' places are not known yet: showing comes back here
        for widget in self._made_way:
            widget.show()
        self._made_way = []
        # the places as laid out now (the size grip QStatusBar shows on showing is not placed yet, say)
        self.layout().activate()
        message = self.currentMessage()
        for widget in self._yielding:
            if not message or self._fits(message):
                break
            if widget.isVisible():
                widget.hide()
                self._made_way.append(widget)
                self.layout().activate()  # the widgets left move right now, not at the next layout pass

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._make_room()  # (a widget gets the resize it had pending before it is visible)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if event.size().width() != event.oldSize().width():
            self._make_room()

    def paintEvent(self, event: QPaintEvent) -> None:
        message = self.currentMessage()
        # the room is known here, whatever changed it (a message, a resize, a widget's new text); worked
        # out again only when the message or where the widgets stand changes, as the bar paints in every
        # grab of the window and whenever the time beside it changes
        key = (message, self.width(), *((w.isVisible(), w.x(), w.width()) for w in self._watched))  # (either end)
        if key != self._room_key:
            self._room_key = key
            rect, shown = QRect(), ""
            if message:
                rect = self.message_rect()
                shown = self.fontMetrics().elidedText(message, Qt.TextElideMode.ElideRight, max(rect.width(), 0))
            self._elided = (rect, shown) if shown != message else None
            if self._elided is not None and any(w.isVisible() for w in self._yielding):
                # a widget beside it grew under the message: the widgets step aside, as they would
                # for the message shown now (not from inside a paint: hiding one lays the bar out)
                QTimer.singleShot(0, self._make_room)
            tip = message if self._elided is not None else ""
            if tip != self.toolTip():
                self.setToolTip(tip)
        if self._elided is None:
            # QStatusBar draws a message that fits just so, from C++ (≈ 0.1 ms sooner: the bar repaints
            # whenever the shapes change width, a token more say)
            super().paintEvent(event)
            return
        self._paint(event, *self._elided)

    def _paint(self, event: QPaintEvent, rect: QRect, shown: str) -> None:
        """QStatusBar's painting, with the message ``shown`` elided in ``rect``."""
        painter = QPainter(self)
        option = QStyleOption()
        option.initFrom(self)
        style = self.style()
        style.drawPrimitive(QStyle.PrimitiveElement.PE_PanelStatusBar, option, painter, self)
        for widget in self._shown():
            if isinstance(widget, QSizeGrip):
                continue  # not an item: QStatusBar frames its items only
            frame = widget.geometry().adjusted(-2, -1, 2, 1)
            if event.rect().intersects(frame):
                item = QStyleOption()
                item.rect, item.palette, item.state = frame, self.palette(), QStyle.StateFlag.State_None
                style.drawPrimitive(QStyle.PrimitiveElement.PE_FrameStatusBarItem, item, painter, widget)
        if shown:
            painter.setPen(self.palette().windowText().color())
            painter.drawText(rect, Qt.AlignmentFlag.AlignLeading | Qt.AlignmentFlag.AlignVCenter
                             | Qt.TextFlag.TextSingleLine, shown)

"""An event filter that remembers which objects received events of one type."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject


class EventLog(QObject):
    def __init__(self, kind: QEvent.Type) -> None:
        super().__init__()
        self.kind = kind
        self.objects: list[QObject] = []

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if event.type() == self.kind:
            self.objects.append(obj)
        return False

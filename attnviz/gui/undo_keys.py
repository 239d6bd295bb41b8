"""Ctrl+Z and Ctrl+Shift+Z undo the document from the boxes that edit it.

A QLineEdit or spin box takes the undo keys for its own text history while it
has the focus (it accepts Qt's ShortcutOverride for them), so the window's
Undo and Redo never saw them there. In the sentence box that history was
worse than useless: its undo retyped the sentence, which became a new edit
of the document rather than undoing one. Every change of these boxes is a
document edit already, so the document's history is the one the keys mean.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QKeyEvent, QKeySequence
from PySide6.QtWidgets import QWidget

_UNDO_KEYS = (QKeySequence.StandardKey.Undo, QKeySequence.StandardKey.Redo)


class DocumentUndoKeys(QObject):
    """An event filter: the watched widgets leave the undo keys to the window's shortcuts."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        overriding = event.type() == QEvent.Type.ShortcutOverride and isinstance(event, QKeyEvent)
        if overriding and any(event.matches(key) for key in _UNDO_KEYS):
            event.ignore()  # not overridden: the shortcut map goes on to the window's actions
            return True
        return False

    def watch(self, *widgets: QWidget) -> None:
        for widget in widgets:
            widget.installEventFilter(self)

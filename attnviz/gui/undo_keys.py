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
_KEY_EVENTS = (QEvent.Type.ShortcutOverride, QEvent.Type.KeyPress)


class DocumentUndoKeys(QObject):
    """An event filter: the watched widgets leave the undo keys to the window's shortcuts."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() not in _KEY_EVENTS or not isinstance(event, QKeyEvent):
            return False
        if not any(event.matches(key) for key in _UNDO_KEYS):
            return False
        # ShortcutOverride, not taken: the shortcut map goes on to the window's Undo and Redo.
        # KeyPress: it comes only when those did not take the key (nothing to undo, or to
        # redo); the box must not run its own history then either.
        event.ignore()
        return True

    def watch(self, *widgets: QWidget) -> None:
        for widget in widgets:
            widget.installEventFilter(self)

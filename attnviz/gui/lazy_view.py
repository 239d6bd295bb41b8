"""Views that do no work while hidden.

A panel in a background tab or a closed dock need not redraw on every edit.
``refresh()`` redraws only while the widget is on screen; otherwise it notes
that the view is stale, and ``showEvent`` catches up. Qt keeps a dock that is
not the current tab of a tab group "visible", just moved outside the window,
so on-screen also means inside the window; the window calls
``ensure_fresh()`` when such a dock's tab is brought to the front. ``refresh_count``
counts real redraws, so tests and the benchmark can see the laziness.
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, QRect
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QWidget


class LazyView:
    """Mix in before the Qt widget class; subclasses implement ``redraw()``."""

    refresh_count = 0
    _stale = True

    def refresh(self, *_args: object) -> None:
        if not self.on_screen():
            self._stale = True
            return
        self._stale = True
        self.ensure_fresh()

    def ensure_fresh(self) -> None:
        """Redraw now if stale, visible or not (before an export, say)."""
        if self._stale:
            self._stale = False
            self.refresh_count += 1
            self.redraw()

    def redraw(self) -> None:
        raise NotImplementedError

    def on_screen(self) -> bool:
        widget: QWidget = self  # type: ignore[assignment]
        if not widget.isVisible():
            return False
        window = widget.window()
        return window is widget or QRect(widget.mapTo(window, QPoint(0, 0)), widget.size()).intersects(window.rect())

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)  # type: ignore[misc]
        if self._stale:
            self.refresh()

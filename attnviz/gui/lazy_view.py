"""Views that do no work while hidden.

A panel in a background tab or a closed dock need not redraw on every edit.
``refresh()`` redraws only while the widget is visible; otherwise it notes
that the view is stale, and ``showEvent`` catches up. ``refresh_count``
counts real redraws, so tests and the benchmark can see the laziness.
"""

from __future__ import annotations

from PySide6.QtGui import QShowEvent


class LazyView:
    """Mix in before the Qt widget class; subclasses implement ``redraw()``."""

    refresh_count = 0
    _stale = True

    def refresh(self, *_args: object) -> None:
        if not self.isVisible():  # type: ignore[attr-defined]
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

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)  # type: ignore[misc]
        if self._stale:
            self.refresh()

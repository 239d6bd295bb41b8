"""The status bar's "computed in … ms": a label that repaints alone when its text changes.

The time changes on every edit. A label whose text changes asks the status bar
to lay out again unless its size is fixed in both directions, and a
transparent one repaints the status bar and the window behind it; so this one
is opaque and sized once for the longest time it shows (again when its font
changes).
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt
from PySide6.QtWidgets import QLabel, QWidget

LONGEST = "computed in 88888.88 ms"


class TimeLabel(QLabel):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("status:time")
        self.setToolTip("How long the last attention pass took")
        self.setAutoFillBackground(True)
        self.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self._fit()

    def set_seconds(self, seconds: float) -> None:
        self.setText(f"computed in {seconds * 1e3:.2f} ms")

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:
            self._fit()

    def _fit(self) -> None:
        metrics = self.fontMetrics()
        self.setFixedSize(metrics.horizontalAdvance(LONGEST) + 4, metrics.height())

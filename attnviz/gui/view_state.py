"""What the views look at, as opposed to what the document holds.

The current head and the selected query token are shared by every panel but
are not part of the document (they are not saved and not undone), so they
live here rather than in the document model.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from attnviz.model import DocumentModel

MIN_DIGITS, MAX_DIGITS = 2, 6


class ViewState(QObject):
    headChanged = Signal(int)
    # -1 means no token selected
    tokenChanged = Signal(int)
    precisionChanged = Signal(int)

    def __init__(self, model: DocumentModel, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self._head = 0
        self._token = 0
        self._precision = 2
        # before any view hears of a new shape, the head it would show must exist
        model.structureChanged.connect(self._clamp_head)
        model.resultChanged.connect(self._clamp)
        model.documentReset.connect(self._reset)

    @property
    def head(self) -> int:
        return self._head

    @property
    def token(self) -> int:
        return self._token

    @property
    def precision(self) -> int:
        """Digits after the decimal point for numbers shown in cells and text."""
        return self._precision

    def set_head(self, head: int) -> None:
        head = max(0, min(int(head), self.model.n_heads - 1))
        if head != self._head:
            self._head = head
            self.headChanged.emit(head)

    def set_token(self, token: int) -> None:
        n = self.model.result.n_tokens
        token = -1 if n == 0 else max(-1, min(int(token), n - 1))
        if token != self._token:
            self._token = token
            self.tokenChanged.emit(token)

    def step_token(self, steps: int) -> None:
        """Select the token ``steps`` after the selected one (before it if negative), stopping at either end."""
        self.set_token(self.step_target(steps))

    def step_target(self, steps: int) -> int:
        """The token ``step_token(steps)`` selects: the selected one itself where no step is possible."""
        n = self.model.result.n_tokens
        if n == 0:
            return -1
        if self._token < 0:  # none selected yet: a step in either direction starts at the first
            return 0
        return max(0, min(self._token + int(steps), n - 1))

    def set_precision(self, digits: int) -> None:
        digits = max(MIN_DIGITS, min(int(digits), MAX_DIGITS))
        if digits != self._precision:
            self._precision = digits
            self.precisionChanged.emit(digits)

    def _clamp_head(self) -> None:
        self.set_head(self._head)

    def _clamp(self) -> None:
        """Keep head and token valid when the document shrinks."""
        self.set_head(self._head)
        n = self.model.result.n_tokens
        if n and self._token < 0:
            self.set_token(0)
        elif self._token >= n:
            self.set_token(n - 1)

    def _reset(self) -> None:
        self.set_head(0)
        self.set_token(0)

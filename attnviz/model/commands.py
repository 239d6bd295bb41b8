"""Undo commands: each one is small and calls a setter of the document model.

Following Orange's pattern, a command remembers old and new values and calls
the model's private ``_apply_*`` setters in ``redo``/``undo``. The model never
mutates itself outside a command, so the undo stack sees every change.
"""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING, Any

from PySide6.QtGui import QUndoCommand

from attnviz.model.naming import cell_name

if TYPE_CHECKING:
    from attnviz.engine import Document
    from attnviz.model.document_model import DocumentModel

# Command ids for QUndoCommand.mergeWith: equal ids may merge.
CELL_ID = 1
SENTENCE_ID = 2
OPTION_ID = 3
# Typing after a pause this long (seconds) is a new undo step: Ctrl+Z takes back the last burst, not the sentence.
TYPING_PAUSE_S = 2.0
_now = time.monotonic  # (tests put a clock of their own here)


def _same(a: Any, b: Any) -> bool:
    """Equal to the bit, as the document compares (0.0 and -0.0 differ)."""
    if isinstance(a, float) and isinstance(b, float):
        return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)
    return type(a) is type(b) and a == b


class SetCell(QUndoCommand):
    """One matrix cell; consecutive edits of the same cell merge into one step."""

    def __init__(self, model: DocumentModel, name: str, index: tuple[int, ...], value: float) -> None:
        super().__init__(f"Edit {cell_name(model, name, index)}")
        self.model, self.name, self.index = model, name, index
        self.old = float(model._array(name)[index])
        self.new = float(value)

    def id(self) -> int:
        return CELL_ID

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, SetCell) or (other.name, other.index) != (self.name, self.index):
            return False
        self.new = other.new
        self.setObsolete(_same(self.new, self.old))  # back where it started: the stack drops the step
        return True

    def redo(self) -> None:
        self.model._apply_cell(self.name, self.index, self.new)

    def undo(self) -> None:
        self.model._apply_cell(self.name, self.index, self.old)


class SetSentence(QUndoCommand):
    """The sentence; a run of typing merges into one step, until a pause of TYPING_PAUSE_S."""

    def __init__(self, model: DocumentModel, text: str) -> None:
        super().__init__("Edit sentence")
        self.model, self.old, self.new = model, model.sentence, text
        self.last_edit = _now()

    def id(self) -> int:
        return SENTENCE_ID

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, SetSentence) or other.last_edit - self.last_edit >= TYPING_PAUSE_S:
            return False
        self.new, self.last_edit = other.new, other.last_edit
        self.setObsolete(self.new == self.old)
        return True

    def redo(self) -> None:
        self.model._apply_sentence(self.new)

    def undo(self) -> None:
        self.model._apply_sentence(self.old)


class SetOption(QUndoCommand):
    """One option (scale, causal, temperature, …); dragging a slider merges."""

    def __init__(self, model: DocumentModel, name: str, value: Any) -> None:
        super().__init__(f"Set {name.replace('_', ' ')}")
        self.model, self.name = model, name
        self.old, self.new = getattr(model.config, name), value

    def id(self) -> int:
        return OPTION_ID

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, SetOption) or other.name != self.name or self.name != "temperature":
            return False
        self.new = other.new
        self.setObsolete(_same(self.new, self.old))
        return True

    def redo(self) -> None:
        self.model._apply_option(self.name, self.new)

    def undo(self) -> None:
        self.model._apply_option(self.name, self.old)


class ReplaceDocument(QUndoCommand):
    """Any structural change (resize, new word, whole-matrix fill): swap two snapshots."""

    def __init__(self, model: DocumentModel, new: Document, text: str) -> None:
        super().__init__(text)
        self.model, self.old, self.new = model, model.document(), new

    def redo(self) -> None:
        self.model._apply_document(self.new)

    def undo(self) -> None:
        self.model._apply_document(self.old)

"""The sentence box and the row of token chips under it."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QLineEdit, QToolTip, QVBoxLayout, QWidget

from attnviz.engine import AttnvizError
from attnviz.gui.numbers import counted, short
from attnviz.gui.token_chips import Chip, TokenChips, more_chip
from attnviz.gui.view_state import ViewState
from attnviz.model import DocumentModel

# Past this many tokens the chips would wrap into a wall of colour.
MAX_CHIPS = 64


class SentenceEditor(QWidget):
    # a one-line reason, when an edit of the sentence is refused
    refused = Signal(str)

    def __init__(self, model: DocumentModel, view: ViewState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model, self.view = model, view
        self.edit = QLineEdit(model.sentence)
        self.edit.setObjectName("sentenceEdit")
        self.edit.setPlaceholderText("Type a sentence, e.g. The dog found some pizza next to the baby and ate it")
        self.edit.setToolTip("Each word and punctuation mark becomes a token. Everything updates as you type.")
        self.edit.setClearButtonEnabled(True)
        font = self.edit.font()
        font.setPointSizeF(font.pointSizeF() * 1.25)
        self.edit.setFont(font)
        self.chips = TokenChips()
        self.chips.setObjectName("tokenChips")
        self.chips.setToolTip("The tokens. Click one to follow its calculation (or Tab here and use the arrow keys); "
                              "* marks a word not in the vocabulary.")
        self.chips.tokenClicked.connect(view.set_token)
        self.chips.tokenStepped.connect(view.step_token)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.edit)
        layout.addWidget(self.chips)
        self.edit.textEdited.connect(self._on_edited)
        model.sentenceChanged.connect(self._sync_text)
        model.documentReset.connect(lambda: self._sync_text(model.sentence))
        model.resultChanged.connect(self._render_chips)
        view.tokenChanged.connect(self._render_chips)
        self._render_chips()

    def _on_edited(self, text: str) -> None:
        try:
            self.model.set_sentence(text)
        except AttnvizError as e:
            self._sync_text(self.model.sentence)  # the box keeps showing what is computed
            QToolTip.showText(self.edit.mapToGlobal(self.edit.rect().bottomLeft()), str(e), self.edit)
            self.refused.emit(str(e))

    def _sync_text(self, text: str) -> None:
        """Show the model's sentence without echoing it back as an edit."""
        if self.edit.text() != text:
            cursor = self.edit.cursorPosition()
            blocked = self.edit.blockSignals(True)
            self.edit.setText(text)
            self.edit.setCursorPosition(min(cursor, len(text)))
            self.edit.blockSignals(blocked)

    def chip_list(self) -> list[Chip]:
        """The count, then a chip per token (cut after MAX_CHIPS), marked * when not in the vocabulary."""
        r = self.model.result
        if not r.tokens:
            return [Chip("No tokens yet.", -1)]
        shown = zip(r.tokens[:MAX_CHIPS], r.token_ids[:MAX_CHIPS], strict=True)
        chips = [Chip(f"{counted(len(r.tokens), 'token')}:", -1)]
        chips += [Chip(short(token) + ("*" if vid < 0 else ""), i, i == self.view.token)
                  for i, (token, vid) in enumerate(shown)]
        if len(r.tokens) > MAX_CHIPS:  # marked as selected when the selected token is one of them
            chips.append(more_chip(len(r.tokens) - MAX_CHIPS, self.view.token >= MAX_CHIPS))
        return chips

    def _render_chips(self, *_args) -> None:
        self.chips.set_chips(self.chip_list())
        described = self._selection_text()
        if described != self.chips.accessibleDescription():  # (each new one is an event for screen readers)
            self.chips.setAccessibleDescription(described)

    def _selection_text(self) -> str:
        """The selected token, for screen readers (the chips say which tokens there are, not which is selected)."""
        r, i = self.model.result, self.view.token
        if not 0 <= i < r.n_tokens:
            return "No token selected."
        return f"Selected: token {i + 1} of {r.n_tokens}, {r.tokens[i]}. The arrow keys choose another."

"""The sentence box and the row of token chips under it."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QLineEdit, QSizePolicy, QToolTip, QVBoxLayout, QWidget

from attnviz.engine import AttnvizError
from attnviz.gui.numbers import short
from attnviz.gui.palette import token_color
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
        self.chips = QLabel()
        self.chips.setObjectName("tokenChips")
        self.chips.setWordWrap(True)
        self.chips.setTextFormat(Qt.TextFormat.RichText)
        self.chips.setTextInteractionFlags(Qt.TextInteractionFlag.LinksAccessibleByMouse)
        self.chips.setToolTip("The tokens. Click one to follow its calculation; * marks a word not in the vocabulary.")
        self.chips.linkActivated.connect(self._on_chip)
        # a very long word must not widen the whole window
        self.chips.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.edit)
        layout.addWidget(self.chips)
        self.edit.textEdited.connect(self._on_edited)
        model.sentenceChanged.connect(self._sync_text)
        model.documentReset.connect(lambda: self._sync_text(model.sentence))
        model.resultChanged.connect(self._render_chips)
        view.tokenChanged.connect(self._render_chips)
        self._chips_for: tuple | None = None  # what the chips show: tokens, their vocabulary rows, the selected one
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

    def _on_chip(self, link: str) -> None:
        self.view.set_token(int(link.removeprefix("token:")))

    def chip_html(self) -> str:
        r = self.model.result
        if not r.tokens:
            return "<i>No tokens yet.</i>"
        parts = []
        for i, (token, vid) in enumerate(zip(r.tokens[:MAX_CHIPS], r.token_ids[:MAX_CHIPS], strict=True)):
            color = token_color(i).name()
            selected = i == self.view.token
            weight = "bold" if selected else "normal"
            border = "text-decoration: underline;" if selected else "text-decoration: none;"
            star = "*" if vid < 0 else ""
            parts.append(
                f'<a href="token:{i}" style="color:{color}; font-weight:{weight}; {border}">'
                f"{html.escape(short(token))}{star}</a>"
            )
        more = f" … and {len(r.tokens) - MAX_CHIPS} more" if len(r.tokens) > MAX_CHIPS else ""
        return f"{len(r.tokens)} tokens: " + " &nbsp;·&nbsp; ".join(parts) + more

    def _render_chips(self, *_args) -> None:
        # a weight edit leaves the chips as they were: skip building their text
        r = self.model.result
        key = (tuple(r.tokens), tuple(r.token_ids), self.view.token)
        if key != self._chips_for:
            self._chips_for = key
            self.chips.setText(self.chip_html())

"""Qt table models that present the document's matrices to QTableView.

They read the document model and send edits back through its methods; they
hold no numbers of their own. Model signals are translated to the narrowest
Qt signal: an edited cell becomes ``dataChanged`` for that cell (plus a
colour-only refresh when the value range moved), a new word in the sentence
``dataChanged`` and ``headerDataChanged`` for its row, a change of shape a
model reset.

A view asks for several roles of every visible cell on every repaint, so each
model keeps what painting needs (text, background, text colour) per cell,
filled when a cell is first asked for and forgotten whenever the values, the
colour range, the precision, the shown matrix or its shape change. For its
view's column width it keeps a text as wide as its widest number, worked out
from the largest magnitude and the precision when either changes.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QColor, QFont

from attnviz.engine import AttnvizError
from attnviz.engine.document import HEAD_MATRICES
from attnviz.engine.tokenizer import vocab_key
from attnviz.gui.numbers import component, format_number, parse_number, short
from attnviz.gui.palette import cell_color, symmetric_levels, text_color_on, token_color
from attnviz.gui.view_state import ViewState
from attnviz.model import DocumentModel
from attnviz.model.naming import COLUMN_PREFIX, embedding_name, quoted

Index = QModelIndex | QPersistentModelIndex
# text, background, text colour
Cell = tuple[str, QColor, QColor]
EDITABLE = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsEditable
READ_ONLY = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
NO_FLAGS = Qt.ItemFlag.NoItemFlags

# Roles arrive as plain ints; comparing them with Qt's enum members costs more than the answer.
DISPLAY = Qt.ItemDataRole.DisplayRole.value
EDIT = Qt.ItemDataRole.EditRole.value
TOOL_TIP = Qt.ItemDataRole.ToolTipRole.value
FONT = Qt.ItemDataRole.FontRole.value
ALIGNMENT = Qt.ItemDataRole.TextAlignmentRole.value
BACKGROUND = Qt.ItemDataRole.BackgroundRole.value
FOREGROUND = Qt.ItemDataRole.ForegroundRole.value
# where each painted role sits in a Cell
_CELL_SLOT = {DISPLAY: 0, BACKGROUND: 1, FOREGROUND: 2}
RIGHT_ALIGNED = (Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter).value
HORIZONTAL, VERTICAL = Qt.Orientation.Horizontal, Qt.Orientation.Vertical
# A 512 × 512 table scrolled end to end would otherwise keep every cell it ever showed.
_MAX_CACHED_CELLS = 16384

_DIGITS_AS_EIGHTS = str.maketrans("0123456789", "8888888888")

# EmbeddingTableModel's modes and the field of the attention result each shows
_RESULT_FIELD = {"embedding": "embeddings", "pe": "pe", "x": "x"}


def widest_number(m: float, digits: int) -> str:
    """A text as wide as the widest number within ±``m`` printed at ``digits``: every digit an 8.

    Numbers from a million on print in scientific notation, which can be shorter than the fixed-point
    numbers just below a million; those are counted too.
    """
    texts = (format_number(-m, digits), format_number(-min(m, 999_999.0), digits))
    return max(texts, key=len).translate(_DIGITS_AS_EIGHTS)


class _NumberTable(QAbstractTableModel):
    """Shared behaviour: colouring by value, formatting, parsing, refusal feedback, the cell cache."""

    # emitted with a one-line reason when an edit is refused
    editRejected = Signal(QModelIndex, str)
    # the widest number shown (widest_text) takes another width: other digits or a larger magnitude
    widestChanged = Signal()

    def __init__(self, model: DocumentModel, view: ViewState, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.model, self.view = model, view
        self._levels = (-1.0, 1.0)
        # the matrix on screen, read when it changes rather than on every data() call
        self._shown: np.ndarray = np.zeros((0, 0))
        self._rows = self._cols = 0
        self._cells: dict[tuple[int, int], Cell] = {}
        self._flags = EDITABLE
        self._widest = ""
        view.precisionChanged.connect(self._on_precision)

    def values(self) -> np.ndarray:
        """The matrix as the document holds it now."""
        raise NotImplementedError

    def widest_text(self) -> str:
        """A text as wide as the widest number the table shows now (by its largest magnitude, not cell by cell)."""
        return self._widest

    def rowCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else self._rows

    def columnCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else self._cols

    def cell(self, row: int, col: int) -> Cell | None:
        """What painting needs of one cell, or None outside the table."""
        cell = self._cells.get((row, col))
        if cell is None and 0 <= row < self._rows and 0 <= col < self._cols:
            if len(self._cells) >= _MAX_CACHED_CELLS:
                self._cells.clear()
            value = float(self._shown[row, col])
            background = cell_color(value, *self._levels)
            cell = (format_number(value, self.view.precision), background, text_color_on(background))
            self._cells[row, col] = cell
        return cell

    def data(self, index: Index, role: int = DISPLAY):
        slot = _CELL_SLOT.get(role)
        if slot is not None:
            cell = self.cell(index.row(), index.column())
            return None if cell is None else cell[slot]
        if role == ALIGNMENT:
            return RIGHT_ALIGNED if index.isValid() else None
        if role in (EDIT, TOOL_TIP):
            value = self.value_at(index.row(), index.column())
            if value is None:
                return None
            return repr(value) if role == EDIT else f"{self.cell_name(index.row(), index.column())} = {value!r}"
        return None

    def value_at(self, row: int, col: int) -> float | None:
        """The exact value shown at a cell, or None outside the table."""
        if 0 <= row < self._rows and 0 <= col < self._cols:
            return float(self._shown[row, col])
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        return self._flags if index.isValid() else NO_FLAGS

    def setData(self, index: Index, value, role: int = EDIT) -> bool:
        if role != EDIT or not self.flags(index) & Qt.ItemFlag.ItemIsEditable:
            return False
        try:
            self.write(index.row(), index.column(), parse_number(value))
        except AttnvizError as e:
            self.editRejected.emit(QModelIndex(index), f"{self.cell_name(index.row(), index.column())}: {e}")
            return False
        return True

    def write(self, row: int, col: int, value: float) -> None:
        raise NotImplementedError

    def write_all(self, values: np.ndarray, text: str) -> None:
        """Replace every value shown, as one undo step."""
        raise NotImplementedError

    def cell_name(self, row: int, col: int) -> str:
        raise NotImplementedError

    # ---- refresh --------------------------------------------------------
    def _read(self) -> bool:
        """Take the matrix to show from the document; True if the colour range moved."""
        self._shown = a = self.values()
        self._rows, self._cols = a.shape
        levels = symmetric_levels(a) if a.size else (-1.0, 1.0)
        moved = levels != self._levels
        self._levels = levels
        if moved or not self._widest:  # (the widest number follows the largest magnitude)
            self._note_widest()
        return moved

    def _note_widest(self) -> None:
        widest = widest_number(self._levels[1], self.view.precision)
        if widest != self._widest:
            self._widest = widest
            self.widestChanged.emit()

    def _on_precision(self) -> None:
        self._note_widest()
        self._refresh_all()

    def _cells_changed(self, top: int, left: int, bottom: int, right: int) -> None:
        if self._read():
            self._refresh_all()  # every colour moved with the range
            return
        self._forget(top, left, bottom, right)

    def _forget(self, top: int, left: int, bottom: int, right: int) -> None:
        """The cells in the rectangle changed (the colour range did not): repaint them alone."""
        if top == bottom and left == right:
            self._cells.pop((top, left), None)
        else:
            self._cells = {
                k: v for k, v in self._cells.items() if not (top <= k[0] <= bottom and left <= k[1] <= right)
            }
        self.dataChanged.emit(self.index(top, left), self.index(bottom, right))

    def _refresh_all(self) -> None:
        self._cells.clear()
        if self._rows and self._cols:
            self.dataChanged.emit(self.index(0, 0), self.index(self._rows - 1, self._cols - 1))

    def _reset(self) -> None:
        self.beginResetModel()
        self._read()
        self._cells.clear()
        self.endResetModel()


class WeightTableModel(_NumberTable):
    """One weight matrix: W_q, W_k or W_v of the current head, or W_o."""

    def __init__(self, model: DocumentModel, view: ViewState, name: str, parent: QObject | None = None) -> None:
        super().__init__(model, view, parent)
        self.name = name
        self._read()
        model.cellsChanged.connect(self._on_cells)
        model.structureChanged.connect(self._reset)
        model.documentReset.connect(self._reset)
        if name in HEAD_MATRICES:
            view.headChanged.connect(self._reset)

    @property
    def head(self) -> int:
        return self.view.head if self.name in HEAD_MATRICES else -1

    def values(self) -> np.ndarray:
        if self.name == "W_o" and not self.model.has_W_o:
            return np.zeros((0, 0))
        return self.model.matrix(self.name, min(max(self.head, 0), self.model.n_heads - 1))

    def write(self, row: int, col: int, value: float) -> None:
        self.model.set_cell(self.name, self.head, row, col, value)

    def write_all(self, values: np.ndarray, text: str) -> None:
        self.model.set_matrix(self.name, max(self.head, 0), values, text)

    @property
    def label(self) -> str:
        return self.name

    def cell_name(self, row: int, col: int) -> str:
        """As the headers name the row and column (from 1): W_q[x₃, q₂] (head 2); the undo text names it so too."""
        head = f" (head {self.head + 1})" if self.head >= 0 else ""
        return f"{self.name}[{self.headerData(row, VERTICAL)}, {self.headerData(col, HORIZONTAL)}]{head}"

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = DISPLAY):
        if role == DISPLAY:
            if orientation == HORIZONTAL:
                return f"{COLUMN_PREFIX[self.name]}{component(section)}"
            if self.name == "W_o":
                d_v = self.model.d_v
                return f"h{section // d_v + 1}·v{component(section % d_v)}"
            return f"x{component(section)}"
        if role == TOOL_TIP:
            if orientation == HORIZONTAL:
                return f"column {section + 1}: gives component {section + 1} of {COLUMN_PREFIX[self.name]}"
            return f"row {section + 1}: multiplies component {section + 1} of the input"
        return None

    def _on_cells(self, name: str, head: int, top: int, left: int, bottom: int, right: int) -> None:
        if name == self.name and head == self.head:
            self._cells_changed(top, left, bottom, right)


class EmbeddingTableModel(_NumberTable):
    """One row per token of the sentence: its embedding, its PE, or x = embedding + PE.

    Only the embedding is editable; an edit of an unknown word's row adds the
    word to the vocabulary (see DocumentModel.set_token_embedding). The table
    shows the attention result of the last ``resultChanged``.
    """

    MODES = tuple(_RESULT_FIELD)

    def __init__(self, model: DocumentModel, view: ViewState, parent: QObject | None = None) -> None:
        super().__init__(model, view, parent)
        self.mode = "embedding"
        self._tokens: tuple[str, ...] = ()
        self._ids: tuple[int, ...] = ()
        # per row: its label and colour
        self._row_labels: tuple[str, ...] = ()
        self._row_colors: tuple[QColor, ...] = ()
        # (bold, italic) -> header font; the header asks for a font many times per paint
        self._fonts: dict[tuple[bool, bool], QFont] = {}
        model.resultChanged.connect(self._on_result)
        view.tokenChanged.connect(self._on_token)
        self._on_result()

    def set_mode(self, mode: str) -> None:
        if mode not in self.MODES:
            raise ValueError(f"unknown mode {mode!r}")
        if mode != self.mode:
            self.mode = mode
            self._flags = EDITABLE if mode == "embedding" else READ_ONLY
            self._read()
            self._refresh_all()

    def values(self) -> np.ndarray:
        return getattr(self.model.result, _RESULT_FIELD[self.mode])

    def write(self, row: int, col: int, value: float) -> None:
        self.model.set_token_embedding(row, col, value)

    def write_all(self, values: np.ndarray, text: str) -> None:
        self.model.set_token_embeddings(values, text)

    @property
    def label(self) -> str:
        return "embeddings"

    def cell_name(self, row: int, col: int) -> str:
        """As the undo text names an embedding, by its word (every occurrence has it): embedding['go', d₁];
        a position's PE or x by the row, as the headers number it: PE[2 'go', d₁]."""
        if self.mode == "embedding":
            return embedding_name(vocab_key(self._tokens[row]), col)  # in full, as the undo text
        label = {"pe": "PE", "x": "x"}[self.mode]
        return f"{label}[{row + 1} {quoted(short(self._tokens[row]))}, {self.headerData(col, HORIZONTAL)}]"

    def token(self, row: int) -> str:
        """The token of ``row``, as the sentence has it (the header shows it numbered, shortened, marked)."""
        return self._tokens[row]

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = DISPLAY):
        if orientation == HORIZONTAL:
            if role == DISPLAY:
                return f"d{component(section)}"
            if role == TOOL_TIP:
                return f"component {section + 1} of {self.model.d_model} (d_model)"
            return None
        if not 0 <= section < len(self._tokens):
            return None
        if role == DISPLAY:
            return self._row_labels[section]
        if role == FONT:
            return self._font(section == self.view.token, self._ids[section] < 0)
        if role == FOREGROUND:
            return self._row_colors[section]
        if role == TOOL_TIP:
            word = self._tokens[section]
            if self._ids[section] < 0:
                return (f"{quoted(word)} is not in the vocabulary: its vector is derived from the word. "
                        "Edit it to add it.")
            return f"{quoted(word)}: word {section + 1} of the sentence, vocabulary entry {self._ids[section] + 1}"
        return None

    def _font(self, bold: bool, italic: bool) -> QFont:
        font = self._fonts.get((bold, italic))
        if font is None:
            font = self._fonts[bold, italic] = QFont()
            font.setBold(bold)
            font.setItalic(italic)
        return font

    def _read(self) -> bool:
        r = self.model.result
        if (r.tokens, r.token_ids) != (self._tokens, self._ids):
            self._tokens, self._ids = r.tokens, r.token_ids
            self._row_labels = tuple(
                f"{i + 1} {short(t)}{'*' if self._ids[i] < 0 else ''}" for i, t in enumerate(self._tokens)
            )
            self._row_colors = tuple(token_color(i) for i in range(len(self._tokens)))
        return super()._read()

    def _on_token(self, _token: int) -> None:
        if self._rows:
            self.headerDataChanged.emit(VERTICAL, 0, self._rows - 1)

    def _on_result(self) -> None:
        values = self.values()
        if values.shape != self._shown.shape:
            self._reset()
            return
        # The same shape: a word typed or replaced changes its row (label and
        # numbers) and leaves the others. A reset would make the header lay out
        # every section again and the view repaint every cell.
        old_labels = self._row_labels
        rows = np.flatnonzero(~(values == self._shown).all(axis=1)) if values.size else ()
        moved = self._read()
        labels = [i for i, (old, new) in enumerate(zip(old_labels, self._row_labels, strict=True)) if old != new]
        if labels:
            self.headerDataChanged.emit(VERTICAL, labels[0], labels[-1])
        if moved:
            self._refresh_all()  # every colour moved with the range
        elif len(rows):
            self._forget(int(rows[0]), 0, int(rows[-1]), self._cols - 1)

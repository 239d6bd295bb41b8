"""Qt table models that present the document's matrices to QTableView.

They read the document model and send edits back through its methods; they
hold no numbers of their own. Model signals are translated to the narrowest
Qt signal: an edited cell becomes ``dataChanged`` for that cell (plus a
colour-only refresh when the value range moved), a change of shape becomes a
model reset.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QFont

from attnviz.engine import AttnvizError
from attnviz.engine.document import HEAD_MATRICES
from attnviz.gui.numbers import component, format_number, parse_number, short
from attnviz.gui.palette import cell_color, symmetric_levels, text_color_on, token_color
from attnviz.gui.view_state import ViewState
from attnviz.model import DocumentModel

Index = QModelIndex | QPersistentModelIndex
EDITABLE = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsEditable
READ_ONLY = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

# Header prefixes: what a row or a column of each matrix stands for.
COLUMN_PREFIX = {"W_q": "q", "W_k": "k", "W_v": "v", "W_o": "y"}


class _NumberTable(QAbstractTableModel):
    """Shared behaviour: colouring by value, formatting, parsing, refusal feedback."""

    # emitted with a one-line reason when an edit is refused
    editRejected = Signal(QModelIndex, str)

    def __init__(self, model: DocumentModel, view: ViewState, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.model, self.view = model, view
        self._levels = (-1.0, 1.0)
        view.precisionChanged.connect(self._refresh_all)

    def values(self) -> np.ndarray:
        raise NotImplementedError

    def rowCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else self.values().shape[0]

    def columnCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else self.values().shape[1]

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        value = float(self.values()[index.row(), index.column()])
        if role == Qt.ItemDataRole.DisplayRole:
            return format_number(value, self.view.precision)
        if role == Qt.ItemDataRole.EditRole:
            return repr(value)
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{self.cell_name(index.row(), index.column())} = {value!r}"
        if role == Qt.ItemDataRole.BackgroundRole:
            return cell_color(value, *self._levels)
        if role == Qt.ItemDataRole.ForegroundRole:
            return text_color_on(cell_color(value, *self._levels))
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def setData(self, index: Index, value, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if role != Qt.ItemDataRole.EditRole or not self.flags(index) & Qt.ItemFlag.ItemIsEditable:
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
    def _update_levels(self) -> bool:
        """Recompute the colour range; True if it moved (then every colour moved)."""
        a = self.values()
        levels = symmetric_levels(a) if a.size else (-1.0, 1.0)
        moved = levels != self._levels
        self._levels = levels
        return moved

    def _cells_changed(self, top: int, left: int, bottom: int, right: int) -> None:
        if self._update_levels():
            self._refresh_all()
        else:
            self.dataChanged.emit(self.index(top, left), self.index(bottom, right))

    def _refresh_all(self) -> None:
        if self.rowCount() and self.columnCount():
            self.dataChanged.emit(self.index(0, 0), self.index(self.rowCount() - 1, self.columnCount() - 1))

    def _reset(self) -> None:
        self.beginResetModel()
        self._update_levels()
        self.endResetModel()


class WeightTableModel(_NumberTable):
    """One weight matrix: W_q, W_k or W_v of the current head, or W_o."""

    def __init__(self, model: DocumentModel, view: ViewState, name: str, parent: QObject | None = None) -> None:
        super().__init__(model, view, parent)
        self.name = name
        self._update_levels()
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

    def flags(self, index: Index) -> Qt.ItemFlag:
        return EDITABLE if index.isValid() else Qt.ItemFlag.NoItemFlags

    def write(self, row: int, col: int, value: float) -> None:
        self.model.set_cell(self.name, self.head, row, col, value)

    def write_all(self, values: np.ndarray, text: str) -> None:
        self.model.set_matrix(self.name, max(self.head, 0), values, text)

    @property
    def label(self) -> str:
        return self.name

    def cell_name(self, row: int, col: int) -> str:
        """Zero-based, like the file format and NumPy: W_q[row, col]."""
        head = f" (head {self.head + 1})" if self.head >= 0 else ""
        return f"{self.name}[{row}, {col}]{head}"

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if role == Qt.ItemDataRole.DisplayRole:
            if orientation == Qt.Orientation.Horizontal:
                return f"{COLUMN_PREFIX[self.name]}{component(section)}"
            if self.name == "W_o":
                d_v = self.model.d_v
                return f"h{section // d_v + 1}·v{component(section % d_v)}"
            return f"x{component(section)}"
        if role == Qt.ItemDataRole.ToolTipRole:
            if orientation == Qt.Orientation.Horizontal:
                return f"column {section + 1}: gives component {section + 1} of {COLUMN_PREFIX[self.name]}"
            return f"row {section + 1}: multiplies component {section + 1} of the input"
        return None

    def _on_cells(self, name: str, head: int, top: int, left: int, bottom: int, right: int) -> None:
        if name == self.name and head == self.head:
            self._cells_changed(top, left, bottom, right)


class EmbeddingTableModel(_NumberTable):
    """One row per token of the sentence: its embedding, its PE, or x = embedding + PE.

    Only the embedding is editable; an edit of an unknown word's row adds the
    word to the vocabulary (see DocumentModel.set_token_embedding).
    """

    MODES = ("embedding", "pe", "x")

    def __init__(self, model: DocumentModel, view: ViewState, parent: QObject | None = None) -> None:
        super().__init__(model, view, parent)
        self.mode = "embedding"
        self._tokens: tuple[str, ...] = ()
        self._ids: tuple[int, ...] = ()
        self._shape = (0, 0)
        self._shown = np.zeros((0, 0))
        model.resultChanged.connect(self._on_result)
        view.tokenChanged.connect(self._on_token)
        self._on_result()

    def set_mode(self, mode: str) -> None:
        if mode not in self.MODES:
            raise ValueError(f"unknown mode {mode!r}")
        if mode != self.mode:
            self.mode = mode
            self._shown = self.values()
            self._update_levels()
            self._refresh_all()

    def values(self) -> np.ndarray:
        r = self.model.result
        return {"embedding": r.embeddings, "pe": r.pe, "x": r.x}[self.mode]

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return EDITABLE if self.mode == "embedding" else READ_ONLY

    def write(self, row: int, col: int, value: float) -> None:
        self.model.set_token_embedding(row, col, value)

    def write_all(self, values: np.ndarray, text: str) -> None:
        self.model.set_token_embeddings(values, text)

    @property
    def label(self) -> str:
        return "embeddings"

    def cell_name(self, row: int, col: int) -> str:
        label = {"embedding": "embedding", "pe": "PE", "x": "x"}[self.mode]
        return f"{label} of {self.model.result.tokens[row]!r}[{col}]"

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal:
            if role == Qt.ItemDataRole.DisplayRole:
                return f"d{component(section)}"
            if role == Qt.ItemDataRole.ToolTipRole:
                return f"component {section + 1} of {self.model.d_model} (d_model)"
            return None
        if section >= len(self._tokens):
            return None
        unknown = self._ids[section] < 0
        if role == Qt.ItemDataRole.DisplayRole:
            return f"{section + 1} {short(self._tokens[section])}{'*' if unknown else ''}"
        if role == Qt.ItemDataRole.ForegroundRole:
            return token_color(section)
        if role == Qt.ItemDataRole.FontRole:
            font = QFont()
            font.setBold(section == self.view.token)
            font.setItalic(unknown)
            return font
        if role == Qt.ItemDataRole.ToolTipRole:
            word = self._tokens[section]
            if unknown:
                return f"{word!r} is not in the vocabulary: its vector is derived from the word. Edit it to add it."
            return f"{word!r}: vocabulary entry {self._ids[section]}, position {section}"
        return None

    def _on_token(self, _token: int) -> None:
        if self.rowCount():
            self.headerDataChanged.emit(Qt.Orientation.Vertical, 0, self.rowCount() - 1)

    def _on_result(self) -> None:
        r = self.model.result
        values = self.values()
        if (r.tokens, r.token_ids, values.shape) != (self._tokens, self._ids, self._shape):
            self._tokens, self._ids, self._shape = r.tokens, r.token_ids, values.shape
            self._reset()
        elif values is not self._shown and not np.array_equal(values, self._shown):
            self._update_levels()
            self._refresh_all()
        self._shown = values

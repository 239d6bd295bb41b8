"""The editable matrix table: a QTableView with a numeric editor and a fill menu."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QModelIndex, QPoint, Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QInputDialog,
    QLineEdit,
    QMenu,
    QStyledItemDelegate,
    QTableView,
    QToolTip,
    QWidget,
)

from attnviz.engine import AttnvizError
from attnviz.gui.table_models import EmbeddingTableModel, WeightTableModel, _NumberTable


class NumberDelegate(QStyledItemDelegate):
    """A plain line editor pre-filled with the exact value; the table model validates."""

    def createEditor(self, parent: QWidget, option, index: QModelIndex) -> QWidget:
        editor = QLineEdit(parent)
        editor.setObjectName("cellEditor")
        editor.setToolTip("A number, e.g. 0.5, -1.25 or 3e-2. Enter commits, Esc cancels.")
        return editor

    def setEditorData(self, editor: QWidget, index: QModelIndex) -> None:
        editor.setText(str(index.data(Qt.ItemDataRole.EditRole)))
        editor.selectAll()

    def setModelData(self, editor: QWidget, model, index: QModelIndex) -> None:
        model.setData(index, editor.text(), Qt.ItemDataRole.EditRole)


class MatrixView(QTableView):
    """Shows one table model; refused edits are explained at the cell and in ``message``."""

    # one-line text for the status bar
    message = Signal(str)

    def __init__(self, table: _NumberTable, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setModel(table)
        self.setItemDelegate(NumberDelegate(self))
        self.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
            | QAbstractItemView.EditTrigger.AnyKeyPressed
        )
        # fixed sizes: measuring every cell's contents would stall at 512 × 512
        for header in (self.horizontalHeader(), self.verticalHeader()):
            header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.horizontalHeader().setDefaultSectionSize(68)
        self.verticalHeader().setDefaultSectionSize(24)
        self.verticalHeader().setMinimumWidth(48)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.customContextMenuRequested.connect(self._show_menu)
        table.editRejected.connect(self._explain_refusal)

    def table(self) -> _NumberTable:
        return self.model()  # type: ignore[return-value]

    def _explain_refusal(self, index: QModelIndex, reason: str) -> None:
        rect = self.visualRect(index)
        QToolTip.showText(self.viewport().mapToGlobal(rect.bottomLeft()), reason, self.viewport(), rect, 4000)
        self.message.emit(reason)

    # ---- context menu: fill helpers ---------------------------------------
    def _show_menu(self, pos: QPoint) -> None:
        menu = self.build_menu(self.indexAt(pos))
        if menu is not None:
            menu.exec(self.viewport().mapToGlobal(pos))

    def build_menu(self, index: QModelIndex) -> QMenu | None:
        table = self.table()
        if table.rowCount() == 0 or table.columnCount() == 0:
            return None
        if isinstance(table, EmbeddingTableModel) and table.mode != "embedding":
            return None  # PE and x are computed, not edited
        menu = QMenu(self)
        for kind, label in (("zeros", "Set to zeros"), ("identity", "Set to identity"), ("random", "Seeded random")):
            action = QAction(label, menu)
            action.setObjectName(f"fill:{kind}")
            action.triggered.connect(lambda _=False, k=kind: self._fill(k))
            menu.addAction(action)
        if index.isValid():
            menu.addSeparator()
            row = QAction(f"Fill row {index.row()}…", menu)
            row.setObjectName("fill:row")
            row.triggered.connect(lambda: self._fill_line(index.row(), None))
            col = QAction(f"Fill column {index.column()}…", menu)
            col.setObjectName("fill:column")
            col.triggered.connect(lambda: self._fill_line(None, index.column()))
            menu.addActions([row, col])
        return menu

    def _fill(self, kind: str) -> None:
        table = self.table()
        if isinstance(table, WeightTableModel):
            table.model.fill_matrix(table.name, max(table.head, 0), kind)
        else:
            table.model.fill_token_embeddings(kind)

    def _write_all(self, values: np.ndarray, text: str) -> None:
        try:
            self.table().write_all(values, text)
        except AttnvizError as e:
            self.message.emit(str(e))

    def _fill_line(self, row: int | None, col: int | None) -> None:
        table = self.table()
        what = f"row {row}" if row is not None else f"column {col}"
        value, ok = QInputDialog.getDouble(self, "Fill", f"Value for every cell of {what}:", 0.0, -1e6, 1e6, 4)
        if not ok:
            return
        values = table.values().copy()
        if row is not None:
            values[row, :] = value
        else:
            values[:, col] = value
        self._write_all(values, f"Fill {table.label} {what}")

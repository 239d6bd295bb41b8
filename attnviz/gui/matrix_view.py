"""The editable matrix table: a QTableView with a numeric editor and a fill menu."""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QEvent, QModelIndex, QPoint, QPointF, Qt, Signal
from PySide6.QtGui import QAction, QFontMetricsF, QPainter, QStaticText, QTextLayout, QTransform
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QHeaderView,
    QInputDialog,
    QLineEdit,
    QMenu,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QToolTip,
    QWidget,
)

from attnviz.engine import AttnvizError
from attnviz.gui.numbers import short
from attnviz.gui.table_models import EmbeddingTableModel, WeightTableModel, _NumberTable
from attnviz.model.naming import quoted

# Cells in these states are left to the style, which draws selection, focus and hover its own way.
_STYLED_STATES = (
    QStyle.StateFlag.State_Selected
    | QStyle.StateFlag.State_HasFocus
    | QStyle.StateFlag.State_MouseOver
    | QStyle.StateFlag.State_Editing
).value
_FOCUS_MARGIN = QStyle.PixelMetric.PM_FocusFrameHMargin
_METRICS_CHANGES = (QEvent.Type.StyleChange, QEvent.Type.FontChange, QEvent.Type.LayoutDirectionChange)
# Laid-out texts kept per delegate (about 1 kB each): more than a screenful of cells, many of which share a text.
_MAX_LAID_OUT = 8192
# The narrowest a column gets (px), however short its numbers.
_LEAST_COLUMN_WIDTH = 68


class NumberDelegate(QStyledItemDelegate):
    """Paints a number cell from the table's cache; edits it in a plain line editor.

    A plain cell is a filled rectangle and a right-aligned text, painted here
    directly and placed as the style places it: the style's item painting asks
    the model for seven roles and lays the text out anew on every repaint.
    Selected, focused, hovered and edited cells, and right-to-left layouts, are
    painted by the style. The editor is pre-filled with the exact value; the
    table model validates.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        # the style's margin either side of item text; None when the view lays out right to left
        self._margin: int | None = None
        self._measured = False
        # text -> (laid-out text, its width, the height of its line)
        self._laid_out: dict[str, tuple[QStaticText, float, int]] = {}

    def forget_metrics(self) -> None:
        """The view's style, font or layout direction changed."""
        self._measured = False
        self._margin = None
        self._laid_out.clear()

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        table = index.model()
        cell = table.cell(index.row(), index.column()) if isinstance(table, _NumberTable) else None
        margin = self._margin if self._measured else self._measure(option)
        if cell is None or margin is None or option.state.value & _STYLED_STATES:
            super().paint(painter, option, index)
            return
        text, background, foreground = cell
        rect = option.rect
        painter.fillRect(rect, background)
        width = rect.width() - 2 * margin
        static, text_width, line_height = self._laid_out.get(text) or self._lay_out(text, option)
        if text_width > width:
            text = option.fontMetrics.elidedText(text, option.textElideMode, width)
            static, text_width, line_height = self._laid_out.get(text) or self._lay_out(text, option)
        # right-aligned, and centred as QStyle.alignedRect centres item text, to the pixel
        top = rect.y() + rect.height() // 2 - line_height // 2
        painter.setPen(foreground)
        painter.drawStaticText(QPointF(rect.right() + 1 - margin - text_width, top), static)

    def _measure(self, option: QStyleOptionViewItem) -> int | None:
        self._measured = True
        if option.direction != Qt.LayoutDirection.LeftToRight:
            self._margin = None
        else:
            style = option.widget.style() if option.widget is not None else QApplication.style()
            self._margin = style.pixelMetric(_FOCUS_MARGIN, None, option.widget) + 1
        return self._margin

    def _lay_out(self, text: str, option: QStyleOptionViewItem) -> tuple[QStaticText, float, int]:
        if len(self._laid_out) >= _MAX_LAID_OUT:
            self._laid_out.clear()
        # measured as the style's item painting measures it (a fallback font may make the line taller)
        layout = QTextLayout(text, option.font)
        layout.beginLayout()
        line = layout.createLine()
        layout.endLayout()
        static = QStaticText(text)
        static.setTextFormat(Qt.TextFormat.PlainText)
        static.prepare(QTransform(), option.font)
        line_height = layout.boundingRect().size().toSize().height()
        self._laid_out[text] = laid_out = (static, line.naturalTextWidth(), line_height)
        return laid_out

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
        # one size for every column, from the widest number (_fit_columns): measuring every cell's
        # contents would stall at 512 × 512
        for header in (self.horizontalHeader(), self.verticalHeader()):
            header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self._fit_columns()
        table.widestChanged.connect(self._fit_columns)
        self.verticalHeader().setDefaultSectionSize(24)
        self.verticalHeader().setMinimumWidth(48)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.customContextMenuRequested.connect(self._show_menu)
        # Tab leaves the table for the next control (the arrow keys move between cells): from cell
        # to cell, Tab never got out of a table of hundreds of cells, and the rest of the window
        # was out of the keyboard's reach
        self.setTabKeyNavigation(False)
        table.editRejected.connect(self._explain_refusal)

    def table(self) -> _NumberTable:
        return self.model()  # type: ignore[return-value]

    def changeEvent(self, event: QEvent) -> None:
        delegate = self.itemDelegate()
        metrics = event.type() in _METRICS_CHANGES
        if metrics and isinstance(delegate, NumberDelegate):
            delegate.forget_metrics()
        super().changeEvent(event)
        if metrics:
            self._fit_columns()

    def _fit_columns(self) -> None:
        """Make the columns as wide as the widest number needs, and no narrower than 68 px.

        Called when that width may have changed (the precision, the largest magnitude, the font or the
        style), not on every edit. A width that changes resizes every column, one a person resized too.
        """
        # as the delegate and the style lay a cell's text out: a margin either side, and the grid line
        margin = self.style().pixelMetric(_FOCUS_MARGIN, None, self) + 1
        text = math.ceil(QFontMetricsF(self.font()).horizontalAdvance(self.table().widest_text()))
        width = max(_LEAST_COLUMN_WIDTH, text + 2 * margin + int(self.showGrid()))
        header = self.horizontalHeader()
        if width != header.defaultSectionSize():
            header.setDefaultSectionSize(width)

    def _explain_refusal(self, index: QModelIndex, reason: str) -> None:
        rect = self.visualRect(index)
        QToolTip.showText(self.viewport().mapToGlobal(rect.bottomLeft()), reason, self.viewport(), rect, 4000)
        self.message.emit(reason)

    # ---- context menu: fill helpers ---------------------------------------
    def _show_menu(self, pos: QPoint) -> None:
        menu = self.build_menu(self.indexAt(pos))
        if menu is not None:
            menu.exec(self.viewport().mapToGlobal(pos))
            menu.deleteLater()  # a child of the view: each right click would leave one behind

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
            # (an & in a token would make the next letter a keyboard shortcut of the menu)
            row = QAction(f"Fill {self._line_name(index.row(), None)}…".replace("&", "&&"), menu)
            row.setObjectName("fill:row")
            row.triggered.connect(lambda: self._fill_line(index.row(), None))
            col = QAction(f"Fill {self._line_name(None, index.column())}…".replace("&", "&&"), menu)
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

    def _line_name(self, row: int | None, col: int | None) -> str:
        """A row or column as its header names it ("row x₁", "column q₂": the headers count from 1); an
        embedding row by its number and token ("row 2 'go'")."""
        table = self.table()
        if row is None:
            return f"column {table.headerData(col, Qt.Orientation.Horizontal)}"
        if isinstance(table, EmbeddingTableModel):
            return f"row {row + 1} {quoted(short(table.token(row)))}"
        return f"row {table.headerData(row, Qt.Orientation.Vertical)}"

    def _fill_line(self, row: int | None, col: int | None) -> None:
        table = self.table()
        what = self._line_name(row, col)
        value, ok = QInputDialog.getDouble(self, "Fill", f"Value for every cell of {what}:", 0.0, -1e6, 1e6, 4)
        if not ok:
            return
        values = table.values().copy()
        if row is not None:
            values[row, :] = value
        else:
            values[:, col] = value
        self._write_all(values, f"Fill {table.label} {what}")

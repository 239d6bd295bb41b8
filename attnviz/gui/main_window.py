"""The main window: menus, docks and file handling around the document model.

Structured after Qt for Python's ``application.py`` example: actions with
standard shortcuts, ``[*]`` in the title driven by the undo stack's clean
state, ``maybe_save()`` before anything that would drop unsaved work,
QSettings for geometry, dock layout and recent files, and QSaveFile so a
failed save never damages the file on disk.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import shiboken6
from PySide6.QtCore import QByteArray, QSaveFile, QSettings, Qt, QTimer, QUrl
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QAbstractScrollArea,
    QApplication,
    QButtonGroup,
    QDockWidget,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMessageBox,
    QRadioButton,
    QTabBar,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from attnviz import __version__
from attnviz.engine import AttnvizError, Document, weightsfile
from attnviz.engine.errors import one_line
from attnviz.engine.examples import EXAMPLES, load_example
from attnviz.gui.attention_panels import OutputPanel, ScoresPanel, WeightsPanel
from attnviz.gui.calculation_panel import CalculationPanel
from attnviz.gui.controls import DimensionControls, OptionControls
from attnviz.gui.export import export_matrix_csv, export_plot, export_text
from attnviz.gui.lazy_view import LazyView
from attnviz.gui.lines_view import LinesView
from attnviz.gui.matrix_view import MatrixView
from attnviz.gui.numbers import component, counted
from attnviz.gui.pe_view import PositionalEncodingView
from attnviz.gui.primer import PrimerDialog
from attnviz.gui.selected_panel import SelectedWeightsPanel
from attnviz.gui.sentence_editor import SentenceEditor
from attnviz.gui.status_bar import StatusBar
from attnviz.gui.style import keep_frames
from attnviz.gui.table_models import EmbeddingTableModel, WeightTableModel
from attnviz.gui.time_label import TimeLabel
from attnviz.gui.undo_keys import DocumentUndoKeys
from attnviz.gui.view_state import ViewState
from attnviz.gui.width_share import Basis, CentralWidget, WidthShare
from attnviz.model import DocumentModel

MAX_RECENT = 8
PICTURE_FILTERS = {"PNG image (*.png)": ".png", "SVG drawing (*.svg)": ".svg"}
FILE_FILTERS = "attnviz weights (*.json *.npz *.safetensors);;JSON (*.json);;NumPy (*.npz);;safetensors (*.safetensors)"
SAVE_FILTERS = {"JSON (*.json)": ".json", "NumPy (*.npz)": ".npz", "safetensors (*.safetensors)": ".safetensors"}
DEFAULT_EXAMPLE = "lets-go"
DEFAULT_SIZE = (1280, 800)  # the size the default dock sizes are made for


def _naming(path: Path, error: Exception) -> str:
    """``error``'s message, led by the file's name unless it names the file already (a newline in
    the name folded, as the engine's messages fold it)."""
    name = one_line(path.name)
    return str(error) if name in str(error) else f"{name}: {error}"


class MainWindow(QMainWindow):
    def __init__(
        self,
        document: Document | None = None,
        path: str | Path | None = None,
        example: str | None = None,
        parent: QWidget | None = None,
        use_settings: bool = True,
    ) -> None:
        """Show ``document`` (read from ``path`` or the bundled ``example``, if so); by default lets-go.

        ``use_settings=False`` neither restores nor saves layout and preferences
        (for screenshots, which must look the same on every machine).
        """
        super().__init__(parent)
        self.setObjectName("mainWindow")
        self.setAcceptDrops(True)
        self._path = Path(path) if path is not None else None
        self._example = example if document is not None else DEFAULT_EXAMPLE
        self.model = DocumentModel(document if document is not None else load_example(DEFAULT_EXAMPLE), self)
        self._baseline = self.model.document()
        self._error_shown = ""  # the refusal on the status bar, until an edit answers it
        self.view = ViewState(self.model, self)
        self.tables: dict[str, MatrixView] = {}
        self.docks: dict[str, QDockWidget] = {}
        self._primer: PrimerDialog | None = None
        self._build_central()
        self._build_docks()
        self._create_actions()
        self._create_menus()
        self._create_status_bar()
        self._keep_frames()
        # the boxes that edit the document leave Ctrl+Z to the document's history (gui/undo_keys.py)
        self.undo_keys = DocumentUndoKeys(self)
        d, o = self.dimensions, self.options
        self.undo_keys.watch(self.sentence_edit, d.d_model, d.d_k, d.n_heads, o.temperature)
        self.model.undo_stack.cleanChanged.connect(self._show_clean)
        self.model.resultChanged.connect(self._update_status)
        self.model.structureChanged.connect(self._update_W_o_tab)
        self.model.documentReset.connect(self._update_W_o_tab)
        self.model.resultChanged.connect(self._update_token_actions)
        self.view.tokenChanged.connect(self._update_token_actions)
        self._update_W_o_tab()
        self._update_token_actions()
        self._update_title()
        self._update_status()
        self.resize(*DEFAULT_SIZE)
        # at another width, the central widget and the docks keep the shares they have at this one
        self.widths = WidthShare(self)
        self.widths.keep()
        self._default_widths = self.widths.basis
        self._use_settings = use_settings
        if use_settings:
            self.read_settings()
            if self._path is not None:  # opened as `attnviz FILE`: as recent as File ▸ Open would make it
                self._add_recent(self._path)

    # ---- layout -----------------------------------------------------------
    def _keep_frames(self) -> None:
        """The widgets that draw Fusion's slow frames paste them from pictures (gui/style.py says why only these)."""
        framed = [
            a for a in self.findChildren(QAbstractScrollArea)
            if a.frameShape() != QFrame.Shape.NoFrame and not isinstance(a, QAbstractItemView)
        ]
        # a spin box's own line edit has no frame: the override would only cost it the dispatch
        edits = [e for e in self.findChildren(QLineEdit) if e.hasFrame()]
        keep_frames(self.tabs, *framed, *edits)

    def _build_central(self) -> None:
        central = CentralWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(8, 8, 8, 4)
        self.sentence = SentenceEditor(self.model, self.view)
        self.dimensions = DimensionControls(self.model, self.view)
        self.options = OptionControls(self.model)
        self.dimensions.error = self.options.error = self.show_error_in_status
        self.sentence.refused.connect(self.show_error_in_status)
        self.sentence_edit = self.sentence.edit
        layout.addWidget(self.sentence)
        layout.addWidget(self.dimensions)
        layout.addWidget(self.options)
        self.tabs = QTabWidget()
        self.tabs.setObjectName("tables")
        # room below the text: some styles clip the underscore of "W_q" otherwise
        self.tabs.tabBar().setStyleSheet("QTabBar::tab { padding: 4px 12px 6px 12px; }")
        self.tabs.addTab(self._embedding_tab(), "Embeddings")
        for name in ("W_q", "W_k", "W_v", "W_o"):
            table = MatrixView(WeightTableModel(self.model, self.view, name, self))
            table.setObjectName(f"table:{name}")
            table.message.connect(self.show_error_in_status)
            self.tables[name] = table
            self.tabs.addTab(table, name)
            self.tabs.setTabToolTip(self.tabs.count() - 1, _TAB_TIPS[name])
        layout.addWidget(self.tabs, 1)
        self.setCentralWidget(central)

    def _embedding_tab(self) -> QWidget:
        tab = QWidget()
        layout = QVBoxLayout(tab)
        layout.setContentsMargins(0, 4, 0, 0)
        modes = QHBoxLayout()
        modes.addWidget(QLabel("Show:"))
        self.embedding_mode = QButtonGroup(tab)
        table_model = EmbeddingTableModel(self.model, self.view, self)
        for mode, text, tip in (
            ("embedding", "embedding", "The word's vector from the vocabulary (editable)"),
            ("pe", "position (PE)", "PE: sin/cos of the position, added so that word order matters"),
            ("x", "x = emb. + PE", "x: what the weights multiply, the embedding plus the positional encoding"),
        ):
            button = QRadioButton(text)
            button.setObjectName(f"embeddingMode:{mode}")
            button.setToolTip(tip)
            button.setChecked(mode == "embedding")
            button.toggled.connect(lambda on, m=mode: on and table_model.set_mode(m))
            self.embedding_mode.addButton(button)
            modes.addWidget(button)
        modes.addStretch(1)
        layout.addLayout(modes)
        table = MatrixView(table_model)
        table.setObjectName("table:embeddings")
        table.message.connect(self.show_error_in_status)
        self.tables["embeddings"] = table
        layout.addWidget(table)
        tab.setToolTip("One row per token: its embedding (editable), its positional encoding, or their sum x")
        return tab

    def _add_dock(self, key: str, title: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock:{key}")
        dock.setWidget(widget)
        # docks moved, floated or closed by the user can leave a tab bar behind too
        for changed in (dock.dockLocationChanged, dock.topLevelChanged, dock.visibilityChanged):
            changed.connect(lambda *_: QTimer.singleShot(0, self._hide_stray_tab_bars))
        if isinstance(widget, LazyView):
            # a tab brought to the front is not "shown" again: catch up here
            dock.visibilityChanged.connect(lambda visible, w=widget: visible and w.ensure_fresh())
        # A dock behind another's tab stays "visible", moved off the window: Tab would take the
        # keyboard focus into it, out of sight. Its contents take no focus until its tab is current.
        dock.visibilityChanged.connect(widget.setEnabled)
        self.addDockWidget(area, dock)
        self.docks[key] = dock
        return dock

    def _build_docks(self) -> None:
        right, bottom = Qt.DockWidgetArea.RightDockWidgetArea, Qt.DockWidgetArea.BottomDockWidgetArea
        self.setCorner(Qt.Corner.BottomRightCorner, right)
        self.scores = ScoresPanel(self.model, self.view)
        self.weights = WeightsPanel(self.model, self.view)
        self.selected = SelectedWeightsPanel(self.model, self.view)
        self.output = OutputPanel(self.model, self.view)
        self.lines = LinesView(self.model, self.view)
        self.pe = PositionalEncodingView(self.model, self.view)
        self.calculation = CalculationPanel(self.model, self.view)
        self.calculation.sourceRequested.connect(self.show_source)
        scores = self._add_dock("scores", "Similarity scores  q·k", self.scores, right)
        weights = self._add_dock("weights", "Softmax weights", self.weights, right)
        selected = self._add_dock("selected", "Selected token's weights", self.selected, right)
        output = self._add_dock("output", "Output", self.output, right)
        lines = self._add_dock("lines", "Attention lines", self.lines, right)
        pe = self._add_dock("pe", "Positional encoding", self.pe, right)
        calculation = self._add_dock("calculation", "Calculation, step by step", self.calculation, bottom)
        self.splitDockWidget(scores, weights, Qt.Orientation.Horizontal)
        self.splitDockWidget(scores, selected, Qt.Orientation.Vertical)
        self.splitDockWidget(weights, output, Qt.Orientation.Vertical)
        self.tabifyDockWidget(selected, lines)
        self.tabifyDockWidget(output, pe)
        selected.raise_()
        output.raise_()
        self.resizeDocks([scores, weights], [370, 370], Qt.Orientation.Horizontal)
        self.resizeDocks([scores, selected], [400, 330], Qt.Orientation.Vertical)
        self.resizeDocks([calculation], [380], Qt.Orientation.Vertical)
        self._default_state = self.saveState()

    # ---- actions and menus -------------------------------------------------
    def _action(self, key: str, text: str, slot, shortcut=None, tip: str = "") -> QAction:
        action = QAction(text, self)
        action.setObjectName(f"action:{key}")
        if shortcut is not None:
            action.setShortcut(shortcut)
        action.setStatusTip(tip)
        action.setToolTip(tip or text)
        action.triggered.connect(slot)
        return action

    def _create_actions(self) -> None:
        K = QKeySequence.StandardKey
        self.new_action = self._action("new", "&New", self.new_file, K.New, "Start again from the Let's go example")
        self.open_action = self._action("open", "&Open…", self.open, K.Open, "Open a weights file")
        self.save_action = self._action("save", "&Save", self.save, K.Save, "Save the document")
        self.save_as_action = self._action("saveAs", "Save &As…", self.save_as, K.SaveAs, "Save under a new name")
        self.quit_action = self._action("quit", "&Quit", self.close, K.Quit, "Quit attnviz")
        stack = self.model.undo_stack
        self.undo_action = stack.createUndoAction(self, "&Undo")
        self.undo_action.setObjectName("action:undo")
        self.undo_action.setShortcuts(K.Undo)  # every binding of the platform, not just its first
        self.redo_action = stack.createRedoAction(self, "&Redo")
        self.redo_action.setObjectName("action:redo")
        # the platform's keys, and both common ones everywhere (X11's list has no Ctrl+Y, Windows' puts it first)
        redo_keys = [*QKeySequence.keyBindings(K.Redo), QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")]
        self.redo_action.setShortcuts(list(dict.fromkeys(redo_keys)))
        self.randomize_action = self._action(
            "randomize", "Randomi&ze Weights…", self.randomize, None, "Seeded random values for W_q, W_k, W_v and W_o"
        )
        self.reset_action = self._action(
            "reset", "Rese&t to Saved", self.reset, None, "Go back to the document as it was opened or last saved"
        )
        self.about_action = self._action("about", "&About attnviz", self.about)
        self.primer_action = self._action(
            "primer", "&Primer: the Three Steps", self.show_primer, K.HelpContents, "A short guide to self-attention"
        )
        self.restore_layout_action = self._action("restoreLayout", "Restore Default &Layout", self.restore_layout)
        self.next_token_action = self._action(
            "nextToken", "&Next Token", lambda: self.view.step_token(1), QKeySequence("Ctrl+]"),
            "Follow the next token's calculation",
        )
        self.previous_token_action = self._action(
            "previousToken", "&Previous Token", lambda: self.view.step_token(-1), QKeySequence("Ctrl+["),
            "Follow the previous token's calculation",
        )
        self.addActions([self.undo_action, self.redo_action])

    def _create_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        file_menu.addAction(self.new_action)
        file_menu.addAction(self.open_action)
        examples = file_menu.addMenu("Open &Example")
        examples.setObjectName("menu:examples")
        for name, title in EXAMPLES.items():
            action = self._action(f"example:{name}", title, lambda _=False, n=name: self.open_example(n))
            examples.addAction(action)
        self.recent_menu = file_menu.addMenu("Open &Recent")
        self.recent_menu.setObjectName("menu:recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        file_menu.addSeparator()
        file_menu.addAction(self.save_action)
        file_menu.addAction(self.save_as_action)
        self.export_menu = file_menu.addMenu("E&xport")
        self.export_menu.setObjectName("menu:export")
        self._fill_export_menu()
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)

        edit_menu = bar.addMenu("&Edit")
        edit_menu.addAction(self.undo_action)
        edit_menu.addAction(self.redo_action)
        edit_menu.addSeparator()
        edit_menu.addAction(self.randomize_action)
        edit_menu.addAction(self.reset_action)

        self.view_menu = bar.addMenu("&View")
        self.view_menu.addAction(self.next_token_action)
        self.view_menu.addAction(self.previous_token_action)
        self.view_menu.addSeparator()
        for dock in self.docks.values():
            self.view_menu.addAction(dock.toggleViewAction())
        self.view_menu.addSeparator()
        self.view_menu.addAction(self.restore_layout_action)

        help_menu = bar.addMenu("&Help")
        help_menu.addAction(self.primer_action)
        help_menu.addAction(self.about_action)

    def _create_status_bar(self) -> None:
        status = StatusBar()
        self.setStatusBar(status)
        self.overflow_label = QLabel()
        self.overflow_label.setObjectName("status:overflow")
        self.overflow_label.setStyleSheet("color: #b00020; font-weight: bold")
        self.overflow_label.setToolTip(
            "Some numbers are beyond ±1.8e308, the largest a 64-bit float holds: they show as ∞ or NaN, and "
            "what is computed from them is a limit, not the exact value. Undo, or make the weights smaller.")
        self.overflow_label.hide()
        self.statusBar().addPermanentWidget(self.overflow_label)
        self.shape_label = QLabel()
        self.shape_label.setObjectName("status:shape")
        self.statusBar().addPermanentWidget(self.shape_label)
        self.time_label = TimeLabel()
        self.statusBar().addPermanentWidget(self.time_label)
        # a message that needs the room (a refusal, at 800 px) is shown whole: the shapes, then the time
        # step aside for it (the overflow warning does not)
        status.make_way(self.shape_label, self.time_label)
        self.statusBar().showMessage("Ready. Edit any number, type a sentence, or click a token.", 5000)

    def _update_status(self) -> None:
        m, r = self.model, self.model.result
        self.shape_label.setText(f"{counted(r.n_tokens, 'token')} · d_model {m.d_model} · d_k {m.d_k} · d_v {m.d_v} · "
                                 f"{counted(m.n_heads, 'head')} ·")
        self.time_label.set_seconds(m.last_compute_seconds)
        self._show_overflow(r.overflow())
        self._clear_answered_error()

    def _show_overflow(self, what: str | None) -> None:
        """A warning that stays in the status bar while the pass overflows (as `attnviz compute` refuses it)."""
        text = f"⚠ The {what} overflow a 64-bit float" if what else ""
        if text != self.overflow_label.text():
            self.overflow_label.setText(text)
            self.overflow_label.setVisible(bool(text))

    def _update_token_actions(self, *_args) -> None:
        """Next and Previous Token only where there is a token to go to."""
        self.next_token_action.setEnabled(self.view.step_target(1) != self.view.token)
        self.previous_token_action.setEnabled(self.view.step_target(-1) != self.view.token)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self.widths.fit()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        QTimer.singleShot(0, self._hide_stray_tab_bars)

    def _hide_stray_tab_bars(self) -> None:
        """Hide dock tab bars that no tab group uses.

        With two tabbed dock groups, Qt 6.10/6.11 leaves a second copy of one
        group's tab bar visible in the middle of the window, where it can cover
        a panel. The bar in use sits right under its group's docks.
        """
        docks = [d for d in self.docks.values() if d.isVisible() and not d.isFloating()]
        for bar in self._tab_bars():
            if not bar.isVisible():
                continue
            titles = {bar.tabText(i) for i in range(bar.count())}
            group = [d.geometry() for d in docks if d.windowTitle() in titles]
            if not any(g.bottom() + 1 == bar.y() and g.left() <= bar.x() <= g.right() for g in group):
                bar.hide()

    def _tab_bars(self) -> list[QTabBar]:
        return self.findChildren(QTabBar, options=Qt.FindChildOption.FindDirectChildrenOnly)

    def _update_W_o_tab(self) -> None:
        index = self.tabs.indexOf(self.tables["W_o"])
        self.tabs.setTabEnabled(index, self.model.has_W_o)
        if not self.model.has_W_o and self.tabs.currentIndex() == index:
            self.tabs.setCurrentIndex(0)

    def show_error_in_status(self, message: str) -> None:
        # a number box Qt checks once more while the window is being deleted (at exit) may call here late
        if shiboken6.isValid(self):
            self.statusBar().showMessage(message, 8000)
            self._error_shown = message

    def _clear_answered_error(self) -> None:
        """Take a refusal off the status bar once an edit lands: it spoke of the input before."""
        if self._error_shown and self.statusBar().currentMessage() == self._error_shown:
            self.statusBar().clearMessage()
        self._error_shown = ""

    # ---- file handling ---------------------------------------------------
    def commit_typing(self) -> bool:
        """Apply what is typed but not yet entered, so that Save, Close and Open see it; False if
        it was refused (the refusal is on the status bar).

        A cell editor commits when it loses the keyboard focus, and a number box
        applies its text; a shortcut or a menu takes neither the focus nor the text.
        The focus then goes back to the box, or to the table whose editor closed.
        """
        focus = QApplication.focusWidget()
        if focus is None or not self.isAncestorOf(focus):
            return True
        self._error_shown = ""
        focus.clearFocus()
        back: QWidget | None = focus
        while back is not None and not (shiboken6.isValid(back) and back.isVisible()
                                        and back.focusPolicy() != Qt.FocusPolicy.NoFocus):
            back = back.parentWidget()
        if back is not None:
            back.setFocus()
        return not self._error_shown

    def maybe_save(self) -> bool:
        """True when it is fine to drop the current document."""
        if not self.commit_typing():
            return False  # what was typed is no value: the refusal says so, and nothing is saved or lost
        if self.model.undo_stack.isClean():
            return True
        answer = QMessageBox.warning(
            self,
            "attnviz",
            f"{self._display_name()} has unsaved changes.\nDo you want to save them?",
            QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
        )
        if answer == QMessageBox.StandardButton.Save:
            return self.save()
        return answer == QMessageBox.StandardButton.Discard

    def new_file(self) -> None:
        if self.maybe_save():
            self._set_document(load_example(DEFAULT_EXAMPLE), None, DEFAULT_EXAMPLE)

    def open(self) -> None:
        if not self.maybe_save():
            return
        folder = str(self._path.parent) if self._path else ""
        path, _filter = QFileDialog.getOpenFileName(self, "Open weights", folder, FILE_FILTERS)
        if path:
            self.load_file(path)

    def open_example(self, name: str) -> None:
        if self.maybe_save():
            self._set_document(load_example(name), None, name)

    def load_file(self, path: str | Path) -> bool:
        """Open ``path``; on any problem say why and keep the current document."""
        path = Path(path)
        try:
            self._set_document(weightsfile.load(path), path, None)  # (the window may refuse a file the engine reads)
        except AttnvizError as e:
            message = _naming(path, e)
            QMessageBox.critical(self, "Could not open file", message)
            self.show_error_in_status(message)
            return False
        self._add_recent(path)
        self.statusBar().showMessage(f"Opened {path.name}", 4000)
        return True

    def save(self) -> bool:
        if self._path is None:
            return self.save_as()
        if not self.commit_typing():
            return False  # what was typed is not a value: saving without it would look like saving it
        return self.write_file(self._path)

    def save_as(self) -> bool:
        if not self.commit_typing():
            return False
        start = str(self._path) if self._path else f"{self._example or 'attention'}.json"
        path, chosen = QFileDialog.getSaveFileName(self, "Save weights", start, ";;".join(SAVE_FILTERS))
        if not path:
            return False
        path = self._with_suffix(Path(path), SAVE_FILTERS, chosen)
        return path is not None and self.write_file(path)

    def write_file(self, path: Path) -> bool:
        """Serialize, then write through QSaveFile: the old file survives any failure."""
        try:
            data = weightsfile.dumps(self.model.document(), weightsfile.suffix_of(path))
            _write_with_qsavefile(path, data)
        except AttnvizError as e:
            message = _naming(path, e)
            QMessageBox.critical(self, "Could not save file", message)
            self.show_error_in_status(message)
            return False
        self._path, self._example = path, None
        self._baseline = self.model.document()
        self.model.undo_stack.setClean()
        self._add_recent(path)
        self._update_title()
        self.statusBar().showMessage(f"Saved {path.name}", 4000)
        return True

    def _set_document(self, doc: Document, path: Path | None, example: str | None) -> None:
        self.model.load(doc)  # first: it may refuse the document, and then nothing here has changed
        self._path, self._example = path, example
        self._baseline = doc
        self.setWindowModified(False)
        self._update_title()

    def _display_name(self) -> str:
        if self._path is not None:
            return self._path.name
        if self._example is not None:
            return f"{self._example} (example)"
        return "untitled"

    def _update_title(self) -> None:
        # Qt reads "[*]" as the modified mark and shows "[*][*]" as a literal "[*]"
        self.setWindowTitle(f"{self._display_name().replace('[*]', '[*][*]')}[*] — attnviz")
        self.setWindowFilePath(str(self._path) if self._path else "")

    @property
    def path(self) -> Path | None:
        return self._path

    # ---- recent files ----------------------------------------------------
    def recent_files(self) -> list[str]:
        value = QSettings().value("recentFiles", [])
        if isinstance(value, str):  # QSettings gives a one-item list back as its item
            value = [value]
        if not isinstance(value, list):  # a settings file written by hand or by something else
            return []
        return [v for v in value if isinstance(v, str) and v]

    def _add_recent(self, path: Path) -> None:
        text = str(path.resolve())
        if not _qt_can_name(text):
            return
        files = [text] + [f for f in self.recent_files() if f != text]
        QSettings().setValue("recentFiles", files[:MAX_RECENT])

    def _open_recent(self, path: str) -> bool:
        """Open a recent file; one that is gone leaves the list (the error has said so)."""
        if self.load_file(path):
            return True
        if not Path(path).exists():
            QSettings().setValue("recentFiles", [f for f in self.recent_files() if f != path])
        return False

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        files = self.recent_files()
        for i, f in enumerate(files):
            action = self.recent_menu.addAction(f"&{i + 1} {Path(f).name}")
            action.setToolTip(f)
            action.triggered.connect(lambda _=False, p=f: self.maybe_save() and self._open_recent(p))
        if not files:
            self.recent_menu.addAction("No recent files").setEnabled(False)

    # ---- edit ------------------------------------------------------------
    def randomize(self) -> None:
        seed, ok = QInputDialog.getInt(self, "Randomize weights", "Seed (the same seed gives the same weights):", 0, 0)
        if ok:
            self.model.randomize(seed)

    def reset(self) -> None:
        self.commit_typing()  # else it lands once the focus moves, on top of the reset
        if not self._baseline.equals(self.model.document()):
            self.model.replace_document(self._baseline, "Reset to saved")
            # the document is the saved one again: nothing to save (the stack keeps one clean point,
            # so undoing back past the reset to the opened state shows modified)
            self.model.undo_stack.setClean()

    # ---- help ------------------------------------------------------------
    def about(self) -> None:
        QMessageBox.about(
            self,
            "About attnviz",
            f"<b>attnviz {__version__}</b><p>Self-attention, every number visible and editable: "
            "embeddings plus positional encoding, queries, keys and values, similarity scores, "
            "softmax weights and the weighted sum of values.</p>",
        )

    def show_primer(self) -> None:
        if self._primer is None:
            self._primer = PrimerDialog(self)
            self._primer.panelRequested.connect(self.show_panel)
        self._primer.show()
        self._primer.raise_()

    def show_panel(self, name: str) -> None:
        """Bring panel ``name`` (a dock key or a table name) into view."""
        key = name.removeprefix("panel:")
        if key in self.docks:
            self.docks[key].show()
            self.docks[key].raise_()
        elif key in self.tables:
            self.tabs.setCurrentWidget(self._tab_of(key))

    def show_source(self, name: str, head: int, row: int, col: int) -> None:
        """Show where a number of the calculation came from: a table cell or a heatmap cell."""
        if head >= 0:
            self.view.set_head(head)
        if name in self.tables:
            view = self.tables[name]
            self.tabs.setCurrentWidget(self._tab_of(name))
            if name == "embeddings":
                ids = self.model.result.token_ids
                row = ids.index(row) if row in ids else -1
                self.tables["embeddings"].table().set_mode("embedding")
                self.findChild(QRadioButton, "embeddingMode:embedding").setChecked(True)
            index = view.model().index(row, col)
            if index.isValid():
                view.setCurrentIndex(index)
                view.scrollTo(index)
                view.setFocus()
        elif name in ("scores", "weights", "output"):
            panel = {"scores": self.scores, "weights": self.weights, "output": self.output}[name]
            self.docks[name].show()
            self.docks[name].raise_()
            panel.set_marked_cell(row, col)

    def _tab_of(self, name: str) -> QWidget:
        widget = self.tables[name]
        while widget.parentWidget() is not None and self.tabs.indexOf(widget) < 0:
            widget = widget.parentWidget()
        return widget

    # ---- export ----------------------------------------------------------
    def _fill_export_menu(self) -> None:
        pictures = (
            ("scores", "Similarity scores…"),
            ("weights", "Softmax weights…"),
            ("selected", "Selected token's weights…"),
            ("output", "Output…"),
            ("lines", "Attention lines…"),
            ("pe", "Positional encoding…"),
        )
        for key, text in pictures:
            action = self._action(f"export:{key}", text, lambda _=False, k=key: self.export_picture(k))
            self.export_menu.addAction(action)
        self.export_menu.addSeparator()
        csv_menu = self.export_menu.addMenu("Matrix as &CSV")
        for name in ("embeddings", "W_q", "W_k", "W_v", "W_o", "scores", "weights", "output"):
            csv_menu.addAction(self._action(f"exportCsv:{name}", name, lambda _=False, n=name: self.export_csv(n)))
        self.export_menu.addSeparator()
        self.export_menu.addAction(self._action("export:calculation", "Calculation as &Markdown or Text…",
                                                self.export_calculation))
        self.export_menu.addAction(self._action("export:window", "Whole &Window as PNG…", self.export_window))

    def _ask_export_path(self, title: str, name: str, filters: dict[str, str]) -> Path | None:
        """A path from the save dialog; a name without one of the ``filters``' suffixes (filter → suffix)
        gets the chosen filter's, as Save As does."""
        if not self.commit_typing():
            return None
        folder = self._path.parent if self._path else Path.home()
        path, chosen = QFileDialog.getSaveFileName(self, title, str(folder / name), ";;".join(filters))
        if not path:
            return None
        return self._with_suffix(Path(path), filters, chosen)

    def _with_suffix(self, path: Path, filters: dict[str, str], chosen: str) -> Path | None:
        """``path``, given the chosen filter's suffix if it has none of the filters'; None if that names a file
        that exists and the user keeps it (the dialog asked about the name typed, not this one)."""
        if weightsfile.suffix_of(path) in filters.values():
            return path
        path = path.with_name(path.name + filters.get(chosen, next(iter(filters.values()))))
        if path.exists():
            answer = QMessageBox.question(self, "attnviz", f"{path.name} already exists. Replace it?")
            if answer != QMessageBox.StandardButton.Yes:
                return None
        return path

    def _export(self, path: Path | None, write) -> bool:
        if path is None:
            return False
        try:
            write(path)
        except AttnvizError as e:
            message = _naming(path, e)
            QMessageBox.critical(self, "Could not export", message)
            self.show_error_in_status(message)
            return False
        self.statusBar().showMessage(f"Exported {path.name}", 4000)
        return True

    def export_picture(self, key: str) -> bool:
        widget = {"scores": self.scores, "weights": self.weights, "selected": self.selected,
                  "output": self.output, "lines": self.lines, "pe": self.pe}[key]
        path = self._ask_export_path("Export picture", f"{key}.png", PICTURE_FILTERS)  # (applies the typing)

        def export(p: Path) -> None:
            self.model.flush()  # the edit typed a moment ago, not the pass before it
            # the picture is of the panel as it is seen: one behind another's tab keeps the size it
            # last had there, or none, and a closed one none
            self.show_panel(key)
            if hasattr(widget, "ensure_fresh"):
                widget.ensure_fresh()  # a panel in a background tab may be stale
            # laid out as it will be seen: its plot lays itself out in a posted event, and
            # pyqtgraph's axes measure new labels only when they are painted
            QApplication.sendPostedEvents()
            widget.grab()
            QApplication.sendPostedEvents()
            # a panel behind another dock's tab is disabled (it takes no focus there): not in its picture
            enabled = widget.isEnabled()
            widget.setEnabled(True)
            try:
                export_plot(widget, p)
            finally:
                widget.setEnabled(enabled)

        return self._export(path, export)

    def export_csv(self, name: str) -> bool:
        path = self._ask_export_path("Export matrix", f"{name}.csv", {"CSV (*.csv)": ".csv"})  # (applies the typing)

        def export(p: Path) -> None:
            self.model.flush()  # the edit typed a moment ago, not the pass before it
            export_matrix_csv(p, *self.matrix_for_export(name))

        return self._export(path, export)

    def matrix_for_export(self, name: str):
        """A matrix as shown, with its row and column labels."""
        r, h = self.model.result, self.view.head
        tokens = list(r.tokens)
        if name in ("scores", "weights"):
            return getattr(r, name)[h], tokens, tokens
        if name == "output":
            return r.output, tokens, [f"y{component(j)}" for j in range(r.output.shape[1])]  # as the panel heads them
        table = self.tables[name].table()
        values = table.values()
        if name == "embeddings":  # the tokens themselves, not the table's numbered, shortened, marked labels
            return values, tokens, [str(table.headerData(j, Qt.Orientation.Horizontal))
                                    for j in range(values.shape[1])]
        rows = [str(table.headerData(i, Qt.Orientation.Vertical)) for i in range(values.shape[0])]
        cols = [str(table.headerData(j, Qt.Orientation.Horizontal)) for j in range(values.shape[1])]
        return values, rows, cols

    def export_calculation(self) -> bool:
        path = self._ask_export_path("Export calculation", "calculation.md",
                                     {"Markdown (*.md)": ".md", "Plain text (*.txt)": ".txt"})
        return self._export(path, lambda p: export_text(
            p, self.calculation.to_plain_text() if p.suffix.lower() == ".txt" else self.calculation.to_markdown()))

    def export_window(self) -> bool:
        path = self._ask_export_path("Export window", "attnviz.png", {"PNG image (*.png)": ".png"})
        return self._export(path, lambda p: export_plot(self, p))

    def restore_layout(self) -> None:
        # restoreState builds new tab bars but leaves the old ones showing,
        # exactly on top of their twins: hide them all, the layout shows its own
        for bar in self._tab_bars():
            bar.hide()
        self.restoreState(self._default_state)
        for dock in self.docks.values():
            dock.setVisible(True)
        # the default sizes are for the default width: at this one, the default shares
        self.widths.keep(self._default_widths)
        self.widths.fit()
        QTimer.singleShot(0, self._hide_stray_tab_bars)

    # ---- drag and drop ---------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if _dropped_path(event.mimeData().urls()) is not None:
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        path = _dropped_path(event.mimeData().urls())
        if path is not None and self.maybe_save():
            event.acceptProposedAction()
            self.load_file(path)

    # ---- settings --------------------------------------------------------
    def read_settings(self) -> None:
        settings = QSettings()
        geometry = settings.value("geometry", QByteArray())
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        state = settings.value("windowState", QByteArray())
        if isinstance(state, QByteArray) and not state.isEmpty() and self.restoreState(state):
            # the user's layout, and the widths it was made with (older settings have none: the
            # layout as first shown is it; widths no window could have are not taken: the default's are)
            saved = settings.value("layoutWidths")
            basis = _basis(saved)
            if basis is not None:
                self.widths.keep(basis)
            elif saved is None:
                self.widths.take_next()
            else:
                self.widths.keep(self._default_widths)
        precision = settings.value("precision", 2)
        with contextlib.suppress(TypeError, ValueError):
            self.view.set_precision(int(precision))

    def write_settings(self) -> None:
        settings = QSettings()
        settings.setValue("geometry", self.saveGeometry())
        settings.setValue("windowState", self.saveState())
        basis = self.widths.basis
        if basis is not None and basis.columns is not None:
            settings.setValue("layoutWidths", [basis.window, basis.central, *basis.columns])
        settings.setValue("precision", self.view.precision)

    def _show_clean(self, clean: bool) -> None:
        # a bound method, not a lambda: PySide drops it with the window, which a
        # lambda outlives (the undo stack may announce itself clean while dying)
        self.setWindowModified(not clean)

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.maybe_save():
            if self._use_settings:
                self.write_settings()
            event.accept()
        else:
            event.ignore()


_TAB_TIPS = {
    "W_q": "W_q: x · W_q gives each token's query, what it is looking for",
    "W_k": "W_k: x · W_k gives each token's key, what it offers to be matched on",
    "W_v": "W_v: x · W_v gives each token's value, what it contributes once matched",
    "W_o": "W_o: mixes the concatenated heads back to d_model (optional)",
}


def _dropped_path(urls: list[QUrl]) -> Path | None:
    for url in urls:
        if url.isLocalFile() and weightsfile.suffix_of(url.toLocalFile()) in weightsfile.FORMATS:
            return Path(url.toLocalFile())
    return None


def _basis(value: object) -> Basis | None:
    """The widths a saved layout was made with, as write_settings saves them; None if they are not
    (a settings file written by hand or by something else, say)."""
    if not isinstance(value, list) or len(value) < 2:
        return None
    try:
        window, central, *columns = (int(v) for v in value)
    except (TypeError, ValueError, OverflowError):  # (an infinite float)
        return None
    if min(window, central, *columns) <= 0 or central + sum(columns) > window:
        return None
    return Basis(window, central, tuple(columns))


def _qt_can_name(path: str) -> bool:
    """Whether Qt can name ``path``: a name whose bytes are not UTF-8 reaches Python with lone
    surrogates (surrogateescape), which a QString turns into U+FFFD, the name of another file."""
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _write_with_qsavefile(path: Path, data: bytes) -> None:
    name = one_line(path.name)
    if not _qt_can_name(str(path)):
        raise AttnvizError(f"{name}: the file's name is not valid UTF-8, so it cannot be saved under it; "
                           "use Save As with another name")
    f = QSaveFile(str(path))
    if not f.open(QSaveFile.OpenModeFlag.WriteOnly):
        raise AttnvizError(f"{name}: cannot write there ({one_line(f.errorString())})")
    written = f.write(data)
    if written != len(data):
        f.cancelWriting()
        raise AttnvizError(f"{name}: write failed ({one_line(f.errorString())}); the previous file is unchanged")
    if not f.commit():
        raise AttnvizError(f"{name}: could not replace the file ({one_line(f.errorString())}); "
                           "the old one is unchanged")

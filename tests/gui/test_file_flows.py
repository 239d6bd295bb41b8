"""Open, save, unsaved-changes prompts, drag and drop, recent files, examples."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
from PySide6.QtCore import QByteArray, QMimeData, QPointF, QSettings, QSize, Qt, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QAbstractSpinBox, QLineEdit, QMessageBox

from attnviz.engine import AttnvizError, weightsfile
from attnviz.engine.examples import load_example
from attnviz.gui.app import open_window
from attnviz.gui.main_window import MainWindow

Button = QMessageBox.StandardButton


def edit_a_cell(window, value="0.5"):
    table = window.tables["W_q"].model()
    assert table.setData(table.index(0, 0), value)
    assert window.isWindowModified()


@pytest.fixture
def pizza_file(tmp_path):
    path = tmp_path / "pizza.npz"
    weightsfile.save(load_example("pizza"), path)
    return path


def test_open_replaces_the_document_and_clears_history(window, dialogs, pizza_file, qtbot):
    dialogs.answer("getOpenFileName", (str(pizza_file), ""))
    window.open_action.trigger()
    assert window.model.document().equals(load_example("pizza"))
    assert window.windowTitle().startswith("pizza.npz")
    assert not window.isWindowModified() and window.model.undo_stack.count() == 0
    qtbot.waitUntil(lambda: window.scores.image_data().shape == (12, 12))
    assert window.recent_files()[0] == str(pizza_file.resolve())


@pytest.mark.parametrize(
    "content, fragment",
    [
        (b"{not json", "not valid JSON"),
        (json.dumps({"vocab": ["a"], "embeddings": [[1.0]], "W_q": [[1.0]], "W_k": [[1.0, 2.0]], "W_v": [[1.0]]}),
         "W_k"),
        (b"", "empty"),
    ],
)
def test_a_bad_file_is_refused_and_the_document_kept(window, dialogs, tmp_path, content, fragment):
    edit_a_cell(window)
    before = window.model.document()
    bad = tmp_path / "bad.json"
    bad.write_bytes(content.encode() if isinstance(content, str) else content)
    assert not window.load_file(bad)
    assert dialogs.names() == ["critical"]
    message = dialogs.texts("critical")[0]
    assert "bad.json" in message and fragment in message, message
    assert window.model.document().equals(before)
    assert window.isWindowModified() and window.model.undo_stack.count() == 1  # history kept too


def test_save_as_writes_every_format_and_marks_clean(window, dialogs, tmp_path):
    edit_a_cell(window, "0.125")
    for suffix in (".json", ".npz", ".safetensors"):
        target = tmp_path / f"saved{suffix}"
        dialogs.answer("getSaveFileName", (str(target), ""))
        assert window.save_as_action.isEnabled()
        window.save_as_action.trigger()
        assert weightsfile.load(target).equals(window.model.document())
        assert not window.isWindowModified()
        assert window.windowTitle().startswith(target.name)


def test_save_as_takes_a_name_that_is_only_an_extension_as_that_extension(window, dialogs, tmp_path):
    dialogs.answer("getSaveFileName", (str(tmp_path / ".npz"), "JSON (*.json)"))
    assert window.save_as()
    assert sorted(p.name for p in tmp_path.iterdir()) == [".npz"]  # not ".npz.npz" or ".npz.json"
    assert weightsfile.load(tmp_path / ".npz").equals(window.model.document())


def test_save_as_adds_the_extension_of_the_chosen_filter(window, dialogs, tmp_path):
    dialogs.answer("getSaveFileName", (str(tmp_path / "weights"), "NumPy (*.npz)"))
    assert window.save_as()
    assert (tmp_path / "weights.npz").exists()


def test_save_goes_to_the_opened_file_and_round_trips(window, dialogs, pizza_file):
    assert window.load_file(pizza_file)
    original = pizza_file.read_bytes()
    window.save_action.trigger()  # no edits: an equivalent file
    assert weightsfile.load(pizza_file).equals(load_example("pizza"))
    assert dialogs.names() == []  # Save did not ask for a name
    edit_a_cell(window, "2.5")
    window.save_action.trigger()
    assert weightsfile.load(pizza_file).W_q[0, 0, 0] == 2.5
    assert pizza_file.read_bytes() != original


def test_a_failed_save_keeps_the_old_file_and_the_dirty_state(window, dialogs, pizza_file, monkeypatch):
    assert window.load_file(pizza_file)
    original = pizza_file.read_bytes()
    edit_a_cell(window)
    from PySide6.QtCore import QSaveFile

    monkeypatch.setattr(QSaveFile, "commit", lambda self: (self.cancelWriting(), False)[1])
    assert not window.save()
    assert pizza_file.read_bytes() == original
    assert dialogs.names() == ["critical"] and "pizza.npz" in dialogs.texts("critical")[0]
    assert window.isWindowModified()
    assert list(pizza_file.parent.iterdir()) == [pizza_file]  # no temporary file left behind


def test_the_examples_saved_unchanged_are_not_overwritten(window, dialogs, tmp_path):
    # an example is not a file of the user's: Save asks where to put it
    edit_a_cell(window)
    dialogs.answer("getSaveFileName", (str(tmp_path / "mine.json"), ""))
    window.save_action.trigger()
    assert dialogs.names() == ["getSaveFileName"]
    assert (tmp_path / "mine.json").exists()


@pytest.mark.parametrize("trigger", ["close", "new", "open", "example"])
def test_cancel_at_the_unsaved_prompt_really_cancels(window, dialogs, trigger, pizza_file):
    edit_a_cell(window)
    before = window.model.document()
    dialogs.answer("warning", Button.Cancel)
    dialogs.answer("getOpenFileName", (str(pizza_file), ""))
    {"close": window.close, "new": window.new_action.trigger, "open": window.open_action.trigger,
     "example": lambda: window.open_example("pizza")}[trigger]()
    assert dialogs.names() == ["warning"]
    assert "unsaved changes" in dialogs.texts("warning")[0]
    assert window.isVisible()
    assert window.model.document().equals(before) and window.isWindowModified()


def test_discard_at_the_prompt_lets_the_window_close(window, dialogs):
    edit_a_cell(window)
    dialogs.answer("warning", Button.Discard)
    assert window.close()
    assert not window.isVisible()


def test_save_at_the_prompt_saves_then_proceeds(window, dialogs, tmp_path):
    edit_a_cell(window, "0.75")
    dialogs.answer("warning", Button.Save)
    dialogs.answer("getSaveFileName", (str(tmp_path / "kept.json"), ""))
    window.new_action.trigger()
    assert weightsfile.load(tmp_path / "kept.json").W_q[0, 0, 0] == 0.75
    assert window.model.document().equals(load_example("lets-go"))


def test_save_at_the_prompt_then_cancel_the_file_dialog_keeps_everything(window, dialogs):
    edit_a_cell(window)
    before = window.model.document()
    dialogs.answer("warning", Button.Save)  # the save dialog then answers "" (cancel)
    assert not window.close()
    assert window.isVisible() and window.model.document().equals(before)


def test_title_shows_modified_state(window, qtbot):
    assert window.windowTitle() == "lets-go (example)[*] — attnviz"
    assert not window.isWindowModified()
    edit_a_cell(window)
    window.undo_action.trigger()
    assert not window.isWindowModified()


def test_a_file_name_holding_the_modified_mark_shows_as_it_is(window, qtbot, tmp_path):
    path = tmp_path / "a[*]b.json"
    weightsfile.save(load_example("pizza"), path)
    assert window.load_file(path)
    shown = window.windowHandle().title  # as the window system gets it, the mark worked out
    assert shown() == "a[*]b.json — attnviz"
    edit_a_cell(window)
    assert shown() == "a[*]b.json* — attnviz"


def test_a_sentence_given_with_a_file_is_an_edit_of_it(qtbot, pizza_file):
    # `attnviz FILE --sentence X`: the window showed the file clean, so closing lost X unasked
    # and Reset to Saved "restored" X
    saved = load_example("pizza")
    window = open_window(weightsfile.load(pizza_file), str(pizza_file), None, "the baby ate it")
    qtbot.addWidget(window, before_close_func=lambda w: w.model.undo_stack.setClean())
    window.show()
    assert window.model.sentence == "the baby ate it" and window.sentence_edit.text() == "the baby ate it"
    assert window.isWindowModified()
    window.undo_action.trigger()
    assert window.model.document().equals(saved) and not window.isWindowModified()
    window.redo_action.trigger()
    window.reset_action.trigger()
    assert window.model.document().equals(saved) and not window.isWindowModified()


def test_dropping_a_file_opens_it(window, pizza_file):
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(pizza_file))])
    event = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
    window.dropEvent(event)
    assert window.path == pizza_file
    assert window.model.result.tokens[-1] == "it"


def test_open_recent_reopens_a_file(window, pizza_file, qtbot):
    assert window.load_file(pizza_file)
    window.model.load(load_example("lets-go"))
    window._fill_recent_menu()
    actions = [a for a in window.recent_menu.actions() if a.toolTip() == str(pizza_file.resolve())]
    assert len(actions) == 1
    actions[0].trigger()
    assert window.path == pizza_file


def test_a_recent_file_that_is_gone_leaves_the_list_after_saying_so(window, dialogs, pizza_file, tmp_path):
    other = tmp_path / "other.json"
    weightsfile.save(load_example("lets-go"), other)
    assert window.load_file(other) and window.load_file(pizza_file)
    pizza_file.unlink()
    window._fill_recent_menu()
    gone = next(a for a in window.recent_menu.actions() if a.toolTip() == str(pizza_file.resolve()))
    gone.trigger()
    assert "no such file" in dialogs.texts("critical")[0]
    assert window.recent_files() == [str(other.resolve())]
    window._fill_recent_menu()
    assert [a.toolTip() for a in window.recent_menu.actions()] == [str(other.resolve())]


def test_open_example_menu_lists_every_example(window):
    actions = window.findChildren(type(window.open_action))
    names = {a.objectName() for a in actions if a.objectName().startswith("action:example:")}
    assert names == {"action:example:lets-go", "action:example:pizza", "action:example:two-heads"}
    window.findChild(type(window.open_action), "action:example:two-heads").trigger()
    assert window.model.n_heads == 2
    assert window.windowTitle().startswith("two-heads (example)")


def test_geometry_precision_and_recent_files_survive_a_restart(qtbot, dialogs, pizza_file):
    first = MainWindow()
    qtbot.addWidget(first)
    first.show()
    first.resize(770, 560)  # inside the offscreen screen (800x600): restoreGeometry clamps to it
    first.view.set_precision(4)
    assert first.load_file(pizza_file)
    first.close()
    second = MainWindow()
    qtbot.addWidget(second)
    second.show()
    assert second.view.precision == 4
    # the offscreen platform may shave a few pixels of frame; the point is it is not the default 1280x800
    assert abs(second.width() - 770) <= 10 and abs(second.height() - 560) <= 10
    assert second.recent_files()[0] == str(pizza_file.resolve())
    assert QSettings().value("precision") in (4, "4")


def test_a_file_opened_from_the_command_line_joins_the_recent_files(qtbot, pizza_file):
    from attnviz.engine import weightsfile as wf

    window = MainWindow(wf.load(pizza_file), path=pizza_file)  # as `attnviz FILE` makes it
    qtbot.addWidget(window)
    assert window.recent_files()[0] == str(pizza_file.resolve())
    window.model.undo_stack.setClean()


def test_keyboard_shortcuts_are_the_standard_ones(window):
    from PySide6.QtGui import QKeySequence

    assert window.open_action.shortcut() == QKeySequence(QKeySequence.StandardKey.Open)
    assert window.save_action.shortcut() == QKeySequence(QKeySequence.StandardKey.Save)
    assert window.save_as_action.shortcut() == QKeySequence(QKeySequence.StandardKey.SaveAs)
    assert window.undo_action.shortcut() == QKeySequence(QKeySequence.StandardKey.Undo)
    assert set(QKeySequence.keyBindings(QKeySequence.StandardKey.Undo)) == set(window.undo_action.shortcuts())
    redo = window.redo_action.shortcuts()  # the platform's, and Ctrl+Shift+Z and Ctrl+Y on every platform
    assert set(QKeySequence.keyBindings(QKeySequence.StandardKey.Redo)) <= set(redo)
    assert {QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")} <= set(redo) and len(redo) == len(set(redo))
    for name in ("open", "save", "saveAs", "undo", "redo"):
        assert window.findChild(type(window.open_action), f"action:{name}") is not None


def test_reset_goes_back_to_the_opened_document_as_one_undo_step(window):
    original = window.model.document()
    edit_a_cell(window, "3")
    edit_a_cell_again = window.tables["W_k"].model()
    edit_a_cell_again.setData(edit_a_cell_again.index(1, 1), "4")
    window.reset_action.trigger()
    assert window.model.document().equals(original)
    assert not window.isWindowModified()  # the saved document again: nothing to save or ask about
    window.undo_action.trigger()
    assert window.model.document().W_k[0, 1, 1] == 4 and np.isclose(window.model.document().W_q[0, 0, 0], 3)
    assert window.isWindowModified()
    window.redo_action.trigger()
    assert not window.isWindowModified()


def test_a_file_past_what_the_window_shows_is_refused_in_one_line_and_the_document_kept(window, dialogs, tmp_path):
    """The engine reads 5000 columns (compute takes them); the window said so through its crash dialog."""
    import numpy as np

    from attnviz.engine import Document

    w = np.zeros((1, 5000, 1))
    path = tmp_path / "wide.npz"
    weightsfile.save(Document(vocab=("a",), embeddings=np.zeros((1, 5000)), W_q=w, W_k=w, W_v=w), path)
    before, title = window.model.document(), window.windowTitle()
    assert not window.load_file(path)
    message = dialogs.texts("critical")[0]
    assert "wide.npz: d_model is 5,000; the window works with at most 4,096" in message and "\n" not in message
    assert window.model.document().equals(before) and window.windowTitle() == title
    assert str(path.resolve()) not in window.recent_files()


def start_typing_in_a_cell(window, qtbot, text: str):
    """Double-click W_q's first cell and type ``text`` over it, without Enter."""
    view = window.tables["W_q"]
    window.tabs.setCurrentWidget(view)
    rect = view.visualRect(view.model().index(0, 0))
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    (editor,) = [e for e in view.findChildren(QLineEdit, "cellEditor") if e.isVisible()]
    editor.selectAll()
    qtbot.keyClicks(editor, text)
    return view, editor


def start_typing_in_a_box(window, qtbot, name: str, text: str):
    box = window.findChild(QAbstractSpinBox, name)
    box.setFocus()
    box.selectAll()
    qtbot.keyClicks(box, text)
    assert box.hasFocus()
    return box


def test_a_number_typed_in_a_cell_but_not_entered_is_saved_by_ctrl_s(window, dialogs, pizza_file, qtbot):
    assert window.load_file(pizza_file)
    view, editor = start_typing_in_a_cell(window, qtbot, "9.5")
    qtbot.keyClick(editor, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert weightsfile.load(pizza_file).W_q[0, 0, 0] == 9.5
    assert not window.isWindowModified()
    assert view.hasFocus()  # where the person was, less the closed editor


@pytest.mark.parametrize(("name", "text", "field", "value"), [
    ("spin:temperature", "2.5", "temperature", 2.5),
    ("spin:d_model", "6", "d_model", 6),
])
def test_a_number_typed_in_a_box_but_not_entered_is_saved_by_ctrl_s(window, dialogs, pizza_file, qtbot, name, text,
                                                                     field, value):
    assert window.load_file(pizza_file)
    box = start_typing_in_a_box(window, qtbot, name, text)
    qtbot.keyClick(box, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    saved = weightsfile.load(pizza_file)
    assert (saved.config.temperature if field == "temperature" else saved.d_model) == value
    assert not window.isWindowModified() and box.hasFocus()


@pytest.mark.parametrize("leave", ["close", "new", "example"])
def test_a_number_typed_but_not_entered_stops_at_the_unsaved_prompt(window, dialogs, qtbot, leave):
    start_typing_in_a_cell(window, qtbot, "9.5")
    dialogs.answer("warning", Button.Cancel)
    {"close": window.close, "new": window.new_action.trigger, "example": lambda: window.open_example("pizza")}[leave]()
    assert dialogs.names() == ["warning"]
    assert window.isVisible() and window.isWindowModified()
    assert window.model.document().W_q[0, 0, 0] == 9.5


@pytest.mark.parametrize("stored", [5, QSize(1, 2), QByteArray(b"abc"), ["/a.json", 3, "", None]])
def test_recent_files_written_by_something_else_do_not_stop_the_window(qtbot, pizza_file, stored):
    QSettings().setValue("recentFiles", stored)
    window = MainWindow(weightsfile.load(pizza_file), path=pizza_file)  # as `attnviz FILE` makes it
    qtbot.addWidget(window)
    kept = ["/a.json"] if isinstance(stored, list) else []
    assert window.recent_files() == [str(pizza_file.resolve()), *kept]
    window._fill_recent_menu()
    assert [a.toolTip() for a in window.recent_menu.actions()] == window.recent_files()
    window.model.undo_stack.setClean()


def test_a_file_whose_name_is_not_utf8_is_not_saved_under_another_name(window, dialogs, tmp_path):
    name = os.fsdecode(b"\xff\xfe.json")  # as Python gets such a name: '\udcff\udcfe.json'
    path = tmp_path / name
    try:
        weightsfile.save(load_example("pizza"), path)
    except (OSError, AttnvizError):
        pytest.skip("this file system takes only UTF-8 names")
    before = sorted(os.listdir(tmp_path))
    assert window.load_file(path)
    edit_a_cell(window, "2.5")
    assert not window.save()
    (message,) = dialogs.texts("critical")
    assert "not valid UTF-8" in message and "Save As" in message and "\n" not in message
    assert sorted(os.listdir(tmp_path)) == before  # Qt would have written '\ufffd\ufffd.json'
    assert weightsfile.load(path).W_q[0, 0, 0] == load_example("pizza").W_q[0, 0, 0]
    assert window.isWindowModified()
    assert all("\ufffd" not in f for f in window.recent_files())


@pytest.mark.parametrize("where", ["cell", "box"])
def test_ctrl_s_with_typed_text_that_is_no_number_saves_nothing_and_says_why(window, dialogs, pizza_file, qtbot,
                                                                              where):
    assert window.load_file(pizza_file)
    before = pizza_file.read_bytes()
    if where == "cell":
        _, editor = start_typing_in_a_cell(window, qtbot, "abc")
    else:
        editor = start_typing_in_a_box(window, qtbot, "spin:temperature", "abc")
    qtbot.keyClick(editor, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert pizza_file.read_bytes() == before
    message = window.statusBar().currentMessage()
    assert "'abc' is not a number" in message and "Saved" not in message


def test_reset_to_saved_drops_what_is_being_typed(window, dialogs, pizza_file, qtbot):
    assert window.load_file(pizza_file)
    saved = window.model.document()
    start_typing_in_a_cell(window, qtbot, "9.5")
    window.reset_action.trigger()
    window.sentence_edit.setFocus()  # the focus moves on: nothing typed may land now
    qtbot.wait(50)
    window.model.flush()
    assert window.model.document().equals(saved)
    assert window.model.undo_stack.undoText() == "Reset to saved"  # nothing landed on top of it


def test_a_newline_in_a_file_name_keeps_the_error_on_one_line_and_names_the_file_once(window, dialogs, tmp_path):
    path = tmp_path / "bad\nname.json"
    path.write_text("{", encoding="utf-8")
    assert not window.load_file(path)
    (message,) = dialogs.texts("critical")
    assert "\n" not in message and message.count("bad name.json") == 1, message


@pytest.mark.parametrize("leave", ["close", "new"])
def test_closing_with_typed_text_that_is_no_number_stops_and_says_why(window, dialogs, pizza_file, qtbot, leave):
    assert window.load_file(pizza_file)
    edit_a_cell(window, "2.5")  # unsaved
    before = pizza_file.read_bytes()
    start_typing_in_a_cell(window, qtbot, "abc")
    dialogs.answer("warning", Button.Save)
    {"close": window.close, "new": window.new_action.trigger}[leave]()
    assert window.isVisible() and dialogs.names() == []  # no prompt, no save over the refusal
    assert pizza_file.read_bytes() == before and window.path == pizza_file
    assert "'abc' is not a number" in window.statusBar().currentMessage()


def test_a_save_error_for_a_name_with_a_newline_is_one_line_naming_it_once(window, dialogs, tmp_path):
    dialogs.answer("getSaveFileName", (str(tmp_path / "missing" / "a\nb.json"), ""))
    assert not window.save_as()
    (message,) = dialogs.texts("critical")
    assert "\n" not in message and message.count("a b.json") == 1, message

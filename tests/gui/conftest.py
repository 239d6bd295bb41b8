"""Fixtures for driving the main window as a user would.

Modal dialogs would block a test forever, so every static dialog function is
replaced by a recorder that answers "cancel" unless a test says otherwise
(``dialogs.answer("warning", QMessageBox.StandardButton.Discard)``).
"""

from __future__ import annotations

import gc
from typing import ClassVar

import pytest
from PySide6.QtCore import QCoreApplication, QEvent, QSettings
from PySide6.QtWidgets import QApplication, QFileDialog, QInputDialog, QMessageBox

from attnviz.gui.main_window import MainWindow
from attnviz.gui.style import use_kept_icons


class DialogRecorder:
    DEFAULTS: ClassVar[dict[str, object]] = {
        "warning": QMessageBox.StandardButton.Cancel,
        "critical": QMessageBox.StandardButton.Ok,
        "information": QMessageBox.StandardButton.Ok,
        "question": QMessageBox.StandardButton.No,
        "about": None,
        "getOpenFileName": ("", ""),
        "getSaveFileName": ("", ""),
        "getInt": (0, False),
        "getDouble": (0.0, False),
    }

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple]] = []
        self.answers: dict[str, list] = {}

    def answer(self, name: str, *values) -> None:
        """Queue the next answers of dialog ``name``."""
        self.answers.setdefault(name, []).extend(values)

    def names(self) -> list[str]:
        return [name for name, _ in self.calls]

    def texts(self, name: str) -> list[str]:
        return [" ".join(str(a) for a in args if isinstance(a, str)) for n, args in self.calls if n == name]

    def make(self, name: str):
        def fake(*args, **kwargs):
            self.calls.append((name, args))
            queued = self.answers.get(name)
            return queued.pop(0) if queued else self.DEFAULTS[name]

        return staticmethod(fake)


@pytest.fixture(autouse=True)
def dialogs(monkeypatch) -> DialogRecorder:
    recorder = DialogRecorder()
    for cls, names in (
        (QMessageBox, ("warning", "critical", "information", "question", "about")),
        (QFileDialog, ("getOpenFileName", "getSaveFileName")),
        (QInputDialog, ("getInt", "getDouble")),
    ):
        for name in names:
            monkeypatch.setattr(cls, name, recorder.make(name))
    return recorder


@pytest.fixture(autouse=True, scope="session")
def _attnviz_style(qapp):
    """The style the app runs with (attnviz.gui.app.application installs it)."""
    use_kept_icons(qapp)


@pytest.fixture(autouse=True)
def _garbage_between_tests(qapp):
    """Collect cyclic garbage between tests, never inside a Qt call.

    A window a test has closed dies when the garbage collector finds its Python
    cycle. When that happened inside a Qt disconnect (shiboken allocates while
    asking for a Python override, with Qt's signal-slot lock held), the window's
    destructor waited for the same lock, and the suite hung. So the collector is
    off while a test runs, and runs between tests, once the closed windows are
    deleted.
    """
    gc.disable()
    yield
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    gc.collect()
    gc.freeze()  # what is left lives on (the application, caches): the next collection need not scan it
    gc.enable()


@pytest.fixture(autouse=True)
def _fresh_settings(qapp):
    QCoreApplication.setOrganizationName("attnviz-tests")
    QCoreApplication.setApplicationName("attnviz-tests")
    QSettings().clear()
    yield
    QSettings().clear()


def _discard_changes(w: MainWindow) -> None:
    # closing must not stop at the unsaved-changes prompt, for what is left typed either
    w.commit_typing()
    w.model.undo_stack.setClean()


@pytest.fixture
def window(qtbot):
    w = MainWindow()
    qtbot.addWidget(w, before_close_func=_discard_changes)
    w.resize(1280, 800)
    w.show()
    qtbot.waitExposed(w)
    # as a person's window is: shortcuts and the keyboard focus work in the active window only
    # (the offscreen platform activates every window; a real window system need not)
    w.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is w)
    return w

"""Start the window: QApplication set-up, error reporting, and ``--screenshot``."""

from __future__ import annotations

import gc
import getpass
import os
import sys
import tempfile
import traceback
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QtMsgType, qInstallMessageHandler
from PySide6.QtWidgets import QApplication, QMessageBox

from attnviz import __version__
from attnviz.engine import AttnvizError, Document
from attnviz.engine.errors import one_line
from attnviz.engine.examples import load_example
from attnviz.engine.weightsfile import load
from attnviz.gui.export import save_png
from attnviz.gui.style import use_kept_icons
from attnviz.model import check_dimensions


def _crash_log_name() -> str:
    """One log per user: in a shared temporary folder another user's log cannot be written over."""
    try:
        return f"attnviz-error-{getpass.getuser()}.log"
    except Exception:  # no login name to be had (no USER, no passwd entry)
        return "attnviz-error.log"


CRASH_LOG = Path(tempfile.gettempdir()) / _crash_log_name()


# Qt warnings that say nothing to a user (the offscreen platform cannot size windows).
QUIET = ("propagateSizeHints",)


def quiet_messages(mode: QtMsgType, context, message: str) -> None:
    if any(q in message for q in QUIET):
        return
    if mode in (QtMsgType.QtCriticalMsg, QtMsgType.QtFatalMsg):
        print(f"attnviz: Qt: {message}", file=sys.stderr)


def application() -> QApplication:
    """The process's QApplication, created once with the names QSettings uses."""
    qInstallMessageHandler(quiet_messages)
    QCoreApplication.setOrganizationName("attnviz")
    QCoreApplication.setApplicationName("attnviz")
    QCoreApplication.setApplicationVersion(__version__)
    # Qt's raster engine splits any fill taller than ~96 lines across its GUI thread pool
    # and waits for the pieces. attnviz's fills are widget-sized, where the hand-off costs
    # more than the fill: a Fusion scroll bar 400 px tall paints in 0.54 ms split, 0.18 ms
    # not. Qt reads this once, at its first such fill, so it must be set before any paint; it
    # only asks whether the variable is set, so a user's own value cannot turn the pool back on.
    os.environ["QT_NO_GUI_THREADPOOL"] = "1"
    app = QApplication.instance() or QApplication(sys.argv[:1])
    use_kept_icons(app)  # type: ignore[arg-type]
    return app  # type: ignore[return-value]


def has_display() -> bool:
    """Whether Qt can open a window here (it aborts the process if it cannot)."""
    if os.environ.get("QT_QPA_PLATFORM") or not sys.platform.startswith("linux"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def report_unexpected(exc_type, exc, tb, *, dialog: bool = True) -> None:
    """A bug must not show a traceback to the user: log it, say one line (in a dialog, too, with ``dialog``)."""
    log = _write_crash_log("".join(traceback.format_exception(exc_type, exc, tb)))
    told = f"Details were written to {log}." if log else "The details could not be written anywhere."
    message = f"Unexpected error: {exc_type.__name__}: {one_line(str(exc))}. {told}"
    print(f"attnviz: error: {message}", file=sys.stderr)
    if dialog and QApplication.instance() is not None:
        QMessageBox.critical(None, "attnviz", message)


def _write_crash_log(details: str) -> Path | None:
    """Where the details went: CRASH_LOG, else a new file of their own (CRASH_LOG is not ours to
    write, say), else nowhere. The report of a bug must not fail itself."""
    try:
        CRASH_LOG.write_text(details, encoding="utf-8")
        return CRASH_LOG
    except OSError:
        pass
    try:
        fd, name = tempfile.mkstemp(prefix="attnviz-error-", suffix=".log")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(details)
        return Path(name)
    except OSError:
        return None


def run(
    file: str | None = None,
    example: str | None = None,
    sentence: str | None = None,
    screenshot: str | None = None,
    size: tuple[int, int] = (1280, 800),
    collector_paused: bool = False,
) -> int:
    """Open the window (``attnviz [FILE]``) or render it to ``screenshot`` and exit.

    ``collector_paused``: the caller paused Python's cyclic collector for the start-up; it is
    turned back on once the window is made (``keep_start_up_objects``).
    """
    doc = load(file) if file else load_example(example or "lets-go")  # bad files fail before any window
    try:
        check_dimensions(doc)
    except AttnvizError as e:
        raise AttnvizError(f"{one_line(Path(file).name)}: {e}" if file else str(e)) from None
    if sentence is not None:
        doc.replace(sentence=sentence)  # a bad sentence fails before any window too
    if screenshot is not None and Path(screenshot).suffix.lower() != ".png":
        raise AttnvizError(f"--screenshot needs a .png file name, got {screenshot!r}")
    if screenshot is not None:
        if not os.environ.get("QT_QPA_PLATFORM"):  # (Qt reads "" as unset too)
            os.environ["QT_QPA_PLATFORM"] = "offscreen"  # a picture needs no screen
    elif not has_display():
        raise AttnvizError("no display to open a window on (set DISPLAY, or use --screenshot or compute)")
    app = application()
    unexpected: list[BaseException] = []

    def report_without_dialog(exc_type, exc, tb) -> None:
        # nobody is there to close a dialog: it would wait for ever; the exit code tells instead.
        # One line: a bug in a paint reaches here from the paint, then again out of grab()
        if not unexpected:
            report_unexpected(exc_type, exc, tb, dialog=False)
        unexpected.append(exc)

    sys.excepthook = report_unexpected if screenshot is None else report_without_dialog
    window = open_window(doc, file, example, sentence, use_settings=screenshot is None)
    if collector_paused:
        keep_start_up_objects()
    if screenshot is not None:
        code = _screenshot(app, window, Path(screenshot), size)
        return 1 if unexpected else code
    window.show()
    code = app.exec()
    _tear_down(app, window)
    return code


def open_window(doc: Document, file: str | None, example: str | None, sentence: str | None,
                use_settings: bool = True):
    """The window on ``doc``, opened from ``file`` (or the example), with ``sentence`` typed into it."""
    from attnviz.gui.main_window import MainWindow

    window = MainWindow(doc, path=file, example=None if file else example or "lets-go", use_settings=use_settings)
    if sentence is not None:
        # as if typed in the window: the title shows it modified, and Undo or Reset to Saved
        # gives back the file's own sentence
        window.model.set_sentence(sentence)
    return window


def keep_start_up_objects() -> None:
    """Freeze what start-up made with the collector paused (``attnviz.cli.main``), and turn it back on.

    The imports and the window make ≈ 75 000 objects that live as long as the process. The collector
    went through them as they were made, again at every full collection (≈ 45 ms here: three frames
    of a drag) and again at the exit: ≈ 60 ms of the start and ≈ 170 ms of the exit here (item 58 of
    benchmarks/README.md). Frozen, they are not looked at again. The price: a reference cycle among
    them that becomes garbage later is never freed; the window's objects live until the exit anyway.
    """
    gc.freeze()
    gc.enable()


def _screenshot(app: QApplication, window, out: Path, size: tuple[int, int]) -> int:
    window.resize(*size)
    window.show()
    if (window.width(), window.height()) != size:
        minimum = window.minimumSizeHint()
        window.close()
        _tear_down(app, window)
        raise AttnvizError(
            f"--size {size[0]}x{size[1]} is smaller than the window can be ({minimum.width()}x{minimum.height()})"
        )
    # let layouts settle and the coalesced recompute land before grabbing
    for _ in range(4):
        app.processEvents()
    try:
        save_png(window, out)
    finally:
        window.model.undo_stack.setClean()  # nothing to ask about on the way out
        window.close()
        _tear_down(app, window)
    return 0


def _tear_down(app: QApplication, window) -> None:
    """Delete widgets while Qt is still alive; PySide6 6.12 aborts if pyqtgraph items outlive it."""
    window.deleteLater()
    app.processEvents()
    app.sendPostedEvents(None, 0)

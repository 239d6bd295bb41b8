"""File ▸ Export: pictures of panels, matrices as CSV, the calculation as text.

No dialogs here; the window asks for the path and shows our one-line
AttnvizError if something goes wrong. Every writer goes through
:func:`_atomic_write`: the bytes land in a temporary file in the target folder
and are moved over the target with ``os.replace`` only once complete, so a
failure never leaves a half-written file behind (and never clobbers an old
good one).

Pictures: pyqtgraph items and views go through pyqtgraph's exporters (PNG or
SVG); a plain QWidget (the custom-painted lines view, say) is grabbed for PNG
and rendered into a QSvgGenerator for SVG. A widget that wraps a plot can
offer ``export_target()`` to say which graphics item to export.
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QPoint, QRect, QRectF, QSize
from PySide6.QtGui import QGuiApplication, QPainter, QPixmap
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import QGraphicsItem, QGraphicsScene, QWidget

from attnviz.engine import AttnvizError
from attnviz.engine.atomic import check_replaceable, file_mode
from attnviz.engine.errors import one_line
from attnviz.gui.pixel_cache import painted_afresh

PICTURE_SUFFIXES = (".png", ".svg")


# ---- pictures ---------------------------------------------------------------
def export_plot(target: object, path: str | os.PathLike[str]) -> None:
    """Save ``target`` (a pyqtgraph item/view or any QWidget) as PNG or SVG by extension."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in PICTURE_SUFFIXES:
        raise AttnvizError(f"cannot export a picture as {suffix or 'a file without extension'!r}; use .png or .svg")
    if hasattr(target, "export_target"):
        target = target.export_target()
    item = _graphics_source(target)
    if item is not None:
        writer = _pyqtgraph_writer(item, suffix)
    elif isinstance(target, QWidget):
        writer = _widget_png_writer(target) if suffix == ".png" else _widget_svg_writer(target)
    else:
        raise AttnvizError(f"cannot export a {type(target).__name__} as a picture")
    _atomic_write(path, writer)


def _graphics_source(target: object) -> QGraphicsItem | QGraphicsScene | None:
    """What pyqtgraph's exporters accept for ``target``, or None for a plain widget."""
    if isinstance(target, pg.PlotWidget):
        return target.getPlotItem()
    if isinstance(target, pg.GraphicsLayoutWidget):
        return target.ci
    if isinstance(target, pg.GraphicsView):
        return target.scene()
    if isinstance(target, QGraphicsItem | QGraphicsScene):
        return target
    return None


def _pyqtgraph_writer(item: QGraphicsItem | QGraphicsScene, suffix: str) -> Callable[[Path], None]:
    def write(tmp: Path) -> None:
        # imported here: with the XML modules its SVG exporter needs, ≈ 5 ms of every start-up
        import pyqtgraph.exporters as pg_exporters

        if suffix == ".png":
            exporter = pg_exporters.ImageExporter(item)
            # The exporter's width/height default to the item's on-screen size,
            # which is 0 for an item that was never laid out.
            if int(exporter.params["width"]) <= 0 or int(exporter.params["height"]) <= 0:
                raise AttnvizError("the plot has no size yet (it was never shown)")
            if not exporter.export(str(tmp)):
                raise AttnvizError("Qt could not encode the PNG")
        else:
            try:
                pg_exporters.SVGExporter(item).export(str(tmp))
            except ValueError:
                # pyqtgraph 0.14's SVGExporter cannot parse the path syntax newer
                # Qt writes (pyqtgraph issue #3485); Qt's own SVG renderer can.
                _render_scene_svg(item, tmp)

    return write


def _render_scene_svg(item: QGraphicsItem | QGraphicsScene, tmp: Path) -> None:
    """Render ``item``'s region of its scene straight into an SVG file."""
    if isinstance(item, QGraphicsScene):
        scene, source = item, item.sceneRect()
        views = scene.views()
        if views:  # what the user sees, not the scene's whole (possibly huge) extent
            view = views[0]
            source = view.mapToScene(view.viewport().rect()).boundingRect()
    else:
        scene, source = item.scene(), item.sceneBoundingRect()
    if scene is None or source.isEmpty():
        raise AttnvizError("the plot has no size yet (it was never shown)")
    size = QSize(max(1, round(source.width())), max(1, round(source.height())))
    target = QRectF(0, 0, size.width(), size.height())
    with painted_afresh(scene):  # cached plot parts would land in the SVG as bitmaps
        _paint_svg(tmp, size, "attnviz plot", lambda painter: scene.render(painter, target, source))


def save_png(widget: QWidget, path: str | os.PathLike[str]) -> None:
    """Grab ``widget`` and write it to ``path`` as a PNG, whatever the extension (``--screenshot``).

    The grab comes first: a bug in a paint is a bug, not a failure to write.
    """
    _atomic_write(Path(path), _pixmap_png_writer(widget.grab()))


def _widget_png_writer(widget: QWidget) -> Callable[[Path], None]:
    return lambda tmp: _pixmap_png_writer(widget.grab())(tmp)


def _pixmap_png_writer(pixmap: QPixmap) -> Callable[[Path], None]:
    def write(tmp: Path) -> None:
        # encoded in memory: a full disk is then Python's OSError, with its reason, and not
        # libpng's "Write Error" on stderr
        data = QByteArray()
        buffer = QBuffer(data)
        buffer.open(QIODevice.OpenModeFlag.WriteOnly)
        if pixmap.isNull() or not pixmap.save(buffer, "PNG"):
            raise AttnvizError("Qt could not grab or encode the widget as PNG")
        tmp.write_bytes(data.data())

    return write


def _widget_svg_writer(widget: QWidget) -> Callable[[Path], None]:
    def write(tmp: Path) -> None:
        size = widget.size() if not widget.size().isEmpty() else widget.sizeHint()
        # PySide needs the target offset spelled out in the painter overload.
        _paint_svg(tmp, size, widget.objectName() or type(widget).__name__, lambda p: widget.render(p, QPoint(0, 0)))

    return write


def _paint_svg(tmp: Path, size: QSize, title: str, paint: Callable[[QPainter], object]) -> None:
    generator = QSvgGenerator()
    generator.setFileName(str(tmp))
    generator.setSize(size)
    generator.setViewBox(QRect(0, 0, size.width(), size.height()))
    generator.setTitle(title)
    # QSvgGenerator assumes 72 dpi; at the screen's, text comes out at the size the plot shows it
    screen = QGuiApplication.primaryScreen()
    generator.setResolution(round(screen.logicalDotsPerInch()) if screen is not None else 96)
    painter = QPainter()
    if not painter.begin(generator):
        raise AttnvizError("Qt could not start writing the SVG")
    try:
        paint(painter)
    finally:
        painter.end()


# ---- CSV --------------------------------------------------------------------
def matrix_to_csv(matrix: np.ndarray, row_labels: Sequence[str], col_labels: Sequence[str]) -> str:
    """CSV text: a header of column labels (first cell empty), then one labelled row each.

    Numbers are written with ``repr(float)``, the shortest text that parses
    back to the same double, so a round trip is exact; masked logits come out
    as ``-inf``, which ``float()`` reads back.
    """
    a = np.asarray(matrix, dtype=float)
    if a.ndim != 2:
        raise AttnvizError(f"only a 2-D matrix can be written as CSV, got shape {a.shape}")
    if a.shape != (len(row_labels), len(col_labels)):
        raise AttnvizError(
            f"matrix has shape {a.shape} but there are {len(row_labels)} row and {len(col_labels)} column labels"
        )
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["", *map(str, col_labels)])
    for label, row in zip(row_labels, a, strict=True):
        writer.writerow([str(label), *(repr(float(x)) for x in row)])
    return out.getvalue()


def export_matrix_csv(
    path: str | os.PathLike[str], matrix: np.ndarray, row_labels: Sequence[str], col_labels: Sequence[str]
) -> None:
    text = matrix_to_csv(matrix, row_labels, col_labels)  # validate before touching the disk
    _atomic_write(Path(path), lambda tmp: tmp.write_text(text, encoding="utf-8", newline=""))


# ---- text -------------------------------------------------------------------
def export_text(path: str | os.PathLike[str], text: str) -> None:
    """Write the calculation panel's text as UTF-8, exactly as given."""
    _atomic_write(Path(path), lambda tmp: tmp.write_text(text, encoding="utf-8", newline=""))


# ---- the one place that touches the disk --------------------------------------
def _atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Run ``write(tmp)`` on a temporary file beside ``path``, then move it into place."""
    # through a symbolic link, as Save does, rather than replacing the link itself
    path = Path(os.path.realpath(path.expanduser()))
    shown = one_line(str(path))  # a newline in a name must not split the message
    try:
        check_replaceable(path)  # a rename would replace a read-only file, or a named pipe, without asking
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=path.suffix, dir=path.parent)
    except OSError as err:
        raise AttnvizError(f"cannot write {shown}: {_reason(err)}") from None
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        # mkstemp makes the file private (0600); give it the mode a plain open() would.
        os.chmod(tmp, file_mode(path))
        write(tmp)
        if not tmp.exists() or tmp.stat().st_size == 0:
            raise AttnvizError("nothing was written")
        os.replace(tmp, path)
    except AttnvizError as err:
        raise AttnvizError(f"cannot write {shown}: {one_line(str(err))}") from None
    except Exception as err:  # Qt/pyqtgraph raise assorted types; the user needs one line either way
        raise AttnvizError(f"cannot write {shown}: {_reason(err)}") from None
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)


def _reason(err: BaseException) -> str:
    if isinstance(err, OSError) and err.strerror:
        return err.strerror
    return one_line(str(err)) or type(err).__name__


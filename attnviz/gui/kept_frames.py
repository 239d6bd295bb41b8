"""Pictures of Fusion's frames, drawn once and pasted.

Qt 6.11's Fusion draws the outlines of frames, line edits and tab pages
anti-aliased, half a pixel in, and the raster engine paints such lines a
pixel at a time (≈ 200 ns a pixel here): the frame of the tables' tab page
costs 0.5 ms a paint, a text view's frame 0.3 ms. Their look depends only
on their style option, so a picture of each, made on a transparent image,
is pasted instead, as Fusion itself does for its buttons and arrows.
(Scroll bars and sliders are left to Fusion: every scroll position is a
new look, and measured in the window their pictures saved nothing.)

A frame's picture is mostly a clear middle, and blending it costs more
than its outline: so a picture whose middle is clear is pasted as the four
strips around it, which leaves the same pixels (a text view's frame: 0.062
ms a paint pasted whole, 0.050 as strips). How slow Fusion's own outlines
are depends on the machine: 0.3 ms for that frame on one measured here,
0.034 ms on another, where the pictures cost a little more than Fusion.

Pasting composes the picture onto what is beneath in one step where Fusion
blends stroke after stroke, so where two anti-aliased or translucent
strokes meet a pixel can differ from Fusion's by a unit or two of 255
(the tests hold it to that). Everything else is exact.

A picture is made at the second paint with the same key, so a look that
shows once costs little more than before; the pictures share a byte
budget and the least recently used go first. Only raster paints at a
whole-pixel offset and a whole-number pixel ratio use them, with plain
composition and full opacity; anything else (an SVG, a zoom, a
translucent painter, a palette with patterned brushes) gets Fusion's own
drawing.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtGui import QImage, QPainter, QPalette
from PySide6.QtWidgets import QStyleOption, QStyleOptionFrame, QStyleOptionTabWidgetFrame, QWidget

from attnviz.gui.pasting import pastes_exactly

BUDGET_BYTES = 16 * 1024 * 1024  # ≈ four frames the size of the window
_ENTRIES_MAX = 512  # keys with a picture, or known to get none
_SEEN_MAX = 4096  # keys remembered (seen once, no picture yet) before starting over
_PLAIN = (Qt.BrushStyle.SolidPattern, Qt.BrushStyle.NoBrush)
_ROLES = [r for r in QPalette.ColorRole if r not in (QPalette.ColorRole.NoRole, QPalette.ColorRole.NColorRoles)]
_BORDER_MAX = 8  # the widest border (logical pixels) looked for around a clear middle


class Picture(NamedTuple):
    """A kept picture, and the parts of it to paste: (where, relative to the option's rect; which pixels)."""

    image: QImage
    parts: list[tuple[QPoint, QRect]]


def _rect_key(rect: QRect, origin: QRect) -> tuple[int, int, int, int]:
    return rect.x() - origin.x(), rect.y() - origin.y(), rect.width(), rect.height()


def option_key(option: QStyleOption) -> tuple:
    """Everything of ``option`` that Fusion's frames read (positions relative to its rect)."""
    r = option.rect
    key: tuple = (
        type(option).__name__, r.width(), r.height(), option.state.value, option.direction.value,
        option.palette.cacheKey(), option.palette.currentColorGroup().value,
    )
    if isinstance(option, QStyleOptionFrame):
        key += (option.lineWidth, option.midLineWidth, option.features.value, option.frameShape.value)
    if isinstance(option, QStyleOptionTabWidgetFrame):
        key += (
            option.lineWidth, option.midLineWidth, option.shape.value,
            _rect_key(option.tabBarRect, r), _rect_key(option.selectedTabRect, r),
            option.tabBarSize.toTuple(), option.leftCornerWidgetSize.toTuple(), option.rightCornerWidgetSize.toTuple(),
        )
    return key


def _plain_palette(palette: QPalette) -> bool:
    """Whether every brush the option's colour group holds is a plain colour (patterns follow the device's origin)."""
    group = palette.currentColorGroup()
    return all(palette.brush(group, role).style() in _PLAIN for role in _ROLES)


class KeptPictures:
    """Pictures of style elements by key, made at a key's second paint, within a byte budget."""

    def __init__(self, budget_bytes: int = BUDGET_BYTES) -> None:
        self.budget_bytes = budget_bytes
        self._pictures: OrderedDict[tuple, Picture | None] = OrderedDict()  # None: never kept (patterned, too large)
        self._bytes = 0
        self._seen: set[tuple] = set()
        self._making = False  # a picture is being made: elements Fusion draws inside it are drawn directly

    @property
    def bytes(self) -> int:
        return self._bytes

    def __len__(self) -> int:
        return sum(1 for p in self._pictures.values() if p is not None)

    def draw(self, key: tuple, option: QStyleOption, painter: QPainter, widget: QWidget | None,
             fusion: Callable[[QPainter], None]) -> None:
        """Paste the picture kept for ``key`` (``option``'s look), or draw with ``fusion`` and perhaps keep it."""
        ratio = painter.device().devicePixelRatio() if painter.device() is not None else 1.0
        if self._making or option.rect.isEmpty() or not pastes_exactly(painter, ratio):
            fusion(painter)
            return
        full_key = (*key, ratio, painter.renderHints().value,
                    type(widget).__name__, type(widget.parentWidget()).__name__ if widget is not None else "")
        picture = self._pictures.get(full_key, False)
        if picture is False:
            if full_key not in self._seen:
                if len(self._seen) >= _SEEN_MAX:
                    self._seen.clear()
                self._seen.add(full_key)
                fusion(painter)
                return
            self._seen.discard(full_key)
            keepable = _plain_palette(option.palette) and self._size(option, ratio) <= self.budget_bytes
            picture = self._make(option, ratio, fusion) if keepable else None
            self._keep(full_key, picture)
        else:
            self._pictures.move_to_end(full_key)
        if picture is None:
            fusion(painter)
            return
        origin = option.rect.topLeft()
        for offset, pixels in picture.parts:
            painter.drawImage(origin + offset, picture.image, pixels)

    @staticmethod
    def _size(option: QStyleOption, ratio: float) -> int:
        return 4 * option.rect.width() * option.rect.height() * int(ratio) ** 2

    def _make(self, option: QStyleOption, ratio: float, fusion: Callable[[QPainter], None]) -> Picture:
        r = option.rect
        image = QImage(r.width() * int(ratio), r.height() * int(ratio), QImage.Format.Format_ARGB32_Premultiplied)
        image.setDevicePixelRatio(ratio)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.translate(-r.x(), -r.y())
        self._making = True
        try:
            fusion(painter)
        finally:
            self._making = False
            painter.end()
        return Picture(image, _parts(image, int(ratio)))

    def _keep(self, key: tuple, picture: Picture | None) -> None:
        self._pictures[key] = picture
        if picture is not None:
            self._bytes += picture.image.sizeInBytes()
        while self._bytes > self.budget_bytes or len(self._pictures) > _ENTRIES_MAX:
            _, old = self._pictures.popitem(last=False)
            if old is not None:
                self._bytes -= old.image.sizeInBytes()


def _parts(image: QImage, ratio: int) -> list[tuple[QPoint, QRect]]:
    """The strips around the image's clear middle, or the whole image if its middle is not clear.

    Pasting a clear (fully transparent) pixel leaves what is beneath, so the
    strips paste the same pixels as the whole. Borders are whole logical
    pixels wide, so each strip lands on whole pixels.
    """
    w, h = image.width(), image.height()
    whole = [(QPoint(0, 0), QRect(0, 0, w, h))]
    bits = np.frombuffer(image.constBits(), np.uint32, count=image.sizeInBytes() // 4)
    alpha = (bits.reshape(h, image.bytesPerLine() // 4)[:, :w] >> 24) != 0
    for border in range(ratio, min(_BORDER_MAX * ratio, (min(w, h) - 1) // 2) + 1, ratio):
        if not alpha[border:h - border, border:w - border].any():
            break
    else:
        return whole
    b, inner_h = border, h - 2 * border
    device = [QRect(0, 0, w, b), QRect(0, h - b, w, b), QRect(0, b, b, inner_h), QRect(w - b, b, b, inner_h)]
    return [(QPoint(rect.x() // ratio, rect.y() // ratio), rect) for rect in device]
